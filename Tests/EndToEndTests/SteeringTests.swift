import Foundation
import TestSupport
import Testing

/// A plan the user can steer and review (issue 14): editing what has not run, `plan log`, `clean`,
/// reviewing failures against main, failures that travel to a clone, the JSON event stream and
/// completion of stored ids. Through the built binary, with script steps as agents.
@Suite("steering", .serialized)
struct SteeringTests {
  /// Three steps; the second fails until its run step is corrected.
  static let threeSteps = """
    id: demo
    description: three steps, the second broken
    max_attempts: 2
    subtasks:
      - id: one
        description: First step
        complexity: small
        run: ["echo 1 > one.txt"]
        checkpoint: { commands: ["test -f one.txt"] }
      - id: two
        description: Second step
        run: ["echo broken > two.txt; echo 'the step ran'"]
        checkpoint: { commands: ["grep -q fixed two.txt"] }
      - id: three
        description: Third step
        run: ["echo 3 > three.txt"]
        checkpoint: { commands: ["test -f three.txt"] }
    """

  /// A sandbox whose run stopped on sub-task two after two failed attempts.
  static func stuckOnTwo(_ plan: String = threeSteps) throws -> TemporaryRepository {
    let box = try TemporaryRepository()
    try box.write("plan.yml", "\(plan)")
    let run = box.orchestrate("run", "plan.yml")
    #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
    return box
  }

  static func completed(_ box: TemporaryRepository) throws -> [String] {
    let status = box.orchestrate("status", "demo", "--json")
    let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    return json?["completed_subtasks"] as? [String] ?? []
  }

  static func states(_ box: TemporaryRepository) throws -> [String: String] {
    let status = box.orchestrate("status", "demo", "--json")
    let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    let details = json?["subtask_details"] as? [[String: Any]] ?? []
    return Dictionary(uniqueKeysWithValues: details.map { ($0["id"] as! String, $0["state"] as! String) })
  }

  // MARK: - Editing a started plan

  @Test("a pending sub-task of a started plan is edited with plan add --replace, and run resumes with it")
  func editPendingAndResume() throws {
    let box = try Self.stuckOnTwo()
    let plan = "refs/orchestrate/plans/demo"
    let firstVersion = try box.git("rev-parse", "\(plan)")
    let base = try box.trailers(firstVersion)["Orchestrate-Base"]
    #expect(base != nil)

    try box.write(
      "plan.yml", Self.threeSteps.replacingOccurrences(of: "echo broken > two.txt", with: "echo fixed > two.txt"))
    let edit = box.orchestrate("plan", "add", "--replace", "plan.yml")
    #expect(edit.status == 0, "\(edit.stdout)\n\(edit.stderr)")
    #expect(edit.stdout.contains("replaced plan 'demo' (3 sub-tasks): ~two (run steps)"), "\(edit.stdout)")
    // A new version on top of the last, with the same base.
    #expect(try box.git("rev-parse", "\(plan)^") == firstVersion)
    #expect(try box.trailers(plan)["Orchestrate-Base"] == base)

    let run = box.orchestrate("run", "demo")
    #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    #expect(try Self.completed(box) == ["one", "two", "three"])
    #expect(try box.trailers("main~1")["Orchestrate-Attempts"] == "3")
  }

  @Test("removing and adding pending sub-tasks is a recorded edit; plan log says who changed what and when")
  func planLog() throws {
    let box = try Self.stuckOnTwo()
    let edited = Self.threeSteps.replacingOccurrences(
      of: """
          - id: three
            description: Third step
            run: ["echo 3 > three.txt"]
            checkpoint: { commands: ["test -f three.txt"] }
        """,
      with: """
          - id: four
            description: Fourth step
            run: ["echo 4 > four.txt"]
            checkpoint: { commands: ["test -f four.txt"] }
        """)
    #expect(edited != Self.threeSteps)
    try box.write("plan.yml", "\(edited)")
    #expect(box.orchestrate("plan", "add", "--replace", "plan.yml").status == 0)

    let log = box.orchestrate("plan", "log", "demo")
    #expect(log.status == 0, "\(log.stderr)")
    let lines = log.stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == 2, "\(log.stdout)")
    #expect(lines.first?.contains("\(TestIdentity.authorName) <\(TestIdentity.authorEmail)>") == true, "\(log.stdout)")
    #expect(lines.first?.contains(TestIdentity.date) == true, "\(log.stdout)")
    #expect(lines.first?.contains("+four, -three") == true, "\(log.stdout)")
    #expect(lines.last?.contains("added (3 sub-tasks)") == true, "\(log.stdout)")

