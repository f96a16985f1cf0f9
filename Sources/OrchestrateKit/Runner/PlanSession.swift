import Foundation
import GitKit

/// Options of a run; each overrides the plan, which overrides `git config orchestrate.*`.
public struct RunOptions: Sendable {
  public var agent: String?
  public var fixAgent: String?
  public var maxAttempts: Int?
  public var timeout: TimeInterval?
  /// Find changes with a file-system watch (falls back to a full scan whenever it cannot tell).
  public var useWatcher = true
  /// What holds the lock, for the message another process gets.
  public var command = "run"
  /// `--sandbox`; nil means `git config orchestrate.sandbox`, else auto.
  public var sandbox: Confinement.Setting?

  public init(agent: String? = nil, fixAgent: String? = nil, maxAttempts: Int? = nil, timeout: TimeInterval? = nil) {
    self.agent = agent
    self.fixAgent = fixAgent
    self.maxAttempts = maxAttempts
    self.timeout = timeout
  }
}

/// A sub-task made ready for work: its branch exists and the workspace holds it.
public struct PreparedSubtask: Sendable {
  public let subtask: Subtask
  public let branch: String
  public let branchRef: String
  public let workdir: String
  /// The main commit the sub-task builds on.
  public internal(set) var base: OID
  /// Failed attempts already recorded on the branch.
  public internal(set) var attempts: Int
  /// True when nothing has been done on the sub-task yet.
  public let fresh: Bool
  /// Seconds spent on recorded attempts (from their trailers).
  public internal(set) var spent: Double
  /// A commit that already passed and was made for main, when a run stopped just before moving main.
  public internal(set) var landing: OID?
}

/// The result of trying to land a validated sub-task on main.
public enum Completion: Sendable {
  case completed(commit: OID, attempts: Int)
  /// Main moved and the replayed tree failed its checkpoint.
  case failed(CheckpointOutcome)
}

/// One plan worked on by one process: holds the repository lock, the workspace, and the steps
/// both `run` and the MCP server are made of (prepare, run an agent, validate, record, complete).
public final class PlanSession {
  public let orchestrator: Orchestrator
  public let stored: StoredPlan
  public var plan: Plan { stored.plan }
  public let options: RunOptions
  public let mainName: String
  public var mainRef: String { "refs/heads/" + mainName }
  let lock: RepositoryLock
  let processRunner = ProcessRunner()
  /// The sandbox agents and checkpoints run in (nil: none), resolved once when the session starts.
  let confinement: Confinement?
  var workspace: Workspace?
  var userCheckout: UserCheckout?
  private var historyCache: History?
  var events: @Sendable (RunEvent) -> Void
  var repository: Repository { orchestrator.repository }
  var cache: CheckpointCache { CheckpointCache(repository: repository) }
  /// Checkpoint results not yet written to the notes ref (written in batches, and when the session closes).
  private var pendingRecords: [(tree: OID, record: CheckpointRecord)] = []
  /// `run` batches checkpoint results; the MCP server (one step per call) writes each at once.
  var batchRecords = false

  /// Takes the repository lock for this plan.
  /// - Throws: `OrchestrateError.locked` when another process works in the repository.
  public init(
    orchestrator: Orchestrator, plan stored: StoredPlan, options: RunOptions = RunOptions(),
    events: @escaping @Sendable (RunEvent) -> Void = { _ in }
  ) throws {
    self.orchestrator = orchestrator
    self.stored = stored
    self.options = options
    self.events = events
    mainName = try orchestrator.mainBranch(for: stored.plan)
    if let workdir = orchestrator.repository.workingDirectory,
      (workdir + "/").hasPrefix(orchestrator.layout.stateDirectory + "/")
    {
      throw OrchestrateError.invalidArgument(
        "this is git orchestrate's own working directory; run git orchestrate from your checkout of the repository")
    }
    confinement = try Self.resolveConfinement(flag: options.sandbox, repository: orchestrator.repository, events: events)
    lock = RepositoryLock(path: orchestrator.layout.lockPath)
    try lock.acquire(plan: stored.plan.id, command: options.command)
    if lock.recoveredStale {
      RepositoryLock.removeStaleGitLocks(
        layout: orchestrator.layout, deadRunStarted: lock.staleHolderStarted, mainRef: "refs/heads/" + mainName,
        userGitDirectory: orchestrator.repository.workingDirectory == nil ? nil : orchestrator.repository.gitDirectory)
    }
  }

