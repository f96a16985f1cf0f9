import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a plan's remaining sub-tasks, one at a time, each validated before the next.",
      discussion: """
        FILE is added as a plan if new; with one stored plan the argument may be left out. Run it \
        again to resume: completed sub-tasks are skipped, a sub-task with a branch continues from \
        the branch as it is (a fix made there by hand included).
        """)

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: ArgumentHelp("A plan file (YAML or JSON) or a stored plan's id.", valueName: "file-or-plan-id"))
    var plan: String?

    @Option(help: ArgumentHelp("The agent: a preset (claude, aider, openhands) or a command.", valueName: "cmd|preset"))
    var agent: String?

    @Option(help: ArgumentHelp("The agent that fixes a failed checkpoint.", valueName: "cmd|preset"))
    var fixAgent: String?

    @Option(help: "Attempts per sub-task, the first included (default 3).")
    var maxAttempts: Int?

    @Option(help: ArgumentHelp("Limit per agent run and per checkpoint command, e.g. 10m, 90s, 1h.", valueName: "duration"))
    var timeout: String?

    @Option(help: ArgumentHelp("Stop before an agent starts once the plan's agents reported this much, in US dollars (overrides max_cost and orchestrate.maxCost).", valueName: "usd"))
    var budget: String?

    @Flag(help: "Write JSON-lines events on standard output instead of the terminal view.")
    var json = false

    @Flag(help: .hidden)
    var noWatch = false

    func validate() throws {
      if let maxAttempts, maxAttempts < 1 || maxAttempts > 100 {
        throw ValidationError("--max-attempts must be between 1 and 100 (got \(maxAttempts))")
      }
      if let budget, Budget.parse(budget) == nil {
        throw ValidationError("--budget '\(budget)' is not an amount of US dollars such as 5.00")
      }
      if let timeout, Durations.parse(timeout) == nil {
        throw ValidationError("--timeout '\(timeout)' is not a duration such as 10m, 90s or 1h")
      }
      for value in [agent, fixAgent].compactMap({ $0 }) where AgentPreset(rawValue: value) == nil && AgentPreset.resolve(value) == nil {
        throw ValidationError(
          "unknown agent preset '\(value)'; use one of claude, aider, openhands, or a command such as './my-agent.sh'")
      }
    }

    func run() throws {
      InterruptMonitor.shared.install()
      let orchestrator = try repository.orchestrator()
      let stored = try orchestrator.resolvePlan(plan)
      var options = RunOptions(
        agent: agent, fixAgent: fixAgent, maxAttempts: maxAttempts, timeout: timeout.flatMap(Durations.parse))
      options.useWatcher = !noWatch
      options.budget = budget.flatMap(Budget.parse)
      let renderer = RunRenderer(json: json)
      let session = try PlanSession(orchestrator: orchestrator, plan: stored, options: options) { renderer.render($0) }
      defer { session.close() }
      let outcome: RunOutcome
      do {
        outcome = try session.run()
      } catch let error as Interrupted {
        renderer.interrupted(error, plan: stored.plan.id)
        throw error
      }
      if case .finalCheckpointFailed(let failure, _) = outcome {
        renderer.finalFailed(failure)
      }
      if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
  }
}

/// Renders run events as the seed's terminal view, or as JSON lines.
final class RunRenderer: Sendable {
  let json: Bool
  /// Events arrive from the output threads of commands too: one at a time, in order.
  private let subtaskTotal = LockedBox(0)

  init(json: Bool) {
    self.json = json
  }

  func render(_ event: RunEvent) {
    subtaskTotal.withLock { total in render(event, subtaskTotal: &total) }
  }

