import Foundation
import GitKit

/// The rules for editing a stored plan that has started: what has run is history, what has not run
/// is the user's to change.
///
/// A sub-task completed on main keeps its id, order and the work that defined it (prompt, run
/// steps, agent, checkpoint commands): its commit says which checkpoint passed, and an edit must not
/// make the plan disagree with it. Pending sub-tasks may be changed, added or removed; removing one
/// is a recorded human edit, never a skip by the tool.
public enum PlanEdit {
  /// One difference between two versions of a plan, by sub-task.
  public enum Change: Sendable, Equatable, Codable {
    case added(String)
    case removed(String)
    /// The sub-task's id and the fields that differ (`order`, `checkpoint`, `prompt`, …).
    case changed(String, fields: [String])

    public var text: String {
      switch self {
      case .added(let id): "+\(id)"
      case .removed(let id): "-\(id)"
      case .changed(let id, let fields): "~\(id) (\(fields.joined(separator: ", ")))"
      }
    }
  }

  /// Refuses `replacement` when a sub-task in `completed` is missing from it or differs in what
  /// defined its work.
  /// - Throws: `OrchestrateError.completedSubtaskChanged` naming the first such sub-task.
  public static func check(stored: Plan, replacement: Plan, completed: Set<String>) throws {
    if stored.mainBranch != replacement.mainBranch {
      throw OrchestrateError.completedSubtaskChanged(
        plan: stored.id, subtask: completed.sorted().first ?? "",
        what: "main_branch (the branch its sub-tasks landed on)")
    }
    for old in stored.subtasks where completed.contains(old.id) {
      guard let new = replacement.subtask(id: old.id) else {
        throw OrchestrateError.completedSubtaskChanged(plan: stored.id, subtask: old.id, what: "removed")
      }
      let fields = workFields(old, new)
      if !fields.isEmpty {
        throw OrchestrateError.completedSubtaskChanged(
          plan: stored.id, subtask: old.id, what: fields.joined(separator: ", "))
      }
    }
  }

  /// The fields that define a sub-task's work and differ between `old` and `new`.
  static func workFields(_ old: Subtask, _ new: Subtask) -> [String] {
    var fields: [String] = []
    if old.order != new.order { fields.append("order \(old.order) → \(new.order)") }
    if old.checkpoint.commands != new.checkpoint.commands { fields.append("checkpoint commands") }
    if old.prompt != new.prompt { fields.append("prompt") }
    if old.run != new.run { fields.append("run steps") }
    if old.agent != new.agent { fields.append("agent") }
    return fields
  }

  /// What changed from `old` to `new`, sub-task by sub-task, in the new plan's order (removed ones last).
  public static func changes(from old: Plan, to new: Plan) -> [Change] {
    var changes: [Change] = []
    for subtask in new.subtasks {
      guard let before = old.subtask(id: subtask.id) else {
        changes.append(.added(subtask.id))
        continue
      }
      var fields = workFields(before, subtask)
      if before.description != subtask.description { fields.append("description") }
      if before.complexity != subtask.complexity { fields.append("complexity") }
      if before.checkpoint != subtask.checkpoint, before.checkpoint.commands == subtask.checkpoint.commands {
        fields.append("checkpoint")
      }
      if before != subtask, fields.isEmpty { fields.append("details") }
      if !fields.isEmpty { changes.append(.changed(subtask.id, fields: fields)) }
    }
    for subtask in old.subtasks where new.subtask(id: subtask.id) == nil { changes.append(.removed(subtask.id)) }
    return changes
  }

  /// One line for the plan commit's message: `edited: +lint, -docs, ~tests (checkpoint commands)`.
  public static func summary(from old: Plan, to new: Plan) -> String {
    let changes = changes(from: old, to: new)
    let count = "\(new.subtasks.count) sub-task\(new.subtasks.count == 1 ? "" : "s")"
    if changes.isEmpty { return "edited plan settings; \(count)" }
    return "edited: " + changes.map(\.text).joined(separator: ", ") + "; \(count)"
  }
}

/// One version of a stored plan, as `plan log` shows it.
public struct PlanVersion: Sendable {
  public var commit: OID
  public var author: String
  public var email: String
  public var date: Date
  /// What this version changed from the one before (the first version: every sub-task added).
  public var changes: [PlanEdit.Change]
  public var source: String?

  init(commit: Commit, changes: [PlanEdit.Change]) {
    self.commit = commit.oid
    author = commit.author.name
    email = commit.author.email
    date = commit.author.date
    self.changes = changes
    source = commit.trailer("Orchestrate-Source")
  }

  public var jsonObject: [String: Any] {
    var object: [String: Any] = [
      "commit": commit.hex, "author": author, "email": email, "date": date.formatted(.iso8601),
      "added": changes.compactMap { if case .added(let id) = $0 { id } else { nil } },
      "removed": changes.compactMap { if case .removed(let id) = $0 { id } else { nil } },
      "changed": changes.compactMap { change -> [String: Any]? in
        if case .changed(let id, let fields) = change { ["id": id, "fields": fields] } else { nil }
      },
    ]
    if let source { object["source"] = source }
    return object
  }
}
