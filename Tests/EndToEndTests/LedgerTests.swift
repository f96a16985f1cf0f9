import Foundation
import TestSupport
import Testing

/// What sub-tasks cost, recorded in git by stand-in agents through the usage-file contract.
@Suite("cost ledger", .serialized)
struct LedgerTests {
  /// A stand-in agent: does the sub-task's work (wrong on the first attempt of `two`) and reports a
  /// known cost at `$ORCHESTRATE_USAGE_FILE`.
  static let agent = """
    #!/bin/sh
    cat > /dev/null
    case "$ORCHESTRATE_SUBTASK_ID:$ORCHESTRATE_ATTEMPT" in
      one:*) echo 1 > one.txt; cost=0.10 ;;
      two:1) echo broken > two.txt; cost=0.20 ;;
      two:*) echo fixed > two.txt; cost=0.30 ;;
      three:*) echo 3 > three.txt; cost=0.40 ;;
    esac
    id="s-$ORCHESTRATE_SUBTASK_ID-$ORCHESTRATE_ATTEMPT"
    printf '{"cost_usd": %s, "input_tokens": 1000, "output_tokens": 100, "turns": 2, "model": "stand-in-1", "session_id": "%s", "agent": "stand-in", "resume_command": "stand-in --resume %s"}' "$cost" "$id" "$id" > "$ORCHESTRATE_USAGE_FILE"

    """

  static let plan = TestPlan(
    id: "costs", agent: "./agent.sh", fixAgent: "./agent.sh", maxAttempts: 3,
    subtasks: [
      .init(id: "one", prompt: "p", complexity: "small", checkpoint: ["test -f one.txt"]),
      .init(id: "two", prompt: "p", complexity: "small", checkpoint: ["grep -q fixed two.txt"]),
      .init(id: "three", prompt: "p", complexity: "medium", checkpoint: ["test -f three.txt"]),
    ])

  static func box(maxCost: String? = nil) throws -> TemporaryRepository {
    let box = try TemporaryRepository(files: ["README.md": "# p\n"])
    try box.write("agent.sh", agent, executable: true)
    try box.commitAll("agent")
    try box.write("plan.yml", (maxCost.map { "max_cost: \($0)\n" } ?? "") + plan.yaml)
    return box
  }

  static func json(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }

  static func decimal(_ value: Any?) -> Decimal? {
    (value as? NSNumber).flatMap { Decimal(string: "\($0.doubleValue)") }
  }

  @Test("each attempt and each landed sub-task carries its cost; status, log, show and events agree")
  func trailersAndTotals() throws {
    let box = try Self.box()
    let result = box.orchestrate("run", "plan.yml", "--json")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")

    // The landed commits: their own attempt's cost, and the total over failed attempts and the fix agent.
    let two = try box.trailers("main~1")
    #expect(two["Orchestrate-Cost"] == "0.30 USD")
    #expect(two["Orchestrate-Cost-Total"] == "0.50 USD (2 attempts)")
    #expect(two["Orchestrate-Tokens"] == "1000 in, 100 out")
    #expect(two["Orchestrate-Tokens-Total"] == "2000 in, 200 out")
    #expect(two["Orchestrate-Agent-Session"] == "stand-in s-two-2")
    #expect(two["Orchestrate-Agent-Model"] == "stand-in-1")
    #expect(two["Orchestrate-Agent-Turns"] == "2")
    #expect(try box.trailers("main")["Orchestrate-Cost-Total"] == "0.40 USD (1 attempt)")
    // The failed attempt, kept under refs/orchestrate/attempts/.
    let attempt = try box.trailers("refs/orchestrate/attempts/costs/02-two")
    #expect(attempt["Orchestrate-Cost"] == "0.20 USD")
    #expect(attempt["Orchestrate-Agent-Session"] == "stand-in s-two-1")
    // git reads them.
    let totals = try box.git("log", "--first-parent", "--format=%(trailers:key=Orchestrate-Cost-Total,valueonly)", "main")
      .split(separator: "\n").compactMap { Decimal(string: String($0.split(separator: " ").first ?? "")) }
    #expect(totals.reduce(0, +) == 1)

    // status --json: the totals equal the sum of the trailers.
    let status = try Self.json(box.orchestrate("status", "--json").stdout)
    let cost = try #require(status["cost"] as? [String: Any])
    #expect(Self.decimal(cost["spent_usd"]) == totals.reduce(0, +))
    #expect(cost["attempts_reported"] as? Int == 4 && cost["attempts_unreported"] as? Int == 0)
    #expect(cost["input_tokens"] as? Int == 4000 && cost["output_tokens"] as? Int == 400)
    #expect(cost["estimated_remaining"] as? String == "none (all sub-tasks completed)")
    let details = try #require(status["subtask_details"] as? [[String: Any]])
    #expect(details.map { Self.decimal($0["cost_usd"]) } == [Decimal(string: "0.1"), Decimal(string: "0.5"), Decimal(string: "0.4")])

    // The run's JSON events report each agent's usage.
    let events = try result.stdout.split(separator: "\n").map { try Self.json(String($0)) }
    let usage = events.filter { $0["event"] as? String == "agent_usage" }
    #expect(usage.count == 4)
    #expect(usage.map { Self.decimal($0["cost_usd"]) } == ["0.1", "0.2", "0.3", "0.4"].map { Decimal(string: $0) })

    let status1 = box.orchestrate("status")
    #expect(status1.stdout.contains("Cost: $1.00 spent"), "\(status1.stdout)")
    #expect(box.orchestrate("log").stdout.contains("$0.50"))
    let show = box.orchestrate("show", "two")
    #expect(show.stdout.contains("attempt 1: stand-in s-two-1, $0.20"), "\(show.stdout)")
    #expect(show.stdout.contains("&& stand-in --resume s-two-2"), "\(show.stdout)")
  }

