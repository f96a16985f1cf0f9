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
    /// The agent's full output for this attempt, when this clone ran it.
    public var agentLog: String?
    /// The checkpoint's full output for this attempt, when this clone ran it.
    public var checkpointLog: String?

    enum CodingKeys: String, CodingKey {
      case number, commit, result
      case failingCommand = "failing_command"
      case durationSeconds = "duration_seconds"
      case agentLog = "agent_log"
      case checkpointLog = "checkpoint_log"
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
  /// What the diff is taken against: the commit's parent on main, or, for a sub-task not
  /// completed, the main commit its latest attempt started from.
  public var diffBase: String?
  /// Said when the attempts are not here to list: the completion's trailer counts failed attempts
  /// this clone has not fetched.
  public var attemptsNote: String?
  /// Where the failed attempts were read from, when not the sub-task's branch (its attempts ref
  /// once it landed or was cleaned, or a remote's as fetched).
  public var attemptsRef: String?
  /// The agents' sessions, oldest attempt first, with the command that reopens each.
  public var agentSessions: [AgentSession] = []
  /// The other agents of a `best_of` sub-task (contender 1 is the sub-task's branch): each one's
  /// branch, tip and failed attempts, to compare with `git diff`.
  public var contenders: [Contender] = []

  public struct Contender: Codable, Sendable, Equatable {
    public var number: Int
    public var branch: String
    public var tip: String
    public var attempts: Int
    public var landed: Bool
  }

  enum CodingKeys: String, CodingKey {
    case attemptsRef = "attempts_ref"
    case plan, commit, message, author, trailers, results, attempts, patch
    case diffBase = "diff_base"
    case attemptsNote = "attempts_note"
    case agentSessions = "agent_sessions"
    case contenders
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
    if let attemptsNote {
      lines.append("Failed attempts: \(attemptsNote)")
    } else if attempts.isEmpty {
      lines.append("Failed attempts: none")
    } else {
      let kept = attemptsRef.map { " (kept at \($0))" } ?? ""
      lines.append("Failed attempts\(kept) (each with 'git orchestrate show \(entry.id) --attempt N'):")
      for attempt in attempts {
        lines.append(
          "  \(attempt.number). \(attempt.commit.prefix(12)) \(attempt.result)\(attempt.failingCommand.map { ": \($0)" } ?? "")\(attempt.durationSeconds.map { " (\(Durations.format($0)))" } ?? "")"
        )
        if let log = attempt.agentLog { lines.append("     agent output: \(log)") }
        if let log = attempt.checkpointLog { lines.append("     checkpoint output: \(log)") }
      }
    }
    lines += sessionLines
    if !contenders.isEmpty {
      lines.append("")
      lines.append("Other agents of best_of (contender 1 is the branch above; compare with git diff):")
      for contender in contenders {
        lines.append(
          "  \(contender.number). \(contender.branch) \(contender.tip.prefix(12))"
            + (contender.landed ? " (landed)" : ", \(Plural.count(contender.attempts, "attempt")) kept"))
      }
    }
    if let diffStat, !diffStat.isEmpty {
      lines.append("")
      if let diffBase { lines.append("Changes against \(diffBase):") }
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
      // A completed sub-task: its commit against its parent on main. Any other: its latest attempt
      // against the main commit it started from, the change it proposes (never against the attempt
      // before it, which would hide what a fix agent left unchanged).
      let base: OID? =
        entry.state == .completed
        ? commit.parents.first : try mainTip.flatMap { try repository.mergeBase(oid, $0) } ?? commit.parents.first
      let baseTree = try base.map { try repository.commit($0).tree }
      detail.diffBase = base.map {
        entry.state == .completed ? "its parent \($0.hex.prefix(12))" : "main at \($0.hex.prefix(12)), where it started"
      }
      detail.diffStat = try repository.diffStat(baseTree, commit.tree)
      if withPatch { detail.patch = try repository.patch(baseTree, commit.tree) }
    }
    // Failed attempts: on the branch while the sub-task is open, kept under attempts/ once it completed.
    let logs = layout.logDirectory(plan: stored.plan.id)
    let stem = logs + "/" + Layout.orderText(subtask.order) + "-" + subtask.id
    func existing(_ path: String) -> String? { FileManager.default.fileExists(atPath: path) ? path : nil }
    let located = try AttemptLog.located(
      repository: repository, plan: stored.plan.id, subtask: subtask, mainTip: mainTip)
    if let ref = located?.ref, ref != Layout.branchRef(plan: stored.plan.id, subtask: subtask) {
      detail.attemptsRef = ref
    }
    detail.attempts = (located?.log.entries ?? []).reversed().map { entry in
      .init(
        number: entry.attempt.number, commit: entry.commit.oid.hex, result: entry.attempt.result,
        failingCommand: Self.failingCommand(in: entry.commit.message), durationSeconds: entry.attempt.seconds,
        agentLog: existing(stem + ".attempt-\(entry.attempt.number).log"),
        checkpointLog: existing(stem + ".attempt-\(entry.attempt.number).checkpoint.log"))
    }
    if detail.attempts.isEmpty, entry.state == .completed, entry.attempts > 1 {
      detail.attemptsNote =
        "\(Plural.count(entry.attempts - 1, "failed attempt")) before this commit (Orchestrate-Attempts: \(entry.attempts)), not in this clone; 'git orchestrate fetch' brings them from a clone that pushed them"
    }
    detail.agentSessions = try agentSessions(stored, subtask, mainTip: mainTip, commit: detail.commit)
    let contenderPrefix = Layout.branchRef(plan: stored.plan.id, subtask: subtask) + Layout.contenderSuffix(0).dropLast()
    for ref in try repository.references(withPrefix: String(contenderPrefix)) {
      guard let tip = ref.target, let number = Int(ref.name.dropFirst(contenderPrefix.count)) else { continue }
      detail.contenders.append(
        .init(
          number: number, branch: String(ref.name.dropFirst("refs/heads/".count)), tip: tip.hex,
          attempts: try AttemptLog.read(
            repository: repository, from: tip, plan: stored.plan.id, subtask: subtask.id, mainTip: mainTip
          ).count,
          landed: tip.hex == detail.commit))
    }
    detail.contenders.sort { $0.number < $1.number }
    return detail
  }

  /// One attempt of a sub-task: its commit message, its diff against the main commit it started
  /// from, and its full output where this clone kept it (else the output tail in its message).
  public func attempt(_ number: Int, subtask subtaskID: String, plan planID: String?, patch withPatch: Bool = true)
    throws -> AttemptDetail
  {
    let (stored, subtask) = try findSubtask(subtaskID, plan: planID)
    let mainTip = try repository.resolve("refs/heads/" + mainBranch(for: stored.plan))
    let log = try AttemptLog.read(repository: repository, plan: stored.plan.id, subtask: subtask, mainTip: mainTip)
    guard let entry = log.entries.first(where: { $0.attempt.number == number }) else {
      let known = log.entries.map(\.attempt.number).sorted()
      throw OrchestrateError.invalidArgument(
        known.isEmpty
          ? "sub-task '\(subtask.id)' of plan '\(stored.plan.id)' has no failed attempt kept here"
          : "sub-task '\(subtask.id)' has no attempt \(number); its failed attempts are \(known.map(String.init).joined(separator: ", "))"
      )
    }
    let commit = entry.commit
    let base = try mainTip.flatMap { try repository.mergeBase(commit.oid, $0) } ?? commit.parents.first
    let baseTree = try base.map { try repository.commit($0).tree }
    let stem =
      layout.logDirectory(plan: stored.plan.id) + "/" + Layout.orderText(subtask.order) + "-" + subtask.id
      + ".attempt-\(number)"
    var outputs: [AttemptDetail.Output] = []
    for (kind, path) in [("agent", stem + ".log"), ("checkpoint", stem + ".checkpoint.log")] {
      guard let data = FileManager.default.contents(atPath: path) else { continue }
      outputs.append(.init(kind: kind, path: path, text: String(decoding: data, as: UTF8.self)))
    }
    return AttemptDetail(
      plan: stored.plan.id, subtask: subtask.id, number: number, commit: commit.oid.hex, message: commit.message,
      base: base?.hex, diffStat: try repository.diffStat(baseTree, commit.tree),
      patch: withPatch ? try repository.patch(baseTree, commit.tree) : nil, outputs: outputs)
  }

  /// The `Failing command:` line of an attempt's message.
  static func failingCommand(in message: String) -> String? {
    message.split(separator: "\n").first { $0.hasPrefix("Failing command: ") }
      .map { String($0.dropFirst("Failing command: ".count)) }
  }
}

