/// A plan file as the tests write it, built from values instead of repeated YAML.
///
/// ```swift
/// let plan = TestPlan(id: "demo", subtasks: [
///   .init(id: "one", description: "First", run: ["echo 1 > one.txt"], checkpoint: ["test -f one.txt"]),
/// ])
/// try repo.write("plan.yml", plan.yaml)
/// ```
public struct TestPlan: Sendable {
  public var id: String
  public var description: String?
  public var agent: String?
  public var fixAgent: String?
  public var maxAttempts: Int?
  public var mainBranch: String?
  /// `execution_strategy`: `sequential` or `parallel` (`run --jobs`).
  public var executionStrategy: String?
  /// `jobs`: sub-tasks at once with `execution_strategy: parallel`.
  public var jobs: Int?
  public var subtasks: [Subtask]

  public init(
    id: String, description: String? = "d", agent: String? = nil, fixAgent: String? = nil, maxAttempts: Int? = nil,
    mainBranch: String? = nil, executionStrategy: String? = nil, jobs: Int? = nil, subtasks: [Subtask]
  ) {
    self.id = id
    self.description = description
    self.agent = agent
    self.fixAgent = fixAgent
    self.maxAttempts = maxAttempts
    self.mainBranch = mainBranch
    self.executionStrategy = executionStrategy
    self.jobs = jobs
    self.subtasks = subtasks
  }

  /// One sub-task: script steps (`run`) or an agent's `prompt`, and its checkpoint.
  public struct Subtask: Sendable {
    public var id: String
    public var description: String?
    public var prompt: String?
    public var complexity: String?
    public var run: [String]?
    public var checkpoint: [String]
    public var checkpointDescription: String?
    /// The checkpoint's timeout as the plan writes it, e.g. `1s`.
    public var timeout: String?
    /// `dependencies`: nil writes no key (the sub-task then depends on the one before it); `[]`
    /// writes `dependencies: []` (none).
    public var dependencies: [String]?

    public init(
      id: String, description: String? = nil, prompt: String? = nil, complexity: String? = nil, run: [String]? = nil,
      checkpoint: [String], checkpointDescription: String? = nil, timeout: String? = nil, dependencies: [String]? = nil
    ) {
      self.id = id
      self.description = description
      self.prompt = prompt
      self.complexity = complexity
      self.run = run
      self.checkpoint = checkpoint
      self.checkpointDescription = checkpointDescription
      self.timeout = timeout
      self.dependencies = dependencies
    }

    /// A sub-task whose one step writes `content` to `file`, and whose checkpoint tests that it exists.
    public static func makes(
      _ file: String, _ content: String = "made", id: String, description: String? = nil
    ) -> Subtask {
      Subtask(id: id, description: description, run: ["echo \(content) > \(file)"], checkpoint: ["test -f \(file)"])
    }
  }

  /// The plan as a YAML file; every string double-quoted, so any command text survives as written.
  public var yaml: String {
    var lines = ["id: \(yamlQuoted(id))"]
    if let description { lines.append("description: \(yamlQuoted(description))") }
    if let agent { lines.append("agent: \(yamlQuoted(agent))") }
    if let fixAgent { lines.append("fix_agent: \(yamlQuoted(fixAgent))") }
    if let maxAttempts { lines.append("max_attempts: \(maxAttempts)") }
    if let mainBranch { lines.append("main_branch: \(yamlQuoted(mainBranch))") }
    if let executionStrategy { lines.append("execution_strategy: \(yamlQuoted(executionStrategy))") }
    if let jobs { lines.append("jobs: \(jobs)") }
    lines.append("subtasks:")
    for subtask in subtasks {
      lines.append("  - id: \(yamlQuoted(subtask.id))")
      if let description = subtask.description { lines.append("    description: \(yamlQuoted(description))") }
      if let prompt = subtask.prompt { lines.append("    prompt: \(yamlQuoted(prompt))") }
      if let complexity = subtask.complexity { lines.append("    complexity: \(complexity)") }
      if let run = subtask.run { lines.append("    run: \(list(run))") }
      if let dependencies = subtask.dependencies { lines.append("    dependencies: \(list(dependencies))") }
      var checkpoint = ["commands: \(list(subtask.checkpoint))"]
      if let description = subtask.checkpointDescription {
        checkpoint.insert("description: \(yamlQuoted(description))", at: 0)
      }
      if let timeout = subtask.timeout { checkpoint.append("timeout: \(timeout)") }
      lines.append("    checkpoint: { \(checkpoint.joined(separator: ", ")) }")
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// `text` as a YAML double-quoted scalar.
public func yamlQuoted(_ text: String) -> String {
  var result = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\\": result += "\\\\"
    case "\"": result += "\\\""
    case "\n": result += "\\n"
    case "\t": result += "\\t"
    case _ where scalar.value < 0x20 || scalar.value == 0x7F:
      result += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
    default: result.unicodeScalars.append(scalar)
    }
  }
  return result + "\""
}

private func list(_ items: [String]) -> String { "[" + items.map(yamlQuoted).joined(separator: ", ") + "]" }

extension String {
  fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

extension TestPlan {
  /// A first sub-task, `First`, that makes `one.txt` and lands; then a second, `Second`, whose steps
  /// and checkpoint the test chooses: the shape of every test of what happens to a sub-task after
  /// something has already landed.
  public static func firstThen(
    id: String, maxAttempts: Int? = nil, run: [String], checkpoint: [String], timeout: String? = nil
  ) -> TestPlan {
    TestPlan(
      id: id, maxAttempts: maxAttempts,
      subtasks: [
        .makes("one.txt", "one", id: "first", description: "First"),
        .init(id: "second", description: "Second", run: run, checkpoint: checkpoint, timeout: timeout),
      ])
  }
}
