import Foundation
import TestSupport
import Testing

@testable import OrchestrateKit

/// Input written to break the reader: it must refuse clearly, never crash or hang.
@Suite("Plan reader, hostile input")
struct PlanHostileInputTests {
  func expectRefused(
    _ text: String, containing fragment: String, line: Int? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    guard let error = planError(text, sourceLocation: sourceLocation) else { return }
    #expect(error.diagnostics.count == 1, sourceLocation: sourceLocation)
    #expect(
      error.diagnostics[0].message.contains(fragment), "\(error.diagnostics[0].message)",
      sourceLocation: sourceLocation)
    if let line { #expect(error.diagnostics[0].line == line, sourceLocation: sourceLocation) }
  }

  @Test("10,000 levels of [ are refused, in YAML and JSON")
  func deepFlowNesting() {
    let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
    expectRefused(
      "id: demo\nsubtasks: \(deep)\n", containing: "nested deeper than 64 levels", line: 2)
    expectRefused(
      "{\"id\": \"demo\",\n \"subtasks\": \(deep)}", containing: "nested deeper than 64 levels",
      line: 2)
    expectRefused(
      String(repeating: "[", count: 10_000), containing: "nested deeper than 64 levels", line: 1)
    expectRefused(
      String(repeating: "{a: ", count: 10_000), containing: "nested deeper than 64 levels", line: 1)
  }

  @Test("deep block nesting is refused")
  func deepBlockNesting() {
    let compact = String(repeating: "- ", count: 10_000) + "x"
    expectRefused(compact, containing: "nested list items on one line")
    let indented = (0..<1_000).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(
      separator: "\n")
    expectRefused(indented, containing: "indentation deeper than 256 columns", line: 258)
  }

  @Test("nesting just inside the limits parses without crashing")
  func nestingAtTheLimits() throws {
    var lines = ["id: demo", "extra:"]
    for level in 1...255 { lines.append(String(repeating: " ", count: level) + "k\(level):") }
    lines.append(
      String(repeating: " ", count: 256) + String(repeating: "- ", count: 32)
        + String(repeating: "[", count: 64) + String(repeating: "]", count: 64))
    lines.append("subtasks:\n  - {id: a, prompt: a, checkpoint: {commands: [a]}}")
    let plan = try parsePlan(lines.joined(separator: "\n"))
    #expect(plan.warnings == ["plan.yml:2: unknown key 'extra' (ignored)"])
  }

  @Test("brackets, anchors and hashes inside text are not structure")
  func textIsNotStructure() throws {
    let brackets = String(repeating: "[", count: 10_000)
    let plan = try parsePlan(
      """
      id: demo
      description: Don't [ stop * here & there#1 # a comment
      subtasks:
        - id: a
          prompt: |
            - *bold* item & more
            &anchor-like text, and [[[[[[ brackets
              *deeper*
          checkpoint:
            commands: ["echo '\(brackets)'", 'test "[" != x', make && make test, ls *.txt, "[ -f x ] || exit 1"]
      """)
    #expect(plan.subtasks[0].checkpoint.commands.count == 5)
    #expect(plan.subtasks[0].prompt.hasPrefix("- *bold* item & more\n&anchor-like text"))
    #expect(plan.description == "Don't [ stop * here & there#1")
  }

