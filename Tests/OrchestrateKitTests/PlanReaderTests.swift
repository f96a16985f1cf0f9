import Foundation
import TestSupport
import Testing

@testable import OrchestrateKit

@Suite("Plan reader")
struct PlanReaderTests {
  static let nativeYAML = """
    id: ecommerce
    description: Build complete e-commerce platform
    agent: claude
    fix_agent: ./fix-agent.sh --strict
    max_attempts: 3
    timeout: 1h30m
    main_branch: main
    subtasks:
      - id: models
        description: Database models
        prompt: Create database models for users, products, orders with migrations
        complexity: Medium
        success_criteria: [Models exist, Migrations run]
        checkpoint:
          description: All models created and migrations work
          commands: [python manage.py makemigrations --check, python manage.py migrate, pytest tests/test_models.py]
          timeout: 10m
      - id: auth
        description: Authentication
        run: [./scripts/scaffold-auth.sh]
        dependencies: [models]
        agent: script
        complexity: large
        checkpoint:
          commands: ["pytest tests/test_auth.py -v"]
          timeout: 90
    final_checkpoint: { commands: [make test] }

    """

  static let nativeJSON = """
    {
      "id": "ecommerce",
      "description": "Build complete e-commerce platform",
      "agent": "claude",
      "fix_agent": "./fix-agent.sh --strict",
      "max_attempts": 3,
      "timeout": "1h30m",
      "main_branch": "main",
      "subtasks": [
        {
          "id": "models",
          "description": "Database models",
          "prompt": "Create database models for users, products, orders with migrations",
          "complexity": "Medium",
          "success_criteria": ["Models exist", "Migrations run"],
          "checkpoint": {
            "description": "All models created and migrations work",
            "commands": ["python manage.py makemigrations --check", "python manage.py migrate", "pytest tests/test_models.py"],
            "timeout": "10m"
          }
        },
        {
          "id": "auth",
          "description": "Authentication",
          "run": ["./scripts/scaffold-auth.sh"],
          "dependencies": ["models"],
          "agent": "script",
          "complexity": "large",
          "checkpoint": { "commands": ["pytest tests/test_auth.py -v"], "timeout": 90 }
        }
      ],
      "final_checkpoint": { "commands": ["make test"] }
    }
    """

  @Test("the native YAML form gives every field")
  func nativeYAML() throws {
    let plan = try parsePlan(Self.nativeYAML)
    #expect(plan.id == "ecommerce")
    #expect(plan.description == "Build complete e-commerce platform")
    #expect(plan.agent == "claude")
    #expect(plan.fixAgent == "./fix-agent.sh --strict")
    #expect(plan.maxAttempts == 3)
    #expect(plan.timeout == 5400)
    #expect(plan.mainBranch == "main")
    #expect(plan.subtasks.map(\.id) == ["models", "auth"])
    #expect(plan.subtasks.map(\.order) == [1, 2])
    let models = try #require(plan.subtask(id: "models"))
    #expect(models.complexity == .medium)
    #expect(models.prompt == "Create database models for users, products, orders with migrations")
    #expect(models.successCriteria == ["Models exist", "Migrations run"])
    #expect(models.checkpoint.commands.count == 3)
    #expect(models.checkpoint.timeout == 600)
    #expect(models.checkpoint.description == "All models created and migrations work")
    let auth = try #require(plan.subtask(id: "auth"))
    #expect(auth.run == ["./scripts/scaffold-auth.sh"])
    #expect(auth.dependencies == ["models"])
    #expect(auth.agent == "script")
    #expect(auth.prompt == "Authentication")
    #expect(auth.checkpoint.timeout == 90)
    #expect(plan.finalCheckpoint?.commands == ["make test"])
    #expect(plan.warnings.isEmpty)
    #expect(plan.subtask(id: "nope") == nil)
  }

  @Test("YAML and JSON of the same plan give equal plans")
  func yamlAndJSONAgree() throws {
    let yaml = try parsePlan(Self.nativeYAML, name: "plan.yml")
    let json = try parsePlan(Self.nativeJSON, name: "plan.json")
    #expect(yaml == json)
    let object = try JSONSerialization.jsonObject(with: Data(Self.nativeJSON.utf8))
    #expect(try PlanReader.parse(object: object, fileName: "arguments") == yaml)
  }

