import Foundation
import GitKit

/// One checkpoint command's result, as reported to users and MCP clients.
public struct CommandReport: Codable, Sendable, Equatable {
  public var command: String
  public var exitCode: Int32
  public var durationSeconds: Double
  public var outputTail: String
  public var summary: String

  enum CodingKeys: String, CodingKey {
    case command
    case exitCode = "exit_code"
    case durationSeconds = "duration_seconds"
    case outputTail = "output_tail"
    case summary
  }

  init(_ result: CommandResult, tailLimit: Int = 4000) {
    command = result.command
    exitCode = result.exitCode
    durationSeconds = (result.duration * 1000).rounded() / 1000
    outputTail = String(result.outputTail.suffix(tailLimit))
    summary = result.summary
  }
}

/// Why an attempt did not pass: a checkpoint command failed, or the agent (or a step) did before any
/// checkpoint ran, or the work could not be replayed onto a moved main.
public struct CheckpointFailure: Codable, Sendable, Equatable {
  public enum Kind: String, Codable, Sendable {
    case checkpoint, agent, step, replay, path, protected
  }

  public var kind: Kind
  public var command: String
  public var summary: String
  public var outputTail: String

  public var reason: String {
    switch kind {
    case .checkpoint: "Checkpoint test failed: \(command) \(summary)"
    case .agent: "Agent failed: \(command) \(summary)"
    case .step: "Step failed: \(command) \(summary)"
    case .replay: "Replay failed: \(command) \(summary)"
    case .path: "Refused path: \(command) \(summary)"
    case .protected: "The agent changed protected path \(command) \(summary)"
    }
  }

  public init(kind: Kind = .checkpoint, command: String, summary: String, outputTail: String) {
    self.kind = kind
    self.command = command
    self.summary = summary
    self.outputTail = outputTail
  }
}

/// One line of the checkpoint record kept in `refs/notes/orchestrate`, on the tree it validated.
public struct CheckpointRecord: Codable, Sendable, Equatable {
  public var plan: String
  public var subtask: String
  public var commandsHash: String
  public var status: String
  public var exitCode: Int32
  public var failingCommand: String?
  public var durationSeconds: Double
  public var toolVersion: String
  public var recordedAt: String

  enum CodingKeys: String, CodingKey {
    case plan, subtask, status
    case commandsHash = "commands_hash"
    case exitCode = "exit_status"
    case failingCommand = "failing_command"
    case durationSeconds = "duration_seconds"
    case toolVersion = "tool_version"
    case recordedAt = "recorded_at"
  }

  public var passed: Bool { status == "passed" }
}

/// Checkpoint results keyed by (tree id, hash of the commands), kept as notes on tree objects so an
/// unchanged tree is never validated twice and the record travels with `git push` of the notes ref.
public struct CheckpointCache {
  public let repository: Repository
  public var notesRef: String = Layout.notesRef

  public init(repository: Repository) {
    self.repository = repository
  }

  public func records(for tree: OID) throws -> [CheckpointRecord] {
    guard let text = try repository.note(on: tree, notesRef: notesRef) else { return [] }
    let decoder = JSONDecoder()
    return text.split(separator: "\n").compactMap { try? decoder.decode(CheckpointRecord.self, from: Data($0.utf8)) }
  }

  /// The latest record for these commands on this tree, if any.
  public func lookup(tree: OID, commandsHash: String) throws -> CheckpointRecord? {
    CheckpointRecord.latest(try records(for: tree), commandsHash: commandsHash)
  }

  public func record(_ record: CheckpointRecord, tree: OID) throws {
    try self.record([(tree, record)])
  }

  /// Appends records to the notes of their trees in one notes commit (a run batches its results so a
  /// sub-task does not pay a notes commit of its own).
  ///
  /// Another process (`verify`, the pre-push hook, a second clone's `fetch`) may write the notes ref
  /// at the same moment: the update is a compare-and-swap, and on losing the race the records are
  /// applied again on top of the new notes, never dropped and never an error.
  public func record(_ records: [(tree: OID, record: CheckpointRecord)]) throws {
    guard !records.isEmpty else { return }
    var tries = 0
    while true {
      do {
        return try recordOnce(records)
      } catch let error as RepositoryError {
        guard case .referenceConflict = error, tries < 20 else { throw error }
      } catch let error as GitError where error.isLocked || error.isModified {
        guard tries < 20 else { throw error }
        usleep(useconds_t(1000 * (1 << min(tries, 6))))
      }
      tries += 1
    }
  }

  /// How a notes tree places a note: flat (`<hex>` at the root), git's fan-out (`ab/<38 hex>`), or
  /// deeper than the tool writes itself (left to libgit2).
  private enum NotesLayout {
    case flat(count: Int)
    case fannedOut
    case deeper
  }

