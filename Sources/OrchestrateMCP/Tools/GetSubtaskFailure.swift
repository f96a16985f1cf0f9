import Foundation
import MCP
import OrchestrateKit

/// `get_subtask_failure`: the last failed attempt of a sub-task, read back from its branch.
enum GetSubtaskFailure: OrchestrationTool {
  static let definition = Tool(
    name: "get_subtask_failure",
    title: "Get a sub-task's last failure",
    description: """
      Returns the last failed attempt of a sub-task as kept on its branch: the failing checkpoint \
      command, its result and output tail, and a ready fix prompt for a fix agent. Read-only; call it \
      when resuming a sub-task that failed before (for example in a new session, when \
      get_next_subtask reports attempts > 0), or to brief a fix agent. Without subtask_id it reads the \
      next sub-task. Returns {has_failure, subtask_id, attempts, reason, command, output_tail, fix_prompt, …}.
      """,
    inputSchema: Schema.object(
      [
        "master_task_id": CommonSchema.masterTaskID,
        "subtask_id": Schema.string("The sub-task's id; the next sub-task when left out."),
      ], required: ["master_task_id"]),
    annotations: .init(readOnlyHint: true, idempotentHint: true, openWorldHint: false),
    outputSchema: Schema.output(
      [
        "has_failure": Schema.boolean("False when the sub-task has no failed attempt."),
        "master_task_id": CommonSchema.masterTaskID,
        "subtask_id": Schema.nullableString("The sub-task read; null when the plan is complete and none was named."),
        "branch": Schema.nullableString("Its branch."),
        "workdir": Schema.string("The directory where the sub-task's work is done."),
        "attempts": Schema.integer("Failed attempts recorded."),
        "commit": Schema.nullableString("The commit of the last failed attempt."),
        "reason": Schema.nullableString("Why it failed, in a sentence."),
        "command": Schema.nullableString("The failing command."),
        "result": Schema.nullableString("How it ended, e.g. 'exited 1' or 'timed out after 600 s'."),
        "output_tail": Schema.nullableString("The end of its output."),
        "fix_prompt": Schema.nullableString("A prompt for a fix agent."),
      ],
      required: [
        "has_failure", "master_task_id", "subtask_id", "branch", "workdir", "attempts", "commit", "reason", "command",
        "result", "output_tail", "fix_prompt",
      ]))

  static func call(_ arguments: Arguments, on host: isolated OrchestrationHost) throws -> Value {
    try arguments.allowOnly(["master_task_id", "subtask_id"])
    let stored = try host.storedPlan(try arguments.optionalString("master_task_id"))
    let plan = stored.plan
    let orchestrator = try host.orchestrator()
    let subtask: Subtask?
    if let id = try arguments.optionalString("subtask_id") {
      guard let found = plan.subtask(id: id) else { throw OrchestrateError.subtaskNotFound(plan: plan.id, subtask: id) }
      subtask = found
    } else {
      let status = try host.status(stored)
      subtask = status.subtaskDetails.first { $0.state != .completed }.flatMap { plan.subtask(id: $0.id) }
    }
    // The sub-task's own work folder: its job slot's when it was handed out beside others.
    let workdir =
      try subtask.map { try host.workdir(plan: plan, subtask: $0) } ?? orchestrator.layout.workdir(plan: plan.id)
    var result: [String: Value] = [
      "has_failure": false, "master_task_id": .string(plan.id), "subtask_id": .nullable(subtask?.id),
      "branch": .nullable(subtask.map { Layout.branchName(plan: plan.id, subtask: $0) }), "workdir": .string(workdir),
      "attempts": 0, "commit": .null, "reason": .null, "command": .null, "result": .null, "output_tail": .null,
      "fix_prompt": .null,
    ]
    guard let subtask else { return .object(result) }
    let repository = orchestrator.repository
    let mainTip = try repository.resolve("refs/heads/" + (try orchestrator.mainBranch(for: plan)))
    let log = try AttemptLog.read(repository: repository, plan: plan.id, subtask: subtask, mainTip: mainTip)
    guard let last = log.entries.first else { return .object(result) }
    let parsed = parse(last.commit.message)
    let failure = CheckpointFailure(command: parsed.command, summary: parsed.result, outputTail: parsed.output)
    result["has_failure"] = true
    result["attempts"] = .int(max(log.count, last.attempt.number))
    result["commit"] = .string(last.commit.oid.hex)
    result["reason"] = .string(failure.reason)
    result["command"] = .string(parsed.command)
    result["result"] = .string(parsed.result)
    result["output_tail"] = .string(parsed.output)
    result["fix_prompt"] = .string(Prompts.fix(plan: plan, subtask: subtask, failure: failure, workdir: workdir))
    return .object(result)
  }

  /// Reads the failing command, its result and output tail back from an attempt commit's message.
  static func parse(_ message: String) -> (command: String, result: String, output: String) {
    var command = ""
    var result = ""
    var output: [String] = []
    var inOutput = false
    for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
      if inOutput {
        if line.hasPrefix("    ") {
          output.append(String(line.dropFirst(4)))
          continue
        }
        if line.isEmpty { continue }
        inOutput = false
      }
      if line.hasPrefix("Failing command: ") {
        command = String(line.dropFirst("Failing command: ".count))
      } else if line.hasPrefix("Result: ") {
        result = String(line.dropFirst("Result: ".count))
      } else if line == "Output (tail):" {
        inOutput = true
      } else if !output.isEmpty {
        break
      }
    }
    while output.last?.isEmpty == true { output.removeLast() }
    return (command, result, output.joined(separator: "\n"))
  }
}
