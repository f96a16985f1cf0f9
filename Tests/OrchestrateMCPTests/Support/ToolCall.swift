import Foundation
import OrchestrateMCP
import TestSupport

extension TemporaryRepository {
  /// A host (the server's state) on this repository.
  /// The server runs in the test process, whose HOME is the developer's: its work folders go to
  /// the test's own state folder, where the built binary's would go too.
  func host() -> OrchestrationHost {
    _ = try? git("config", "orchestrate.workdirRoot", state.appendingPathComponent("git-orchestrate/work").path)
    return OrchestrationHost(path: path)
  }
}

/// One tool call's outcome.
struct ToolCall {
  var isError: Bool
  var result: [String: Any]
  var text: String

  subscript(key: String) -> Any? { result[key] }
  var error: String { result["error"] as? String ?? "" }
}

/// Calls a tool as an MCP client would, through the server's dispatcher.
func call(_ host: OrchestrationHost, _ name: String, _ arguments: [String: Any] = [:]) async -> ToolCall {
  let outcome = await OrchestrationServer.call(name, json: arguments, host: host)
  return ToolCall(isError: outcome.isError, result: outcome.result, text: outcome.text)
}

/// A two-step plan in the native form of decompose_task.
var twoSteps: [String: Any] {
  [
    "task_id": "demo",
    "description": "two steps",
    "subtasks": [
      [
        "id": "one", "order": 1, "description": "First step", "orchestration_prompt": "Write one.txt",
        "estimated_complexity": "small",
        "checkpoint": ["description": "one.txt says 1", "commands": ["grep -q 1 one.txt"]],
      ],
      [
        "id": "two", "order": 2, "description": "Second step", "orchestration_prompt": "Write two.txt",
        "checkpoint": ["description": "two.txt exists", "commands": ["test -f two.txt"]],
      ],
    ],
  ]
}
