import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "run",
      abstract: "Run a plan's remaining sub-tasks, one at a time, each validated before the next.",
      discussion: """
        FILE is added as a plan if new; with one stored plan the argument may be left out. Run it \
        again to resume: completed sub-tasks are skipped, a sub-task with a branch continues from \
        the branch as it is (a fix made there by hand included).
        """)

    @OptionGroup var repository: RepositoryOptions

    @Argument(
      help: ArgumentHelp("A plan file (YAML or JSON) or a stored plan's id.", valueName: "file-or-plan-id"),
      completion: .custom(Completions.planFilesOrIDs))
    var plan: String?

    @Option(
      help: ArgumentHelp(
        "The agent: a preset (claude, aider, openhands, script: only the sub-task's run steps) or a command.",
        valueName: "cmd|preset"))
    var agent: String?

    @Option(help: ArgumentHelp("The agent that fixes a failed checkpoint.", valueName: "cmd|preset"))
    var fixAgent: String?

    @Option(help: "Attempts per sub-task, the first included (default 3).")
    var maxAttempts: Int?

    @Option(
      help: ArgumentHelp("Limit per agent run and per checkpoint command, e.g. 10m, 90s, 1h.", valueName: "duration"))
    var timeout: String?

    @Option(
      help: ArgumentHelp(
        "Run agents and checkpoints in a bubblewrap sandbox: auto, on or off (default: git config orchestrate.sandbox, else auto).",
        valueName: "auto|on|off"))
    var sandbox: String?
    @Option(
      help: ArgumentHelp(
        "Stop before an agent starts once the plan's agents reported this much, in US dollars (overrides max_cost and orchestrate.maxCost).",
        valueName: "usd"))
    var budget: String?

    @Option(
      help: ArgumentHelp(
        "Sub-tasks worked on at once, each in its own work folder; a sub-task starts when every sub-task it depends on is on main, and results land one at a time, validated again on main's tip (default: git config orchestrate.jobs, else the plan's execution_strategy, else 1).",
        valueName: "n"))
    var jobs: Int?

    @Option(
      help: ArgumentHelp(
        "Agents working on each agent sub-task at once, each in its own work folder: the first whose checkpoint passes lands, the others are stopped, their work kept on their branches (overrides best_of).",
        valueName: "n"))
    var bestOf: Int?

    @Flag(help: "Write JSON-lines events on standard output instead of the terminal view.")
    var json = false

    @Flag(help: .hidden)
    var noWatch = false

    func validate() throws {
      if let maxAttempts, maxAttempts < 1 || maxAttempts > 100 {
        throw ValidationError("--max-attempts must be between 1 and 100 (got \(maxAttempts))")
      }
      if let jobs, jobs < 1 || jobs > 64 {
        throw ValidationError("--jobs must be between 1 and 64 (got \(jobs))")
      }
      if let bestOf, bestOf < 1 || bestOf > 8 {
        throw ValidationError("--best-of must be between 1 and 8 (got \(bestOf))")
      }
      if let budget, Budget.parse(budget) == nil {
        throw ValidationError("--budget '\(budget)' is not an amount of US dollars such as 5.00")
      }
      if let timeout, Durations.parse(timeout) == nil {
        throw ValidationError("--timeout '\(timeout)' is not a duration such as 10m, 90s or 1h")
      }
      if let sandbox, Confinement.Setting(rawValue: sandbox) == nil {
        throw ValidationError("--sandbox '\(sandbox)' is not one of auto, on, off")
      }
      // Any other value is a command; whether it can start is checked when the run begins.
      for value in [agent, fixAgent].compactMap({ $0 }) where AgentPreset.resolve(value) == nil {
        throw ValidationError(
          "the agent is empty; give a preset (claude, aider, openhands, script) or a command such as './my-agent.sh'")
      }
    }

    func run() throws {
      InterruptMonitor.shared.install()
      ProcessRunner.adoptOrphans()
      let orchestrator = try repository.orchestrator()
      let stored = try orchestrator.resolvePlan(plan)
      var options = RunOptions(
        agent: agent, fixAgent: fixAgent, maxAttempts: maxAttempts, timeout: timeout.flatMap(Durations.parse))
      options.useWatcher = !noWatch
      options.sandbox = sandbox.flatMap(Confinement.Setting.init(rawValue:))
      options.budget = budget.flatMap(Budget.parse)
      options.jobs = jobs
      options.bestOf = bestOf
      // The session publishes its progress just before each sub-task's start and end events.
      let progress = LockedBox<RunProgress?>(nil)
      options.progress = progress
      let renderer = RunRenderer(json: json, progress: { progress.current })
      let session = try PlanSession(orchestrator: orchestrator, plan: stored, options: options) { renderer.render($0) }
      defer {
        session.close()
        renderer.finish()
      }
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
      if case .blocked(let stuck, let waiting, _) = outcome {
        renderer.blocked(stuck, waiting: waiting)
      }
      if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
  }
}
