import Foundation
import GitKit

/// Trailer keys and the messages of sub-task, attempt and plan commits.
///
/// The trailer block is always the last paragraph and holds only `Key: value` lines, so
/// `git interpret-trailers --parse` and `%(trailers)` read it.
public enum Trailers {
  public static let plan = "Orchestrate-Plan"
  public static let subtask = "Orchestrate-Subtask"
  public static let attempts = "Orchestrate-Attempts"
  public static let attempt = "Orchestrate-Attempt"
  public static let checkpoint = "Orchestrate-Checkpoint"
  public static let duration = "Orchestrate-Duration"
  public static let result = "Orchestrate-Result"
  /// `failed on base (pytest tests/test_auth.py exited 1)`: the red half of red-before-green.
  public static let red = "Orchestrate-Red"
  /// Protected paths a person changed by hand on the branch (accepted on resume).
  public static let protectedByHand = "Orchestrate-Protected-Changed"

  /// One line, no control characters: safe inside a trailer value or a summary line.
  public static func sanitize(_ text: String) -> String {
    let flat = text.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : Character($0) }
    return String(flat).trimmingCharacters(in: .whitespaces)
  }

  /// `2/5 auth` → (2, 5, "auth").
  public static func parseSubtask(_ value: String) -> (order: Int, total: Int, id: String)? {
    let parts = value.split(separator: " ", maxSplits: 1)
    guard parts.count == 2 else { return nil }
    let numbers = parts[0].split(separator: "/")
    guard numbers.count == 2, let order = Int(numbers[0]), let total = Int(numbers[1]) else { return nil }
    return (order, total, String(parts[1]))
  }

  /// `41.2 s` → 41.2.
  public static func parseSeconds(_ value: String) -> Double? {
    Double(value.split(separator: " ").first ?? "")
  }

  static func seconds(_ value: TimeInterval) -> String { String(format: "%.1f s", value) }
}

/// Builds commit messages.
enum CommitMessage {
  static let maxListedPaths = 200

  /// A path quoted as git quotes unusual names, so one path is always one line.
  static func quote(_ path: String) -> String {
    let needs = path.unicodeScalars.contains { $0.value < 0x20 || $0 == "\"" || $0 == "\\" || $0.value == 0x7f }
    guard needs || path.hasPrefix(" ") || path.hasSuffix(" ") else { return path }
    var out = "\""
    for scalar in path.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7f {
          out += String(format: "\\%03o", scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }

  static func artifacts(_ changes: [DiffEntry]) -> String {
    if changes.isEmpty { return "No files changed." }
    var lines = ["Artifacts:"]
    for change in changes.prefix(maxListedPaths) {
      let letter =
        switch change.status {
        case .added: "A"
        case .modified: "M"
        case .deleted: "D"
        case .typeChanged: "T"
        }
      lines.append("  \(letter) \(quote(change.path))")
    }
    if changes.count > maxListedPaths { lines.append("  … and \(changes.count - maxListedPaths) more") }
    return lines.joined(separator: "\n")
  }

  static func subtaskValue(_ subtask: Subtask, total: Int) -> String { "\(subtask.order)/\(total) \(subtask.id)" }

  /// The commit that main fast-forwards to.
  static func completion(
    plan: Plan, subtask: Subtask, changes: [DiffEntry], attempts: Int, commands: Int,
    checkpointSeconds: TimeInterval, duration: TimeInterval, red: String? = nil, protectedByHand: [String] = [],
    usage: AgentUsage? = nil, total: CostTotal? = nil
  ) -> String {
    let costLines = (Trailers.usageLines(usage) + Trailers.totalLines(total)).map { $0 + "\n" }.joined()
    let summary = Trailers.sanitize(subtask.description.isEmpty ? subtask.id : subtask.description)
    var extra = ""
    if let red { extra += "\(Trailers.red): \(Trailers.sanitize(red))\n" }
    if !protectedByHand.isEmpty {
      extra += "\(Trailers.protectedByHand): \(Trailers.sanitize(protectedByHand.map(quote).joined(separator: ", "))) (by hand, on resume)\n"
    }
    return """
      \(summary)

      \(artifacts(changes))

      \(Trailers.plan): \(plan.id)
      \(Trailers.subtask): \(subtaskValue(subtask, total: plan.subtasks.count))
      \(Trailers.attempts): \(attempts)
      \(Trailers.checkpoint): passed (\(commands) command\(commands == 1 ? "" : "s"), \(Trailers.seconds(checkpointSeconds)))
      \(Trailers.duration): \(Trailers.seconds(duration))
      \(costLines)\(extra)
      """
  }

  /// A failed attempt kept on the sub-task's branch, with what failed and the tail of its output.
  static func attempt(
    plan: Plan, subtask: Subtask, attempt: Int, failure: CheckpointFailure, changes: [DiffEntry],
    duration: TimeInterval, usage: AgentUsage? = nil
  ) -> String {
    let costLines = Trailers.usageLines(usage).map { $0 + "\n" }.joined()
    let tail = failure.outputTail.split(separator: "\n", omittingEmptySubsequences: false).suffix(60)
      .map { "    " + String($0.prefix(400)) }.joined(separator: "\n")
    return """
      attempt \(attempt) of \(subtask.id): \(Trailers.sanitize(failure.reason))

      Failing command: \(Trailers.sanitize(failure.command))
      Result: \(failure.summary)
      Output (tail):
      \(tail)

      \(artifacts(changes))

      \(Trailers.plan): \(plan.id)
      \(Trailers.subtask): \(subtaskValue(subtask, total: plan.subtasks.count))
      \(Trailers.attempt): \(attempt)
      \(Trailers.result): failed (\(Trailers.sanitize(failure.summary)))
      \(Trailers.duration): \(Trailers.seconds(duration))
      \(costLines)
      """
  }
}
