import Foundation
import TestSupport
import Testing

/// Where work folders live: outside `.git` and outside the checkout, where a setting says, and how
/// a plan whose work folder was made at the old place inside `.git` moves on by itself.
@Suite("work folders", .serialized)
struct WorkFolderTests {
  let plan = """
    id: wf
    subtasks:
      - id: one
        agent: ./agent.sh
        checkpoint: { commands: ["test -f one.txt", "test \\"$(cat from-before.txt 2>/dev/null)\\" = kept"] }
    """

  func setUp(_ box: TemporaryRepository, agent: String = "echo one > one.txt\n") throws {
    try box.write("plan.yml", plan)
    try box.write("agent.sh", "#!/bin/sh\n" + agent, executable: true)
    try box.git("add", "-A")
    try box.git("commit", "-q", "-m", "plan")
  }

  @Test("the work folder is under $XDG_STATE_HOME, named after the repository, and the run prints it")
  func defaultLocation() throws {
    let box = try TemporaryRepository()
    try setUp(box, agent: "echo one > one.txt; echo kept > from-before.txt\n")
    let out = box.orchestrate("run", "plan.yml")
    #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
    let workdir = box.workdirRoot.appendingPathComponent("wf").path
    #expect(workdir.hasPrefix(box.state.path + "/git-orchestrate/work/repo-"))
    #expect(out.stdout.contains("working directory \(workdir)"))
    #expect(FileManager.default.fileExists(atPath: workdir + "/one.txt"))
    #expect(!FileManager.default.fileExists(atPath: box.url.appendingPathComponent(".git/orchestrate/work").path))
  }

  @Test("a work folder that is no usable worktree is set aside under a name nothing has, however many were set aside that second")
  func orphanedFolderNamesNeverCollide() throws {
    let box = try TemporaryRepository()
    try setUp(box, agent: "echo one > one.txt; echo kept > from-before.txt\n")
    // Another plan first, so the repository's folder of work folders exists and can be named.
    try box.write("pre.yml", "id: pre\nsubtasks:\n  - id: p\n    run: [\"echo p > p.txt\"]\n    checkpoint: { commands: [\"test -f p.txt\"] }\n")
    #expect(box.orchestrate("run", "pre.yml").status == 0)
    let workdir = box.workdirRoot.appendingPathComponent("wf").path
    // A folder where the work folder goes that git does not know as a worktree (a fresh copy of a
    // repository at the same path finds the old copy's), and the names it would be set aside under
    // in the next seconds taken already.
    try FileManager.default.createDirectory(atPath: workdir, withIntermediateDirectories: true)
    try "mine\n".write(toFile: workdir + "/left.txt", atomically: true, encoding: .utf8)
    let now = Int(Date().timeIntervalSince1970)
    for second in now...(now + 30) {
      try FileManager.default.createDirectory(atPath: workdir + ".orphaned-\(second)", withIntermediateDirectories: true)
    }
    let out = box.orchestrate("run", "plan.yml")
    #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
    let siblings = try FileManager.default.contentsOfDirectory(atPath: box.workdirRoot.path)
    let kept = siblings.filter { FileManager.default.fileExists(atPath: box.workdirRoot.path + "/" + $0 + "/left.txt") }
    #expect(kept.count == 1 && kept[0].hasPrefix("wf.orphaned-") && kept[0].contains("-2"), "\(siblings)")
  }

  @Test("git config orchestrate.workdirRoot moves it; a root inside the checkout or relative is refused with exit 2")
  func configuredRoot() throws {
    let box = try TemporaryRepository()
    try setUp(box, agent: "echo one > one.txt; echo kept > from-before.txt\n")
    try box.git("config", "orchestrate.workdirRoot", box.url.appendingPathComponent("inside").path)
    let inside = box.orchestrate("run", "plan.yml")
    #expect(inside.status == 2)
    #expect(inside.stderr.contains("inside the repository's checkout"), "\(inside.stderr)")
    #expect(try box.git("branch", "--list", "orchestrate/*").isEmpty)
    try box.git("config", "orchestrate.workdirRoot", "relative/work")
    let relative = box.orchestrate("run", "plan.yml")
    #expect(relative.status == 2)
    #expect(relative.stderr.contains("is not an absolute path"), "\(relative.stderr)")
    let root = box.root.appendingPathComponent("elsewhere")
    try box.git("config", "orchestrate.workdirRoot", root.path)
    let out = box.orchestrate("run", "plan.yml")
    #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
    let keys = try FileManager.default.contentsOfDirectory(atPath: root.path)
    #expect(keys.count == 1 && keys[0].hasPrefix("repo-"))
    #expect(FileManager.default.fileExists(atPath: root.path + "/" + keys[0] + "/wf/one.txt"))
  }

