import Foundation
import GitKit

extension PlanSession {
  /// Runs the sub-task's work in the workspace: its `run` steps or its agent, or, after a failure,
  /// the fix agent with the seed's fix prompt.
  ///
  /// - Returns: `nil` when the work finished (the checkpoint decides next), or a failed verdict
  ///   when the agent or a step failed, in which case no checkpoint runs.
  /// - Throws: `Interrupted` on SIGINT/SIGTERM; `OrchestrateError.agentTamperedWithGit` when the
  ///   agent changed the repository's git configuration or hooks.
  public func work(_ cycle: inout SubtaskCycle, after failure: CheckpointFailure?) throws -> Verdict? {
    let subtask = cycle.subtask
    let attempt = cycle.attempts + 1
    let prompt =
      failure.map { Prompts.fix(plan: plan, subtask: subtask, failure: $0, workdir: cycle.workdir) }
      ?? Prompts.orchestration(plan: plan, subtask: subtask, workdir: cycle.workdir)
    let (worker, kind): (Worker, RunEvent.AgentKind) =
      if failure != nil { try settings.fixer(for: subtask) } else {
        try settings.worker(for: subtask).kindAsFirstAttempt
      }
    if kind != .steps { try checkBudget() }
    try FileManager.default.createDirectory(
      atPath: orchestrator.layout.logDirectory(plan: plan.id), withIntermediateDirectories: true)
    let stem = logStem(subtask, attempt: attempt, contender: cycle.contender)
    let promptFile = stem + ".prompt.md"
    let usageFiles = AttemptUsageFiles(stem: stem)
    if cycle.fresh, cycle.attempts == 0, !cycle.unrecordedWork { usageFiles.setAsideEarlierRuns() }
    // Written plainly: a prompt file needs no fsync (Foundation's write syncs).
    try Workspace.writeFile(promptFile, Data(prompt.utf8), executable: false)

    let workspace = try openedWorkspace(cycle)
    Trace.mark("agent setup")
    if kind != .steps {
      // An agent may look at `git status` and `git diff`: show it the sub-task's own changes.
      // Script steps skip this per-step cost; the index is written when the run ends.
      try workspace.flush()
      Trace.mark("flush")
    }
    try refreshGuard()
    var env = environment(cycle, attempt: attempt, promptFile: promptFile, kind: kind)
    env["ORCHESTRATE_USAGE_FILE"] = usageFiles.usageFile
    let commands: [String] =
      switch worker {
      case .steps(let steps): steps
      case .agent(let command): [command]
      }
    var agentFailure: CheckpointFailure?
    cycle.unrecordedWork = true
    cycle.acceptsHandFix = false
    for command in commands {
      events(.agentStarted(kind: kind, attempt: attempt, command: command))
      usageFiles.prepare()
      var spec = CommandSpec(
        command: command, directory: cycle.workdir, environment: env, input: Data(prompt.utf8),
        timeout: settings.timeout(for: nil), logFile: stem + ".log")
      // The user's own `run` steps are trusted; agents are not.
      spec.confinement = kind == .steps ? nil : confinement.map { confined in
        // The agent may report its usage in $ORCHESTRATE_USAGE_FILE, beside its log: that folder
        // (the plan's logs, not a record anything trusts) is writable for it.
        var confined = confined
        confined.writable.append((usageFiles.usageFile as NSString).deletingLastPathComponent)
        confined.writable += agentGitFolders(workspace)
        return confined
      }
      let events = self.events
      let result = try runCommand(spec) { events(.output($0)) }
      if let problem = usageFiles.collect() { events(.notice(problem.localizedDescription)) }
      events(.agentFinished(kind: kind, attempt: attempt, summary: result.summary, seconds: result.duration))
      if kind != .steps, let usage = usageFiles.read() { events(.agentUsage(kind: kind, attempt: attempt, usage: usage)) }
      if case .interrupted(let signal) = result.termination { throw Interrupted(signal: signal, workdir: cycle.workdir) }
      if !result.succeeded {
        agentFailure = CheckpointFailure(
          kind: kind == .steps ? .step : .agent, command: command, summary: result.summary,
          outputTail: String(result.outputTail.suffix(4000)))
        if kind != .steps, result.exitCode == 126 || result.exitCode == 127 {
          // Not installed, not executable: every attempt would end the same way.
          throw OrchestrateError.agentCannotStart(
            subtask: subtask.id, command: command, summary: result.summary, outputTail: result.outputTail)
        }
        break
      }
    }
    Trace.mark("agent")
    try checkGuard(subtask: subtask.id, by: kind == .fix ? "fix agent" : "agent")
    try workspace.restoreHead(branchRef: cycle.branchRef)
    guard let agentFailure else { return nil }
    let tree = try workspace.snapshot()
    if kind == .agent, cycle.attempts == 0, try tree == repository.commit(cycle.base).tree {
      // Its first run, nothing changed and a failure: not logged in, no model, a bad flag. Said at
      // once rather than spending the attempt budget on the same failure.
      throw OrchestrateError.agentCannotStart(
        subtask: subtask.id, command: agentFailure.command, summary: agentFailure.summary,
        outputTail: agentFailure.outputTail)
    }
    events(.checkpointFailed(agentFailure))
    return .failed(
      tree: tree, failure: agentFailure, results: [], seconds: Date().timeIntervalSince(cycle.attemptStarted))
  }

  /// What of the git directory an agent may write inside the sandbox: its work folder's own
  /// admin folder (its index, for `git add` and `git status`; aider stages the files it makes) and
  /// the object store (content-addressed: writing objects moves no ref). Refs, notes, config, hooks
  /// and `info/` stay read-only, and the guard still compares them.
  func agentGitFolders(_ workspace: Workspace) -> [String] {
    [workspace.repository.gitDirectory, repository.commonDirectory + "/objects"]
  }

  func environment(_ cycle: SubtaskCycle, attempt: Int, promptFile: String, kind: RunEvent.AgentKind) -> [String: String] {
    var env = Self.childEnvironment()
    env["ORCHESTRATE_PLAN_ID"] = plan.id
    env["ORCHESTRATE_SUBTASK_ID"] = cycle.subtask.id
    env["ORCHESTRATE_SUBTASK_ORDER"] = String(cycle.subtask.order)
    env["ORCHESTRATE_SUBTASK_TOTAL"] = String(plan.subtasks.count)
    env["ORCHESTRATE_ATTEMPT"] = String(attempt)
    env["ORCHESTRATE_BRANCH"] = cycle.branch
    env["ORCHESTRATE_WORKDIR"] = cycle.workdir
    env["ORCHESTRATE_PROMPT_FILE"] = promptFile
    env["ORCHESTRATE_KIND"] = kind.rawValue
    return env
  }
}

extension Worker {
  /// The worker with the event kind of a first attempt.
  fileprivate var kindAsFirstAttempt: (Worker, RunEvent.AgentKind) {
    switch self {
    case .steps: (self, .steps)
    case .agent: (self, .agent)
    }
  }
}
