import Foundation
import TestSupport
import Testing

/// `git orchestrate run` on real repositories, with script agents, as a user runs it.
@Suite("run", .serialized)
struct RunTests {
  /// Four steps; the third fails once and the fix agent repairs it.
  static let fourSteps = TestPlan(
    id: "four", description: "four steps", fixAgent: "./fix.sh",
    subtasks: [
      .makes("one.txt", "1", id: "one", description: "First step"),
      .init(
        id: "two", description: "Second step", run: ["echo 2 > two.txt", "mkdir -p sub && echo deep > sub/deep.txt"],
        checkpoint: ["test -f two.txt", "test -f sub/deep.txt"]),
      .init(
        id: "three", description: "Third step", run: ["echo broken > three.txt"],
        checkpoint: ["grep -q fixed three.txt"]),
      .init(
        id: "four", description: "Fourth step", run: ["rm one.txt", "echo 4 > four.txt"],
        checkpoint: ["test ! -f one.txt"]),
    ])

  @Test("a four-step plan where one step fails once: four commits on main, in order, attempts 2")
  func fourStepsWithOneFix() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n"])
    try box.write("fix.sh", "#!/bin/sh\ncat > /dev/null\necho fixed > three.txt\n", executable: true)
    try box.commitAll("fix agent")
    try box.write("plan.yml", Self.fourSteps.yaml)
    let base = try box.git("rev-parse", "main")
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stdout.contains("Starting sub-task 1/4: First step"))
    #expect(result.stdout.contains("❌ Checkpoint failed: grep -q fixed three.txt exited 1"))
    #expect(result.stdout.contains("✅ Sub-task three complete (2 attempts"))
    #expect(result.stdout.contains("MASTER TASK PROGRESS"))

    let subjects = try box.git("log", "--first-parent", "--format=%s", "\(base)..main").split(separator: "\n")
    #expect(subjects == ["Fourth step", "Third step", "Second step", "First step"])
    let three = try box.trailers("main~1")
    #expect(three["Orchestrate-Plan"] == "four")
    #expect(three["Orchestrate-Subtask"] == "3/4 three")
    #expect(three["Orchestrate-Attempts"] == "2")
    #expect(three["Orchestrate-Checkpoint"]?.hasPrefix("passed (1 command, ") == true)
    #expect(three["Orchestrate-Duration"]?.hasSuffix(" s") == true)
    #expect(try box.trailers("main~2")["Orchestrate-Attempts"] == "1")
    // git itself reads the trailers.
    let parsed = try box.git("log", "-1", "--format=%(trailers:key=Orchestrate-Subtask,valueonly)", "main")
    #expect(parsed == "4/4 four")
    // Everything the sub-tasks produced, deletions included; the user's checkout shows it.
    let tracked = Set(try box.git("ls-tree", "-r", "--name-only", "main").split(separator: "\n").map(String.init))
    #expect(tracked.isSuperset(of: ["four.txt", "three.txt", "two.txt", "sub/deep.txt"]))
    #expect(!tracked.contains("one.txt"))
    #expect(box.read("three.txt") == "fixed\n")
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
    // The failed attempt is kept.
    let attempts = try box.git("log", "--format=%s", "refs/orchestrate/attempts/four/03-three")
    #expect(attempts.contains("attempt 1 of three"))
    // Status from git alone.
    let status = box.orchestrate("status", "--json")
    #expect(status.status == 0)
    let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    #expect(json?["master_task_id"] as? String == "four")
    #expect(json?["completed_subtasks"] as? [String] == ["one", "two", "three", "four"])
    #expect(json?["progress_percentage"] as? Double == 100)
    // A finished plan: run does nothing and exits 0.
    let again = box.orchestrate("run", "four")
    #expect(again.status == 0)
    #expect(try box.git("rev-list", "--count", "--first-parent", "\(base)..main") == "4")
  }

  @Test("a stubborn checkpoint stops the run; a hand fix on the branch and a resumed run complete it")
  func stubbornThenHandFix() throws {
    let box = try TemporaryRepository()
    let plan = TestPlan(
      id: "stubborn", maxAttempts: 2,
      subtasks: [
        .makes("a.txt", "a", id: "first", description: "First"),
        .init(
          id: "second", description: "Second", run: ["echo wrong > b.txt"],
          checkpoint: ["echo checking b; grep -q right b.txt"]),
        .makes("c.txt", "c", id: "third", description: "Third"),
      ])
    try box.write("plan.yml", plan.yaml)
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stdout.contains("CHECKPOINT STILL FAILING"))
    // The progress box after the stop shows the sub-task as failed, not as still in progress.
    #expect(result.stdout.contains("  ❌ second: Second (2 failed attempts"), "\(result.stdout)")
    #expect(result.stdout.contains("orchestrate/stubborn/02-second"))
    #expect(result.stdout.contains("git orchestrate run stubborn"))
    #expect(!result.stdout.contains("sub-task 3/3"))
    #expect(try box.mainSubjects().first == "First")
    #expect((try? box.git("rev-parse", "--verify", "-q", "refs/heads/orchestrate/stubborn/03-third")) == nil)
    let branchLog = try box.git("log", "--format=%B", "orchestrate/stubborn/02-second")
    #expect(branchLog.contains("attempt 1 of second"))
    #expect(branchLog.contains("attempt 2 of second"))
    #expect(branchLog.contains("checking b"))
    #expect(branchLog.contains("Orchestrate-Result: failed"))
    #expect(box.orchestrate("status", "--json").stdout.contains("\"failed\""))

    // The hand fix, made in the working directory the message names, then resume.
    let workdir = box.workdirRoot.appendingPathComponent("stubborn")
    try Data("right\n".utf8).write(to: workdir.appendingPathComponent("b.txt"))
    try box.git("commit", "-q", "-am", "hand fix", in: workdir)
    let resumed = box.orchestrate("run")
    #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
    #expect(try box.mainSubjects().prefix(3) == ["Third", "Second", "First"])
    #expect(try box.git("show", "main~1:b.txt") == "right")
    #expect(try box.trailers("main~1")["Orchestrate-Attempts"] == "3")
  }

  @Test("a second run in the same repository is refused with exit 3, naming the holder")
  func concurrentRunRefused() throws {
    let box = try TemporaryRepository()
    // The agent holds the run until the test has tried the second one.
    let plan = TestPlan(
      id: "slow",
      subtasks: [
        .init(
          id: "wait", description: "Wait",
          run: ["touch started; \(box.waitForSignal("second-run-tried")); echo done > done.txt"],
          checkpoint: ["test -f done.txt"])
      ])
    try box.write("plan.yml", plan.yaml)
    let log = box.root.appendingPathComponent("first.log")
    let first = try box.start(["run", "plan.yml"], log: log)
    defer { box.signal("second-run-tried") }
    try #require(eventually("the first run's agent to start") { box.exists("slow/started", in: box.workdirRoot) })
    let second = box.orchestrate("run", "slow")
    #expect(second.status == 3)
    #expect(second.stderr.contains("pid \(first.processIdentifier)"))
    #expect(second.stderr.contains("plan 'slow'"))
    box.signal("second-run-tried")
    first.waitUntilExit()
    #expect(first.terminationStatus == 0)
    #expect(try box.mainSubjects().first == "Wait")
  }

  @Test("a checkpoint timeout ends the whole process group, grandchild included")
  func checkpointTimeoutKillsGrandchild() throws {
    let box = try TemporaryRepository()
    let pidFile = box.root.appendingPathComponent("grandchild.pid")
    let plan = TestPlan(
      id: "hang", maxAttempts: 1,
      subtasks: [
        .init(
          id: "hang", description: "Hang", run: ["true"], checkpoint: ["sleep 1000 & echo $! > \(pidFile.path); wait"],
          timeout: "1s")
      ])
    try box.write("plan.yml", plan.yaml)
    // The checkpoint writes its pid outside the work folder, which the sandbox forbids.
    try box.git("config", "orchestrate.sandbox", "off")
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 1)
    #expect(result.stdout.contains("timed out"))
    let pid = processID(inFile: pidFile)
    #expect(pid > 0)
    eventually("the grandchild \(pid) to end", within: 5) { processIsGone(pid) }
  }

  @Test("the user's uncommitted and untracked files are left intact and the checkout follows main")
  func dirtyCheckoutLeftIntact() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", "notes.txt": "mine\n"])
    try box.write("plan.yml", Self.simple(id: "tidy").yaml)
    try box.git("add", "plan.yml")
    try box.git("commit", "-q", "-m", "plan")
    try box.write("notes.txt", "mine, edited\n")
    try box.write("scratch.txt", "untracked\n")
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(box.read("notes.txt") == "mine, edited\n")
    #expect(box.read("scratch.txt") == "untracked\n")
    #expect(box.read("made.txt") == "made\n")
    let status = try box.rawGit(["status", "--porcelain"])
    #expect(status.split(separator: "\n").sorted() == [" M notes.txt", "?? scratch.txt"])
  }

  @Test("a run that would overwrite the user's uncommitted change refuses with exit 3 and names the file")
  func conflictingDirtyCheckoutRefused() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", "made.txt": "old\n"])
    try box.write("plan.yml", Self.simple(id: "clash").yaml)
    try box.write("made.txt", "my own edit\n")
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stderr.contains("made.txt"))
    #expect(box.read("made.txt") == "my own edit\n")
    #expect(try box.mainSubjects().first == "initial")
  }

  @Test("an agent that commits, switches branches and stages itself is still judged by the working directory")
  func agentThatCommits() throws {
    let box = try TemporaryRepository()
    let plan = TestPlan(
      id: "committer",
      subtasks: [
        .init(
          id: "rogue", description: "Rogue agent",
          run: [
            "echo one > one.txt && git add one.txt && git commit -q -m 'agent commit'",
            "git checkout -q -b elsewhere && echo two > two.txt && git add two.txt",
            "echo three > three.txt",
          ],
          checkpoint: ["test -f one.txt && test -f two.txt && test -f three.txt"]),
        .init(id: "after", description: "After", run: ["echo after > after.txt"], checkpoint: ["test -f one.txt"]),
      ])
    try box.write("plan.yml", plan.yaml)
    let base = try box.git("rev-parse", "main")
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(try box.git("rev-list", "--count", "--first-parent", "\(base)..main") == "2", "\(result.stdout)")
    #expect(try box.git("log", "--format=%s", "\(base)..main").split(separator: "\n") == ["After", "Rogue agent"])
    let files = try box.git("ls-tree", "--name-only", "main~1")
    #expect(files.contains("one.txt") && files.contains("two.txt") && files.contains("three.txt"))
  }

  @Test("main moved by someone else during a run: the sub-task is replayed onto it and validated again")
  func mainMovedDuringRun() throws {
    let box = try TemporaryRepository()
    let repoPath = box.url.path
    let plan = TestPlan(
      id: "moved",
      subtasks: [
        .init(
          id: "work", description: "Work",
          run: [
            "echo work > work.txt",
            "git -C \(repoPath) -c user.name=u -c user.email=u@x commit -q --allow-empty -m 'someone else'",
          ],
          checkpoint: ["test -f work.txt"])
      ])
    try box.write("plan.yml", plan.yaml)
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stdout.contains("main moved"))
    #expect(try box.mainSubjects().prefix(3) == ["Work", "someone else", "initial"])
    #expect(box.read("work.txt") == "work\n")
  }

  @Test("bad input exits 2 with a clear message and leaves the repository as it was")
  func badInput() throws {
    let box = try TemporaryRepository()
    let refsBefore = try box.git("for-each-ref")
    try box.write("bad.yml", "id: ../evil\nsubtasks: []\n")
    let result = box.orchestrate("run", "bad.yml")
    #expect(result.status == 2)
    #expect(result.stderr.contains("bad.yml"))
    #expect(!result.stderr.contains("Fatal error"))
    #expect(try box.git("for-each-ref") == refsBefore)
    let missing = box.orchestrate("run", "nope.yml")
    #expect(missing.status == 2)
    let flag = box.orchestrate("run", "--max-attempts", "0", "x")
    #expect(flag.status == 2)
    #expect(flag.stderr.contains("--max-attempts"))
    let outside = box.orchestrate(["status"], in: box.root)
    #expect(outside.status == 2)
    #expect(outside.stderr.contains("not a git repository"))
  }

  /// One sub-task that makes `made.txt`.
  static func simple(id: String) -> TestPlan {
    TestPlan(id: id, subtasks: [.makes("made.txt", id: "make", description: "Make a file")])
  }
}

