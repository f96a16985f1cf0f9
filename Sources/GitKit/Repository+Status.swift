internal import CGit2
import Foundation

extension Repository {
  /// The repository's index, shared with libgit2's own use of it (checkout, status).
  public func index() throws -> Index {
    var index: OpaquePointer?
    try check(git_repository_index(&index, pointer), "git_repository_index")
    return Index(pointer: index!, repository: self)
  }

  /// Changes the repository's index as git's own commands do: `index.lock` is held (created
  /// exclusively) while the index is read again and `body` changes it, so a `git add` or `git
  /// commit` of the user's, which holds the same lock across its own read and write, is never lost
  /// between our read and our write. The lock is let go just before libgit2 writes the index
  /// (taking it again itself); a git command that takes it in that moment makes the write fail
  /// with `isLocked`, and the caller tries again.
  /// - Throws: `GitError` with `isLocked` when another process holds the lock.
  public func updatingIndex<T>(_ body: (Index) throws -> T) throws -> T {
    let lock = try lockIndex()
    defer { lock.release() }
    let index = try self.index()
    try index.reload()
    let result = try body(index)
    lock.release()
    try index.write()
    return result
  }

  /// Holds `index.lock` (created exclusively, as git's own commands do) until `release()`, which
  /// must come before libgit2 writes the index (it takes the lock itself).
  /// - Throws: `GitError` with `isLocked` when another process holds it.
  public func lockIndex() throws -> IndexLock {
    try IndexLock(path: gitDirectory + (gitDirectory.hasSuffix("/") ? "" : "/") + "index.lock")
  }

  /// Makes the index file at `path` this repository's index (created when missing, empty then) and returns it.
  ///
  /// git-orchestrate keeps its own index for its working directory, so that an agent's `git add`,
  /// `git commit` or `git reset` never changes what the tool believes the directory holds.
  public func usePrivateIndex(at path: String) throws -> Index {
    var index: OpaquePointer?
    try check(git_index_open(&index, path), "git_index_open")
    guard let index else { throw GitError(code: -1, errorClass: 0, function: "git_index_open", message: "no index") }
    if let error = Optional(git_repository_set_index(pointer, index)), error < 0 {
      git_index_free(index)
      try check(error, "git_repository_set_index")
    }
    // git_repository_set_index takes its own reference; ours is released when the Index is freed.
    return Index(pointer: index, repository: self)
  }

  /// The changed paths of the working directory against the index and HEAD, sorted by path.
  ///
  /// Untracked files are listed one by one (not as their folder) when `includeUntracked`; ignored files never.
  public func status(includeUntracked: Bool) throws -> [StatusEntry] {
    _ = try requireWorkingDirectory()
    var options = git_status_options()
    try check(git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "git_status_options_init")
    options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
    var flags = GIT_STATUS_OPT_SORT_CASE_SENSITIVELY.rawValue
    if includeUntracked {
      flags |= GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
    }
    options.flags = flags
    var list: OpaquePointer?
    try check(git_status_list_new(&list, pointer, &options), "git_status_list_new")
    defer { git_status_list_free(list) }

    let staged =
      GIT_STATUS_INDEX_NEW.rawValue | GIT_STATUS_INDEX_MODIFIED.rawValue | GIT_STATUS_INDEX_DELETED.rawValue
      | GIT_STATUS_INDEX_RENAMED.rawValue | GIT_STATUS_INDEX_TYPECHANGE.rawValue
    let unstaged =
      GIT_STATUS_WT_MODIFIED.rawValue | GIT_STATUS_WT_DELETED.rawValue
      | GIT_STATUS_WT_TYPECHANGE.rawValue | GIT_STATUS_WT_RENAMED.rawValue | GIT_STATUS_WT_UNREADABLE.rawValue
    return (0..<git_status_list_entrycount(list)).compactMap { index -> StatusEntry? in
      guard let entry = git_status_byindex(list, index)?.pointee else { return nil }
      let delta = entry.index_to_workdir ?? entry.head_to_index
      guard let file = delta?.pointee, let path = file.new_file.path ?? file.old_file.path else { return nil }
      let status = entry.status.rawValue
      return StatusEntry(
        path: String(cString: path),
        indexChanged: status & staged != 0,
        workdirChanged: status & unstaged != 0,
        isUntracked: status & GIT_STATUS_WT_NEW.rawValue != 0,
        isConflicted: status & GIT_STATUS_CONFLICTED.rawValue != 0)
    }.sorted { $0.path < $1.path }
  }

  /// Whether `path` (relative to the working directory) is ignored by .gitignore, info/exclude or core.excludesFile.
  public func isIgnored(_ path: String) throws -> Bool {
    var ignored: Int32 = 0
    try check(git_ignore_path_is_ignored(&ignored, pointer, path), "git_ignore_path_is_ignored")
    return ignored == 1
  }
}

/// `index.lock`, held by this process: see `Repository.lockIndex()`.
public final class IndexLock {
  let path: String
  private var descriptor: Int32

  init(path: String) throws {
    self.path = path
    descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw GitError(
        code: GIT_ELOCKED.rawValue, errorClass: Int32(GIT_ERROR_INDEX.rawValue), function: "index.lock",
        message: "the index is locked: \(path) exists (another git command is running)")
    }
  }

  /// Writes the lock file with `write` (given its descriptor, it returns the errno of a failure or
  /// nil) and renames it over `target` (git's way of replacing the index), letting the lock go; on
  /// failure the lock file is removed and the target untouched.
  func commit(to target: String, write: (Int32) -> Int32?) throws {
    guard descriptor >= 0 else {
      throw GitError(code: -1, errorClass: 0, function: "index.lock", message: "the index lock is not held")
    }
    var failure = write(descriptor)
    if close(descriptor) != 0, failure == nil { failure = errno }
    descriptor = -1
    if failure == nil, rename(path, target) == 0 { return }
    let code = failure ?? errno
    unlink(path)
    throw GitError(
      code: -1, errorClass: Int32(GIT_ERROR_OS.rawValue), function: "index write",
      message: "could not write \(target): \(String(cString: strerror(code)))")
  }

  /// Lets the lock go; again does nothing.
  public func release() {
    guard descriptor >= 0 else { return }
    close(descriptor)
    unlink(path)
    descriptor = -1
  }

  deinit { release() }
}
