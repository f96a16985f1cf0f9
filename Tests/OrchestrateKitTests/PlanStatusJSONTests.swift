import Foundation
import Testing

@testable import OrchestrateKit

@Suite("Plan status JSON")
struct PlanStatusJSONTests {
  static func reference(_ status: PlanStatus, pretty: Bool) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting =
      pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(status)
  }

  static let strange = "a \"quoted\" \\ path/with/slashes\n\t\r\u{08}\u{0C}\u{01}\u{1B}\u{7F} é 🚀 \u{2028}"

  static var statuses: [PlanStatus] {
    let full = PlanStatus.Detail(
      id: "models", order: 1, description: strange, state: .completed, commit: String(repeating: "a", count: 40),
      attempts: 2, durationSeconds: 12.3, branch: "orchestrate/p/01-models", costUSD: Decimal(string: "0.123456"),
      inputTokens: 1200, outputTokens: 34)
    let bare = PlanStatus.Detail(
      id: "auth", order: 2, description: "", state: .pending, commit: nil, attempts: 0, durationSeconds: nil,
      branch: "orchestrate/p/02-auth")
    let odd = PlanStatus.Detail(
      id: "x", order: 10, description: "d", state: .failed, commit: "b", attempts: 3, durationSeconds: 1e-7,
      branch: "b", costUSD: 0, inputTokens: nil, outputTokens: 0)
    let cost = CostSummary(
      spentUSD: Decimal(string: "12.5"), inputTokens: 5, outputTokens: nil, attemptsReported: 1, attemptsUnreported: 2,
      estimatedRemainingUSD: nil, estimatedRemaining: "~$1.20 estimated", budgetUSD: Decimal(string: "100"))
    let a = PlanStatus(
      masterTaskID: "p", description: strange, mainBranch: "main", totalSubtasks: 3, completedSubtasks: ["models"],
      progressPercentage: 33.3, estimatedRemaining: "about 4 s", estimatedRemainingSeconds: 4.2, currentSubtask: "auth",
      subtaskDetails: [full, bare, odd], workdir: "/tmp/work/p", cost: cost)
    var b = a
    b.completedSubtasks = []
    b.subtaskDetails = []
    b.currentSubtask = nil
    b.estimatedRemainingSeconds = nil
    b.progressPercentage = 0
    b.cost = nil
    var c = a
    c.progressPercentage = 100
    c.estimatedRemainingSeconds = 123456789.123
    c.cost?.spentUSD = nil
    c.cost?.budgetUSD = nil
    return [a, b, c]
  }

  @Test("the same bytes as JSONEncoder, pretty and compact")
  func sameAsJSONEncoder() throws {
    for (index, status) in Self.statuses.enumerated() {
      for pretty in [true, false] {
        let written = try status.jsonData(pretty: pretty)
        let expected = try Self.reference(status, pretty: pretty)
        #expect(
          written == expected,
          "status \(index), pretty \(pretty):\n\(String(decoding: written, as: UTF8.self))\n---\n\(String(decoding: expected, as: UTF8.self))"
        )
      }
    }
  }

  @Test("a long plan's status as JSONEncoder writes it")
  func longPlan() throws {
    var status = Self.statuses[0]
    status.subtaskDetails = (1...2000).map { order in
      PlanStatus.Detail(
        id: "t\(order)", order: order, description: "t\(order)", state: order % 3 == 0 ? .pending : .completed,
        commit: order % 3 == 0 ? nil : String(repeating: "c", count: 40), attempts: order % 4,
        durationSeconds: order % 3 == 0 ? nil : Double(order % 17) / 10, branch: "orchestrate/p/\(order)-t\(order)")
    }
    status.completedSubtasks = status.subtaskDetails.filter { $0.state == .completed }.map(\.id)
    #expect(try status.jsonData() == (try Self.reference(status, pretty: true)))
  }
}