    let json = box.orchestrate("plan", "log", "demo", "--json")
    let versions = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
    #expect(versions.count == 2)
    #expect(versions[0]["added"] as? [String] == ["four"])
    #expect(versions[0]["removed"] as? [String] == ["three"])
    #expect(versions[0]["author"] as? String == TestIdentity.authorName)
    // The edit is in the plan ref's own history too.
    #expect(try box.git("log", "-1", "--format=%s", "refs/orchestrate/plans/demo").hasPrefix("plan edit demo"))
    #expect(try box.git("log", "-1", "--format=%b", "refs/orchestrate/plans/demo").contains("edited: +four, -three"))
  }

  @Test("an edit that would change a completed sub-task is refused, naming it; so is run with a changed file")
  func completedSubtaskUnchangeable() throws {
    let box = try Self.stuckOnTwo()
    let before = try box.git("rev-parse", "refs/orchestrate/plans/demo")
    for changed in [
      Self.threeSteps.replacingOccurrences(of: "test -f one.txt", with: "test -s one.txt"),
      Self.threeSteps.replacingOccurrences(of: "echo 1 > one.txt", with: "echo 2 > one.txt"),
      Self.threeSteps.replacingOccurrences(
        of: "  - id: one",
        with:
          "  - id: zero\n    description: New first\n    run: [\"true\"]\n    checkpoint: { commands: [\"true\"] }\n  - id: one"
      ),
    ] {
      try box.write("plan.yml", "\(changed)")
      let refused = box.orchestrate("plan", "add", "--replace", "plan.yml")
      #expect(refused.status == 2, "\(refused.stdout)\n\(refused.stderr)")
      #expect(refused.stderr.contains("sub-task 'one' is completed on main"), "\(refused.stderr)")
      #expect(refused.stderr.contains("already started"), "\(refused.stderr)")
    }
    // Removing it too.
    try box.write("plan.yml", Self.threeSteps.replacingOccurrences(of: "  - id: one", with: "  - id: one-renamed"))
    let removed = box.orchestrate("plan", "add", "--replace", "plan.yml")
    #expect(removed.status == 2)
    #expect(removed.stderr.contains("sub-task 'one'") && removed.stderr.contains("removed"), "\(removed.stderr)")
    #expect(try box.git("rev-parse", "refs/orchestrate/plans/demo") == before)

    // run FILE with a changed plan does not edit it: the edit is an explicit, recorded step.
    try box.write(
      "plan.yml", Self.threeSteps.replacingOccurrences(of: "echo broken > two.txt", with: "echo fixed > two.txt"))
    let run = box.orchestrate("run", "plan.yml")
    #expect(run.status == 2, "\(run.stdout)\n\(run.stderr)")
    #expect(run.stderr.contains("plan add --replace"), "\(run.stderr)")
    #expect(try box.git("rev-parse", "refs/orchestrate/plans/demo") == before)
  }

  // MARK: - clean

  @Test("clean removes a finished plan's work folder and branches and keeps every attempt; show still lists them")
  func cleanFinished() throws {
    let box = try Self.stuckOnTwo()
    try box.write(
      "plan.yml", Self.threeSteps.replacingOccurrences(of: "echo broken > two.txt", with: "echo fixed > two.txt"))
    #expect(box.orchestrate("plan", "add", "--replace", "plan.yml").status == 0)
    #expect(box.orchestrate("run", "demo").status == 0)
    let attemptsBefore = box.orchestrate("show", "two").stdout
    #expect(attemptsBefore.contains("1. ") && attemptsBefore.contains("2. "), "\(attemptsBefore)")
    #expect(try box.git("worktree", "list", "--porcelain").contains(box.workdirRoot.appendingPathComponent("demo").path))

    let clean = box.orchestrate("clean")
    #expect(clean.status == 0, "\(clean.stdout)\n\(clean.stderr)")
    #expect(clean.stdout.contains("plan 'demo': removed 1 work folder and 3 branches"), "\(clean.stdout)")
    #expect(!(try box.git("worktree", "list", "--porcelain").contains("git-orchestrate/work")))
    #expect(!FileManager.default.fileExists(atPath: box.workdirRoot.appendingPathComponent("demo").path))
    #expect(try box.git("for-each-ref", "refs/heads/orchestrate").isEmpty)
    // Every attempt still reachable, and shown.
    let attempts = try box.git("log", "--format=%s", "refs/orchestrate/attempts/demo/02-two")
    #expect(attempts.contains("attempt 1 of two") && attempts.contains("attempt 2 of two"), "\(attempts)")
    let show = box.orchestrate("show", "two")
    #expect(show.stdout.contains("1. ") && show.stdout.contains("2. "), "\(show.stdout)")
    #expect(try Self.completed(box) == ["one", "two", "three"])
    #expect(box.orchestrate("clean", "demo").status == 0)
    #expect(try box.git("fsck", "--no-progress", "--no-dangling", "--connectivity-only").isEmpty)
  }

  @Test("clean refuses an unfinished plan without --abandon; with it, the failed attempts stay reachable and shown")
  func cleanAbandoned() throws {
    let box = try Self.stuckOnTwo()
    let tip = try box.git("rev-parse", "orchestrate/demo/02-two")
    let refused = box.orchestrate("clean", "demo")
    #expect(refused.status == 2, "\(refused.stdout)\n\(refused.stderr)")
    #expect(refused.stderr.contains("plan 'demo' is not finished (next: two (failed))"), "\(refused.stderr)")
    #expect(refused.stderr.contains("--abandon"))
    #expect(try box.git("rev-parse", "orchestrate/demo/02-two") == tip)
    // With no plan named, an unfinished plan is left alone.
    let all = box.orchestrate("clean")
    #expect(all.status == 0)
    #expect(all.stdout.contains("plan 'demo': left alone"), "\(all.stdout)")

    let abandon = box.orchestrate("clean", "--abandon", "demo")
    #expect(abandon.status == 0, "\(abandon.stdout)\n\(abandon.stderr)")
    #expect(
      abandon.stdout.contains(
        "deleted orchestrate/demo/02-two; its attempts are kept at refs/orchestrate/attempts/demo/02-two"),
      "\(abandon.stdout)")
    #expect(try box.git("rev-parse", "refs/orchestrate/attempts/demo/02-two") == tip)
    #expect(try box.git("for-each-ref", "refs/heads/orchestrate").isEmpty)
    #expect(try Self.states(box)["two"] == "failed")
    let show = box.orchestrate("show", "two")
    #expect(show.stdout.contains("kept at refs/orchestrate/attempts/demo/02-two"), "\(show.stdout)")
    #expect(show.stdout.contains("2. \(tip.prefix(12))"), "\(show.stdout)")
  }

  @Test("clean refuses a plan that is running, with exit 2, naming it")
  func cleanRunning() throws {
    let box = try TemporaryRepository()
    let go = box.root.appendingPathComponent("go")
    try box.write(
      "plan.yml",
      Self.threeSteps.replacingOccurrences(
        of: "echo 1 > one.txt", with: "while [ ! -f '\(go.path)' ]; do sleep 0.05; done; echo 1 > one.txt"))
    let log = box.root.appendingPathComponent("run.log")
    let run = try box.start(["run", "plan.yml"], log: log)
    defer {
      FileManager.default.createFile(atPath: go.path, contents: nil)
      run.waitUntilExit()
    }
    // clean takes the repository lock for a moment itself: asked before the run holds it, one
    // clean can take it just as the run starts, and the run, not clean, gives up (exit 3).
    let lockFile = box.url.appendingPathComponent(".git/orchestrate/lock")
    #expect(
      eventually("the run to hold the lock") {
        let record = (try? Data(contentsOf: lockFile)).flatMap { try? JSONSerialization.jsonObject(with: $0) }
        return (record as? [String: Any])?["pid"] as? Int == Int(run.processIdentifier)
      })
    var last = CommandOutput(status: 0, stdout: "", stderr: "")
    #expect(
      eventually("the condition") {
        last = box.orchestrate("clean", "demo")
        return last.stderr.contains("is running")
      }, "\(last.stderr)")
    #expect(last.status == 2)
    #expect(last.stderr.contains("plan 'demo' is running (pid \(run.processIdentifier)"), "\(last.stderr)")
    // Nor is the plan a run works on edited under it.
    try box.write("plan.yml", Self.threeSteps)
    let edit = box.orchestrate("plan", "add", "--replace", "plan.yml")
    #expect(edit.status == 3, "\(edit.stdout)\n\(edit.stderr)")
    #expect(edit.stderr.contains("pid \(run.processIdentifier)"), "\(edit.stderr)")
    #expect(try box.git("worktree", "list", "--porcelain").contains(box.workdirRoot.appendingPathComponent("demo").path))
  }

  // MARK: - Reviewing a failure

  @Test("show of a failed sub-task diffs its latest attempt against main; --attempt N shows one with its full output")
  func showFailureAgainstMain() throws {
    let box = try Self.stuckOnTwo()
    let main = try box.git("rev-parse", "main")
    let show = box.orchestrate("show", "two", "--patch")
    #expect(show.status == 0, "\(show.stderr)")
    // The second attempt changed nothing against the first, yet the diff shows the proposed change.
    #expect(show.stdout.contains("Changes against main at \(main.prefix(12)), where it started:"), "\(show.stdout)")
    #expect(show.stdout.contains("two.txt | 1 +"), "\(show.stdout)")
    #expect(show.stdout.contains("+broken"), "\(show.stdout)")
    #expect(show.stdout.contains("agent output: "), "\(show.stdout)")
    #expect(show.stdout.contains(".git/orchestrate/logs/demo/02-two.attempt-1.log"), "\(show.stdout)")

    let one = box.orchestrate("show", "two", "--attempt", "1")
    #expect(one.status == 0, "\(one.stderr)")
    #expect(one.stdout.contains("attempt 1 of sub-task two (plan demo)"), "\(one.stdout)")
    #expect(one.stdout.contains("Orchestrate-Attempt: 1"), "\(one.stdout)")
    #expect(one.stdout.contains("Changes against main at \(main.prefix(12))"), "\(one.stdout)")
    #expect(one.stdout.contains("+broken"), "\(one.stdout)")
    #expect(one.stdout.contains("Full agent output ("), "\(one.stdout)")
    #expect(one.stdout.contains("the step ran"), "\(one.stdout)")

    let json = box.orchestrate("show", "two", "--attempt", "2", "--json")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect(object["number"] as? Int == 2)
    #expect(object["base"] as? String == main)

    let missing = box.orchestrate("show", "two", "--attempt", "9")
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("its failed attempts are 1, 2"), "\(missing.stderr)")
  }

  // MARK: - Failures travel

  @Test("after push and fetch, a clone shows the failed sub-task and its attempts as the original does")
  func cloneSeesFailure() throws {
    let box = try Self.stuckOnTwo()
    let remote = box.root.appendingPathComponent("remote.git")
    try box.git("init", "-q", "--bare", "-b", "main", remote.path, in: box.root)
    try box.git("remote", "add", "origin", "\(remote.path)")
    try box.git("push", "-q", "origin", "main")
    let push = box.orchestrate("push")
    #expect(push.status == 0, "\(push.stdout)\n\(push.stderr)")
    // A landed sub-task with failed attempts too: one more clean plan whose first step failed once.
    let clone = box.root.appendingPathComponent("clone")
    try box.git("clone", "-q", remote.path, clone.path, in: box.root)
    let orchestrate = { (args: [String]) in box.run(orchestrateBinary.path, args, in: clone) }
    let fetch = orchestrate(["fetch"])
    #expect(fetch.status == 0, "\(fetch.stdout)\n\(fetch.stderr)")

    let here = box.orchestrate("log", "demo").stdout
    let there = orchestrate(["log", "demo"]).stdout
    #expect(here == there, "\(here)\n---\n\(there)")
    #expect(there.contains("failed       2 attempts"), "\(there)")
    let status = orchestrate(["status", "demo", "--json"])
    let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    let two = (json?["subtask_details"] as? [[String: Any]])?.first { $0["id"] as? String == "two" }
    #expect(two?["state"] as? String == "failed")
    #expect(two?["attempts"] as? Int == 2)
    let show = orchestrate(["show", "two", "--patch"])
    #expect(show.stdout.contains("kept at refs/orchestrate/remotes/origin/branches/demo/02-two"), "\(show.stdout)")
    #expect(show.stdout.contains("2. "), "\(show.stdout)")
    #expect(show.stdout.contains("+broken"), "\(show.stdout)")
  }

  @Test("a landed sub-task's attempts travel too; a clone without them says so instead of 'none'")
  func cloneSeesLandedAttempts() throws {
    let box = try Self.stuckOnTwo()
    try box.write(
      "plan.yml", Self.threeSteps.replacingOccurrences(of: "echo broken > two.txt", with: "echo fixed > two.txt"))
    #expect(box.orchestrate("plan", "add", "--replace", "plan.yml").status == 0)
    #expect(box.orchestrate("run", "demo").status == 0)
    let remote = box.root.appendingPathComponent("remote.git")
    try box.git("init", "-q", "--bare", "-b", "main", remote.path, in: box.root)
    try box.git("remote", "add", "origin", "\(remote.path)")
    try box.git("push", "-q", "origin", "main")
    let clone = box.root.appendingPathComponent("clone")
    try box.git("clone", "-q", remote.path, clone.path, in: box.root)
    let orchestrate = { (args: [String]) in box.run(orchestrateBinary.path, args, in: clone) }

    // Plans fetched but not the attempts (pushed by hand, as an older version did).
    try box.git("push", "-q", "origin", "refs/orchestrate/plans/*:refs/orchestrate/plans/*")
    #expect(orchestrate(["fetch"]).status == 0)
    let without = orchestrate(["show", "two"]).stdout
    #expect(!without.contains("Failed attempts: none"), "\(without)")
    #expect(
      without.contains("2 failed attempts before this commit (Orchestrate-Attempts: 3), not in this clone"),
      "\(without)")

    #expect(box.orchestrate("push").status == 0)
    #expect(orchestrate(["fetch"]).status == 0)
    let with = orchestrate(["show", "two"]).stdout
    #expect(with.contains("kept at refs/orchestrate/remotes/origin/attempts/demo/02-two"), "\(with)")
    #expect(with.contains("1. ") && with.contains("2. "), "\(with)")
  }

  // MARK: - The JSON event stream

  @Test("--json: every event carries the plan, sub-task and attempt; output comes by line; durations rounded")
  func jsonEvents() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml",
      """
      id: demo
      description: json
      max_attempts: 1
      subtasks:
        - id: one
          description: First
          run: ["printf 'a\\\\nb\\\\n'; for i in 1 2 3 4 5; do printf .; done; echo; printf tail"]
          checkpoint: { commands: ["test -f one.txt || { echo missing; echo one.txt; exit 1; }"] }
      """)
    let run = box.orchestrate("run", "plan.yml", "--json")
    #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
    let events = try run.stdout.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "\($0)")
    }
    #expect(events.allSatisfy { $0["plan"] as? String == "demo" })
    let started = try #require(events.firstIndex { $0["event"] as? String == "subtask_started" })
    let failed = try #require(events.firstIndex { $0["event"] as? String == "subtask_failed" })
    for event in events[started...failed] {
      #expect(event["subtask"] as? String == "one", "\(event)")
      #expect(event["attempt"] as? Int == 1, "\(event)")
    }
    let outputs = events.filter { $0["event"] as? String == "output" }
    let agentLines = outputs.filter { $0["source"] as? String == "steps" }.compactMap { $0["text"] as? String }
    #expect(agentLines == ["a", "b", ".....", "tail"], "\(agentLines)")
    let checkpointLines = outputs.filter { $0["source"] as? String == "checkpoint" }.compactMap {
      $0["text"] as? String
    }
    #expect(checkpointLines == ["missing", "one.txt"], "\(checkpointLines)")
    for event in events {
      for (key, value) in event where key == "duration_seconds" {
        let seconds = try #require(value as? Double)
        #expect((seconds * 1000).rounded() / 1000 == seconds, "\(event)")
      }
    }
    let progress = try #require(events[started]["progress"] as? [String: Any])
    #expect(progress["total"] as? Int == 1)
  }

  @Test("--json: a refusal is an error event on standard output, with the exit code")
  func jsonRefusal() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", "\(Self.threeSteps)")
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    let bad = box.orchestrate("run", "nothing-stored", "--json")
    #expect(bad.status == 2)
    let error = try #require(
      try JSONSerialization.jsonObject(with: Data(bad.stdout.utf8)) as? [String: Any], "\(bad.stdout)")
    #expect(error["event"] as? String == "error")
    #expect(error["exit_code"] as? Int == 2)
    #expect((error["message"] as? String)?.contains("no plan 'nothing-stored'") == true)

    let marks = box.root.appendingPathComponent("marks")
    let holder = try box.start(
      ["debug-lock", "--marks", marks.path, "--name", "holder", "--lines", "2"],
      log: box.root.appendingPathComponent("debug-lock.log"))
    defer {
      if let handle = try? FileHandle(forWritingTo: marks) {
        handle.seekToEndOfFile()
        handle.write(Data("done\n".utf8))
        try? handle.close()
      }
      holder.waitUntilExit()
    }
    #expect(eventually("the condition") { (box.read("marks", in: box.root) ?? "").contains("in holder") })
    let locked = box.orchestrate("run", "demo", "--json")
    #expect(locked.status == 3)
    let event = try #require(
      try JSONSerialization.jsonObject(with: Data(locked.stdout.utf8)) as? [String: Any], "\(locked.stdout)")
    #expect(event["event"] as? String == "error")
    #expect(event["exit_code"] as? Int == 3)
    #expect((event["message"] as? String)?.contains("pid \(holder.processIdentifier)") == true)
  }

  // MARK: - Terminal progress

  @Test("the run prints [n/N · % · ETA] at each sub-task's start and end, and no counter off a terminal")
  func progressLines() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml", Self.threeSteps.replacingOccurrences(of: "echo broken > two.txt", with: "echo fixed > two.txt"))
    let run = box.orchestrate("run", "plan.yml")
    #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    #expect(run.stdout.contains("Starting sub-task 1/3: First step [0/3 · 0% · ETA unknown]"), "\(run.stdout)")
    #expect(run.stdout.contains("Starting sub-task 2/3: Second step [1/3 · 33% · ETA ~"), "\(run.stdout)")
    #expect(run.stdout.contains("✅ Sub-task three complete (1 attempt, "), "\(run.stdout)")
    #expect(run.stdout.contains("[3/3 · 100% · done]"), "\(run.stdout)")
    #expect(!run.stdout.contains("⏱") && !run.stdout.contains("\r") && !run.stdout.contains("\u{1B}"))
    #expect(run.stdout.contains("Plan demo: 3 sub-tasks, 0 completed"))
    #expect(run.stdout.contains("Current: none (all sub-tasks completed)"), "\(run.stdout)")
  }

  @Test(
    "on a terminal an elapsed counter runs while a step works, is erased before other output, and needs no escape codes with NO_COLOR"
  )
  func elapsedCounterOnTerminal() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
    let box = try TemporaryRepository()
    let go = box.root.appendingPathComponent("go")
    try box.write(
      "plan.yml",
      """
      id: demo
      description: tty
      subtasks:
        - id: one
          description: First
          run: ["while [ ! -f '\(go.path)' ]; do sleep 0.05; done; echo 1 > one.txt"]
          checkpoint: { commands: ["test -f one.txt"] }
      """)
    let typescript = box.root.appendingPathComponent("typescript")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    process.arguments = ["-qfec", "\(orchestrateBinary.path) run plan.yml", typescript.path]
    process.currentDirectoryURL = box.url
    process.environment = box.environment
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    defer {
      FileManager.default.createFile(atPath: go.path, contents: nil)
      process.waitUntilExit()
    }
    #expect(eventually("the condition", within: 30) { (box.read("typescript", in: box.root) ?? "").contains("⏱ step") })
    FileManager.default.createFile(atPath: go.path, contents: nil)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let text = box.read("typescript", in: box.root) ?? ""
    #expect(text.contains("✅ Sub-task one complete"), "\(text)")
    #expect(!text.contains("\u{1B}"), "\(text)")
    // Erased in place before the next line: the counter never ends a line of its own.
    for line in text.components(separatedBy: "\n") where line.contains("⏱") {
      let shown = line.components(separatedBy: "\r").last ?? ""
      #expect(!shown.contains("⏱"), "\(line)")
    }
  }

  // MARK: - Completion, usage

  @Test("the bash completion script defines _git_orchestrate and completes stored plan and sub-task ids")
  func completion() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", "\(Self.threeSteps)")
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    let script = box.orchestrate("--generate-completion-script", "bash")
    #expect(script.status == 0)
    #expect(script.stdout.contains("_git_orchestrate()"))
    #expect(script.stdout.contains("_git-orchestrate()"))
    // The same function as completions/git-wrapper.bash, the file packagers may use on its own.
    var root = URL(fileURLWithPath: #filePath)
    while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
      root.deleteLastPathComponent()
    }
    let wrapper = try String(contentsOf: root.appendingPathComponent("completions/git-wrapper.bash"), encoding: .utf8)
    #expect(script.stdout.contains(wrapper.trimmingCharacters(in: .newlines)))
    try box.write("completion.bash", "\(script.stdout)")
    func complete(_ line: String) -> [String] {
      let words = line.split(separator: " ", omittingEmptySubsequences: false).map { "'\($0)'" }.joined(separator: " ")
      let program = """
        source completion.bash
        COMP_WORDS=(\(words)); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}
        _git_orchestrate
        printf '%s\\n' "${COMPREPLY[@]}"
        """
      let out = box.run("/bin/bash", ["-c", program], in: box.url)
      return out.stdout.split(separator: "\n").map(String.init).sorted()
    }
    #expect(complete("git orchestrate status ") == ["demo"])
    #expect(complete("git orchestrate show t") == ["three", "two"])
    #expect(complete("git orchestrate clean d") == ["demo"])
  }

  @Test("usage says git orchestrate; run --help lists the script preset")
  func usage() throws {
    let box = try TemporaryRepository()
    let help = box.orchestrate("run", "--help")
    #expect(help.stdout.contains("USAGE: git orchestrate run"), "\(help.stdout)")
    #expect(help.stdout.contains("script"), "\(help.stdout)")
    let bad = box.orchestrate("run", "--max-attempts", "0")
    #expect(bad.stderr.contains("git orchestrate run"), "\(bad.stderr)")
    #expect(!bad.stderr.contains("git-orchestrate run"), "\(bad.stderr)")
  }

  @Test("verify --cached in a fresh clone with nothing fetched says why nothing was verified")
  func verifyFreshClone() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml", Self.threeSteps.replacingOccurrences(of: "echo broken > two.txt", with: "echo fixed > two.txt"))
    #expect(box.orchestrate("run", "plan.yml").status == 0)
    let clone = box.root.appendingPathComponent("clone")
    try box.git("clone", "-q", box.url.path, clone.path, in: box.root)
    let verify = box.run(orchestrateBinary.path, ["verify", "--cached"], in: clone)
    #expect(verify.stdout.contains("run 'git orchestrate fetch'"), "\(verify.stdout)\n\(verify.stderr)")
  }

  @Test("plan validate keeps unknown-key warnings beside errors, with a suggestion")
  func validateWarnings() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml",
      """
      id: demo
      description: typo
      subtasks:
        - id: one
          description: First
          run: ["true"]
          checkpont: { commands: ["true"] }
      """)
    let validate = box.orchestrate("plan", "validate", "plan.yml")
    #expect(validate.status == 2)
    #expect(validate.stderr.contains("checkpoint"), "\(validate.stderr)")
    #expect(
      validate.stderr.contains("unknown key 'checkpont' (ignored); did you mean 'checkpoint'?"), "\(validate.stderr)")
  }

  @Test("log columns align when an id is long")
  func logColumns() throws {
    let box = try TemporaryRepository()
    let long = "a-rather-long-sub-task-identifier"
    try box.write("plan.yml", Self.threeSteps.replacingOccurrences(of: "id: three", with: "id: \(long)"))
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    let lines = box.orchestrate("log", "demo").stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == 3)
    let columns = lines.map { $0.range(of: "pending")?.lowerBound.utf16Offset(in: $0) }
    #expect(Set(columns.compactMap { $0 }).count == 1, "\(lines)")
  }
}
