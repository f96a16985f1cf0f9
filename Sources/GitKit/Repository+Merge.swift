internal import CGit2

extension Repository {
  /// Three-way merges trees (commits are peeled to their trees) and writes the result when it is clean.
  ///
  /// Works on objects only: neither the index nor the working directory is touched.
  public func mergeTrees(ancestor: OID, ours: OID, theirs: OID) throws -> MergeResult {
    let ancestorTree = try lookupTree(ancestor)
    defer { git_tree_free(ancestorTree) }
    let ourTree = try lookupTree(ours)
    defer { git_tree_free(ourTree) }
    let theirTree = try lookupTree(theirs)
    defer { git_tree_free(theirTree) }
    var options = git_merge_options()
    try check(git_merge_options_init(&options, UInt32(GIT_MERGE_OPTIONS_VERSION)), "git_merge_options_init")
    var index: OpaquePointer?
    try check(git_merge_trees(&index, pointer, ancestorTree, ourTree, theirTree, &options), "git_merge_trees")
    defer { git_index_free(index) }
    if git_index_has_conflicts(index) == 1 {
      return .conflicts(try conflictPaths(index!))
    }
    var tree = git_oid()
    try retryingTransient { try check(git_index_write_tree_to(&tree, index, pointer), "git_index_write_tree_to") }
    return .clean(tree: OID(tree))
  }

  /// The sorted, distinct paths with conflict entries in `index`.
  func conflictPaths(_ index: OpaquePointer) throws -> [String] {
    var iterator: OpaquePointer?
    try check(git_index_conflict_iterator_new(&iterator, index), "git_index_conflict_iterator_new")
    defer { git_index_conflict_iterator_free(iterator) }
    var paths = Set<String>()
    while true {
      var ancestor: UnsafePointer<git_index_entry>?
      var ours: UnsafePointer<git_index_entry>?
      var theirs: UnsafePointer<git_index_entry>?
      let code = git_index_conflict_next(&ancestor, &ours, &theirs, iterator)
      if code == GIT_ITEROVER.rawValue { break }
      try check(code, "git_index_conflict_next")
      if let entry = ours ?? theirs ?? ancestor {
        paths.insert(String(cString: entry.pointee.path))
      }
    }
    return paths.sorted()
  }
}
