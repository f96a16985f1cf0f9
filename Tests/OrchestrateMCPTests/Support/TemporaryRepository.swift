import Foundation
import OrchestrateMCP

/// A failed `git` command run by a test.
struct CommandError: Error, CustomStringConvertible {
  let description: String
}

/// A temporary repository on `main` with one commit, a fixed identity and dates; removed afterwards.
final class TemporaryRepository {
  let root: URL
  var path: String { root.path }

  init(files: [String: String] = ["README.md": "# project\n"]) throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("orchestrate-mcp-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    try git("init", "-q", "-b", "main")
    try git("config", "user.name", "Test")
    try git("config", "user.email", "test@example.invalid")
    // Work folders beside the repository, never under the real home.
    try git("config", "orchestrate.workdirRoot", root.path + ".work")
    for (name, content) in files { try write(name, content) }
    try git("add", "-A")
    try git("commit", "-q", "-m", "initial")
  }

  deinit {
    try? FileManager.default.removeItem(at: root)
    try? FileManager.default.removeItem(atPath: root.path + ".work")
  }

  func write(_ name: String, _ content: String, in directory: String? = nil) throws {
    let url = URL(fileURLWithPath: directory ?? path).appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(content.utf8).write(to: url)
  }

  /// Runs the git CLI in the repository with fixed dates and no user or system configuration.
  @discardableResult
  func git(_ args: String...) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git"] + args
    process.currentDirectoryURL = root
    var env = ProcessInfo.processInfo.environment
    for key in env.keys where key.hasPrefix("GIT_") { env[key] = nil }
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = "/dev/null"
    env["GIT_AUTHOR_DATE"] = "2026-01-01T00:00:00Z"
    env["GIT_COMMITTER_DATE"] = "2026-01-01T00:00:00Z"
    env["TZ"] = "UTC"
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw CommandError(
        description: "git \(args.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// A host (the server's state) on this repository.
  func host() -> OrchestrationHost { OrchestrationHost(path: path) }
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
