import Foundation

/// The sub-tasks of a plan: each one read into a `Draft`, then the checks that need all of them
/// (orders, ids, dependencies).
extension PlanValidator {
  // MARK: Sub-tasks

  mutating func subtask(_ value: PlanValue, position: Int) -> Draft? {
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
    if let value = find(entries, "best_of"), !isNull(value) {
      if case .int(let count) = value.kind, (1...8).contains(count) {
        draft.bestOf = count
      } else {
        error(value.line, label, "best_of", "expected a whole number of agents between 1 and 8, got \(value.kindName)")
      }
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
  mutating func globs(_ value: PlanValue?, subtask: String?, field: String = "protect") -> [String]? {
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
  mutating func flag(_ value: PlanValue?, subtask: String?, field: String) -> Bool? {
    guard let value, !isNull(value) else { return nil }
    if case .bool(let flag) = value.kind { return flag }
    error(value.line, subtask, field, "expected true or false, got \(value.kindName)")
    return nil
  }

  /// Checks ids and orders across sub-tasks and returns them sorted by order.
  mutating func checkOrdersAndIDs(_ drafts: inout [Draft]) -> [Draft] {
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
  mutating func checkDependencies(_ drafts: [Draft]) {
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
}
