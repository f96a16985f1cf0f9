import Foundation
import TestSupport
import Testing

/// `git orchestrate run --jobs N` (issue 16) through the built binary, with script steps as agents.
///
/// Concurrency is shown by marks the steps leave in a folder outside the repository, never by
/// timing: a step that must see other sub-tasks under way waits (boundedly) for their marks, so a
/// run that did not work on them at once fails instead of passing slowly.
@Suite("parallel run", .serialized)
struct ParallelRunTests {
  /// Shell text that waits until every file in `names` exists in `marks`; after 60 s it says so and
  /// fails the step (and with it the attempt).
  static func waitFor(_ names: [String], in marks: URL) -> String {
    let all = names.map { "[ -f '\(marks.appendingPathComponent($0).path)' ]" }.joined(separator: " && ")
    return
      "i=0; until \(all); do i=$((i+1)); if [ $i -gt 1200 ]; then echo 'timed out waiting for \(names.joined(separator: ", "))'; exit 1; fi; sleep 0.05; done"
  }

  /// Independent sub-tasks, one per id, each of whose steps marks its start, waits until every one
  /// has started (so they all run at once), writes `<id>.txt` and then runs `after`; `checkpoint` per id.
  static func together(
    _ ids: [String], in marks: URL, after: (String) -> String = { _ in "true" }, checkpoint: (String) -> String
  ) -> [TestPlan.Subtask] {
    ids.map { id in
      .init(
        id: id, description: "Make \(id)",
        run: [
          mark("started-\(id)", in: marks) + "; " + waitFor(ids.map { "started-\($0)" }, in: marks)
            + "; echo \(id) > \(id).txt; " + after(id)
        ],
        checkpoint: [checkpoint(id)], dependencies: [])
    }
  }

  /// Shell text that leaves the mark `name` in `marks`.
  static func mark(_ name: String, in marks: URL) -> String { "touch '\(marks.appendingPathComponent(name).path)'" }

  /// A repository whose steps and checkpoints may write the marks folder (`root/marks`): the sandbox
  /// would refuse writes outside the work folder.
  static func repository(files: [String: String] = ["README.md": "# p\n"]) throws -> (TemporaryRepository, URL) {
    let box = try TemporaryRepository(files: files)
    try box.git("config", "orchestrate.sandbox", "off")
    let marks = box.root.appendingPathComponent("marks")
    try FileManager.default.createDirectory(at: marks, withIntermediateDirectories: true)
    return (box, marks)
  }

