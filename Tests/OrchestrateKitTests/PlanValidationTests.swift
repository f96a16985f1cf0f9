import Foundation
import TestSupport
import Testing

@testable import OrchestrateKit

@Suite("Plan validation")
struct PlanValidationTests {
  /// The single diagnostic that `text` produces; records an issue when there is not exactly one.
  func onlyProblem(_ text: String, sourceLocation: SourceLocation = #_sourceLocation)
    -> PlanDiagnostic?
  {
    guard let error = planError(text, sourceLocation: sourceLocation) else { return nil }
    #expect(error.diagnostics.count == 1, "\(error.diagnostics)", sourceLocation: sourceLocation)
    return error.diagnostics.first
  }

  @Test("a syntax error reports the parser's line")
  func syntaxErrorLine() throws {
    let problem = try #require(onlyProblem("id: demo\nsubtasks:\n  - id: [unclosed\n  - id: b\n"))
    #expect(problem.file == "plan.yml")
    #expect(problem.line == 4)
    #expect(problem.message.hasPrefix("syntax error: "))
    let json = try #require(
      planError("{\n  \"id\": \"x\",\n  \"subtasks\": [\n}", name: "plan.json"))
    #expect(json.diagnostics[0].line == 4)
    #expect(json.diagnostics[0].description.hasPrefix("plan.json:4: syntax error"))
  }

  @Test("duplicate keys are a syntax error with a line")
  func duplicateKeys() throws {
    let problem = try #require(onlyProblem("id: a\nid: b\nsubtasks: []\n"))
    #expect(problem.message.contains("duplicate key 'id'"))
    #expect(problem.line != nil)
  }

  @Test("an empty file, a scalar and a list at the top are refused")
  func wrongRoots() throws {
    #expect(onlyProblem("")?.message.contains("empty") == true)
    #expect(onlyProblem("# nothing\n")?.message.contains("empty") == true)
    #expect(onlyProblem("just a string")?.message.contains("got a string") == true)
    #expect(onlyProblem("[1, 2]")?.message.contains("got a list") == true)
  }

  @Test("a plan needs sub-tasks")
  func noSubtasks() throws {
    let empty = try #require(onlyProblem("id: demo\nsubtasks: []\n"))
    #expect(empty.field == "subtasks")
    #expect(empty.line == 2)
    #expect(empty.message.contains("no sub-tasks"))
    let missing = try #require(onlyProblem("id: demo\n"))
    #expect(missing.field == "subtasks")
    #expect(missing.message.contains("missing"))
    let string = try #require(onlyProblem("id: demo\nsubtasks: do everything\n"))
    #expect(string.message == "expected a list of sub-tasks, got a string")
  }

