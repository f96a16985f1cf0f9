import Foundation

/// How much work a sub-task is, relative to the others; used for the ETA.
public enum Complexity: String, Codable, Sendable, CaseIterable {
  case small, medium, large, massive

  /// Relative effort: 1, 2, 4, 8.
  public var weight: Double {
    switch self {
    case .small: 1
    case .medium: 2
    case .large: 4
    case .massive: 8
    }
  }
}

/// The commands that decide whether a sub-task (or the whole plan) is done.
///
/// Every command must exit 0; a checkpoint without commands is refused when the plan is read,
/// never passed vacuously.
public struct Checkpoint: Codable, Sendable, Equatable {
  /// What the checkpoint proves, for people; never run.
  public var description: String
  /// Shell commands, run in order.
  public var commands: [String]
  /// Time allowed for each command, in seconds; nil means the run's default.
  public var timeout: TimeInterval?

  public init(description: String = "", commands: [String], timeout: TimeInterval? = nil) {
    self.description = description
    self.commands = commands
    self.timeout = timeout
  }

  /// A stable hash of the commands, and nothing else: the cache key of checkpoint results.
  ///
  /// Hex SHA-256 of the commands as a compact JSON array of strings (`["make","make test"]`,
  /// escaping only `"`, `\` and control characters), so the key does not depend on a JSON
  /// encoder's platform quirks. The description and timeout are left out on purpose: rewording
  /// a checkpoint must not invalidate results for the same commands.
  public var commandsHash: String {
    SHA256.hex(Array(Self.canonicalJSON(commands).utf8))
  }

  static func canonicalJSON(_ strings: [String]) -> String {
    var out = "["
    for (index, string) in strings.enumerated() {
      if index > 0 { out += "," }
      out += "\""
      for scalar in string.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
          let code = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - code.count) + code
        default: out.unicodeScalars.append(scalar)
        }
      }
      out += "\""
    }
    return out + "]"
  }
}

/// One step of a plan: done by an agent (or by `run` steps), validated by its checkpoint.
public struct Subtask: Codable, Sendable, Equatable {
  /// A valid ref-name component; part of the sub-task's branch name.
  public var id: String
  /// Position in the plan; sub-tasks run in increasing order.
  public var order: Int
  public var description: String
  /// What the agent is asked to do.
  public var prompt: String
  public var complexity: Complexity
  /// Shell steps run instead of (before) an agent; empty when an agent does the work.
  public var run: [String]
  /// Ids of earlier sub-tasks this one builds on: what a parallel run waits for before starting it.
  /// Without a `dependencies` key a sub-task depends on the one before it (the seed's sequential
  /// order); `dependencies: []` means none. The validator writes that default in, so the stored
  /// plan says it.
  public var dependencies: [String]
  public var successCriteria: [String]
  public var checkpoint: Checkpoint
  /// The agent for this sub-task only: a preset name or a command.
  public var agent: String?
  /// Globs of paths the agent must not change (added to the plan's `protect`).
  public var protect: [String]?
  /// Overrides the plan's `red_first`: the checkpoint must fail on the base before any work.
  public var redFirst: Bool?
  /// Agents that work on the sub-task at once, each in its own work folder (`best_of`); the first
  /// whose checkpoint passes lands, the others are stopped and their work kept.
  public var bestOf: Int?

  public init(
    id: String, order: Int, description: String, prompt: String, complexity: Complexity = .medium,
    run: [String] = [], dependencies: [String] = [], successCriteria: [String] = [],
    checkpoint: Checkpoint, agent: String? = nil, protect: [String]? = nil, redFirst: Bool? = nil,
    bestOf: Int? = nil
  ) {
    self.bestOf = bestOf
    self.id = id
    self.order = order
    self.description = description
    self.prompt = prompt
    self.complexity = complexity
    self.run = run
    self.dependencies = dependencies
    self.successCriteria = successCriteria
    self.checkpoint = checkpoint
    self.agent = agent
    self.protect = protect
    self.redFirst = redFirst
  }

  enum CodingKeys: String, CodingKey {
    case id, order, description, prompt, complexity, run, dependencies
    case successCriteria = "success_criteria"
    case checkpoint, agent, protect
    case redFirst = "red_first"
    case bestOf = "best_of"
  }
}

/// A validated plan: sub-tasks sorted by order, every id a valid ref-name component, every
/// checkpoint with commands, every dependency earlier.
///
/// Build one with `PlanReader`; the memberwise initialiser does not validate.
public struct Plan: Codable, Sendable, Equatable {
  public var id: String
  public var description: String
  public var agent: String?
  public var fixAgent: String?
  public var maxAttempts: Int?
  /// The most its agents may spend, in US dollars, as they report it (`max_cost`; `--budget` overrides it).
  public var maxCost: Decimal?
  /// Time allowed for each agent run, in seconds.
  public var timeout: TimeInterval?
  public var mainBranch: String?
  /// Sorted by order. Given orders are kept; with none given, 1...n in file order.
  public var subtasks: [Subtask]
  public var finalCheckpoint: Checkpoint?
  /// Globs of paths no sub-task's agent may change (the tests that judge them, say).
  public var protect: [String]?
  /// Each sub-task's checkpoint must fail on its base before any work (a sub-task may override).
  public var redFirst: Bool?
  /// Globs of ignored files a checkpoint may use (`node_modules/`, `.venv/`): everything else the
  /// tree does not hold is moved aside while it runs.
  public var keep: [String]?
  /// `sequential` (the default) or `parallel`: the decomposer's `execution_strategy`.
  public var executionStrategy: String?
  /// Sub-tasks at once when `execution_strategy` is `parallel`.
  public var jobs: Int?
  /// Things that were accepted but look wrong (unknown keys); not encoded, not compared.
  public var warnings: [String] = []

