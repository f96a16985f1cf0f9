import Foundation
import OrchestrateKit
import OrchestrateMCP
import TestSupport
import Testing

/// The repository lock: taken by the first changing call, held until close, shared with `run`.
@Suite("mcp lock")
struct LockTests {
  @Test("the first changing call takes the lock; another server is refused with the lock message but can read")
  func secondServerRefused() async throws {
    let repo = try TemporaryRepository()
    let first = repo.host()
    _ = await call(first, "decompose_task", twoSteps)
    #expect(await first.holdsLock)
    let lockPath = repo.path + "/.git/orchestrate/lock"
    #expect(FileManager.default.fileExists(atPath: lockPath))
    _ = await call(first, "get_next_subtask", ["master_task_id": "demo"])

    let second = repo.host()
    let refused = await call(second, "get_next_subtask", ["master_task_id": "demo"])
    #expect(refused.isError)
    #expect(refused.error.contains("another git orchestrate"), "\(refused.error)")
    #expect(refused.error.contains("mcp"))
    #expect(!(await call(second, "get_decomposition_status", ["master_task_id": "demo"])).isError)
    #expect(!(await call(second, "list_plans")).isError)
    #expect(!(await second.holdsLock))

    await first.close()
    #expect(!FileManager.default.fileExists(atPath: lockPath))
    let now = await call(second, "get_next_subtask", ["master_task_id": "demo"])
    #expect(!now.isError, "\(now.text)")
    await second.close()
  }

  @Test("an agent that adds a git hook while working is refused at validation")
  func gitGuard() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    _ = await call(host, "decompose_task", twoSteps)
    let next = await call(host, "get_next_subtask", ["master_task_id": "demo"])
    let workdir = try #require(next["workdir"] as? String)
    try repo.write("one.txt", "1\n", in: URL(fileURLWithPath: workdir))
    try repo.write("pre-commit", "#!/bin/sh\nexit 0\n", in: repo.url.appendingPathComponent(".git/hooks"))
    let refused = await call(host, "complete_subtask", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(refused.isError && refused.error.contains("hook added"), "\(refused.text)")
    #expect(try repo.git("rev-list", "--count", "main") == "1")
    try FileManager.default.removeItem(atPath: repo.path + "/.git/hooks/pre-commit")
    let done = await call(host, "complete_subtask", ["master_task_id": "demo", "subtask_id": "one"])
    #expect(done["completed"] as? Bool == true, "\(done.text)")
    await host.close()
  }
}