  /// Above this many notes a flat notes tree is rewritten with git's fan-out, as git itself does:
  /// a run of 10,000 sub-tasks otherwise reads and rewrites a 10,000-entry tree at every flush.
  static let fanOutThreshold = 256

  private func layout(of notesTree: OID?) throws -> NotesLayout {
    guard let notesTree else { return .flat(count: 0) }
    let entries = try repository.treeEntries(notesTree)
    guard let folder = entries.first(where: { $0.mode == .tree }) else { return .flat(count: entries.count) }
    return try repository.treeEntries(folder.oid).contains { $0.mode == .tree } ? .deeper : .fannedOut
  }

  private func recordOnce(_ records: [(tree: OID, record: CheckpointRecord)]) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let parent = try repository.resolve(notesRef)
    let notesTree = try parent.map { try repository.commit($0).tree }
    let fannedOut: Bool
    var migrating = false
    switch try layout(of: notesTree) {
    case .deeper:
      // A layout only a very large notes ref has (git fans out again past ~65,000 notes): let libgit2 place each note.
      for (tree, record) in records {
        try repository.setNote(
          on: tree, notesRef: notesRef, try appended(existing: try repository.note(on: tree, notesRef: notesRef), record, encoder),
          author: repository.defaultSignature())
      }
      return
    case .fannedOut:
      fannedOut = true
    case .flat(let count):
      fannedOut = count + records.count > Self.fanOutThreshold
      migrating = fannedOut && notesTree != nil
    }
    var texts: [OID: String] = [:]
    for (tree, record) in records {
      var existing = texts[tree]
      if existing == nil, let notesTree {
        // Where the note is now: still flat when this update is the one that fans the tree out.
        let path = fannedOut && !migrating ? Self.fannedPath(tree.hex) : tree.hex
        if let entry = try repository.treeEntry(in: notesTree, path: path) {
          existing = String(decoding: try repository.blob(entry.oid), as: UTF8.self)
        }
      }
      texts[tree] = try appended(existing: existing, record, encoder)
    }
    var updates: [TreeUpdate] = []
    if migrating, let notesTree {
      // Once: every flat note moves to its fan-out place (its blob reused as it is).
      let rewritten = Set(texts.keys.map(\.hex))
      for entry in try repository.treeEntries(notesTree) where entry.mode != .tree {
        updates.append(TreeUpdate(path: entry.name, action: .remove))
        if entry.name.count > 2, !rewritten.contains(entry.name) {
          updates.append(TreeUpdate(path: Self.fannedPath(entry.name), action: .upsert(entry.oid, entry.mode)))
        }
      }
    }
    for (tree, text) in texts {
      let blob = try repository.writeBlob(Data(text.utf8))
      updates.append(TreeUpdate(path: fannedOut ? Self.fannedPath(tree.hex) : tree.hex, action: .upsert(blob, .blob)))
    }
    let newTree = try repository.updateTree(notesTree, updates)
    let signature = repository.defaultSignature()
    let commit = try repository.createCommit(
      tree: newTree, parents: parent.map { [$0] } ?? [], message: "Notes added by 'git orchestrate'\n",
      author: signature, committer: signature)
    try repository.updateReference(notesRef, to: commit, expected: parent, message: "orchestrate: checkpoint results")
  }

  /// `ab/cdef…`: where git's fan-out keeps the note on the object whose id is `hex`.
  static func fannedPath(_ hex: String) -> String {
    String(hex.prefix(2)) + "/" + String(hex.dropFirst(2))
  }

  private func appended(existing: String?, _ record: CheckpointRecord, _ encoder: JSONEncoder) throws -> String {
    var lines = (existing ?? "").split(separator: "\n").map(String.init)
    lines.append(String(decoding: try encoder.encode(record), as: UTF8.self))
    // Keep the note small: the newest 20 results per tree are plenty.
    return lines.suffix(20).joined(separator: "\n") + "\n"
  }

  static func makeRecord(plan: String, subtask: String, checkpoint: Checkpoint, verdict: Verdict) -> CheckpointRecord {
    CheckpointRecord(
      plan: plan, subtask: subtask, commandsHash: checkpoint.commandsHash,
      status: verdict.passed ? "passed" : "failed",
      exitCode: verdict.passed ? 0 : (verdict.results.last?.exitCode ?? 1),
      failingCommand: verdict.failure?.command,
      durationSeconds: (verdict.seconds * 1000).rounded() / 1000,
      toolVersion: Version.current, recordedAt: Date().formatted(.iso8601))
  }
}

/// The tool's version, shown by `--version` and written into every checkpoint record.
public enum Version {
  public static let current = "0.1.0"
}
