internal import CGit2

extension Repository {
  /// The commits reachable from `tips` but not from `hidden`, as `git rev-list --topo-order --reverse
  /// TIPS --not HIDDEN` lists them: oldest first, parents before children.
  ///
  /// A hidden id that is missing here, or names no commit, hides nothing: the walk then lists more
  /// commits, never fewer, which is the safe side for verification (a pre-push hook may receive a
  /// remote's id this clone has never seen).
  /// - Throws: `GitError` when a tip is missing or names no commit.
  public func commits(reachableFrom tips: [OID], hiding hidden: [OID] = [], firstParentOnly: Bool = false) throws
    -> [OID]
  {
    var walk: OpaquePointer?
    try check(git_revwalk_new(&walk, pointer), "git_revwalk_new")
    defer { git_revwalk_free(walk) }
    try check(
      git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_REVERSE.rawValue), "git_revwalk_sorting")
    if firstParentOnly { try check(git_revwalk_simplify_first_parent(walk), "git_revwalk_simplify_first_parent") }
    for tip in tips {
      var raw = tip.raw
      try check(git_revwalk_push(walk, &raw), "git_revwalk_push")
    }
    for oid in hidden {
      var raw = oid.raw
      if git_revwalk_hide(walk, &raw) < 0 { git_error_clear() }
    }
    var result: [OID] = []
    var next = git_oid()
    while true {
      let code = git_revwalk_next(&next, walk)
      if code == GIT_ITEROVER.rawValue { break }
      try check(code, "git_revwalk_next")
      result.append(OID(next))
    }
    return result
  }

  /// Whether the object `oid` exists in the object database (of any type).
  /// - Parameter refreshing: on a miss, look for packs made since the database was opened (libgit2's
  ///   default); without, only the packs and loose files it knew are looked at.
  public func contains(_ oid: OID, refreshing: Bool = true) -> Bool {
    var odb: OpaquePointer?
    guard git_repository_odb(&odb, pointer) == 0 else {
      git_error_clear()
      return false
    }
    defer { git_odb_free(odb) }
    var raw = oid.raw
    let flags = refreshing ? 0 : UInt32(GIT_ODB_LOOKUP_NO_REFRESH.rawValue)
    return git_odb_exists_ext(odb, &raw, flags) == 1
  }
}
