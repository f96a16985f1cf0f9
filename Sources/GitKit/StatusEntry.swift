/// The state of one path of the working directory, against the index and HEAD.
public struct StatusEntry: Equatable, Sendable {
  public let path: String
  /// Staged: the index differs from HEAD.
  public let indexChanged: Bool
  /// Unstaged: the working file differs from the index.
  public let workdirChanged: Bool
  /// Not tracked and not ignored.
  public let isUntracked: Bool
  /// Has unresolved merge conflict entries in the index.
  public let isConflicted: Bool

  public init(path: String, indexChanged: Bool, workdirChanged: Bool, isUntracked: Bool, isConflicted: Bool) {
    self.path = path
    self.indexChanged = indexChanged
    self.workdirChanged = workdirChanged
    self.isUntracked = isUntracked
    self.isConflicted = isConflicted
  }
}
