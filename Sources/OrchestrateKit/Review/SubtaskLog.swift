import Foundation
import GitKit

/// One line of `git orchestrate log`: a sub-task and what history says about it.
public struct SubtaskLogEntry: Codable, Sendable, Equatable {
  public var plan: String
  public var order: Int
  public var total: Int
  public var id: String
  public var description: String
  public var state: PlanStatus.State
  public var attempts: Int
  public var durationSeconds: Double?
  /// The `Orchestrate-Checkpoint` trailer of a completed sub-task, the `Orchestrate-Result` of the
  /// last failed attempt otherwise.
  public var checkpoint: String?
  public var commit: String?
  public var branch: String
  /// What its agents reported, every attempt counted; nil when none did (`status`'s `cost_usd`).
  public var costUSD: Decimal? = nil

  enum CodingKeys: String, CodingKey {
    case plan, order, total, id, description, state, attempts, checkpoint, commit, branch
    case durationSeconds = "duration_seconds"
    case costUSD = "cost_usd"
  }
}

extension Orchestrator {
  /// The plan's sub-tasks in order, completed ones from main's history and the others from their
  /// branches (failed attempts included).
  public func log(_ stored: StoredPlan) throws -> [SubtaskLogEntry] {
    let (status, history) = try statusAndHistory(stored)
    return try status.subtaskDetails.map { detail in
      var checkpoint: String?
      if detail.state == .completed {
        checkpoint =
          history.completions[detail.id].map { done in
            done.checkpoint.map { $0 + (done.red == nil ? "" : " · red first") }
          } ?? nil
      } else if let hex = detail.commit, let oid = OID(hex: hex), detail.attempts > 0 {
        checkpoint = try repository.commit(oid).trailer(Trailers.result)
      }
      return SubtaskLogEntry(
        plan: stored.plan.id, order: detail.order, total: status.totalSubtasks, id: detail.id,
        description: detail.description, state: detail.state, attempts: detail.attempts,
        durationSeconds: detail.durationSeconds, checkpoint: checkpoint,
        commit: detail.state == .pending ? nil : detail.commit, branch: detail.branch, costUSD: detail.costUSD)
    }
  }

  /// The plans `log` and `show` look at: the one named, else every stored plan.
  public func plans(_ id: String?) throws -> [StoredPlan] {
    if let id { return [try store.load(id)] }
    let all = try store.list()
    if all.isEmpty { throw OrchestrateError.noPlan }
    return all
  }
}

extension SubtaskLogEntry {
  /// Column widths that fit every entry of `entries` (a long id or checkpoint widens its column).
  public struct Widths: Sendable {
    var id = 16
    var checkpoint = 32

    public init(_ entries: [SubtaskLogEntry] = []) {
      for entry in entries {
        id = max(id, SubtaskLogEntry.characterCount(entry.id))
        checkpoint = max(checkpoint, SubtaskLogEntry.characterCount(entry.checkpoint ?? "-"))
      }
    }
  }

  /// `  3/4 three      completed   2 attempts  1.4 s  $0.42  passed (1 command, 0.0 s)  1a2b3c4d5e6f`.
  public var line: String { line(widths: Widths([self])) }

  /// The line with columns as wide as `widths`, so the lines of one plan align.
  public func line(widths: Widths) -> String {
    let attemptsText = attempts == 0 ? "-" : Plural.count(attempts, "attempt")
    let duration = durationSeconds.map { Durations.format($0) } ?? "-"
    // Written into one buffer: `log` of a plan of 10,000 sub-tasks makes 10,000 lines, and an array
    // of padded strings joined was ~3 µs a line, a quarter of the whole command.
    var bytes: [UInt8] = []
    bytes.reserveCapacity(widths.id + widths.checkpoint + 64)
    func column(_ text: String, _ width: Int) {
      bytes.append(contentsOf: text.utf8)
      let count = Self.characterCount(text)
      if count < width { bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: width - count)) }
      bytes.append(UInt8(ascii: " "))
    }
    column("\(order)/\(total)", 6)
    column(id, widths.id)
    column(state.rawValue, 12)
    column(attemptsText, 11)
    column(duration, 8)
    column(costUSD.map(Ledger.money) ?? "-", 9)
    column(checkpoint ?? "-", widths.checkpoint)
    if let commit {
      // An id is hexadecimal: its first 12 characters are its first 12 bytes.
      if Self.isPlainASCII(commit) {
        bytes.append(contentsOf: commit.utf8.prefix(12))
      } else {
        bytes.append(contentsOf: commit.prefix(12).utf8)
      }
    }
    return String(decoding: bytes, as: UTF8.self).trimmingSpaces
  }

  /// `text.count` (the width `pad` gave a column), without walking grapheme clusters when every
  /// byte is ASCII other than a carriage return, whose characters are one byte each.
  static func characterCount(_ text: String) -> Int {
    isPlainASCII(text) ? text.utf8.count : text.count
  }

  /// Whether every byte of `text` is ASCII other than CR (so each byte is a character), read from
  /// its contiguous UTF-8 where it has one, as native and small strings do.
  static func isPlainASCII(_ text: String) -> Bool {
    let plain = text.utf8.withContiguousStorageIfAvailable { bytes in
      !bytes.contains { $0 >= 0x80 || $0 == UInt8(ascii: "\r") }
    }
    return plain ?? !text.utf8.contains { $0 >= 0x80 || $0 == UInt8(ascii: "\r") }
  }
}

extension String {
  /// Without the white space `CharacterSet.whitespaces` names (tabs and space separators) at
  /// either end, found without Foundation: `log` trims each of a long plan's lines.
  fileprivate var trimmingSpaces: String {
    func isSpace(_ scalar: Unicode.Scalar) -> Bool {
      scalar == " " || scalar == "\t" || (scalar.value >= 0x80 && scalar.properties.generalCategory == .spaceSeparator)
    }
    let scalars = unicodeScalars
    guard let first = scalars.first, let last = scalars.last, isSpace(first) || isSpace(last) else { return self }
    var start = scalars.startIndex
    var end = scalars.endIndex
    while start < end, isSpace(scalars[start]) { start = scalars.index(after: start) }
    while end > start, isSpace(scalars[scalars.index(before: end)]) { end = scalars.index(before: end) }
    return String(scalars[start..<end])
  }
}
