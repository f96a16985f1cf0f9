import Foundation
import GitKit

/// An agent session recorded on an attempt or sub-task commit (`Orchestrate-Agent-Session`).
public struct AgentSession: Codable, Sendable, Equatable {
  public var attempt: Int
  public var agent: String
  public var sessionID: String
  /// Run in `workdir` (Claude Code keeps its sessions per folder): `claude --resume <id>`.
  public var resumeCommand: String?
  public var workdir: String
  public var costUSD: Decimal?

  enum CodingKeys: String, CodingKey {
    case attempt, agent, workdir
    case sessionID = "session_id"
    case resumeCommand = "resume_command"
    case costUSD = "cost_usd"
  }
}

extension SubtaskDetail {
  /// `Agent sessions:` and, per session, the command that reopens it; nothing when none was recorded.
  var sessionLines: [String] {
    guard !agentSessions.isEmpty else { return [] }
    var lines = ["", "Agent sessions (reopen one to see what the agent did):"]
    for session in agentSessions {
      let cost = session.costUSD.map { ", " + Ledger.money($0) } ?? ""
      lines.append("  attempt \(session.attempt): \(session.agent) \(session.sessionID)\(cost)")
      if let command = session.resumeCommand {
        lines.append("    cd \(Self.shellQuoted(session.workdir)) && \(command)")
      }
    }
    return lines
  }

  static func shellQuoted(_ text: String) -> String {
    let plain = text.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:@".contains($0) }
    return plain && !text.isEmpty ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}

extension Orchestrator {
  /// The sessions recorded on the sub-task's failed attempts and on its commit, oldest first.
  func agentSessions(_ stored: StoredPlan, _ subtask: Subtask, mainTip: OID?, commit: String?) throws -> [AgentSession] {
    let workdir = layout.workdir(plan: stored.plan.id)
    func session(_ usage: AgentUsage?, attempt: Int) -> AgentSession? {
      guard let usage, let id = usage.sessionID else { return nil }
      return AgentSession(
        attempt: attempt, agent: usage.agent ?? "agent", sessionID: id, resumeCommand: usage.resume, workdir: workdir,
        costUSD: usage.costUSD)
    }
    var sessions = try AttemptLog.read(repository: repository, plan: stored.plan.id, subtask: subtask, mainTip: mainTip)
      .entries.reversed().compactMap { session($0.attempt.usage, attempt: $0.attempt.number) }
    if let commit, let oid = OID(hex: commit), let done = CommitRole(try repository.commit(oid)).completion(of: stored.plan.id),
      let own = session(done.usage, attempt: done.attempts)
    {
      sessions.append(own)
    }
    return sessions
  }
}
