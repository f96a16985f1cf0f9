import Foundation
import GitKit

extension PlanSession {
  /// Runs the sub-task's checkpoint on the workspace's exact tree, or takes the pass this session
  /// already ran on that tree, and records the result.
  ///
  /// Only a pass this process ran counts: the records in `refs/notes/orchestrate` are a cache for
  /// `verify` and the pre-push hook, and anyone who can write the repository (an agent with a
  /// shell, without the sandbox) can write them.
  public func check(_ cycle: SubtaskCycle) throws -> Verdict {
    let workspace = try openedWorkspace(cycle)
    try workspace.restoreHead(branchRef: cycle.branchRef)
    let tree = try workspace.snapshot()
    if let refused = refusedPaths(workspace, tree: tree) { return refused }
    if let violation = try protectedChanges(cycle, tree: tree, workspace: workspace) { return violation }
    try FileManager.default.createDirectory(
      atPath: orchestrator.layout.logDirectory(plan: plan.id), withIntermediateDirectories: true)
    return try check(
      cycle.subtask.checkpoint, subtaskID: cycle.subtask.id, in: workspace,
      log: logStem(cycle.subtask, attempt: cycle.attempts + 1, contender: cycle.contender) + ".checkpoint.log")
  }

  /// A failed verdict when the work changed a protected path (added, modified, deleted, its mode,
  /// renamed) — the tests that judge the sub-task, say — before any checkpoint runs on it. The
  /// protected files are put back as they are on the base, so the next attempt starts from them;
  /// the attempt keeps what the agent left. On a resumed branch, changes a person made by hand
  /// since the last agent attempt are accepted (the landing commit names them).
  private func protectedChanges(_ cycle: SubtaskCycle, tree: OID, workspace: Workspace) throws -> Verdict? {
    let baseTree = try repository.commit(cycle.base).tree
    let protection = try Protection(plan: plan, subtask: cycle.subtask, baseTree: baseTree, repository: repository)
    guard !protection.isEmpty else { return nil }
    var violations = protection.violations(in: try repository.diffTrees(baseTree, tree))
    guard !violations.isEmpty else { return nil }
    if cycle.acceptsHandFix {
      let agentTree = try lastAgentTree(cycle) ?? baseTree
      let byHand = Set(try repository.diffTrees(agentTree, tree).map(\.path))
      violations = violations.filter { !byHand.contains($0) }
      guard !violations.isEmpty else { return nil }
    }
    // Put the protected files back as the base has them.
    var updates: [TreeUpdate] = []
    for path in violations {
      if let entry = try repository.treeEntry(in: baseTree, path: path) {
        updates.append(TreeUpdate(path: path, action: .upsert(entry.oid, entry.mode)))
      } else {
        updates.append(TreeUpdate(path: path, action: .remove))
      }
    }
    try workspace.checkout(tree: try repository.updateTree(tree, updates))
    let failure = CheckpointFailure(
      kind: .protected, command: violations.joined(separator: ", "),
      summary: "(protected by the plan: \(protection.globs.joined(separator: ", ")))",
      outputTail: "The agent changed protected paths, which were put back as they are on \(mainName):\n"
        + violations.joined(separator: "\n") + "\nChange the code, not these files.")
    events(.checkpointFailed(failure))
    return .failed(tree: tree, failure: failure, results: [], seconds: 0)
  }

  /// The tree of the sub-task's newest failed attempt: what an agent last left.
  private func lastAgentTree(_ cycle: SubtaskCycle) throws -> OID? {
    guard let tip = try repository.resolve(cycle.branchRef) else { return nil }
    return try AttemptLog.read(
      repository: repository, from: tip, plan: plan.id, subtask: cycle.subtask.id, mainTip: try mainTip()
    ).entries.first?.commit.tree
  }

  /// `<logs>/<NN>-<id>.attempt-<N>`: the stem of an attempt's prompt, agent log and checkpoint log
  /// (`<NN>-<id>-contender-<k>.attempt-<N>` for a `best_of` sub-task's other agents).
  func logStem(_ subtask: Subtask, attempt: Int, contender: Int = 1) -> String {
    orchestrator.layout.logDirectory(plan: plan.id) + "/" + Layout.orderText(subtask.order) + "-" + subtask.id
      + (contender > 1 ? Layout.contenderSuffix(contender) : "") + ".attempt-\(attempt)"
  }

  /// A failed verdict when the work folder holds a path git refuses (`.git` or one of its HFS+/NTFS
  /// look-alikes, …): no tree can hold it, so the work cannot land as it is and no checkpoint runs.
  private func refusedPaths(_ workspace: Workspace, tree: OID) -> Verdict? {
    let refused = workspace.refusedPaths()
    guard let first = refused.first else { return nil }
    let failure = CheckpointFailure(
      kind: .path, command: first.path, summary: "is a path git refuses (\(first.problem))",
      outputTail: "git refuses these paths; remove or rename them:\n"
        + refused.map { "\($0.path): \($0.problem)" }.joined(separator: "\n"))
    events(.checkpointFailed(failure))
    return .failed(tree: tree, failure: failure, results: [], seconds: 0)
  }

