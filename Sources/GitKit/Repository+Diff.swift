internal import CGit2

extension Repository {
  /// The paths that differ between two trees, sorted by path; nil stands for the empty tree.
  ///
  /// No rename detection: a move is a deletion and an addition, which is what the engine records.
  public func diffTrees(_ old: OID?, _ new: OID?) throws -> [DiffEntry] {
    try withTreeDiff(old, new) { diff in
      (0..<git_diff_num_deltas(diff)).compactMap { index -> DiffEntry? in
        guard let delta = git_diff_get_delta(diff, index)?.pointee else { return nil }
        let status: DiffEntry.Status
        switch delta.status {
        case GIT_DELTA_ADDED: status = .added
        case GIT_DELTA_DELETED: status = .deleted
        case GIT_DELTA_MODIFIED: status = .modified
        case GIT_DELTA_TYPECHANGE: status = .typeChanged
        default: return nil
        }
        let path = String(cString: status == .deleted ? delta.old_file.path : delta.new_file.path)
        let oldPresent = status != .added
        let newPresent = status != .deleted
        return DiffEntry(
          path: path, status: status,
          oldOID: oldPresent ? OID(delta.old_file.id) : nil,
          newOID: newPresent ? OID(delta.new_file.id) : nil,
          oldMode: oldPresent ? FileMode(git: UInt32(delta.old_file.mode)) : nil,
          newMode: newPresent ? FileMode(git: UInt32(delta.new_file.mode)) : nil)
      }.sorted { $0.path < $1.path }
    }
  }

  /// The `git diff --stat` summary of two trees; nil stands for the empty tree.
  public func diffStat(_ old: OID?, _ new: OID?) throws -> String {
    try withTreeDiff(old, new) { diff in
      var stats: OpaquePointer?
      try check(git_diff_get_stats(&stats, diff), "git_diff_get_stats")
      defer { git_diff_stats_free(stats) }
      var buffer = git_buf()
      defer { git_buf_dispose(&buffer) }
      try check(git_diff_stats_to_buf(&buffer, stats, GIT_DIFF_STATS_FULL, 80), "git_diff_stats_to_buf")
      return string(from: buffer)
    }
  }

  /// The unified diff of two trees, as `git diff` prints it; nil stands for the empty tree.
  public func patch(_ old: OID?, _ new: OID?) throws -> String {
    try withTreeDiff(old, new) { diff in
      var buffer = git_buf()
      defer { git_buf_dispose(&buffer) }
      try check(git_diff_to_buf(&buffer, diff, GIT_DIFF_FORMAT_PATCH), "git_diff_to_buf")
      return string(from: buffer)
    }
  }

  /// Calls `body` with the tree-to-tree diff of `old` and `new`, freed afterwards.
  ///
  /// libgit2 compares trees by id and descends only into subtrees whose ids differ, so the cost follows
  /// the size of the change, not of the repository.
  private func withTreeDiff<R>(_ old: OID?, _ new: OID?, _ body: (OpaquePointer) throws -> R) throws -> R {
    let oldTree = try old.map(lookupTree)
    defer { git_tree_free(oldTree) }
    let newTree = try new.map(lookupTree)
    defer { git_tree_free(newTree) }
    var options = git_diff_options()
    try check(git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)), "git_diff_options_init")
    options.flags |= GIT_DIFF_INCLUDE_TYPECHANGE.rawValue
    var diff: OpaquePointer?
    try check(git_diff_tree_to_tree(&diff, pointer, oldTree, newTree, &options), "git_diff_tree_to_tree")
    defer { git_diff_free(diff) }
    return try body(diff!)
  }
}
