import Foundation
import GitKit

/// Where git-orchestrate keeps its state: ref names and paths, all derived from validated ids.
///
/// Ids reach this type only after `RefNameComponent` accepted them, so they never form a path
/// or ref outside the namespaces below.
public struct Layout: Sendable {
  /// The repository's common git directory (shared by all worktrees).
  public let commonDirectory: String

  public init(commonDirectory: String) {
    self.commonDirectory = commonDirectory
  }

  public static let planRefPrefix = "refs/orchestrate/plans/"
  public static let attemptsRefPrefix = "refs/orchestrate/attempts/"
  public static let savedRefPrefix = "refs/orchestrate/saved/"
  public static let syncRef = "refs/orchestrate/checkout-sync"
  public static let notesRef = "refs/notes/orchestrate"
  public static let branchPrefix = "refs/heads/orchestrate/"

  public static func planRef(_ planID: String) -> String { planRefPrefix + planID }

  /// `orchestrate/<plan>/<NN>-<id>` without `refs/heads/`.
  public static func branchName(plan: String, subtask: Subtask) -> String {
    "orchestrate/\(plan)/\(String(format: "%02d", subtask.order))-\(subtask.id)"
  }

  public static func branchRef(plan: String, subtask: Subtask) -> String {
    "refs/heads/" + branchName(plan: plan, subtask: subtask)
  }

  public static func attemptsRef(plan: String, subtask: Subtask) -> String {
    attemptsRefPrefix + "\(plan)/\(String(format: "%02d", subtask.order))-\(subtask.id)"
  }

  /// The tool's own folder inside the common git directory.
  public var stateDirectory: String { commonDirectory + "/orchestrate" }
  public var lockPath: String { stateDirectory + "/lock" }

  /// The managed working directory of a plan: a linked worktree kept inside the git directory,
  /// so it never appears in the user's checkout and is reused across sub-tasks and runs.
  public func workdir(plan: String) -> String { stateDirectory + "/work/" + plan }

  /// The name under which the plan's worktree is registered (`.git/worktrees/<name>`).
  public static func worktreeName(plan: String) -> String { "orchestrate-" + plan }

  /// Logs of agent and checkpoint output, per plan.
  public func logDirectory(plan: String) -> String { stateDirectory + "/logs/" + plan }
}
