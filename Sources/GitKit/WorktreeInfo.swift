/// A linked worktree registered in the repository.
public struct WorktreeInfo: Equatable, Sendable {
  public let name: String
  public let path: String
  /// Its gitdir and working directory both still exist.
  public let isValid: Bool
  public let isLocked: Bool

  public init(name: String, path: String, isValid: Bool, isLocked: Bool) {
    self.name = name
    self.path = path
    self.isValid = isValid
    self.isLocked = isLocked
  }
}
