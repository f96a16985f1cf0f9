import Foundation
import TestSupport
import Testing

/// State that cannot lie: the lock, "started", the main branch, the history cache, the user's
/// checkout behind a symlink; through the built binary on real repositories.
@Suite("integrity", .serialized)
struct IntegrityTests {
  static let twoSteps = """
    id: demo
    description: two steps, the second fails
    max_attempts: 1
    subtasks:
      - id: one
        description: First step
        run: ["echo 1 > one.txt"]
        checkpoint: { commands: ["test -f one.txt"] }
      - id: two
        description: Second step
        run: ["echo broken > two.txt"]
        checkpoint: { commands: ["grep -q fixed two.txt"] }
    """

  /// A pid that belonged to a process that has exited.
  static func deadPID(_ box: TemporaryRepository) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try? process.run()
    process.waitUntilExit()
    return process.processIdentifier
  }

  // MARK: - a. the lock

  @Test("two processes racing over a stale lock, 50 times: never both hold it, and one recovers it")
  func lockRace() throws {
    let box = try TemporaryRepository()
    let lock = box.url.appendingPathComponent(".git/orchestrate/lock")
    try FileManager.default.createDirectory(at: lock.deletingLastPathComponent(), withIntermediateDirectories: true)
    var recovered = 0
    for round in 0..<50 {
      let stale =
        #"{"pid":\#(Self.deadPID(box)),"host":"\#(ProcessInfo.processInfo.hostName)","plan":"dead","command":"run","started":"2026-01-01T00:00:00Z"}"#
      try Data(stale.utf8).write(to: lock)
      let marks = box.root.appendingPathComponent("marks-\(round)")
      let racers = try ["a", "b"].map { name in
        let process = Process()
        process.executableURL = orchestrateBinary
        process.arguments = ["debug-lock", "--marks", marks.path, "--name", name, "--lines", "2"]
        process.currentDirectoryURL = box.url
        process.environment = box.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return process
      }
      for racer in racers { try racer.run() }
      for racer in racers { racer.waitUntilExit() }
      let lines = (box.read(marks.lastPathComponent, in: box.root) ?? "").split(separator: "\n").map(String.init)
      var holders = 0
      var most = 0
      for line in lines {
        if line.hasPrefix("in ") { holders += 1 }
        if line.hasPrefix("out ") { holders -= 1 }
        most = max(most, holders)
      }
      #expect(most == 1, "round \(round): \(lines)")
      #expect(lines.filter { $0.hasPrefix("in ") }.count == 1, "round \(round): \(lines)")
      #expect(lines.filter { $0.hasPrefix("refused ") }.count == 1, "round \(round): \(lines)")
      #expect(Set(racers.map(\.terminationStatus)) == [0, 3], "round \(round)")
      if lines.contains(where: { $0.hasSuffix(" recovered") }) { recovered += 1 }
      #expect(!FileManager.default.fileExists(atPath: lock.path), "round \(round): the lock file is left")
    }
    #expect(recovered == 50)
  }

  @Test("a live holder is refused with exit 3, naming it; status sees it")
  func liveHolderRefused() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.twoSteps)
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    let marks = box.root.appendingPathComponent("marks")
    let holder = try box.start(
      ["debug-lock", "--marks", marks.path, "--name", "holder", "--lines", "2"],
      log: box.root.appendingPathComponent("debug-lock.log"))
    #expect(eventually("the agent to start") { (box.read("marks", in: box.root) ?? "").contains("in holder") })
    let run = box.orchestrate("run", "demo")
    #expect(run.status == 3, "\(run.stdout)\n\(run.stderr)")
    #expect(run.stderr.contains("pid \(holder.processIdentifier)"), "\(run.stderr)")
    // Let the holder go: its wait ends at two lines.
    let handle = try FileHandle(forWritingTo: marks)
    handle.seekToEndOfFile()
    handle.write(Data("done\n".utf8))
    try handle.close()
    holder.waitUntilExit()
    #expect(holder.terminationStatus == 0)
  }

  // MARK: - b. plan add --replace

  @Test(
    "plan add --replace refuses a plan whose sub-task commits are on main, though its branches and work folder are gone"
  )
  func replaceStartedPlan() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.twoSteps)
    #expect(box.orchestrate("run", "plan.yml").status == 1)
    // Remove every trace but main's history: worktrees, branches, attempts refs.
    let worktrees = try box.git("worktree", "list", "--porcelain").split(separator: "\n")
      .filter { $0.hasPrefix("worktree ") }.map { String($0.dropFirst("worktree ".count)) }
      .filter { $0 != box.url.path && $0 != box.url.resolvingSymlinksInPath().path }
    for worktree in worktrees { try box.git("worktree", "remove", "--force", "--force", worktree) }
    let refs = try box.git("for-each-ref", "--format=%(refname)", "refs/heads/orchestrate", "refs/orchestrate/attempts")
    for ref in refs.split(separator: "\n") { try box.git("update-ref", "-d", String(ref)) }
    #expect(try box.git("for-each-ref", "refs/heads/orchestrate").isEmpty)

    try box.write("plan.yml", Self.twoSteps.replacingOccurrences(of: "echo 1 > one.txt", with: "echo 2 > one.txt"))
    let replace = box.orchestrate("plan", "add", "--replace", "plan.yml")
    #expect(replace.status == 2, "\(replace.stdout)\n\(replace.stderr)")
    #expect(replace.stderr.contains("already started"), "\(replace.stderr)")
    #expect(try Self.completed(box) == ["one"])
  }

  @Test("plan add --replace accepts a plan nothing of which has run")
  func replaceUnstartedPlan() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.twoSteps)
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    try box.write("plan.yml", Self.twoSteps.replacingOccurrences(of: "echo 1 > one.txt", with: "echo 2 > one.txt"))
    let replace = box.orchestrate("plan", "add", "--replace", "plan.yml")
    #expect(replace.status == 0, "\(replace.stderr)")
    #expect(replace.stdout.contains("replaced plan 'demo'"))
  }

  // MARK: - c. main_branch in the tool's namespace

  @Test(
    "main_branch inside orchestrate/ is refused by plan validate, and orchestrate.mainBranch there by every command")
  func mainBranchInNamespace() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.twoSteps + "\nmain_branch: orchestrate/p/01-s1\n")
    let validate = box.orchestrate("plan", "validate", "plan.yml")
    #expect(validate.status == 2, "\(validate.stdout)\n\(validate.stderr)")
    #expect(validate.stderr.contains("main_branch") && validate.stderr.contains("namespace"), "\(validate.stderr)")
    let run = box.orchestrate("run", "plan.yml")
    #expect(run.status == 2)
    #expect(try box.git("for-each-ref", "refs/heads/orchestrate").isEmpty)

    try box.write("plan.yml", Self.twoSteps)
    try box.git("config", "orchestrate.mainBranch", "orchestrate")
    let configured = box.orchestrate("run", "plan.yml")
    #expect(configured.status == 2, "\(configured.stdout)\n\(configured.stderr)")
    #expect(configured.stderr.contains("orchestrate.mainBranch"), "\(configured.stderr)")
    #expect(try box.git("for-each-ref", "refs/heads/orchestrate", "refs/orchestrate").isEmpty)
  }

  // MARK: - d. status on a missing main branch

  @Test("status when the plan's main branch does not exist: exit 2 naming it")
  func statusMissingMain() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.twoSteps + "\nmain_branch: main\n")
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    try box.git("branch", "-m", "main", "trunk")
    let status = box.orchestrate("status", "demo")
    #expect(status.status == 2, "\(status.stdout)\n\(status.stderr)")
    #expect(status.stderr.contains("'main'"), "\(status.stderr)")
    #expect(!status.stdout.contains("0%"))
  }

  // MARK: - e. the history cache and the completion rule

  /// Runs the two-step plan: one lands, two fails once and stays on its branch.
  static func ranTwoSteps() throws -> TemporaryRepository {
    let box = try TemporaryRepository()
    try box.write("plan.yml", twoSteps)
    let run = box.orchestrate("run", "plan.yml")
    guard run.status == 1 else { throw TestCommandError("run: \(run.status)\n\(run.stdout)\n\(run.stderr)") }
    return box
  }

  static func completed(_ box: TemporaryRepository) throws -> [String] {
    let status = box.orchestrate("status", "demo", "--json")
    guard status.status == 0 else { throw TestCommandError("status: \(status.stderr)") }
    let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    return object?["completed_subtasks"] as? [String] ?? []
  }

  @Test("a history file planted in the git directory's cache, claiming sub-tasks main does not hold, is never read")
  func editedCache() throws {
    let box = try Self.ranTwoSteps()
    // Without the run's history record, status reads main.
    try box.git("update-ref", "-d", "refs/orchestrate/history/demo")
    #expect(try Self.completed(box) == ["one"])
    let attempt = try box.git("rev-parse", "orchestrate/demo/02-two")
    let one = try box.git("rev-parse", "main")
    let plan = try box.git("rev-parse", "refs/orchestrate/plans/demo")
    let base = try box.git("rev-list", "--max-parents=0", "main")
    let folder = box.url.appendingPathComponent(".git/orchestrate/cache")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for claimed in [attempt, one, String(repeating: "ab", count: 20)] {
      // The record's text, as earlier versions kept it there, and their JSON.
      let record =
        "git-orchestrate history 1\nplan \(plan)\nmain refs/heads/main\nbase \(base)\ntip \(one)\n\n"
        + "one\t\(one)\t1\t=9999.0\t=passed\t\t\t\t\t0\t0\ntwo\t\(claimed)\t1\t=1.0\t=passed\t\t\t\t\t0\t0\n"
      try Data(record.utf8).write(to: folder.appendingPathComponent("history-demo.record"))
      let json =
        #"{"planCommit":"\#(plan)","mainRef":"refs/heads/main","history":{"mainTip":"\#(one)","completions":{"two":{"commit":"\#(claimed)","attempts":1,"duration":1.0,"cost":{"attempts":0,"unreported":0}}}}}"#
      try Data(json.utf8).write(to: folder.appendingPathComponent("history-demo.json"))
      #expect(try Self.completed(box) == ["one"], "claimed by \(claimed)")
      let status = box.orchestrate("status", "demo", "--json")
      #expect(!status.stdout.contains("9999"), "\(status.stdout)")
    }
  }

  @Test("main fast-forwarded to a failed attempt: the attempt completes nothing")
  func failedAttemptOnMain() throws {
    let box = try Self.ranTwoSteps()
    #expect(try Self.completed(box) == ["one"])  // the cache now names main's old tip
    let attempt = try box.git("rev-parse", "orchestrate/demo/02-two")
    #expect(try box.trailers(attempt)["Orchestrate-Result"]?.hasPrefix("failed") == true)
    try box.git("update-ref", "refs/heads/main", attempt)
    #expect(try Self.completed(box) == ["one"])
    // Read afresh: no history record, no cache.
    try box.git("update-ref", "-d", "refs/orchestrate/history/demo")
    try? FileManager.default.removeItem(at: box.url.appendingPathComponent(".git/orchestrate/cache"))
    #expect(try Self.completed(box) == ["one"])
  }

  @Test("the run's history record is the plan version's, for its main branch, brought forward by what main gained")
  func historyRecord() throws {
    let box = try Self.ranTwoSteps()
    let record = try box.git("cat-file", "-p", "refs/orchestrate/history/demo")
    #expect(
      record.hasPrefix("git-orchestrate history 1\nplan \(try box.git("rev-parse", "refs/orchestrate/plans/demo"))\n"))
    #expect(record.contains("\ntip \(try box.git("rev-parse", "main"))\n"))
    #expect(try Self.completed(box) == ["one"])
    // Someone else's commit on main: read on top of the record.
    try box.git("commit", "-q", "--allow-empty", "-m", "someone else")
    #expect(try Self.completed(box) == ["one"])
    // Main rewound past the record's tip: the record is not used.
    try box.git("reset", "-q", "--hard", "main~2")
    #expect(try Self.completed(box) == [])
    // A record of another plan version is not used, whatever it claims.
    try box.git("reset", "-q", "--hard", "HEAD@{1}")
    let plan = try box.git("rev-parse", "refs/orchestrate/plans/demo")
    let one = try #require(record.split(separator: "\n").first { $0.hasPrefix("one\t") })
    let forged =
      record.replacingOccurrences(of: "plan \(plan)", with: "plan " + String(repeating: "1", count: 40)) + "\n"
      + one.replacingOccurrences(of: "one\t", with: "two\t") + "\n"
    let blob = try box.git(["hash-object", "-w", "--stdin"], input: forged)
    try box.git("update-ref", "refs/orchestrate/history/demo", blob)
    #expect(try Self.completed(box) == ["one"])
  }

  // MARK: - i. symlinks in the user's checkout

  @Test(
    "a sub-task adding d/x while the user's checkout has an untracked symlink d -> outside: nothing is written outside")
  func symlinkInUserCheckout() throws {
    let box = try TemporaryRepository()
    let outside = box.root.appendingPathComponent("outside")
    try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      atPath: box.url.appendingPathComponent("d").path, withDestinationPath: outside.path)
    try box.write(
      "plan.yml",
      """
      id: link
      description: writes under d
      subtasks:
        - id: one
          description: Add d/x
          run: ["mkdir -p d && echo x > d/x"]
          checkpoint: { commands: ["test -f d/x"] }
      """)
    let run = box.orchestrate("run", "plan.yml")
    #expect(run.status != 0, "\(run.stdout)\n\(run.stderr)")
    #expect(!FileManager.default.fileExists(atPath: outside.appendingPathComponent("x").path))
    #expect((try? FileManager.default.contentsOfDirectory(atPath: outside.path)) == [])
    let said = run.stdout + run.stderr
    #expect(said.contains("d/x") && said.contains("symbolic link"), "\(said)")
  }

  // MARK: - h. fetched plans

  @Test("fetch adopts a plan this clone lacks, and reports, never adopts, one that differs")
  func fetchedPlansNeverReplace() throws {
    let box = try TemporaryRepository()
    let remote = box.root.appendingPathComponent("remote.git")
    try box.git("init", "-q", "--bare", "-b", "main", remote.path)
    try box.git("remote", "add", "origin", remote.path)
    try box.git("push", "-q", "-u", "origin", "main")
    try box.write("plan.yml", Self.twoSteps)
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    #expect(box.orchestrate("push").status == 0)

    let clone = box.root.appendingPathComponent("clone")
    try box.git("clone", "-q", "-b", "main", remote.path, clone.path)
    let first = box.run(orchestrateBinary.path, ["fetch"], in: clone)
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("adopted plan 'demo'"), "\(first.stdout)")
    let adopted = try box.git("rev-parse", "refs/orchestrate/plans/demo", in: clone)
    #expect(adopted == (try box.git("rev-parse", "refs/orchestrate/plans/demo")))

    // The first clone rewrites the plan (its checkpoint becomes `true`) and pushes it.
    try box.write("plan.yml", Self.twoSteps.replacingOccurrences(of: "grep -q fixed two.txt", with: "true"))
    #expect(box.orchestrate("plan", "add", "--replace", "plan.yml").status == 0)
    #expect(box.orchestrate("push").status == 0)

    let second = box.run(orchestrateBinary.path, ["fetch"], in: clone)
    #expect(second.status == 0, "\(second.stderr)")
    #expect(second.stdout.contains("plan 'demo' differs on origin; yours is kept"), "\(second.stdout)")
    #expect(try box.git("rev-parse", "refs/orchestrate/plans/demo", in: clone) == adopted)
    #expect(
      try box.git("rev-parse", "refs/orchestrate/remotes/origin/plans/demo", in: clone)
        == (try box.git("rev-parse", "refs/orchestrate/plans/demo")))
    let show = box.run(orchestrateBinary.path, ["plan", "show", "demo", "--json"], in: clone)
    #expect(show.stdout.contains("grep -q fixed two.txt"), "\(show.stdout)")
    // Fetching again says it again, and still changes nothing.
    let third = box.run(orchestrateBinary.path, ["fetch"], in: clone)
    #expect(third.stdout.contains("differs"))
    #expect(try box.git("rev-parse", "refs/orchestrate/plans/demo", in: clone) == adopted)
  }
}
