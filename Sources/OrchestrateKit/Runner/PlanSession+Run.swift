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

  public var exitCode: Int32 {
    switch self {
    case .completed: 0
    case .stuck, .finalCheckpointFailed: 1
    }
  }
}

extension PlanSession {
  /// The attempt budget: the flag, then the plan, then `orchestrate.maxAttempts`, then 3.
  func maxAttempts() throws -> Int {
    if let value = options.maxAttempts { return value }
    if let value = plan.maxAttempts { return value }
    let configured: Int?
    do {
      configured = try repository.configInt("orchestrate.maxAttempts")
    } catch {
      let text = (try? repository.configString("orchestrate.maxAttempts")) ?? nil
      throw OrchestrateError.invalidArgument(
        "git config orchestrate.maxAttempts '\(text ?? "")' is not a whole number; set it to one, e.g. 'git config orchestrate.maxAttempts 3'"
      )
    }
    if let value = configured {
      guard value >= 1 else {
        throw OrchestrateError.invalidArgument("git config orchestrate.maxAttempts must be at least 1 (it is \(value))")
      }
      return value
    }
    return 3
  }

  /// Runs every remaining sub-task, one at a time, each validated before the next starts.
  public func run() throws -> RunOutcome {
    let budget = try maxAttempts()
    _ = try timeout(checkpoint: nil)  // a bad orchestrate.timeout is reported before anything is created
    guard budget >= 1 else { throw OrchestrateError.invalidArgument("--max-attempts must be at least 1") }
    _ = try mainTip()
    let startStatus = try status()
    events(.runStarted(plan: plan.id, total: plan.subtasks.count, completed: startStatus.completedSubtasks.count, mainBranch: mainName))
    batchRecords = true
    defer {
      batchRecords = false
      // A run that stopped on a failed checkpoint has done all this and released the lock already.
      if lock.isHeld {
        try? flushRecords()
        try? workspace?.flush()
        // Stopped by an error: the checkout still gets what landed, so it never looks like a revert of it.
        try? updateUserCheckout()
      }
    }
    while let subtask = try nextSubtask() {
      Trace.mark("next subtask")
      var prepared = try prepare(subtask)
      Trace.mark("prepare")
      events(
        .subtaskStarted(
          order: subtask.order, total: plan.subtasks.count, id: subtask.id, description: subtask.description,
          branch: prepared.branch, workdir: prepared.workdir, resumed: !prepared.fresh))
      let started = Date()
      var failure: CheckpointFailure?
      var landed: (OID, Int)?

      if !prepared.fresh {
        // Resuming: the branch is taken as it is (a hand fix included); check it before any agent runs.
        Trace.mark("guard after")
        let outcome = try validate(prepared)
        Trace.mark("validate")
        if outcome.passed {
          landed = try land(&prepared, outcome: outcome, started: started, failure: &failure)
        } else {
          failure = outcome.failure
          if let branchTip = try repository.resolve(prepared.branchRef),
            try repository.commit(branchTip).tree != outcome.tree, let failed = outcome.failure
          {
            try recordAttempt(&prepared, tree: outcome.tree, failure: failed, duration: outcome.duration)
          }
        }
      }

      var tries = 0
      while landed == nil, tries < budget {
        tries += 1
        let attempt = prepared.attempts + 1
        let attemptStarted = Date()
        let guardBefore = try fingerprint()
        Trace.mark("guard")
        let agentFailure = try runAgent(prepared, attempt: attempt, after: failure)
        Trace.mark("agent")
        try refuseTampering(since: guardBefore, subtask: subtask.id)
        guard let workspace else { throw OrchestrateError.io("the workspace is not prepared") }
        try workspace.restoreHead(branchRef: prepared.branchRef)
        if let agentFailure {
          events(.checkpointFailed(agentFailure))
          failure = agentFailure
          try recordAttempt(
            &prepared, tree: try workspace.snapshot(), failure: agentFailure,
            duration: Date().timeIntervalSince(attemptStarted))
          continue
        }
        Trace.mark("guard after")
        let outcome = try validate(prepared)
        Trace.mark("validate")
        if outcome.passed {
          landed = try land(&prepared, outcome: outcome, started: started, failure: &failure)
          if landed == nil {
            try recordAttempt(&prepared, tree: try workspace.snapshot(), failure: failure!, duration: Date().timeIntervalSince(attemptStarted))
          }
        } else {
          failure = outcome.failure
          try recordAttempt(
            &prepared, tree: outcome.tree, failure: outcome.failure!, duration: Date().timeIntervalSince(attemptStarted))
        }
      }

      guard let (commit, attempts) = landed else {
        let resume = "git orchestrate run \(plan.id)"
        events(
          .subtaskStuck(
            id: subtask.id, branch: prepared.branch, workdir: prepared.workdir, attempts: prepared.attempts, resume: resume))
        try? updateUserCheckout()
        try? flushRecords()
        try? workspace?.flush()
        // The run is over: without the lock the status shows the sub-task as failed, not in progress.
        lock.release()
        let status = try status()
        events(.runFinished(status: status))
        return .stuck(subtask: subtask.id, branch: prepared.branch, workdir: prepared.workdir, status: status)
      }
      Trace.mark("land")
      events(.subtaskCompleted(id: subtask.id, commit: commit.hex, attempts: attempts, seconds: Date().timeIntervalSince(started)))
    }

    try updateUserCheckout()
    if let final = plan.finalCheckpoint {
      events(.finalCheckpointStarted)
      let outcome = try validateFinal(final)
      events(.finalCheckpoint(passed: outcome.passed))
      if !outcome.passed, let failure = outcome.failure {
        let status = try status()
        events(.runFinished(status: status))
        return .finalCheckpointFailed(failure, status)
      }
    }
    let status = try status()
    events(.runFinished(status: status))
    return .completed(status)
  }

  /// Completes a validated sub-task; `nil` (with `failure` set) when main moved and the replayed
  /// tree failed its checkpoint.
  private func land(
    _ prepared: inout PreparedSubtask, outcome: CheckpointOutcome, started: Date, failure: inout CheckpointFailure?
  ) throws -> (OID, Int)? {
    switch try complete(&prepared, outcome: outcome, duration: Date().timeIntervalSince(started)) {
    case .completed(let commit, let attempts):
      return (commit, attempts)
    case .failed(let replayed):
      failure = replayed.failure
      return nil
    }
  }

  /// Runs the plan's final checkpoint on main's last tree, in the workspace.
  func validateFinal(_ checkpoint: Checkpoint) throws -> CheckpointOutcome {
    let tip = try mainTip()
    guard let workspace else {
      // Nothing ran in this process: open the workspace on the last sub-task's branch.
      guard let last = plan.subtasks.last else { throw OrchestrateError.io("the plan has no sub-task") }
      let ref = Layout.branchRef(plan: plan.id, subtask: last)
      if try repository.resolve(ref) == nil { try repository.setReference(ref, to: tip, message: "orchestrate: final checkpoint") }
      let opened = try openWorkspace(branchRef: ref)
      try opened.switchTo(branchRef: ref, commit: try repository.resolve(ref) ?? tip, planID: plan.id)
      try opened.checkout(tree: try repository.commit(tip).tree)
      return try validate(checkpoint: checkpoint, subtaskID: "final", in: opened)
    }
    try workspace.checkout(tree: try repository.commit(tip).tree)
    return try validate(checkpoint: checkpoint, subtaskID: "final", in: workspace)
  }
}
