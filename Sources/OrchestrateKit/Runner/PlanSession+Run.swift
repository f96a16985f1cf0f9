import Foundation
import GitKit

/// How a run ended.
public enum RunOutcome: Sendable {
  /// Every sub-task is on main (and the final checkpoint, if any, passed).
  case completed(PlanStatus)
  /// A checkpoint still fails after the attempt budget; the branch is left for a fix.
  case stuck(subtask: String, branch: String, workdir: String, status: PlanStatus)
  /// The final checkpoint failed on main's last tree.
  case finalCheckpointFailed(CheckpointFailure, PlanStatus)
  /// A parallel run: these sub-tasks still fail after the attempt budget; the `waiting` ones
  /// depend on them (or on each other) and did not start. Every independent sub-task finished.
  case blocked(stuck: [Stuck], waiting: [String], status: PlanStatus)

  public var exitCode: Int32 {
    switch self {
    case .completed: 0
    case .stuck, .finalCheckpointFailed, .blocked: 1
    }
  }
}

extension PlanSession {
  /// Runs every remaining sub-task, one at a time, each validated before the next starts: the
  /// seed's `execute_decomposed_task`.
  public func run() throws -> RunOutcome {
    // A work folder inside the repository, or an agent that cannot start: exit 2 before anything is created.
    try checkBeforeRun()
    _ = try mainTip()
    events(
      .runStarted(
        plan: plan.id, total: plan.subtasks.count, completed: try progress().completed,
        mainBranch: mainName))
    if let bestOf = settings.bestOfFlag, bestOf > 1 {
      let steps = plan.subtasks.filter { !$0.run.isEmpty }.map(\.id)
      if !steps.isEmpty {
        let list =
          steps.count > 5
          ? steps.prefix(5).joined(separator: ", ") + " and \(steps.count - 5) more" : steps.joined(separator: ", ")
        events(
          .notice("--best-of \(bestOf) applies to sub-tasks an agent works on; script steps run once (\(list))"))
      }
    }
    batchRecords = true
    defer {
      // Stopped by an error: records are kept and the checkout still gets what landed, so it never
      // looks like a revert of it. A run that ended on its own did this already.
      if lock.isHeld {
        flushQuietly()
        try? updateUserCheckout()
      }
    }
    // Sub-tasks at once, or agents at once on one sub-task (`best_of`): the parallel scheduler.
    if settings.jobs > 1 || plan.subtasks.contains(where: { settings.contenders(for: $0) > 1 }) {
      return try runParallel(jobs: settings.jobs)
    }
    while let subtask = try nextSubtask() {
      try checkRedFirst(subtask)
      var cycle = try begin(subtask)
      announceStart(cycle)
      switch try complete(&cycle) {
      case .landed(let landing):
        try announceLanded(cycle, landing)
      case .retry, .conflict:
        announceStuck(cycle)
        return .stuck(subtask: subtask.id, branch: cycle.branch, workdir: cycle.workdir, status: try finish())
      }
    }
    return try finishAll()
  }

  /// Says a sub-task (or, of a `best_of` sub-task's `contenders` agents, one) begins.
  func announceStart(_ cycle: SubtaskCycle, contenders: Int = 1) {
    let subtask = cycle.subtask
    emitWithProgress(
      .subtaskStarted(
        order: subtask.order, total: plan.subtasks.count, id: subtask.id,
        description: subtask.description + (contenders > 1 ? " (contender \(cycle.contender) of \(contenders))" : ""),
        branch: cycle.branch, workdir: cycle.workdir, resumed: !cycle.fresh, attempt: cycle.attempts + 1))
  }

  /// Brings the user's checkout up to a sub-task that landed, then says so.
  func announceLanded(_ cycle: SubtaskCycle, _ landing: Landing) throws {
    try updateUserCheckout()
    emitWithProgress(
      .subtaskCompleted(
        id: cycle.subtask.id, commit: landing.commit.hex, attempts: landing.attempts, seconds: landing.seconds))
  }

  /// Says a sub-task still fails after its attempt budget, where its work is and how to resume.
  func announceStuck(_ cycle: SubtaskCycle) {
    events(
      .subtaskStuck(
        id: cycle.subtask.id, branch: cycle.branch, workdir: cycle.workdir, attempts: cycle.attempts,
        resume: "git orchestrate run \(plan.id)"))
  }

  /// Every sub-task is on main: the final checkpoint, if any, on main's last tree, then `finish`.
  func finishAll() throws -> RunOutcome {
    if let final = plan.finalCheckpoint {
      try updateUserCheckout()
      events(.finalCheckpointStarted)
      let verdict = try checkFinal(final)
      events(.finalCheckpoint(passed: verdict.passed))
      if let failure = verdict.failure { return .finalCheckpointFailed(failure, try finish()) }
    }
    return .completed(try finish())
  }

