import Foundation
import TestSupport
import Testing

/// Agents that misbehave, by accident or on purpose: git commands in the working directory,
/// deleting everything, nested repositories, hanging, flooding output, doing nothing, and reaching
/// beyond the sub-task through the repository's git configuration and hooks.
@Suite("HostileAgents", .serialized)
struct HostileAgentTests {
  /// A first sub-task that lands, then `step` as the second sub-task's agent.
  static func plan(id: String, step: String, checkpoint: String, maxAttempts: Int = 1, timeout: String? = nil) -> String
  {
    TestPlan.firstThen(id: id, maxAttempts: maxAttempts, run: [step], checkpoint: [checkpoint], timeout: timeout).yaml
  }

  // MARK: - git in the working directory

  struct GitMisuse: Sendable, CustomTestStringConvertible {
    var name: String
    var step: String
    var testDescription: String { name }
  }

  static let gitMisuses = [
    GitMisuse(
      name: "git commit",
      step: "echo two > two.txt && git add two.txt && git commit -q -m 'agent commit' && echo done > done.txt"),
    GitMisuse(
      name: "git reset --hard to the initial commit",
      step: "echo two > two.txt && git reset -q --hard \"$(git rev-list --max-parents=0 HEAD)\" && echo done > done.txt"
    ),
    GitMisuse(
      name: "git checkout another branch",
      step:
        "git checkout -q -b other && echo two > two.txt && git add two.txt && git commit -q -m other && echo done > done.txt"
    ),
    GitMisuse(
      name: "git stash",
      step: "echo two > two.txt && echo changed > one.txt && git add -A && git stash -q && echo done > done.txt"),
  ]

