import Foundation
import TestSupport
import Testing

/// The pre-push hook, verify, log, show, push and fetch, on real repositories with a bare remote in
/// a temporary directory, run through the built binary and `git push` as a user runs them.
@Suite("hooks", .serialized)
struct HooksTests {
  /// A repository with a bare `origin`, main pushed, and a two-step plan run (the second step fixed
  /// once by the fix agent). Checkpoint commands append to `count` outside the repository.
  final class Setup {
    let box: TemporaryRepository
    let remote: URL

    init() throws {
      box = try TemporaryRepository(files: ["README.md": "# p\n"])
      try box.write("fix.sh", "#!/bin/sh\ncat > /dev/null\necho fixed > two.txt\n", executable: true)
      try box.commitAll("fix agent")
      remote = box.root.appendingPathComponent("remote.git")
      try box.git("init", "-q", "--bare", "-b", "main", remote.path)
      try box.git("remote", "add", "origin", remote.path)
      try box.git("push", "-q", "-u", "origin", "main")
      let count = "echo run >> \(box.runCounter.path)"
      let plan = TestPlan(
        id: "demo", description: "demo plan", fixAgent: "./fix.sh",
        subtasks: [
          .init(
            id: "one", description: "First step", run: ["echo 1 > one.txt"], checkpoint: [count, "test -f one.txt"]),
          .init(
            id: "two", description: "Second step", run: ["echo broken > two.txt"],
            checkpoint: [count, "grep -q fixed two.txt"]),
        ])
      try box.write("plan.yml", plan.yaml)
      // The checkpoints count their runs in a file outside the work folder, which the sandbox forbids.
      try box.git("config", "orchestrate.sandbox", "off")
      let run = box.orchestrate("run", "plan.yml")
      guard run.status == 0 else { throw TestCommandError("run failed: \(run.stdout)\n\(run.stderr)") }
    }

    var runs: Int { box.countedRuns }

    func remoteRef(_ name: String) -> String? {
      let out = box.run(
        "/usr/bin/env", ["git", "--git-dir", remote.path, "rev-parse", "--verify", "-q", name], in: box.root)
      return out.status == 0 ? out.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }

    /// Replaces the tip's `two.txt` so the second checkpoint fails, keeping the message (an amend).
    func amendBroken() throws {
      try box.write("two.txt", "broken again\n")
      try box.git("commit", "-q", "-a", "--amend", "--no-edit")
    }
  }

  @Test("a push of validated sub-tasks is let through silently and runs no checkpoint command")
  func validatedPushRunsNothing() throws {
    let setup = try Setup()
    let box = setup.box
    let runsAfterRun = setup.runs
    #expect(runsAfterRun == 3)  // one, two (failed), two (fixed)
    let install = box.orchestrate("hooks", "install")
    #expect(install.status == 0, "\(install.stderr)")
    let push = box.run("/usr/bin/env", ["git", "push", "-q", "origin", "main"], in: box.url)
    #expect(push.status == 0, "\(push.stderr)")
    #expect(push.stderr.isEmpty, "\(push.stderr)")
    #expect(setup.runs == runsAfterRun)
    #expect(setup.remoteRef("main") == (try box.git("rev-parse", "main")))
  }

  @Test("an amended sub-task commit whose tree fails is refused, naming the sub-task; --no-verify bypasses")
  func amendedCommitRefused() throws {
    let setup = try Setup()
    let box = setup.box
    #expect(box.orchestrate("hooks", "install").status == 0)
    let before = setup.remoteRef("main")
    try setup.amendBroken()
    let push = box.run("/usr/bin/env", ["git", "push", "origin", "main"], in: box.url)
    #expect(push.status != 0)
    #expect(push.stderr.contains("push refused"), "\(push.stderr)")
    #expect(push.stderr.contains("plan demo, sub-task 2 two: grep -q fixed two.txt exited 1"), "\(push.stderr)")
    #expect(push.stderr.contains("git push --no-verify"))
    #expect(setup.remoteRef("main") == before)
    let bypass = box.run("/usr/bin/env", ["git", "push", "-q", "--no-verify", "origin", "main"], in: box.url)
    #expect(bypass.status == 0)
    #expect(setup.remoteRef("main") == (try box.git("rev-parse", "main")))
  }

