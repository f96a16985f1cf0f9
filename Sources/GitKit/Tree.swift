internal import CGit2

/// The mode git records for a tree entry.
public enum FileMode: UInt32, Sendable {
  case blob = 0o100644
  case executable = 0o100755
  case symlink = 0o120000
  case tree = 0o040000
  case gitlink = 0o160000

  /// Maps a libgit2 mode, folding the legacy group-writable blob mode into `.blob`.
  init?(git mode: UInt32) {
    if mode == 0o100664 {
      self = .blob
    } else if let known = FileMode(rawValue: mode) {
      self = known
    } else {
      return nil
    }
  }
}

/// One entry of a tree: a name, the object it points to and its mode.
public struct TreeEntry: Equatable, Sendable {
  public let name: String
  public let oid: OID
  public let mode: FileMode

  public init(name: String, oid: OID, mode: FileMode) {
    self.name = name
    self.oid = oid
    self.mode = mode
  }

  init(_ entry: OpaquePointer) {
    name = String(cString: git_tree_entry_name(entry))
    oid = OID(git_tree_entry_id(entry))
    mode = FileMode(git: git_tree_entry_filemode(entry).rawValue) ?? .blob
  }
}
