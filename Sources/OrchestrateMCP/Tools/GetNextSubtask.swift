import MCP
import OrchestrateKit

/// `get_next_subtask`: hands out the next sub-task, with its branch and working directory ready.
enum GetNextSubtask: OrchestrationTool {
  static let definition = Tool(
    name: "get_next_subtask",
    title: "Get the next sub-task",
    description: """
      Returns the next sub-task of a plan to work on, in order, and prepares it: its git branch \
      exists and `workdir` (an absolute directory) holds the code as of main plus any work already \
      done on this sub-task. Call it at the start of every iteration of the master loop. Do ALL the \
      sub-task's work inside `workdir` (give `orchestration_prompt` to the conductor; it says so), do \
      not commit there, then call validate_checkpoint and complete_subtask. Asking again for the same \
      sub-task returns the same answer and keeps the work done so far. When every sub-task is done it \
      returns `has_next: false` and no `subtask`. Returns {has_next, subtask: {id, order, description, \
      orchestration_prompt, estimated_complexity, checkpoint: {description, commands}}, progress: \
      {total, completed, current}, branch, workdir}.
      """,
    inputSchema: Schema.object(["master_task_id": CommonSchema.masterTaskID], required: ["master_task_id"]),
    annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false),
    outputSchema: Schema.output(
      [
        "has_next": Schema.boolean("False when every sub-task is complete."),
        "master_task_id": CommonSchema.masterTaskID,
        "subtask": Schema.object(
          [
            "id": Schema.string("The sub-task's id: pass it to validate_checkpoint and complete_subtask."),
            "order": Schema.integer("Its position in the plan, from 1."),
            "description": Schema.string("What the sub-task is."),
            "orchestration_prompt": Schema.string(
              "The full prompt for the conductor: what to build, the checkpoint, and the directory to work in."),
            "estimated_complexity": Schema.string("small, medium, large or massive."),
            "success_criteria": Schema.strings("What success looks like, in words."),
            "dependencies": Schema.strings("Ids of earlier sub-tasks it builds on."),
            "checkpoint": Schema.object(
              [
                "description": Schema.string("What the checkpoint proves."),
                "commands": Schema.strings("The commands the server runs; every one must exit 0."),
              ], required: ["description", "commands"]),
          ],
          required: [
            "id", "order", "description", "orchestration_prompt", "estimated_complexity", "success_criteria",
            "dependencies", "checkpoint",
          ]),
        "progress": Schema.progress,
        "branch": Schema.string("The sub-task's git branch, where failed attempts are kept."),
        "workdir": Schema.string("The absolute directory where all of the sub-task's work must be done."),
        "attempts": Schema.integer("Failed attempts already recorded for this sub-task."),
        "message": Schema.string("What to do next, in a sentence."),
        "notices": CommonSchema.notices,
      ], required: ["has_next", "master_task_id", "progress", "message", "notices"]))

  static func call(_ arguments: Arguments, on host: isolated OrchestrationHost) throws -> Value {
    try arguments.allowOnly(["master_task_id"])
    let id = try arguments.string("master_task_id", hint: "give the plan's id (list_plans lists them)")
    let stored = try host.storedPlan(id)
    let session = try host.session(for: stored)
    let plan = session.plan
    guard let subtask = try session.nextSubtask() else {
      let status = try host.status(stored)
      return [
        "has_next": false, "master_task_id": .string(plan.id), "progress": OrchestrationHost.progress(status),
        "message": .string(
          "all \(Plural.count(plan.subtasks.count, "sub-task")) of plan '\(plan.id)' are complete and on \(session.mainName); nothing is left to do"
        ),
        "notices": .array(host.events.take().map { .string($0) }),
      ]
    }
    // red_first: the checkpoint must fail before any work; a pass is an error naming the sub-task.
    try session.checkRedFirst(subtask)
    let cycle = try host.begin(session, subtaskID: subtask.id)
    let status = try host.status(stored)
    let prompt = Prompts.orchestration(plan: plan, subtask: subtask, workdir: cycle.workdir)
    let started = cycle.fresh ? "Start" : "Continue"
    return [
      "has_next": true,
      "master_task_id": .string(plan.id),
      "subtask": [
        "id": .string(subtask.id), "order": .int(subtask.order), "description": .string(subtask.description),
        "orchestration_prompt": .string(prompt), "estimated_complexity": .string(subtask.complexity.rawValue),
        "success_criteria": .array(subtask.successCriteria.map { .string($0) }),
        "dependencies": .array(subtask.dependencies.map { .string($0) }),
        "checkpoint": [
          "description": .string(subtask.checkpoint.description),
          "commands": .array(subtask.checkpoint.commands.map { .string($0) }),
        ],
      ],
      "progress": OrchestrationHost.progress(status),
      "branch": .string(cycle.branch),
      "workdir": .string(cycle.workdir),
      "attempts": .int(cycle.attempts),
      "message": .string(
        "\(started) sub-task \(subtask.order)/\(plan.subtasks.count) '\(subtask.id)' in \(cycle.workdir), then call validate_checkpoint and complete_subtask"
      ),
      "notices": .array(host.events.take().map { .string($0) }),
    ]
  }
}
