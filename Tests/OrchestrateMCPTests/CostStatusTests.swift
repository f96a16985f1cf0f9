import Foundation
import TestSupport
import Testing

@testable import OrchestrateMCP

@Suite("mcp cost status")
struct CostStatusTests {
  @Test("get_decomposition_status reports what the agents cost, from the trailers, with the estimate")
  func costInStatus() async throws {
    let repo = try TemporaryRepository(files: ["README.md": "# p\n"])
    try repo.write(
      "agent.sh", "#!/bin/sh\ncat > /dev/null\necho x > x.txt\nprintf '{\"cost_usd\": 0.25, \"input_tokens\": 10, \"output_tokens\": 2}' > \"$ORCHESTRATE_USAGE_FILE\"\n",
      executable: true)
    try repo.commitAll("agent")
    let plan = TestPlan(
      id: "priced", agent: "./agent.sh",
      subtasks: [
        .init(id: "a", prompt: "p", complexity: "small", checkpoint: ["test -f x.txt"]),
        .init(id: "b", prompt: "p", complexity: "small", checkpoint: ["test -f never.txt"]),
      ])
    try repo.write("plan.yml", plan.yaml)
    _ = repo.orchestrate("run", "plan.yml", "--max-attempts", "1")
    let host = repo.host()
    let status = await call(host, "get_decomposition_status", ["master_task_id": "priced"])
    #expect(!status.isError, "\(status.text)")
    let cost = try #require(status["cost"] as? [String: Any])
    #expect((cost["spent_usd"] as? NSNumber)?.doubleValue == 0.5)
    #expect(cost["attempts_reported"] as? Int == 2)
    #expect((cost["estimated_remaining_usd"] as? NSNumber)?.doubleValue == 0.25)
    #expect(cost["estimated_remaining"] as? String == "~$0.25 estimated")
    #expect(cost["budget_usd"] is NSNull)
    let details = try #require(status["subtask_details"] as? [[String: Any]])
    #expect(details.map { ($0["cost_usd"] as? NSNumber)?.doubleValue } == [0.25, 0.25])
    await host.close()
  }
}