  deinit { close() }

  /// Writes the workspace's index, brings the user's checkout up to date, and releases the lock.
  public func close() {
    if lock.isHeld {
      try? flushRecords()
      try? workspace?.flush()
    }
    lock.release()
  }

  // MARK: - Reading

  public func mainTip() throws -> OID {
    guard let tip = try repository.resolve(mainRef) else { throw OrchestrateError.mainBranchMissing(mainName) }
    return tip
  }

  /// What main's history says about the plan, read incrementally: only the commits added to main
  /// since the last call are walked, so a long plan costs the same per sub-task as a short one.
  func history() throws -> History {
    guard let tip = try repository.resolve(mainRef) else { return History() }
    if let cached = historyCache,
      let extended = try cached.extended(to: tip, repository: repository, planID: plan.id, base: stored.base)
    {
      historyCache = extended
      return extended
    }
    let fresh = try History.read(
      repository: repository, mainRef: mainRef, planID: plan.id, base: stored.base, expected: plan.subtasks.count)
    historyCache = fresh
    return fresh
  }

  /// The first sub-task, in order, whose commit is not on main's first-parent history.
  public func nextSubtask() throws -> Subtask? {
    let done = try history().completions
    return plan.subtasks.first { done[$0.id] == nil }
  }

  public func status() throws -> PlanStatus { try orchestrator.status(stored) }

  // MARK: - Preparing

  /// Creates (or reuses) the sub-task's branch and points the workspace at it.
  ///
  /// Idempotent: preparing the prepared sub-task again changes nothing.
  /// - Parameter keepingWork: when the workspace is already on the sub-task's branch, keep what its
  ///   working directory holds instead of resetting it to the branch: an agent's work in progress,
  ///   or a hand fix made there after a stop (also across restarts of the MCP server).
  public func prepare(_ subtask: Subtask, keepingWork: Bool = true) throws -> PreparedSubtask {
    guard let next = try nextSubtask() else {
      throw OrchestrateError.outOfOrder(plan: plan.id, subtask: subtask.id, next: nil)
    }
    guard next.id == subtask.id else {
      if try history().completions[subtask.id] != nil {
        throw OrchestrateError.alreadyCompleted(plan: plan.id, subtask: subtask.id)
      }
      throw OrchestrateError.outOfOrder(plan: plan.id, subtask: subtask.id, next: next.id)
    }
    let tip = try mainTip()
    if userCheckout == nil { userCheckout = try UserCheckout(repository: repository, mainRef: mainRef, mainTip: tip) }
    if let user = userCheckout, !user.caughtUp {
      // A previous run may have stopped before the checkout caught up; later sub-tasks are
      // written to it when the run ends.
      user.caughtUp = true
      if user.syncedTo != tip {
        let count = try user.update(to: tip)
        if count > 0 { events(.checkoutUpdated(files: count)) }
      }
      try user.finish()
    }
    let branchRef = Layout.branchRef(plan: plan.id, subtask: subtask)
    let branch = Layout.branchName(plan: plan.id, subtask: subtask)
    var branchTip = try repository.resolve(branchRef)
    if branchTip == nil {
      try repository.updateReference(branchRef, to: tip, expected: nil, message: "orchestrate: start \(subtask.id)")
      branchTip = tip
    }
    guard let branchTip else { throw OrchestrateError.io("cannot create \(branch)") }
    let base = try repository.mergeBase(branchTip, tip) ?? tip

    Trace.mark(" prepare: refs")
    let workspace = try openWorkspace(branchRef: branchRef)
    Trace.mark(" prepare: open workspace")
    try workspace.switchTo(branchRef: branchRef, commit: branchTip, planID: plan.id, keepingWork: keepingWork)
    Trace.mark(" prepare: switch")
    for notice in workspace.takeNotices() { events(.notice(notice)) }

    var attempts = 0
    var spent = 0.0
    try repository.walkFirstParents(from: branchTip, stop: base) { commit in
      if commit.trailer(Trailers.result)?.hasPrefix("failed") == true {
        attempts += 1
        spent += commit.trailer(Trailers.duration).flatMap(Trailers.parseSeconds) ?? 0
      }
      return true
    }
    let tree = try workspace.knownTree()
    let baseTree = try repository.commit(base).tree
    let fresh = branchTip == base && tree == baseTree
    var landing: OID?
    let tipCommit = try repository.commit(branchTip)
    if tipCommit.parents == [tip], tipCommit.tree == tree, tipCommit.trailer(Trailers.checkpoint)?.hasPrefix("passed") == true,
      tipCommit.trailer(Trailers.plan) == plan.id
    {
      landing = branchTip
      attempts = max(0, (Int(tipCommit.trailer(Trailers.attempts) ?? "") ?? 1) - 1)
    }
    return PreparedSubtask(
      subtask: subtask, branch: branch, branchRef: branchRef, workdir: workspace.path, base: landing == nil ? base : tip,
      attempts: attempts, fresh: fresh, spent: spent, landing: landing)
  }

