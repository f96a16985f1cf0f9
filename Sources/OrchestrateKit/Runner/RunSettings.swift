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
  /// `--budget`, in US dollars: overrides the plan's `max_cost` and `orchestrate.maxCost`.
  public var budget: Decimal?
  /// `--jobs`: sub-tasks worked on at once; nil means `git config orchestrate.jobs`, else the plan's.
  public var jobs: Int?
  /// `--best-of`: contenders for every agent sub-task, overriding the plan's `best_of`.
  public var bestOf: Int?
  /// Where the session publishes the run's progress just before each sub-task's start and end
  /// events, for a renderer that shows it (read it there instead of computing a status).
  public var progress: LockedBox<RunProgress?>?

  public init(agent: String? = nil, fixAgent: String? = nil, maxAttempts: Int? = nil, timeout: TimeInterval? = nil) {
    self.agent = agent
    self.fixAgent = fixAgent
    self.maxAttempts = maxAttempts
    self.timeout = timeout
  }
}

/// What does a sub-task's work: its own `run` steps, or an agent command.
public enum Worker: Sendable, Equatable {
  case steps([String])
  case agent(command: String)
}

/// Everything a session needs from flags, the plan and `git config orchestrate.*`, read and
/// validated once when the session starts, so a bad setting is reported before anything is
/// created and the loop never reads configuration.
public struct RunSettings: Sendable {
  public let mainName: String
  public let maxAttempts: Int
  public let useWatcher: Bool
  /// Sub-tasks worked on at once (1: the seed's sequential run): `--jobs`, else
  /// `orchestrate.jobs`, else the plan's `execution_strategy: parallel` (`jobs`, default 4).
  public internal(set) var jobs = 1
  /// `--best-of`, when given.
  public internal(set) var bestOfFlag: Int?
  /// The spend at which no further agent starts (`Budget.resolve`).
  public internal(set) var budget: Budget?
  /// Flag, then plan, then `orchestrate.agent`: the agents in the order they win. A sub-task's own
  /// `agent:` stands between the flag and the plan.
  let agentFlag: String?
  let planAgent: String?
  let configAgent: String?
  /// Flag, then plan, then `orchestrate.fixAgent`, as given, and the winner resolved to a command.
  let fixAgentFlag: String?
  let planFixAgent: String?
  let configFixAgent: String?
  let fixAgentCommand: String?
  let timeoutFlag: TimeInterval?
  let planTimeout: TimeInterval?
  let configTimeout: TimeInterval?

  public var mainRef: String { "refs/heads/" + mainName }

  /// Reads and checks every setting.
  /// - Throws: `OrchestrateError.invalidArgument` naming the setting and how to correct it.
  public static func resolve(repository: Repository, plan: Plan, mainName: String, options: RunOptions) throws
    -> RunSettings
  {
    let maxAttempts = try options.maxAttempts ?? plan.maxAttempts ?? configMaxAttempts(repository) ?? 3
    guard maxAttempts >= 1 else { throw OrchestrateError.invalidArgument("--max-attempts must be at least 1") }
    var configTimeout: TimeInterval?
    if let text = try repository.configString("orchestrate.timeout") {
      guard let value = Durations.parse(text) else {
        throw OrchestrateError.invalidArgument(
          "git config orchestrate.timeout '\(text)' is not a duration such as 10m, 90s or 1h")
      }
      configTimeout = value
    }
    let configAgent = try repository.configString("orchestrate.agent")
    let configFixAgent = try repository.configString("orchestrate.fixAgent")
    let fixValue = firstSet([options.fixAgent, plan.fixAgent, configFixAgent])
    var settings = RunSettings(
      mainName: mainName, maxAttempts: maxAttempts, useWatcher: options.useWatcher, agentFlag: options.agent,
      planAgent: plan.agent, configAgent: configAgent, fixAgentFlag: options.fixAgent, planFixAgent: plan.fixAgent,
      configFixAgent: configFixAgent, fixAgentCommand: fixValue.flatMap(command(for:)),
      timeoutFlag: options.timeout, planTimeout: plan.timeout, configTimeout: configTimeout)
    settings.budget = try Budget.resolve(flag: options.budget, plan: plan, repository: repository)
    settings.bestOfFlag = options.bestOf
    settings.jobs = try options.jobs ?? configJobs(repository) ?? plan.parallelJobs
    guard (1...64).contains(settings.jobs) else {
      throw OrchestrateError.invalidArgument("--jobs must be between 1 and 64 (got \(settings.jobs))")
    }
    return settings
  }

