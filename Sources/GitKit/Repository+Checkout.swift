internal import CGit2

extension Repository {
  /// Check out `tree` into this repository's working directory. `baseline` is the tree the working directory is
  /// known to match (diff-based, fast); `force` overwrites local changes, else SAFE (fails listing conflicting paths).
  /// Also updates this repository's index to `tree` (and writes it).
  ///
  /// With a baseline, libgit2 compares the baseline and target trees by id and only looks at the files
  /// that differ, so switching between nearby trees costs the size of the change. Without one, HEAD's
  /// tree is the baseline. Untracked files are left alone.
  /// - Throws: `GitError` with `isConflict` whose message lists the paths a SAFE checkout would overwrite.
  public func checkout(tree: OID, baseline: OID?, force: Bool) throws {
    _ = try requireWorkingDirectory()
    let target = try lookupTree(tree)
    defer { git_tree_free(target) }
    let baselineTree = try baseline.map(lookupTree)
    defer { git_tree_free(baselineTree) }

    var options = git_checkout_options()
    try check(git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "git_checkout_options_init")
    options.checkout_strategy = force ? GIT_CHECKOUT_FORCE.rawValue : GIT_CHECKOUT_SAFE.rawValue
    options.baseline = baselineTree
    let conflicts = ConflictCollector()
    options.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT.rawValue
    options.notify_cb = { _, path, _, _, _, payload in
      if let path, let payload {
        Unmanaged<ConflictCollector>.fromOpaque(payload).takeUnretainedValue().paths.append(String(cString: path))
      }
      return 0
    }
    let code = withExtendedLifetime(conflicts) { () -> Int32 in
      options.notify_payload = Unmanaged.passUnretained(conflicts).toOpaque()
      return git_checkout_tree(pointer, target, &options)
    }
    if code == GIT_ECONFLICT.rawValue, !conflicts.paths.isEmpty {
      let paths = Array(Set(conflicts.paths)).sorted()
      throw GitError(
        code: code, errorClass: Int32(GIT_ERROR_CHECKOUT.rawValue), function: "git_checkout_tree",
        message: "checkout would overwrite local changes to \(paths.joined(separator: ", ")); "
          + "commit, stash or discard them first")
    }
    try check(code, "git_checkout_tree")

    // Checkout updates the index only for the paths it wrote; make it equal to `tree` everywhere.
    // git_index_read_tree keeps the cached stat data of unchanged entries, so status stays fast.
    var index: OpaquePointer?
    try check(git_repository_index(&index, pointer), "git_repository_index")
    defer { git_index_free(index) }
    try check(git_index_read_tree(index, target), "git_index_read_tree")
    try retryingTransient { try check(git_index_write(index), "git_index_write") }
  }
}

/// Collects the paths libgit2 reports as checkout conflicts; used only during one checkout call.
private final class ConflictCollector {
  var paths: [String] = []
}
