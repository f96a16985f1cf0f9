internal import CGit2
import Foundation

extension Repository {
  /// The paths that differ between two trees, sorted by path; nil stands for the empty tree.
  ///
  /// No rename detection: a move is a deletion and an addition, which is what the engine records.
  public func diffTrees(_ old: OID?, _ new: OID?) throws -> [DiffEntry] {
    // A landing asks for the same diff several times (its commit, the user's checkouts, the
    // commits main got since they were synced): objects never change, so the last few are kept.
    if let known = recentDiffs.first(where: { $0.old == old && $0.new == new }) { return known.entries }
    // Compared entry by entry, descending only into subtrees whose ids differ, with no diff
    // machinery (attributes, drivers) loaded: the cost follows the change, not the repository.
    var result: [DiffEntry] = []
    try compareTrees(old.map { try peeledTree($0) }, new.map { try peeledTree($0) }, prefix: "", into: &result)
    result.sort { $0.path < $1.path }
    if result.count <= 100_000 {
      if recentDiffs.count >= 4 { recentDiffs.removeFirst() }
      recentDiffs.append((old, new, result))
    }
    return result
  }

  private func peeledTree(_ oid: OID) throws -> OID {
    let tree = try lookupTree(oid)
    defer { git_tree_free(tree) }
    return OID(git_tree_id(tree))
  }

  /// The two trees' entries walked side by side in git's order (a tree's name sorts as if it ended
  /// in "/"), so that an unchanged entry costs a name and id comparison and no allocation.
  private func compareTrees(_ old: OID?, _ new: OID?, prefix: String, into result: inout [DiffEntry]) throws {
    if old == new { return }
    let oldTree = try old.map { try lookupTree($0) }
    defer { if let oldTree { git_tree_free(oldTree) } }
    let newTree = try new.map { try lookupTree($0) }
    defer { if let newTree { git_tree_free(newTree) } }
    let oldCount = oldTree.map { git_tree_entrycount($0) } ?? 0
    let newCount = newTree.map { git_tree_entrycount($0) } ?? 0
    var i = 0
    var j = 0
    while i < oldCount || j < newCount {
      let a = i < oldCount ? git_tree_entry_byindex(oldTree, i) : nil
      let b = j < newCount ? git_tree_entry_byindex(newTree, j) : nil
      let order: Int32
      if let a, let b { order = Self.gitOrder(a, b) } else { order = a == nil ? 1 : -1 }
      if order == 0, let a, let b {
        i += 1
        j += 1
        if git_oid_equal(git_tree_entry_id(a), git_tree_entry_id(b)) == 1,
          FileMode(git: git_tree_entry_filemode(a).rawValue) == FileMode(git: git_tree_entry_filemode(b).rawValue)
        {
          continue
        }
        try compareEntries(TreeEntry(a), TreeEntry(b), prefix: prefix, into: &result)
      } else if order < 0, let a {
        i += 1
        try compareEntries(TreeEntry(a), nil, prefix: prefix, into: &result)
      } else if let b {
        j += 1
        try compareEntries(nil, TreeEntry(b), prefix: prefix, into: &result)
      }
    }
  }

  /// git's order of two entries of one tree: their names' bytes, a tree's name followed by "/".
  private static func gitOrder(_ a: OpaquePointer, _ b: OpaquePointer) -> Int32 {
    let nameA = git_tree_entry_name(a)!
    let nameB = git_tree_entry_name(b)!
    let lengthA = strlen(nameA)
    let lengthB = strlen(nameB)
    let common = memcmp(nameA, nameB, min(lengthA, lengthB))
    if common != 0 { return common }
    func next(_ name: UnsafePointer<CChar>, _ length: Int, _ entry: OpaquePointer) -> Int32 {
      if length > min(lengthA, lengthB) { return Int32(UInt8(bitPattern: name[min(lengthA, lengthB)])) }
      return git_tree_entry_type(entry) == GIT_OBJECT_TREE ? Int32(UInt8(ascii: "/")) : 0
    }
    return next(nameA, lengthA, a) - next(nameB, lengthB, b)
  }

  /// One name's change: `before` and `after` are both trees, both not trees, or one of them nil.
  private func compareEntries(_ before: TreeEntry?, _ after: TreeEntry?, prefix: String, into result: inout [DiffEntry])
    throws
  {
    let path = prefix + (before ?? after)!.name
    let oldIsTree = before?.mode == .tree
    let newIsTree = after?.mode == .tree
    if oldIsTree || newIsTree {
      try compareTrees(oldIsTree ? before?.oid : nil, newIsTree ? after?.oid : nil, prefix: path + "/", into: &result)
    }
    let oldFile = oldIsTree ? nil : before
    let newFile = newIsTree ? nil : after
    switch (oldFile, newFile) {
    case (nil, nil): return
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
