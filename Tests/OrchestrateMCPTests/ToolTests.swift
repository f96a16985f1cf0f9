import Foundation
import OrchestrateKit
import OrchestrateMCP
import TestSupport
import Testing

/// Each tool's handler on real temporary repositories, called as an MCP client calls it.
@Suite("mcp tools")
struct ToolTests {
  @Test(
    "the server offers the seed's tools and the extras a master-orchestrator needs, and nothing that runs caller commands"
  )
  func toolsAreDeclared() {
    #expect(
      Set(OrchestrationServer.toolNames) == [
        "get_next_subtask", "validate_checkpoint", "complete_subtask", "get_decomposition_status",
        "decompose_task", "list_plans", "get_subtask_failure",
      ])
  }

  @Test(
    "decompose_task stores the plan, again changes nothing, and names the sub-task whose checkpoint has no commands")
  func decomposeTask() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    let stored = await call(host, "decompose_task", twoSteps)
    #expect(!stored.isError, "\(stored.text)")
    #expect(stored["master_task_id"] as? String == "demo")
    #expect(stored["total_subtasks"] as? Int == 2)
    #expect(stored["outcome"] as? String == "added")
    #expect(try repo.git("rev-parse", "--verify", "-q", "refs/orchestrate/plans/demo").count == 40)
    #expect(await call(host, "decompose_task", twoSteps)["outcome"] as? String == "unchanged")

    // The whole TASK_DECOMPOSITION.json shape, with a prose-only checkpoint.
    let seedShape: [String: Any] = [
      "master_task": ["id": "seed", "description": "From the decomposer", "total_subtasks": 1],
      "execution_strategy": "sequential",
      "subtasks": [
        [
          "id": "models", "order": 1, "description": "Models", "orchestration_prompt": "Create the models",
          "estimated_complexity": "medium", "checkpoint": ["type": "validation", "validation": "All models work"],
        ]
      ],
    ]
    let refused = await call(host, "decompose_task", seedShape)
    #expect(refused.isError)
    #expect(refused.error.contains("sub-task 'models'"), "\(refused.error)")
    #expect(refused.error.contains("checkpoint.commands"))
    var fixed = seedShape
    fixed["subtasks"] = [
      [
        "id": "models", "order": 1, "description": "Models", "orchestration_prompt": "Create the models",
        "checkpoint": ["validation": "All models work", "commands": ["true"]],
      ]
    ]
    let accepted = await call(host, "decompose_task", fixed)
    #expect(!accepted.isError, "\(accepted.text)")
    #expect(accepted["master_task_id"] as? String == "seed")

    // A different plan under a stored id needs replace.
    var changed = twoSteps
    changed["description"] = "changed"
    let clash = await call(host, "decompose_task", changed)
    #expect(clash.isError && clash.error.contains("replace"), "\(clash.error)")
    changed["replace"] = true
    #expect(await call(host, "decompose_task", changed)["outcome"] as? String == "replaced")
    await host.close()
  }

  @Test("get_next_subtask prepares the branch and workdir, is idempotent and keeps work in progress")
  func getNextSubtask() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    _ = await call(host, "decompose_task", twoSteps)
    let next = await call(host, "get_next_subtask", ["master_task_id": "demo"])
    #expect(!next.isError, "\(next.text)")
    #expect(next["has_next"] as? Bool == true)
    let subtask = try #require(next["subtask"] as? [String: Any])
    #expect(subtask["id"] as? String == "one")
    #expect(subtask["order"] as? Int == 1)
    #expect(subtask["estimated_complexity"] as? String == "small")
    #expect((subtask["checkpoint"] as? [String: Any])?["commands"] as? [String] == ["grep -q 1 one.txt"])
    let workdir = try #require(next["workdir"] as? String)
    #expect((subtask["orchestration_prompt"] as? String)?.contains("Work in this directory: \(workdir)") == true)
    #expect(next["branch"] as? String == "orchestrate/demo/01-one")
    #expect(try repo.git("rev-parse", "orchestrate/demo/01-one") == (try repo.git("rev-parse", "main")))
    let progress = try #require(next["progress"] as? [String: Any])
    #expect(
      progress["total"] as? Int == 2 && progress["completed"] as? Int == 0 && progress["current"] as? String == "one")
    // structuredContent and the text are the same object.
    let text = try JSONSerialization.jsonObject(with: Data(next.text.utf8)) as? NSDictionary
    #expect(text == next.result as NSDictionary)

    try repo.write("one.txt", "1\n", in: URL(fileURLWithPath: workdir))
    let again = await call(host, "get_next_subtask", ["master_task_id": "demo"])
    #expect(again["workdir"] as? String == workdir)
    #expect((again["subtask"] as? [String: Any])?["id"] as? String == "one")
    #expect(FileManager.default.fileExists(atPath: workdir + "/one.txt"), "asking again lost the work")

    // A new server (a restart) keeps the work in progress too.
    await host.close()
    let restarted = repo.host()
    let validated = await call(restarted, "validate_checkpoint", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(validated["passed"] as? Bool == true, "\(validated.text)")
    await restarted.close()
  }

  @Test("bad arguments and unknown plans are tool errors that say what to do")
  func badArguments() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    _ = await call(host, "decompose_task", twoSteps)
    let missing = await call(host, "get_next_subtask")
    #expect(missing.isError && missing.error.contains("master_task_id"))
    let wrongType = await call(host, "get_next_subtask", ["master_task_id": ["x"]])
    #expect(wrongType.isError && wrongType.error.contains("must be a string"))
    let unknownArgument = await call(host, "get_next_subtask", ["master_task_id": "demo", "subtaskid": "one"])
    #expect(unknownArgument.isError && unknownArgument.error.contains("'subtaskid'"))
    let unknownPlan = await call(host, "get_decomposition_status", ["master_task_id": "nope"])
    #expect(unknownPlan.isError && unknownPlan.error.contains("known plans: demo"), "\(unknownPlan.error)")
    let unknownTool = await call(host, "skip_subtask", [:])
    #expect(unknownTool.isError && unknownTool.error.contains("no tool 'skip_subtask'"))
    let unknownSubtask = await call(host, "validate_checkpoint", ["master_task_id": "demo", "subtask_id": "zzz"])
    #expect(unknownSubtask.isError && unknownSubtask.error.contains("no sub-task 'zzz'"))
    await host.close()
  }

  @Test(
    "validate_checkpoint runs the plan's commands, records one attempt per failing tree, refuses others' commands and order"
  )
  func validateCheckpoint() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    _ = await call(host, "decompose_task", twoSteps)
    let next = await call(host, "get_next_subtask", ["master_task_id": "demo"])
    let workdir = try #require(next["workdir"] as? String)

    let failed = await call(host, "validate_checkpoint", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(!failed.isError, "\(failed.text)")
    #expect(failed["passed"] as? Bool == false)
    #expect(failed["reason"] as? String == "Checkpoint test failed: grep -q 1 one.txt exited 2")
    let results = try #require(failed["results"] as? [[String: Any]])
    #expect(results.count == 1)
    #expect(results.first?["command"] as? String == "grep -q 1 one.txt")
    #expect(results.first?["exit_code"] as? Int == 2)
    #expect((results.first?["output_tail"] as? String)?.contains("No such file") == true)
    #expect((failed["error"] as? String)?.contains("No such file") == true)
    #expect(failed["attempts"] as? Int == 1)
    let attempt = try repo.git(
      "log", "-1", "--format=%(trailers:key=Orchestrate-Result,valueonly)", "orchestrate/demo/01-one")
    #expect(attempt.hasPrefix("failed"))
    // The same tree again: no second attempt.
    _ = await call(host, "validate_checkpoint", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(try repo.git("rev-list", "--count", "main..orchestrate/demo/01-one") == "1")

    let outOfOrder = await call(host, "validate_checkpoint", ["master_task_id": "demo", "subtask_id": "two"])
    #expect(outOfOrder.isError && outOfOrder.error.contains("the next is 'one'"), "\(outOfOrder.error)")
    let theirs = await call(host, "validate_checkpoint", ["subtask_id": "one", "test_commands": ["true"]])
    #expect(theirs.isError && theirs.error.contains("the plan's own checkpoint commands"), "\(theirs.error)")

    // The seed's form, with the plan's commands and no master_task_id.
    try repo.write("one.txt", "1\n", in: URL(fileURLWithPath: workdir))
    let passed = await call(
      host, "validate_checkpoint",
      ["checkpoint_description": "whatever", "subtask_id": "one", "test_commands": ["grep -q 1 one.txt"]])
    #expect(passed["passed"] as? Bool == true, "\(passed.text)")
    #expect(passed["error"] is NSNull)
    #expect(passed["cached"] as? Bool == false)
    let cached = await call(host, "validate_checkpoint", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(cached["cached"] as? Bool == true)
    await host.close()
  }

  @Test("complete_subtask never trusts the caller: undone work stays off main; done work lands as one commit")
  func completeSubtask() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    _ = await call(host, "decompose_task", twoSteps)
    let next = await call(host, "get_next_subtask", ["master_task_id": "demo"])
    let workdir = try #require(next["workdir"] as? String)
    let main = try repo.git("rev-parse", "main")

    let claimed = await call(
      host, "complete_subtask",
      ["master_task_id": "demo", "subtask_id": "one", "checkpoint_result": ["passed": true], "artifacts": ["one.txt"]])
    #expect(!claimed.isError, "\(claimed.text)")
    #expect(claimed["completed"] as? Bool == false)
    #expect(claimed["commit"] is NSNull)
    #expect((claimed["caller_checkpoint_result"] as? [String: Any])?["passed"] as? Bool == true)
    #expect(try repo.git("rev-parse", "main") == main)

    try repo.write("one.txt", "1\n", in: URL(fileURLWithPath: workdir))
    let done = await call(host, "complete_subtask", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(done["completed"] as? Bool == true, "\(done.text)")
    let commit = try #require(done["commit"] as? String)
    #expect(try repo.git("rev-parse", "main") == commit)
    #expect(try repo.git("rev-parse", "main^") == main)
    #expect(done["artifacts"] as? [String] == ["one.txt"])
    #expect(done["attempts"] as? Int == 2)
    #expect(try repo.git("log", "-1", "--format=%(trailers:key=Orchestrate-Subtask,valueonly)", "main") == "1/2 one")
    // The user's checkout, on main, was brought up to date.
    #expect(FileManager.default.fileExists(atPath: repo.path + "/one.txt"))
    #expect((done["progress"] as? [String: Any])?["completed"] as? Int == 1)
    #expect(done["has_next"] as? Bool == true)

    let again = await call(host, "complete_subtask", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(again.isError && again.error.contains("already completed"), "\(again.error)")

    let second = await call(host, "get_next_subtask", ["master_task_id": "demo"])
    #expect((second["subtask"] as? [String: Any])?["id"] as? String == "two")
    try repo.write("two.txt", "2\n", in: URL(fileURLWithPath: workdir))
    let last = await call(host, "complete_subtask", ["master_task_id": "demo", "subtask_id": "two"])
    #expect(last["completed"] as? Bool == true && last["has_next"] as? Bool == false, "\(last.text)")
    let end = await call(host, "get_next_subtask", ["master_task_id": "demo"])
    #expect(end["has_next"] as? Bool == false)
    #expect(end["subtask"] == nil)
    await host.close()
  }

  @Test("get_decomposition_status gives exactly the fields of status --json; list_plans lists progress")
  func statusAndList() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    _ = await call(host, "decompose_task", twoSteps)
    let status = await call(host, "get_decomposition_status", ["master_task_id": "demo"])
    #expect(!status.isError, "\(status.text)")
    let orchestrator = try Orchestrator(at: repo.path)
    let expected = try #require(
      try orchestrator.status(try orchestrator.store.load("demo")).jsonObject as? [String: Any])
    #expect(Set(status.result.keys) == Set(expected.keys))
    #expect(status.result as NSDictionary == expected as NSDictionary)
    #expect(status["total_subtasks"] as? Int == 2)
    #expect(status["completed_subtasks"] as? [String] == [])
    // The server holds the lock for this plan (decompose_task took it), so its first sub-task is current.
    #expect(status["current_subtask"] as? String == "one")
    let plans = await call(host, "list_plans")
    let first = try #require((plans["plans"] as? [[String: Any]])?.first)
    #expect(first["id"] as? String == "demo" && first["total_subtasks"] as? Int == 2 && first["completed"] as? Int == 0)
    // Reading alone takes no lock (decompose_task took it: it changed the repository).
    let reader = repo.host()
    _ = await call(reader, "get_decomposition_status", ["master_task_id": "demo"])
    let readerHolds = await reader.holdsLock
    #expect(!readerHolds)
    await host.close()
  }

  @Test("get_subtask_failure reads the last failed attempt back from the branch, with a fix prompt")
  func subtaskFailure() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    _ = await call(host, "decompose_task", twoSteps)
    let none = await call(host, "get_subtask_failure", ["master_task_id": "demo"])
    #expect(none["has_failure"] as? Bool == false && none["subtask_id"] as? String == "one", "\(none.text)")
    let next = await call(host, "get_next_subtask", ["master_task_id": "demo"])
    let workdir = try #require(next["workdir"] as? String)
    try repo.write("one.txt", "wrong\n", in: URL(fileURLWithPath: workdir))
    _ = await call(host, "validate_checkpoint", ["master_task_id": "demo", "subtask_id": "one"])
    let failure = await call(host, "get_subtask_failure", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(failure["has_failure"] as? Bool == true, "\(failure.text)")
    #expect(failure["command"] as? String == "grep -q 1 one.txt")
    #expect(failure["result"] as? String == "exited 1")
    #expect(failure["attempts"] as? Int == 1)
    #expect((failure["fix_prompt"] as? String)?.contains("Work in this directory: \(workdir)") == true)
    #expect(failure["commit"] as? String == (try repo.git("rev-parse", "orchestrate/demo/01-one")))
    await host.close()
  }
}
