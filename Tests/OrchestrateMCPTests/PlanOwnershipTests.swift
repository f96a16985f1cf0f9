import Foundation
import OrchestrateKit
import OrchestrateMCP
import TestSupport
import Testing

/// `decompose_task` cannot rewrite the user's plans: it replaces only a plan its own session stored,
/// nothing of which has run, and a server started without plan creation stores none.
@Suite("mcp plan ownership")
struct PlanOwnershipTests {
  static var changed: [String: Any] {
    var plan = twoSteps
    var subtasks = plan["subtasks"] as! [[String: Any]]
    subtasks[1]["checkpoint"] = ["description": "anything passes", "commands": ["true"]]
    plan["subtasks"] = subtasks
    plan["replace"] = true
    return plan
  }

  @Test("a plan stored by another session (or the user) is not replaced, whatever replace says")
  func otherSessionsPlan() async throws {
    let repo = try TemporaryRepository()
    let first = repo.host()
    #expect(!(await call(first, "decompose_task", twoSteps)).isError)
    await first.close()
    let before = try repo.git("rev-parse", "refs/orchestrate/plans/demo")

    let second = repo.host()
    let refused = await call(second, "decompose_task", Self.changed)
    #expect(refused.isError)
    #expect(refused.error.contains("not stored by this server session"), "\(refused.error)")
    #expect(refused.error.contains("plan add --replace"), "\(refused.error)")
    #expect(try repo.git("rev-parse", "refs/orchestrate/plans/demo") == before)
    // The same plan again is no change, and allowed.
    #expect(await call(second, "decompose_task", twoSteps)["outcome"] as? String == "unchanged")
    await second.close()
  }

  @Test("a session replaces its own plan before it runs, never after")
  func ownPlanUntilStarted() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    #expect(!(await call(host, "decompose_task", twoSteps)).isError)
    #expect(await call(host, "decompose_task", Self.changed)["outcome"] as? String == "replaced")
    var again = twoSteps
    again["replace"] = true
    #expect(await call(host, "decompose_task", again)["outcome"] as? String == "replaced")
    let next = await call(host, "get_next_subtask", ["master_task_id": "demo"])
    let workdir = try #require(next["workdir"] as? String)
    try repo.write("one.txt", "1\n", in: URL(fileURLWithPath: workdir))
    let done = await call(host, "complete_subtask", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(done["completed"] as? Bool == true, "\(done.text)")
    let before = try repo.git("rev-parse", "refs/orchestrate/plans/demo")
    let refused = await call(host, "decompose_task", Self.changed)
    #expect(refused.isError && refused.error.contains("already started"), "\(refused.error)")
    #expect(try repo.git("rev-parse", "refs/orchestrate/plans/demo") == before)
    await host.close()
  }

  @Test("a server without plan creation stores no plan, naming the option and what to do")
  func noPlanCreation() async throws {
    let repo = try TemporaryRepository()
    let host = OrchestrationHost(path: repo.path, allowsPlanCreation: false)
    let refused = await call(host, "decompose_task", twoSteps)
    #expect(refused.isError)
    #expect(refused.error.contains("--no-plan-creation") && refused.error.contains("plan add"), "\(refused.error)")
    #expect((try? repo.git("rev-parse", "--verify", "-q", "refs/orchestrate/plans/demo")) == nil)
    #expect(!(await host.holdsLock))
    await host.close()
  }
}
