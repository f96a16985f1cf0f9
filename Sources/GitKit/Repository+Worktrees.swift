internal import CGit2
import Foundation

/// Worktrees are listed, added and pruned one at a time in this process: libgit2 makes
/// `worktrees/` and a worktree's folder in several steps, so a second thread adding one beside it
/// fails ("directory exists"), and one listing them meanwhile finds a half-made one
/// (`git_worktree_lookup`). A parallel run makes its job slots' worktrees from several threads.
private let registration = NSLock()

extension Repository {
  /// The linked worktrees registered in the repository (not the main work tree).
  public func worktrees() throws -> [WorktreeInfo] {
    registration.lock()
    defer { registration.unlock() }
    var names = git_strarray()
    try check(git_worktree_list(&names, pointer), "git_worktree_list")
    defer { git_strarray_dispose(&names) }
    return try (0..<names.count).compactMap { index -> WorktreeInfo? in
      guard let cName = names.strings[index] else { return nil }
      var worktree: OpaquePointer?
      try check(git_worktree_lookup(&worktree, pointer, cName), "git_worktree_lookup")
      defer { git_worktree_free(worktree) }
      let isValid = git_worktree_validate(worktree) == 0
      if !isValid { git_error_clear() }
      let locked = git_worktree_is_locked(nil, worktree)
      try check(locked, "git_worktree_is_locked")
      return WorktreeInfo(
        name: String(cString: cName),
        path: trimmingTrailingSlash(git_worktree_path(worktree).map { String(cString: $0) } ?? ""),
        isValid: isValid, isLocked: locked > 0)
    }.sorted { $0.name < $1.name }
  }

  /// `checkout: false` registers the worktree and its HEAD without writing any file.
  ///
  /// git_worktree_add with opts.ref set to the existing branch `branch` (full ref name). Fails if name/path exist (libgit2 limit).
  ///
  /// libgit2 1.5 cannot add into an existing directory (even an empty one) nor reuse a registered
  /// name, so both are refused up front with a message that says so. The branch must not be checked
  /// out in another worktree.
  /// - Throws: `GitError` with `isExists` when the path or name is taken, else libgit2's error.
  /// - Parameter lock: lock it (`git worktree lock`), so that `git gc` or `git worktree prune`
  ///   running at any moment, even while it is being made, never removes its registration.
  public func addWorktree(name: String, path: String, branch: String, checkout: Bool = true, lock: Bool = false) throws {
    if FileManager.default.fileExists(atPath: path) {
      throw GitError(
        code: GIT_EEXISTS.rawValue, errorClass: Int32(GIT_ERROR_WORKTREE.rawValue), function: "git_worktree_add",
        message: "cannot add worktree '\(name)': path \(path) already exists; remove it or choose a new path "
          + "(libgit2 1.5 only creates worktrees in new directories)")
    }
    if FileManager.default.fileExists(atPath: commonDirectory + "/worktrees/" + name) {
      throw GitError(
        code: GIT_EEXISTS.rawValue, errorClass: Int32(GIT_ERROR_WORKTREE.rawValue), function: "git_worktree_add",
        message: "cannot add worktree '\(name)': a worktree of that name is already registered; "
          + "prune it ('git worktree prune') or choose another name")
    }
    var reference: OpaquePointer?
    try check(git_reference_lookup(&reference, pointer, branch), "git_reference_lookup")
    defer { git_reference_free(reference) }
    var options = git_worktree_add_options()
    try check(
      git_worktree_add_options_init(&options, UInt32(GIT_WORKTREE_ADD_OPTIONS_VERSION)),
      "git_worktree_add_options_init")
    options.ref = reference
    options.lock = lock ? 1 : 0
    if !checkout {
      // The caller writes the files itself (libgit2's checkout is slow on large trees).
      options.checkout_options.checkout_strategy = GIT_CHECKOUT_NONE.rawValue
    }
    var worktree: OpaquePointer?
    registration.lock()
    defer { registration.unlock() }
    try check(git_worktree_add(&worktree, pointer, name, path, &options), "git_worktree_add")
    git_worktree_free(worktree)
  }

  /// Removes the registration of worktree `name` (its gitdir under `<commondir>/worktrees`), never its files.
  ///
  /// Works on a worktree whose directory still exists, locked or not.
  public func pruneWorktree(name: String) throws {
    registration.lock()
    defer { registration.unlock() }
    var worktree: OpaquePointer?
    try check(git_worktree_lookup(&worktree, pointer, name), "git_worktree_lookup")
    defer { git_worktree_free(worktree) }
    var options = git_worktree_prune_options()
    try check(
      git_worktree_prune_options_init(&options, UInt32(GIT_WORKTREE_PRUNE_OPTIONS_VERSION)),
      "git_worktree_prune_options_init")
    options.flags = GIT_WORKTREE_PRUNE_VALID.rawValue | GIT_WORKTREE_PRUNE_LOCKED.rawValue
    try check(git_worktree_prune(worktree, &options), "git_worktree_prune")
  }
}
