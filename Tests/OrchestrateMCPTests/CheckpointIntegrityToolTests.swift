import Foundation
import OrchestrateKit
import OrchestrateMCP
import TestSupport
import Testing

/// Protected paths and red before green over MCP: the master agent is held to what `run`'s agents are.
@Suite("mcp checkpoint integrity")
struct CheckpointIntegrityToolTests {
  static func plan(redFirst: Bool) -> [String: Any] {
    [
      "task_id": "guarded", "description": "guarded", "protect": ["tests/"], "red_first": redFirst,
      "subtasks": [
        ["id": "impl", "checkpoint": ["commands": ["sh tests/check.sh"]], "orchestration_prompt": "Make impl.txt say done"]
      ],
    ]
  }

  @Test("a master agent that edits the protected test: validate and complete refuse, name it, put it back; the honest fix lands")
  func protectedOverMCP() async throws {
    let repo = try TemporaryRepository(files: ["README.md": "# p\n", "tests/check.sh": "grep -q done impl.txt\n"])
    let host = repo.host()
    #expect(!(await call(host, "decompose_task", Self.plan(redFirst: false))).isError)
    let next = await call(host, "get_next_subtask", ["master_task_id": "guarded"])
    let workdir = URL(fileURLWithPath: try #require(next["workdir"] as? String))
    #expect((next["subtask"] as? [String: Any])?["orchestration_prompt"].map { "\($0)" }?.contains("tests/") == true)

    try repo.write("tests/check.sh", "true\n", in: workdir)
    let validated = await call(host, "validate_checkpoint", ["master_task_id": "guarded", "subtask_id": "impl"])
    #expect(validated["passed"] as? Bool == false, "\(validated.text)")
    #expect((validated["reason"] as? String)?.contains("changed protected path tests/check.sh") == true, "\(validated.text)")
    #expect(repo.read("tests/check.sh", in: workdir) == "grep -q done impl.txt\n", "put back")
    try repo.write("tests/check.sh", "true\n", in: workdir)
    let completed = await call(host, "complete_subtask", ["master_task_id": "guarded", "subtask_id": "impl"])
    #expect(completed["completed"] as? Bool == false, "\(completed.text)")
    #expect(try repo.mainSubjects() == ["initial"])

    try repo.write("impl.txt", "done\n", in: workdir)
    let honest = await call(host, "complete_subtask", ["master_task_id": "guarded", "subtask_id": "impl"])
    #expect(honest["completed"] as? Bool == true, "\(honest.text)")
    #expect(try repo.git("show", "main:tests/check.sh") == "grep -q done impl.txt")
    await host.close()
  }

  @Test("red_first over MCP: get_next_subtask refuses a checkpoint that passes before any work, and creates nothing")
  func redFirstOverMCP() async throws {
    let repo = try TemporaryRepository(files: [
      "README.md": "# p\n", "impl.txt": "done\n", "tests/check.sh": "grep -q done impl.txt\n",
    ])
    let host = repo.host()
    #expect(!(await call(host, "decompose_task", Self.plan(redFirst: true))).isError)
    let next = await call(host, "get_next_subtask", ["master_task_id": "guarded"])
    #expect(next.isError, "\(next.text)")
    #expect(next.error.contains("already passes before any work"), "\(next.error)")
    #expect(try repo.git("for-each-ref", "refs/heads/orchestrate") == "")
    await host.close()
  }
}
