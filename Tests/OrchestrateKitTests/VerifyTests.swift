import Foundation
import GitKit
import TestSupport
import Testing

@testable import OrchestrateKit

/// The verify tests' repository: a two-step plan whose checkpoints count their runs in
/// `runCounter`, and sub-task commits made with the git CLI.
extension TemporaryRepository {
  /// Stores a two-step plan whose checkpoints test for `one.txt` / `two.txt` and count their runs.
  func storePlan() throws -> Orchestrator {
    try store(
      TestPlan(
        id: "demo", description: "demo",
        subtasks: [
          .init(id: "one", run: ["true"], checkpoint: ["echo run >> \(runCounter.path)", "test -f one.txt"]),
          .init(id: "two", run: ["true"], checkpoint: ["echo run >> \(runCounter.path)", "test -f two.txt"]),
        ]))
  }

  /// Stores `plan` with the kit, as `plan add` does.
  func store(_ plan: TestPlan) throws -> Orchestrator {
    let orchestrator = try Orchestrator(at: path)
    try orchestrator.addPlan(try parsePlan(plan.yaml), source: nil)
    return orchestrator
  }

  /// Commits `file` with the trailers of a sub-task commit (or of a failed attempt).
  func commitSubtask(_ order: Int, _ id: String, file: String, attempt: Bool = false) throws -> String {
    try write(file, "\(id)\n")
    var message = "\(id)\n\nOrchestrate-Plan: demo\nOrchestrate-Subtask: \(order)/2 \(id)\n"
    if attempt { message += "Orchestrate-Result: failed (exited 1)\n" }
    return try commitAll(message)
  }
}

@Suite("verify")
struct VerifyTests {
  @Test("a missing result runs the checkpoint away from the checkout and records it; the next verify runs nothing")
  func missingThenCached() throws {
    let repo = try TemporaryRepository(files: ["README.md": "# p\n"])
    let orchestrator = try repo.storePlan()
    _ = try repo.commitSubtask(1, "one", file: "one.txt")
    _ = try repo.commitSubtask(2, "two", file: "two.txt")
    let verifier = Verifier(orchestrator: orchestrator)
    let first = try verifier.verify(try verifier.subtaskCommits(revisions: []))
    #expect(first.passed)
    #expect(first.results.map(\.subtask) == ["one", "two"])
    #expect(first.results.map(\.source) == [.ran, .ran])
    #expect(first.results.allSatisfy { $0.recorded })
    #expect(repo.countedRuns == 2)
    // The user's checkout was not used, and no temporary worktree is left registered.
    #expect(try repo.git("status", "--porcelain") == "")
    #expect(try repo.git("worktree", "list").split(separator: "\n").count == 1)
    // git reads the record on the tree.
    let note = try repo.git("notes", "--ref=orchestrate", "show", "HEAD^{tree}")
    #expect(note.contains("\"status\":\"passed\""))

    let second = Verifier(orchestrator: try Orchestrator(at: repo.path))
    let again = try second.verify(try second.subtaskCommits(revisions: []))
    #expect(again.passed)
    #expect(again.results.map(\.source) == [.cached, .cached])
    #expect(repo.countedRuns == 2)
  }

  @Test("a failing tree fails naming the command and its output; attempt commits are not checked")
  func failureAndAttempts() throws {
    let repo = try TemporaryRepository(files: ["README.md": "# p\n"])
    let orchestrator = try repo.storePlan()
    _ = try repo.commitSubtask(1, "one", file: "one.txt")
    _ = try repo.commitSubtask(2, "two", file: "wrong.txt", attempt: true)
    let bad = try repo.commitSubtask(2, "two", file: "also-wrong.txt")
    let verifier = Verifier(orchestrator: orchestrator)
    let commits = try verifier.subtaskCommits(revisions: ["main"])
    #expect(commits.map(\.subtask) == ["one", "two"])
    let report = try verifier.verify(commits)
    #expect(!report.passed)
    let failure = try #require(report.failures.first)
    #expect(failure.commit == bad)
    #expect(failure.failingCommand == "test -f two.txt")
    #expect(failure.failureLine.contains("plan demo, sub-task 2 two: test -f two.txt exited 1"))
    // Only passes are trusted: a recorded failure runs again (it may have been flaky).
    let runs = repo.countedRuns
    _ = try Verifier(orchestrator: orchestrator).verify(commits)
    #expect(repo.countedRuns == runs + 1)
    // --cached runs nothing and fails what has no recorded pass.
    let cachedOnly = Verifier(orchestrator: orchestrator)
    cachedOnly.cachedOnly = true
    let cachedReport = try cachedOnly.verify(commits)
    #expect(repo.countedRuns == runs + 1)
    #expect(cachedReport.failures.map(\.subtask) == ["two"])
  }

