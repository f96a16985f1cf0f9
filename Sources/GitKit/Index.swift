internal import CGit2

/// A repository's index (staging area).
///
/// Owns a reference to libgit2's index and keeps its repository alive. Not thread safe.
public final class Index {
  let pointer: OpaquePointer
  /// The owning repository, held so the index never outlives it.
  let repository: Repository

  init(pointer: OpaquePointer, repository: Repository) {
    self.pointer = pointer
    self.repository = repository
  }

  deinit {
    git_index_free(pointer)
  }

  /// The number of entries (conflicted paths count once per stage).
  public var count: Int { Int(git_index_entrycount(pointer)) }

  /// Re-reads the index file; without `force`, only when it changed on disk.
  public func read(force: Bool) throws {
    try check(git_index_read(pointer, force ? 1 : 0), "git_index_read")
  }

  /// Writes the index to disk.
  public func write() throws {
    try retryingTransient { try check(git_index_write(pointer), "git_index_write") }
  }

  /// Replaces the entries with those of `tree`, keeping cached stat data of unchanged files.
  public func readTree(_ tree: OID) throws {
    let treePointer = try repository.lookupTree(tree)
    defer { git_tree_free(treePointer) }
    try check(git_index_read_tree(pointer, treePointer), "git_index_read_tree")
  }

  /// Stage every new, modified and deleted file of the working directory, .gitignore respected (git_index_add_all
  /// with pathspec "*" and GIT_INDEX_ADD_DEFAULT, then git_index_update_all for deletions).
  public func addAll() throws {
    try withStringArray(["*"]) { pathspec in
      try check(git_index_add_all(pointer, &pathspec, GIT_INDEX_ADD_DEFAULT.rawValue, nil, nil), "git_index_add_all")
      try check(git_index_update_all(pointer, &pathspec, nil, nil), "git_index_update_all")
    }
  }

  /// Stages the working file at `path` (relative to the working directory).
  public func add(path: String) throws {
    try check(git_index_add_bypath(pointer, path), "git_index_add_bypath")
  }

  /// Unstages `path`; nothing happens when it is not in the index.
  public func remove(path: String) throws {
    try check(git_index_remove_bypath(pointer, path), "git_index_remove_bypath")
  }

  /// Removes every entry below folder `prefix`.
  public func removeDirectory(_ prefix: String) throws {
    try check(git_index_remove_directory(pointer, prefix, 0), "git_index_remove_directory")
  }

  /// The entry paths equal to `prefix` or below folder `prefix`, in index order.
  ///
  /// Binary-searches the sorted index, so the cost is the number of matches, not the index size.
  public func paths(under prefix: String) -> [String] {
    let folder = prefix.isEmpty ? "" : (prefix.hasSuffix("/") ? prefix : prefix + "/")
    var paths: [String] = []
    if !prefix.isEmpty, !prefix.hasSuffix("/"), git_index_get_bypath(pointer, prefix, 0) != nil {
      paths.append(prefix)
    }
    var position = 0
    guard git_index_find_prefix(&position, pointer, folder) == 0 else {
      git_error_clear()
      return paths
    }
    let count = git_index_entrycount(pointer)
    while position < count, let entry = git_index_get_byindex(pointer, position) {
      let path = String(cString: entry.pointee.path)
      guard path.hasPrefix(folder) else { break }
      if paths.last != path { paths.append(path) }
      position += 1
    }
    return paths
  }

  /// The blob id staged at `path` (stage 0), or nil when it is not in the index.
  public func entryOID(path: String) -> OID? {
    git_index_get_bypath(pointer, path, 0).map { OID($0.pointee.id) }
  }

  /// Reads the index file again if it changed on disk since it was read: libgit2 keeps a
  /// repository's index in memory, and the user's own git may have written it since.
  public func reload() throws {
    if repository.ownIndexWrite != nil {
      // Written by `writePatched` and unchanged since: memory already holds it (libgit2's own
      // record of the file is older, and it would read all of it again).
      if let (now, _) = FileStat.of(filePath), repository.isOwnIndexWrite(now) { return }
      repository.ownIndexWrite = nil
    }
    try check(git_index_read(pointer, 0), "git_index_read")
  }

  /// The index file's path (the repository's gitdir, `index`).
  var filePath: String {
    let directory = repository.gitDirectory
    return (directory.hasSuffix("/") ? directory : directory + "/") + "index"
  }

  /// The mode staged at `path` (stage 0), or nil when it is not in the index.
  public func entryMode(path: String) -> FileMode? {
    git_index_get_bypath(pointer, path, 0).flatMap { FileMode(git: $0.pointee.mode) }
  }

  /// Writes the index as a tree into the owning repository.
  public func writeTree() throws -> OID {
    var oid = git_oid()
    try retryingTransient { try check(git_index_write_tree_to(&oid, pointer, repository.pointer), "git_index_write_tree_to") }
    return OID(oid)
  }

  /// Whether any path has unresolved conflict entries.
  public var hasConflicts: Bool { git_index_has_conflicts(pointer) == 1 }
}