@Suite("status cache")
struct StatusCacheTests {
  @Test("status reads the run's history record, and stays right when main moves forward or is rewound")
  func cacheFollowsMain() throws {
    let box = try TemporaryRepository()
    let plan = TestPlan(
      id: "cached", maxAttempts: 1, subtasks: [.makes("one.txt", "1", id: "one"), .makes("two.txt", "2", id: "two")])
    try box.write("plan.yml", plan.yaml)
    #expect(box.orchestrate("run", "plan.yml").status == 0)
    func completed() throws -> [String] {
      let out = box.orchestrate("status", "--json")
      let json = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any]
      return json?["completed_subtasks"] as? [String] ?? ["<no json: \(out.stderr)>"]
    }
    #expect(try completed() == ["one", "two"])
    // The run recorded what it read of main; status reads that record.
    #expect(try box.git("cat-file", "-t", "refs/orchestrate/history/cached") == "blob")
    // Rewound: the user drops the last sub-task commit. The record no longer applies: status reads main.
    try box.git("reset", "-q", "--hard", "main~1")
    #expect(try completed() == ["one"])
    // Forward again, with a commit of someone else's on top.
    try box.git("reset", "-q", "--hard", "HEAD@{1}")
    try box.git("commit", "-q", "--allow-empty", "-m", "someone else")
    #expect(try completed() == ["one", "two"])
    // A damaged record is not believed: status reads main.
    let blob = try box.git(["hash-object", "-w", "--stdin"], input: "git-orchestrate history 1\nnot a record")
    try box.git("update-ref", "refs/orchestrate/history/cached", blob)
    #expect(try completed() == ["one", "two"])
  }
}
