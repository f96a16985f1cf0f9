import Foundation
import GitKit

/// Red before green: a checkpoint that already passes before any work proves nothing about the
/// work, so a `red_first` sub-task's checkpoint must fail on its base first.
extension PlanSession {
  /// Runs `subtask`'s checkpoint on main's tip, in a temporary worktree (so nothing of the
  /// sub-task is created), when it is `red_first` and nothing was done on it yet.
  ///
  /// The result is recorded like any other (in `refs/notes/orchestrate`, by tree and commands).
  /// - Returns: the red result for the landing commit's `Orchestrate-Red` trailer, e.g.
  ///   `failed on base (pytest tests/test_auth.py exited 1)`; nil when the check does not apply.
  /// - Throws: `OrchestrateError.checkpointPassesBeforeWork` (exit 2) when it passes.
  @discardableResult
  public func checkRedFirst(_ subtask: Subtask) throws -> String? {
    guard plan.isRedFirst(subtask), try repository.resolve(Layout.branchRef(plan: plan.id, subtask: subtask)) == nil
    else { return nil }
    let tip = try mainTip()
    let baseTree = try repository.commit(tip).tree
    let key = RanKey(tree: baseTree, commandsHash: subtask.checkpoint.commandsHash)
    let verdict: Verdict
    if let known = ranHere[key] {
      verdict = known
    } else {
      events(.notice("red first: checking that the checkpoint of '\(subtask.id)' fails before any work"))
      let sandbox = try CheckoutSandbox(repository: repository, commit: tip)
      defer { sandbox.remove() }
      let before = try captureGuard()
      try FileManager.default.createDirectory(
        atPath: orchestrator.layout.logDirectory(plan: plan.id), withIntermediateDirectories: true)
      verdict = try runCheckpoint(
        subtask.checkpoint, workdir: sandbox.path, tree: baseTree, log: logStem(subtask, attempt: 0) + ".red.log")
      try checkGuard(since: before, subtask: subtask.id, by: "checkpoint")
      ranHere[key] = verdict
      pendingRecords.append(
        (baseTree, CheckpointCache.makeRecord(plan: plan.id, subtask: subtask.id, checkpoint: subtask.checkpoint, verdict: verdict)))
      try flushRecords()
    }
    guard let failure = verdict.failure else {
      throw OrchestrateError.checkpointPassesBeforeWork(
        subtask: subtask.id, commands: subtask.checkpoint.commands, main: mainName, commit: tip.hex)
    }
    let red = "failed on base (\(failure.command) \(failure.summary))"
    redResults[subtask.id] = red
    return red
  }

  /// The red result to record when `subtask` lands: this session's, else the failure recorded on
  /// its base tree (a run resumed after the red check), else nil.
  func redResult(_ subtask: Subtask, baseTree: OID) throws -> String? {
    guard plan.isRedFirst(subtask) else { return nil }
    if let red = redResults[subtask.id] { return red }
    guard let record = try cache.lookup(tree: baseTree, commandsHash: subtask.checkpoint.commandsHash), !record.passed
    else { return nil }
    return "failed on base (\(record.failingCommand ?? "checkpoint") exited \(record.exitCode))"
  }
}