  @Test("normalized JSON round-trips and is canonical")
  func normalizedRoundTrip() throws {
    let plan = try parsePlan(Self.nativeYAML)
    let data = try plan.normalizedJSON()
    let text = try #require(String(data: data, encoding: .utf8))
    #expect(text.contains("\"fix_agent\" : \"./fix-agent.sh --strict\""))
    #expect(text.contains("\"success_criteria\""))
    #expect(text.contains("\"final_checkpoint\""))
    #expect(!text.contains("warnings"))
    #expect(try Plan.fromNormalizedJSON(data) == plan)
    #expect(try Plan.fromNormalizedJSON(data).normalizedJSON() == data)
    #expect(try parsePlan(Self.nativeJSON).normalizedJSON() == data)
  }

  @Test("warnings are neither encoded nor compared")
  func warningsExcluded() throws {
    let plan = try parsePlan(validPlanYAML(top: "owner: me"))
    #expect(plan.warnings.count == 1)
    var other = plan
    other.warnings = []
    #expect(other == plan)
    #expect(try Plan.fromNormalizedJSON(plan.normalizedJSON()).warnings.isEmpty)
  }

  @Test("a tampered normalized plan is refused")
  func tamperedNormalized() throws {
    var text = try #require(
      String(data: try parsePlan(Self.nativeYAML).normalizedJSON(), encoding: .utf8))
    text = text.replacingOccurrences(of: "\"id\" : \"auth\"", with: "\"id\" : \"../auth\"")
    let error = planError { try Plan.fromNormalizedJSON(Data(text.utf8)) }
    #expect(error?.diagnostics.first?.message.contains("'../auth'") == true)
  }

  @Test("the seed's TASK_DECOMPOSITION.json parses but is refused for its five prose checkpoints")
  func seedDecompositionRefused() throws {
    let path = planFixtures.appendingPathComponent("TASK_DECOMPOSITION.json").path
    let error = try #require(planError { try PlanReader.read(contentsOf: path) })
    let ids = [
      "checkpoint_foundation", "prism_integration_core", "hook_implementation",
      "pattern_detection_storage",
      "comprehensive_testing",
    ]
    #expect(error.diagnostics.count == 5)
    #expect(error.diagnostics.map(\.subtask) == ids)
    #expect(
      error.diagnostics.allSatisfy {
        $0.field == "checkpoint.commands" && $0.line != nil && $0.file == path
      })
    let text = try #require(error.errorDescription)
    #expect(text.hasPrefix("invalid plan \(path): 5 problems:\n"))
    for id in ids {
      #expect(text.contains("sub-task '\(id)': checkpoint.commands: checkpoint has no commands"))
    }
    #expect(
      text.contains(
        "sub-task 'checkpoint_foundation': checkpoint.commands: checkpoint has no commands (its description "
          + "\"Can track and skip processed transcript entries\" is prose, not a command); "
          + "add checkpoint.commands, e.g. [\"pytest -q\"]"))
    // Line 24 of the fixture opens the first sub-task's checkpoint.
    #expect(error.diagnostics[0].line == 24)
  }

  @Test("the seed's TASK_DECOMPOSITION.json is read as is once its checkpoints have commands")
  func seedDecompositionReadAsIs() throws {
    let data = try Data(contentsOf: planFixtures.appendingPathComponent("TASK_DECOMPOSITION.json"))
    var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    var subtasks = try #require(object["subtasks"] as? [[String: Any]])
    for index in subtasks.indices {
      var checkpoint = try #require(subtasks[index]["checkpoint"] as? [String: Any])
      checkpoint["commands"] = ["pytest -q"]
      subtasks[index]["checkpoint"] = checkpoint
    }
    object["subtasks"] = subtasks
    let plan = try PlanReader.parse(object: object, fileName: "TASK_DECOMPOSITION.json")
    #expect(plan.id == "agent_response_analyzer_system")
    #expect(plan.description.hasPrefix("Build a comprehensive agent response analyzer"))
    #expect(plan.subtasks.count == 5)
    #expect(plan.subtasks.map(\.order) == [1, 2, 3, 4, 5])
    #expect(plan.subtasks.map(\.complexity) == [.medium, .large, .medium, .large, .large])
    let first = plan.subtasks[0]
    #expect(first.prompt.hasPrefix("Implement a robust checkpoint system"))
    #expect(first.checkpoint.description == "Can track and skip processed transcript entries")
    #expect(first.successCriteria.count == 5)
    #expect(plan.subtasks[1].dependencies == ["checkpoint_foundation"])
    // progress, architecture_notes, checkpoint.type … are known and ignored: no warnings.
    #expect(plan.warnings.isEmpty)
    // The same through the file path (JSON text parsed by Yams, with lines).
    let text = try #require(
      String(data: try JSONSerialization.data(withJSONObject: object), encoding: .utf8))
    #expect(try parsePlan(text, name: "TASK_DECOMPOSITION.json") == plan)
  }

  @Test("the seed's field names and task_id are aliases in the native form too")
  func aliasesInNativeForm() throws {
    let plan = try parsePlan(
      """
      task_id: aliased
      subtasks:
        - task_id: one
          orchestration_prompt: Do one
          estimated_complexity: MASSIVE
          checkpoint: { validation: It works, commands: [make check] }
      """)
    #expect(plan.id == "aliased")
    #expect(plan.subtasks[0].id == "one")
    #expect(plan.subtasks[0].prompt == "Do one")
    #expect(plan.subtasks[0].complexity == .massive)
    #expect(plan.subtasks[0].checkpoint.description == "It works")
  }

  @Test("an alias that disagrees with its field is an error")
  func conflictingAlias() throws {
    let error = try #require(
      planError(validPlanYAML(subtask: "orchestration_prompt: Something else")))
    #expect(error.diagnostics.count == 1)
    #expect(error.diagnostics[0].subtask == "models")
    #expect(error.diagnostics[0].field == "orchestration_prompt")
    #expect(error.diagnostics[0].line == 7)
  }

  @Test("without orders, sub-tasks are numbered 1...n in file order")
  func fileOrder() throws {
    let plan = try parsePlan(validPlanYAML())
    #expect(plan.subtasks.map(\.id) == ["models", "auth"])
    #expect(plan.subtasks.map(\.order) == [1, 2])
  }

  @Test("given orders are kept, and sub-tasks are sorted by them")
  func givenOrders() throws {
    let plan = try parsePlan(
      """
      id: sorted
      subtasks:
        - { id: c, order: 30, prompt: c, checkpoint: { commands: [c] } }
        - { id: a, order: 10, prompt: a, checkpoint: { commands: [a] } }
        - { id: b, order: 20, prompt: b, dependencies: [a], checkpoint: { commands: [b] } }
      """)
    #expect(plan.subtasks.map(\.id) == ["a", "b", "c"])
    #expect(plan.subtasks.map(\.order) == [10, 20, 30])
  }

  @Test("unknown keys are warnings, with a suggestion for near misses")
  func unknownKeysWarn() throws {
    let plan = try parsePlan(
      validPlanYAML(top: "maxAttempts: 3\nowner: me", subtask: "estimate: 2h\ncheckpoint_extra: 1"))
    #expect(plan.maxAttempts == nil)
    #expect(plan.warnings.count == 4)
    #expect(
      plan.warnings.contains(
        "plan.yml:3: unknown key 'maxAttempts' (ignored); did you mean 'max_attempts'?"))
    #expect(plan.warnings.contains("plan.yml:4: unknown key 'owner' (ignored)"))
    #expect(
      plan.warnings.contains("plan.yml:8: sub-task 'models': unknown key 'estimate' (ignored)"))
  }

  @Test("read(contentsOf:) reads a file and names it in errors")
  func readsFiles() throws {
    try withTemporaryDirectory { directory in
      let path = directory.appendingPathComponent("plan.yml").path
      try Data(validPlanYAML().utf8).write(to: URL(fileURLWithPath: path))
      #expect(try PlanReader.read(contentsOf: path).id == "demo")

      let missing = directory.appendingPathComponent("missing.yml").path
      let error = try #require(planError { try PlanReader.read(contentsOf: missing) })
      #expect(
        error.errorDescription
          == "invalid plan \(missing): 1 problem:\n  \(missing): no such plan file; check the path, or create one (see `git orchestrate plan`)"
      )

      let directoryError = try #require(
        planError { try PlanReader.read(contentsOf: directory.path) })
      #expect(directoryError.diagnostics[0].message.hasPrefix("is a directory"))
    }
  }
}
