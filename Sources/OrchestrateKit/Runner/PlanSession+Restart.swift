import Foundation
import GitKit

extension PlanSession {
  /// Starts a sub-task again on main's tip after its validated work conflicted with the main that
  /// moved (`Settlement.conflict`), for a caller whose agent works between calls (the MCP server);
  /// `run --jobs` does the same, then goes straight on to the fix agent.
  ///
  /// Nothing is lost and the next `begin` builds on main's tip:
  /// - the conflicting attempt (the branch's tip, recorded by `settle`) is kept under
  ///   `refs/orchestrate/attempts/…`, where `AttemptLog.located` finds it while the branch holds no
  ///   newer failure, and as the second parent of the branch's new tip;
  /// - the branch moves to a commit on main's tip with main's tree (first parent main's tip, so the
  ///   sub-task's base is that tip from now on; a commit of no role: it counts as no attempt);
  /// - the work folder is reset to main's tip, where the sub-task is redone.
  /// - Returns: main's tip, the commit the work must be redone on.
  public func restartOnMain(_ cycle: inout SubtaskCycle, conflicts paths: [String]) throws -> OID {
    let tip = try mainTip()
    guard let kept = try repository.resolve(cycle.branchRef) else {
      throw OrchestrateError.io("cannot restart '\(cycle.subtask.id)': \(cycle.branch) is gone")
    }
    let tipTree = try repository.commit(tip).tree
    let signature = repository.defaultSignature()
    let message = """
      restart \(cycle.subtask.id) on \(mainName) \(tip.hex.prefix(10))

      Its validated work conflicted with \(mainName), which moved while it was done, in:
      \(paths.map { "    " + $0 }.joined(separator: "\n"))
      That work is kept as the second parent (\(kept.hex.prefix(10))); the sub-task is redone on \(mainName)'s tip.

      """
    let restart = try repository.createCommit(
      tree: tipTree, parents: [tip, kept], message: message, author: signature, committer: signature)
    try repository.setReference(
      Layout.attemptsRef(plan: plan.id, subtask: cycle.subtask), to: kept,
      message: "orchestrate: attempts before a restart")
    try repository.setReference(cycle.branchRef, to: restart, message: "orchestrate: restart on \(mainName)")
    let workspace = try openedWorkspace(cycle)
    try workspace.checkout(tree: tipTree)
    try workspace.restoreHead(branchRef: cycle.branchRef)
    cycle.base = tip
    cycle.unrecordedWork = false
    try refreshGuard()
    return tip
  }
}
