import Foundation
import GitKit

/// Reads the checkpoint records of many trees with one read of the notes ref.
///
/// `git_note_read` resolves the notes ref and walks its tree again for every object; verifying a
/// thousand commits that way repeats the same work a thousand times. This reads the notes tree's
/// top level once and each fan-out folder (`ab/cdef…`, as git writes them once notes are many) at
/// most once, then finds a note with dictionary lookups.
final class NotesIndex {
  let repository: Repository
  /// Annotated object (hex, or the rest of it below a fan-out folder) → note blob or folder.
  private var root: [String: TreeEntry] = [:]
  private var folders: [OID: [String: TreeEntry]] = [:]

  init(repository: Repository, notesRef: String = Layout.notesRef) throws {
    self.repository = repository
    guard let tip = try repository.resolve(notesRef) else { return }
    root = try entries(of: try repository.commit(tip).tree)
  }

  private func entries(of tree: OID) throws -> [String: TreeEntry] {
    var map: [String: TreeEntry] = [:]
    for entry in try repository.treeEntries(tree) { map[entry.name] = entry }
    return map
  }

  /// The text of the note on `oid`, or nil when there is none.
  func note(on oid: OID) throws -> String? {
    var level = root
    var rest = Substring(oid.hex)
    while !rest.isEmpty {
      if let entry = level[String(rest)], entry.mode != .tree {
        return String(decoding: try repository.blob(entry.oid), as: UTF8.self)
      }
      guard rest.count > 2, let folder = level[String(rest.prefix(2))], folder.mode == .tree else { return nil }
      if let cached = folders[folder.oid] {
        level = cached
      } else {
        level = try entries(of: folder.oid)
        folders[folder.oid] = level
      }
      rest = rest.dropFirst(2)
    }
    return nil
  }

  /// The checkpoint records on `tree`, oldest first as written.
  func records(on tree: OID) throws -> [CheckpointRecord] {
    guard let text = try note(on: tree) else { return [] }
    return CheckpointRecord.parseLines(text)
  }
}

extension CheckpointRecord {
  /// The records of a note: one JSON object per line; lines that are not records are skipped.
  static func parseLines(_ text: String) -> [CheckpointRecord] {
    let decoder = JSONDecoder()
    return text.split(separator: "\n").compactMap { try? decoder.decode(CheckpointRecord.self, from: Data($0.utf8)) }
  }

  /// The newest of `records` for `commandsHash`: by `recorded_at`, a failure winning a tie (so a
  /// note whose lines were sorted by `git notes merge -s cat_sort_uniq` still yields the latest
  /// result, and a pass can never hide a failure of the same second). A record dated after `now`
  /// (with a minute for clock skew) is ignored: anyone who can write the notes ref can forge a
  /// pass "from the future" that would otherwise outrank every real result.
  static func latest(_ records: [CheckpointRecord], commandsHash: String, now: Date = Date()) -> CheckpointRecord? {
    let limit = now.addingTimeInterval(60).formatted(.iso8601)
    var best: CheckpointRecord?
    for record in records where record.commandsHash == commandsHash && record.recordedAt <= limit {
      if let current = best {
        if current.recordedAt > record.recordedAt { continue }
        if current.recordedAt == record.recordedAt, !current.passed, record.passed { continue }
      }
      best = record
    }
    return best
  }
}