  /// The JSON-lines events a `run --json` printed.
  static func events(_ output: CommandOutput) throws -> [[String: Any]] {
    try output.stdout.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "\($0)")
    }
  }

  /// Each sub-task's state in `status --json`, by id.
  static func states(_ box: TemporaryRepository, plan: String) throws -> [String: String] {
    let status = box.orchestrate("status", plan, "--json")
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any], "\(status.stderr)")
    let details = json["subtask_details"] as? [[String: Any]] ?? []
    return Dictionary(uniqueKeysWithValues: details.map { ($0["id"] as! String, $0["state"] as! String) })
  }

  /// The commit on main that completes `subtask` of `plan`.
  static func completion(_ box: TemporaryRepository, plan: String, _ subtask: String) throws -> String {
    let lines = try box.git(
      "log", "--first-parent", "--format=%H %(trailers:key=Orchestrate-Subtask,valueonly,separator=)", "main"
    ).split(separator: "\n")
    let line = try #require(
      lines.first { $0.hasSuffix(" \(subtask)") && $0.contains("/") }, "\(subtask) is not on main")
    return String(line.prefix { $0 != " " })
  }

  // MARK: - Concurrency and dependencies

  @Test(
    "--jobs 3 with three independent sub-tasks: each one's step sees the other two started before it ends; all land")
  func independentSubtasksRunAtOnce() throws {
    let (box, marks) = try Self.repository()
    let ids = ["a", "b", "c"]
    let plan = TestPlan(
      id: "trio", maxAttempts: 1,
      subtasks: Self.together(ids, in: marks, after: { Self.mark("ended-\($0)", in: marks) }) { "test -f \($0).txt" })
    try box.write("plan.yml", plan.yaml)
    let base = try box.git("rev-parse", "main")
    let run = box.orchestrate("run", "--jobs", "3", "plan.yml")
    #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    for id in ids { #expect(box.exists("ended-\(id)", in: marks), "\(id) did not finish its step") }
    // Each sub-task landed once, one commit each, in whatever order they passed.
    #expect(try Set(box.landedSubtasks(since: base)) == ["1/3 a", "2/3 b", "3/3 c"])
    #expect(try box.git("rev-list", "--count", "--first-parent", "\(base)..main") == "3")
    for id in ids { #expect(try box.git("show", "main:\(id).txt") == id) }
    // Three job slots: the plan's work folder and two beside it.
    for folder in ["trio", "trio~2", "trio~3"] {
      #expect(box.exists(folder, in: box.workdirRoot), "no work folder \(folder)")
    }
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
    // The slots' worktrees are valid to git (it reads worktrees/<name>/HEAD as a ref).
    let fsck = box.run("/usr/bin/env", ["git", "fsck", "--strict", "--no-dangling"])
    #expect(fsck.status == 0, "\(fsck.stdout)\n\(fsck.stderr)")
    #expect(try box.git("worktree", "list", "--porcelain").components(separatedBy: "worktree ").count - 1 == 4)
    // clean removes every slot's work folder.
    let clean = box.orchestrate("clean", "trio")
    #expect(clean.status == 0, "\(clean.stdout)\n\(clean.stderr)")
    #expect(clean.stdout.contains("removed 3 work folders"), "\(clean.stdout)")
    #expect(try box.git("worktree", "list", "--porcelain").components(separatedBy: "worktree ").count - 1 == 1)
    #expect(try box.git("worktree", "prune", "-n", "-v") == "")
  }

  @Test(
    "a dependent sub-task starts only once its dependency is on main; a sub-task without dependencies waits for the one before it"
  )
  func dependentStartsAfterDependencyLands() throws {
    let (box, marks) = try Self.repository()
    let repo = box.url.path
    let plan = TestPlan(
      id: "deps", maxAttempts: 1,
      subtasks: [
        .init(id: "a", run: ["echo a > a.txt"], checkpoint: ["test -f a.txt"], dependencies: []),
        // b runs beside c: it ends only once c has started, so it cannot be on main when c starts.
        .init(
          id: "b", run: [Self.waitFor(["started-c"], in: marks) + "; echo b > b.txt"], checkpoint: ["test -f b.txt"],
          dependencies: []),
        .init(
          id: "c",
          run: [
            "git -C '\(repo)' rev-parse main > '\(marks.path)/main-at-c'; test -f a.txt && "
              + Self.mark("c-saw-a", in: marks) + "; " + Self.mark("started-c", in: marks) + "; echo c > c.txt"
          ],
          checkpoint: ["test -f c.txt"], dependencies: ["a"]),
        // No dependencies key: it depends on c, the sub-task before it.
        .init(
          id: "d", run: ["git -C '\(repo)' rev-parse main > '\(marks.path)/main-at-d'; echo d > d.txt"],
          checkpoint: ["test -f c.txt && test -f d.txt"]),
      ])
    try box.write("plan.yml", plan.yaml)
    let run = box.orchestrate("run", "--jobs", "3", "plan.yml")
    #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    let a = try Self.completion(box, plan: "deps", "a")
    let b = try Self.completion(box, plan: "deps", "b")
    let c = try Self.completion(box, plan: "deps", "c")
    let mainAtC = try #require(box.read("main-at-c", in: marks)).trimmed
    let mainAtD = try #require(box.read("main-at-d", in: marks)).trimmed
    let isAncestor = { (ancestor: String, of: String) -> Bool in
      box.run("/usr/bin/env", ["git", "merge-base", "--is-ancestor", ancestor, of]).status == 0
    }
    // c started on a main that held a, and its work folder had a's file.
    #expect(isAncestor(a, mainAtC), "c started before a was on main")
    #expect(box.exists("c-saw-a", in: marks), "c's work folder did not hold a.txt")
    // b was still under way when c started (c did not wait for b, which it does not depend on).
    #expect(!isAncestor(b, mainAtC), "b was on main before c started")
    // d, without a dependencies key, started only once c, the one before it, was on main.
    #expect(isAncestor(c, mainAtD), "d started before c was on main")
    #expect(try Set(box.landedSubtasks(since: "main~4")) == ["1/4 a", "2/4 b", "3/4 c", "4/4 d"])
  }

  // MARK: - Landing one at a time

  @Test(
    "two independent sub-tasks edit the same line: both land, one commit each; the second is redone on the new main and validated there"
  )
  func conflictingSubtasksBothLand() throws {
    let (box, marks) = try Self.repository(files: ["README.md": "# p\n", "f.txt": "line1\nshared\nline3\n"])
    let base = try box.git("rev-parse", "main")
    let repo = box.url.path
    let plan = TestPlan(
      id: "clash", maxAttempts: 3,
      subtasks: [
        .init(
          id: "x", description: "X edits the shared line",
          run: ["sed -i 's/^shared.*/shared x/' f.txt && echo x > x.txt"],
          checkpoint: ["grep -qx 'shared x' f.txt"], dependencies: []),
        // y's first attempt ends only once x is on main, so it is always the one that conflicts.
        .init(
          id: "y", description: "Y edits the shared line",
          run: [
            "i=0; while [ \"$(git -C '\(repo)' rev-parse main)\" = \(base) ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05; done",
            "sed -i 's/^shared.*/shared y/' f.txt",
          ],
          checkpoint: [
            "grep -qx 'shared y' f.txt && ! grep -qE '^(<<<<<<<|=======|>>>>>>>)' f.txt && ls | sort | tr '\\n' ' ' >> '\(marks.path)/y-checks' && echo >> '\(marks.path)/y-checks'"
          ], dependencies: []),
      ])
    try box.write("plan.yml", plan.yaml)
    let run = box.orchestrate("run", "--jobs", "2", "plan.yml")
    #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")

    // One commit per sub-task on main's first-parent history, each with the usual trailers.
    #expect(try box.mainSubjects() == ["Y edits the shared line", "X edits the shared line", "initial"])
    #expect(try box.git("rev-parse", "main~2") == base)
    #expect(try box.git("rev-list", "--count", "\(base)..main") == "2", "main holds more than the two landings")
    let x = try box.trailers("main~1")
    #expect(x["Orchestrate-Plan"] == "clash")
    #expect(x["Orchestrate-Subtask"] == "1/2 x")
    #expect(x["Orchestrate-Attempts"] == "1")
    let y = try box.trailers("main")
    #expect(y["Orchestrate-Plan"] == "clash")
    #expect(y["Orchestrate-Subtask"] == "2/2 y")
    #expect(y["Orchestrate-Attempts"] == "2")
    #expect(y["Orchestrate-Checkpoint"]?.hasPrefix("passed (1 command, ") == true, "\(y)")
    // The last writer's line, no conflict markers, and x's other change kept.
    #expect(try box.git("show", "main:f.txt") == "line1\nshared y\nline3")
    #expect(try box.git("show", "main:x.txt") == "x")

    // y's first attempt is kept, failed by the replay's conflict on f.txt.
    let attempts = try box.git("log", "--format=%B", "refs/orchestrate/attempts/clash/02-y")
    #expect(attempts.contains("attempt 1 of y"), "\(attempts)")
    #expect(attempts.contains("Orchestrate-Result: failed (conflicts with the new main)"), "\(attempts)")
    #expect(attempts.contains("replay onto main"), "\(attempts)")
    // y's checkpoint ran twice: on its own tree, then on the tree that landed (with x.txt).
    let checks = (box.read("y-checks", in: marks) ?? "").split(separator: "\n").map { String($0).trimmed }
    #expect(checks == ["README.md f.txt", "README.md f.txt x.txt"], "\(checks)")
    // Every landing commit's exact tree has a recorded pass, and passes again.
    let cached = box.orchestrate("verify", "--cached")
    #expect(cached.status == 0, "\(cached.stdout)\n\(cached.stderr)")
    let verify = box.orchestrate("verify")
    #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
    #expect(box.read("f.txt") == "line1\nshared y\nline3\n")
  }

  @Test(
    "a sub-task failing after its budget stops only its dependents: the independent one lands, exit 1, the stuck one named with branch and work folder"
  )
  func failureBlocksOnlyDependents() throws {
    let (box, marks) = try Self.repository()
    let plan = TestPlan(
      id: "blk", maxAttempts: 1,
      subtasks: [
        .init(id: "a", run: ["echo a > a.txt"], checkpoint: ["echo a is broken; false"], dependencies: []),
        // No dependencies key: b depends on a.
        .init(id: "b", run: [Self.mark("b-ran", in: marks) + "; echo b > b.txt"], checkpoint: ["test -f b.txt"]),
        .init(id: "c", run: ["echo c > c.txt"], checkpoint: ["test -f c.txt"], dependencies: []),
      ])
    try box.write("plan.yml", plan.yaml)
    let base = try box.git("rev-parse", "main")
    let run = box.orchestrate("run", "--jobs", "3", "--json", "plan.yml")
    #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
    #expect(try box.landedSubtasks(since: base) == ["3/3 c"])
    #expect(!box.exists("b-ran", in: marks), "b ran although a is not on main")
    #expect((try? box.git("rev-parse", "--verify", "-q", "refs/heads/orchestrate/blk/02-b")) == nil)

    let events = try Self.events(run)
    #expect(!events.contains { $0["event"] as? String == "subtask_started" && $0["id"] as? String == "b" })
    let failed = events.filter { $0["event"] as? String == "subtask_failed" }
    #expect(failed.count == 1, "\(failed)")
    let stuck = try #require(failed.first)
    #expect(stuck["id"] as? String == "a")
    #expect(stuck["subtask"] as? String == "a")
    #expect(stuck["branch"] as? String == "orchestrate/blk/01-a")
    let workdir = try #require(stuck["workdir"] as? String)
    #expect(workdir.hasPrefix(box.workdirRoot.path + "/blk"), "\(workdir)")
    // The work folder it names holds a's work, on a's branch.
    #expect(box.read("a.txt", in: URL(fileURLWithPath: workdir)) == "a\n")
    #expect(
      try box.git("rev-parse", "--abbrev-ref", "HEAD", in: URL(fileURLWithPath: workdir)) == "orchestrate/blk/01-a")
    #expect(try box.git("log", "-1", "--format=%B", "orchestrate/blk/01-a").contains("a is broken"))
    #expect(try Self.states(box, plan: "blk") == ["a": "failed", "b": "pending", "c": "completed"])
    #expect(!box.isLocked)

    // Resumed on a terminal: a is still stuck and named, b still never starts, c is not redone.
    let again = box.orchestrate("run", "--jobs", "3", "blk")
    #expect(again.status == 1, "\(again.stdout)\n\(again.stderr)")
    #expect(again.stdout.contains("CHECKPOINT STILL FAILING"), "\(again.stdout)")
    #expect(again.stdout.contains("Branch: orchestrate/blk/01-a"), "\(again.stdout)")
    #expect(again.stdout.contains("Working directory: \(workdir)"), "\(again.stdout)")
    #expect(!box.exists("b-ran", in: marks))
    #expect(try box.landedSubtasks(since: base) == ["3/3 c"])
  }

  // MARK: - What a parallel run reports

  @Test(
    "four sub-tasks that pass at once land through the queue: each after the first is replayed onto main and checked there once"
  )
  func landingQueueReplaysOnce() throws {
    let (box, marks) = try Self.repository()
    let ids = ["a", "b", "c", "d"]
    // The steps end together (each waits for all four to start); each check takes a while and counts
    // its runs, so without a queue a landing during another's check on main makes it replay again.
    let plan = TestPlan(
      id: "queue", maxAttempts: 1,
      subtasks: Self.together(ids, in: marks) {
        "test -f \($0).txt && echo run >> '\(marks.path)/checks-\($0)' && sleep 0.3"
      })
    try box.write("plan.yml", plan.yaml)
    let base = try box.git("rev-parse", "main")
    let run = box.orchestrate("run", "--jobs", "4", "--json", "plan.yml")
    #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    #expect(try Set(box.landedSubtasks(since: base)).count == 4)
    let replays = try Self.events(run).filter { $0["event"] as? String == "main_moved" }.map {
      $0["subtask"] as? String ?? "?"
    }
    #expect(replays.count == 3 && Set(replays).count == 3, "replays: \(replays)")
    let checks = ids.map { box.read("checks-\($0)", in: marks)?.split(separator: "\n").count ?? 0 }
    #expect(
      checks.reduce(0, +) == 7 && checks.allSatisfy { (1...2).contains($0) }, "checkpoint runs per sub-task: \(checks)")
  }

  @Test(
    "--json from a parallel run: every event but run_started/run_finished names its sub-task, output by the sub-task that printed it; agent_started carries the attempt"
  )
  func jsonEventsTagged() throws {
    let (box, marks) = try Self.repository()
    let plan = TestPlan(
      id: "tags", maxAttempts: 2,
      subtasks: [
        .init(
          id: "a", run: ["echo out-a; echo a > a.txt"], checkpoint: ["echo check-a; test -f a.txt"], dependencies: []),
        // b fails its first attempt (its step counts its runs in the marks folder), so a second
        // attempt's events are tagged too.
        .init(
          id: "b",
          run: [
            "echo out-b; n=$(($(cat '\(marks.path)/b-runs' 2>/dev/null || echo 0) + 1)); echo $n > '\(marks.path)/b-runs'; echo $n > b.txt"
          ],
          checkpoint: ["echo check-b; grep -qx 2 b.txt"], dependencies: []),
        .init(id: "c", run: ["echo out-c; echo c > c.txt"], checkpoint: ["echo check-c; test -f c.txt"]),
      ])
    try box.write("plan.yml", plan.yaml)
    let run = box.orchestrate("run", "--jobs", "2", "--json", "plan.yml")
    #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    let events = try Self.events(run)
    #expect(events.first?["event"] as? String == "run_started")
    #expect(events.last?["event"] as? String == "run_finished")
    for event in events {
      let name = event["event"] as? String ?? ""
      #expect(event["plan"] as? String == "tags", "\(event)")
      if name == "run_started" || name == "run_finished" { continue }
      let subtask = event["subtask"] as? String
      #expect(["a", "b", "c"].contains(subtask ?? ""), "an event without its sub-task: \(event)")
      if let id = event["id"] as? String { #expect(id == subtask, "\(event)") }
      if let text = event["text"] as? String, text.hasPrefix("out-") || text.hasPrefix("check-") {
        #expect(text.hasSuffix("-" + (subtask ?? "?")), "output tagged with another sub-task: \(event)")
      }
      if let branch = event["branch"] as? String, let subtask {
        #expect(branch.hasSuffix("-" + subtask), "\(event)")
      }
      if name == "agent_started" { #expect(event["attempt"] is Int, "\(event)") }
    }
    let agents = events.filter { $0["event"] as? String == "agent_started" }
    #expect(agents.map { "\($0["subtask"] ?? "")#\($0["attempt"] ?? "")" }.sorted() == ["a#1", "b#1", "b#2", "c#1"])
    let outputs = events.filter { $0["event"] as? String == "output" }.compactMap { $0["text"] as? String }
    #expect(Set(outputs).isSuperset(of: ["out-a", "out-b", "out-c", "check-a", "check-b", "check-c"]), "\(outputs)")
    // The two ran at once: b's first events come before a's last.
    let firstOfB = try #require(events.firstIndex { $0["subtask"] as? String == "b" })
    let lastOfA = try #require(events.lastIndex { $0["subtask"] as? String == "a" })
    #expect(firstOfB < lastOfA)
  }

  @Test(
    "status --json during a parallel run: the sub-tasks under way are in_progress, one waiting for a free job is not (its branch from before notwithstanding)"
  )
  func statusShowsRunningSubtasks() throws {
    let (box, marks) = try Self.repository()
    let subtask = { (id: String) in
      TestPlan.Subtask(
        id: id,
        run: [
          Self.mark("started-\(id)", in: marks) + "; " + Self.waitFor(["go-\(id)"], in: marks)
            + "; echo \(id) > \(id).txt"
        ],
        checkpoint: ["test -f \(id).txt"], dependencies: [])
    }
    try box.write("plan.yml", TestPlan(id: "live", maxAttempts: 1, subtasks: ["a", "b", "c"].map(subtask)).yaml)
    // c's branch is there from before (as an interrupted run leaves it): only the lock's list of
    // running sub-tasks says c is not under way.
    try box.git("branch", "orchestrate/live/03-c", "main")
    let log = box.root.appendingPathComponent("run.log")
    let process = try box.start(["run", "--jobs", "2", "plan.yml"], log: log)
    defer {
      for id in ["a", "b", "c"] {
        FileManager.default.createFile(atPath: marks.appendingPathComponent("go-\(id)").path, contents: nil)
      }
      process.waitUntilExit()
    }
    let text = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    // Two jobs: a and b start, c waits for a free one.
    try #require(
      eventually("a and b to start") { box.exists("started-a", in: marks) && box.exists("started-b", in: marks) })
    #expect(try Self.states(box, plan: "live") == ["a": "in_progress", "b": "in_progress", "c": "interrupted"])
    #expect(!box.exists("started-c", in: marks))

    // a lands; its job goes to c.
    FileManager.default.createFile(atPath: marks.appendingPathComponent("go-a").path, contents: nil)
    try #require(eventually("c to start") { box.exists("started-c", in: marks) }, "\(text())")
    #expect(try Self.states(box, plan: "live") == ["a": "completed", "b": "in_progress", "c": "in_progress"])

    for id in ["b", "c"] {
      FileManager.default.createFile(atPath: marks.appendingPathComponent("go-\(id)").path, contents: nil)
    }
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(text())")
    #expect(try Self.states(box, plan: "live") == ["a": "completed", "b": "completed", "c": "completed"])
  }

  // MARK: - Settings and plan validation

  @Test("the plan's dependencies as stored: no key depends on the sub-task before, [] on none")
  func storedDependencies() throws {
    let box = try TemporaryRepository()
    let plan = TestPlan(
      id: "stored",
      subtasks: [
        .init(id: "a", run: ["true"], checkpoint: ["true"]),
        .init(id: "b", run: ["true"], checkpoint: ["true"]),
        .init(id: "c", run: ["true"], checkpoint: ["true"], dependencies: []),
        .init(id: "d", run: ["true"], checkpoint: ["true"], dependencies: ["a", "c"]),
        .init(id: "e", run: ["true"], checkpoint: ["true"]),
      ])
    try box.write("plan.yml", plan.yaml)
    // Before it is stored, `plan show FILE` gives its waves (and stores nothing).
    let before = box.orchestrate("plan", "show", "plan.yml")
    #expect(before.status == 0, "\(before.stderr)")
    #expect(before.stdout.contains("not stored yet"), "\(before.stdout)")
    #expect(before.stdout.contains("  1. a, c\n") && before.stdout.contains("  2. b, d\n"), "\(before.stdout)")
    #expect(try box.git("for-each-ref", "refs/orchestrate/plans/") == "")
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    let show = box.orchestrate("plan", "show", "stored", "--json")
    #expect(show.status == 0, "\(show.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
    let subtasks = try #require(json["subtasks"] as? [[String: Any]])
    let dependencies = Dictionary(
      uniqueKeysWithValues: subtasks.map { ($0["id"] as! String, $0["dependencies"] as? [String] ?? ["?"]) })
    #expect(dependencies == ["a": [], "b": ["a"], "c": [], "d": ["a", "c"], "e": ["d"]])
    #expect(json["execution_strategy"] == nil)
  }

  @Test(
    "jobs: execution_strategy parallel with jobs 3 when no flag; git config orchestrate.jobs over the plan; --jobs over both"
  )
  func jobsPrecedence() throws {
    let box = try TemporaryRepository()
    // Four independent sub-tasks: as many start at once as there are jobs, each in its own folder.
    let plan = { (id: String) in
      TestPlan(
        id: id, executionStrategy: "parallel", jobs: 3,
        subtasks: ["a", "b", "c", "d"].map { .makes("\($0).txt", id: $0).withDependencies([]) })
    }
    let folders = { (id: String) in
      Set(
        ((try? FileManager.default.contentsOfDirectory(atPath: box.workdirRoot.path)) ?? []).filter {
          $0 == id || $0.hasPrefix(id + "~")
        })
    }
    for (id, arguments, config) in [
      ("fromplan", [String](), nil as String?), ("fromconfig", [], "2"), ("fromflag", ["--jobs", "2"], "3"),
    ] {
      try box.write("\(id).yml", plan(id).yaml)
      if let config { try box.git("config", "orchestrate.jobs", config) }
      let run = box.orchestrate(["run", "\(id).yml"] + arguments)
      #expect(run.status == 0, "\(id): \(run.stdout)\n\(run.stderr)")
      let expected: Set<String> = id == "fromplan" ? [id, id + "~2", id + "~3"] : [id, id + "~2"]
      #expect(folders(id) == expected, "\(id)")
    }
    // And a plan that says parallel but the flag says 1: the sequential run, one work folder.
    try box.write("one.yml", plan("one").yaml)
    #expect(box.orchestrate("run", "--jobs", "1", "one.yml").status == 0)
    #expect(folders("one") == ["one"])
  }

  @Test(
    "bad jobs settings: jobs 0, an unknown execution_strategy, --jobs 0 and orchestrate.jobs 0 are refused with exit 2, saying what to fix"
  )
  func badJobsSettings() throws {
    let box = try TemporaryRepository()
    let good = TestPlan(id: "bad", executionStrategy: "parallel", jobs: 3, subtasks: [.makes("a.txt", id: "a")])
    let refs = try box.git("for-each-ref")
    for (name, text, expected) in [
      ("zero", good.yaml.replacingOccurrences(of: "jobs: 3", with: "jobs: 0"), "jobs: must be between 1 and 64, got 0"),
      (
        "words", good.yaml.replacingOccurrences(of: "jobs: 3", with: "jobs: many"),
        "jobs: expected a whole number between 1 and 64"
      ),
      (
        "fast", good.yaml.replacingOccurrences(of: "\"parallel\"", with: "\"fast\""),
        "unknown strategy 'fast'; use sequential or parallel"
      ),
    ] {
      try box.write("\(name).yml", text)
      for command in [["plan", "validate"], ["run"]] {
        let out = box.orchestrate(command + ["\(name).yml"])
        #expect(out.status == 2, "\(name) \(command): \(out.stdout)\n\(out.stderr)")
        #expect(out.stderr.hasPrefix("git orchestrate: invalid plan \(name).yml"), "\(out.stderr)")
        #expect(out.stderr.contains(expected), "\(name): \(out.stderr)")
      }
    }
    #expect(try box.git("for-each-ref") == refs, "a refused plan changed refs")
    try box.write("good.yml", good.yaml)
    #expect(box.orchestrate("plan", "add", "good.yml").status == 0)
    let stored = try box.git("for-each-ref")
    for jobs in ["0", "65"] {
      let out = box.orchestrate("run", "--jobs", jobs, "bad")
      #expect(out.status == 2, "--jobs \(jobs): \(out.stdout)\n\(out.stderr)")
      #expect(out.stderr.contains("--jobs must be between 1 and 64"), "\(out.stderr)")
    }
    for value in ["0", "lots"] {
      try box.git("config", "orchestrate.jobs", value)
      let out = box.orchestrate("run", "bad")
      #expect(out.status == 2, "orchestrate.jobs \(value): \(out.stdout)\n\(out.stderr)")
      #expect(out.stderr.contains("git config orchestrate.jobs"), "orchestrate.jobs \(value): \(out.stderr)")
      #expect(!out.stderr.contains("--jobs"), "names the flag for a configuration value: \(out.stderr)")
    }
    try box.git("config", "--unset", "orchestrate.jobs")
    #expect(try box.git("for-each-ref") == stored, "a refused run changed refs")
    #expect(!FileManager.default.fileExists(atPath: box.workdirRoot.path))
  }
}

extension TestPlan.Subtask {
  /// The same sub-task with a `dependencies` key.
  fileprivate func withDependencies(_ dependencies: [String]) -> TestPlan.Subtask {
    var copy = self
    copy.dependencies = dependencies
    return copy
  }
}