  @Test("a multi-ref push is refused when the failing commit is on the second ref")
  func multiRefPush() throws {
    let setup = try Setup()
    let box = setup.box
    #expect(box.orchestrate("hooks", "install").status == 0)
    try box.git("branch", "good", "main")
    try box.git("checkout", "-q", "-b", "bad", "main")
    try setup.amendBroken()
    try box.git("checkout", "-q", "main")
    let push = box.run("/usr/bin/env", ["git", "push", "origin", "good", "bad"], in: box.url)
    #expect(push.status != 0)
    #expect(push.stderr.contains("sub-task 2 two"), "\(push.stderr)")
    #expect(push.stderr.contains("(in refs/heads/bad)"), "\(push.stderr)")
    #expect(setup.remoteRef("refs/heads/good") == nil)
    #expect(setup.remoteRef("refs/heads/bad") == nil)
    // Deleting a ref checks nothing.
    try box.git("push", "-q", "origin", "good")
    let delete = box.run("/usr/bin/env", ["git", "push", "-q", "origin", ":good"], in: box.url)
    #expect(delete.status == 0, "\(delete.stderr)")
    #expect(setup.remoteRef("refs/heads/good") == nil)
  }

  @Test("a user's own pre-push hook is chained (same arguments and input) and restored exactly")
  func userHookChainedAndRestored() throws {
    let setup = try Setup()
    let box = setup.box
    let hooks = box.url.appendingPathComponent(".git/hooks")
    try FileManager.default.createDirectory(at: hooks, withIntermediateDirectories: true)
    let hook = hooks.appendingPathComponent("pre-push")
    let log = box.root.appendingPathComponent("user-hook.log")
    let script = "#!/bin/sh\n# the user's hook\necho \"args: $*\" >> \(log.path)\ncat >> \(log.path)\n"
    try Data(script.utf8).write(to: hook)
    chmod(hook.path, 0o700)

    let install = box.orchestrate("hooks", "install")
    #expect(install.status == 0, "\(install.stderr)")
    #expect(install.stdout.contains("pre-push.orchestrate-chained"))
    let installed = try Data(contentsOf: hook)
    let again = box.orchestrate("hooks", "install")
    #expect(again.stdout.contains("already installed"))
    #expect(try Data(contentsOf: hook) == installed)
    #expect(box.orchestrate("hooks", "status").stdout.contains("chained:"))

    try box.write("extra.txt", "x\n")
    try box.git("add", "-A")
    try box.git("commit", "-q", "-m", "not a sub-task")
    let main = try box.git("rev-parse", "main")
    let push = box.run("/usr/bin/env", ["git", "push", "-q", "origin", "main"], in: box.url)
    #expect(push.status == 0, "\(push.stderr)")
    let logged = box.read("user-hook.log", in: box.root) ?? ""
    #expect(logged.contains("args: origin \(setup.remote.path)"), "\(logged)")
    #expect(logged.contains("refs/heads/main \(main) refs/heads/main "), "\(logged)")

    // A failing user hook still refuses the push, before ours runs.
    let failing = hooks.appendingPathComponent("pre-push.orchestrate-chained")
    let saved = try Data(contentsOf: failing)
    try Data("#!/bin/sh\necho user says no >&2\nexit 7\n".utf8).write(to: failing)
    try box.write("extra.txt", "y\n")
    try box.git("commit", "-q", "-am", "again")
    let refused = box.run("/usr/bin/env", ["git", "push", "origin", "main"], in: box.url)
    #expect(refused.status != 0)
    #expect(refused.stderr.contains("user says no"))
    try saved.write(to: failing)

    let uninstall = box.orchestrate("hooks", "uninstall")
    #expect(uninstall.status == 0)
    #expect(try Data(contentsOf: hook) == Data(script.utf8))
    var info = stat()
    #expect(stat(hook.path, &info) == 0)
    #expect(info.st_mode & 0o7777 == 0o700)
    #expect(!FileManager.default.fileExists(atPath: failing.path))
    #expect(box.orchestrate("hooks", "status").stdout.contains("of its own"))
  }

  @Test("core.hooksPath is respected, relative to the work tree")
  func hooksPathRespected() throws {
    let setup = try Setup()
    let box = setup.box
    try box.git("config", "core.hooksPath", ".githooks")
    let install = box.orchestrate("hooks", "install")
    #expect(install.status == 0, "\(install.stderr)")
    #expect(FileManager.default.fileExists(atPath: box.url.appendingPathComponent(".githooks/pre-push").path))
    #expect(!FileManager.default.fileExists(atPath: box.url.appendingPathComponent(".git/hooks/pre-push").path))
    let status = box.orchestrate("hooks", "status", "--json")
    let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
    #expect(json?["state"] as? String == "installed")
    #expect(json?["from_hooks_path"] as? Bool == true)
    // git runs it from there.
    try setup.amendBroken()
    let push = box.run("/usr/bin/env", ["git", "push", "origin", "main"], in: box.url)
    #expect(push.status != 0)
    #expect(push.stderr.contains("push refused"))
    #expect(box.orchestrate("hooks", "uninstall").status == 0)
    #expect(!FileManager.default.fileExists(atPath: box.url.appendingPathComponent(".githooks/pre-push").path))
  }