  @Test(
    "an agent running git in its working directory is judged by the directory it leaves; main keeps everything",
    arguments: gitMisuses)
  func gitInWorkdir(_ misuse: GitMisuse) throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan(id: "misuse", step: misuse.step, checkpoint: "test -f done.txt"))
    let base = try box.git("rev-parse", "main")
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    // Exactly the two sub-tasks on main, in order, on top of what was there.
    #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    #expect(try box.git("rev-parse", "main~2") == base)
    // The sub-task commit holds the directory as the agent left it.
    let workdir = box.workdirRoot.appendingPathComponent("misuse")
    let files = Set(try box.git("ls-tree", "-r", "--name-only", "main").split(separator: "\n").map(String.init))
    let onDisk = Set(
      (try FileManager.default.contentsOfDirectory(atPath: workdir.path)).filter { $0 != ".git" })
    #expect(files == onDisk, "main has \(files), the directory \(onDisk)")
    #expect(files.contains("done.txt") && files.contains("README.md"))
    // What main had before is still in its history.
    #expect(try box.git("show", "main~1:one.txt") == "one")
    let fsck = box.run("/usr/bin/env", ["git", "fsck", "--strict", "--no-dangling"], in: box.url)
    #expect(fsck.status == 0, "\(fsck.stderr)")
  }

  // MARK: - Deleting everything

  @Test("an agent that deletes every file: the checkpoint refuses it and main loses nothing")
  func deletesEverything() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan(id: "wipe", step: "rm -rf ./*", checkpoint: "test -f README.md"))
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
    #expect(try box.mainSubjects() == ["First", "initial"])
    #expect(box.read("README.md") == "# project\n")
    #expect(box.read("one.txt") == "one\n")
    // The attempt is recorded on the branch, deletions and all.
    let attempt = try box.git("log", "-1", "--format=%B", "orchestrate/wipe/02-second")
    #expect(attempt.contains("Orchestrate-Result: failed"))
  }

  @Test(
    "an agent that deletes every file, .git included: the workspace is repaired, the checkpoint refuses it, main loses nothing"
  )
  func deletesEverythingAndGitFile() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml", Self.plan(id: "wipeall", step: "find . -mindepth 1 -delete", checkpoint: "test -f README.md"))
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stdout.contains("CHECKPOINT STILL FAILING"), "\(result.stdout)")
    #expect(try box.mainSubjects() == ["First", "initial"])
    #expect(box.read("README.md") == "# project\n")
    #expect(box.read("one.txt") == "one\n")
    #expect(
      try box.git("log", "-1", "--format=%B", "orchestrate/wipeall/02-second").contains("Orchestrate-Result: failed"))
    #expect(!box.isLocked)
    #expect(try box.git("worktree", "prune", "-n", "-v") == "")
    let fsck = box.run("/usr/bin/env", ["git", "fsck", "--strict", "--no-dangling"], in: box.url)
    #expect(fsck.status == 0, "\(fsck.stderr)")
  }

  // MARK: - A nested repository

  @Test("an agent that creates a nested repository: its .git never enters a commit, fsck stays clean")
  func nestedGit() throws {
    let box = try TemporaryRepository()
    let step =
      "mkdir -p inner && cd inner && git init -q && echo secret > s.txt && git add s.txt && git -c user.name=a -c user.email=a@x commit -q -m inner && cd .. && echo two > two.txt"
    try box.write("plan.yml", Self.plan(id: "nested", step: step, checkpoint: "test -f two.txt"))
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    let files = try box.git("ls-tree", "-r", "--name-only", "main").split(separator: "\n").map(String.init)
    #expect(files.contains("two.txt"))
    #expect(!files.contains { $0.contains(".git/") || $0.hasSuffix("/.git") || $0 == ".git" }, "\(files)")
    let fsck = box.run("/usr/bin/env", ["git", "fsck", "--strict", "--no-dangling"], in: box.url)
    #expect(fsck.status == 0, "\(fsck.stderr)")
    // The user's checkout did not get a repository planted in it.
    #expect(!FileManager.default.fileExists(atPath: box.url.appendingPathComponent("inner/.git").path))
  }

  // MARK: - Hanging, flooding, doing nothing

  @Test("an agent that hangs is ended at the timeout, grandchild included, and the attempt kept")
  func hangs() throws {
    let box = try TemporaryRepository()
    let pidFile = box.root.appendingPathComponent("agent-grandchild.pid").path
    try box.write(
      "plan.yml", Self.plan(id: "hang", step: "sleep 1000 & echo $! > \(pidFile); wait", checkpoint: "true"))
    let result = box.orchestrate("run", "plan.yml", "--timeout", "1s")
    #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stdout.contains("timed out"), "\(result.stdout)")
    let pid = processID(inFile: box.root.appendingPathComponent("agent-grandchild.pid"))
    #expect(pid > 0)
    eventually("the grandchild \(pid) to end", within: 5) { processIsGone(pid) }
    #expect(try box.mainSubjects() == ["First", "initial"])
    #expect(
      try box.git("log", "-1", "--format=%B", "orchestrate/hang/02-second").contains("Orchestrate-Result: failed"))
  }

  @Test(
    "an agent that prints a flood (100 MB; 1 GB with ORCHESTRATE_FAULTS=1): memory stays bounded, the log keeps it all")
  func floodsOutput() throws {
    let box = try TemporaryRepository()
    let bytes = FaultTests.long ? 1 << 30 : 100 << 20
    try box.write(
      "plan.yml",
      Self.plan(id: "flood", step: "yes | head -c \(bytes); echo two > two.txt", checkpoint: "test -f two.txt"))
    // /usr/bin/time -v reports the run's maximum resident set size; standard output goes nowhere.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
    process.arguments = ["-v", orchestrateBinary.path, "run", "plan.yml"]
    process.currentDirectoryURL = box.url
    process.environment = box.environment
    let errURL = box.root.appendingPathComponent("time.err")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = try FileHandle(forWritingTo: errURL)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    let report = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
    #expect(process.terminationStatus == 0, "\(report)")
    let line = report.split(separator: "\n").first { $0.contains("Maximum resident set size") }
    let kilobytes = line.flatMap { Int($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") } ?? 0
    #expect(kilobytes > 0, "\(report)")
    #expect(kilobytes < 200 * 1024, "maximum resident set size \(kilobytes) kB")
    let log = box.url.appendingPathComponent(".git/orchestrate/logs/flood/02-second.attempt-1.log").path
    let size = (try? FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
    #expect(size == bytes, "log has \(size) bytes")
    #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    // The output is in the log, not in git: the commit stays small.
    #expect((Int(try box.git("cat-file", "-s", "main")) ?? .max) < 64 * 1024)
  }

  @Test("an agent that exits 0 having done nothing: a checkpoint that looks for work fails it and main stays")
  func doesNothingFails() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan(id: "idle", step: "true", checkpoint: "test -f two.txt"))
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stdout.contains("CHECKPOINT STILL FAILING"))
    #expect(try box.mainSubjects() == ["First", "initial"])
  }

  @Test(
    "an agent that exits 0 having done nothing: a checkpoint that passes anyway lands an empty commit, which says so")
  func doesNothingPasses() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan(id: "idle2", step: "true", checkpoint: "true"))
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    #expect(try box.git("rev-parse", "main^{tree}") == (try box.git("rev-parse", "main~1^{tree}")))
  }

  // MARK: - Reaching beyond the sub-task through git

  struct Tampering: Sendable, CustomTestStringConvertible {
    var name: String
    var step: String
    /// A word the refusal must contain, naming what changed.
    var named: String
    var testDescription: String { name }
  }

  static let tamperings = [
    Tampering(
      name: "a hook in the repository's git directory",
      step:
        "printf '#!/bin/sh\\ntouch /tmp/pwned\\n' > \"$(git rev-parse --git-common-dir)/hooks/post-checkout\"; chmod +x \"$(git rev-parse --git-common-dir)/hooks/post-checkout\"",
      named: "hooks/post-checkout"),
    Tampering(
      name: "a hook in the working directory's git directory",
      step:
        "mkdir -p \"$(git rev-parse --git-dir)/hooks\"; printf '#!/bin/sh\\n' > \"$(git rev-parse --git-dir)/hooks/pre-commit\"",
      named: "hooks/pre-commit"),
    Tampering(name: "core.hooksPath", step: "git config core.hooksPath /tmp/evil-hooks", named: "core.hookspath"),
    Tampering(name: "core.fsmonitor", step: "git config core.fsmonitor 'touch /tmp/pwned'", named: "core.fsmonitor"),
    Tampering(
      name: "core.sshCommand", step: "git config core.sshCommand 'ssh -o ProxyCommand=evil'", named: "core.sshcommand"),
    Tampering(name: "an alias", step: "git config alias.st '!touch /tmp/pwned'", named: "alias.st"),
    Tampering(name: "includeIf", step: "git config includeIf.gitdir:/.path /tmp/evil.config", named: "includeif"),
    Tampering(
      name: "a hook in core.hooksPath the user set",
      step: "printf '#!/bin/sh\\n' > \"$ORCHESTRATE_USER_HOOKS/pre-push\"",
      named: "pre-push"),
  ]

  @Test(
    "an agent that edits the repository's git config or hooks: detected, the sub-task refused with what changed, exit 2",
    arguments: tamperings)
  func tampersWithGit(_ tampering: Tampering) throws {
    let box = try TemporaryRepository()
    let userHooks = box.root.appendingPathComponent("user-hooks")
    try FileManager.default.createDirectory(at: userHooks, withIntermediateDirectories: true)
    if tampering.named == "pre-push" { try box.git("config", "core.hooksPath", userHooks.path) }
    let step = "export ORCHESTRATE_USER_HOOKS=\(userHooks.path); " + tampering.step + "; echo two > two.txt"
    try box.write("plan.yml", Self.plan(id: "tamper", step: step, checkpoint: "test -f two.txt"))
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stderr.contains("changed git state that is not its to change"), "\(result.stderr)")
    #expect(result.stderr.lowercased().contains(tampering.named), "\(result.stderr)")
    #expect(result.stderr.contains("'second'"), "\(result.stderr)")
    #expect(try box.mainSubjects() == ["First", "initial"])
    #expect(!result.stdout.contains("✅ Sub-task second complete"))
    #expect(!box.isLocked)
  }
}
