import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Hostile agents and checkpoints (issue 11), with the sandbox on and off: what they reach, what
/// is refused and put back, and what is ended. Each agent is a shell script given with `--agent`
/// (`run:` steps are the plan author's own commands and are not confined).
@Suite("Confinement", .serialized)
struct ConfinementTests {
  enum Mode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case on, off
    var testDescription: String { "sandbox " + rawValue }
  }

  /// The modes to test: `on` only where bubblewrap works here.
  static let modes: [Mode] = bubblewrapWorks ? [.on, .off] : [.off]

  static let bubblewrapWorks: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--die-with-parent", "--proc", "/proc", "true"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
  }()

  /// A first sub-task made by a step, then a second one left to the agent.
  static func plan(_ id: String, checkpoint: String = "test -f two.txt") -> String {
    """
    id: \(id)
    description: d
    max_attempts: 1
    subtasks:
      - id: first
        description: First
        run: ["echo one > one.txt"]
        checkpoint: { commands: ["test -f one.txt"] }
      - id: second
        description: Second
        checkpoint: { commands: [\(yamlQuoted(checkpoint))] }
    """
  }

  /// Writes the agent script outside the repository and returns its path.
  static func agent(_ box: TemporaryRepository, _ body: String) throws -> String {
    let url = box.root.appendingPathComponent("agent.sh")
    try Data(("#!/bin/sh\n" + body + "\n").utf8).write(to: url)
    chmod(url.path, 0o755)
    return url.path
  }

  static func run(_ box: TemporaryRepository, _ plan: String, agent: String, _ mode: Mode) -> CommandOutput {
    box.orchestrate(["run", plan, "--agent", agent, "--sandbox", mode.rawValue])
  }

  static func ref(_ box: TemporaryRepository, _ name: String) -> String? {
    try? box.git("rev-parse", "-q", "--verify", name)
  }

  /// Whether any note in `refs/notes/orchestrate` holds `text`.
  static func notesHold(_ box: TemporaryRepository, _ text: String) -> Bool {
    guard ref(box, "refs/notes/orchestrate") != nil else { return false }
    return (try? box.git("grep", "-q", text, "refs/notes/orchestrate")) != nil
  }

  /// Pids of live processes whose command line holds `marker`.
  static func processes(holding marker: String) -> [pid_t] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name in
      guard let pid = pid_t(name), pid != getpid(),
        let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline"),
        String(decoding: data, as: UTF8.self).contains(marker)
      else { return nil }
      return pid
    }
  }

  // MARK: - Refs

  @Test("an agent forges a sub-task commit on main and a passing note: refused and put back, or impossible", arguments: modes)
  func forgedMainAndNote(_ mode: Mode) throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan("forge"))
    let agent = try Self.agent(
      box,
      """
      echo two > two.txt; echo evil > evil.txt
      git add two.txt evil.txt
      tree=$(git write-tree) &&
      forged=$(printf 'Second\\n\\nOrchestrate-Plan: forge\\nOrchestrate-Subtask: 2/2 second\\nOrchestrate-Checkpoint: passed (1 command, 0.1 s)\\n' | git commit-tree "$tree" -p main) &&
      git update-ref refs/heads/main "$forged" &&
      git notes --ref orchestrate add -f -m '{"passed":true,"date":"9999-12-31T00:00:00Z"}' "$tree"
      exit 0
      """)
    let result = Self.run(box, "plan.yml", agent: agent, mode)
    let output = result.stdout + result.stderr
    #expect(!Self.notesHold(box, "9999"), "the forged note is gone")
    switch mode {
    case .off:
      #expect(result.status == 2, "\(output)")
      #expect(result.stderr.contains("the agent changed git state"), "\(result.stderr)")
      #expect(result.stderr.contains("refs/heads/main moved from"), "\(result.stderr)")
      #expect(result.stderr.contains("refs/notes/orchestrate"), "\(result.stderr)")
      #expect(result.stderr.contains("Put back: ") && result.stderr.contains("refs/heads/main"), "\(result.stderr)")
      #expect(try box.mainSubjects() == ["First", "initial"])
      #expect(!result.stdout.contains("✅ Sub-task second complete"))
    case .on:
      // The git directory is read-only: nothing could be forged; the work itself lands.
      #expect(output.contains("Read-only file system"), "\(output)")
      #expect(result.status == 0, "\(output)")
      #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    }
    #expect(box.read("evil.txt") == (mode == .on ? "evil\n" : nil), "the user's checkout gets only what landed")
    #expect(!FileManager.default.fileExists(atPath: box.url.appendingPathComponent(".git/orchestrate/lock").path))
  }

  @Test("an agent rewrites the plan ref: refused and put back, or impossible; the plan stays the user's", arguments: modes)
  func rewrittenPlanRef(_ mode: Mode) throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan("rewrite"))
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    let planRef = "refs/orchestrate/plans/rewrite"
    let before = try #require(Self.ref(box, planRef))
    let agent = try Self.agent(box, "git update-ref \(planRef) HEAD; echo two > two.txt")
    let result = Self.run(box, "rewrite", agent: agent, mode)
    #expect(Self.ref(box, planRef) == before)
    switch mode {
    case .off:
      #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
      #expect(result.stderr.contains("\(planRef) moved from \(before.prefix(10))"), "\(result.stderr)")
      #expect(try box.mainSubjects() == ["First", "initial"])
    case .on:
      #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
      #expect(result.stdout.contains("Read-only file system"), "\(result.stdout)")
      #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    }
  }

  @Test("a checkpoint running the agent's script that writes a note: refused, or impossible", arguments: modes)
  func checkpointForgesNote(_ mode: Mode) throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan("checkforge", checkpoint: "sh check.sh"))
    let agent = try Self.agent(
      box,
      "printf 'git notes --ref orchestrate add -f -m passed-9999 HEAD; test -f two.txt\\n' > check.sh; echo two > two.txt")
    let result = Self.run(box, "plan.yml", agent: agent, mode)
    #expect(!Self.notesHold(box, "passed-9999"))
    switch mode {
    case .off:
      #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
      #expect(result.stderr.contains("the checkpoint changed git state"), "\(result.stderr)")
      #expect(result.stderr.contains("refs/notes/orchestrate"), "\(result.stderr)")
      #expect(try box.mainSubjects() == ["First", "initial"])
    case .on:
      #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
      #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    }
  }

  @Test(
    "the agents' state folders (~/.claude/projects, ~/.aider) are writable for the agent, read-only for its checkpoint",
    .enabled(if: bubblewrapWorks))
  func checkpointCannotPlantAgentState() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml",
      Self.plan(
        "agentstate",
        checkpoint:
          "for d in .claude/projects .aider; do echo planted > \"$HOME/$d/planted\" 2>/dev/null; done; test -f two.txt"))
    let agent = try Self.agent(box, "echo agent > \"$HOME/.claude/projects/agent-was-here\"; echo two > two.txt")
    let result = Self.run(box, "plan.yml", agent: agent, .on)
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    let projects = box.home.appendingPathComponent(".claude/projects")
    #expect(FileManager.default.fileExists(atPath: projects.appendingPathComponent("agent-was-here").path))
    #expect(!FileManager.default.fileExists(atPath: projects.appendingPathComponent("planted").path))
    #expect(!FileManager.default.fileExists(atPath: box.home.appendingPathComponent(".aider/planted").path))
  }

  // MARK: - Configuration and hooks

  @Test("an agent sets core.fsmonitor in the global config: detected, or impossible", arguments: modes)
  func globalFsmonitor(_ mode: Mode) throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan("fsmonitor"))
    let agent = try Self.agent(box, "git config --global core.fsmonitor 'touch /tmp/pwned'; echo two > two.txt")
    let result = Self.run(box, "plan.yml", agent: agent, mode)
    let global = box.read(".gitconfig", in: box.home) ?? ""
    switch mode {
    case .off:
      #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
      #expect(result.stderr.contains("file "), "\(result.stderr)")
      #expect(result.stderr.contains("/.gitconfig"), "\(result.stderr)")
      #expect(try box.mainSubjects() == ["First", "initial"])
    case .on:
      #expect(!global.contains("fsmonitor"), "\(global)")
      #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    }
  }

  @Test(
    "an agent edits the tracked .githooks/pre-commit that core.hooksPath names: detected in both modes, nothing lands",
    arguments: modes)
  func trackedHooksPath(_ mode: Mode) throws {
    let box = try TemporaryRepository(files: ["README.md": "# project\n", ".githooks/pre-commit": "#!/bin/sh\nexit 0\n"])
    try box.git("config", "core.hooksPath", ".githooks")
    try box.write("plan.yml", Self.plan("githooks"))
    let agent = try Self.agent(box, "echo 'touch /tmp/pwned' >> .githooks/pre-commit; echo two > two.txt")
    let result = Self.run(box, "plan.yml", agent: agent, mode)
    #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stderr.contains("hook changed"), "\(result.stderr)")
    #expect(result.stderr.contains(".githooks/pre-commit"), "\(result.stderr)")
    #expect(try box.mainSubjects() == ["First", "initial"])
    #expect(box.read(".githooks/pre-commit") == "#!/bin/sh\nexit 0\n")
    #expect(try box.git("show", "main:.githooks/pre-commit") == "#!/bin/sh\nexit 0")
  }

  // MARK: - Processes left behind

  @Test(
    "a setsid child of the agent that would plant hooks/post-commit after the agent exits is ended with the agent",
    arguments: modes)
  func setsidChildPlantsHook(_ mode: Mode) throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan("planter"))
    let marker = "orchestrate-planter-\(UUID().uuidString)"
    let go = box.root.appendingPathComponent("go").path
    let pwned = box.root.appendingPathComponent("pwned").path
    let agent = try Self.agent(
      box,
      """
      hooks="$(git rev-parse --path-format=absolute --git-common-dir)/hooks"
      setsid sh -c 'touch child-started; while [ ! -f "$1" ]; do sleep 0.05; done; printf "#!/bin/sh\\ntouch %s\\n" "$2" > "$3/post-commit"; chmod +x "$3/post-commit"' \(marker) \(go) \(pwned) "$hooks" &
      while [ ! -f child-started ]; do sleep 0.05; done
      rm child-started
      echo two > two.txt
      """)
    let result = Self.run(box, "plan.yml", agent: agent, mode)
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(try box.mainSubjects() == ["Second", "First", "initial"])
    // The child is gone by the time the run has returned; were it alive, `go` would make it plant.
    #expect(Self.processes(holding: marker).isEmpty)
    FileManager.default.createFile(atPath: go, contents: nil)
    #expect(!FileManager.default.fileExists(atPath: box.url.appendingPathComponent(".git/hooks/post-commit").path))
  }

  @Test("a checkpoint that starts setsid sleep 1200 does not outlive the run", arguments: modes)
  func checkpointSetsidSleep(_ mode: Mode) throws {
    let box = try TemporaryRepository()
    let duration = "1200.\(Int.random(in: 100_000...999_999))"
    try box.write("plan.yml", Self.plan("sleeper", checkpoint: "setsid sleep \(duration) & test -f two.txt"))
    let agent = try Self.agent(box, "echo two > two.txt")
    let result = Self.run(box, "plan.yml", agent: agent, mode)
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(Self.processes(holding: duration).isEmpty)
    for pid in Self.processes(holding: duration) { kill(pid, SIGKILL) }
  }

  // MARK: - The setting

  @Test("--sandbox on where it works runs; a bad orchestrate.sandbox is exit 2 naming it; --sandbox yes is refused")
  func setting() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan("setting"))
    let agent = try Self.agent(box, "echo two > two.txt")
    try box.git("config", "orchestrate.sandbox", "yes")
    let bad = box.orchestrate(["run", "plan.yml", "--agent", agent])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("orchestrate.sandbox is 'yes'"), "\(bad.stderr)")
    #expect(box.orchestrate(["run", "plan.yml", "--sandbox", "yes"]).status != 0)
    try box.git("config", "orchestrate.sandbox", Self.bubblewrapWorks ? "on" : "auto")
    let good = box.orchestrate(["run", "plan.yml", "--agent", agent])
    #expect(good.status == 0, "\(good.stdout)\n\(good.stderr)")
    #expect(good.stdout.contains("without a sandbox") != Self.bubblewrapWorks, "\(good.stdout)")
  }

  @Test("--sandbox on without bubblewrap on PATH is exit 2 with the install command")
  func onWithoutBubblewrap() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan("missing"))
    let agent = try Self.agent(box, "echo two > two.txt")
    let bin = box.root.appendingPathComponent("bin")
    try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
    // PATH holds git and sh only: no bwrap.
    var env = box.environment
    env["PATH"] = bin.path
    symlink("/usr/bin/git", bin.appendingPathComponent("git").path)
    symlink("/bin/sh", bin.appendingPathComponent("sh").path)
    let result = box.run(
      orchestrateBinary.path, ["run", "plan.yml", "--agent", agent, "--sandbox", "on"], in: box.url, environment: env)
    #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stderr.contains("apt-get install bubblewrap"), "\(result.stderr)")
    #expect(try box.mainSubjects() == ["initial"], "nothing ran")
  }
}