/// One failed attempt, as `show SUBTASK --attempt N` prints it.
public struct AttemptDetail: Codable, Sendable {
  public struct Output: Codable, Sendable {
    public var kind: String
    public var path: String
    public var text: String
  }

  public var plan: String
  public var subtask: String
  public var number: Int
  public var commit: String
  public var message: String
  /// The main commit the attempt started from; the diff is taken against it.
  public var base: String?
  public var diffStat: String
  public var patch: String?
  /// The full agent and checkpoint output kept in `.git/orchestrate/logs/` (only in the clone that ran it).
  public var outputs: [Output]

  enum CodingKeys: String, CodingKey {
    case plan, subtask, number, commit, message, base, patch, outputs
    case diffStat = "diff_stat"
  }

  public var rendered: String {
    var lines = ["attempt \(number) of sub-task \(subtask) (plan \(plan)): \(commit)", ""]
    lines += message.trimmingCharacters(in: .newlines).split(separator: "\n", omittingEmptySubsequences: false)
      .map { "    " + $0 }
    lines.append("")
    lines.append("Changes against main at \(base.map { String($0.prefix(12)) } ?? "the empty tree"), where it started:")
    lines.append(diffStat.trimmingCharacters(in: .newlines).isEmpty ? "  (no change)" : diffStat.trimmingCharacters(in: .newlines))
    if let patch, !patch.isEmpty {
      lines.append("")
      lines.append(patch.trimmingCharacters(in: .newlines))
    }
    lines.append("")
    if outputs.isEmpty {
      lines.append("Full output: not kept in this clone (the message above holds its tail)")
    }
    for output in outputs {
      lines.append("Full \(output.kind) output (\(output.path)):")
      lines.append(output.text.trimmingCharacters(in: .newlines))
      lines.append("")
    }
    return lines.joined(separator: "\n")
  }

  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(self)
  }
}
