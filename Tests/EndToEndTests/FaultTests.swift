import Foundation
import TestSupport
import Testing

/// Faults around a running `git orchestrate run`: kill -9 at random instants, SIGINT and SIGTERM,
/// the user changing things underneath it, stale git locks, a read-only object store, a full disk.
/// Each ends with nothing completed lost and a run that resumes.
@Suite("Faults", .serialized)
struct FaultTests {
  /// The long loops run with `ORCHESTRATE_FAULTS=1` (`make test-faults`); a short version always.
  static let long = ProcessInfo.processInfo.environment["ORCHESTRATE_FAULTS"] == "1"
  static let isRoot = getuid() == 0

  // MARK: - kill -9

  /// Twelve script steps with small sleeps, so kills land in agents, checkpoints and the engine.
  static func twelveSteps(id: String) -> TestPlan {
    TestPlan(
      id: id, description: "twelve steps", maxAttempts: 3,
      subtasks: (1...12).map { step in
        .init(
          id: "s\(step)", description: "Step \(step)",
          run: ["sleep 0.05; echo \(step) > step-\(step).txt", "sleep 0.03; echo more >> step-\(step).txt"],
          checkpoint: ["sleep 0.03; grep -q more step-\(step).txt"])
      })
  }

  @Test(
    "kill -9 at random instants during 12-step plans, resuming each time: each sub-task on main once, in order, fsck clean"
  )
  func killNineAndResume() throws {
    let box = try TemporaryRepository()
    let kills = Self.long ? 50 : 5
    var seed =
      UInt64(ProcessInfo.processInfo.environment["ORCHESTRATE_FAULT_SEED"] ?? "")
      ?? UInt64(Date().timeIntervalSince1970 * 1000)
    let note = "seed \(seed) (set ORCHESTRATE_FAULT_SEED to replay)"
    var killed = 0
    var runs = 0
    var round = 0
    // Rounds of a fresh 12-step plan until enough kills have landed; each round is resumed after
    // every kill until a run finishes it, then checked.
    while killed < kills, runs < kills * 4 {
      round += 1
      let id = "twelve-\(round)"
      try box.write("plan-\(round).yml", Self.twelveSteps(id: id).yaml)
      let base = try box.git("rev-parse", "main")
      var finished = false
      while !finished, runs < kills * 4 {
        runs += 1
        let log = box.root.appendingPathComponent("run-\(runs).log")
        let process = try box.start(["run", "plan-\(round).yml"], log: log)
        // 20 ms to 1.5 s: startup, agents, checkpoints, commits and ref updates all get hit.
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        usleep(20_000 + UInt32((seed >> 33) % 1_480_000))
        if process.isRunning, killed < kills {
          kill(process.processIdentifier, SIGKILL)
          process.waitUntilExit()
          killed += 1
          continue
        }
        process.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try #require(
          process.terminationStatus == 0, "run \(runs) exited \(process.terminationStatus), \(note):\n\(text)")
        finished = true
      }
      try #require(finished, "\(note)")
      let subtasks = try box.landedSubtasks(since: base)
      #expect(subtasks == (1...12).map { "\($0)/12 s\($0)" }, "\(note)")
      #expect(try box.git("log", "-1", "--format=%(trailers:key=Orchestrate-Plan,valueonly)", "main") == id)
      for step in 1...12 {
        #expect(try box.git("show", "main:step-\(step).txt") == "\(step)\nmore", "\(note)")
      }
    }
    #expect(killed == kills, "\(note)")
    let fsck = box.run("/usr/bin/env", ["git", "fsck", "--strict", "--no-dangling"], in: box.url)
    #expect(fsck.status == 0, "\(note)\n\(fsck.stdout)\n\(fsck.stderr)")
    #expect(!box.isLocked, "\(note)")
    #expect(try box.git("worktree", "prune", "-n", "-v") == "", "\(note)")
    let worktrees = try box.git("worktree", "list", "--porcelain")
    #expect(!worktrees.contains("prunable"), "\(note)\n\(worktrees)")
    #expect(worktrees.components(separatedBy: "worktree ").count - 1 <= round + 1, "\(note)\n\(worktrees)")
    // The user's checkout follows main.
    #expect(box.read("step-12.txt") == "12\nmore\n", "\(note)")
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "", "\(note)")
  }

  /// Six sub-tasks for `run --jobs 3`: s1, s2 and s4 independent, s3 after s1, s5 after s2 and s4,
  /// s6 after s5 (no dependencies key). s2 and s4 both write shared.txt, so whichever lands second
  /// conflicts and is redone on the new main. Each step sleeps a little, as `sleeps` says.
  static func sixParallelSteps(id: String, sleeps: [Int]) -> TestPlan {
    let dependencies: [[String]?] = [[], [], ["s1"], [], ["s2", "s4"], nil]
    return TestPlan(
      id: id, description: "six steps, some at once", maxAttempts: 3,
      subtasks: (1...6).map { step in
        let shared = step == 2 || step == 4 ? " && echo s\(step) > shared.txt" : ""
        return .init(
          id: "s\(step)", description: "Step \(step)",
          run: [
            "sleep 0.0\(sleeps[step - 1]); echo \(step) > step-\(step).txt\(shared)",
            "sleep 0.0\(sleeps[(step + 2) % 6]); echo more >> step-\(step).txt",
          ],
          checkpoint: [
            "sleep 0.03; grep -q more step-\(step).txt" + (shared.isEmpty ? "" : " && grep -qx s\(step) shared.txt")
          ],
          dependencies: dependencies[step - 1])
      })
  }

  @Test(
    "kill -9 of a parallel run (--jobs 3) and its agents at random instants, resuming each time: each sub-task on main once, dependencies first, fsck clean, no lock left"
  )
  func killNineParallelAndResume() throws {
    let box = try TemporaryRepository()
    let kills = Self.long ? 25 : 3
    var seed =
      UInt64(ProcessInfo.processInfo.environment["ORCHESTRATE_FAULT_SEED"] ?? "")
      ?? UInt64(Date().timeIntervalSince1970 * 1000)
    let note = "seed \(seed) (set ORCHESTRATE_FAULT_SEED to replay)"
    let random = { (range: Int) -> Int in
      seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((seed >> 33) % UInt64(range))
    }
    var killed = 0
    var runs = 0
    var round = 0
    while killed < kills, runs < kills * 4 {
      round += 1
      let id = "six-\(round)"
      try box.write("plan-\(round).yml", Self.sixParallelSteps(id: id, sleeps: (0..<6).map { _ in 1 + random(9) }).yaml)
      let base = try box.git("rev-parse", "main")
      var finished = false
      while !finished, runs < kills * 4 {
        runs += 1
        let log = box.root.appendingPathComponent("parallel-\(runs).log")
        let process = try box.start(["run", "--jobs", "3", "plan-\(round).yml"], log: log)
        // Until the run has reached a random point of its work (an agent, a checkpoint or a landing
        // began), then a little more: the kill lands in the jobs, between them, or in a landing.
        let steps = 1 + random(16)
        let reached = { () -> Bool in
          let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
          return text.components(separatedBy: "→ ").count - 1 + text.components(separatedBy: "complete (").count - 1
            >= steps
        }
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, !reached(), Date() < deadline { usleep(5_000) }
        usleep(UInt32(random(200_000)))
        if process.isRunning, killed < kills {
          let agents = killProcessTree(process.processIdentifier)
          process.waitUntilExit()
          killed += 1
          // Nothing of the killed run writes any more when the next one starts.
          eventually("the killed run's commands to end, \(note)", within: 10) { agents.allSatisfy(processIsGone) }
          continue
        }
        process.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try #require(
          process.terminationStatus == 0, "run \(runs) exited \(process.terminationStatus), \(note):\n\(text)")
        finished = true
      }
      try #require(finished, "\(note)")
      // Each sub-task once on main's first-parent history, nothing else, a dependency before its dependents.
      let landed = try box.landedSubtasks(since: base).map { String($0.split(separator: " ").last ?? "") }
      #expect(landed.sorted() == (1...6).map { "s\($0)" }, "\(landed), \(note)")
      #expect(try box.git("rev-list", "--count", "\(base)..main") == "6", "\(note)")
      let position = { (id: String) in landed.firstIndex(of: id) ?? -1 }
      for (before, after) in [("s1", "s3"), ("s2", "s5"), ("s4", "s5"), ("s5", "s6")] {
        #expect(position(before) < position(after), "\(before) landed after \(after): \(landed), \(note)")
      }
      #expect(try box.git("log", "-1", "--format=%(trailers:key=Orchestrate-Plan,valueonly)", "main") == id)
      for step in 1...6 {
        #expect(try box.git("show", "main:step-\(step).txt") == "\(step)\nmore", "\(note)")
      }
      #expect(["s2", "s4"].contains(try box.git("show", "main:shared.txt")), "\(note)")
      // Every landed tree passed its checkpoint.
      let verify = box.orchestrate("verify", "\(base)..main")
      #expect(verify.status == 0, "\(note)\n\(verify.stdout)\n\(verify.stderr)")
    }
    #expect(killed == kills, "\(note)")
    let fsck = box.run("/usr/bin/env", ["git", "fsck", "--strict", "--no-dangling"], in: box.url)
    #expect(fsck.status == 0, "\(note)\n\(fsck.stdout)\n\(fsck.stderr)")
    #expect(!box.isLocked, "\(note)")
    let locks = box.run("/usr/bin/find", [".git", "-name", "*.lock"], in: box.url)
    #expect(locks.stdout.trimmed.isEmpty, "locks left: \(locks.stdout), \(note)")
    #expect(try box.git("worktree", "prune", "-n", "-v") == "", "\(note)")
    // The user's checkout follows main.
    #expect(box.read("step-6.txt") == "6\nmore\n", "\(note)")
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "", "\(note)")
  }

  // MARK: - SIGINT and SIGTERM

  enum Phase: String, CaseIterable, Sendable { case agent, checkpoint }

  struct Interruption: Sendable, CustomTestStringConvertible {
    var signal: Int32
    var phase: Phase
    var testDescription: String { "\(signal == SIGINT ? "SIGINT" : "SIGTERM") during the \(phase.rawValue)" }
  }

  static let interruptions = [SIGINT, SIGTERM].flatMap { signal in
    Phase.allCases.map { Interruption(signal: signal, phase: $0) }
  }

  @Test(
    "SIGINT and SIGTERM end the agent's and the checkpoint's process groups, exit 128+n, say how to resume, and the next run completes",
    arguments: interruptions)
  func interrupted(_ interruption: Interruption) throws {
    let box = try TemporaryRepository()
    let marks = box.root.path
    // The first time, the hanging command leaves a grandchild behind its shell; once resumed it passes.
    let hang =
      "if [ -f \(marks)/resumed ]; then true; else sleep 1000 & echo $! > \(marks)/grandchild.pid; touch \(marks)/started; wait; fi"
    let agent = interruption.phase == .agent ? "\(hang); echo made > made.txt" : "echo made > made.txt"
    let checkpoint = interruption.phase == .checkpoint ? "\(hang); test -f made.txt" : "test -f made.txt"
    try box.write("plan.yml", TestPlan.firstThen(id: "stop", run: [agent], checkpoint: [checkpoint]).yaml)
    // The hanging command marks its start and pid outside the work folder, which the sandbox forbids
    // (ConfinementTests/interruptedInSandbox covers an interrupt inside the sandbox).
    try box.git("config", "orchestrate.sandbox", "off")
    let log = box.root.appendingPathComponent("run.log")
    let process = try box.start(["run", "plan.yml"], log: log)
    try #require(eventually("the hanging command to start") { box.exists("started", in: box.root) })
    let grandchild = processID(inFile: box.root.appendingPathComponent("grandchild.pid"))
    #expect(grandchild > 0)
    kill(process.processIdentifier, interruption.signal)
    process.waitUntilExit()
    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    #expect(process.terminationStatus == 128 + interruption.signal, "\(text)")
    #expect(text.contains("resume with: git orchestrate run stop"), "\(text)")
    eventually("the grandchild \(grandchild) to end", within: 5) { processIsGone(grandchild) }
    #expect(!box.isLocked)
    #expect(try box.mainSubjects() == ["First", "initial"])

    box.signal("resumed")
    let resumed = box.orchestrate("run", "stop")
    #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
    #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    #expect(box.read("made.txt") == "made\n")
  }

  // MARK: - The user changes things during a run

  @Test(
    "the user commits a conflicting change to main during a run: exit 1, a clear message, nothing lost, resumable after a rebase"
  )
  func conflictingCommitOnMain() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", "shared.txt": "original\n"])
    let repoPath = box.url.path
    let plan = TestPlan(
      id: "clash",
      subtasks: [
        .init(
          id: "edit", description: "Edit shared",
          run: [
            "echo from-subtask > shared.txt && echo extra > extra.txt",
            "echo from-user > \(repoPath)/shared.txt && git -C \(repoPath) -c user.name=u -c user.email=u@x commit -q -am 'user edit'",
          ],
          checkpoint: ["grep -q from-subtask shared.txt"])
      ])
    try box.write("plan.yml", plan.yaml)
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stderr.contains("conflict"), "\(result.stderr)")
    #expect(result.stderr.contains("shared.txt"), "\(result.stderr)")
    #expect(result.stderr.contains("orchestrate/clash/01-edit"), "\(result.stderr)")
    // The user's commit stays on main, and their checkout still has it.
    #expect(try box.mainSubjects() == ["user edit", "initial"])
    #expect(box.read("shared.txt") == "from-user\n")
    // The sub-task's validated work is kept on the branch the message names.
    let branch = "orchestrate/clash/01-edit"
    #expect(try box.git("show", "\(branch):shared.txt") == "from-subtask", "the work is not on the branch")
    #expect(try box.git("show", "\(branch):extra.txt") == "extra")
    #expect(!box.isLocked)
  }

  @Test(
    "the user deletes the tool's working directory between runs: it is recreated from the branch and the run completes")
  func workdirDeletedBetweenRuns() throws {
    let box = try TemporaryRepository()
    let marks = box.root.path
    try box.write(
      "plan.yml",
      TestPlan.firstThen(
        id: "gone", maxAttempts: 1, run: ["echo two > two.txt"], checkpoint: ["test -f \(marks)/allow"]
      )
      .yaml)
    let stopped = box.orchestrate("run", "plan.yml")
    #expect(stopped.status == 1, "\(stopped.stdout)\n\(stopped.stderr)")
    try FileManager.default.removeItem(at: box.workdirRoot.appendingPathComponent("gone"))
    box.signal("allow")
    let resumed = box.orchestrate("run", "gone")
    #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
    #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    #expect(try box.git("show", "main:two.txt") == "two")
    #expect(try box.git("worktree", "prune", "-n", "-v") == "")
  }

  @Test(
    "the user deletes the tool's working directory during a run, between sub-tasks: the run recreates it or stops cleanly, and resumes"
  )
  func workdirDeletedDuringRun() throws {
    let box = try TemporaryRepository()
    let marks = box.root.path
    // Sub-task 2's first step waits until the test has deleted the working directory; its
    // second step then runs in a directory that no longer exists.
    let plan = TestPlan(
      id: "vanish",
      subtasks: [
        .makes("one.txt", "one", id: "first", description: "First"),
        .init(
          id: "second", description: "Second",
          run: ["touch \(marks)/waiting; \(box.waitForSignal("deleted"))", "echo two > two.txt"],
          checkpoint: ["test -f two.txt"]),
        .init(
          id: "third", description: "Third", run: ["echo three > three.txt"],
          checkpoint: ["test -f three.txt && test -f one.txt"]),
      ])
    try box.write("plan.yml", plan.yaml)
    let log = box.root.appendingPathComponent("run.log")
    let process = try box.start(["run", "plan.yml"], log: log)
    defer { box.signal("deleted") }
    try #require(eventually("the second sub-task to wait") { box.exists("waiting", in: box.root) })
    try FileManager.default.removeItem(at: box.workdirRoot.appendingPathComponent("vanish"))
    box.signal("deleted")
    process.waitUntilExit()
    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    #expect(!text.contains("Fatal error"), "\(text)")
    #expect([0, 1, 2].contains(process.terminationStatus), "\(text)")
    #expect(try box.mainSubjects().suffix(2) == ["First", "initial"], "\(text)")
    let resumed = box.orchestrate("run", "vanish")
    #expect(resumed.status == 0, "first run:\n\(text)\nresumed:\n\(resumed.stdout)\n\(resumed.stderr)")
    #expect(try box.mainSubjects() == ["Third", "Second", "First", "initial"])
    #expect(try box.git("worktree", "prune", "-n", "-v") == "")
  }

  // MARK: - Locks left by a crashed git

  enum LockFile: String, CaseIterable, Sendable {
    case userIndex = "index.lock"
    case userHead = "HEAD.lock"
    case worktreeIndex = "worktrees/orchestrate-locks/index.lock"
    case worktreeHead = "worktrees/orchestrate-locks/HEAD.lock"
  }

  @Test(
    "a lock left by a crashed git: the run completes or says which file to remove; nothing lost; resumable",
    arguments: LockFile.allCases)
  func staleGitLock(_ lock: LockFile) throws {
    let box = try TemporaryRepository()
    let marks = box.root.path
    try box.write(
      "plan.yml",
      TestPlan.firstThen(
        id: "locks", maxAttempts: 1, run: ["echo two > two.txt"],
        checkpoint: ["test -f \(marks)/allow && test -f two.txt"]
      ).yaml)
    // A first run creates the worktree and stops at the second sub-task, which a fix then allows.
    let first = box.orchestrate("run", "plan.yml")
    #expect(first.status == 1, "\(first.stdout)\n\(first.stderr)")
    box.signal("allow")
    let lockURL = box.url.appendingPathComponent(".git/" + lock.rawValue)
    #expect(FileManager.default.fileExists(atPath: lockURL.deletingLastPathComponent().path))
    _ = FileManager.default.createFile(atPath: lockURL.path, contents: Data())
    let result = box.orchestrate("run", "locks")
    #expect(!result.stderr.contains("Fatal error"), "\(result.stderr)")
    if result.status != 0 {
      // Refused with a message that says a lock is in the way; if the sub-task landed before the
      // user's index could be written, the next run brings the checkout up to date.
      #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
      #expect(result.stderr.contains("lock"), "\(result.stderr)")
      #expect(try box.mainSubjects().suffix(2) == ["First", "initial"])
    }
    #expect(!box.isLocked)
    try? FileManager.default.removeItem(at: lockURL)
    let resumed = box.orchestrate("run", "locks")
    #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
    #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    #expect(box.read("two.txt") == "two\n")
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
  }

  @Test(
    "runs killed one after another while a dead run's git locks are removed: the next run still removes them and completes"
  )
  func staleGitLockAcrossKilledRecoveries() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", RunTests.simple(id: "chain").yaml)
    // A run that started a minute ago died holding the user's index lock, made 50 s ago.
    let lockFile = box.url.appendingPathComponent(".git/orchestrate/lock")
    try FileManager.default.createDirectory(at: lockFile.deletingLastPathComponent(), withIntermediateDirectories: true)
    let formatter = ISO8601DateFormatter()
    let dead =
      #"{"pid":\#(IntegrityTests.deadPID(box)),"host":"\#(ProcessInfo.processInfo.hostName)","plan":"chain","command":"run","started":"\#(formatter.string(from: Date().addingTimeInterval(-60)))"}"#
    try Data(dead.utf8).write(to: lockFile)
    let indexLock = box.url.appendingPathComponent(".git/index.lock")
    _ = FileManager.default.createFile(atPath: indexLock.path, contents: Data())
    try FileManager.default.setAttributes(
      [.modificationDate: Date().addingTimeInterval(-50)], ofItemAtPath: indexLock.path)
    // The next holder takes the lock over and is killed before it removes anything (debug-lock
    // takes it as a run does and removes nothing): its own start is after the index lock was made.
    let marks = box.root.appendingPathComponent("marks")
    let killed = try box.start(
      ["debug-lock", "--marks", marks.path, "--name", "killed", "--lines", "9"],
      log: box.root.appendingPathComponent("debug-lock.log"))
    #expect(eventually("the second holder to take the lock") { box.read("marks", in: box.root) == "in killed recovered\n" })
    kill(killed.processIdentifier, SIGKILL)
    killed.waitUntilExit()
    #expect(FileManager.default.fileExists(atPath: indexLock.path))

    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: indexLock.path))
    #expect(try box.mainSubjects() == ["Make a file", "initial"])
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
    #expect(!box.isLocked)
  }

  // MARK: - A read-only object store

  @Test("a read-only object store: exit 2 with a clear message, nothing changed")
  func readOnlyObjectStore() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", RunTests.simple(id: "readonly").yaml)
    let objects = box.url.appendingPathComponent(".git/objects").path
    let refsBefore = try box.git("for-each-ref")
    // As root, permissions do not stop writes: a read-only bind mount does.
    if Self.isRoot {
      try Self.system("mount", "--bind", objects, objects)
      try Self.system("mount", "-o", "remount,ro,bind", objects)
    } else {
      try Self.system("chmod", "-R", "a-w", objects)
    }
    defer {
      if Self.isRoot { try? Self.system("umount", objects) } else { try? Self.system("chmod", "-R", "u+w", objects) }
      withExtendedLifetime(box) {}
    }
    #expect(!FileManager.default.isWritableFile(atPath: objects))
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
    #expect(!result.stderr.contains("Fatal error"))
    #expect(
      result.stderr.lowercased().contains("objects") || result.stderr.lowercased().contains("read-only"),
      "\(result.stderr)")
    #expect(try box.git("for-each-ref") == refsBefore)
    #expect(!box.isLocked)
  }

  // MARK: - A full disk

  @Test(
    "the disk fills while an attempt is written: a clear message, nothing completed lost, resumable once there is room")
  func diskFull() throws {
    guard Self.isRoot else {
      print("skipped: the disk-full test mounts a small tmpfs and needs root")
      return
    }
    let box = try TemporaryRepository()
    let marks = box.root.path
    try box.write(
      "plan.yml",
      TestPlan.firstThen(
        id: "full",
        run: ["if [ -f \(marks)/room ]; then echo two > two.txt; else head -c 64M /dev/urandom > filler.bin; fi"],
        checkpoint: ["test -f two.txt"]
      ).yaml)
    // Move the repository onto a 16 MB tmpfs mounted at its own path.
    let repo = box.url.path
    let aside = box.root.appendingPathComponent("repo.orig").path
    try FileManager.default.moveItem(atPath: repo, toPath: aside)
    try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
    try Self.system("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", repo)
    defer {
      try? Self.system("umount", repo)
      withExtendedLifetime(box) {}
    }
    try Self.system("cp", "-a", aside + "/.", repo)

    let result = box.orchestrate("run", "plan.yml")
    #expect(!result.stderr.contains("Fatal error"), "\(result.stderr)")
    #expect(result.status != 0, "\(result.stdout)\n\(result.stderr)")
    #expect([1, 2].contains(result.status), "\(result.stdout)\n\(result.stderr)")
    #expect(
      (result.stdout + result.stderr).lowercased().contains("no space left"), "\(result.stdout)\n\(result.stderr)")
    #expect(try box.mainSubjects() == ["First", "initial"])
    #expect(try box.git("show", "main:one.txt") == "one")
    #expect(!box.isLocked)

    // Make room and resume.
    try? FileManager.default.removeItem(at: box.workdirRoot.appendingPathComponent("full/filler.bin"))
    box.signal("room")
    let resumed = box.orchestrate("run", "full")
    #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
    #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    let fsck = box.run("/usr/bin/env", ["git", "fsck", "--strict", "--no-dangling"], in: box.url)
    #expect(fsck.status == 0, "\(fsck.stdout)\n\(fsck.stderr)")
  }

  // MARK: - Helpers

  static func system(_ args: String...) throws {
    let out = runCommand("/usr/bin/env", args, in: URL(fileURLWithPath: "/"))
    guard out.status == 0 else {
      throw TestCommandError("\(args.joined(separator: " ")) failed (\(out.status)): \(out.stderr)")
    }
  }
}
