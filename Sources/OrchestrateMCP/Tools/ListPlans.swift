import Foundation
import MCP
import OrchestrateKit

/// `list_plans`: the plans stored in the repository, with their progress.
enum ListPlans: OrchestrationTool {
  static let definition = Tool(
    name: "list_plans",
    title: "List the stored plans",
    description: """
      Lists the plans (master tasks) stored in this repository with their progress. Read-only; call \
      it to find a `master_task_id` when you do not have one, or to check whether a plan already \
      exists before decompose_task. Returns {plans: [{id, description, total_subtasks, completed, \
      progress_percentage, current_subtask}]}.
      """,
    inputSchema: Schema.object([:]),
    annotations: .init(readOnlyHint: true, idempotentHint: true, openWorldHint: false),
    outputSchema: Schema.output(
      [
        "plans": Schema.list(
          Schema.object(
            [
              "id": CommonSchema.masterTaskID,
              "description": Schema.string("The plan's description."),
              "total_subtasks": Schema.integer("Number of sub-tasks."),
              "completed": Schema.integer("Sub-tasks whose commit is on main."),
              "progress_percentage": Schema.number("Completed / total × 100, one decimal."),
              "current_subtask": Schema.nullableString("The next sub-task to work on; null when complete."),
            ],
            required: ["id", "description", "total_subtasks", "completed", "progress_percentage", "current_subtask"]),
          "The stored plans, sorted by id.")
      ], required: ["plans"]))

  static func call(_ arguments: Arguments, on host: isolated OrchestrationHost) throws -> Value {
    try arguments.allowOnly([])
    var plans: [Value] = []
    for stored in try host.orchestrator().store.list() {
      let status = try host.status(stored)
      plans.append([
        "id": .string(stored.plan.id), "description": .string(stored.plan.description),
        "total_subtasks": .int(status.totalSubtasks), "completed": .int(status.completedSubtasks.count),
        "progress_percentage": .double(status.progressPercentage),
        "current_subtask": .nullable(status.subtaskDetails.first { $0.state != .completed }?.id),
      ])
    }
    return ["plans": .array(plans)]
  }
}
