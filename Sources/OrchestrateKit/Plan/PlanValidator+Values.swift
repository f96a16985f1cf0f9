import Foundation

/// Checkpoints, and the typed values every part of a plan is read through (strings, durations,
/// agents, ids), each reporting what is wrong with it.
extension PlanValidator {
  // MARK: Checkpoints

  mutating func checkpoint(_ value: PlanValue, subtask: String?, field: String)
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
  mutating func commandList(
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

  func find(_ entries: [PlanValue.Entry], _ key: String) -> PlanValue? {
    entries.first { $0.key == key }?.value
  }

  func isNull(_ value: PlanValue) -> Bool {
    if case .null = value.kind { return true }
    return false
  }

  /// The first of `keys` present; a second one with a different value is an error.
  mutating func aliased(
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
  mutating func string(
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

  func isBool(_ value: PlanValue) -> Bool {
    if case .bool = value.kind { return true }
    return false
  }

  mutating func duration(_ value: PlanValue, subtask: String?, field: String)
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

  mutating func agent(_ value: PlanValue, subtask: String?, field: String) -> String? {
    guard let text = string(value, subtask: subtask, field: field) else { return nil }
    if let problem = AgentPreset.problem(with: text) {
      error(value.line, subtask, field, problem)
      return nil
    }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  func invalidID(_ id: String, _ problem: String, what: String) -> String {
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

  mutating func warnUnknownKeys(
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
}