  @Test("verify exits 0 when all pass, 1 naming the failure, 2 for bad input")
  func verifyExitCodes() throws {
    let setup = try Setup()
    let box = setup.box
    let runs = setup.runs
    let ok = box.orchestrate("verify")
    #expect(ok.status == 0, "\(ok.stderr)")
    #expect(ok.stdout.contains("2 sub-task commits verified: 2 passed, 0 failed (0 checkpoints run)"), "\(ok.stdout)")
    #expect(setup.runs == runs)
    let json = box.orchestrate("verify", "--json", "main")
    let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
    #expect(object?["passed"] as? Bool == true)
    #expect(object?["checked"] as? Int == 2)

    try setup.amendBroken()
    let failed = box.orchestrate("verify")
    #expect(failed.status == 1)
    #expect(failed.stdout.contains("sub-task 2 two: grep -q fixed two.txt exited 1"), "\(failed.stdout)")
    #expect(box.orchestrate("verify", "no-such-branch..main").status == 2)
    try box.git("update-ref", "-d", "refs/orchestrate/plans/demo")
    let missing = box.orchestrate("verify", "main")
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("plan 'demo'"), "\(missing.stderr)")
  }

  @Test("log and show summarise the sub-tasks, attempts included")
  func logAndShow() throws {
    let setup = try Setup()
    let box = setup.box
    let log = box.orchestrate("log")
    #expect(log.status == 0, "\(log.stderr)")
    let lines = log.stdout.split(separator: "\n")
    #expect(lines.count == 2)
    #expect(lines[0].hasPrefix("1/2") && lines[0].contains("one") && lines[0].contains("completed"))
    #expect(lines[1].contains("two") && lines[1].contains("2 attempts") && lines[1].contains("passed (2 commands"))
    let json = box.orchestrate("log", "demo", "--json")
    let entries = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
    #expect(entries?.map { $0["id"] as? String } == ["one", "two"])
    #expect(entries?.last?["attempts"] as? Int == 2)

    let show = box.orchestrate("show", "two", "--patch")
    #expect(show.status == 0, "\(show.stderr)")
    #expect(show.stdout.contains("Orchestrate-Subtask: 2/2 two"))
    #expect(show.stdout.contains("Checkpoint results on this tree:\n  passed"))
    #expect(show.stdout.contains("1. "), "\(show.stdout)")
    #expect(show.stdout.contains("grep -q fixed two.txt"))
    #expect(show.stdout.contains("two.txt | 1 +"))
    #expect(show.stdout.contains("+fixed"))
    let detail = box.orchestrate("show", "two", "--plan", "demo", "--json")
    let object = try JSONSerialization.jsonObject(with: Data(detail.stdout.utf8)) as? [String: Any]
    #expect((object?["attempts"] as? [[String: Any]])?.count == 1)
    #expect(box.orchestrate("show", "nope").status == 2)

    // A failed sub-task (left on its branch) is listed too.
    try box.write(
      "plan2.yml",
      """
      id: stuck
      description: a plan that stops
      max_attempts: 1
      subtasks:
        - id: never
          run: ["true"]
          checkpoint: { commands: ["false"] }
      """)
    #expect(box.orchestrate("run", "plan2.yml").status == 1)
    let stuck = box.orchestrate("log", "stuck")
    #expect(stuck.stdout.contains("never") && stuck.stdout.contains("failed") && stuck.stdout.contains("1 attempt"))
  }

  @Test("push and fetch carry plans and records: a fresh clone verifies with no command run")
  func recordsTravel() throws {
    let setup = try Setup()
    let box = setup.box
    try box.git("push", "-q", "origin", "main")
    let push = box.orchestrate("push")
    #expect(push.status == 0, "\(push.stderr)")
    let clone = box.root.appendingPathComponent("clone")
    try box.git("clone", "-q", "-b", "main", setup.remote.path, clone.path)
    let runs = setup.runs
    let fetch = box.orchestrate(["fetch"], in: clone)
    #expect(fetch.status == 0, "\(fetch.stderr)")
    let verify = box.orchestrate(["verify", "main"], in: clone)
    #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
    #expect(verify.stdout.contains("(0 checkpoints run)"))
    #expect(setup.runs == runs)
    // The clone's own record merges with the remote's on the next push.
    try setup.amendBroken()
    #expect(box.orchestrate("verify").status == 1)
    let again = box.orchestrate("push")
    #expect(again.status == 0, "\(again.stderr)")
  }
}