  @Test("ranges: A..B excludes A's history; an unknown revision and a missing plan are bad input")
  func ranges() throws {
    let repo = try TemporaryRepository(files: ["README.md": "# p\n"])
    let orchestrator = try repo.storePlan()
    let first = try repo.commitSubtask(1, "one", file: "one.txt")
    _ = try repo.commitSubtask(2, "two", file: "two.txt")
    let verifier = Verifier(orchestrator: orchestrator)
    #expect(try verifier.subtaskCommits(revisions: ["\(first)..main"]).map(\.subtask) == ["two"])
    #expect(try verifier.subtaskCommits(revisions: ["main", "^\(first)"]).map(\.subtask) == ["two"])
    #expect(try verifier.subtaskCommits(revisions: ["main..main"]).isEmpty)
    #expect(throws: OrchestrateError.self) { try verifier.subtaskCommits(revisions: ["nope..main"]) }
    // The default: main's commits not on its upstream.
    try repo.git("update-ref", "refs/remotes/origin/main", first)
    try repo.git("config", "branch.main.remote", "origin")
    try repo.git("config", "branch.main.merge", "refs/heads/main")
    #expect(try verifier.subtaskCommits(revisions: []).map(\.subtask) == ["two"])
    // A commit of a plan this repository does not store.
    try repo.write("x.txt", "x\n")
    try repo.git("add", "-A")
    try repo.git("commit", "-q", "-m", "x\n\nOrchestrate-Plan: elsewhere\nOrchestrate-Subtask: 1/1 x\n")
    let commits = try verifier.subtaskCommits(revisions: ["HEAD^..HEAD"])
    #expect(throws: OrchestrateError.self) { try verifier.verify(commits) }
  }

  @Test("a checkpoint that leaves files changed passes but is not recorded")
  func dirtyNotRecorded() throws {
    let repo = try TemporaryRepository(files: ["README.md": "# p\n"])
    let orchestrator = try repo.store(
      TestPlan(
        id: "demo", description: "demo",
        subtasks: [
          .init(
            id: "one", run: ["true"],
            checkpoint: ["echo run >> \(repo.runCounter.path)", "echo generated > generated.txt"]),
          .init(id: "two", run: ["true"], checkpoint: ["true"]),
        ]))
    _ = try repo.commitSubtask(1, "one", file: "one.txt")
    let verifier = Verifier(orchestrator: orchestrator)
    let report = try verifier.verify(try verifier.subtaskCommits(revisions: ["main"]))
    #expect(report.passed)
    #expect(report.results.first?.recorded == false)
    #expect(report.results.first?.notice?.contains("generated.txt") == true)
    #expect(try repo.git("for-each-ref", "refs/notes/") == "")
  }

  @Test(
    "what a checkpoint leaves decides the record: ignored output and removed scratch files are recorded; a changed tracked file, a new file or a staged change is not",
    arguments: [
      ("mkdir -p build/deep && echo x > build/deep/out && echo y > cache.log", true),
      ("echo scratch > scratch.txt && rm scratch.txt", true),
      ("cp README.md copy && cat copy > README.md && rm copy", true),
      ("echo more >> README.md", false),
      ("mkdir -p src/new && echo x > src/new/file.txt", false),
      ("git rm -q --cached README.md", false),
      ("chmod +x README.md", false),
    ])
  func leftovers(_ command: String, recorded: Bool) throws {
    let repo = try TemporaryRepository(files: ["README.md": "# p\n", ".gitignore": "build/\n*.log\n"])
    let orchestrator = try repo.store(
      TestPlan(
        id: "demo", description: "demo",
        subtasks: [
          .init(id: "one", run: ["true"], checkpoint: [command]),
          .init(id: "two", run: ["true"], checkpoint: [command]),
        ]))
    _ = try repo.commitSubtask(1, "one", file: "one.txt")
    _ = try repo.commitSubtask(2, "two", file: "two.txt")
    let verifier = Verifier(orchestrator: orchestrator)
    let report = try verifier.verify(try verifier.subtaskCommits(revisions: ["main"]))
    #expect(report.passed)
    // The second commit runs in the worktree moved on from the first: the same judgement there.
    #expect(report.results.map(\.recorded) == [recorded, recorded], "\(command)")
    #expect(report.results.allSatisfy { ($0.notice != nil) != recorded }, "\(command)")
  }

