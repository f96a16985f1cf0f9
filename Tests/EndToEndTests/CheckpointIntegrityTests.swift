import Foundation
import TestSupport
import Testing

/// Checkpoints an agent cannot game (issue 13): protected paths and red before green. Agents are
/// shell scripts that do what a cheating agent does: edit, delete, chmod or rename the test that
/// judges them.
@Suite("checkpoint integrity", .serialized)
struct CheckpointIntegrityTests {
  /// A repository whose `tests/check.sh` (the checkpoint) passes once `impl.txt` says done.
  static func repository() throws -> TemporaryRepository {
    let box = try TemporaryRepository(files: [
      "README.md": "# p\n", "tests/check.sh": "#!/bin/sh\ngrep -q done impl.txt\n",
    ])
    return box
  }

  static func plan(agentFix: String? = nil, redFirst: Bool = false, protect: String = "[\"tests/\"]") -> String {
    """
    id: guard
    protect: \(protect)
    \(redFirst ? "red_first: true" : "")
    \(agentFix.map { "fix_agent: \($0)" } ?? "")
    subtasks:
      - id: impl
        checkpoint: { commands: ["sh tests/check.sh"] }
    """
  }

  /// A script agent outside the repository.
  static func agent(_ box: TemporaryRepository, _ name: String, _ body: String) throws -> String {
    let url = box.root.appendingPathComponent(name)
    try ("#!/bin/sh\ncat > /dev/null\n" + body + "\n").write(
      to: url, atomically: true, encoding: .utf8)
    chmod(url.path, 0o755)
    return url.path
  }

