import Foundation
import MCP
import OrchestrateKit

/// `complete_subtask`: validates the sub-task itself and, on a pass, lands it on main as one commit.
enum CompleteSubtask: OrchestrationTool {
  static let definition = Tool(
    name: "complete_subtask",
    title: "Complete a sub-task",
    description: """
      Marks the current sub-task complete, but only if its checkpoint passes: the server validates the \
      files in `workdir` itself (a pass already recorded for exactly these files counts; \
      `checkpoint_result` sent by the caller is recorded but never trusted). On a pass the work becomes \
      one commit on the sub-task's branch and main fast-forwards to it, exactly as \
      `git orchestrate run` does; your checkout is brought up to date. On a failure nothing reaches \
      main: it returns `completed: false` with the reason and output, and the attempt is kept on the \
      branch; fix it and call again. Call it after validate_checkpoint passed, then get_next_subtask. \
      Returns {completed, commit, reason, progress}.
      """,
    inputSchema: Schema.object(
      [
        "master_task_id": CommonSchema.masterTaskID,
        "subtask_id": CommonSchema.subtaskID,
        "checkpoint_result": [
          "description": "Optional: what the caller's own validation said. Recorded, never trusted."
        ],
        "artifacts": Schema.strings("Optional: files the caller says it created. The commit lists the real changes."),
      ], required: ["master_task_id", "subtask_id"]),
    annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false),
    outputSchema: Schema.output(
      [
        "completed": Schema.boolean("True when the sub-task's commit is now on main."),
        "commit": Schema.nullableString("The sub-task's commit on main; null when not completed."),
        "reason": Schema.string("Why it was or was not completed, in a sentence."),
        "error": Schema.nullableString("The failing command's output tail; null when completed."),
        "results": Schema.list(
          Schema.commandResult, "Each checkpoint command that ran now (empty for a recorded pass)."),
        "progress": Schema.progress,
        "master_task_id": CommonSchema.masterTaskID,
        "subtask_id": CommonSchema.subtaskID,
        "branch": Schema.string("The sub-task's branch."),
        "main_branch": Schema.string("The branch that receives sub-task commits."),
        "attempts": Schema.integer("Attempts it took, this one included when completed; else failed attempts so far."),
        "artifacts": Schema.strings("The files the sub-task's commit changed (empty when not completed)."),
        "caller_checkpoint_result": [
          "description": "The checkpoint_result the caller sent, as recorded; null if none."
        ],
        "has_next": Schema.boolean("True when another sub-task remains."),
        "fix_prompt": Schema.nullableString("When not completed, a prompt for a fix agent; else null."),
        "notices": CommonSchema.notices,
      ],
      required: [
        "completed", "commit", "reason", "error", "results", "progress", "master_task_id", "subtask_id", "branch",
        "main_branch", "attempts", "artifacts", "caller_checkpoint_result", "has_next", "fix_prompt", "notices",
      ]))

  static func call(_ arguments: Arguments, on host: isolated OrchestrationHost) throws -> Value {
    try arguments.allowOnly(["master_task_id", "subtask_id", "checkpoint_result", "artifacts"])
    let subtaskID = try arguments.string("subtask_id", hint: "give the id get_next_subtask returned")
    let stored = try host.storedPlan(try arguments.optionalString("master_task_id"))
    let claimed = arguments.values["checkpoint_result"] ?? .null
    let claimedArtifacts = arguments.values["artifacts"] ?? .null
    let session = try host.session(for: stored)
    var cycle = try host.begin(session, subtaskID: subtaskID)
    host.logger.info(
      "complete_subtask \(stored.plan.id)/\(subtaskID): caller says checkpoint_result=\(claimed.jsonText) artifacts=\(claimedArtifacts.jsonText); validating itself"
    )
    let verdict = try session.check(cycle)
    let settlement = try session.settle(&cycle, verdict)
    var result: [String: Value] = [
      "master_task_id": .string(stored.plan.id), "subtask_id": .string(subtaskID), "branch": .string(cycle.branch),
      "main_branch": .string(session.mainName), "caller_checkpoint_result": claimed, "results": ValidateCheckpoint.results(verdict),
    ]
    switch settlement {
    case .landed(let landing):
      do {
        try session.updateUserCheckout()
      } catch {
        host.events.note("main moved, but your checkout could not be brought up to date: \(error.localizedDescription)")
      }
      let status = try host.status(stored)
      result.merge([
        "completed": true, "commit": .string(landing.commit.hex),
        "reason": .string(
          "sub-task '\(subtaskID)' passed its checkpoint and is on \(session.mainName) as \(landing.commit.hex.prefix(10))"
            + (verdict.cached ? " (checkpoint recorded for exactly these files)" : "")),
        "error": .null, "progress": OrchestrationHost.progress(status), "attempts": .int(landing.attempts),
        "artifacts": .array(landing.artifacts.map { .string($0) }), "has_next": .bool(!status.isComplete),
        "fix_prompt": .null, "notices": .array(host.events.take().map { .string($0) }),
      ]) { _, new in new }
    case .retry(let failure, let attemptCommit):
      // The failure is the verdict's, or that of the work replayed onto a main that moved.
      let failed = ValidateCheckpoint.fields(
        .failed(tree: verdict.tree, failure: failure, results: verdict.results, seconds: verdict.seconds),
        plan: session.plan, cycle: cycle, attemptCommit: attemptCommit.hex, notices: host.events.take())
      let status = try host.status(stored)
      result.merge([
        "completed": false, "commit": .null,
        "reason": .string(
          "not completed: \(failed["reason"]?.stringValue ?? "the checkpoint failed"); nothing was put on \(session.mainName). Fix the work in \(cycle.workdir) and call again"
        ),
        "error": failed["error"] ?? .null, "progress": OrchestrationHost.progress(status),
        "attempts": .int(cycle.attempts), "artifacts": [], "has_next": true,
        "fix_prompt": failed["fix_prompt"] ?? .null, "notices": failed["notices"] ?? [],
      ]) { _, new in new }
    case .conflict(let paths, _):
      throw OrchestrateError.replayConflict(subtask: subtaskID, paths: paths, branch: cycle.branch)
    }
    return .object(result)
  }
}
