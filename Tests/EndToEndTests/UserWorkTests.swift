import Foundation
import TestSupport
import Testing

/// The user edits, commits and switches branches while a run goes on: nothing of theirs is lost or
/// misplaced, and no landed sub-task is reverted by their next ordinary commit. Agents are scripts
/// that wait for a signal file, so every step happens at an exact point of the run.
@Suite("the user's work during a run", .serialized)
struct UserWorkTests {
  /// A two-sub-task plan whose second step announces itself in `marks/started-two` and then waits
  /// for `marks/go` before it writes its file.
  static func waitingPlan(id: String, marks: URL) -> String {
    """
    id: \(id)
    subtasks:
      - id: one
        run: ["echo 1 > one.txt"]
        checkpoint: { commands: ["test -f one.txt"] }
      - id: two
        run: ["touch \(marks.path)/started-two; while [ ! -f \(marks.path)/go ]; do sleep 0.02; done; echo 2 > two.txt"]
        checkpoint: { commands: ["test -f two.txt"] }
    """
  }

  static func marks(in box: TemporaryRepository) throws -> URL {
    let marks = box.root.appendingPathComponent("marks")
    try FileManager.default.createDirectory(at: marks, withIntermediateDirectories: true)
    return marks
  }

  @Test("a file whose sub-task only changes its mode keeps the user's uncommitted edit: the run refuses, naming it")
  func modeOnlyChangeKeepsEdit() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", "tool.sh": "echo tool\n"])
    let marks = try Self.marks(in: box)
    try box.write(
      "plan.yml",
      """
      id: mode
      subtasks:
        - id: exec
          run: ["touch \(marks.path)/started; while [ ! -f \(marks.path)/go ]; do sleep 0.02; done; chmod +x tool.sh"]
          checkpoint: { commands: ["test -x tool.sh"] }
      """)
    let out = box.root.appendingPathComponent("run.out")
    let run = try box.start(["run", "plan.yml"], log: out)
    #expect(eventually("the agent to start") { FileManager.default.fileExists(atPath: marks.appendingPathComponent("started").path) })
    try box.write("tool.sh", "echo my own edit\n")
    FileManager.default.createFile(atPath: marks.appendingPathComponent("go").path, contents: nil)
    run.waitUntilExit()
    let printed = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
    #expect(run.terminationStatus == 3, "\(printed)")
    #expect(printed.contains("tool.sh"), "\(printed)")
    #expect(box.read("tool.sh") == "echo my own edit\n")
    // Nothing landed over it.
    #expect(try box.git("log", "-1", "--format=%s", "main") == "initial")
  }

  @Test("a mode-only change with no edit of the user's lands and the checkout gets the mode")
  func modeOnlyChangeApplied() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", "tool.sh": "echo tool\n"])
    try box.write(
      "plan.yml",
      """
      id: mode
      subtasks:
        - id: exec
          run: ["chmod +x tool.sh"]
          checkpoint: { commands: ["test -x tool.sh"] }
      """)
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(FileManager.default.isExecutableFile(atPath: box.url.appendingPathComponent("tool.sh").path))
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
  }

  @Test("the user commits in their checkout between two sub-tasks: the landed sub-task is not reverted")
  func userCommitDuringRun() throws {
    let box = try TemporaryRepository()
    let marks = try Self.marks(in: box)
    try box.write("plan.yml", Self.waitingPlan(id: "commit", marks: marks))
    let out = box.root.appendingPathComponent("run.out")
    let run = try box.start(["run", "plan.yml"], log: out)
    #expect(eventually("the agent to start") { FileManager.default.fileExists(atPath: marks.appendingPathComponent("started-two").path) })
    // Sub-task one landed, and the checkout already shows it: nothing is staged as a deletion.
    #expect(box.read("one.txt") == "1\n")
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
    try box.write("mine.txt", "my work\n")
    try box.git("add", "mine.txt")
    try box.git("commit", "-q", "-m", "my own commit")
    FileManager.default.createFile(atPath: marks.appendingPathComponent("go").path, contents: nil)
    run.waitUntilExit()
    #expect(run.terminationStatus == 0, "\((try? String(contentsOf: out, encoding: .utf8)) ?? "")")
    let tracked = Set(try box.git("ls-tree", "-r", "--name-only", "main").split(separator: "\n").map(String.init))
    #expect(tracked.isSuperset(of: ["one.txt", "two.txt", "mine.txt"]))
    // The user's own commit kept sub-task one.
    #expect(try box.git("ls-tree", "--name-only", "main~1").contains("one.txt"))
    #expect(try box.git("log", "-1", "--format=%s", "main~1") == "my own commit")
    #expect(box.read("two.txt") == "2\n")
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
  }

  @Test("the user commits an edit of the file the sub-task changes (another line): the landing is replayed onto it, and the checkout gets both")
  func userCommitsSameFile() throws {
    let lines = (1...20).map(String.init).joined(separator: "\n") + "\n"
    let box = try TemporaryRepository(files: ["f.txt": lines])
    let marks = try Self.marks(in: box)
    try box.write(
      "plan.yml",
      """
      id: samefile
      subtasks:
        - id: edit
          description: Edit
          run: ["sed -i 's/^20$/twenty/' f.txt; touch \(marks.path)/edited; while [ ! -f \(marks.path)/go ]; do sleep 0.02; done"]
          checkpoint: { commands: ["grep -qx twenty f.txt"] }
      """)
    try box.git("add", "plan.yml")
    try box.git("commit", "-q", "-m", "plan")
    let out = box.root.appendingPathComponent("run.out")
    let run = try box.start(["run", "plan.yml"], log: out)
    #expect(eventually("the step to edit") { FileManager.default.fileExists(atPath: marks.appendingPathComponent("edited").path) })
    // The user commits line 1 of the same file in their checkout: main moves under the sub-task.
    try box.write("f.txt", lines.replacingOccurrences(of: "1\n2\n", with: "one\n2\n"))
    try box.git("commit", "-q", "-am", "my line 1")
    FileManager.default.createFile(atPath: marks.appendingPathComponent("go").path, contents: nil)
    run.waitUntilExit()
    let log = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
    #expect(run.terminationStatus == 0, "\(log)")
    #expect(!log.contains("uncommitted changes"), "\(log)")
    #expect(try box.mainSubjects().prefix(2) == ["Edit", "my line 1"])
    let merged = box.read("f.txt") ?? ""
    #expect(merged.hasPrefix("one\n2\n") && merged.hasSuffix("19\ntwenty\n"), "\(merged)")
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
  }

  @Test("the user switches to another branch during a run: that branch's files are left alone")
  func userSwitchesBranch() throws {
    let box = try TemporaryRepository()
    let marks = try Self.marks(in: box)
    try box.write("plan.yml", Self.waitingPlan(id: "switch", marks: marks))
    try box.git("add", "plan.yml")
    try box.git("commit", "-q", "-m", "plan")
    let out = box.root.appendingPathComponent("run.out")
    let run = try box.start(["run", "plan.yml"], log: out)
    #expect(eventually("the agent to start") { FileManager.default.fileExists(atPath: marks.appendingPathComponent("started-two").path) })
    try box.git("checkout", "-q", "-b", "feature", "main~1")
    FileManager.default.createFile(atPath: marks.appendingPathComponent("go").path, contents: nil)
    run.waitUntilExit()
    #expect(run.terminationStatus == 0, "\((try? String(contentsOf: out, encoding: .utf8)) ?? "")")
    #expect(try box.git("rev-parse", "--abbrev-ref", "HEAD") == "feature")
    #expect(try box.git("status", "--porcelain") == "")
    #expect(box.read("two.txt") == nil)
    #expect(box.read("one.txt") == nil)
    #expect(try box.git("ls-tree", "--name-only", "main").contains("two.txt"))
  }

  @Test("a run started from a second worktree keeps the main checkout, which has main checked out, in step")
  func runFromLinkedWorktree() throws {
    let box = try TemporaryRepository()
    let other = box.root.appendingPathComponent("other")
    try box.git("worktree", "add", "-q", "-b", "elsewhere", other.path)
    try box.write("../other/plan.yml", Self.waitingPlan(id: "linked", marks: try Self.marks(in: box)))
    FileManager.default.createFile(
      atPath: box.root.appendingPathComponent("marks/go").path, contents: nil)
    let result = box.run(orchestrateBinary.path, ["run", "plan.yml"], in: other)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(box.read("one.txt") == "1\n")
    #expect(box.read("two.txt") == "2\n")
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
    // The worktree the run started in is on another branch: left alone.
    #expect(box.read("one.txt", in: other) == nil)
  }

  @Test("main fast-forwarded by hand to a failed attempt completes nothing")
  func failedAttemptOnMainIsNotCompletion() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml",
      """
      id: ff
      subtasks:
        - id: one
          run: ["echo no > one.txt"]
          checkpoint: { commands: ["grep -q yes one.txt"] }
      """)
    let failed = box.orchestrate("run", "plan.yml", "--max-attempts", "1")
    #expect(failed.status == 1)
    try box.git("merge", "-q", "--ff-only", "orchestrate/ff/01-one")
    let status = box.orchestrate("status", "ff", "--json")
    let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    #expect(json?["completed_subtasks"] as? [String] == [])
    #expect(json?["progress_percentage"] as? Double == 0)
    let again = box.orchestrate("run", "ff", "--max-attempts", "1")
    #expect(again.status == 1, "\(again.stdout)")
  }

  @Test("the duration trailer counts each attempt once and agrees with the live line")
  func durationsCountedOnce() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", "fix.sh": "#!/bin/sh\ncat >/dev/null\necho fixed > f.txt\n"])
    chmod(box.url.appendingPathComponent("fix.sh").path, 0o755)
    try box.git("add", "-A")
    try box.git("commit", "-q", "-m", "fixer")
    try box.write(
      "plan.yml",
      """
      id: time
      fix_agent: ./fix.sh
      subtasks:
        - id: one
          run: ["echo broken > f.txt"]
          checkpoint: { commands: ["sleep 0.4; grep -q fixed f.txt"] }
      """)
    let started = Date()
    let result = box.orchestrate("run", "plan.yml")
    let wall = Date().timeIntervalSince(started)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    let trailer = try box.trailers("main")["Orchestrate-Duration"].flatMap { Double($0.split(separator: " ")[0]) }
    let seconds = try #require(trailer)
    // Two checkpoint runs of 0.4 s: at least 0.8 s, never more than the whole run took.
    #expect(seconds >= 0.8)
    #expect(seconds <= wall)
    let formatted = String(format: "%.1f s", seconds)
    #expect(result.stdout.contains("complete (2 attempts, \(formatted))"), "\(result.stdout) vs \(formatted)")
  }

  @Test("a resumed branch behind main is replayed first and validated once")
  func resumeReplaysFirst() throws {
    let box = try TemporaryRepository()
    let counter = box.root.appendingPathComponent("checks")
    try box.write(
      "plan.yml",
      """
      id: resume
      subtasks:
        - id: one
          run: ["echo wrong > one.txt"]
          checkpoint: { commands: ["echo x >> \(counter.path); grep -q right one.txt"] }
      """)
    // The checkpoint counts its runs in a file outside the work folder, which the sandbox forbids.
    try box.git("config", "orchestrate.sandbox", "off")
    #expect(box.orchestrate("run", "plan.yml", "--max-attempts", "1").status == 1)
    // A hand fix on the branch's work folder, and main moves on meanwhile.
    let workdir = try #require(
      try FileManager.default.contentsOfDirectory(atPath: box.workdirRoot.path).first.map {
        box.workdirRoot.appendingPathComponent($0)
      })
    try "right\n".write(to: workdir.appendingPathComponent("one.txt"), atomically: true, encoding: .utf8)
    try box.write("other.txt", "main moved\n")
    try box.git("add", "other.txt")
    try box.git("commit", "-q", "-m", "main moves")
    try "".write(to: counter, atomically: true, encoding: .utf8)
    let resumed = box.orchestrate("run", "resume")
    #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
    #expect(box.read("../checks") == "x\n")
    let tracked = try box.git("ls-tree", "--name-only", "main")
    #expect(tracked.contains("other.txt") && tracked.contains("one.txt"))
  }

  @Test("attempts made before main moved are counted after each replay: numbers never repeat")
  func attemptNumbersAcrossReplays() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml",
      """
      id: renumber
      subtasks:
        - id: one
          run: ["echo wrong > one.txt"]
          checkpoint: { commands: ["grep -q right one.txt"] }
      """)
    for round in 1...3 {
      let result = box.orchestrate("run", round == 1 ? "plan.yml" : "renumber", "--max-attempts", "1")
      #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
      // Main moves on between the runs: the next run replays the branch onto it first.
      try box.write("main-\(round).txt", "\(round)\n")
      try box.git("add", "main-\(round).txt")
      try box.git("commit", "-q", "-m", "main moves \(round)")
    }
    let numbers = try box.git(
      "log", "--format=%(trailers:key=Orchestrate-Attempt,valueonly)", "refs/heads/orchestrate/renumber/01-one"
    ).split(separator: "\n").map(String.init)
    // Each run records at least one attempt (a resumed run also records the replayed branch's check).
    let sorted = numbers.compactMap { Int($0) }.sorted()
    #expect(sorted.count >= 3 && sorted == Array(1...sorted.count), "\(numbers)")
    let status = box.orchestrate("status", "renumber", "--json")
    #expect(
      status.stdout.contains("\"attempts\" : \(sorted.count)") || status.stdout.contains("\"attempts\":\(sorted.count)"),
      "\(status.stdout)")
  }

  @Test("Ctrl-C while the agent works: the message names the work folder, and status says interrupted")
  func interruptSaysWhere() throws {
    let box = try TemporaryRepository()
    let marks = try Self.marks(in: box)
    try box.write(
      "plan.yml",
      """
      id: stop
      subtasks:
        - id: one
          run: ["echo half > half.txt; touch \(marks.path)/started; while [ ! -f \(marks.path)/go ]; do sleep 0.02; done"]
          checkpoint: { commands: ["true"] }
      """)
    let out = box.root.appendingPathComponent("run.out")
    let run = try box.start(["run", "plan.yml"], log: out)
    #expect(eventually("the agent to start") { FileManager.default.fileExists(atPath: marks.appendingPathComponent("started").path) })
    kill(run.processIdentifier, SIGINT)
    run.waitUntilExit()
    let printed = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
    #expect(printed.contains("uncommitted in "), "\(printed)")
    let status = box.orchestrate("status", "stop", "--json")
    let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    let details = json?["subtask_details"] as? [[String: Any]]
    #expect(details?.first?["state"] as? String == "interrupted")
    // Resuming continues from the work folder.
    FileManager.default.createFile(atPath: marks.appendingPathComponent("go").path, contents: nil)
    #expect(box.orchestrate("run", "stop").status == 0)
    #expect(box.read("half.txt") == "half\n")
  }

  @Test("a pass recorded in the notes for the agent's exact tree (planted before the run) does not land: only what the run ran counts")
  func forgedNoteIsNotTrusted() throws {
    let box = try TemporaryRepository()
    let agent = box.root.appendingPathComponent("agent.sh")
    try "#!/bin/sh\ncat > /dev/null\necho cheat > cheat.txt\n".write(to: agent, atomically: true, encoding: .utf8)
    chmod(agent.path, 0o755)
    try box.write(
      "plan.yml",
      """
      id: forge
      subtasks:
        - id: one
          checkpoint: { commands: ["test -f honest.txt"] }
      """)
    // The tree the agent will leave (main's plus cheat.txt), and a "passed" record for it under the
    // very key the tool uses (the SHA-256 of the commands as canonical JSON), dated now: as a record
    // fetched from another clone, or written by an earlier agent, would be.
    let script = """
      set -e
      blob=$(echo cheat | git hash-object -w --stdin)
      export GIT_INDEX_FILE="$PWD/.git/forge-index"
      git read-tree main
      git update-index --add --cacheinfo "100644,$blob,cheat.txt"
      tree=$(git write-tree)
      rm -f "$GIT_INDEX_FILE"
      unset GIT_INDEX_FILE
      hash=$(printf '%s' '["test -f honest.txt"]' | sha256sum | cut -d' ' -f1)
      now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
      git notes --ref=orchestrate add -f -m "{\\"commands_hash\\":\\"$hash\\",\\"duration_seconds\\":0,\\"exit_status\\":0,\\"plan\\":\\"forge\\",\\"recorded_at\\":\\"$now\\",\\"status\\":\\"passed\\",\\"subtask\\":\\"one\\",\\"tool_version\\":\\"0.1.0\\"}" "$tree"
      echo "$tree"
      """
    let planted = box.run("/bin/sh", ["-c", script])
    #expect(planted.status == 0, "\(planted.stderr)")
    let tree = planted.stdout.trimmed
    let result = box.orchestrate("run", "plan.yml", "--agent", agent.path, "--max-attempts", "1")
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    #expect(!result.stdout.contains("recorded for this exact tree"))
    #expect(try box.git("log", "-1", "--format=%s", "main") == "initial")
    #expect(box.read("cheat.txt") == nil)
    // The attempt was the tree the record names: the record was there, and was not trusted.
    #expect(try box.git("rev-parse", "orchestrate/forge/01-one^{tree}") == tree)
    #expect(try box.git("notes", "--ref=orchestrate", "show", tree).contains("\"status\":\"passed\""))
  }

  @Test("a sub-task that leaves a path git refuses is a failed attempt naming it; the fix agent removes it and the plan goes on")
  func refusedPathIsAnAttempt() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", "fix.sh": "#!/bin/sh\ncat > fix-prompt.txt\nrm -rf .Git fix-prompt.txt\necho ok > ok.txt\n"])
    chmod(box.url.appendingPathComponent("fix.sh").path, 0o755)
    try box.git("add", "-A")
    try box.git("commit", "-q", "-m", "fixer")
    try box.write(
      "plan.yml",
      """
      id: paths
      fix_agent: ./fix.sh
      subtasks:
        - id: one
          run: ["mkdir -p .Git && echo x > .Git/notes.txt"]
          checkpoint: { commands: ["true"] }
      """)
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains(".Git/notes.txt"), "\(result.stdout)")
    #expect(try box.trailers("main")["Orchestrate-Attempts"] == "2")
    let attempt = try box.git("log", "-1", "--format=%B", "refs/orchestrate/attempts/paths/01-one")
    #expect(attempt.contains(".Git/notes.txt"))
    #expect(!(try box.git("ls-tree", "-r", "--name-only", "main").contains(".Git")))
  }
}