  @Test("a budget reached mid-plan stops before the next agent run; a higher one resumes")
  func budgetStopsAndResumes() throws {
    let box = try Self.box(maxCost: "5.00")
    let stopped = box.orchestrate("run", "plan.yml", "--budget", "0.25", "--json")
    #expect(stopped.status == 1, "\(stopped.stdout)\n\(stopped.stderr)")
    #expect(stopped.stderr.contains("has spent 0.30 USD, which reaches its budget of 0.25 USD (--budget)"), "\(stopped.stderr)")
    #expect(stopped.stderr.contains("--budget "))
    // One, then two's first attempt; the fix agent never started.
    let started = stopped.stdout.split(separator: "\n").filter { $0.contains("\"agent_started\"") }
    #expect(started.count == 2)
    #expect(try box.mainSubjects().first == "one")
    #expect(try box.trailers("orchestrate/costs/02-two")["Orchestrate-Cost"] == "0.20 USD")

    // Status shows the spend and an estimate from the measured cost per complexity.
    let status = try Self.json(box.orchestrate("status", "--json").stdout)
    let cost = try #require(status["cost"] as? [String: Any])
    #expect(Self.decimal(cost["spent_usd"]) == Decimal(string: "0.3"))
    #expect(Self.decimal(cost["budget_usd"]) == 5)
    // one (small, $0.10) measured: two small + one medium (weights 1 and 2 of complexity) left.
    #expect((cost["estimated_remaining"] as? String)?.hasSuffix(" estimated") == true)
    #expect(Self.decimal(cost["estimated_remaining_usd"]) != nil)

    // The plan's max_cost of 5.00 resumes it when --budget is not given.
    let resumed = box.orchestrate("run", "plan.yml")
    #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
    #expect(try box.trailers("main~1")["Orchestrate-Cost-Total"] == "0.50 USD (2 attempts)")
    let final = try Self.json(box.orchestrate("status", "--json").stdout)
    #expect(Self.decimal((final["cost"] as? [String: Any])?["spent_usd"]) == 1)
  }

  @Test("git config orchestrate.maxCost applies; script sub-tasks and silent agents cost nothing known")
  func configBudgetAndUnknown() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n"])
    try box.write("silent.sh", "#!/bin/sh\ncat > /dev/null\necho x > x.txt\n", executable: true)
    try box.commitAll("agent")
    try box.git("config", "orchestrate.maxCost", "0")
    let plan = TestPlan(
      id: "quiet", agent: "./silent.sh",
      subtasks: [
        .makes("a.txt", id: "a"),
        .init(id: "b", prompt: "p", checkpoint: ["test -f x.txt"]),
      ])
    try box.write("plan.yml", plan.yaml)
    // A budget of 0 is reached at once, before any agent: script steps still run.
    let stopped = box.orchestrate("run", "plan.yml")
    #expect(stopped.status == 1)
    #expect(stopped.stderr.contains("(git config orchestrate.maxCost)"), "\(stopped.stderr)")
    #expect(try box.mainSubjects().first == "a")
    #expect(box.orchestrate("run", "plan.yml", "--budget", "1").status == 0)
    // Nothing reported: no cost trailers, and the status says unknown rather than $0.
    #expect(try box.trailers("main")["Orchestrate-Cost"] == nil)
    let status = try Self.json(box.orchestrate("status", "--json").stdout)
    let cost = try #require(status["cost"] as? [String: Any])
    #expect(cost["spent_usd"] is NSNull)
    #expect(box.orchestrate("status").stdout.contains("cost unknown"))
    try box.git("config", "orchestrate.maxCost", "lots")
    try box.write("plan2.yml", TestPlan(id: "q2", agent: "./silent.sh", subtasks: [.init(id: "c", prompt: "p", checkpoint: ["true"])]).yaml)
    let bad = box.orchestrate("run", "plan2.yml")
    #expect(bad.status == 2 && bad.stderr.contains("orchestrate.maxCost 'lots'"), "\(bad.stderr)")
  }
}
