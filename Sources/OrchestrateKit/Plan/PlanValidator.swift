import Foundation

/// Checks a parsed plan document against the schema and collects every problem.
///
/// Keeps going after each problem so that one run lists them all; only when nothing is wrong
/// does it build a `Plan`. Unknown keys are warnings, so newer plan files still load.
struct PlanValidator {
  static let diagnosticLimit = 1000

  static let planKeys: Set = [
    "id", "task_id", "description", "agent", "fix_agent", "max_attempts", "max_cost", "timeout", "main_branch",
    "subtasks", "final_checkpoint", "master_task", "protect", "red_first", "keep", "execution_strategy", "jobs",
  ]
  /// Keys of the task-decomposer's TASK_DECOMPOSITION.json that carry nothing the tool uses.
  static let planIgnoredKeys: Set = [
    "progress", "architecture_notes", "estimated_total_time",
    "total_subtasks",
  ]
  static let masterTaskKeys: Set = ["id", "task_id", "description"]
  static let masterTaskIgnoredKeys: Set = ["total_subtasks", "estimated_total_time"]
  static let subtaskKeys: Set = [
    "id", "task_id", "order", "description", "prompt", "orchestration_prompt", "complexity",
    "estimated_complexity", "run", "dependencies", "success_criteria", "checkpoint", "agent", "protect",
    "red_first", "best_of",
  ]
  static let checkpointKeys: Set = ["description", "validation", "commands", "timeout"]
  static let checkpointIgnoredKeys: Set = ["type"]

  let file: String
  private(set) var diagnostics: [PlanDiagnostic] = []
  private(set) var warnings: [PlanDiagnostic] = []
  var dropped = 0

  init(file: String) {
    self.file = file
  }

  /// A sub-task as read, before the checks that need all of them.
  struct Draft {
    var position: Int
    var label: String
    var line: Int?
    var id: String?
    var order: Int?
    var orderLine: Int?
    var description: String?
    var prompt: String?
    var complexity = Complexity.medium
    var run: [String] = []
    var dependencies: [(id: String, line: Int?)] = []
    /// Whether the sub-task has a `dependencies` key: without one it depends on the one before it.
    var dependenciesGiven = false
    var successCriteria: [String] = []
    var checkpoint: Checkpoint?
    var agent: String?
    var protect: [String]?
    var redFirst: Bool?
    var bestOf: Int?
  }

  // MARK: Plan