  @Test("anchors and aliases are refused (no billion laughs)")
  func billionLaughs() {
    var lines = ["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
    for level in 1...9 {
      let previous = String(UnicodeScalar(UInt8(ascii: "a") + UInt8(level - 1)))
      let name = String(UnicodeScalar(UInt8(ascii: "a") + UInt8(level)))
      lines.append(
        "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",")
          + "]")
    }
    lines.append("? *j\n: x")
    expectRefused(lines.joined(separator: "\n"), containing: "anchors and aliases", line: 1)
    expectRefused("id: demo\nsubtasks: [*x]", containing: "anchors and aliases", line: 2)
    expectRefused(
      "id: demo\nsubtasks:\n  - !!map &x {id: a}\n", containing: "anchors and aliases", line: 3)
  }

  @Test("a file over 10 MB is refused before parsing")
  func hugeFile() throws {
    try withTemporaryDirectory { directory in
      let url = directory.appendingPathComponent("huge.yml")
      var data = Data("id: demo\nsubtasks:\n".utf8)
      data.append(Data(repeating: UInt8(ascii: "["), count: 20 * 1024 * 1024))
      try data.write(to: url)
      let error = try #require(planError { try PlanReader.read(contentsOf: url.path) })
      #expect(error.diagnostics.count == 1)
      #expect(error.diagnostics[0].message.hasPrefix("is 20.0 MB, over the 10 MB limit for a plan"))
      #expect(error.diagnostics[0].line == nil)
      let direct = try #require(planError { try PlanReader.parse(data, fileName: "huge.yml") })
      #expect(direct.diagnostics[0].message.hasPrefix("is 20.0 MB"))
    }
  }

  @Test("a large but legal plan is read")
  func largePlan() throws {
    let subtasks = (0..<3_000).map {
      "  - {id: s\($0), prompt: \"\(String(repeating: "x", count: 200))\", checkpoint: {commands: [\"true\"]}}"
    }
    let plan = try parsePlan("id: big\nsubtasks:\n" + subtasks.joined(separator: "\n"))
    #expect(plan.subtasks.count == 3_000)
    #expect(plan.subtasks.last?.order == 3_000)
  }

  @Test("binary garbage is refused")
  func binaryGarbage() throws {
    var generator = SplitMix64(seed: 7)
    for _ in 0..<50 {
      let bytes = (0..<Int.random(in: 1...4096, using: &generator)).map { _ in
        UInt8.random(in: 0...255, using: &generator)
      }
      let error = try #require(
        planError { try PlanReader.parse(Data(bytes), fileName: "garbage.bin") })
      #expect(!error.diagnostics.isEmpty)
      #expect(error.diagnostics.allSatisfy { !$0.message.isEmpty && $0.file == "garbage.bin" })
    }
    let notUTF8 = try #require(
      planError { try PlanReader.parse(Data([0xFF, 0xFE, 0x00, 0x41]), fileName: "x") })
    #expect(notUTF8.diagnostics[0].message.hasPrefix("is not UTF-8 text"))
  }

  @Test("a NUL byte or a newline inside an id is refused with its line")
  func controlCharacters() throws {
    let rawNUL = try #require(planError("id: demo\nsubtasks:\n  - id: a\u{0}b\n"))
    #expect(rawNUL.diagnostics[0].line == 3)
    #expect(!rawNUL.errorDescription!.contains("\u{0}"))
    let escaped = try #require(
      planError(validPlanYAML().replacingOccurrences(of: "id: auth", with: "id: \"au\\nth\\0\"")))
    #expect(
      escaped.diagnostics.contains {
        $0.subtask == "au\nth\u{0}" && $0.field == "id" && $0.message.contains("control character")
      })
    #expect(escaped.errorDescription!.contains("sub-task 'au\\nth\\0': id:"))
  }

  @Test("wrong types everywhere are all reported, none crash")
  func wrongTypesEverywhere() throws {
    let wrongValues: [Any] = [
      NSNull(), 1, 2.5, true, "text", [1, 2], ["k": "v"], [[[[[[[[[["deep"]]]]]]]]]],
    ]
    let fields = [
      "id", "description", "agent", "fix_agent", "max_attempts", "timeout", "main_branch",
      "subtasks", "final_checkpoint",
    ]
    let subtaskFields = [
      "id", "order", "description", "prompt", "complexity", "run", "dependencies",
      "success_criteria", "checkpoint", "agent",
    ]
    for wrong in wrongValues {
      var plan: [String: Any] = [:]
      for field in fields { plan[field] = wrong }
      var subtask: [String: Any] = [:]
      for field in subtaskFields { subtask[field] = wrong }
      plan["subtasks"] = [
        subtask, wrong,
        ["checkpoint": ["commands": wrong, "timeout": wrong, "description": wrong]],
      ]
      let error = try #require(planError { try PlanReader.parse(object: plan, fileName: "wrong") })
      #expect(error.diagnostics.allSatisfy { !$0.message.isEmpty })
      #expect(error.diagnostics.count >= 3)
    }
    let deep: Any = (0..<1_000).reduce([Any]()) { inner, _ in [inner] as Any }
    let error = try #require(
      planError { try PlanReader.parse(object: ["id": "x", "subtasks": deep], fileName: "deep") })
    #expect(
      error.diagnostics[0].message
        == "expected a mapping with id, prompt and checkpoint, got a list")
  }
}

/// A small deterministic generator, so a failing fuzz case can be replayed.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
