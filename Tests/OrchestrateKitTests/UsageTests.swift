import Foundation
import GitKit
import TestSupport
import Testing

@testable import OrchestrateKit

/// Output captured from the real programs (Claude Code 2.1.332 from pip claude-agent-sdk, aider
/// 0.86.2), each pointed at tests/agents/fake_models.py.
private func fixture(_ name: String) throws -> String {
  try String(contentsOf: planFixtures.appendingPathComponent("usage/" + name), encoding: .utf8)
}

@Suite("agent usage readers")
struct UsageTests {
  @Test("Claude Code stream-json: the result event's cost, tokens, turns, model and session")
  func claudeStreamJSON() throws {
    let usage = try #require(AgentUsage.claude(log: try fixture("claude-stream-json.log")))
    #expect(usage.costUSD == Decimal(string: "0.012112"))
    #expect(usage.inputTokens == 2468 && usage.outputTokens == 112)
    #expect(usage.cacheReadTokens == 0 && usage.cacheWriteTokens == 0)
    #expect(usage.turns == 2)
    #expect(usage.model == "claude-opus-5-5")
    #expect(usage.sessionID == "8839e669-a500-4e86-bae8-1a938ee82de9")
    #expect(usage.agent == "claude")
    #expect(usage.resume == "claude --resume 8839e669-a500-4e86-bae8-1a938ee82de9")
  }