  mutating func validate(_ root: PlanValue) throws -> Plan {
    guard let entries = root.entries else {
      error(
        root.line, nil, nil,
        "expected a mapping with id, description and subtasks at the top level, got \(root.kindName)"
      )
      throw PlanError(diagnostics: diagnostics, warnings: warnings)
    }
    warnUnknownKeys(
      entries, known: Self.planKeys, ignored: Self.planIgnoredKeys, subtask: nil, prefix: "")

    var master: [PlanValue.Entry] = []
    if let value = entries.first(where: { $0.key == "master_task" })?.value {
      if let masterEntries = value.entries {
        master = masterEntries
        warnUnknownKeys(
          masterEntries, known: Self.masterTaskKeys, ignored: Self.masterTaskIgnoredKeys,
          subtask: nil,
          prefix: "master_task.")
      } else {
        error(
          value.line, nil, "master_task",
          "expected a mapping with id and description, got \(value.kindName)")
      }
    }

    var candidates: [(String, PlanValue)] = []
    for key in ["id", "task_id"] {
      if let value = find(entries, key) { candidates.append((key, value)) }
    }
    for key in ["id", "task_id"] {
      if let value = find(master, key) { candidates.append(("master_task." + key, value)) }
    }
    var planID: String?
    if let (field, value) = candidates.first {
      planID = string(value, subtask: nil, field: field)
      for (other, otherValue) in candidates.dropFirst() {
        if let otherID = string(otherValue, subtask: nil, field: other), let planID,
          otherID != planID
        {
          error(
            otherValue.line, nil, other,
            "'\(PlanDiagnostic.escaped(otherID))' disagrees with \(field) '\(PlanDiagnostic.escaped(planID))'; keep one"
          )
        }
      }
      if let id = planID, let problem = RefNameComponent.problem(with: id) {
        error(value.line, nil, field, invalidID(id, problem, what: "plan id"))
      }
    } else {
      error(
        root.line, nil, "id",
        "missing; add a plan id such as `id: my-plan` (letters, digits, '-', '_')")
    }

    var description = ""
    if let value = find(entries, "description") ?? find(master, "description") {
      description = string(value, subtask: nil, field: "description", prose: true) ?? ""
    }
    let planAgent = find(entries, "agent").flatMap { agent($0, subtask: nil, field: "agent") }
    let fixAgent = find(entries, "fix_agent").flatMap {
      agent($0, subtask: nil, field: "fix_agent")
    }
    var maxAttempts: Int?
    if let value = find(entries, "max_attempts") {
      if case .int(let count) = value.kind {
        if (1...100).contains(count) {
          maxAttempts = count
        } else {
          error(value.line, nil, "max_attempts", "must be between 1 and 100, got \(count)")
        }
      } else {
        error(
          value.line, nil, "max_attempts",
          "expected a whole number between 1 and 100, got \(value.kindName)")
      }
    }
    var executionStrategy: String?
    if let value = find(entries, "execution_strategy"), let text = string(value, subtask: nil, field: "execution_strategy") {
      if ["sequential", "parallel"].contains(text) {
        executionStrategy = text
      } else {
        error(
          value.line, nil, "execution_strategy",
          "unknown strategy '\(PlanDiagnostic.escaped(text))'; use sequential or parallel")
      }
    }
    var jobs: Int?
    if let value = find(entries, "jobs") {
      if case .int(let count) = value.kind {
        if (1...64).contains(count) {
          jobs = count
          if executionStrategy == "sequential", count > 1 {
            warn(value.line, nil, "jobs", "ignored: execution_strategy is sequential (one sub-task at a time)")
          }
        } else {
          error(value.line, nil, "jobs", "must be between 1 and 64, got \(count)")
        }
      } else {
        error(value.line, nil, "jobs", "expected a whole number between 1 and 64, got \(value.kindName)")
      }
    }
    var maxCost: Decimal?
    if let value = find(entries, "max_cost") {
      let amount: Decimal? =
        switch value.kind {
        case .int(let number): number >= 0 ? Decimal(number) : nil
        case .double: value.text.flatMap(Budget.parse)
        case .string: value.text.flatMap(Budget.parse)
        default: nil
        }
      if let amount {
        maxCost = amount
      } else {
        error(value.line, nil, "max_cost", "expected an amount of US dollars of at least 0, such as 5.00, got \(value.kindName) '\(PlanDiagnostic.escaped(value.text ?? ""))'")
      }
    }
    let timeout = find(entries, "timeout").flatMap { duration($0, subtask: nil, field: "timeout") }
    var mainBranch: String?
    if let value = find(entries, "main_branch"),
      let name = string(value, subtask: nil, field: "main_branch")
    {
      if let problem = Self.branchNameProblem(name) {
        error(
          value.line, nil, "main_branch",
          "'\(PlanDiagnostic.escaped(name))' is not a valid branch name: \(problem)")
      } else if let problem = Self.managedBranchProblem(name) {
        error(value.line, nil, "main_branch", problem)
      } else {
        mainBranch = name
      }
    }
    let planProtect = globs(find(entries, "protect"), subtask: nil)
    let planRedFirst = flag(find(entries, "red_first"), subtask: nil, field: "red_first")
    let planKeep = globs(find(entries, "keep"), subtask: nil, field: "keep")
    var finalCheckpoint: Checkpoint?
    if let value = find(entries, "final_checkpoint"), !isNull(value) {
      finalCheckpoint = checkpoint(value, subtask: nil, field: "final_checkpoint")
    }

    var drafts: [Draft] = []
    if let value = find(entries, "subtasks") {
      if let items = value.items {
        if items.isEmpty {
          error(
            value.line, nil, "subtasks",
            "no sub-tasks; add at least one with an id, a prompt and a checkpoint")
        }
        for (index, item) in items.enumerated() {
          if let draft = subtask(item, position: index + 1) { drafts.append(draft) }
        }
      } else {
        error(value.line, nil, "subtasks", "expected a list of sub-tasks, got \(value.kindName)")
      }
    } else {
      error(root.line, nil, "subtasks", "missing; a plan needs a list of sub-tasks")
    }

    let ordered = checkOrdersAndIDs(&drafts)
    checkDependencies(ordered)

    if dropped > 0 {
      diagnostics.append(
        PlanDiagnostic(
          file: file, message: "\(dropped) more problems not listed; fix the ones above first"))
    }
    guard diagnostics.isEmpty, let planID else { throw PlanError(diagnostics: diagnostics, warnings: warnings) }
    let subtasks = ordered.enumerated().map { index, draft in
      Subtask(
        id: draft.id ?? "", order: draft.order ?? draft.position,
        description: draft.description ?? draft.id ?? "",
        prompt: draft.prompt ?? draft.description ?? draft.id ?? "", complexity: draft.complexity,
        run: draft.run,
        dependencies: draft.dependenciesGiven || index == 0
          ? draft.dependencies.map(\.id) : [ordered[index - 1].id ?? ""],
        successCriteria: draft.successCriteria,
        checkpoint: draft.checkpoint ?? Checkpoint(commands: []), agent: draft.agent, protect: draft.protect,
        redFirst: draft.redFirst, bestOf: draft.bestOf)
    }
    return Plan(
      id: planID, description: description, agent: planAgent, fixAgent: fixAgent,
      maxAttempts: maxAttempts, maxCost: maxCost,
      timeout: timeout, mainBranch: mainBranch, subtasks: subtasks,
      finalCheckpoint: finalCheckpoint, protect: planProtect, redFirst: planRedFirst, keep: planKeep,
      executionStrategy: executionStrategy, jobs: jobs, warnings: warnings.map(\.description))
  }

  // MARK: Diagnostics

  mutating func error(_ line: Int?, _ subtask: String?, _ field: String?, _ message: String)
  {
    guard diagnostics.count < Self.diagnosticLimit else {
      dropped += 1
      return
    }
    diagnostics.append(
      PlanDiagnostic(file: file, line: line, subtask: subtask, field: field, message: message))
  }

  mutating func warn(_ line: Int?, _ subtask: String?, _ field: String?, _ message: String)
  {
    guard warnings.count < Self.diagnosticLimit else { return }
    warnings.append(
      PlanDiagnostic(file: file, line: line, subtask: subtask, field: field, message: message))
  }
}