  func openWorkspace(branchRef: String) throws -> Workspace {
    if let workspace {
      do {
        try workspace.checkIntact()
        return workspace
      } catch {
        events(.notice("the working directory \(workspace.path) was removed; recreating it from the branch"))
        self.workspace = nil
      }
    }
    let created = try Workspace.open(
      main: repository, layout: orchestrator.layout, planID: plan.id, branchRef: branchRef,
      useWatcher: options.useWatcher)
    workspace = created
    return created
  }

  // MARK: - Agents

  /// The timeout for an agent run or checkpoint command: the flag, then the checkpoint's or plan's, then config.
  func timeout(checkpoint: Checkpoint?) throws -> TimeInterval? {
    if let flag = options.timeout { return flag }
    if let value = checkpoint?.timeout { return value }
    if let value = plan.timeout { return value }
    if let text = try repository.configString("orchestrate.timeout") {
      guard let value = Durations.parse(text) else {
        throw OrchestrateError.invalidArgument("git config orchestrate.timeout '\(text)' is not a duration such as 10m, 90s or 1h")
      }
      return value
    }
    return checkpoint == nil ? 3600 : 600
  }

  /// The first configured agent among `candidates` (flag, sub-task, plan, config) as a command
  /// line; `nil` when none is set or the choice is `script` (the sub-task's own steps).
  func agentCommand(candidates: [String?]) throws -> String? {
    for case let value? in candidates where !value.isEmpty {
      if value == AgentPreset.script.rawValue { return nil }
      guard let command = AgentPreset.resolve(value) else {
        throw OrchestrateError.invalidArgument(
          "unknown agent preset '\(value)'; use one of claude, aider, openhands, or a command such as './my-agent.sh'")
      }
      return command
    }
    return nil
  }

