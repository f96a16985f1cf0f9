import Foundation
import Testing

@testable import OrchestrateKit

@Suite("Normalized plan parser")
struct NormalizedPlanParserTests {
  /// A plan with every field set, in strings that need escapes: a field the parser forgot would
  /// show as a difference from `JSONDecoder`'s reading.
  static let everything: Plan = {
    let checkpoint = Checkpoint(
      description: "all \"quoted\" \\ back\\slash, tab\t, newline\n, bell\u{07}, é, 🚀, a/b",
      commands: ["pytest -q", "echo 'x' > /dev/null"], timeout: 90.5)
    let first = Subtask(
      id: "models", order: 1, description: "Database models ✓", prompt: "Create\nmodels", complexity: .large,
      run: ["./a.sh", "make"], dependencies: [], successCriteria: ["one", "two"], checkpoint: checkpoint,
      agent: "claude", protect: ["tests/**"], redFirst: true, bestOf: 3)
    let second = Subtask(
      id: "auth", order: 2, description: "", prompt: "", complexity: .small, run: [], dependencies: ["models"],
      successCriteria: [], checkpoint: Checkpoint(commands: ["true"]), agent: nil, protect: nil, redFirst: false,
      bestOf: nil)
    return Plan(
      id: "everything", description: "a plan with every field", agent: "aider", fixAgent: "./fix.sh --strict",
      maxAttempts: 4, maxCost: Decimal(string: "12.345678"), timeout: 5400, mainBranch: "trunk",
      subtasks: [first, second], finalCheckpoint: Checkpoint(description: "final", commands: ["make test"], timeout: 600),
      protect: ["@checkpoint"], redFirst: true, keep: ["node_modules/"], executionStrategy: "parallel", jobs: 3)
  }()

  @Test("every field of the fixture is set, so a new field cannot be missed here")
  func fixtureCoversEveryField() {
    func unset(_ value: Any) -> [String] {
      Mirror(reflecting: value).children.compactMap { child in
        guard let label = child.label, label != "warnings" else { return nil }
        let inner = Mirror(reflecting: child.value)
        if inner.displayStyle == .optional, inner.children.isEmpty { return label }
        return nil
      }
    }
    let plan = Self.everything
    #expect(unset(plan).isEmpty)
    #expect(unset(plan.subtasks[0]).isEmpty)
    #expect(unset(plan.subtasks[0].checkpoint).isEmpty)
  }

  @Test("reads what normalizedJSON writes, as JSONDecoder reads it")
  func sameAsJSONDecoder() throws {
    let data = try Self.everything.normalizedJSON()
    let fast = try #require(NormalizedPlanParser.plan(from: data))
    let slow = try JSONDecoder().decode(Plan.self, from: data)
    #expect(fast == slow)
    #expect(fast == Self.everything)
    #expect(try fast.normalizedJSON() == data)
  }

  @Test("amounts and durations as JSONDecoder reads them", arguments: ["0.1", "0.01", "3", "1234.5", "0.000001"])
  func numbers(_ amount: String) throws {
    var plan = Self.everything
    plan.maxCost = Decimal(string: amount)
    plan.timeout = Double(amount)
    let data = try plan.normalizedJSON()
    let fast = try #require(NormalizedPlanParser.plan(from: data))
    let slow = try JSONDecoder().decode(Plan.self, from: data)
    #expect(fast.maxCost == slow.maxCost)
    #expect(fast.timeout == slow.timeout)
  }

  @Test("compact JSON, escaped slashes and \\u escapes read the same")
  func otherSpellings() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = []
    let data = try encoder.encode(Self.everything)
    #expect(NormalizedPlanParser.plan(from: data) == Self.everything)
    let text = #"{"id":"p","description":"\u00e9\ud83d\ude80\/","subtasks":[]}"#
    #expect(NormalizedPlanParser.plan(from: Data(text.utf8))?.description == "é🚀/")
  }

  @Test(
    "anything it does not know exactly is left to JSONDecoder",
    arguments: [
      #"{"id":"p","description":"d","subtasks":[],"owner":"me"}"#,  // an unknown key
      #"{"id":"p","description":"d","id":"q","subtasks":[]}"#,  // a key given twice
      #"{"id":"p","subtasks":[]}"#,  // a required key missing
      #"{"id":"p","description":"d","subtasks":[{"id":"a","order":"1"}]}"#,  // a string for a number
      #"{"id":"p","description":"d","subtasks":[]"#,  // cut short
      #"{"id":"p","description":"d","subtasks":[]} x"#,  // something after
      #"{"id":"p","description":"\ud83d","subtasks":[]}"#,  // a lone surrogate
      "{\"id\":\"p\",\"description\":\"a\u{01}b\",\"subtasks\":[]}",  // a raw control character
    ])
  func refusals(_ text: String) {
    #expect(NormalizedPlanParser.plan(from: Data(text.utf8)) == nil)
  }

  @Test("invalid UTF-8 is refused")
  func invalidUTF8() {
    var data = Data(#"{"id":"p","description":""#.utf8)
    data.append(contentsOf: [0xC3, 0x28])
    data.append(contentsOf: Data(#"","subtasks":[]}"#.utf8))
    #expect(NormalizedPlanParser.plan(from: data) == nil)
  }

  @Test("a plan read through the fast path is still checked for what the engine relies on")
  func stillChecked() throws {
    var text = try #require(String(data: try Self.everything.normalizedJSON(), encoding: .utf8))
    text = text.replacingOccurrences(of: "\"id\" : \"auth\"", with: "\"id\" : \"../auth\"")
    #expect(NormalizedPlanParser.plan(from: Data(text.utf8)) != nil)
    #expect(throws: PlanError.self) { try Plan.fromNormalizedJSON(Data(text.utf8)) }
  }
}
