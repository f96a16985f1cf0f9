internal import CGit2

extension Repository {
  /// The reference `name` as stored (not resolved), or nil when it does not exist.
  public func reference(_ name: String) throws -> Reference? {
    var reference: OpaquePointer?
    let code = git_reference_lookup(&reference, pointer, name)
    if code == GIT_ENOTFOUND.rawValue { return nil }
    try check(code, "git_reference_lookup")
    defer { git_reference_free(reference) }
    return Reference(reference!)
  }

  /// The commit-or-object id `name` points to, following symbolic references; nil when missing or unborn.
  public func resolve(_ name: String) throws -> OID? {
    var oid = git_oid()
    let code = git_reference_name_to_id(&oid, pointer, name)
    if code == GIT_ENOTFOUND.rawValue { return nil }
    try check(code, "git_reference_name_to_id")
    return OID(oid)
  }

  /// The commit `spec` names (any `git rev-parse` revision), peeled to a commit.
  ///
  /// - Throws: `RepositoryError.refNotFound` when `spec` names nothing.
  public func revparse(_ spec: String) throws -> OID {
    var object: OpaquePointer?
    let code = git_revparse_single(&object, pointer, spec)
    if code == GIT_ENOTFOUND.rawValue || code == GIT_EINVALIDSPEC.rawValue || code == GIT_EAMBIGUOUS.rawValue {
      throw RepositoryError.refNotFound(spec)
    }
    try check(code, "git_revparse_single")
    defer { git_object_free(object) }
    var commit: OpaquePointer?
    try check(git_object_peel(&commit, object, GIT_OBJECT_COMMIT), "git_object_peel")
    defer { git_object_free(commit) }
    return OID(git_object_id(commit))
  }

  /// Where HEAD of this repository (this worktree, for a linked one) points.
  public func head() throws -> Head {
    guard let head = try reference("HEAD") else {
      throw GitError(
        code: GIT_ENOTFOUND.rawValue, errorClass: Int32(GIT_ERROR_REFERENCE.rawValue), function: "head",
        message: "repository has no HEAD; repair it with 'git symbolic-ref HEAD refs/heads/main'")
    }
    if let target = head.target { return .detached(target) }
    let name = head.symbolicTarget ?? "HEAD"
    if let oid = try resolve(name) { return .branch(name: name, oid: oid) }
    return .unborn(name: name)
  }

  /// Moves reference `name` to `new` only if it is still at `expected`; `expected == nil` means it must not exist.
  ///
  /// The update is atomic (libgit2's compare-and-swap under the ref lock), so two writers cannot both
  /// win. It updates `name` itself: a symbolic reference is replaced, not followed.
  /// - Throws: `RepositoryError.referenceConflict` naming where the reference really is, when it moved.
  public func updateReference(_ name: String, to new: OID, expected: OID?, message: String) throws {
    var reference: OpaquePointer?
    var target = new.raw
    var code: Int32 = 0
    try retryingTransient {
      if var current = expected?.raw {
        code = git_reference_create_matching(&reference, pointer, name, &target, 1, &current, message)
      } else {
        code = git_reference_create(&reference, pointer, name, &target, 0, message)
      }
      // A lock held by git's own gc, or a folder its pack-refs removed, passes: try again. A lost
      // compare-and-swap is judged below.
      if code < 0, code != GIT_EMODIFIED.rawValue, code != GIT_EEXISTS.rawValue, code != GIT_ENOTFOUND.rawValue {
        throw lastError(code, "git_reference_create")
      }
    }
    if code == GIT_EMODIFIED.rawValue || code == GIT_EEXISTS.rawValue || code == GIT_ENOTFOUND.rawValue {
      let failure = lastError(code, "git_reference_create")
      let actual = try? self.reference(name)
      if actual == nil && expected == nil { throw failure }
      throw RepositoryError.referenceConflict(name: name, expected: expected, actual: actual?.target)
    }
    try check(code, "git_reference_create")
    git_reference_free(reference)
    RefWriteLog.shared.record(name, new)
  }