  /// The limit for an agent run (`checkpoint` nil) or a checkpoint command: the flag, then the
  /// checkpoint's own, then the plan's, then config, then 1 h for agents and 10 min for checkpoints.
  public func timeout(for checkpoint: Checkpoint?) -> TimeInterval {
    timeoutFlag ?? checkpoint?.timeout ?? planTimeout ?? configTimeout ?? (checkpoint == nil ? 3600 : 600)
  }

  /// How many agents work on `subtask` at once: `--best-of`, else its `best_of`, else 1. Script
  /// steps are one: running the same steps N times would give N equal trees.
  public func contenders(for subtask: Subtask) -> Int {
    guard subtask.run.isEmpty else { return 1 }
    return bestOfFlag ?? subtask.bestOf ?? 1
  }

  /// What does the first attempt of `subtask`'s work.
  /// - Throws: when the sub-task has no steps and no agent is configured.
  public func worker(for subtask: Subtask) throws -> Worker {
    if !subtask.run.isEmpty { return .steps(subtask.run) }
    if let command = agentCommand(for: subtask) { return .agent(command: command) }
    throw OrchestrateError.invalidArgument(
      "sub-task '\(subtask.id)' has no run steps and no agent is configured; pass --agent claude (or aider, openhands, a command), or set 'git config orchestrate.agent'"
    )
  }

  /// What fixes `subtask` after a failed attempt: the fix agent, else its steps again, else its agent.
  public func fixer(for subtask: Subtask) throws -> (worker: Worker, kind: RunEvent.AgentKind) {
    if let fixAgentCommand { return (.agent(command: fixAgentCommand), .fix) }
    if !subtask.run.isEmpty { return (.steps(subtask.run), .steps) }
    return (try worker(for: subtask), .fix)
  }

  /// The agent command for `subtask` (flag, sub-task, plan, config); nil when none is set or the
  /// choice is `script` (the sub-task's own steps).
  func agentCommand(for subtask: Subtask) -> String? {
    Self.firstSet([agentFlag, subtask.agent, planAgent, configAgent]).flatMap(Self.command(for:))
  }

  private static func firstSet(_ values: [String?]) -> String? {
    values.lazy.compactMap { $0 }.first { !$0.isEmpty }
  }

  /// A preset or command value as a command line; nil for `script`.
  /// Any other non-empty value is a command (`firstSet` drops empty ones); whether it can start is
  /// `checkAgents`'s to say, before anything is created.
  private static func command(for value: String) -> String? {
    value == AgentPreset.script.rawValue ? nil : AgentPreset.resolve(value)
  }

  private static func configJobs(_ repository: Repository) throws -> Int? {
    let configured: Int?
    do {
      configured = try repository.configInt("orchestrate.jobs")
    } catch {
      let text = (try? repository.configString("orchestrate.jobs")) ?? nil
      throw OrchestrateError.invalidArgument(
        "git config orchestrate.jobs '\(text ?? "")' is not a whole number; set it to one, e.g. 'git config orchestrate.jobs 4'")
    }
    if let value = configured, !(1...64).contains(value) {
      throw OrchestrateError.invalidArgument("git config orchestrate.jobs must be between 1 and 64 (it is \(value))")
    }
    return configured
  }

  private static func configMaxAttempts(_ repository: Repository) throws -> Int? {
    let configured: Int?
    do {
      configured = try repository.configInt("orchestrate.maxAttempts")
    } catch {
      let text = (try? repository.configString("orchestrate.maxAttempts")) ?? nil
      throw OrchestrateError.invalidArgument(
        "git config orchestrate.maxAttempts '\(text ?? "")' is not a whole number; set it to one, e.g. 'git config orchestrate.maxAttempts 3'"
      )
    }
    if let value = configured, value < 1 {
      throw OrchestrateError.invalidArgument("git config orchestrate.maxAttempts must be at least 1 (it is \(value))")
    }
    return configured
  }
}
