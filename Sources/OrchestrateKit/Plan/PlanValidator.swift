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
    "red_first",
  ]
  static let checkpointKeys: Set = ["description", "validation", "commands", "timeout"]
  static let checkpointIgnoredKeys: Set = ["type"]

  let file: String
  private(set) var diagnostics: [PlanDiagnostic] = []
  private(set) var warnings: [PlanDiagnostic] = []
  private var dropped = 0

  init(file: String) {
    self.file = file
  }

  /// A sub-task as read, before the checks that need all of them.
  private struct Draft {
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
        redFirst: draft.redFirst)
    }
    return Plan(
      id: planID, description: description, agent: planAgent, fixAgent: fixAgent,
      maxAttempts: maxAttempts, maxCost: maxCost,
      timeout: timeout, mainBranch: mainBranch, subtasks: subtasks,
      finalCheckpoint: finalCheckpoint, protect: planProtect, redFirst: planRedFirst, keep: planKeep,
      executionStrategy: executionStrategy, jobs: jobs, warnings: warnings.map(\.description))
  }

  // MARK: Sub-tasks

  private mutating func subtask(_ value: PlanValue, position: Int) -> Draft? {
    guard let entries = value.entries else {
      error(
        value.line, "#\(position)", nil,
        "expected a mapping with id, prompt and checkpoint, got \(value.kindName)")
      return nil
    }
    var draft = Draft(position: position, label: "#\(position)", line: value.line)
    if let (field, idValue) = aliased(entries, ["id", "task_id"], subtask: draft.label) {
      if let id = string(idValue, subtask: draft.label, field: field) {
        draft.label = id
        if let problem = RefNameComponent.problem(with: id) {
          error(idValue.line, id, field, invalidID(id, problem, what: "sub-task id"))
        } else {
          draft.id = id
        }
      }
    } else {
      error(
        value.line, draft.label, "id",
        "missing; add an id such as `id: models` (letters, digits, '-', '_')")
    }
    let label = draft.label
    warnUnknownKeys(entries, known: Self.subtaskKeys, ignored: [], subtask: label, prefix: "")

    if let orderValue = find(entries, "order"), !isNull(orderValue) {
      draft.orderLine = orderValue.line
      if case .int(let order) = orderValue.kind, (1...1_000_000).contains(order) {
        draft.order = order
      } else if case .int(let order) = orderValue.kind {
        error(orderValue.line, label, "order", "must be between 1 and 1000000, got \(order)")
        draft.order = -1
      } else {
        error(
          orderValue.line, label, "order", "expected a whole number, got \(orderValue.kindName)")
        draft.order = -1
      }
    }
    if let text = find(entries, "description").flatMap({
      string($0, subtask: label, field: "description", prose: true)
    }) {
      draft.description = text
    }
    if let (field, promptValue) = aliased(
      entries, ["prompt", "orchestration_prompt"], subtask: label)
    {
      draft.prompt = string(promptValue, subtask: label, field: field, prose: true)
    }
    if let (field, complexityValue) = aliased(
      entries, ["complexity", "estimated_complexity"], subtask: label),
      !isNull(complexityValue), let text = string(complexityValue, subtask: label, field: field)
    {
      if let complexity = Complexity(
        rawValue: text.trimmingCharacters(in: .whitespaces).lowercased())
      {
        draft.complexity = complexity
      } else {
        error(
          complexityValue.line, label, field,
          "unknown complexity '\(PlanDiagnostic.escaped(text))'; use small, medium, large or massive"
        )
      }
    }
    if let runValue = find(entries, "run"), !isNull(runValue) {
      draft.run = commandList(runValue, subtask: label, field: "run", what: "step") ?? []
    }
    if let dependencyValue = find(entries, "dependencies"), !isNull(dependencyValue) {
      draft.dependenciesGiven = true
      if let items = dependencyValue.items {
        for (index, item) in items.enumerated() {
          if let id = string(item, subtask: label, field: "dependencies[\(index)]") {
            if draft.dependencies.contains(where: { $0.id == id }) {
              warn(
                item.line, label, "dependencies[\(index)]",
                "'\(PlanDiagnostic.escaped(id))' is listed twice")
            } else {
              draft.dependencies.append((id, item.line ?? dependencyValue.line))
            }
          }
        }
      } else {
        error(
          dependencyValue.line, label, "dependencies",
          "expected a list of sub-task ids, e.g. [models], got \(dependencyValue.kindName)")
      }
    }
    if let criteriaValue = find(entries, "success_criteria"), !isNull(criteriaValue) {
      if let items = criteriaValue.items {
        draft.successCriteria = items.enumerated().compactMap { index, item in
          string(item, subtask: label, field: "success_criteria[\(index)]", prose: true)
        }
      } else {
        error(
          criteriaValue.line, label, "success_criteria",
          "expected a list of sentences, got \(criteriaValue.kindName)")
      }
    }
    if let checkpointValue = find(entries, "checkpoint"), !isNull(checkpointValue) {
      draft.checkpoint = checkpoint(checkpointValue, subtask: label, field: "checkpoint")
    } else {
      error(
        find(entries, "checkpoint")?.line ?? value.line, label, "checkpoint",
        "missing; every sub-task needs a checkpoint with commands, e.g. checkpoint: {commands: [\"make test\"]}"
      )
    }
    if let agentValue = find(entries, "agent"), !isNull(agentValue) {
      draft.agent = agent(agentValue, subtask: label, field: "agent")
    }
    draft.protect = globs(find(entries, "protect"), subtask: label)
    draft.redFirst = flag(find(entries, "red_first"), subtask: label, field: "red_first")
    return draft
  }

  /// `protect:`: a list of path globs (`tests/**`, `conftest.py`, `@checkpoint`).
  private mutating func globs(_ value: PlanValue?, subtask: String?, field: String = "protect") -> [String]? {
    guard let value, !isNull(value) else { return nil }
    guard let items = value.items else {
      error(value.line, subtask, field, "expected a list of path globs, e.g. [\"tests/**\"], got \(value.kindName)")
      return nil
    }
    return items.enumerated().compactMap { index, item in
      guard let glob = string(item, subtask: subtask, field: "\(field)[\(index)]") else { return nil }
      if let problem = Protection.problem(with: glob) {
        error(item.line, subtask, "\(field)[\(index)]", problem)
        return nil
      }
      return glob
    }
  }

  /// A yes/no key such as `red_first`.
  private mutating func flag(_ value: PlanValue?, subtask: String?, field: String) -> Bool? {
    guard let value, !isNull(value) else { return nil }
    if case .bool(let flag) = value.kind { return flag }
    error(value.line, subtask, field, "expected true or false, got \(value.kindName)")
    return nil
  }

  /// Checks ids and orders across sub-tasks and returns them sorted by order.
  private mutating func checkOrdersAndIDs(_ drafts: inout [Draft]) -> [Draft] {
    var firstByID: [String: Draft] = [:]
    for draft in drafts {
      guard let id = draft.id else { continue }
      if let first = firstByID[id] {
        error(
          draft.line, id, "id",
          "duplicate id '\(PlanDiagnostic.escaped(id))' (also sub-task #\(first.position)\(first.line.map { " at line \($0)" } ?? "")); ids must be unique"
        )
      } else {
        firstByID[id] = draft
      }
    }
    let withOrder = drafts.filter { $0.order != nil }
    if withOrder.isEmpty {
      for index in drafts.indices { drafts[index].order = index + 1 }
    } else {
      var firstByOrder: [Int: Draft] = [:]
      for index in drafts.indices {
        guard let order = drafts[index].order else {
          error(
            drafts[index].line, drafts[index].label, "order",
            "missing while other sub-tasks have one; give every sub-task an order, or none (file order)"
          )
          drafts[index].order = drafts[index].position
          continue
        }
        guard order > 0 else { continue }
        if let first = firstByOrder[order] {
          error(
            drafts[index].orderLine, drafts[index].label, "order",
            "order \(order) is also used by sub-task '\(PlanDiagnostic.escaped(first.label))'; orders must be unique"
          )
        } else {
          firstByOrder[order] = drafts[index]
        }
      }
    }
    return drafts.enumerated().sorted { lhs, rhs in
      let (left, right) = (lhs.element.order ?? 0, rhs.element.order ?? 0)
      return left != right ? left < right : lhs.offset < rhs.offset
    }.map(\.element)
  }

  /// Reports unknown dependencies, cycles (named), and dependencies on later sub-tasks.
  private mutating func checkDependencies(_ drafts: [Draft]) {
    var indexByID: [String: Int] = [:]
    for (index, draft) in drafts.enumerated() {
      if let id = draft.id, indexByID[id] == nil { indexByID[id] = index }
    }
    var edges = [[Int]](repeating: [], count: drafts.count)
    for (index, draft) in drafts.enumerated() {
      for dependency in draft.dependencies {
        if let target = indexByID[dependency.id] {
          edges[index].append(target)
        } else {
          error(
            dependency.line, draft.label, "dependencies",
            "unknown sub-task '\(PlanDiagnostic.escaped(dependency.id))'; use the id of an earlier sub-task"
          )
        }
      }
    }
    let component = DependencyGraph.stronglyConnectedComponents(edges)
    var cyclic = Set<Int>()
    var reported = Set<Int>()
    var componentSize: [Int: Int] = [:]
    for value in component { componentSize[value, default: 0] += 1 }
    for (index, targets) in edges.enumerated() {
      let isCyclic = targets.contains(index) || componentSize[component[index], default: 0] > 1
      guard isCyclic else { continue }
      cyclic.insert(index)
      guard !reported.contains(component[index]) else { continue }
      reported.insert(component[index])
      let cycle = DependencyGraph.cycle(from: index, edges: edges, component: component)
      let names = cycle.map { PlanDiagnostic.escaped(drafts[$0].label) }.joined(separator: " → ")
      error(
        drafts[index].dependencies.first?.line ?? drafts[index].line, drafts[index].label,
        "dependencies",
        "dependency cycle: \(names); remove one of these dependencies")
    }
    for (index, targets) in edges.enumerated() {
      for target in targets where target >= index {
        if cyclic.contains(index) && component[target] == component[index] { continue }
        let dependency = drafts[index].dependencies.first { $0.id == drafts[target].id }
        error(
          dependency?.line ?? drafts[index].line, drafts[index].label, "dependencies",
          "'\(PlanDiagnostic.escaped(drafts[target].label))' comes later (order \(drafts[target].order ?? 0)); "
            + "sub-tasks run one at a time in order, so a sub-task can only depend on earlier ones")
      }
    }
  }

  // MARK: Checkpoints

  private mutating func checkpoint(_ value: PlanValue, subtask: String?, field: String)
    -> Checkpoint?
  {
    guard let entries = value.entries else {
      let hint =
        value.kindName == "a string"
        ? "; a checkpoint is a mapping of commands to run, e.g. {commands: [\"make test\"]}"
        : "; e.g. {description: Tests pass, commands: [\"make test\"]}"
      error(value.line, subtask, field, "expected a mapping, got \(value.kindName)\(hint)")
      return nil
    }
    warnUnknownKeys(
      entries, known: Self.checkpointKeys, ignored: Self.checkpointIgnoredKeys, subtask: subtask,
      prefix: field + ".")
    var description = ""
    if let (key, descriptionValue) = aliased(
      entries, ["description", "validation"], subtask: subtask, prefix: field + ".")
    {
      description =
        string(descriptionValue, subtask: subtask, field: "\(field).\(key)", prose: true) ?? ""
    }
    var commands: [String]?
    if let commandsValue = find(entries, "commands"), !isNull(commandsValue) {
      commands = commandList(
        commandsValue, subtask: subtask, field: "\(field).commands", what: "command")
      if commands?.isEmpty == true {
        error(
          commandsValue.line, subtask, "\(field).commands",
          "checkpoint has no commands; add at least one, e.g. [\"pytest -q\"]")
      }
    } else if !description.isEmpty {
      let quoted = PlanDiagnostic.escaped(description, limit: 80)
      error(
        value.line, subtask, "\(field).commands",
        "checkpoint has no commands (its description \"\(quoted)\" is prose, not a command); "
          + "add \(field).commands, e.g. [\"pytest -q\"]")
    } else {
      error(
        value.line, subtask, "\(field).commands",
        "checkpoint has no commands; add \(field).commands, e.g. [\"pytest -q\"]")
    }
    var timeout: TimeInterval?
    if let timeoutValue = find(entries, "timeout"), !isNull(timeoutValue) {
      timeout = duration(timeoutValue, subtask: subtask, field: "\(field).timeout")
    }
    guard let commands, !commands.isEmpty else { return nil }
    return Checkpoint(description: description, commands: commands, timeout: timeout)
  }

  /// A list of shell commands: each must be a non-empty string (a number or `true` must be quoted).
  private mutating func commandList(
    _ value: PlanValue, subtask: String?, field: String, what: String
  ) -> [String]? {
    guard let items = value.items else {
      let hint =
        value.kindName == "a string"
        ? " (write a list even for one \(what), e.g. [\"make test\"])" : ""
      error(value.line, subtask, field, "expected a list of \(what)s, got \(value.kindName)\(hint)")
      return nil
    }
    var commands: [String] = []
    var valid = true
    for (index, item) in items.enumerated() {
      let itemField = "\(field)[\(index)]"
      switch item.kind {
      case .string:
        let text = item.text ?? ""
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
          error(item.line, subtask, itemField, "\(what) is empty; remove it or write the \(what)")
          valid = false
        } else {
          commands.append(text)
        }
      case .int, .double, .bool:
        error(
          item.line, subtask, itemField,
          "\(what) is \(item.kindName), not a string; quote it, e.g. \"\(PlanDiagnostic.escaped(item.text ?? ""))\""
        )
        valid = false
      default:
        error(item.line, subtask, itemField, "\(what) must be a string, got \(item.kindName)")
        valid = false
      }
    }
    return valid ? commands : nil
  }

  // MARK: Values

  private func find(_ entries: [PlanValue.Entry], _ key: String) -> PlanValue? {
    entries.first { $0.key == key }?.value
  }

  private func isNull(_ value: PlanValue) -> Bool {
    if case .null = value.kind { return true }
    return false
  }

  /// The first of `keys` present; a second one with a different value is an error.
  private mutating func aliased(
    _ entries: [PlanValue.Entry], _ keys: [String], subtask: String?, prefix: String = ""
  ) -> (String, PlanValue)? {
    let present = keys.compactMap { key in find(entries, key).map { (key, $0) } }
    guard let first = present.first else { return nil }
    for (key, value) in present.dropFirst() where value.text == nil || value.text != first.1.text {
      error(
        value.line, subtask, prefix + key,
        "both '\(prefix + first.0)' and its alias '\(prefix + key)' are given with different values; keep one"
      )
    }
    return first
  }

  /// A scalar as text; `prose` fields also take numbers and booleans as written.
  private mutating func string(
    _ value: PlanValue, subtask: String?, field: String, prose: Bool = false
  ) -> String? {
    switch value.kind {
    case .string: return value.text ?? ""
    case .int, .double, .bool:
      if prose || !isBool(value) { return value.text }
      error(
        value.line, subtask, field,
        "expected a string, got a boolean; quote it, e.g. \"\(value.text ?? "")\"")
      return nil
    case .null:
      error(value.line, subtask, field, "expected a string, got null")
      return nil
    default:
      error(value.line, subtask, field, "expected a string, got \(value.kindName)")
      return nil
    }
  }

  private func isBool(_ value: PlanValue) -> Bool {
    if case .bool = value.kind { return true }
    return false
  }

  private mutating func duration(_ value: PlanValue, subtask: String?, field: String)
    -> TimeInterval?
  {
    let invalid = "use a positive duration such as 90s, 10m, 1h30m, 500ms, or a number of seconds"
    switch value.kind {
    case .int(let seconds) where seconds > 0: return TimeInterval(seconds)
    case .double(let seconds) where seconds > 0 && seconds.isFinite: return seconds
    case .int, .double:
      error(
        value.line, subtask, field, "\(value.text ?? "0") is not a positive duration; \(invalid)")
      return nil
    case .string:
      if let seconds = Durations.parse(value.text ?? "") { return seconds }
      error(
        value.line, subtask, field,
        "'\(PlanDiagnostic.escaped(value.text ?? ""))' is not a duration; \(invalid)")
      return nil
    default:
      error(value.line, subtask, field, "expected a duration, got \(value.kindName); \(invalid)")
      return nil
    }
  }

  private mutating func agent(_ value: PlanValue, subtask: String?, field: String) -> String? {
    guard let text = string(value, subtask: subtask, field: field) else { return nil }
    if let problem = AgentPreset.problem(with: text) {
      error(value.line, subtask, field, problem)
      return nil
    }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  private func invalidID(_ id: String, _ problem: String, what: String) -> String {
    "\(what) '\(PlanDiagnostic.escaped(id))' cannot be used in a branch name: \(problem); "
      + "use letters, digits, '-', '_' and '.'"
  }

  /// What is wrong with `name` as a branch name (each '/'-separated part a valid ref component), if anything.
  static func branchNameProblem(_ name: String) -> String? {
    if name.isEmpty { return "it is empty" }
    let components = name.split(separator: "/", omittingEmptySubsequences: false)
    if components.contains(where: \.isEmpty) {
      return "it has an empty component (leading, trailing or double '/')"
    }
    for component in components {
      if let problem = RefNameComponent.problem(with: String(component)) {
        return "'\(PlanDiagnostic.escaped(String(component)))': \(problem)"
      }
    }
    return nil
  }

  /// Why `name` cannot be a main branch because git orchestrate manages it, if it is one of its.
  ///
  /// Sub-task branches live under `orchestrate/`: a main branch there would be moved, replayed or
  /// deleted as a sub-task's, and `orchestrate` itself cannot coexist with branches under it.
  static func managedBranchProblem(_ name: String) -> String? {
    guard name == "orchestrate" || name.hasPrefix("orchestrate/") else { return nil }
    return "'\(PlanDiagnostic.escaped(name))' is in git orchestrate's own branch namespace (orchestrate/…), where it keeps sub-task branches; give the branch sub-tasks land on, such as main"
  }

  private mutating func warnUnknownKeys(
    _ entries: [PlanValue.Entry], known: Set<String>, ignored: Set<String>, subtask: String?,
    prefix: String
  ) {
    func squashed(_ key: String) -> String { key.lowercased().filter { $0 != "_" && $0 != "-" } }
    for entry in entries where !known.contains(entry.key) && !ignored.contains(entry.key) {
      var message = "unknown key '\(PlanDiagnostic.escaped(entry.key))' (ignored)"
      let suggestion =
        known.sorted().first { squashed($0) == squashed(entry.key) }
        ?? known.map { ($0, Self.editDistance(squashed($0), squashed(entry.key))) }
        .filter { $0.1 <= max(1, min(2, entry.key.count / 4)) }.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
      if let suggestion { message += "; did you mean '\(suggestion)'?" }
      warn(entry.line, subtask, prefix.isEmpty ? nil : String(prefix.dropLast()), message)
    }
  }

  /// Levenshtein distance, for "did you mean": keys are short, so the quadratic table is cheap.
  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var previous = Array(0...b.count)
    for i in 1...a.count {
      var current = [i] + Array(repeating: 0, count: b.count)
      for j in 1...b.count {
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      previous = current
    }
    return previous[b.count]
  }

  // MARK: Diagnostics

  private mutating func error(_ line: Int?, _ subtask: String?, _ field: String?, _ message: String)
  {
    guard diagnostics.count < Self.diagnosticLimit else {
      dropped += 1
      return
    }
    diagnostics.append(
      PlanDiagnostic(file: file, line: line, subtask: subtask, field: field, message: message))
  }

  private mutating func warn(_ line: Int?, _ subtask: String?, _ field: String?, _ message: String)
  {
    guard warnings.count < Self.diagnosticLimit else { return }
    warnings.append(
      PlanDiagnostic(file: file, line: line, subtask: subtask, field: field, message: message))
  }
}