  /// Points reference `name` at `new` whatever it held before, writing reflog `message`.
  public func setReference(_ name: String, to new: OID, message: String) throws {
    var reference: OpaquePointer?
    var target = new.raw
    try retryingTransient {
      try check(git_reference_create(&reference, pointer, name, &target, 1, message), "git_reference_create")
    }
    git_reference_free(reference)
    RefWriteLog.shared.record(name, new)
  }

  /// Deletes reference `name`; with `expected`, only if it still points there.
  ///
  /// A missing reference is not an error when `expected` is nil: the caller wanted it gone.
  /// - Throws: `RepositoryError.referenceConflict` when it is not at `expected`.
  public func deleteReference(_ name: String, expected: OID? = nil) throws {
    var reference: OpaquePointer?
    let code = git_reference_lookup(&reference, pointer, name)
    if code == GIT_ENOTFOUND.rawValue {
      guard let expected else { return }
      throw RepositoryError.referenceConflict(name: name, expected: expected, actual: nil)
    }
    try check(code, "git_reference_lookup")
    defer { git_reference_free(reference) }
    let actual = git_reference_target(reference).map { OID($0) }
    if let expected, actual != expected {
      throw RepositoryError.referenceConflict(name: name, expected: expected, actual: actual)
    }
    // libgit2 deletes only if the reference still holds the value just read: a racing writer is detected.
    var deleted: Int32 = 0
    try retryingTransient {
      deleted = git_reference_delete(reference)
      if deleted == GIT_ELOCKED.rawValue { try check(deleted, "git_reference_delete") }
    }
    if deleted == GIT_EMODIFIED.rawValue {
      throw RepositoryError.referenceConflict(name: name, expected: actual, actual: try resolve(name))
    }
    try check(deleted, "git_reference_delete")
    RefWriteLog.shared.record(name, nil)
  }

  /// Every reference whose name starts with `prefix`, sorted by name.
  ///
  /// Reads only the matching part of the reference store, not every reference: from the files
  /// (`scanReferences`), else through libgit2's iterator.
  public func references(withPrefix prefix: String) throws -> [Reference] {
    if let scanned = scanReferences(withPrefix: prefix) { return scanned }
    return try iteratedReferences(withPrefix: prefix)
  }

  /// `references(withPrefix:)` through libgit2's reference iterator.
  func iteratedReferences(withPrefix prefix: String) throws -> [Reference] {
    var iterator: OpaquePointer?
    try check(git_reference_iterator_glob_new(&iterator, pointer, prefix + "*"), "git_reference_iterator_glob_new")
    defer { git_reference_iterator_free(iterator) }
    var references: [Reference] = []
    while true {
      var reference: OpaquePointer?
      let code = git_reference_next(&reference, iterator)
      if code == GIT_ITEROVER.rawValue { break }
      try check(code, "git_reference_next")
      defer { git_reference_free(reference) }
      let value = Reference(reference!)
      // The glob is a pattern; keep only true prefix matches should `prefix` hold pattern characters.
      if value.name.hasPrefix(prefix) { references.append(value) }
    }
    return references.sorted { $0.name < $1.name }
  }

  /// Points HEAD of this repository (this worktree) at `referenceName`, without touching files or index.
  public func setHead(_ referenceName: String) throws {
    try retryingTransient { try check(git_repository_set_head(pointer, referenceName), "git_repository_set_head") }
  }

  /// Detaches HEAD of this repository (this worktree) at commit `oid`, without touching files or index.
  public func setHeadDetached(_ oid: OID) throws {
    var raw = oid.raw
    try check(git_repository_set_head_detached(pointer, &raw), "git_repository_set_head_detached")
  }

  /// Whether `name` is a valid full reference name (`git check-ref-format` rules).
  public static func isValidReferenceName(_ name: String) -> Bool {
    _ = libgit2
    var valid: Int32 = 0
    guard git_reference_name_is_valid(&valid, name) == 0 else {
      git_error_clear()
      return false
    }
    return valid == 1
  }
}
