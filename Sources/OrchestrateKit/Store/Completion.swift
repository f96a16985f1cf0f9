import Foundation
import GitKit

/// What a commit that completes a sub-task says about it, read from its trailers.
public struct SubtaskCompletion: Sendable, Equatable {
  public var plan: String
  public var subtask: String
  public var order: Int
  public var total: Int
  public var attempts: Int
  public var duration: Double?
  public var checkpoint: String
}

extension Trailers {
  /// The one rule for "this commit completes a sub-task"; status, history, run, MCP and verify ask it.
  ///
  /// A commit completes a sub-task when `Orchestrate-Plan` names the plan (any plan when `plan` is
  /// nil), `Orchestrate-Subtask` names a sub-task (`2/5 auth`), `Orchestrate-Checkpoint` starts with
  /// `passed`, and it carries no `Orchestrate-Result: failed …`. A failed attempt kept on a sub-task
  /// branch carries the plan and sub-task trailers too, so main fast-forwarded to such a branch's tip
  /// must not read as done: checking the plan and sub-task alone would count it.
  /// - Returns: `nil` for any commit that does not complete a sub-task.
  public static func completion(of commit: Commit, plan: String? = nil) -> SubtaskCompletion? {
    guard let planValue = commit.trailer(Trailers.plan), plan == nil || planValue == plan,
      let value = commit.trailer(Trailers.subtask), let parsed = parseSubtask(value),
      let checkpoint = commit.trailer(Trailers.checkpoint), checkpoint.hasPrefix("passed")
    else { return nil }
    if let result = commit.trailer(Trailers.result), result.hasPrefix("failed") { return nil }
    return SubtaskCompletion(
      plan: planValue, subtask: parsed.id, order: parsed.order, total: parsed.total,
      attempts: Int(commit.trailer(Trailers.attempts) ?? "") ?? 1,
      duration: commit.trailer(Trailers.duration).flatMap(parseSeconds), checkpoint: checkpoint)
  }
}