  @Test("an agent that edits the protected test to pass: attempt refused before the checkpoint, file put back, fix agent told; the honest fix lands")
  func editedTestRefused() throws {
    let box = try Self.repository()
    let cheat = try Self.agent(box, "cheat", "printf '#!/bin/sh\\ntrue\\n' > tests/check.sh")
    let honest = try Self.agent(box, "honest", "echo done > impl.txt")
    try box.write("plan.yml", Self.plan(agentFix: honest))
    let result = box.orchestrate("run", "plan.yml", "--agent", cheat)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("The agent changed protected path tests/check.sh"), "\(result.stdout)")
    // The checkpoint never ran on the cheating tree: the first "→ Checkpoint" comes after the fix.
    let printed = result.stdout
    let refusal = try #require(printed.range(of: "changed protected path"))
    let firstCheckpoint = try #require(printed.range(of: "→ Checkpoint:"))
    #expect(refusal.lowerBound < firstCheckpoint.lowerBound)
    #expect(try box.trailers("main")["Orchestrate-Attempts"] == "2")
    #expect(try box.git("show", "main:tests/check.sh") == "#!/bin/sh\ngrep -q done impl.txt")
    #expect(try box.git("show", "--name-only", "--format=", "main") == "impl.txt")
    // The attempt keeps what the agent did, and says why it failed.
    let attempt = try box.git("log", "-1", "--format=%B", "refs/orchestrate/attempts/guard/01-impl")
    #expect(attempt.contains("tests/check.sh"))
    #expect(try box.git("show", "refs/orchestrate/attempts/guard/01-impl:tests/check.sh").contains("true"))
    // Both agents were told what they must not touch (their prompts are kept beside their logs).
    let logs = box.url.appendingPathComponent(".git/orchestrate/logs/guard")
    #expect(box.read("01-impl.attempt-1.prompt.md", in: logs)?.contains("Do NOT change these protected paths") == true)
    let fix = box.read("01-impl.attempt-2.prompt.md", in: logs) ?? ""
    #expect(fix.contains("changed protected path tests/check.sh") && fix.contains("Do NOT change"), "\(fix)")
  }

  @Test(
    "deleting, chmod-ing or renaming the protected test fails the attempt naming it, and it is put back",
    arguments: [
      ("delete", "rm tests/check.sh"), ("chmod", "chmod +x tests/check.sh"),
      ("rename", "mv tests/check.sh tests/check-old.sh"),
    ])
  func otherChangesRefused(_ change: (name: String, command: String)) throws {
    let box = try Self.repository()
    let cheat = try Self.agent(box, "cheat", change.command + "; echo done > impl.txt")
    try box.write("plan.yml", Self.plan())
    let result = box.orchestrate("run", "plan.yml", "--agent", cheat, "--max-attempts", "1")
    #expect(result.status == 1, "\(change.name): \(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("changed protected path "), "\(change.name): \(result.stdout)")
    #expect(result.stdout.contains("tests/check.sh"))
    #expect(try box.mainSubjects() == ["initial"])
    // Put back in the work folder as the base has it.
    let workdir = box.workdirRoot.appendingPathComponent("guard")
    #expect(box.read("tests/check.sh", in: workdir) == "#!/bin/sh\ngrep -q done impl.txt\n")
    #expect(!FileManager.default.isExecutableFile(atPath: workdir.appendingPathComponent("tests/check.sh").path))
    #expect(!box.exists("tests/check-old.sh", in: workdir))
  }

  @Test("@checkpoint protects the files the checkpoint commands name, without listing them twice")
  func checkpointFilesProtected() throws {
    let box = try Self.repository()
    let cheat = try Self.agent(box, "cheat", "echo 'exit 0' > tests/check.sh")
    try box.write("plan.yml", Self.plan(protect: "[\"@checkpoint\"]"))
    let result = box.orchestrate("run", "plan.yml", "--agent", cheat, "--max-attempts", "1")
    #expect(result.status == 1)
    #expect(result.stdout.contains("changed protected path tests/check.sh"), "\(result.stdout)")
  }

  @Test("red_first: a checkpoint that already passes on the base stops with exit 2, nothing created, no agent run")
  func redFirstPassingRefused() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", "impl.txt": "done\n", "tests/check.sh": "grep -q done impl.txt\n"])
    let agent = try Self.agent(box, "agent", "echo ran > ran.txt")
    try box.write("plan.yml", Self.plan(redFirst: true))
    let result = box.orchestrate("run", "plan.yml", "--agent", agent)
    #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
    #expect(result.stderr.contains("the checkpoint already passes before any work"), "\(result.stderr)")
    #expect(!box.exists(".git/orchestrate/logs/guard/01-impl.attempt-1.prompt.md"), "the agent never ran")
    #expect(try box.git("for-each-ref", "refs/heads/orchestrate", "refs/orchestrate/attempts") == "")
    #expect(!FileManager.default.fileExists(atPath: box.workdirRoot.appendingPathComponent("guard").path))
    #expect(try box.mainSubjects() == ["initial"])
  }

  @Test("red_first: red on the base, then green: the landing commit says how it failed first; show and log say it")
  func redThenGreen() throws {
    let box = try Self.repository()
    let agent = try Self.agent(box, "agent", "echo done > impl.txt")
    try box.write("plan.yml", Self.plan(redFirst: true))
    let result = box.orchestrate("run", "plan.yml", "--agent", agent)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(try box.trailers("main")["Orchestrate-Red"]?.hasPrefix("failed on base (sh tests/check.sh exited ") == true)
    let show = box.orchestrate("show", "impl")
    #expect(show.stdout.contains("Orchestrate-Red: failed on base"), "\(show.stdout)")
    let log = box.orchestrate("log")
    #expect(log.stdout.contains("red first"), "\(log.stdout)")
    // The red result is a record like any other, on the base tree.
    let base = try box.git("rev-parse", "main~1^{tree}")
    #expect(try box.git("notes", "--ref=orchestrate", "show", base).contains("\"status\":\"failed\""))
  }

  @Test("verify reports a hand-made sub-task commit that changes its own protected paths, naming them")
  func verifyReportsProtectedChange() throws {
    let box = try Self.repository()
    let agent = try Self.agent(box, "agent", "echo done > impl.txt")
    try box.write("plan.yml", Self.plan())
    #expect(box.orchestrate("run", "plan.yml", "--agent", agent).status == 0)
    // A hand-made commit that claims the sub-task and rewrites its test (amending the landed one).
    try box.write("tests/check.sh", "#!/bin/sh\ntrue\n")
    try box.git("commit", "-q", "-a", "--amend", "--no-edit")
    let verify = box.orchestrate("verify", "HEAD~1..HEAD")
    #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
    #expect((verify.stdout + verify.stderr).contains("changes its protected paths: tests/check.sh"), "\(verify.stdout)")
  }

  @Test("a hand fix of a protected file on the branch is accepted on resume, and named by the landing commit")
  func handFixOnResume() throws {
    let box = try Self.repository()
    let lazy = try Self.agent(box, "lazy", "echo nearly > impl.txt")
    try box.write("plan.yml", Self.plan())
    #expect(box.orchestrate("run", "plan.yml", "--agent", lazy, "--max-attempts", "1").status == 1)
    let workdir = box.workdirRoot.appendingPathComponent("guard")
    // The person fixes the test (it was wrong) and the code, by hand, in the work folder.
    try box.write("tests/check.sh", "#!/bin/sh\ngrep -q nearly impl.txt\n", in: workdir)
    let resumed = box.orchestrate("run", "guard", "--agent", lazy)
    #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
    #expect(try box.trailers("main")["Orchestrate-Protected-Changed"] == "tests/check.sh (by hand, on resume)")
    // verify accepts it as declared.
    #expect(box.orchestrate("verify", "HEAD~1..HEAD").status == 0)
  }

  @Test("plan validate warns about protect globs that match nothing on the main branch")
  func unmatchedGlobWarned() throws {
    let box = try Self.repository()
    try box.write("plan.yml", Self.plan(protect: "[\"tests/\", \"spec/**\"]"))
    let result = box.orchestrate("plan", "validate", "plan.yml")
    #expect(result.status == 0)
    #expect(result.stderr.contains("protect: 'spec/**' matches no file"), "\(result.stderr)")
    #expect(!result.stderr.contains("'tests/'"))
  }
}

