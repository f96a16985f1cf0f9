internal import CGit2

/// A reference as stored, not resolved: a direct one has `target`, a symbolic one `symbolicTarget`.
public struct Reference: Equatable, Sendable {
  public let name: String
  public let target: OID?
  public let symbolicTarget: String?

  public init(name: String, target: OID?, symbolicTarget: String?) {
    self.name = name
    self.target = target
    self.symbolicTarget = symbolicTarget
  }

  init(_ reference: OpaquePointer) {
    name = String(cString: git_reference_name(reference))
    target = git_reference_target(reference).map { OID($0) }
    symbolicTarget = git_reference_symbolic_target(reference).map { String(cString: $0) }
  }
}

/// Where HEAD of a repository (or linked worktree) points.
public enum Head: Equatable, Sendable {
  /// On a branch that exists; `name` is the full reference name, e.g. `refs/heads/main`.
  case branch(name: String, oid: OID)
  /// On a branch with no commit yet, as right after `git init`.
  case unborn(name: String)
  /// Detached at a commit.
  case detached(OID)
}