  /// One sub-task to its end: a resumed branch is replayed onto main if main moved, and checked as
  /// it is first (a hand fix included);
  /// then work and check, up to the attempt budget, each failure kept and handed to the fix agent.
  /// - Returns: `.landed`, or the last `.retry` when the budget is spent.
  /// - Throws: `OrchestrateError.replayConflict` when main moved and the work does not apply to it.
  func complete(_ cycle: inout SubtaskCycle) throws -> Settlement {
    var failure: CheckpointFailure?
    var settlement: Settlement?
    if !cycle.fresh {
      cycle.acceptsHandFix = true
      settlement = try replayIfBehind(&cycle)
      if settlement == nil { settlement = try settle(&cycle, try check(cycle)) }
      failure = try self.failure(of: settlement, &cycle)
    }
    for _ in 0..<settings.maxAttempts where settlement?.isLanded != true {
      let verdict = try work(&cycle, after: failure) ?? check(cycle)
      settlement = try settle(&cycle, verdict)
      failure = try self.failure(of: settlement, &cycle)
    }
    guard let settlement else { throw OrchestrateError.io("no attempt was made on '\(cycle.subtask.id)'") }
    return settlement
  }

  /// The failure a settlement hands to the fix agent. A conflict with a main that moved stops a
  /// sequential run (main moved by someone else's hand); in a parallel run, where other sub-tasks
  /// land beside it by design, the sub-task starts again on main's new tip and the fix agent redoes
  /// it, told what conflicted, within the attempt budget.
  private func failure(of settlement: Settlement?, _ cycle: inout SubtaskCycle) throws -> CheckpointFailure? {
    switch settlement {
    case .retry(let failure, _): return failure
    case .conflict(let paths, _):
      guard parallel != nil else {
        throw OrchestrateError.replayConflict(subtask: cycle.subtask.id, paths: paths, branch: cycle.branch)
      }
      _ = try restartOnMain(&cycle, conflicts: paths)
      return .replay(paths, mainName)
    case .landed, nil: return nil
    }
  }

  /// The run's one way out: records written, the user's checkout brought up to date, the
  /// repository packed if git would pack it now, the lock released (so the status shows a stopped
  /// sub-task as failed, not in progress), the status read.
  func finish() throws -> PlanStatus {
    try? updateUserCheckout()
    flushQuietly()
    maintainRepository()
    lock.release()
    let status = try status()
    events(.runFinished(status: status))
    return status
  }

  /// `git gc --auto`, as git runs it after its own commits: the commits, trees and refs a run
  /// makes are written loose, and a plan of 10,000 sub-tasks leaves some 70,000 objects and 10,000
  /// refs in files. Git packs them only past its thresholds (`gc.auto`, `gc.autoPackLimit`), never
  /// when the user set `gc.auto` to 0, and runs the user's `pre-auto-gc` hook first; here in the
  /// foreground (`gc.autoDetach=false`), quietly, so nothing is left running or printed. Whatever
  /// goes wrong is left for the next run or the user's own git: packing is not the run's result.
  func maintainRepository() {
    let directory = repository.workingDirectory ?? repository.gitDirectory
    _ = try? GitCommand.run(["-c", "gc.autoDetach=false", "gc", "--auto", "--quiet"], in: directory)
  }

  /// Runs the plan's final checkpoint on main's last tree, in the workspace.
  func checkFinal(_ checkpoint: Checkpoint) throws -> Verdict {
    let tip = try mainTip()
    let workspace: Workspace
    if let opened = self.workspace {
      workspace = opened
    } else {
      // Nothing ran in this process: open the workspace on the last sub-task's branch.
      guard let last = plan.subtasks.last else { throw OrchestrateError.io("the plan has no sub-task") }
      let ref = Layout.branchRef(plan: plan.id, subtask: last)
      if try repository.resolve(ref) == nil {
        try repository.setReference(ref, to: tip, message: "orchestrate: final checkpoint")
      }
      workspace = try openWorkspace(branchRef: ref)
      try workspace.switchTo(branchRef: ref, commit: try repository.resolve(ref) ?? tip, planID: plan.id)
    }
    try workspace.checkout(tree: try repository.commit(tip).tree)
    return try check(checkpoint, subtaskID: "final", in: workspace)
  }
}

extension Settlement {
  var isLanded: Bool {
    if case .landed = self { return true }
    return false
  }
}
