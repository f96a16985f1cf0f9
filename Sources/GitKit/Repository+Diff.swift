internal import CGit2

extension Repository {
  /// The paths that differ between two trees, sorted by path; nil stands for the empty tree.
  ///
  /// No rename detection: a move is a deletion and an addition, which is what the engine records.
  public func diffTrees(_ old: OID?, _ new: OID?) throws -> [DiffEntry] {
    // Compared entry by entry, descending only into subtrees whose ids differ, with no diff
    // machinery (attributes, drivers) loaded: the cost follows the change, not the repository.
    var result: [DiffEntry] = []
    try compareTrees(old.map { try peeledTree($0) }, new.map { try peeledTree($0) }, prefix: "", into: &result)
    return result.sorted { $0.path < $1.path }
  }

  private func peeledTree(_ oid: OID) throws -> OID {
    let tree = try lookupTree(oid)
    defer { git_tree_free(tree) }
    return OID(git_tree_id(tree))
  }

  private func compareTrees(_ old: OID?, _ new: OID?, prefix: String, into result: inout [DiffEntry]) throws {
    if old == new { return }
    var oldEntries: [String: TreeEntry] = [:]
    var newEntries: [String: TreeEntry] = [:]
    if let old { for entry in try treeEntries(old) { oldEntries[entry.name] = entry } }
    if let new { for entry in try treeEntries(new) { newEntries[entry.name] = entry } }
    for name in Set(oldEntries.keys).union(newEntries.keys) {
      let path = prefix + name
      let before = oldEntries[name]
      let after = newEntries[name]
      if let before, let after, before.oid == after.oid, before.mode == after.mode { continue }
      let oldIsTree = before?.mode == .tree
      let newIsTree = after?.mode == .tree
      if oldIsTree || newIsTree {
        try compareTrees(oldIsTree ? before?.oid : nil, newIsTree ? after?.oid : nil, prefix: path + "/", into: &result)
      }
      let oldFile = oldIsTree ? nil : before
      let newFile = newIsTree ? nil : after
      switch (oldFile, newFile) {
      case (nil, nil): continue
      case (nil, let added?):
        result.append(DiffEntry(path: path, status: .added, oldOID: nil, newOID: added.oid, oldMode: nil, newMode: added.mode))
      case (let removed?, nil):
        result.append(DiffEntry(path: path, status: .deleted, oldOID: removed.oid, newOID: nil, oldMode: removed.mode, newMode: nil))
      case (let a?, let b?):
        let kindChanged = (a.mode == .symlink) != (b.mode == .symlink) || (a.mode == .gitlink) != (b.mode == .gitlink)
        result.append(
          DiffEntry(
            path: path, status: kindChanged ? .typeChanged : .modified, oldOID: a.oid, newOID: b.oid, oldMode: a.mode,
            newMode: b.mode))
      }
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
