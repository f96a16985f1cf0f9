import Foundation

#if canImport(Glibc)
  public import Glibc
#endif

internal import CGit2

/// The file-system data an index entry caches, so an unchanged file is known without reading it.
public struct FileStat: Equatable, Sendable {
  public var ctimeSeconds: Int32
  public var ctimeNanoseconds: UInt32
  public var mtimeSeconds: Int32
  public var mtimeNanoseconds: UInt32
  public var device: UInt32
  public var inode: UInt32
  public var uid: UInt32
  public var gid: UInt32
  public var size: UInt32

  public init(
    ctimeSeconds: Int32, ctimeNanoseconds: UInt32, mtimeSeconds: Int32, mtimeNanoseconds: UInt32, device: UInt32,
    inode: UInt32, uid: UInt32, gid: UInt32, size: UInt32
  ) {
    self.ctimeSeconds = ctimeSeconds
    self.ctimeNanoseconds = ctimeNanoseconds
    self.mtimeSeconds = mtimeSeconds
    self.mtimeNanoseconds = mtimeNanoseconds
    self.device = device
    self.inode = inode
    self.uid = uid
    self.gid = gid
    self.size = size
  }

  /// Whether a file still matches the cached data (device and ownership ignored, as git does by default).
  public func matches(_ other: FileStat) -> Bool {
    mtimeSeconds == other.mtimeSeconds && mtimeNanoseconds == other.mtimeNanoseconds
      && ctimeSeconds == other.ctimeSeconds && ctimeNanoseconds == other.ctimeNanoseconds
      && inode == other.inode && size == other.size
  }
}

/// An index entry as the scanner needs it.
public struct IndexEntry: Equatable, Sendable {
  public var path: String
  public var oid: OID
  public var mode: FileMode
  public var stat: FileStat
}

extension Index {
  /// Every stage-0 entry, in index order.
  public func entries() -> [IndexEntry] {
    let count = git_index_entrycount(pointer)
    var result: [IndexEntry] = []
    result.reserveCapacity(count)
    for position in 0..<count {
      guard let entry = git_index_get_byindex(pointer, position) else { continue }
      if (entry.pointee.flags >> 12) & 0x3 != 0 { continue }  // a conflict stage
      result.append(Self.convert(entry))
    }
    return result
  }

  /// The stage-0 entry at `path`.
  public func entry(path: String) -> IndexEntry? {
    git_index_get_bypath(pointer, path, 0).map(Self.convert)
  }

  /// Sets the entry at `path` without reading the file: the caller hashed it and took its stat.
  public func set(path: String, oid: OID, mode: FileMode, stat: FileStat) throws {
    var entry = git_index_entry()
    entry.ctime.seconds = stat.ctimeSeconds
    entry.ctime.nanoseconds = stat.ctimeNanoseconds
    entry.mtime.seconds = stat.mtimeSeconds
    entry.mtime.nanoseconds = stat.mtimeNanoseconds
    entry.dev = stat.device
    entry.ino = stat.inode
    entry.uid = stat.uid
    entry.gid = stat.gid
    entry.file_size = stat.size
    entry.mode = mode.rawValue
    entry.id = oid.raw
    try path.withCString { cPath in
      entry.path = cPath
      try check(git_index_add(pointer, &entry), "git_index_add")
    }
  }

  /// Removes every entry.
  public func clear() throws {
    try check(git_index_clear(pointer), "git_index_clear")
  }

  static func convert(_ entry: UnsafePointer<git_index_entry>) -> IndexEntry {
    let e = entry.pointee
    return IndexEntry(
      path: String(cString: e.path), oid: OID(e.id), mode: FileMode(rawValue: e.mode) ?? .blob,
      stat: FileStat(
        ctimeSeconds: e.ctime.seconds, ctimeNanoseconds: e.ctime.nanoseconds, mtimeSeconds: e.mtime.seconds,
        mtimeNanoseconds: e.mtime.nanoseconds, device: e.dev, inode: e.ino, uid: e.uid, gid: e.gid, size: e.file_size))
  }
}

extension FileStat {
  /// The cacheable data of `path` (not following a symlink), or nil when it does not exist.
  /// The second value is the file's `st_mode`.
  public static func of(_ path: String) -> (FileStat, UInt32)? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    return (FileStat(info), UInt32(info.st_mode))
  }

  /// The cacheable data of a `stat` buffer filled by `lstat` or `fstatat`.
  public init(_ info: stat) {
    self.init(
      ctimeSeconds: Int32(truncatingIfNeeded: info.st_ctim.tv_sec),
      ctimeNanoseconds: UInt32(truncatingIfNeeded: info.st_ctim.tv_nsec),
      mtimeSeconds: Int32(truncatingIfNeeded: info.st_mtim.tv_sec),
      mtimeNanoseconds: UInt32(truncatingIfNeeded: info.st_mtim.tv_nsec),
      device: UInt32(truncatingIfNeeded: info.st_dev), inode: UInt32(truncatingIfNeeded: info.st_ino),
      uid: info.st_uid, gid: info.st_gid, size: UInt32(truncatingIfNeeded: info.st_size))
  }
}

/// An index file loaded without a repository, so it can be read on a background thread; a
/// repository adopts it later with `Repository.adopt(_:)`, after which it belongs to that repository.
///
/// @unchecked: it owns a libgit2 handle that one thread at a time uses (the background loader,
/// then, after the hand-over that joins it, the adopting repository's thread); GitKit cannot
/// use OrchestrateKit's `LockedBox`, and a lock would not make libgit2's index thread-safe anyway.
public final class DetachedIndex: @unchecked Sendable {
  fileprivate var pointer: OpaquePointer?

  /// Reads the index file at `path` (an empty index when the file does not exist).
  public init(path: String) throws {
    _ = libgit2
    var index: OpaquePointer?
    try check(git_index_open(&index, path), "git_index_open")
    pointer = index
  }

  deinit {
    if let pointer { git_index_free(pointer) }
  }

  /// Every stage-0 entry, in index order.
  public func entries() -> [IndexEntry] {
    guard let pointer else { return [] }
    let count = git_index_entrycount(pointer)
    var result: [IndexEntry] = []
    result.reserveCapacity(count)
    for position in 0..<count {
      guard let entry = git_index_get_byindex(pointer, position) else { continue }
      if (entry.pointee.flags >> 12) & 0x3 != 0 { continue }
      result.append(Index.convert(entry))
    }
    return result
  }
}

extension Repository {
  /// Makes a detached index this repository's index (as `usePrivateIndex` does for a path).
  public func adopt(_ detached: DetachedIndex) throws -> Index {
    guard let pointer = detached.pointer else {
      throw GitError(code: -1, errorClass: 0, function: "adopt", message: "the index was already adopted")
    }
    try check(git_repository_set_index(self.pointer, pointer), "git_repository_set_index")
    detached.pointer = nil
    return Index(pointer: pointer, repository: self)
  }
}
