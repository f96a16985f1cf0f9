import Foundation
import OrchestrateKit
import OrchestrateMCP
import TestSupport
import Testing

/// Several sub-tasks handed out at once (`get_next_subtask` with `count`), and conflicts with a main
/// that moved; the Python SDK drives the whole parallel flow in Tests/MCPInterop/drive_parallel.py.
@Suite("mcp parallel dispatch")
struct ParallelToolTests {
  /// Two independent sub-tasks and one that needs both.
  static var fan: [String: Any] {
    func subtask(_ id: String, _ order: Int, _ command: String, _ dependencies: [String]) -> [String: Any] {
      [
        "id": id, "order": order, "description": "Make \(id)", "dependencies": dependencies,
        "checkpoint": ["description": "\(id) exists", "commands": [command]],
      ]
    }
    return [
      "task_id": "fan", "description": "fan out",
      "subtasks": [
        subtask("a", 1, "test -f a.txt", []), subtask("b", 2, "test -f b.txt", []),
        subtask("c", 3, "test -f c.txt", ["a", "b"]),
      ],
    ]
  }

  @Test("count 1 keeps the single answer's shape; count 2 hands out both ready sub-tasks in their own folders")
  func countShapes() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    _ = await call(host, "decompose_task", Self.fan)
    let single = await call(host, "get_next_subtask", ["master_task_id": "fan", "count": 1])
    #expect(!single.isError, "\(single.text)")
    #expect(
      Set(single.result.keys) == [
        "has_next", "master_task_id", "subtask", "progress", "branch", "workdir", "attempts", "message", "notices",
      ])
    let workdirA = try #require(single["workdir"] as? String)

    let both = await call(host, "get_next_subtask", ["master_task_id": "fan", "count": 2])
    #expect(!both.isError, "\(both.text)")
    let entries = try #require(both["subtasks"] as? [[String: Any]])
    let ids = entries.compactMap { ($0["subtask"] as? [String: Any])?["id"] as? String }
    #expect(ids == ["a", "b"])
    #expect(entries.map { $0["in_progress"] as? Bool } == [true, false], "a was handed out by the first call")
    #expect(entries.first?["workdir"] as? String == workdirA)
    let workdirB = try #require(entries.last?["workdir"] as? String)
    #expect(workdirB == workdirA + "~2")
    #expect(entries.last?["branch"] as? String == "orchestrate/fan/02-b")
    #expect((both["waiting"] as? [[String: Any]])?.first?["id"] as? String == "c")

    // An error about b, with a beside it, names b's folder.
    _ = try repo.git("config", "orchestrate.test", "changed")
    let tampered = await call(host, "validate_checkpoint", ["master_task_id": "fan", "subtask_id": "b"])
    #expect(
      tampered.isError && tampered.error.contains("'b'") && tampered.error.contains(workdirB), "\(tampered.error)")
    _ = try repo.git("config", "--unset", "orchestrate.test")
    try repo.write("b.txt", "b\n", in: URL(fileURLWithPath: workdirB))
    let landed = await call(host, "complete_subtask", ["master_task_id": "fan", "subtask_id": "b"])
    #expect(landed["completed"] as? Bool == true && landed["workdir"] as? String == workdirB, "\(landed.text)")
    // c still waits for a.
    let early = await call(host, "validate_checkpoint", ["master_task_id": "fan", "subtask_id": "c"])
    #expect(early.isError && early.error.contains("not handed out (it waits for 'a' to land)"), "\(early.error)")
    await host.close()
  }

  @Test(
    "a conflict with a commit of the user's on main is a result naming the sub-task and its workdir; the folder holds main's tip, where the redone work lands"
  )
  func conflictIsRedoneOnMain() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    _ = await call(host, "decompose_task", twoSteps)
    let next = await call(host, "get_next_subtask", ["master_task_id": "demo"])
    let workdir = try #require(next["workdir"] as? String)
    try repo.write("one.txt", "1\n", in: URL(fileURLWithPath: workdir))
    #expect(
      await call(host, "validate_checkpoint", ["master_task_id": "demo", "subtask_id": "one"])["passed"] as? Bool
        == true)
    // Main gets the same file with other content meanwhile (committed elsewhere: the user's
    // checkout is on another branch).
    _ = try repo.git("checkout", "-q", "-b", "side")
    try repo.write("one.txt", "mine\n")
    let users = try repo.commitAll("my own one.txt")
    _ = try repo.git("branch", "-f", "main", "side")

    let clash = await call(host, "complete_subtask", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(!clash.isError, "\(clash.text)")
    #expect(clash["completed"] as? Bool == false)
    #expect(clash["conflict_paths"] as? [String] == ["one.txt"])
    let reason = clash["reason"] as? String ?? ""
    #expect(reason.contains("'one'") && reason.contains(workdir), "\(reason)")
    #expect(try repo.git("rev-parse", "main") == users, "main moved on a conflict")
    #expect(repo.read("one.txt", in: URL(fileURLWithPath: workdir)) == "mine\n", "the folder is not on main's tip")
    // The branch builds on main's tip now; the conflicting work is its second parent.
    #expect(try repo.git("rev-parse", "orchestrate/demo/01-one^1") == users)
    #expect(try repo.git("show", "orchestrate/demo/01-one^2:one.txt") == "1")
    let failure = await call(host, "get_subtask_failure", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(
      failure["has_failure"] as? Bool == true && failure["command"] as? String == "replay onto main", "\(failure.text)")

    // Asked again, the same folder; redone there, it lands on the user's commit.
    let again = await call(host, "get_next_subtask", ["master_task_id": "demo"])
    #expect(again["workdir"] as? String == workdir)
    try repo.write("one.txt", "mine\n1\n", in: URL(fileURLWithPath: workdir))
    let done = await call(host, "complete_subtask", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(done["completed"] as? Bool == true, "\(done.text)")
    #expect(try repo.git("rev-parse", "main^") == users)
    await host.close()
  }
}