/// Agent failures are agent failures (issue 12, item 5), and an unchanged tree is not checked twice.
@Suite("agent failures", .serialized)
struct AgentFailureTests {
  static func plan(_ box: TemporaryRepository) -> String {
    """
    id: fails
    subtasks:
      - id: one
        checkpoint: { commands: ["echo checked >> \(box.root.path)/checks-run; test -f done.txt"] }
    """
  }

  @Test("an agent whose program is missing at run time (exit 127): exit 2 at once, no attempt spent or recorded")
  func agentCannotStart() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan(box))
    let result = box.orchestrate("run", "plan.yml", "--agent", "sh -c 'exec no-such-agent-program'", "--max-attempts", "3")
    #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
    #expect(result.stderr.contains("the agent could not do any work"), "\(result.stderr)")
    #expect(result.stderr.contains("exited 127"))
    #expect(!result.stdout.contains("Checkpoint failed"), "reported as an agent failure, not a checkpoint's")
    #expect(try box.git("rev-list", "--count", "main..orchestrate/fails/01-one") == "0", "no attempt commit")
  }

  @Test("an agent that fails on its first run having changed nothing (not logged in): exit 2 at once")
  func agentNotLoggedIn() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan(box))
    let result = box.orchestrate(
      "run", "plan.yml", "--agent", "sh -c 'echo Not logged in; exit 1'", "--max-attempts", "3")
    #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
    #expect(result.stderr.contains("Not logged in"), "\(result.stderr)")
    #expect(try box.git("rev-list", "--count", "main..orchestrate/fails/01-one") == "0")
  }

  @Test("an agent that fails after changing files is an attempt, reported as the agent's failure, and the fix agent gets it")
  func agentFailureIsAnAttempt() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan(box))
    let result = box.orchestrate(
      "run", "plan.yml", "--agent", "sh -c 'echo half > half.txt; echo crashed; exit 3'",
      "--fix-agent", "sh -c 'cat >/dev/null; touch done.txt'", "--sandbox", "off")
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("❌ Agent failed: sh -c"), "\(result.stdout)")
    let attempt = try box.git("log", "-1", "--format=%B", "refs/orchestrate/attempts/fails/01-one")
    #expect(attempt.contains("Agent failed"), "\(attempt)")
  }

  @Test("a fix agent that changes nothing: said, and the identical tree is not checked again")
  func unchangedTreeNotCheckedAgain() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan(box))
    let result = box.orchestrate(
      "run", "plan.yml", "--agent", "sh -c 'echo work > work.txt'", "--fix-agent", "sh -c 'cat >/dev/null'",
      "--max-attempts", "3", "--sandbox", "off")
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("nothing changed since the attempt that failed"), "\(result.stdout)")
    // Three attempts, one checkpoint run: the fix agents changed nothing.
    #expect(box.read("checks-run", in: box.root)?.split(separator: "\n").count == 1)
  }
}

/// A pass is for exactly the tree (issue 11, item 4): what the agent left that the commit will not
/// hold is moved aside while the checkpoint runs.
@Suite("exact tree", .serialized)
struct ExactTreeTests {
  static func plan(keep: String?) -> String {
    """
    id: exact
    \(keep.map { "keep: \($0)" } ?? "")
    subtasks:
      - id: one
        checkpoint: { commands: ["sh build/check.sh"] }
    """
  }

  @Test("an ignored file the agent wrote (the checkpoint's helper) is moved aside: the pass it would buy is refused, and it is put back after")
  func ignoredFileMovedAside() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", ".gitignore": "build/\n"])
    try box.write("plan.yml", Self.plan(keep: nil))
    let agent = "sh -c 'cat >/dev/null; mkdir -p build; echo \"exit 0\" > build/check.sh'"
    let result = box.orchestrate("run", "plan.yml", "--agent", agent, "--max-attempts", "1")
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("moved aside while the checkpoint runs (not part of the tree): build"), "\(result.stdout)")
    #expect(try box.mainSubjects() == ["initial"])
    let workdir = box.workdirRoot.appendingPathComponent("exact")
    #expect(box.read("build/check.sh", in: workdir) == "exit 0\n", "put back after the checkpoint")
  }

  @Test("keep: names the caches a checkpoint may use; they stay")
  func keptCacheStays() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", ".gitignore": "build/\n"])
    try box.write("plan.yml", Self.plan(keep: "[\"build/\"]"))
    let agent = "sh -c 'cat >/dev/null; mkdir -p build; echo \"exit 0\" > build/check.sh; echo x > x.txt'"
    let result = box.orchestrate("run", "plan.yml", "--agent", agent)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(!result.stdout.contains("moved aside"))
  }
}