extension ConfinementTests {
  @Test(
    "SIGTERM during a sandboxed checkpoint: exit 143, and the checkpoint's processes, setsid ones included, are gone",
    .enabled(if: bubblewrapWorks))
  func interruptedInSandbox() throws {
    let box = try TemporaryRepository()
    let duration = "1000.\(Int.random(in: 100_000...999_999))"
    try box.write(
      "plan.yml", Self.plan("stopped", checkpoint: "setsid sleep \(duration) & sleep \(duration) & touch started; wait"))
    let agent = try Self.agent(box, "echo two > two.txt")
    let log = box.root.appendingPathComponent("run.log")
    let process = try box.start(["run", "plan.yml", "--agent", agent, "--sandbox", "on"], log: log)
    #expect(
      eventually("the checkpoint to start") {
        FileManager.default.fileExists(atPath: box.workdirRoot.appendingPathComponent("stopped/started").path)
      }, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    #expect(Self.processes(holding: duration).count >= 2, "the sleeps, the shell and bwrap")
    kill(process.processIdentifier, SIGTERM)
    process.waitUntilExit()
    #expect(process.terminationStatus == 143, "\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    #expect(eventually("the condition", within: 5) { Self.processes(holding: duration).isEmpty })
    for pid in Self.processes(holding: duration) { kill(pid, SIGKILL) }
  }
}
