import Foundation

/// What a run reports as it goes: rendered as the seed's terminal view by the CLI, or written as
/// JSON lines with `--json`.
public enum RunEvent: Sendable {
  case runStarted(plan: String, total: Int, completed: Int, mainBranch: String)
  case notice(String)
  /// `attempt`: the number of the sub-task's next attempt (a resumed branch's first check included),
  /// when the session says it; the JSON stream otherwise knows it from `agentStarted`.
  case subtaskStarted(
    order: Int, total: Int, id: String, description: String, branch: String, workdir: String, resumed: Bool,
    attempt: Int? = nil)
  case agentStarted(kind: AgentKind, attempt: Int, command: String)
  /// Live output of an agent or checkpoint command.
  case output(Data)
  case agentFinished(kind: AgentKind, attempt: Int, summary: String, seconds: Double)
  /// What the agent of `attempt` reported it used (after `agentFinished`; nothing when it reported nothing).
  case agentUsage(kind: AgentKind, attempt: Int, usage: AgentUsage)
  case checkpointCommandStarted(command: String)
  case checkpointCommandFinished(CommandReport)
  case checkpointPassed(commands: Int, seconds: Double, cached: Bool)
  case checkpointFailed(CheckpointFailure)
  case attemptRecorded(attempt: Int, commit: String, branch: String)
  case mainMoved(from: String, to: String)
  case subtaskCompleted(id: String, commit: String, attempts: Int, seconds: Double)
  case subtaskStuck(id: String, branch: String, workdir: String, attempts: Int, resume: String)
  case finalCheckpointStarted
  case finalCheckpoint(passed: Bool)
  case checkoutUpdated(files: Int)
  case runFinished(status: PlanStatus)
  /// An event of one job of a parallel run (`run --jobs`), whose sub-tasks' events interleave.
  indirect case job(subtask: String, RunEvent)

  public enum AgentKind: String, Sendable, Codable {
    case agent, fix, steps
  }

  /// Seconds as the event stream gives them: to the millisecond.
  public static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }

  /// A JSON object for the JSON-lines event stream. The stream's writer adds the context that
  /// events of a sequential run share (plan, sub-task, attempt) and splits output into lines.
  public var json: [String: Any] {
    switch self {
    case .runStarted(let plan, let total, let completed, let main):
      ["event": "run_started", "plan": plan, "total": total, "completed": completed, "main_branch": main]
    case .notice(let text):
      ["event": "notice", "message": text]
    case .subtaskStarted(let order, let total, let id, let description, let branch, let workdir, let resumed, let attempt):
      {
        var object: [String: Any] = [
          "event": "subtask_started", "order": order, "total": total, "id": id, "description": description,
          "branch": branch, "workdir": workdir, "resumed": resumed,
        ]
        if let attempt { object["attempt"] = attempt }
        return object
      }()
    case .agentStarted(let kind, let attempt, let command):
      ["event": "agent_started", "kind": kind.rawValue, "attempt": attempt, "command": command]
    case .output(let data):
      ["event": "output", "text": String(decoding: data, as: UTF8.self)]
    case .agentFinished(let kind, let attempt, let summary, let seconds):
      ["event": "agent_finished", "kind": kind.rawValue, "attempt": attempt, "result": summary, "duration_seconds": Self.rounded(seconds)]
    case .agentUsage(let kind, let attempt, let usage):
      ["event": "agent_usage", "kind": kind.rawValue, "attempt": attempt].merging(usage.json) { a, _ in a }
    case .checkpointCommandStarted(let command):
      ["event": "checkpoint_command_started", "command": command]
    case .checkpointCommandFinished(let report):
      [
        "event": "checkpoint_command_finished", "command": report.command, "exit_code": report.exitCode,
        "duration_seconds": Self.rounded(report.durationSeconds), "result": report.summary,
      ]
    case .checkpointPassed(let commands, let seconds, let cached):
      ["event": "checkpoint_passed", "commands": commands, "duration_seconds": Self.rounded(seconds), "cached": cached]
    case .checkpointFailed(let failure):
      [
        "event": "checkpoint_failed", "kind": failure.kind.rawValue, "command": failure.command, "result": failure.summary, "reason": failure.reason,
        "output_tail": failure.outputTail,
      ]
    case .attemptRecorded(let attempt, let commit, let branch):
      ["event": "attempt_recorded", "attempt": attempt, "commit": commit, "branch": branch]
    case .mainMoved(let from, let to):
      ["event": "main_moved", "from": from, "to": to]
    case .subtaskCompleted(let id, let commit, let attempts, let seconds):
      ["event": "subtask_completed", "id": id, "commit": commit, "attempts": attempts, "duration_seconds": Self.rounded(seconds)]
    case .subtaskStuck(let id, let branch, let workdir, let attempts, let resume):
      [
        "event": "subtask_failed", "id": id, "branch": branch, "workdir": workdir, "attempts": attempts,
        "resume": resume,
      ]
    case .finalCheckpointStarted:
      ["event": "final_checkpoint_started"]
    case .finalCheckpoint(let passed):
      ["event": "final_checkpoint", "passed": passed]
    case .checkoutUpdated(let files):
      ["event": "checkout_updated", "files": files]
    case .runFinished(let status):
      ["event": "run_finished", "status": status.jsonObject]
    case .job(let subtask, let event):
      event.json.merging(["subtask": subtask]) { _, tagged in tagged }
    }
  }
}