  @Test("a work folder left inside .git by an older version moves, its uncommitted work carried over and saved")
  func migration() throws {
    let box = try TemporaryRepository()
    try setUp(box)
    // What an older version left: the branch, a linked worktree at .git/orchestrate/work/wf
    // registered as orchestrate-wf, and an agent's uncommitted file in it.
    try box.git("branch", "orchestrate/wf/01-one", "main")
    let old = box.url.appendingPathComponent(".git/orchestrate/work/wf")
    try FileManager.default.createDirectory(at: old.deletingLastPathComponent(), withIntermediateDirectories: true)
    try box.git("worktree", "add", "-q", old.path, "orchestrate/wf/01-one")
    let admin = box.url.appendingPathComponent(".git/worktrees")
    try FileManager.default.moveItem(
      at: admin.appendingPathComponent("wf"), to: admin.appendingPathComponent("orchestrate-wf"))
    try Data("gitdir: \(admin.path)/orchestrate-wf\n".utf8).write(to: old.appendingPathComponent(".git"))
    try box.write(".git/orchestrate/work/wf/from-before.txt", "kept\n")
    try box.git("worktree", "list")

    let out = box.orchestrate("run", "plan.yml")
    #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
    let workdir = box.workdirRoot.appendingPathComponent("wf").path
    #expect(out.stdout.contains("moved from \(old.path) to \(workdir)"), "\(out.stdout)")
    #expect(!FileManager.default.fileExists(atPath: old.path))
    #expect(box.read("from-before.txt") == "kept\n")
    #expect(
      try box.git("for-each-ref", "--format=%(refname)", "refs/orchestrate/saved/wf").hasPrefix(
        "refs/orchestrate/saved/wf/"))
    let worktrees = try box.git("worktree", "list", "--porcelain")
    #expect(worktrees.contains("worktree \(workdir)\n") && !worktrees.contains(old.path), "\(worktrees)")
  }

  @Test("files agents write for themselves (presets' and orchestrate.agentFiles) never reach main or the checkout")
  func agentFilesKeptOut() throws {
    let box = try TemporaryRepository()
    let bin = box.root.appendingPathComponent("bin")
    try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
    // A stand-in aider that writes what the real one writes (see docs/agents.md).
    try Data(
      """
      #!/bin/sh
      echo one > one.txt; echo kept > from-before.txt
      echo '# aider chat' > .aider.chat.history.md; echo hi > .aider.input.history
      mkdir -p .aider.tags.cache.v4 .my-agent; echo db > .aider.tags.cache.v4/cache.db; echo x > .my-agent/state

      """.utf8
    ).write(to: bin.appendingPathComponent("aider"))
    chmod(bin.appendingPathComponent("aider").path, 0o755)
    try box.write("plan.yml", plan.replacingOccurrences(of: "agent: ./agent.sh", with: "agent: aider"))
    try box.git("add", "-A")
    try box.git("commit", "-q", "-m", "plan")
    try box.git("config", "--add", "orchestrate.agentFiles", ".my-agent/")
    var env = box.environment
    env["PATH"] = bin.path + ":" + (env["PATH"] ?? "")
    let out = box.run(orchestrateBinary.path, ["run", "plan.yml"], in: box.url, environment: env)
    #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
    let files = try box.git("log", "--format=", "--name-only", "main")
    #expect(files.contains("one.txt"))
    #expect(!files.contains(".aider") && !files.contains(".my-agent"), "\(files)")
    #expect(!(try box.git("ls-files")).contains(".aider"))
    #expect(!FileManager.default.fileExists(atPath: box.url.appendingPathComponent(".aider.chat.history.md").path))
  }

  @Test("an agent that cannot start: exit 2 naming it and how to install it; no branch, no work folder, no attempt")
  func missingAgent() throws {
    let box = try TemporaryRepository()
    try setUp(box)
    let refs = try box.git("for-each-ref")
    var env = box.environment
    env["PATH"] = orchestrateBinary.deletingLastPathComponent().path + ":/usr/bin:/bin"
    for (args, message) in [
      (
        ["run", "plan.yml", "--agent", "claude"],
        "--agent 'claude' cannot start: no 'claude' on PATH; install Claude Code"
      ),
      (["run", "plan.yml", "--agent", "codex"], "--agent 'codex' is neither a preset"),
      (["run", "plan.yml", "--fix-agent", "./fix.sh"], "--fix-agent './fix.sh' cannot start"),
    ] {
      let out = box.run(orchestrateBinary.path, args, in: box.url, environment: env)
      #expect(out.status == 2, "\(args): \(out.stdout)\(out.stderr)")
      #expect(out.stderr.contains(message), "\(out.stderr)")
    }
    #expect(
      try box.git("for-each-ref").split(separator: "\n").filter { $0.contains("refs/heads/") }
        == refs.split(separator: "\n").filter { $0.contains("refs/heads/") })
    #expect(try box.git("branch", "--list", "orchestrate/*").isEmpty)
    #expect(!FileManager.default.fileExists(atPath: box.state.path + "/git-orchestrate"))
  }
}