  @Test("a plan needs an id")
  func missingPlanID() throws {
    let problem = try #require(
      onlyProblem(validPlanYAML().replacingOccurrences(of: "id: demo\n", with: "")))
    #expect(problem.field == "id")
    #expect(problem.subtask == nil)
  }

  @Test("duplicate ids are refused, naming both")
  func duplicateIDs() throws {
    let text = validPlanYAML().replacingOccurrences(of: "id: auth", with: "id: models")
      .replacingOccurrences(of: "dependencies: [models]", with: "")
    let problem = try #require(onlyProblem(text))
    #expect(problem.subtask == "models")
    #expect(problem.field == "id")
    #expect(problem.line == 10)
    #expect(problem.message.contains("duplicate id 'models' (also sub-task #1 at line 5)"))
  }

  @Test("duplicate orders are refused")
  func duplicateOrders() throws {
    let problem = try #require(
      onlyProblem(
        """
        id: demo
        subtasks:
          - { id: a, order: 1, prompt: a, checkpoint: { commands: [a] } }
          - { id: b, order: 1, prompt: b, checkpoint: { commands: [b] } }
        """))
    #expect(
      problem.description
        == "plan.yml:4: sub-task 'b': order: order 1 is also used by sub-task 'a'; orders must be unique"
    )
  }

  @Test("orders are all given or none")
  func partialOrders() throws {
    let problem = try #require(onlyProblem(validPlanYAML(subtask: "order: 1")))
    #expect(problem.subtask == "auth")
    #expect(problem.field == "order")
    #expect(problem.message.contains("give every sub-task an order, or none"))
    let bad = try #require(planError(validPlanYAML(subtask: "order: first")))
    #expect(
      bad.diagnostics.first?.description
        == "plan.yml:7: sub-task 'models': order: expected a whole number, got a string")
  }

  static let hostileIDs: [(String, String)] = [
    ("../../etc/passwd", "it starts with '.'; it contains '..'; it contains '/'"),
    ("a/b", "it contains '/'"),
    ("$(rm -rf /)", "it contains '/'; it contains a space"),
    ("HEAD", "'HEAD' is reserved by git"),
    ("@", "'@' is reserved by git"),
    ("x.lock", "it ends with '.lock'"),
    ("-rf", "it starts with '-'"),
    ("a..b", "it contains '..'"),
    ("a@{1}", "it contains '@{'"),
    ("a\u{0}b", "it contains a control character (U+0000)"),
    ("a\nb", "it contains a control character (U+000A)"),
    ("trailing.", "it ends with '.'"),
    ("trailing/", "it contains '/'"),
    ("", "it is empty"),
    (String(repeating: "x", count: 101), "it is longer than 100 characters (101)"),
    ("a~1", "it contains '~'"), ("a^", "it contains '^'"), ("a:b", "it contains ':'"),
    ("a?", "it contains '?'"),
    ("a*", "it contains '*'"), ("a[0]", "it contains '['"), ("a\\b", "it contains '\\'"),
    ("a b", "it contains a space"),
  ]

  @Test("ref-name component rules say what is wrong", arguments: hostileIDs)
  func refNameRules(id: String, reason: String) {
    #expect(RefNameComponent.problem(with: id) == reason)
  }

  @Test(
    "valid ids pass the ref-name rules",
    arguments: ["models", "a.b", "0-setup", "auth_v2", "é", String(repeating: "x", count: 100)])
  func validIDs(id: String) {
    #expect(RefNameComponent.problem(with: id) == nil)
  }

  @Test("hostile sub-task ids are refused with the reason", arguments: hostileIDs)
  func hostileSubtaskIDs(id: String, reason: String) throws {
    let object: [String: Any] = [
      "id": "demo", "subtasks": [["id": id, "prompt": "p", "checkpoint": ["commands": ["true"]]]],
    ]
    let error = try #require(
      planError { try PlanReader.parse(object: object, fileName: "arguments") })
    #expect(error.diagnostics.count == 1)
    #expect(error.diagnostics[0].subtask == id)
    #expect(error.diagnostics[0].field == "id")
    #expect(error.diagnostics[0].message.contains(reason))
    // Control characters are escaped: the only ones left are the line breaks between diagnostics.
    #expect(!error.errorDescription!.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    #expect(error.errorDescription!.components(separatedBy: "\n").count == 2)
  }

  @Test("a hostile plan id is refused")
  func hostilePlanID() throws {
    let problem = try #require(
      onlyProblem(
        validPlanYAML().replacingOccurrences(of: "id: demo", with: "id: ../../etc/passwd")))
    #expect(problem.field == "id")
    #expect(problem.line == 1)
    #expect(
      problem.message.hasPrefix(
        "plan id '../../etc/passwd' cannot be used in a branch name: it starts with '.'"))
  }

  @Test("a missing checkpoint is refused")
  func missingCheckpoint() throws {
    let text = validPlanYAML().replacingOccurrences(
      of: "    checkpoint:\n      commands: [\"swift test\"]\n", with: "")
    let problem = try #require(onlyProblem(text))
    #expect(problem.subtask == "models")
    #expect(problem.field == "checkpoint")
    #expect(problem.message.hasPrefix("missing; every sub-task needs a checkpoint with commands"))
  }

  @Test("a checkpoint with no commands is refused")
  func emptyCommands() throws {
    let text = validPlanYAML().replacingOccurrences(
      of: "commands: [\"swift test\"]", with: "commands: []")
    let problem = try #require(onlyProblem(text))
    #expect(
      problem.description
        == "plan.yml:9: sub-task 'models': checkpoint.commands: checkpoint has no commands; add at least one, e.g. [\"pytest -q\"]"
    )
  }

  @Test("commands and run steps must be non-empty strings")
  func commandTypes() throws {
    let text = """
      id: demo
      subtasks:
        - id: one
          run: [echo ok, 42, {a: b}]
          checkpoint:
            commands:
              - true
              - "  "
              - [nested]
              - null
      """
    let error = try #require(planError(text))
    let described = error.diagnostics.map(\.description)
    #expect(
      described == [
        "plan.yml:4: sub-task 'one': run[1]: step is a number, not a string; quote it, e.g. \"42\"",
        "plan.yml:4: sub-task 'one': run[2]: step must be a string, got a mapping",
        "plan.yml:7: sub-task 'one': checkpoint.commands[0]: command is a boolean, not a string; quote it, e.g. \"true\"",
        "plan.yml:8: sub-task 'one': checkpoint.commands[1]: command is empty; remove it or write the command",
        "plan.yml:9: sub-task 'one': checkpoint.commands[2]: command must be a string, got a list",
        "plan.yml:10: sub-task 'one': checkpoint.commands[3]: command must be a string, got null",
      ])
  }

  @Test("a string where a list is expected is a wrong type")
  func stringForList() throws {
    let text = validPlanYAML(subtask: "run: make\ndependencies: models\nsuccess_criteria: it works")
      .replacingOccurrences(
        of: "commands: [\"swift test --filter Auth\"]", with: "commands: swift test")
    let error = try #require(planError(text))
    #expect(
      error.diagnostics.map { "\($0.subtask ?? "")|\($0.field ?? "")" } == [
        "models|run", "models|dependencies", "models|success_criteria", "auth|checkpoint.commands",
      ])
    #expect(
      error.diagnostics[0].message
        == "expected a list of steps, got a string (write a list even for one step, e.g. [\"make test\"])"
    )
  }

  @Test("a mapping where a string is expected is a wrong type")
  func mappingForString() throws {
    let text = validPlanYAML(
      top: "agent: {name: claude}\nmain_branch: [main]",
      subtask: "description: {a: b}\ncomplexity: [large]")
    let error = try #require(planError(text))
    #expect(
      error.diagnostics.map(\.description) == [
        "plan.yml:3: agent: expected a string, got a mapping",
        "plan.yml:4: main_branch: expected a string, got a list",
        "plan.yml:8: sub-task 'models': description: expected a string, got a mapping",
        "plan.yml:9: sub-task 'models': complexity: expected a string, got a list",
      ])
  }

  @Test("a sub-task that is not a mapping, and a checkpoint that is prose")
  func wrongShapes() throws {
    let error = try #require(
      planError(
        """
        id: demo
        subtasks:
          - just text
          - id: b
            prompt: b
            checkpoint: tests pass
        """))
    #expect(
      error.diagnostics.map(\.description) == [
        "plan.yml:3: sub-task #1: expected a mapping with id, prompt and checkpoint, got a string",
        "plan.yml:6: sub-task 'b': checkpoint: expected a mapping, got a string; a checkpoint is a mapping of commands to run, e.g. {commands: [\"make test\"]}",
      ])
  }

  @Test(
    "valid durations",
    arguments: [
      ("10m", 600.0), ("90s", 90), ("1h", 3600), ("1h30m", 5400), ("500ms", 0.5), ("42", 42),
      ("1.5", 1.5), ("1m 15s", 75), (" 2m ", 120),
    ])
  func validDurations(text: String, seconds: Double) {
    #expect(Durations.parse(text) == seconds)
  }

  @Test(
    "invalid durations",
    arguments: [
      "", "0", "0s", "-5", "-1m", "10 minutes", "1x", "m", "1e3", "inf", "nan", "1..2s", "10m-",
      "0x10",
    ])
  func invalidDurations(text: String) {
    #expect(Durations.parse(text) == nil)
  }

  @Test("seconds under a minute read as %.1f prints them")
  func formatTenths() {
    var values = (0..<600).map { Double($0) / 10 } + (0..<600).map { Double($0) / 10 + 0.05 }
    values += [0.25, 0.75, 1.25, 2.675, 0.04999999, 0.0000001, 59.94, 12.3456, 1e-9, 0.15000000000000002]
    for value in values where value < 59.95 {
      #expect(Durations.format(value) == String(format: "%.1f s", value), "\(value)")
    }
  }

  @Test("durations are formatted for people")
  func formatDurations() {
    #expect(Durations.format(75) == "1m 15s")
    #expect(Durations.format(3.2) == "3.2 s")
    #expect(Durations.format(41.23) == "41.2 s")
    #expect(Durations.format(120) == "2m")
    #expect(Durations.format(5400) == "1h 30m")
    #expect(Durations.format(7200) == "2h")
    #expect(Durations.format(-3) == "0.0 s")
    #expect(Durations.format(.infinity) == "unknown")
  }

  @Test("bad timeouts in a plan name their field")
  func badTimeouts() throws {
    let text = validPlanYAML(top: "timeout: 0")
      .replacingOccurrences(
        of: "commands: [\"swift test\"]", with: "commands: [\"swift test\"]\n      timeout: soon"
      )
      .replacingOccurrences(
        of: "commands: [\"swift test --filter Auth\"]", with: "{commands: [x], timeout: -5}")
    let error = try #require(planError(text))
    #expect(
      error.diagnostics.map(\.description) == [
        "plan.yml:3: timeout: 0 is not a positive duration; use a positive duration such as 90s, 10m, 1h30m, 500ms, or a number of seconds",
        "plan.yml:10: sub-task 'models': checkpoint.timeout: 'soon' is not a duration; use a positive duration such as 90s, 10m, 1h30m, 500ms, or a number of seconds",
        "plan.yml:15: sub-task 'auth': checkpoint.timeout: -5 is not a positive duration; use a positive duration such as 90s, 10m, 1h30m, 500ms, or a number of seconds",
      ])
  }

  @Test("unknown dependencies are refused")
  func unknownDependency() throws {
    let problem = try #require(
      onlyProblem(validPlanYAML().replacingOccurrences(of: "[models]", with: "[modles]")))
    #expect(
      problem.description
        == "plan.yml:12: sub-task 'auth': dependencies: unknown sub-task 'modles'; use the id of an earlier sub-task"
    )
  }

  @Test("a dependency on a later sub-task is refused, saying so")
  func laterDependency() throws {
    let problem = try #require(
      onlyProblem(
        validPlanYAML(subtask: "dependencies: [auth]").replacingOccurrences(
          of: "dependencies: [models]", with: "")))
    #expect(problem.subtask == "models")
    #expect(problem.field == "dependencies")
    #expect(
      problem.message.hasPrefix(
        "'auth' comes later (order 2); sub-tasks run one at a time in order"))
  }

  @Test("dependency cycles are refused, naming the cycle")
  func cycles() throws {
    let error = try #require(
      planError(
        """
        id: demo
        subtasks:
          - { id: a, prompt: a, dependencies: [c], checkpoint: { commands: [a] } }
          - { id: b, prompt: b, dependencies: [a], checkpoint: { commands: [b] } }
          - { id: c, prompt: c, dependencies: [b], checkpoint: { commands: [c] } }
          - { id: d, prompt: d, dependencies: [d], checkpoint: { commands: [d] } }
        """))
    #expect(
      error.diagnostics.map(\.description) == [
        "plan.yml:3: sub-task 'a': dependencies: dependency cycle: a → c → b → a; remove one of these dependencies",
        "plan.yml:6: sub-task 'd': dependencies: dependency cycle: d → d; remove one of these dependencies",
      ])
  }

  @Test("a long dependency chain is checked without recursion")
  func longChain() throws {
    let count = 20_000
    let subtasks: [[String: Any]] = (0..<count).map { index in
      [
        "id": "s\(index)", "prompt": "p", "dependencies": index > 0 ? ["s\(index - 1)"] : [],
        "checkpoint": ["commands": ["true"]],
      ]
    }
    let plan = try PlanReader.parse(
      object: ["id": "chain", "subtasks": subtasks], fileName: "chain")
    #expect(plan.subtasks.count == count)
    var cyclic = subtasks
    cyclic[0]["dependencies"] = ["s\(count - 1)"]
    let error = try #require(
      planError {
        try PlanReader.parse(object: ["id": "chain", "subtasks": cyclic], fileName: "chain")
      })
    #expect(error.diagnostics.count == 1)
    #expect(error.diagnostics[0].message.hasPrefix("dependency cycle: s0 → s19999 → s19998"))
  }

  @Test("agents: presets and commands are valid, a bare word is a command, an empty value is not")
  func agents() throws {
    for agent in [
      "claude", "aider", "openhands", "script", "Claude", "./my-agent.sh", "my-agent --yes",
      "/usr/bin/agent", "codex",
    ] {
      #expect(throws: Never.self) { try parsePlan(validPlanYAML(top: "agent: \"\(agent)\"")) }
    }
    let problem = try #require(onlyProblem(validPlanYAML(top: "fix_agent: \"\"")))
    #expect(
      problem.description
        == "plan.yml:3: fix_agent: agent is empty; use one of claude, aider, openhands, or a command such as './my-agent.sh'"
    )
  }

  @Test("agent presets run the command lines checked against the real CLIs")
  func presetCommandLines() {
    #expect(
      AgentPreset.claude.commandLine
        == "claude -p --permission-mode acceptEdits --allowedTools Bash,Edit,Write,Read,NotebookEdit --output-format stream-json --verbose"
    )
    #expect(AgentPreset.aider.commandLine?.hasPrefix("aider --yes-always --no-auto-commits --no-gitignore ") == true)
    #expect(AgentPreset.aider.commandLine?.hasSuffix(" --message-file \"$ORCHESTRATE_PROMPT_FILE\"") == true)
    #expect(AgentPreset.aider.agentFiles == [".aider*"])
    #expect(
      AgentPreset.openhands.commandLine == "openhands --headless --override-with-envs -f \"$ORCHESTRATE_PROMPT_FILE\"")
    #expect(AgentPreset.script.commandLine == nil)
    #expect(AgentPreset.resolve("claude") == AgentPreset.claude.commandLine)
    #expect(AgentPreset.resolve("./agent.sh") == "./agent.sh")
    #expect(AgentPreset.resolve("agent --fast") == "agent --fast")
    #expect(AgentPreset.resolve("codex") == "codex")
    #expect(AgentPreset.resolve("  ") == nil)
  }

  @Test("an agent's program: the first word after assignments, nil behind a shell construct")
  func agentProgram() {
    #expect(AgentCheck.program(of: "claude -p") == "claude")
    #expect(AgentCheck.program(of: "IS_SANDBOX=1 claude -p --permission-mode bypassPermissions") == "claude")
    #expect(AgentCheck.program(of: "'/opt/my agent/run' --fast") == "/opt/my agent/run")
    #expect(AgentCheck.program(of: "./fix.sh") == "./fix.sh")
    #expect(AgentCheck.program(of: "cd sub && make") == nil)
    #expect(AgentCheck.program(of: "$HOME/bin/agent") == nil)
    #expect(AgentCheck.program(of: "(exec agent)") == nil)
  }

  @Test("an agent that cannot start is named with what to do; one on PATH or a preset whose program is there passes")
  func agentProblems() throws {
    let bin = FileManager.default.temporaryDirectory.appendingPathComponent("agents-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: bin) }
    for name in ["aider", "codex"] {
      FileManager.default.createFile(atPath: bin.path + "/" + name, contents: Data("#!/bin/sh\n".utf8))
      chmod(bin.path + "/" + name, 0o755)
    }
    FileManager.default.createFile(atPath: bin.path + "/not-executable", contents: Data())
    func problem(_ value: String) -> String? {
      AgentCheck.problem(with: .init(value: value, source: "--agent"), path: bin.path, directory: bin.path)
    }
    #expect(problem("aider") == nil)
    #expect(problem("codex") == nil)
    #expect(problem("codex --full-auto") == nil)
    #expect(problem("./codex") == nil)
    #expect(problem("script") == nil)
    #expect(problem("claude")?.hasPrefix("--agent 'claude' cannot start: no 'claude' on PATH; install Claude Code") == true)
    #expect(problem("gpt")?.contains("is neither a preset (claude, aider, openhands, script) nor a program on PATH") == true)
    #expect(problem("./not-executable")?.contains("does not exist or is not executable") == true)
    #expect(problem("./missing.sh --x")?.contains("does not exist or is not executable") == true)
    #expect(problem("gpt --x")?.contains("no 'gpt' on PATH") == true)
  }

  @Test("max_attempts must be between 1 and 100", arguments: ["0", "101", "-1", "three", "2.5"])
  func maxAttempts(value: String) throws {
    let problem = try #require(onlyProblem(validPlanYAML(top: "max_attempts: \(value)")))
    #expect(problem.field == "max_attempts")
    #expect(problem.line == 3)
  }

  @Test("complexity is one of four, case-insensitively")
  func complexity() throws {
    #expect(
      try parsePlan(validPlanYAML(subtask: "complexity: LARGE")).subtasks[0].complexity == .large)
    #expect(try parsePlan(validPlanYAML()).subtasks[0].complexity == .medium)
    let problem = try #require(onlyProblem(validPlanYAML(subtask: "estimated_complexity: huge")))
    #expect(
      problem.description
        == "plan.yml:7: sub-task 'models': estimated_complexity: unknown complexity 'huge'; use small, medium, large or massive"
    )
    #expect(Complexity.allCases.map(\.weight) == [1, 2, 4, 8])
  }

  @Test("main_branch must be a valid branch name")
  func mainBranch() throws {
    #expect(
      try parsePlan(validPlanYAML(top: "main_branch: release/1.0")).mainBranch == "release/1.0")
    let problem = try #require(onlyProblem(validPlanYAML(top: "main_branch: release//x")))
    #expect(problem.field == "main_branch")
  }

  @Test("every problem is reported at once")
  func allAtOnce() throws {
    let text = """
      id: bad id
      max_attempts: 0
      agent: ""
      timeout: forever
      subtasks:
        - id: a/b
          complexity: tiny
          checkpoint: { description: it works }
        - id: ok
          dependencies: [ghost]
          checkpoint: { commands: [] }
        - id: ok
          checkpoint: { commands: ["make"], timeout: 1y }
      final_checkpoint: { commands: [1] }
      """
    let error = try #require(planError(text))
    #expect(
      error.diagnostics.map { $0.field ?? "" } == [
        "id", "agent", "max_attempts", "timeout", "final_checkpoint.commands[0]", "id",
        "complexity",
        "checkpoint.commands", "checkpoint.commands", "checkpoint.timeout", "id", "dependencies",
      ])
    #expect(error.diagnostics.allSatisfy { $0.line != nil && $0.file == "plan.yml" })
    #expect(
      error.errorDescription!.hasPrefix(
        "invalid plan plan.yml: 12 problems:\n  plan.yml:1: id: plan id 'bad id'"))
  }

  @Test("checkpoint hashes depend on the commands only")
  func commandsHash() throws {
    let a = Checkpoint(description: "one", commands: ["make", "make test"], timeout: 5)
    let b = Checkpoint(description: "two", commands: ["make", "make test"])
    let c = Checkpoint(commands: ["make test", "make"])
    #expect(a.commandsHash == b.commandsHash)
    #expect(a.commandsHash != c.commandsHash)
    #expect(a.commandsHash.count == 64)
    #expect(
      Checkpoint.canonicalJSON(["a\"b", "c\\d\n\u{1}"]) == "[\"a\\\"b\",\"c\\\\d\\n\\u0001\"]")
    // Cross-check with the system's sha256sum over the same canonical JSON.
    let json = Checkpoint.canonicalJSON(a.commands)
    let result = runCommand("/usr/bin/env", ["sha256sum"], in: URL(fileURLWithPath: "/"), input: json).stdout
    #expect(result.hasPrefix(a.commandsHash + " "))
  }

  @Test("SHA-256 matches the standard test vectors")
  func sha256Vectors() {
    #expect(
      SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(
      SHA256.hex(Array("abc".utf8))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(
      SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }
}