  public init(
    id: String, description: String, agent: String? = nil, fixAgent: String? = nil,
    maxAttempts: Int? = nil, maxCost: Decimal? = nil, timeout: TimeInterval? = nil, mainBranch: String? = nil,
    subtasks: [Subtask], finalCheckpoint: Checkpoint? = nil, protect: [String]? = nil, redFirst: Bool? = nil,
    keep: [String]? = nil, executionStrategy: String? = nil, jobs: Int? = nil, warnings: [String] = []
  ) {
    self.executionStrategy = executionStrategy
    self.jobs = jobs
    self.maxCost = maxCost
    self.id = id
    self.description = description
    self.agent = agent
    self.fixAgent = fixAgent
    self.maxAttempts = maxAttempts
    self.timeout = timeout
    self.mainBranch = mainBranch
    self.subtasks = subtasks
    self.finalCheckpoint = finalCheckpoint
    self.protect = protect
    self.redFirst = redFirst
    self.keep = keep
    self.warnings = warnings
  }

  enum CodingKeys: String, CodingKey {
    case id, description, agent
    case fixAgent = "fix_agent"
    case maxAttempts = "max_attempts"
    case maxCost = "max_cost"
    case timeout
    case mainBranch = "main_branch"
    case subtasks
    case finalCheckpoint = "final_checkpoint"
    case protect
    case redFirst = "red_first"
    case keep
    case executionStrategy = "execution_strategy"
    case jobs
  }

  /// The sub-tasks in the waves a parallel run can work on them: wave 1 depends on nothing, each
  /// later one on sub-tasks of the waves before it (dependencies are always earlier in the plan).
  public var waves: [[Subtask]] {
    var wave: [String: Int] = [:]
    var waves: [[Subtask]] = []
    for subtask in subtasks {
      let number = (subtask.dependencies.compactMap { wave[$0] }.max() ?? -1) + 1
      wave[subtask.id] = number
      if number == waves.count { waves.append([]) }
      waves[number].append(subtask)
    }
    return waves
  }

  /// The jobs the plan asks for: `jobs`, else 4 with `execution_strategy: parallel`, else 1; always
  /// 1 with `execution_strategy: sequential`.
  public var parallelJobs: Int {
    switch executionStrategy {
    case "sequential": 1
    case "parallel": jobs ?? 4
    default: jobs ?? 1
    }
  }

  public static func == (lhs: Plan, rhs: Plan) -> Bool {
    lhs.id == rhs.id && lhs.description == rhs.description && lhs.agent == rhs.agent
      && lhs.fixAgent == rhs.fixAgent && lhs.maxAttempts == rhs.maxAttempts && lhs.maxCost == rhs.maxCost
      && lhs.timeout == rhs.timeout && lhs.mainBranch == rhs.mainBranch
      && lhs.subtasks == rhs.subtasks && lhs.finalCheckpoint == rhs.finalCheckpoint
      && lhs.protect == rhs.protect && lhs.redFirst == rhs.redFirst && lhs.keep == rhs.keep
      && lhs.executionStrategy == rhs.executionStrategy && lhs.jobs == rhs.jobs
  }

  /// The globs `subtask`'s agent may not touch: the plan's and its own.
  public func protectedGlobs(_ subtask: Subtask) -> [String] {
    (protect ?? []) + (subtask.protect ?? [])
  }

  /// Whether `subtask`'s checkpoint must fail on its base before any work.
  public func isRedFirst(_ subtask: Subtask) -> Bool {
    subtask.redFirst ?? redFirst ?? false
  }

  /// The sub-task with this id, if any.
  public func subtask(id: String) -> Subtask? {
    subtasks.first { $0.id == id }
  }

  /// Canonical JSON: sorted snake_case keys as in the native format, pretty printed.
  ///
  /// This is what the store keeps, so the same plan always gives the same bytes.
  public func normalizedJSON() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return try encoder.encode(self)
  }

  /// Reads JSON written by `normalizedJSON()`, validating it like any plan file.
  ///
  /// - Throws: `PlanError` when the data is not a valid plan (for example a tampered store).
  ///
  /// The stored form is decoded directly (reading it through the YAML reader costs tens of
  /// milliseconds for a plan of a thousand sub-tasks, paid by every `status`), by
  /// `NormalizedPlanParser` (else `JSONDecoder`, ten times slower), then checked for what
  /// the engine relies on: ids that are safe ref-name components, ordered sub-tasks, and
  /// checkpoints with commands. Anything else falls back to the full reader and its diagnostics.
  public static func fromNormalizedJSON(_ data: Data) throws -> Plan {
    if let plan = NormalizedPlanParser.plan(from: data) ?? (try? JSONDecoder().decode(Plan.self, from: data)),
      plan.isSoundForEngine
    {
      return plan
    }
    return try PlanReader.parse(data, fileName: "normalized plan")
  }

  /// The invariants the engine relies on, checked cheaply.
  var isSoundForEngine: Bool {
    guard RefNameComponent.problem(with: id) == nil, !subtasks.isEmpty else { return false }
    var previous = Int.min
    // Sized once, and each sub-task read in place: every status and log checks all of a plan's.
    var ids = Set<String>(minimumCapacity: subtasks.count)
    for index in subtasks.indices {
      guard RefNameComponent.problem(with: subtasks[index].id) == nil, ids.insert(subtasks[index].id).inserted,
        subtasks[index].order > previous, !subtasks[index].checkpoint.commands.isEmpty,
        !subtasks[index].checkpoint.commands.contains(where: \.isEmpty)
      else { return false }
      previous = subtasks[index].order
    }
    if let final = finalCheckpoint, final.commands.isEmpty { return false }
    return true
  }
}
