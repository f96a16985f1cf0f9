import Foundation
import GitKit
import Testing

@testable import OrchestrateKit

@Suite("History record")
struct HistoryRecordTests {
  static let plan = Plan(
    id: "p", description: "d", subtasks: [Subtask(id: "a", order: 1, description: "", prompt: "", checkpoint: Checkpoint(commands: ["true"]))])
  static let stored = StoredPlan(
    plan: plan, commit: OID(hex: String(repeating: "1", count: 40))!, base: OID(hex: String(repeating: "2", count: 40)),
    source: nil)

  static var history: History {
    var history = History()
    history.mainTip = OID(hex: String(repeating: "3", count: 40))
    var cost = CostTotal()
    cost.costUSD = Decimal(string: "0.123456")
    cost.inputTokens = 120
    cost.attempts = 3
    cost.unreported = 1
    history.completions["a"] = .init(
      commit: OID(hex: String(repeating: "4", count: 40))!, attempts: 3, duration: 12.3,
      checkpoint: "passed (1 command, 0.1 s)", red: "failed\twith a tab\\ and\na newline", cost: cost)
    history.completions["b-2"] = .init(
      commit: OID(hex: String(repeating: "5", count: 40))!, attempts: 1, duration: nil, checkpoint: nil, red: nil,
      cost: CostTotal())
    history.completions["c"] = .init(
      commit: OID(hex: String(repeating: "6", count: 40))!, attempts: 1, duration: 1e-7, checkpoint: "=", red: "",
      cost: CostTotal())
    return history
  }

  static func same(_ a: History, _ b: History) -> Bool {
    a.mainTip == b.mainTip && a.completions.count == b.completions.count
      && a.completions.allSatisfy { key, value in
        guard let other = b.completions[key] else { return false }
        return other.commit == value.commit && other.attempts == value.attempts && other.duration == value.duration
          && other.checkpoint == value.checkpoint && other.red == value.red && other.cost == value.cost
      }
  }

  @Test("a record reads back as the history it was written from")
  func roundTrip() throws {
    let data = Self.history.record(stored: Self.stored, mainRef: "refs/heads/main")
    let read = try #require(History(record: data, stored: Self.stored, mainRef: "refs/heads/main"))
    #expect(Self.same(read, Self.history))
  }

  @Test("a record of another plan version, main branch or base is not read")
  func otherRecords() throws {
    let data = Self.history.record(stored: Self.stored, mainRef: "refs/heads/main")
    #expect(History(record: data, stored: Self.stored, mainRef: "refs/heads/trunk") == nil)
    let otherVersion = StoredPlan(
      plan: Self.plan, commit: OID(hex: String(repeating: "7", count: 40))!, base: Self.stored.base, source: nil)
    #expect(History(record: data, stored: otherVersion, mainRef: "refs/heads/main") == nil)
    let otherBase = StoredPlan(plan: Self.plan, commit: Self.stored.commit, base: nil, source: nil)
    #expect(History(record: data, stored: otherBase, mainRef: "refs/heads/main") == nil)
  }

  @Test("a damaged record is not read")
  func damaged() {
    let text = String(decoding: Self.history.record(stored: Self.stored, mainRef: "refs/heads/main"), as: UTF8.self)
    for damaged in [
      text.replacingOccurrences(of: "\ttip ", with: "\ttop "), text.replacingOccurrences(of: "tip 3", with: "tip x"),
      text.replacingOccurrences(of: "\t3\t", with: "\tthree\t"), text + "a\tb\n", text.replacingOccurrences(of: "\\t", with: "\\q"),
    ] where damaged != text {
      #expect(History(record: Data(damaged.utf8), stored: Self.stored, mainRef: "refs/heads/main") == nil, "\(damaged)")
    }
  }
}