  @Test("Claude Code json output, and two runs appended to one log add up")
  func claudeJSONAndTwoRuns() throws {
    let one = try #require(AgentUsage.claude(log: try fixture("claude-json.log")))
    #expect(one.costUSD == Decimal(string: "0.012112") && one.sessionID == "71b10a5c-0120-41c1-a18b-64c7e7a1e501")
    let both = try #require(
      AgentUsage.claude(log: try fixture("claude-stream-json.log") + "\n" + fixture("claude-json.log")))
    #expect(both.costUSD == Decimal(string: "0.024224"))
    #expect(both.inputTokens == 4936 && both.outputTokens == 224 && both.turns == 4)
    #expect(both.sessionID == "71b10a5c-0120-41c1-a18b-64c7e7a1e501")
  }

  @Test("no result event, or only an error line: unknown, not zero")
  func claudeNothing() {
    #expect(AgentUsage.claude(log: "") == nil)
    #expect(AgentUsage.claude(log: "Not logged in · Please run /login\n") == nil)
    #expect(AgentUsage.claude(log: #"{"type":"system","subtype":"init","session_id":"x"}"#) == nil)
    #expect(AgentUsage.aider(log: "Aider v0.86.2\nlitellm.AuthenticationError: …\n") == nil)
  }

  @Test("aider: its Tokens and Cost report; the session figure of each run, summed over runs")
  func aider() throws {
    let log = try fixture("aider.log")
    let usage = try #require(AgentUsage.aider(log: log))
    #expect(usage.costUSD == Decimal(string: "0.00064"))
    #expect(usage.inputTokens == 600 && usage.outputTokens == 20 && usage.turns == 1)
    #expect(usage.agent == "aider" && usage.sessionID == nil)
    // A fix run appended to the same log; and aider's rounded counts and cache figures.
    let second = """
      Aider v0.86.2
      Tokens: 2.5k sent, 1.2k cache write, 12k cache hit, 345 received.
      Cost: $0.01 message, $0.0123 session.
      Tokens: 3.1k sent, 10 received. Cost: $0.02 message, $0.0345 session.
      """
    let both = try #require(AgentUsage.aider(log: log + second))
    #expect(both.costUSD == Decimal(string: "0.03514"))
    #expect(both.inputTokens == 600 + 2500 + 3100 && both.outputTokens == 20 + 345 + 10)
    #expect(both.cacheWriteTokens == 1200 && both.cacheReadTokens == 12000 && both.turns == 3)
  }

  @Test("the usage-file contract: every field, and what is refused")
  func usageFile() throws {
    let usage = try AgentUsage.usageFile(
      Data(
        #"{"cost_usd": 0.42, "input_tokens": 120500, "output_tokens": 8200, "cache_read_tokens": 5, "turns": 3, "model": "gpt-x", "session_id": "s-1", "agent": "codex", "resume_command": "codex resume s-1", "extra": true}"#
          .utf8))
    #expect(usage.costUSD == Decimal(string: "0.42") && usage.inputTokens == 120500 && usage.outputTokens == 8200)
    #expect(usage.cacheReadTokens == 5 && usage.turns == 3 && usage.model == "gpt-x" && usage.sessionID == "s-1")
    #expect(usage.agent == "codex" && usage.resume == "codex resume s-1")
    #expect(try AgentUsage.usageFile(Data(#"{"cost_usd": "1.50"}"#.utf8)).costUSD == Decimal(string: "1.5"))
    #expect(try AgentUsage.usageFile(Data("{}".utf8)).isEmpty)
    #expect(throws: UsageFileError.self) { try AgentUsage.usageFile(Data("[1]".utf8)) }
    #expect(throws: UsageFileError.self) { try AgentUsage.usageFile(Data(#"{"cost_usd": -1}"#.utf8)) }
    #expect(throws: UsageFileError.self) { try AgentUsage.usageFile(Data(#"{"input_tokens": 1.5}"#.utf8)) }
    #expect(throws: UsageFileError.self) { try AgentUsage.usageFile(Data(#"{"cost_usd": true}"#.utf8)) }
  }

  @Test("an attempt's files: a usage file wins over the log; runs add up; nothing is unknown")
  func attemptFiles() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("usage-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let files = AttemptUsageFiles(stem: folder + "/01-a.attempt-1")
    #expect(files.read() == nil)
    try fixture("claude-stream-json.log").write(toFile: files.log, atomically: true, encoding: .utf8)
    #expect(files.read()?.costUSD == Decimal(string: "0.012112"))
    try #"{"cost_usd": 0.5, "input_tokens": 10, "output_tokens": 1}"#.write(
      toFile: files.usageFile, atomically: true, encoding: .utf8)
    #expect(files.collect() == nil)
    #expect(!FileManager.default.fileExists(atPath: files.usageFile))
    try #"{"cost_usd": 0.25}"#.write(toFile: files.usageFile, atomically: true, encoding: .utf8)
    files.collect()
    let read = try #require(files.read())
    #expect(read.costUSD == Decimal(string: "0.75") && read.inputTokens == 10)
    try "not json".write(toFile: files.usageFile, atomically: true, encoding: .utf8)
    #expect(files.collect() != nil)
    // A sub-task started afresh: an earlier life's runs are kept, renamed, and no longer counted.
    files.setAsideEarlierRuns()
    #expect(files.read() == nil)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".earlier-") }.count == 2)
  }

  @Test("a flooded log is read in bounded memory: long lines skipped, the result event still found")
  func floodedLog() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("usage-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let files = AttemptUsageFiles(stem: folder + "/01-a.attempt-1")
    var log = Data(String(repeating: "noise line\n", count: 200_000).utf8)
    log.append(Data(("{\"type\":\"result\"," + String(repeating: "x", count: 3 << 20) + "\n").utf8))  // 3 MiB: skipped
    log.append(Data(String(repeating: "y", count: 2 << 20).utf8))
    log.append(Data("\n".utf8))
    // The last line has no newline.
    log.append(Data(try fixture("claude-json.log").trimmingCharacters(in: .newlines).utf8))
    FileManager.default.createFile(atPath: files.log, contents: log)
    #expect(files.read()?.costUSD == Decimal(string: "0.012112"))
  }

  @Test("trailers: written, then read back by CommitRole")
  func trailersRoundTrip() throws {
    let usage = AgentUsage(
      costUSD: Decimal(string: "0.012112000000000001"), inputTokens: 2468, outputTokens: 112, cacheReadTokens: 7,
      turns: 2, model: "claude-opus-5-5", sessionID: "abc-1", agent: "claude")
    let lines = Trailers.usageLines(usage)
    #expect(lines.contains("Orchestrate-Cost: 0.012112 USD"))
    #expect(lines.contains("Orchestrate-Tokens: 2468 in, 112 out, 7 cache read"))
    #expect(lines.contains("Orchestrate-Agent-Session: claude abc-1"))
    var total = CostTotal()
    total.add(AgentUsage(costUSD: Decimal(string: "0.5"), inputTokens: 100, outputTokens: 10))
    total.add(nil)
    total.add(usage)
    #expect(
      Trailers.totalLines(total) == [
        "Orchestrate-Cost-Total: 0.512112 USD (3 attempts, 1 unreported)",
        "Orchestrate-Tokens-Total: 2568 in, 122 out",
      ])
    #expect(Trailers.dollars(1) == "1.00" && Trailers.dollars(Decimal(string: "0.4")!) == "0.40")
    #expect(Trailers.usageLines(nil).isEmpty && Trailers.totalLines(CostTotal()).isEmpty)

    try withTemporaryRepository { repo in
      let message =
        "s\n\nOrchestrate-Plan: p\nOrchestrate-Subtask: 1/1 a\nOrchestrate-Attempts: 3\nOrchestrate-Checkpoint: passed (1 command, 0.1 s)\n"
        + (lines + Trailers.totalLines(total)).joined(separator: "\n") + "\n"
      try repo.write("f", "x")
      try repo.git("add", "f")
      try repo.git("commit", "-q", "-m", message)
      let repository = try Repository(path: repo.path)
      let commit = try repository.commit(try #require(try repository.resolve("HEAD")))
      let done = try #require(CommitRole(commit).completion(of: "p"))
      #expect(done.usage == usage)
      #expect(done.total == total)
      // git itself reads the block.
      let parsed = try repo.git("log", "-1", "--format=%(trailers:key=Orchestrate-Cost-Total,valueonly)")
      #expect(parsed.trimmingCharacters(in: .whitespacesAndNewlines) == "0.512112 USD (3 attempts, 1 unreported)")
    }
  }

  @Test("budgets: amounts accepted and refused, in the plan too")
  func budgets() throws {
    #expect(Budget.parse("5") == 5 && Budget.parse("$5.00") == 5 && Budget.parse("2.5 USD") == Decimal(string: "2.5"))
    for bad in ["", "-1", "five", "1.2.3", "1e3", "nan"] { #expect(Budget.parse(bad) == nil, "\(bad)") }
    let base = "id: p\nsubtasks:\n  - id: a\n    run: [\"true\"]\n    checkpoint: { commands: [\"true\"] }\n"
    #expect(try parsePlan("max_cost: 5.00\n" + base).maxCost == 5)
    #expect(try parsePlan("max_cost: 3\n" + base).maxCost == 3)
    #expect(try parsePlan("max_cost: \"0.75\"\n" + base).maxCost == Decimal(string: "0.75"))
    #expect(try parsePlan(base).maxCost == nil)
    #expect(throws: PlanError.self) { try parsePlan("max_cost: -2\n" + base) }
    #expect(throws: PlanError.self) { try parsePlan("max_cost: [1]\n" + base) }
  }
}