  func check(_ checkpoint: Checkpoint, subtaskID: String, in workspace: Workspace, log: String? = nil) throws
    -> Verdict
  {
    let tree = try workspace.snapshot()
    Trace.mark("snapshot")
    switch ranHere[RanKey(tree: tree, commandsHash: checkpoint.commandsHash)] {
    case .passed(_, _, _, let seconds):
      events(.checkpointPassed(commands: checkpoint.commands.count, seconds: 0, cached: true))
      return .passed(tree: tree, cached: true, results: [], seconds: seconds)
    case .failed(_, let failure, let results, let seconds):
      // The same files failed these commands a moment ago: nothing changed since (a fix agent
      // that did nothing, say), so they are not run again.
      events(.notice("nothing changed since the attempt that failed; the checkpoint is not run again on the same files"))
      events(.checkpointFailed(failure))
      return .failed(tree: tree, failure: failure, results: results, seconds: seconds)
    case nil:
      break
    }
    // Checkpoints run the code the agent wrote (`pytest` imports its `conftest.py`): they are held
    // to what agents are, between two fingerprints.
    // (A parallel run compares with the session's baseline, which other jobs' landings move.)
    let before = parallel == nil ? try captureGuard() : nil
    // The checkpoint judges exactly `tree`: what the work left outside it is moved aside meanwhile.
    let aside = try workspace.moveIgnoredAside(keeping: plan.keep ?? [])
    defer { workspace.putBack(aside) }
    if !aside.paths.isEmpty {
      events(
        .notice(
          "moved aside while the checkpoint runs (not part of the tree): \(aside.paths.prefix(5).joined(separator: ", "))"
            + (aside.paths.count > 5 ? ", … (\(aside.paths.count) in all)" : "") + "; list caches it may use under keep: in the plan"))
    }
    var verdict = try runCheckpoint(checkpoint, workdir: workspace.path, tree: tree, log: log)
    Trace.mark("checkpoint commands")
    if verdict.passed {
      let after = try workspace.snapshot()
      if after != tree {
        // The checkpoint wrote files that are not ignored: validate the tree it left, once.
        verdict = try runCheckpoint(checkpoint, workdir: workspace.path, tree: after, log: log)
        let again = try workspace.snapshot()
        if verdict.passed, again != after {
          let changed = try repository.diffTrees(after, again).map(\.path).prefix(5)
          verdict = .failed(
            tree: after,
            failure: CheckpointFailure(
              command: checkpoint.commands.joined(separator: " && "), summary: "changes files every time it runs",
              outputTail: "the checkpoint keeps changing: \(changed.joined(separator: ", ")); add them to .gitignore"),
            results: verdict.results, seconds: verdict.seconds)
        }
      }
    }
    try checkGuard(since: before, subtask: subtaskID, by: "checkpoint")
    Trace.mark("snapshot after")
    ranHere[RanKey(tree: verdict.tree, commandsHash: checkpoint.commandsHash)] = verdict
    pendingRecords.append(
      (verdict.tree, CheckpointCache.makeRecord(plan: plan.id, subtask: subtaskID, checkpoint: checkpoint, verdict: verdict)))
    if !batchRecords || pendingRecords.count >= 50 { try flushRecords() }
    try refreshGuard()
    Trace.mark("record note")
    switch verdict {
    case .passed(_, _, _, let seconds):
      events(.checkpointPassed(commands: checkpoint.commands.count, seconds: seconds, cached: false))
    case .failed(_, let failure, _, _):
      events(.checkpointFailed(failure))
    }
    return verdict
  }

  /// Runs every command of `checkpoint` in `workdir`, in order, stopping at the first that fails;
  /// their whole output is appended to `log` when given.
  func runCheckpoint(_ checkpoint: Checkpoint, workdir: String, tree: OID, log: String? = nil) throws -> Verdict {
    var results: [CommandReport] = []
    let started = Date()
    var env = Self.childEnvironment()
    env["ORCHESTRATE_PLAN_ID"] = plan.id
    env["ORCHESTRATE_WORKDIR"] = workdir
    let timeout = settings.timeout(for: checkpoint)
    for command in checkpoint.commands {
      events(.checkpointCommandStarted(command: command))
      let events = self.events
      var spec = CommandSpec(command: command, directory: workdir, environment: env, input: nil, timeout: timeout, logFile: log)
      spec.confinement = confinement?.forCheckpoints
      let result = try runCommand(spec) { events(.output($0)) }
      let report = CommandReport(result)
      results.append(report)
      events(.checkpointCommandFinished(report))
      if case .interrupted(let signal) = result.termination { throw Interrupted(signal: signal, workdir: workdir) }
      if !result.succeeded {
        return .failed(
          tree: tree, failure: CheckpointFailure(command: command, summary: result.summary, outputTail: report.outputTail),
          results: results, seconds: Date().timeIntervalSince(started))
      }
    }
    return .passed(tree: tree, cached: false, results: results, seconds: Date().timeIntervalSince(started))
  }

  /// Writes the batched checkpoint results to `refs/notes/orchestrate` in one notes commit.
  public func flushRecords() throws {
    guard !pendingRecords.isEmpty else { return }
    try cache.record(pendingRecords)
    pendingRecords = []
    try refreshGuard()
  }
}