  /// This process's environment less the variables that would point git at another repository
  /// (set, for example, when git runs us from a hook), so git in the working directory finds it.
  static func childEnvironment() -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for key in [
      "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
      "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_QUARANTINE_PATH",
    ] {
      env[key] = nil
    }
    return env
  }

  func environment(_ prepared: PreparedSubtask, attempt: Int, promptFile: String, kind: RunEvent.AgentKind) -> [String: String] {
    var env = Self.childEnvironment()
    env["ORCHESTRATE_PLAN_ID"] = plan.id
    env["ORCHESTRATE_SUBTASK_ID"] = prepared.subtask.id
    env["ORCHESTRATE_SUBTASK_ORDER"] = String(prepared.subtask.order)
    env["ORCHESTRATE_SUBTASK_TOTAL"] = String(plan.subtasks.count)
    env["ORCHESTRATE_ATTEMPT"] = String(attempt)
    env["ORCHESTRATE_BRANCH"] = prepared.branch
    env["ORCHESTRATE_WORKDIR"] = prepared.workdir
    env["ORCHESTRATE_PROMPT_FILE"] = promptFile
    env["ORCHESTRATE_KIND"] = kind.rawValue
    return env
  }

  /// Runs the agent (or the sub-task's `run` steps, or the fix agent after a failure) in the workspace.
  /// - Returns: `nil` on success, else why the attempt failed.
  public func runAgent(_ prepared: PreparedSubtask, attempt: Int, after failure: CheckpointFailure?) throws -> CheckpointFailure? {
    let subtask = prepared.subtask
    let isFix = failure != nil
    let prompt =
      failure.map { Prompts.fix(plan: plan, subtask: subtask, failure: $0, workdir: prepared.workdir) }
      ?? Prompts.orchestration(plan: plan, subtask: subtask, workdir: prepared.workdir)
    let logs = orchestrator.layout.logDirectory(plan: plan.id)
    try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
    let stem = logs + "/" + String(format: "%02d", subtask.order) + "-" + subtask.id + ".attempt-\(attempt)"
    let promptFile = stem + ".prompt.md"
    try Data(prompt.utf8).write(to: URL(fileURLWithPath: promptFile))

    var commands: [String]
    var kind: RunEvent.AgentKind
    if !isFix, !subtask.run.isEmpty {
      commands = subtask.run
      kind = .steps
    } else if isFix, let fixer = try agentCommand(candidates: [options.fixAgent, plan.fixAgent, try repository.configString("orchestrate.fixAgent")]) {
      commands = [fixer]
      kind = .fix
    } else if isFix, !subtask.run.isEmpty {
      commands = subtask.run
      kind = .steps
    } else if let agent = try agentCommand(candidates: [options.agent, subtask.agent, plan.agent, try repository.configString("orchestrate.agent")]) {
      commands = [agent]
      kind = isFix ? .fix : .agent
    } else {
      throw OrchestrateError.invalidArgument(
        "sub-task '\(subtask.id)' has no run steps and no agent is configured; pass --agent claude (or aider, openhands, a command), or set 'git config orchestrate.agent'")
    }
    guard let workspace else { throw OrchestrateError.io("the workspace is not prepared") }
    Trace.mark("agent setup")
    if kind != .steps {
      // An agent may look at `git status` and `git diff`: show it the sub-task's own changes.
      // Script steps skip this per-step cost; the index is written when the run ends.
      try workspace.flush()
      Trace.mark("flush")
    }
    let env = environment(prepared, attempt: attempt, promptFile: promptFile, kind: kind)
    let timeout = try timeout(checkpoint: nil)
    for command in commands {
      events(.agentStarted(kind: kind, attempt: attempt, command: command))
      var spec = CommandSpec(
        command: command, directory: prepared.workdir, environment: env, input: Data(prompt.utf8), timeout: timeout,
        logFile: stem + ".log")
      // `run:` steps are the plan author's own commands; agents are confined.
      spec.confinement = kind == .steps ? nil : confinement
      let events = self.events
      let result = try processRunner.run(spec) { events(.output($0)) }
      events(.agentFinished(kind: kind, attempt: attempt, summary: result.summary, seconds: result.duration))
      if case .interrupted(let signal) = result.termination { throw Interrupted(signal: signal) }
      if !result.succeeded {
        return CheckpointFailure(
          command: command, summary: (kind == .steps ? "step " : "agent ") + result.summary,
          outputTail: String(result.outputTail.suffix(4000)))
      }
    }
    return nil
  }

  // MARK: - Checkpoint

  /// Runs the sub-task's checkpoint on the workspace's exact tree (or takes the record of a pass on
  /// that tree), and records the result.
  public func validate(_ prepared: PreparedSubtask) throws -> CheckpointOutcome {
    guard let workspace else { throw OrchestrateError.io("the workspace is not prepared") }
    try workspace.restoreHead(branchRef: prepared.branchRef)
    return try validate(checkpoint: prepared.subtask.checkpoint, subtaskID: prepared.subtask.id, in: workspace)
  }

  func validate(checkpoint: Checkpoint, subtaskID: String, in workspace: Workspace) throws -> CheckpointOutcome {
    var tree = try workspace.snapshot()
    Trace.mark("snapshot")
    let pending = CheckpointRecord.latest(
      pendingRecords.filter { $0.tree == tree }.map(\.record), commandsHash: checkpoint.commandsHash)
    if let record = try pending ?? cache.lookup(tree: tree, commandsHash: checkpoint.commandsHash), record.passed {
      events(.checkpointPassed(commands: checkpoint.commands.count, seconds: 0, cached: true))
      return CheckpointOutcome(tree: tree, passed: true, cached: true, results: [], failure: nil, duration: 0)
    }
    var outcome = try runCheckpoint(checkpoint, workdir: workspace.path, tree: tree, subtaskID: subtaskID)
    Trace.mark("checkpoint commands")
    if outcome.passed {
      let after = try workspace.snapshot()
      if after != tree {
        // The checkpoint wrote files that are not ignored: validate the tree it left, once.
        tree = after
        outcome = try runCheckpoint(checkpoint, workdir: workspace.path, tree: tree, subtaskID: subtaskID)
        if outcome.passed, try workspace.snapshot() != tree {
          let changed = try repository.diffTrees(tree, try workspace.snapshot()).map(\.path).prefix(5)
          outcome.passed = false
          outcome.failure = CheckpointFailure(
            command: checkpoint.commands.joined(separator: " && "), summary: "changes files every time it runs",
            outputTail: "the checkpoint keeps changing: \(changed.joined(separator: ", ")); add them to .gitignore")
        }
      }
    }
    Trace.mark("snapshot after")
    pendingRecords.append(
      (outcome.tree, CheckpointCache.makeRecord(plan: plan.id, subtask: subtaskID, checkpoint: checkpoint, outcome: outcome)))
    if !batchRecords || pendingRecords.count >= 50 { try flushRecords() }
    Trace.mark("record note")
    if outcome.passed {
      events(.checkpointPassed(commands: checkpoint.commands.count, seconds: outcome.duration, cached: false))
    } else if let failure = outcome.failure {
      events(.checkpointFailed(failure))
    }
    return outcome
  }

  func runCheckpointCommands(_ checkpoint: Checkpoint, workdir: String, tree: OID) throws -> CheckpointOutcome {
    var results: [CommandReport] = []
    let started = Date()
    var env = Self.childEnvironment()
    env["ORCHESTRATE_PLAN_ID"] = plan.id
    env["ORCHESTRATE_WORKDIR"] = workdir
    let timeout = try timeout(checkpoint: checkpoint)
    for command in checkpoint.commands {
      events(.checkpointCommandStarted(command: command))
      let events = self.events
      var spec = CommandSpec(command: command, directory: workdir, environment: env, input: nil, timeout: timeout, logFile: nil)
      spec.confinement = confinement
      let result = try processRunner.run(spec) { events(.output($0)) }
      let report = CommandReport(result)
      results.append(report)
      events(.checkpointCommandFinished(report))
      if case .interrupted(let signal) = result.termination { throw Interrupted(signal: signal) }
      if !result.succeeded {
        return CheckpointOutcome(
          tree: tree, passed: false, cached: false, results: results,
          failure: CheckpointFailure(command: command, summary: result.summary, outputTail: report.outputTail),
          duration: Date().timeIntervalSince(started))
      }
    }
    return CheckpointOutcome(
      tree: tree, passed: true, cached: false, results: results, failure: nil, duration: Date().timeIntervalSince(started))
  }

  // MARK: - Recording

  /// Commits a failed attempt on the sub-task's branch with what failed, so nothing is lost and the
  /// fix agent starts from it.
  @discardableResult
  public func recordAttempt(_ prepared: inout PreparedSubtask, tree: OID, failure: CheckpointFailure, duration: TimeInterval) throws -> OID {
    let parent = try repository.resolve(prepared.branchRef) ?? prepared.base
    let number = prepared.attempts + 1
    let changes = try repository.diffTrees(try repository.commit(prepared.base).tree, tree)
    let message = CommitMessage.attempt(
      plan: plan, subtask: prepared.subtask, attempt: number, failure: failure, changes: changes, duration: duration)
    let signature = repository.defaultSignature()
    // An agent may have committed on the branch itself; its commits are folded into this one.
    let parents = try repository.isAncestor(prepared.base, of: parent) ? [parent] : [prepared.base]
    let commit = try repository.createCommit(
      tree: tree, parents: parents, message: message, author: signature, committer: signature)
    try repository.setReference(prepared.branchRef, to: commit, message: "orchestrate: attempt \(number) failed")
    prepared.attempts = number
    prepared.spent += duration
    events(.attemptRecorded(attempt: number, commit: commit.hex, branch: prepared.branch))
    return commit
  }

  /// Lands a validated tree on main: one commit on the branch, then a compare-and-swap of main. If
  /// main moved meanwhile the change is replayed onto the new tip and validated again first.
  public func complete(_ prepared: inout PreparedSubtask, outcome: CheckpointOutcome, duration: TimeInterval) throws -> Completion {
    var outcome = outcome
    precondition(outcome.passed)
    if let landing = prepared.landing, try mainTip() == prepared.base {
      // The commit was made and validated before the run stopped: only main is left to move.
      do {
        try userCheckout?.markPending()
        try repository.updateReference(mainRef, to: landing, expected: prepared.base, message: "orchestrate: \(prepared.subtask.id)")
        return .completed(commit: landing, attempts: prepared.attempts + 1)
      } catch let error as RepositoryError {
        guard case .referenceConflict = error else { throw error }
      }
    }
    while true {
      let tip = try mainTip()
      if tip != prepared.base {
        if try history().completions[prepared.subtask.id] != nil {
          throw OrchestrateError.alreadyCompleted(plan: plan.id, subtask: prepared.subtask.id)
        }
        events(.mainMoved(from: prepared.base.hex, to: tip.hex))
        let ancestor = try repository.commit(prepared.base).tree
        let ours = try repository.commit(tip).tree
        switch try repository.mergeTrees(ancestor: ancestor, ours: ours, theirs: outcome.tree) {
        case .conflicts(let paths):
          // Keep the validated work on the branch the message names, so a rebase by hand starts from it.
          let failure = CheckpointFailure(
            command: "replay onto \(mainName)", summary: "conflicts with the new \(mainName)",
            outputTail: paths.joined(separator: "\n"))
          try recordAttempt(&prepared, tree: outcome.tree, failure: failure, duration: duration)
          throw OrchestrateError.replayConflict(subtask: prepared.subtask.id, paths: paths, branch: prepared.branch)
        case .clean(let merged):
          guard let workspace else { throw OrchestrateError.io("the workspace is not prepared") }
          try workspace.checkout(tree: merged)
          prepared.base = tip
          outcome = try validate(prepared)
          if !outcome.passed { return .failed(outcome) }
          continue
        }
      }
      Trace.mark(" land: main tip")
      let attempts = prepared.attempts + 1
      let changes = try repository.diffTrees(try repository.commit(prepared.base).tree, outcome.tree)
      Trace.mark(" land: diff")
      let checkpointSeconds = outcome.duration
      let message = CommitMessage.completion(
        plan: plan, subtask: prepared.subtask, changes: changes, attempts: attempts,
        commands: prepared.subtask.checkpoint.commands.count, checkpointSeconds: checkpointSeconds,
        duration: prepared.spent + duration)
      let signature = repository.defaultSignature()
      let commit = try repository.createCommit(
        tree: outcome.tree, parents: [prepared.base], message: message, author: signature, committer: signature)
      Trace.mark(" land: commit")
      if let user = userCheckout {
        let conflicting = try user.conflicts(changes, target: commit)
        Trace.mark(" land: user conflicts")
        if !conflicting.isEmpty { throw OrchestrateError.dirtyCheckout(files: conflicting, branch: mainName) }
        try user.markPending()
      }
      if let oldTip = try repository.resolve(prepared.branchRef), oldTip != prepared.base {
        try repository.setReference(
          Layout.attemptsRef(plan: plan.id, subtask: prepared.subtask), to: oldTip, message: "orchestrate: attempts")
      }
      Trace.mark(" land: mark pending")
      try repository.setReference(prepared.branchRef, to: commit, message: "orchestrate: checkpoint passed")
      Trace.mark(" land: branch ref")
      do {
        try repository.updateReference(mainRef, to: commit, expected: prepared.base, message: "orchestrate: \(prepared.subtask.id)")
      } catch let error as RepositoryError {
        if case .referenceConflict = error { continue }
        throw error
      }
      Trace.mark(" land: main ref")
      if outcome.tree == (try? workspace?.snapshot()) {
        try workspace?.restoreHead(branchRef: prepared.branchRef)
      }
      return .completed(commit: commit, attempts: attempts)
    }
  }

  /// Writes the batched checkpoint results to `refs/notes/orchestrate` in one notes commit.
  public func flushRecords() throws {
    guard !pendingRecords.isEmpty else { return }
    try cache.record(pendingRecords)
    pendingRecords = []
  }

  /// Brings the user's checkout (when it is on main) up to main's tip.
  public func updateUserCheckout() throws {
    let tip = try mainTip()
    // A run with nothing left to prepare still owes the checkout what an earlier, stopped run landed.
    if userCheckout == nil { userCheckout = try UserCheckout(repository: repository, mainRef: mainRef, mainTip: tip) }
    guard let user = userCheckout else { return }
    let count: Int
    do {
      count = try user.update(to: tip)
    } catch let error as GitError where error.isLocked {
      throw OrchestrateError.io(
        "main has the new sub-task commits, but your checkout could not be brought up to date: its index is locked (\(repository.gitDirectory)/index.lock); another git command is running, or one crashed. Remove the lock if no git is running, then run 'git orchestrate run \(plan.id)' again to update your checkout")
    }
    try user.finish()
    if count > 0 { events(.checkoutUpdated(files: count)) }
  }
}

/// The run was interrupted by SIGINT or SIGTERM; state is saved and `run` resumes it.
public struct Interrupted: Error, LocalizedError {
  public let signal: Int32
  public var errorDescription: String? {
    "interrupted by signal \(signal); the sub-task's work is kept on its branch: run the same command again to resume"
  }
}
