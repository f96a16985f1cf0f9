import Foundation
import TestSupport
import Testing

/// The pre-push hook where a user's tools differ from a terminal's: a PATH without git-orchestrate,
/// a binary that was removed, remote-tracking refs that lie; through `git push` as a user runs it.
@Suite("hooks integrity", .serialized)
struct HookIntegrityTests {
  /// `HooksTests.Setup` with the hook installed by a copy of the binary outside the build folder.
  final class CopiedBinary {
    let setup: HooksTests.Setup
    let binary: URL
    var box: TemporaryRepository { setup.box }

    init() throws {
      setup = try HooksTests.Setup()
      let folder = setup.box.root.appendingPathComponent("bin")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      binary = folder.appendingPathComponent("git-orchestrate")
      try FileManager.default.copyItem(at: orchestrateBinary, to: binary)
      let install = setup.box.run(binary.path, ["hooks", "install"], in: setup.box.url)
      guard install.status == 0 else { throw TestCommandError("install: \(install.stderr)") }
    }

    /// `git push ARGS` with a PATH that has git but no git-orchestrate, as a GUI's may be.
    func pushWithoutOrchestrateOnPath(_ args: [String]) -> CommandOutput {
      var environment = box.environment
      environment["PATH"] = "/usr/bin:/bin"
      return box.run("/usr/bin/git", ["push"] + args, in: box.url, environment: environment)
    }
  }

  @Test(
    "the hook records the installing binary: a PATH without git-orchestrate still checks, and says nothing for valid work"
  )
  func recordedBinaryRuns() throws {
    let copied = try CopiedBinary()
    let hook = try String(contentsOf: copied.box.url.appendingPathComponent(".git/hooks/pre-push"), encoding: .utf8)
    #expect(hook.contains("installed='\(copied.binary.path)'"), "\(hook.prefix(900))")
    let status = copied.box.run(copied.binary.path, ["hooks", "status"], in: copied.box.url)
    #expect(
      status.stdout.contains("installed") && status.stdout.contains("runs: \(copied.binary.path)"), "\(status.stdout)")

    let push = copied.pushWithoutOrchestrateOnPath(["-q", "origin", "main"])
    #expect(push.status == 0, "\(push.stderr)")
    #expect(push.stderr.isEmpty, "\(push.stderr)")
    #expect(copied.setup.remoteRef("main") == (try copied.box.git("rev-parse", "main")))
  }

  @Test(
    "the recorded binary gone and none on PATH: a push with no sub-task commit goes on with a warning, one with sub-task commits is refused with the how-to"
  )
  func binaryGone() throws {
    let copied = try CopiedBinary()
    let box = copied.box
    try FileManager.default.removeItem(at: copied.binary)
    // A branch from what the remote has, with a commit of the user's: nothing for the tool to check.
    try box.git("checkout", "-q", "-b", "feature", "origin/main")
    try box.write("feature.txt", "mine\n")
    try box.git("add", "feature.txt")
    try box.git("commit", "-q", "-m", "my own work")
    let feature = copied.pushWithoutOrchestrateOnPath(["origin", "feature"])
    #expect(feature.status == 0, "\(feature.stderr)")
    #expect(feature.stderr.contains("WARNING") && feature.stderr.contains(copied.binary.path), "\(feature.stderr)")
    #expect(copied.setup.remoteRef("refs/heads/feature") == (try box.git("rev-parse", "feature")))

    // main carries the sub-task commits: refused, saying how to reinstall, uninstall or bypass.
    let before = copied.setup.remoteRef("main")
    let main = copied.pushWithoutOrchestrateOnPath(["origin", "main"])
    #expect(main.status != 0)
    #expect(main.stderr.contains("push refused"), "\(main.stderr)")
    #expect(main.stderr.contains("refs/heads/main"), "\(main.stderr)")
    #expect(main.stderr.contains("hooks install"), "\(main.stderr)")
    #expect(main.stderr.contains("hooks uninstall"), "\(main.stderr)")
    #expect(main.stderr.contains("git push --no-verify"), "\(main.stderr)")
    #expect(copied.setup.remoteRef("main") == before)

    // A local remote-tracking ref at main's tip does not make the commits "on the remote".
    try box.git("update-ref", "refs/remotes/origin/x", "main")
    #expect(copied.pushWithoutOrchestrateOnPath(["origin", "main"]).status != 0)
    #expect(copied.pushWithoutOrchestrateOnPath(["-q", "--no-verify", "origin", "main"]).status == 0)
  }

  @Test("a local refs/remotes/origin/x at a failing sub-task commit does not make the hook skip it")
  func remoteTrackingRefIgnored() throws {
    let setup = try HooksTests.Setup()
    let box = setup.box
    #expect(box.orchestrate("hooks", "install").status == 0)
    try setup.amendBroken()
    try box.git("update-ref", "refs/remotes/origin/x", "main")
    try box.git("update-ref", "refs/remotes/origin/main", "main")
    let before = setup.remoteRef("main")
    let push = box.run("/usr/bin/env", ["git", "push", "origin", "main"], in: box.url)
    #expect(push.status != 0)
    #expect(push.stderr.contains("plan demo, sub-task 2 two"), "\(push.stderr)")
    #expect(setup.remoteRef("main") == before)
  }

  @Test("what the remote already has is not checked again, by the remote's own refs")
  func remoteAdvertisedHidden() throws {
    let setup = try HooksTests.Setup()
    let box = setup.box
    #expect(box.orchestrate("hooks", "install").status == 0)
    try setup.amendBroken()
    // The broken commit reaches the remote on another branch (bypassing the hook) ...
    try box.git("push", "-q", "--no-verify", "origin", "main:refs/heads/elsewhere")
    // ... and a local branch at it is pushed as a new branch: the remote has every commit already.
    try box.git("branch", "copy", "main")
    let push = box.run("/usr/bin/env", ["git", "push", "origin", "copy"], in: box.url)
    #expect(push.status == 0, "\(push.stderr)")
  }
}
