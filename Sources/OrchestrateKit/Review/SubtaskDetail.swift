import Foundation
import GitKit

/// Everything `git orchestrate show` tells about one sub-task.
public struct SubtaskDetail: Codable, Sendable {
  /// A failed attempt kept on the sub-task's branch (or, once it completed, under `refs/orchestrate/attempts/`).
  public struct Attempt: Codable, Sendable, Equatable {
    public var number: Int
    public var commit: String
    public var result: String
    public var failingCommand: String?
    public var durationSeconds: Double?

    enum CodingKeys: String, CodingKey {
      case number, commit, result
      case failingCommand = "failing_command"
      case durationSeconds = "duration_seconds"
    }
  }

  public struct TrailerLine: Codable, Sendable, Equatable {
    public var key: String
    public var value: String
  }

  public var plan: String
  public var entry: SubtaskLogEntry
  public var checkpointCommands: [String]
  /// The commit shown: the one on main when completed, else the branch's tip.
  public var commit: String?
  public var message: String?
  public var author: String?
  public var trailers: [TrailerLine]
  /// The checkpoint results recorded on the commit's tree, oldest first.
  public var results: [CheckpointRecord]
  public var attempts: [Attempt]
  public var diffStat: String?
  public var patch: String?
  /// The agents' sessions, oldest attempt first, with the command that reopens each.
  public var agentSessions: [AgentSession] = []

  enum CodingKeys: String, CodingKey {
    case plan, commit, message, author, trailers, results, attempts, patch
    case agentSessions = "agent_sessions"
    case entry = "subtask"
    case checkpointCommands = "checkpoint_commands"
    case diffStat = "diff_stat"
  }

  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(self)
  }

  /// The text `show` prints.
  public var rendered: String {
    var lines: [String] = []
    lines.append("sub-task \(entry.order)/\(entry.total) \(entry.id) of plan \(plan): \(entry.state.rawValue)")
    if !entry.description.isEmpty { lines.append("  " + entry.description) }
    lines.append("branch:     \(entry.branch)")
    if let commit { lines.append("commit:     \(commit)") }
    if let author { lines.append("author:     \(author)") }
    lines.append("checkpoint: " + checkpointCommands.joined(separator: " && "))
    if !trailers.isEmpty {
      lines.append("")
      lines.append("Trailers:")
      lines += trailers.map { "  \($0.key): \($0.value)" }
    }
    lines.append("")
    if results.isEmpty {
      lines.append("Checkpoint results on this tree: none recorded")
    } else {
      lines.append("Checkpoint results on this tree:")
      lines += results.map { record in
        "  \(record.status) \(record.failingCommand.map { "(\($0)) " } ?? "")in \(Durations.format(record.durationSeconds)), recorded \(record.recordedAt) by \(record.plan)/\(record.subtask), commands \(record.commandsHash.prefix(12)), tool \(record.toolVersion)"
      }
    }
    lines.append("")
    if attempts.isEmpty {
      lines.append("Failed attempts: none")
    } else {
      lines.append("Failed attempts:")
      lines += attempts.map { attempt in
        "  \(attempt.number). \(attempt.commit.prefix(12)) \(attempt.result)\(attempt.failingCommand.map { ": \($0)" } ?? "")\(attempt.durationSeconds.map { " (\(Durations.format($0)))" } ?? "")"
      }
    }
    lines += sessionLines
    if let diffStat, !diffStat.isEmpty {
      lines.append("")
      lines.append(diffStat.trimmingCharacters(in: .newlines))
    }
    if let patch, !patch.isEmpty {
      lines.append("")
      lines.append(patch.trimmingCharacters(in: .newlines))
    }
    return lines.joined(separator: "\n")
  }
}

extension Orchestrator {
  /// Finds `subtaskID` in the plan named, or in the only stored plan that has it.
  /// - Throws: `OrchestrateError.subtaskNotFound`, or `.invalidArgument` when several plans have it.
  public func findSubtask(_ subtaskID: String, plan planID: String?) throws -> (StoredPlan, Subtask) {
    let candidates = try plans(planID).compactMap { stored in stored.plan.subtask(id: subtaskID).map { (stored, $0) } }
    if candidates.count == 1 { return candidates[0] }
    if candidates.isEmpty {
      if let planID { throw OrchestrateError.subtaskNotFound(plan: planID, subtask: subtaskID) }
      throw OrchestrateError.invalidArgument(
        "no stored plan has a sub-task '\(subtaskID)'; 'git orchestrate log' lists them")
    }
    throw OrchestrateError.invalidArgument(
      "plans \(candidates.map(\.0.plan.id).joined(separator: ", ")) all have a sub-task '\(subtaskID)'; name one with --plan"
    )
  }

  /// The sub-task's commit, trailers, checkpoint results, failed attempts and diff.
  public func detail(subtask subtaskID: String, plan planID: String?, patch withPatch: Bool = false) throws
    -> SubtaskDetail
  {
    let (stored, subtask) = try findSubtask(subtaskID, plan: planID)
    guard let entry = try log(stored).first(where: { $0.id == subtask.id }) else {
      throw OrchestrateError.subtaskNotFound(plan: stored.plan.id, subtask: subtaskID)
    }
    var detail = SubtaskDetail(
      plan: stored.plan.id, entry: entry, checkpointCommands: subtask.checkpoint.commands, commit: nil, message: nil,
      author: nil, trailers: [], results: [], attempts: [], diffStat: nil, patch: nil)
    let mainTip = try repository.resolve("refs/heads/" + mainBranch(for: stored.plan))
    if let hex = entry.commit, let oid = OID(hex: hex) {
      let commit = try repository.commit(oid)
      detail.commit = hex
      detail.message = commit.message
      detail.author = "\(commit.author.name) <\(commit.author.email)> \(commit.author.date.formatted(.iso8601))"
      detail.trailers = commit.trailers.map { .init(key: $0.key, value: $0.value) }
      detail.results = try CheckpointCache(repository: repository).records(for: commit.tree)
      let parentTree = try commit.parents.first.map { try repository.commit($0).tree }
      detail.diffStat = try repository.diffStat(parentTree, commit.tree)
      if withPatch { detail.patch = try repository.patch(parentTree, commit.tree) }
    }
    // Failed attempts: on the branch while the sub-task is open, kept under attempts/ once it completed.
    detail.attempts = try AttemptLog.read(repository: repository, plan: stored.plan.id, subtask: subtask, mainTip: mainTip)
      .entries.reversed().map { entry in
        .init(
          number: entry.attempt.number, commit: entry.commit.oid.hex, result: entry.attempt.result,
          failingCommand: Self.failingCommand(in: entry.commit.message), durationSeconds: entry.attempt.seconds)
      }
    detail.agentSessions = try agentSessions(stored, subtask, mainTip: mainTip, commit: detail.commit)
    return detail
  }

  /// The `Failing command:` line of an attempt's message.
  static func failingCommand(in message: String) -> String? {
    message.split(separator: "\n").first { $0.hasPrefix("Failing command: ") }
      .map { String($0.dropFirst("Failing command: ".count)) }
  }
}
