import Foundation
import MCP
import OrchestrateKit

/// `get_decomposition_status`: a plan's progress, the fields of `git orchestrate status --json`.
enum GetDecompositionStatus: OrchestrationTool {
  static let detail = Schema.object(
    [
      "id": Schema.string("The sub-task's id."),
      "order": Schema.integer("Its position, from 1."),
      "description": Schema.string("What it is."),
      "state": ["type": "string", "enum": ["completed", "failed", "in_progress", "interrupted", "pending"]],
      "commit": Schema.string("Its commit on main when completed, else the tip of its branch."),
      "attempts": Schema.integer("Attempts: of the landed commit when completed, else failed ones so far."),
      "duration_seconds": Schema.number("How long it took, when completed."),
      "branch": Schema.string("Its branch."),
      "cost_usd": Schema.number("US dollars its agents reported, every attempt counted; absent when none reported a cost."),
      "input_tokens": Schema.integer("Input tokens its agents reported; absent when none did."),
      "output_tokens": Schema.integer("Output tokens its agents reported; absent when none did."),
    ], required: ["id", "order", "description", "state", "attempts", "branch"])

  static let cost = Schema.object(
    [
      "spent_usd": Schema.nullableNumber("US dollars the agents reported so far, failed attempts included; null when none did."),
      "input_tokens": Schema.nullable(Schema.integer("Input tokens reported so far.")),
      "output_tokens": Schema.nullable(Schema.integer("Output tokens reported so far.")),
      "attempts_reported": Schema.integer("Attempts whose agent reported a cost."),
      "attempts_unreported": Schema.integer("Attempts whose agent reported none (never estimated)."),
      "estimated_remaining_usd": Schema.nullableNumber("An estimate of the cost left, from the measured cost per complexity; null until measurable."),
      "estimated_remaining": Schema.string("That estimate in words, marked as an estimate (\"~$1.20 estimated\")."),
      "budget_usd": Schema.nullableNumber("The plan's max_cost, else git config orchestrate.maxCost; null when none."),
    ],
    required: [
      "spent_usd", "input_tokens", "output_tokens", "attempts_reported", "attempts_unreported",
      "estimated_remaining_usd", "estimated_remaining", "budget_usd",
    ])

  static let definition = Tool(
    name: "get_decomposition_status",
    title: "Get a plan's progress",
    description: """
      Reports a plan's progress, computed from git history alone: how many sub-tasks, which are \
      completed (their commits are on main), which one is current, the percentage, an estimate of the \
      time remaining from measured durations, what the agents cost (as they reported it) with an estimate \
      of the cost left, and per sub-task its state (completed, failed, \
      in_progress, interrupted, pending), commit, attempts and branch. Read-only; call it to report progress after \
      each sub-task (the seed's report_progress) or at any time. Returns exactly the fields of \
      `git orchestrate status --json`: {master_task_id, description, main_branch, total_subtasks, \
      completed_subtasks, progress_percentage, estimated_remaining, estimated_remaining_seconds, \
      current_subtask, subtask_details, workdir, cost}.
      """,
    inputSchema: Schema.object(["master_task_id": CommonSchema.masterTaskID], required: ["master_task_id"]),
    annotations: .init(readOnlyHint: true, idempotentHint: true, openWorldHint: false),
    outputSchema: Schema.output(
      [
        "master_task_id": CommonSchema.masterTaskID,
        "description": Schema.string("The plan's description."),
        "main_branch": Schema.string("The branch that receives sub-task commits."),
        "total_subtasks": Schema.integer("Number of sub-tasks."),
        "completed_subtasks": Schema.strings("Ids of the completed sub-tasks, in order."),
        "progress_percentage": Schema.number("Completed / total × 100, one decimal."),
        "estimated_remaining": Schema.string("The time left, in words."),
        "estimated_remaining_seconds": Schema.nullableNumber("The time left in seconds; null until measurable."),
        "current_subtask": Schema.nullableString("The sub-task being worked on, if any."),
        "subtask_details": Schema.list(detail, "Every sub-task, in order."),
        "workdir": Schema.string("The plan's work folder (a linked worktree outside your checkout)."),
        "cost": cost,
      ],
      required: [
        "master_task_id", "description", "main_branch", "total_subtasks", "completed_subtasks",
        "progress_percentage", "estimated_remaining", "estimated_remaining_seconds", "current_subtask",
        "subtask_details", "workdir",
      ]))

  static func call(_ arguments: Arguments, on host: isolated OrchestrationHost) throws -> Value {
    try arguments.allowOnly(["master_task_id"])
    let stored = try host.storedPlan(try arguments.optionalString("master_task_id"))
    return try Value.encoding(try host.status(stored))
  }
}