  private func render(_ event: RunEvent, subtaskTotal: inout Int) {
    if json {
      emit(jsonLine(event.json))
      return
    }
    switch event {
    case .runStarted(let plan, let total, let completed, let main):
      subtaskTotal = total
      emit(Style.bold("Plan \(plan): \(total) sub-tasks, \(completed) completed, landing on \(main)"))
    case .notice(let text):
      emit(Style.yellow("note: ") + text)
    case .subtaskStarted(let order, let total, let id, let description, let branch, let workdir, let resumed):
      emit("")
      emit(Style.bold("\(resumed ? "Resuming" : "Starting") sub-task \(order)/\(total): \(description.isEmpty ? id : description)"))
      emit(Style.dim("  branch \(branch)\n  working directory \(workdir)"))
    case .agentStarted(let kind, let attempt, let command):
      let what =
        switch kind {
        case .agent: "agent"
        case .fix: "fix agent"
        case .steps: "step"
        }
      let lines = command.split(separator: "\n", omittingEmptySubsequences: true)
      let shown = (lines.first.map(String.init) ?? command) + (lines.count > 1 ? " …" : "")
      emit("→ Running \(what) (attempt \(attempt)): \(shown)")
    case .output(let data):
      FileHandle.standardOutput.write(data)
    case .agentFinished:
      break
    case .agentUsage(_, _, let usage):
      emit(Style.dim("  agent usage: " + usage.summary))
    case .checkpointCommandStarted(let command):
      let lines = command.split(separator: "\n", omittingEmptySubsequences: true)
      emit("→ Checkpoint: " + (lines.first.map(String.init) ?? command) + (lines.count > 1 ? " …" : ""))
    case .checkpointCommandFinished:
      break
    case .checkpointPassed(let commands, let seconds, let cached):
      if cached {
        emit(Style.green("Checkpoint: ✅ passed (recorded for this exact tree; no command run)"))
      } else {
        emit(Style.green("Checkpoint: ✅ passed (\(commands) command\(commands == 1 ? "" : "s"), \(Durations.format(seconds)))"))
      }
    case .checkpointFailed(let failure):
      emit(Style.red("❌ Checkpoint failed: \(failure.command) \(failure.summary)"))
      let tail = failure.outputTail.split(separator: "\n").suffix(10)
      for line in tail { emit(Style.dim("   │ " + line)) }
    case .attemptRecorded(let attempt, let commit, let branch):
      emit(Style.dim("  attempt \(attempt) kept on \(branch) (\(commit.prefix(10)))"))
    case .mainMoved(let from, let to):
      emit(Style.yellow("main moved from \(from.prefix(10)) to \(to.prefix(10)); replaying the sub-task onto it and validating again"))
    case .subtaskCompleted(let id, let commit, let attempts, let seconds):
      emit(
        Style.green(
          "✅ Sub-task \(id) complete (\(attempts) attempt\(attempts == 1 ? "" : "s"), \(Durations.format(seconds))) → \(commit.prefix(10))"))
    case .subtaskStuck(let id, let branch, let workdir, let attempts, let resume):
      emit("")
      emit(Style.red("⚠️ CHECKPOINT STILL FAILING - manual intervention needed"))
      emit("  Sub-task: \(id) (\(attempts) failed attempt\(attempts == 1 ? "" : "s"), each kept on the branch)")
      emit("  Branch: \(branch)")
      emit("  Working directory: \(workdir)")
      emit("  Fix it there (or on the branch), then resume with: \(resume)")
    case .finalCheckpointStarted:
      emit("")
      emit(Style.bold("Final validation on main's last tree"))
    case .finalCheckpoint(let passed):
      emit(passed ? Style.green("Final validation: ✅ passed") : Style.red("Final validation: ❌ failed"))
    case .checkoutUpdated(let files):
      emit(Style.dim("your checkout was brought up to date (\(files) file\(files == 1 ? "" : "s"))"))
    case .runFinished(let status):
      emit("")
      emit(ProgressBox(status).rendered)
    }
  }

  func interrupted(_ interruption: Interrupted, plan: String) {
    if json {
      var event: [String: Any] = [
        "event": "interrupted", "signal": interruption.signal, "resume": "git orchestrate run \(plan)",
      ]
      if let workdir = interruption.workdir { event["workdir"] = workdir }
      emit(jsonLine(event))
    } else {
      emit(Style.yellow("\nInterrupted: \(interruption.whereTheWorkIs); resume with: git orchestrate run \(plan)"))
    }
  }

  func finalFailed(_ failure: CheckpointFailure) {
    if !json { emit(Style.red("❌ Final checkpoint failed: \(failure.command) \(failure.summary)")) }
  }
}
