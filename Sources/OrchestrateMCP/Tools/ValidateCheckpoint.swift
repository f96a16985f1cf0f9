import Foundation
import MCP
import OrchestrateKit

/// `validate_checkpoint`: runs the sub-task's checkpoint commands, from the plan, in its workdir.
enum ValidateCheckpoint: OrchestrationTool {
  static let definition = Tool(
    name: "validate_checkpoint",
    title: "Validate a sub-task's checkpoint",
    description: """
      Runs the checkpoint of the current sub-task: the server itself runs the plan's checkpoint commands \
      in the sub-task's `workdir`, on exactly the files there now, and reports each command's exit code \
      and output. Call it after the work for the sub-task is done, and again after each fix. A failure \
      is kept as an attempt on the sub-task's branch; fix what `reason` and `error` say (the returned \
      `fix_prompt` is ready for a fix agent) and validate again. A pass is remembered for this exact \
      tree, so complete_subtask right after does not run the commands again. Only a sub-task \
      get_next_subtask handed out (or the next one) can be validated, each in its own `workdir`. `test_commands` (the seed's form) is accepted only when equal to the plan's \
      commands: the server never runs commands sent by the caller. Returns {passed, reason, error, \
      results: [{command, exit_code, duration_seconds, output_tail}]}.
      """,
    inputSchema: Schema.object(
      [
        "master_task_id": CommonSchema.masterTaskID,
        "subtask_id": CommonSchema.subtaskID,
        "checkpoint_description": Schema.string("Ignored; the plan's checkpoint is used."),
        "test_commands": Schema.strings("Optional; must equal the plan's checkpoint commands if given."),
      ], required: ["subtask_id"]),
    annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false),
    outputSchema: Schema.output(
      [
        "passed": Schema.boolean("True when every checkpoint command exited 0 on the current files."),
        "reason": Schema.string("Why it passed or failed, in a sentence."),
        "error": Schema.nullableString("The failing command's output tail; null on a pass."),
        "results": Schema.list(Schema.commandResult, "Each command that ran, in order (empty for a recorded pass)."),
        "cached": Schema.boolean("True when the pass was recorded earlier for exactly these files; nothing ran."),
        "master_task_id": CommonSchema.masterTaskID,
        "subtask_id": CommonSchema.subtaskID,
        "branch": Schema.string("The sub-task's branch."),
        "workdir": Schema.string("The directory that was validated."),
        "attempts": Schema.integer("Failed attempts recorded for this sub-task so far."),
        "attempt_commit": Schema.nullableString(
          "The commit on the branch that keeps this failed attempt; null on a pass."),
        "fix_prompt": Schema.nullableString("On a failure, a prompt for a fix agent; null on a pass."),
        "notices": CommonSchema.notices,
      ],
      required: [
        "passed", "reason", "error", "results", "cached", "master_task_id", "subtask_id", "branch", "workdir",
        "attempts", "attempt_commit", "fix_prompt", "notices",
      ]))

  static func call(_ arguments: Arguments, on host: isolated OrchestrationHost) throws -> Value {
    try arguments.allowOnly(["master_task_id", "subtask_id", "checkpoint_description", "test_commands"])
    let subtaskID = try arguments.string("subtask_id", hint: "give the id get_next_subtask returned")
    let stored = try host.storedPlan(try arguments.optionalString("master_task_id"))
    let testCommands = try arguments.optionalStrings("test_commands")
    _ = try arguments.optionalString("checkpoint_description")
    if let testCommands, let subtask = stored.plan.subtask(id: subtaskID), testCommands != subtask.checkpoint.commands {
      throw ToolError.commandsNotThePlans(subtask: subtaskID, commands: subtask.checkpoint.commands)
    }
    let session = try host.session(for: stored)
    do {
      var cycle = try host.begin(session, subtaskID: subtaskID)
      let verdict = try session.check(cycle)
      var attemptCommit: String?
      if !verdict.passed, case .retry(_, let commit) = try session.settle(&cycle, verdict) {
        attemptCommit = commit.hex
      }
      return .object(
        fields(verdict, plan: session.plan, cycle: cycle, attemptCommit: attemptCommit, notices: host.events.take()))
    } catch {
      throw host.naming(error, subtask: subtaskID)
    }
  }

  /// The fields of a checkpoint's verdict, shared with complete_subtask.
  static func fields(
    _ verdict: Verdict, plan: Plan, cycle: SubtaskCycle, attemptCommit: String?, notices: [String]
  ) -> [String: Value] {
    let subtask = cycle.subtask
    var cached = false
    let reason: String
    switch verdict {
    case .passed(_, let wasCached, _, _):
      cached = wasCached
      let what = subtask.checkpoint.description.isEmpty ? subtask.id : subtask.checkpoint.description
      reason =
        cached
        ? "Checkpoint validated: \(what) (recorded for exactly these files; no command ran)"
        : "Checkpoint validated: \(what)"
    case .failed(_, let failure, _, _):
      reason = failure.reason
    }
    let failure = verdict.failure
    return [
      "passed": .bool(verdict.passed),
      "reason": .string(reason),
      "error": .nullable(failure.map { $0.outputTail.isEmpty ? $0.summary : $0.outputTail }),
      "results": results(verdict),
      "cached": .bool(cached),
      "master_task_id": .string(plan.id),
      "subtask_id": .string(subtask.id),
      "branch": .string(cycle.branch),
      "workdir": .string(cycle.workdir),
      "attempts": .int(cycle.attempts),
      "attempt_commit": .nullable(attemptCommit),
      "fix_prompt": .nullable(failure.map { Prompts.fix(plan: plan, subtask: subtask, failure: $0, workdir: cycle.workdir) }),
      "notices": .array(notices.map { .string($0) }),
    ]
  }

  /// `[{command, exit_code, duration_seconds, output_tail}]` of the commands that ran.
  static func results(_ verdict: Verdict) -> Value {
    .array(
      verdict.results.map {
        [
          "command": .string($0.command), "exit_code": .int(Int($0.exitCode)),
          "duration_seconds": .double($0.durationSeconds), "output_tail": .string($0.outputTail),
        ]
      })
  }
}
