import Foundation
import TestSupport
import Testing

@testable import OrchestrateKit

/// Random mutations of valid plans: every outcome is a valid Plan or a PlanError that explains itself.
@Suite("Plan reader, fuzzed")
struct PlanFuzzTests {
  static let tokens = [
    "[", "]", "{", "}", ":", ": ", "- ", ",", "\n", "\t", "\"", "'", "#", "|", ">", "&a ", "*a",
    "!!str ", "~", "null",
    "true", "0", "-1", "1e999", "..", "@{", "/", "\\", "\u{0}", "\u{7F}", "é", "\u{FEFF}", "---\n",
    "...", "%YAML 1.1\n",
    "? ", "<<: ", "  ", "subtasks:", "checkpoint:", "commands:", "id: HEAD", "order: 1",
    "dependencies: [a]",
  ]

  static func seeds() throws -> [String] {
    let fixture = try String(
      contentsOf: planFixtures.appendingPathComponent("TASK_DECOMPOSITION.json"), encoding: .utf8)
    return [PlanReaderTests.nativeYAML, PlanReaderTests.nativeJSON, validPlanYAML(), fixture]
  }

  /// A valid plan keeps every promise the rest of the tool relies on.
  func checkInvariants(_ plan: Plan) {
    #expect(RefNameComponent.problem(with: plan.id) == nil)
    #expect(!plan.subtasks.isEmpty)
    #expect(plan.subtasks.map(\.order) == plan.subtasks.map(\.order).sorted())
    #expect(Set(plan.subtasks.map(\.order)).count == plan.subtasks.count)
    var seen = Set<String>()
    for subtask in plan.subtasks {
      #expect(RefNameComponent.problem(with: subtask.id) == nil)
      #expect(!subtask.checkpoint.commands.isEmpty)
      #expect(subtask.dependencies.allSatisfy(seen.contains))
      seen.insert(subtask.id)
    }
  }

  func checkOutcome(_ body: () throws -> Plan) {
    do {
      checkInvariants(try body())
    } catch let error as PlanError {
      #expect(!error.diagnostics.isEmpty)
      #expect(error.diagnostics.allSatisfy { !$0.message.isEmpty && !$0.description.isEmpty })
      #expect(error.errorDescription?.isEmpty == false)
    } catch {
      Issue.record("unexpected error type: \(error)")
    }
  }

  @Test("3,000 text mutations give a Plan or a PlanError with a message")
  func textMutations() throws {
    var generator = SplitMix64(seed: 20_240_601)
    let seeds = try Self.seeds().map { Array($0.utf8) }
    for _ in 0..<3_000 {
      var bytes = seeds.randomElement(using: &generator)!
      for _ in 0..<Int.random(in: 1...4, using: &generator) {
        let position = Int.random(in: 0...bytes.count, using: &generator)
        switch Int.random(in: 0..<5, using: &generator) {
        case 0:
          bytes.insert(
            contentsOf: Array(Self.tokens.randomElement(using: &generator)!.utf8), at: position)
        case 1:
          let end = min(bytes.count, position + Int.random(in: 1...40, using: &generator))
          bytes.removeSubrange(position..<end)
        case 2:
          let end = min(bytes.count, position + Int.random(in: 1...200, using: &generator))
          bytes.insert(
            contentsOf: Array(bytes[position..<end]),
            at: Int.random(in: 0...bytes.count, using: &generator))
        case 3:
          if position < bytes.count {
            bytes[position] = UInt8.random(in: 0...255, using: &generator)
          }
        default:
          bytes.insert(
            contentsOf: Array(
              repeating: UInt8(ascii: "["), count: Int.random(in: 1...200, using: &generator)),
            at: position)
        }
      }
      checkOutcome { try PlanReader.parse(Data(bytes), fileName: "fuzz.yml") }
    }
  }

  @Test("1,000 object mutations give a Plan or a PlanError with a message")
  func objectMutations() throws {
    var generator = SplitMix64(seed: 99)
    let base = try #require(
      try JSONSerialization.jsonObject(with: Data(PlanReaderTests.nativeJSON.utf8))
        as? [String: Any])
    let replacements: [Any] = [
      NSNull(), 0, -1, 101, 1.5, true, false, "", "HEAD", "a/b", "cursor", "1h", [], [1], ["x"],
      [:], ["commands": []],
    ]
    func mutate(_ value: Any, depth: Int) -> Any {
      if Int.random(in: 0..<6, using: &generator) == 0 || depth > 4 {
        return replacements.randomElement(using: &generator)!
      }
      if var dictionary = value as? [String: Any],
        let key = dictionary.keys.sorted().randomElement(using: &generator)
      {
        dictionary[key] = mutate(dictionary[key]!, depth: depth + 1)
        return dictionary
      }
      if var array = value as? [Any], !array.isEmpty {
        let index = Int.random(in: 0..<array.count, using: &generator)
        array[index] = mutate(array[index], depth: depth + 1)
        return array
      }
      return value
    }
    for _ in 0..<1_000 {
      let object = mutate(base, depth: 0)
      checkOutcome { try PlanReader.parse(object: object, fileName: "arguments") }
    }
  }
}
