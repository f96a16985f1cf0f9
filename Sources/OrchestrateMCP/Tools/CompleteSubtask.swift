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
      branch; fix it and call again. If main moved since the sub-task began (another sub-task landed), \
      the work is replayed onto main's tip and validated again there before it lands; if it conflicts \
      with main instead, `conflict_paths` lists the files, the work is kept as an attempt commit and \
      `workdir` is reset to main's tip: redo the sub-task there. Works for every sub-task \
      get_next_subtask handed out (with count, several at once: complete each when its conductor is \
      done; they land one at a time). Call it after validate_checkpoint passed, then get_next_subtask. \
      Returns {completed, commit, reason, progress, workdir, conflict_paths}.
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
        "workdir": Schema.string("The sub-task's work folder (on a conflict, now reset to main's tip)."),
        "conflict_paths": Schema.strings(
          "The files where the work conflicts with a main that moved; empty unless it did. The work must be redone."),
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
        "workdir", "conflict_paths", "main_branch", "attempts", "artifacts", "caller_checkpoint_result", "has_next",
        "fix_prompt", "notices",
      ]))

  static func call(_ arguments: Arguments, on host: isolated OrchestrationHost) throws -> Value {
    try arguments.allowOnly(["master_task_id", "subtask_id", "checkpoint_result", "artifacts"])
    let subtaskID = try arguments.string("subtask_id", hint: "give the id get_next_subtask returned")
    let stored = try host.storedPlan(try arguments.optionalString("master_task_id"))
    let claimed = arguments.values["checkpoint_result"] ?? .null
    let claimedArtifacts = arguments.values["artifacts"] ?? .null
    let session = try host.session(for: stored)
    do {
      return try complete(
        subtaskID, stored: stored, session: session, claimed: claimed, claimedArtifacts: claimedArtifacts, host: host)
    } catch {
      throw host.naming(error, subtask: subtaskID)
    }
  }

  private static func complete(
    _ subtaskID: String, stored: StoredPlan, session: PlanSession, claimed: Value, claimedArtifacts: Value,
    host: isolated OrchestrationHost
  ) throws -> Value {
    var cycle = try host.begin(session, subtaskID: subtaskID)
    host.logger.info(
      "complete_subtask \(stored.plan.id)/\(subtaskID) in \(cycle.workdir): caller says checkpoint_result=\(claimed.jsonText) artifacts=\(claimedArtifacts.jsonText); validating itself"
    )
    let verdict = try session.check(cycle)
    let settlement = try session.settle(&cycle, verdict)
    var result: [String: Value] = [
      "master_task_id": .string(stored.plan.id), "subtask_id": .string(subtaskID), "branch": .string(cycle.branch),
      "workdir": .string(cycle.workdir), "main_branch": .string(session.mainName), "caller_checkpoint_result": claimed,
      "results": ValidateCheckpoint.results(verdict), "conflict_paths": [],
    ]
    switch settlement {
    case .landed(let landing):
      host.release(subtaskID)
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
          "sub-task '\(subtaskID)' not completed: \(failed["reason"]?.stringValue ?? "the checkpoint failed"); nothing was put on \(session.mainName). Fix the work in \(cycle.workdir) and call again"
        ),
        "error": failed["error"] ?? .null, "progress": OrchestrationHost.progress(status),
        "attempts": .int(cycle.attempts), "artifacts": [], "has_next": true,
        "fix_prompt": failed["fix_prompt"] ?? .null, "notices": failed["notices"] ?? [],
      ]) { _, new in new }
    case .conflict(let paths, let attemptCommit):
      // Main moved (another sub-task landed, or the user committed) and the work does not apply to
      // it. It is kept, and the sub-task starts again on main's tip, in the same folder.
      let attempts = cycle.attempts
      let tip = try session.restartOnMain(&cycle, conflicts: paths)
      let failure = CheckpointFailure(
        kind: .replay, command: "replay onto \(session.mainName)",
        summary: "conflicts with the new \(session.mainName)",
        outputTail: paths.joined(separator: "\n"))
      let status = try host.status(stored)
      result.merge([
        "completed": false, "commit": .null,
        "reason": .string(
          "sub-task '\(subtaskID)' not completed: its work conflicts with \(session.mainName), which moved to \(tip.hex.prefix(10)) while it was done, in \(paths.joined(separator: ", ")); nothing was put on \(session.mainName). The work is kept as attempt commit \(attemptCommit.hex.prefix(10)) (git show \(attemptCommit.hex.prefix(10))), and \(cycle.workdir) now holds \(session.mainName)'s tip: redo the sub-task there (fix_prompt says what conflicted), then call validate_checkpoint and complete_subtask again"
        ),
        "error": .string("conflicting paths:\n" + paths.joined(separator: "\n")),
        "conflict_paths": .array(paths.map { .string($0) }),
        "progress": OrchestrationHost.progress(status), "attempts": .int(attempts), "artifacts": [], "has_next": true,
        "fix_prompt": .string(redoPrompt(session.plan, cycle, failure: failure, attempt: attemptCommit.hex)),
        "notices": .array(host.events.take().map { .string($0) }),
      ]) { _, new in new }
    }
    return .object(result)
  }

  /// The fix prompt after a conflict: redo the sub-task on main's tip. The earlier work is the
  /// attempt commit (the second parent of the branch's new tip, not its tip, once restarted).
  static func redoPrompt(_ plan: Plan, _ cycle: SubtaskCycle, failure: CheckpointFailure, attempt: String) -> String {
    let prompt = Prompts.fix(plan: plan, subtask: cycle.subtask, failure: failure, workdir: cycle.workdir)
    let shown = "`git log -p -1 HEAD` shows it"
    return prompt.contains(shown)
      ? prompt.replacingOccurrences(of: shown, with: "`git show \(attempt)` shows it")
      : prompt + "\nYour earlier work on it: `git show \(attempt)`.\n"
  }
}