  @Test("notes are found below fan-out folders, and the newest record wins even in a sorted note")
  func notesIndex() throws {
    let repo = try TemporaryRepository(files: ["README.md": "# p\n"])
    let tree = try repo.git("rev-parse", "HEAD^{tree}")
    let other = try repo.git("rev-parse", "HEAD")
    // A notes tree written as git writes many notes: <2 hex>/<38 hex>.
    let old =
      #"{"commands_hash":"h","duration_seconds":1,"exit_status":1,"plan":"p","recorded_at":"2026-01-01T00:00:00Z","status":"failed","subtask":"s","tool_version":"0"}"#
    let new =
      #"{"commands_hash":"h","duration_seconds":1,"exit_status":0,"plan":"p","recorded_at":"2026-01-02T00:00:00Z","status":"passed","subtask":"s","tool_version":"0"}"#
    try repo.write("note.txt", new + "\n" + old + "\n")  // sorted: newer line first
    let noteBlob = try repo.git("hash-object", "-w", "note.txt")
    let inner = try mktree(repo, "100644 blob \(noteBlob)\t\(tree.dropFirst(2))")
    let outer = try mktree(repo, "040000 tree \(inner)\t\(tree.prefix(2))\n100644 blob \(noteBlob)\t\(other)")
    let commit = try repo.git("commit-tree", outer, "-m", "notes")
    try repo.git("update-ref", Layout.notesRef, commit)
    let index = try NotesIndex(repository: try Repository(path: repo.path))
    let records = try index.records(on: try #require(OID(hex: tree)))
    #expect(records.count == 2)
    #expect(CheckpointRecord.latest(records, commandsHash: "h")?.passed == true)
    #expect(try index.note(on: try #require(OID(hex: other))) != nil)
    #expect(try index.note(on: try #require(OID(hex: String(repeating: "0", count: 39) + "1"))) == nil)
    // The cache the run engine uses agrees.
    let cache = CheckpointCache(repository: try Repository(path: repo.path))
    #expect(try cache.lookup(tree: try #require(OID(hex: tree)), commandsHash: "h")?.passed == true)
  }

  private func mktree(_ repo: TemporaryRepository, _ listing: String) throws -> String {
    try repo.git(["mktree"], input: listing + "\n")
  }
}

@Suite("pre-push protocol")
struct VerifyPrePushTests {
  @Test("git's lines are read, deletions recognised, and a malformed line refused")
  func parse() throws {
    let zero = String(repeating: "0", count: 40)
    let a = String(repeating: "a", count: 40)
    let updates = try PushUpdate.parse(
      "refs/heads/main \(a) refs/heads/main \(zero)\n(delete) \(zero) refs/heads/old \(a)\n")
    #expect(updates.count == 2)
    #expect(!updates[0].isDeletion)
    #expect(updates[1].isDeletion)
    #expect(updates[0].remoteOID.isZero)
    #expect(try PushUpdate.parse("").isEmpty)
    #expect(throws: OrchestrateError.self) { try PushUpdate.parse("refs/heads/main \(a)\n") }
  }

  @Test("the embedded hook script is the text of hooks/pre-push")
  func scriptInSync() throws {
    let url = packageRoot
    let file = try String(contentsOf: url.appendingPathComponent("hooks/pre-push"), encoding: .utf8)
    #expect(
      file == PrePushScript.text(binary: nil), "regenerate Sources/OrchestrateKit/Hooks/PrePushScript.swift from hooks/pre-push")
    #expect(file.contains(PrePushScript.marker))
    #expect(access(url.appendingPathComponent("hooks/pre-push").path, X_OK) == 0)
  }
}
