import Foundation
import MCP
import OrchestrateKit

/// `decompose_task`: stores a plan (the task-decomposer's output) after the same validation as `plan add`.
enum DecomposeTask: OrchestrationTool {
  static let definition = Tool(
    name: "decompose_task",
    title: "Store a decomposed task as a plan",
    description: """
      Stores a task decomposed into ordered sub-tasks as a plan in the repository, so it can be run \
      with get_next_subtask. Call it once, after breaking a large task down, before the master loop. \
      Give {task_id, description, subtasks: [{id, order, description, orchestration_prompt, \
      estimated_complexity, success_criteria, dependencies, checkpoint: {description, commands}}]} or \
      the whole TASK_DECOMPOSITION.json object ({master_task: {id, description}, subtasks: [...]}). \
      Every checkpoint needs `commands`: shell commands that all exit 0 when the sub-task is done \
      (e.g. ["pytest tests/test_models.py"]); a checkpoint without commands is refused, naming the \
      sub-task. The same plan again changes nothing; a different plan under a stored id needs \
      `replace: true`, and only a plan this server session stored itself, nothing of which has run, \
      can be replaced: the user's plans are theirs. The server may be started with plan creation \
      off (--no-plan-creation), and then stores no plan. Returns {master_task_id, total_subtasks}.
      """,
    inputSchema: Schema.object(
      [
        "task_id": Schema.string("The plan's id: letters, digits, '-', '_' or '.'; it becomes part of branch names."),
        "description": Schema.string("The whole task, in a sentence."),
        "strategy": Schema.string(
          "Optional and ignored but for a warning: the sub-tasks' dependencies say which may run at once (get_next_subtask with count)."
        ),
        "master_task": Schema.object(
          ["id": Schema.string("The plan's id."), "description": Schema.string("The whole task.")], required: ["id"],
          additional: true),
        "subtasks": Schema.list(
          Schema.object(
            [
              "id": Schema.string("The sub-task's id (part of its branch name)."),
              "order": Schema.integer("Its position, from 1."),
              "description": Schema.string("What it is, in a line."),
              "orchestration_prompt": Schema.string("What the conductor is asked to do."),
              "estimated_complexity": ["type": "string", "enum": ["small", "medium", "large", "massive"]],
              "success_criteria": Schema.strings("What success looks like, in words."),
              "dependencies": Schema.strings("Ids of earlier sub-tasks it builds on."),
              "checkpoint": Schema.object(
                [
                  "description": Schema.string("What the checkpoint proves."),
                  "commands": Schema.strings("Shell commands run in the sub-task's directory; all must exit 0."),
                  "timeout": Schema.string("Optional limit per command, e.g. 10m."),
                ], required: ["commands"], additional: true),
            ], required: ["id", "checkpoint"], additional: true),
          "The sub-tasks, in order."),
        "replace": Schema.boolean(
          "Replace a different stored plan with this id: only one this session stored, if nothing of it has run."),
      ], required: ["subtasks"], additional: true),
    annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false),
    outputSchema: Schema.output(
      [
        "master_task_id": CommonSchema.masterTaskID,
        "total_subtasks": Schema.integer("Number of sub-tasks stored."),
        "subtasks": Schema.strings("The sub-task ids, in the order they will run."),
        "outcome": ["type": "string", "enum": ["added", "unchanged", "replaced"]],
        "warnings": Schema.strings("Things accepted but probably wrong (unknown keys, ignored strategy)."),
        "message": Schema.string("What to do next."),
      ], required: ["master_task_id", "total_subtasks", "subtasks", "outcome", "warnings", "message"]))

  static func call(_ arguments: Arguments, on host: isolated OrchestrationHost) throws -> Value {
    let replace = try arguments.optionalBool("replace") ?? false
    let strategy = try arguments.optionalString("strategy")
    guard arguments.has("subtasks") else {
      throw ToolError.missingArgument(
        tool: definition.name, name: "subtasks",
        hint: "give the ordered sub-tasks, each with id, description and checkpoint.commands")
    }
    var document = arguments.values
    document["replace"] = nil
    document["strategy"] = nil
    let plan = try PlanReader.parse(object: Value.object(document).foundationObject as Any, fileName: "decompose_task")
    var warnings = plan.warnings
    if let strategy, strategy.lowercased() != "sequential" {
      warnings.append(
        "strategy '\(strategy)' was ignored: the sub-tasks' dependencies say which may run at once; get_next_subtask with count hands out several ready ones"
      )
    }
    let orchestrator = try host.orchestrator()
    let existing = try orchestrator.store.find(plan.id)
    let same = try existing.map { try $0.plan.normalizedJSON() == plan.normalizedJSON() } ?? false
    if !same {
      guard host.allowsPlanCreation else {
        throw ToolError.invalid(
          "decompose_task: this server does not store plans (it was started with --no-plan-creation); ask the user to add plan '\(plan.id)' with 'git orchestrate plan add FILE', then call get_next_subtask"
        )
      }
      if let existing, replace, host.createdPlans[plan.id] != existing.commit.hex {
        throw ToolError.invalid(
          "decompose_task: plan '\(plan.id)' was not stored by this server session, so it is not yours to replace; give the new plan another task_id, or ask the user to replace it with 'git orchestrate plan add --replace FILE'"
        )
      }
    }
    try host.holdLock(planID: plan.id)
    let (stored, outcome) = try orchestrator.addPlan(plan, source: "mcp decompose_task", replace: replace)
    if outcome != .unchanged { host.recordCreated(planID: plan.id, commit: stored.commit.hex) }
    if outcome == .replaced { host.forgetSession(planID: plan.id) }
    return [
      "master_task_id": .string(stored.plan.id), "total_subtasks": .int(stored.plan.subtasks.count),
      "subtasks": .array(stored.plan.subtasks.map { .string($0.id) }), "outcome": .string(outcome.rawValue),
      "warnings": .array(warnings.map { .string($0) }),
      "message": .string(
        outcome == .unchanged
          ? "plan '\(plan.id)' was already stored as given; call get_next_subtask with master_task_id '\(plan.id)'"
          : "stored plan '\(plan.id)' (\(Plural.count(plan.subtasks.count, "sub-task"))); call get_next_subtask with master_task_id '\(plan.id)'"
      ),
    ]
  }
}
