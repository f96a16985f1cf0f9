import Foundation
import GitKit
import TestSupport
import Testing

@testable import OrchestrateKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whether bubblewrap can make its namespaces here (it cannot in some containers).
let bubblewrapWorks: Bool = {
  if case .success = Confinement.probe() { return true }
  return false
}()

/// The sandbox's command line, the setting, a real confined command, and the fingerprint.
@Suite("Confinement")
struct ConfinementTests {
  static let common = "/work/repo/.git"

  // MARK: - The bwrap command line

  /// The `--bind`/`--ro-bind` pairs of a command line, in order.
  static func mounts(_ arguments: [String]) -> [String] {
    var found: [String] = []
    var index = 0
    while index < arguments.count {
      if arguments[index] == "--bind" || arguments[index] == "--ro-bind" {
        found.append((arguments[index] == "--bind" ? "rw " : "ro ") + arguments[index + 1])
        index += 3
      } else {
        index += 1
      }
    }
    return found
  }

  @Test("a work folder inside the git directory is bound writable after the git directory is bound read-only")
  func workFolderInsideGitDirectory() throws {
    try withTemporaryDirectoryPath { root in
      let git = root + "/repo/.git"
      let work = git + "/orchestrate/work/plan"
      try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
      let confinement = Confinement(tool: "/usr/bin/bwrap", writable: [], readOnly: [git])
      let arguments = confinement.arguments(command: "make test", directory: work, temporary: root)
      #expect(Array(arguments.prefix(11)) == [
        "/usr/bin/bwrap", "--die-with-parent", "--unshare-pid", "--new-session", "--ro-bind", "/", "/", "--dev", "/dev",
        "--proc", "/proc",
      ])
      #expect(Self.mounts(arguments) == ["ro /", "rw \(root)", "ro \(git)", "rw \(work)"])
      #expect(Array(arguments.suffix(6)) == ["--chdir", work, "--", "/bin/sh", "-c", "make test"])
    }
  }

  @Test("a writable home above the git directory does not open it; missing agent folders are not bound")
  func writableAboveGitDirectory() throws {
    try withTemporaryDirectoryPath { root in
      let home = root + "/home"
      let git = home + "/src/repo/.git"
      let work = root + "/work"
      for path in [git, work, home + "/.claude/projects"] {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
      }
      let confinement = Confinement(
        tool: "bwrap", writable: [home] + Confinement.agentState(home: home), readOnly: [git])
      let mounts = Self.mounts(confinement.arguments(command: "true", directory: work, temporary: root + "/tmp"))
      #expect(mounts.contains("rw \(home)/.claude/projects"))
      #expect(!mounts.contains { $0.hasSuffix("/.claude.json") || $0.hasSuffix("/.aider") || $0.hasSuffix("/todos") })
      let homeIndex = try #require(mounts.firstIndex(of: "rw \(home)"))
      let gitIndex = try #require(mounts.firstIndex(of: "ro \(git)"))
      #expect(homeIndex < gitIndex)
    }
  }

  @Test("the environment gets the private temporary folder as TMPDIR and cache home, and keeps the rest")
  func environment() {
    let confinement = Confinement(tool: "bwrap", writable: [], readOnly: [])
    let env = confinement.environment(["PATH": "/bin", "TMPDIR": "/tmp"], temporary: "/tmp/orchestrate-tmp-1")
    #expect(env["PATH"] == "/bin")
    #expect(env["TMPDIR"] == "/tmp/orchestrate-tmp-1")
    #expect(env["TMP"] == "/tmp/orchestrate-tmp-1")
    #expect(env["XDG_CACHE_HOME"] == "/tmp/orchestrate-tmp-1/cache")
  }

  @Test("the setting: the flag wins, then the configured value, then auto; a bad value is an error naming it")
  func setting() throws {
    #expect(try Confinement.setting(flag: .off, configured: "on") == .off)
    #expect(try Confinement.setting(flag: nil, configured: "ON") == .on)
    #expect(try Confinement.setting(flag: nil, configured: nil) == .auto)
    #expect(try Confinement.setting(flag: nil, configured: "") == .auto)
    #expect(throws: ConfinementError.badSetting("yes")) { try Confinement.setting(flag: nil, configured: "yes") }
    #expect(ConfinementError.badSetting("yes").errorDescription?.contains("auto, on or off") == true)
    #expect(ConfinementError.notInstalled.errorDescription?.contains("apt-get install bubblewrap") == true)
  }

  @Test("off resolves to no sandbox without probing; on and auto resolve to one where bubblewrap works")
  func resolve() throws {
    var notices: [String] = []
    #expect(try Confinement.resolve(setting: .off, gitCommonDirectory: Self.common) { notices.append($0) } == nil)
    #expect(notices.isEmpty)
    if bubblewrapWorks {
      let on = try #require(try Confinement.resolve(setting: .on, gitCommonDirectory: "/", home: "/nowhere") { notices.append($0) })
      #expect(on.readOnly == ["/"])
      #expect(try Confinement.resolve(setting: .auto, gitCommonDirectory: "/") { notices.append($0) } != nil)
      #expect(notices.isEmpty)
    }
  }

  // MARK: - A confined command

  @Test(
    "a confined command writes its work folder and TMPDIR only, and what it started in a new session is gone when it ends",
    .enabled(if: bubblewrapWorks))
  func confinedCommand() throws {
    try withTemporaryDirectoryPath { root in
      let work = root + "/work"
      let outside = root + "/outside"
      try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
      let marker = "1200.\(Int.random(in: 100_000...999_999))"
      let script = """
        echo made > made.txt
        touch \(outside) 2>/dev/null && echo wrote-outside
        echo "$TMPDIR" > tmpdir.txt && touch "$TMPDIR/scratch"
        setsid sleep \(marker) &
        echo "$!" > child.pid
        """
      var spec = CommandSpec(command: script, directory: work, environment: ["PATH": "/usr/bin:/bin"], timeout: 30)
      spec.confinement = Confinement(tool: "/usr/bin/bwrap", writable: [], readOnly: [], temporaryRoot: root)
      let result = try ProcessRunner().run(spec)
      #expect(result.succeeded, "\(result.outputTail)")
      #expect(!result.outputTail.contains("wrote-outside"))
      #expect(!FileManager.default.fileExists(atPath: outside))
      #expect(FileManager.default.fileExists(atPath: work + "/made.txt"))
      let tmpdir = try String(contentsOfFile: work + "/tmpdir.txt", encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(tmpdir.hasPrefix(root + "/orchestrate-tmp-"))
      #expect(!FileManager.default.fileExists(atPath: tmpdir), "the private temporary folder is removed")
      #expect(eventually("the processes to end") { processes(withArguments: ["sleep", marker]).isEmpty })
    }
  }

  // MARK: - Orphans

  @Test("/proc/<pid>/stat is read after the command name: parent and start time")
  func statFields() throws {
    let fields = try #require(Orphans.statFields(of: getpid()))
    #expect(fields.parent == getppid())
    #expect(fields.start > 0)
    #expect(Orphans.statFields(of: -1) == nil)
  }

  // MARK: - The fingerprint

  @Test("the fingerprint sees main, the notes and refs/orchestrate move, and puts them back by compare-and-swap")
  func fingerprintRefs() throws {
    let repo = try TemporaryRepository()
    let repository = try Repository(path: repo.path)
    let base = try repository.revparse("main")
    try repo.git("update-ref", "refs/orchestrate/plans/demo", base.hex)
    let before = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    #expect(before.changes(to: try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")).isEmpty)

    try repo.write("evil.txt", "evil\n")
    try repo.git("add", "evil.txt")
    try repo.git("commit", "-q", "-m", "forged\n\nOrchestrate-Plan: demo\nOrchestrate-Subtask: 1/1 one")
    let forged = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    try repo.git("notes", "--ref", "orchestrate", "add", "-m", "passed 9999", "HEAD")
    try repo.git("update-ref", "refs/orchestrate/plans/demo", forged)
    try repo.git("update-ref", "refs/orchestrate/plans/planted", forged)

    let after = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    #expect(try before.acceptingOrdinaryMainMove(in: after, repository: repository) == after, "a claiming commit is not ordinary")
    let changes = before.changes(to: after)
    #expect(changes.contains("refs/heads/main moved from \(base.hex.prefix(10)) to \(forged.prefix(10))"), "\(changes)")
    #expect(changes.contains { $0.hasPrefix("refs/notes/orchestrate created at") }, "\(changes)")
    #expect(changes.contains { $0.hasPrefix("refs/orchestrate/plans/demo moved") }, "\(changes)")
    #expect(changes.contains { $0.hasPrefix("refs/orchestrate/plans/planted created") }, "\(changes)")

    let (restored, failed) = before.restoreRefs(changedIn: after, repository: repository)
    #expect(failed.isEmpty)
    #expect(Set(restored) == ["refs/heads/main", "refs/notes/orchestrate", "refs/orchestrate/plans/demo", "refs/orchestrate/plans/planted"])
    #expect(try repository.resolve("refs/heads/main") == base)
    #expect(try repository.resolve("refs/notes/orchestrate") == nil)
    #expect(try repository.resolve("refs/orchestrate/plans/demo") == base)
    #expect(try repository.resolve("refs/orchestrate/plans/planted") == nil)
  }

  @Test("the tool's own writes since a fingerprint are told from anyone else's (a parallel run's new baseline)")
  func toolWritesAreKnown() throws {
    let repo = try TemporaryRepository()
    let repository = try Repository(path: repo.path)
    let base = try repository.revparse("main")
    try repo.git("update-ref", "refs/orchestrate/plans/demo", base.hex)
    let before = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    // The tool writes two refs (through GitKit, by any handle); an agent beside it writes a third,
    // moves one the tool wrote, and plants a hook.
    try repo.git("commit", "-q", "--allow-empty", "-m", "landed\n\nOrchestrate-Plan: demo")
    let landed = try repository.revparse("HEAD")
    try repo.git("update-ref", "refs/heads/main", base.hex)
    try Repository(path: repo.path).updateReference("refs/heads/main", to: landed, expected: base, message: "tool")
    try repository.setReference("refs/orchestrate/branches/demo/01-one", to: landed, message: "tool")
    try repository.setReference("refs/orchestrate/branches/demo/02-two", to: landed, message: "tool")
    try repo.git("update-ref", "refs/orchestrate/branches/demo/02-two", base.hex)
    try repo.git("update-ref", "refs/orchestrate/plans/demo", landed.hex)
    try repo.write(".git/hooks/post-commit", "#!/bin/sh\n")
    let after = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    let changes = before.expecting(toolWritesIn: after).changes(to: after)
    #expect(!changes.contains { $0.hasPrefix("refs/heads/main") }, "the tool's landing: \(changes)")
    #expect(!changes.contains { $0.hasPrefix("refs/orchestrate/branches/demo/01-one") }, "\(changes)")
    #expect(changes.contains { $0.hasPrefix("refs/orchestrate/branches/demo/02-two created") }, "moved after the tool wrote it: \(changes)")
    #expect(changes.contains { $0.hasPrefix("refs/orchestrate/plans/demo moved") }, "\(changes)")
    #expect(changes.contains { $0.hasPrefix("hook added") && $0.hasSuffix("/hooks/post-commit") }, "\(changes)")
    #expect(changes.count == 3, "\(changes)")
  }

  @Test("a ref the tool deleted that git gc brings back with the value the tool gave it is deleted again, not taken for tampering")
  func resurrectedRefIsSettled() throws {
    let repo = try TemporaryRepository()
    let repository = try Repository(path: repo.path)
    let base = try repository.revparse("main")
    try repository.setReference("refs/orchestrate/checkout-sync-test", to: base, message: "tool")
    try repository.deleteReference("refs/orchestrate/checkout-sync-test")
    let before = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    // pack-refs read the loose ref just before the deletion and wrote it into packed-refs after it.
    try repo.git("update-ref", "refs/orchestrate/checkout-sync-test", base.hex)
    // Someone else's ref with the same value, and the tool's ref with a value it never gave it.
    try repo.git("update-ref", "refs/orchestrate/planted", base.hex)
    let after = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    let changes = before.changes(to: before.settlingResurrections(in: after, repository: repository))
    #expect(changes.count == 1 && changes[0].hasPrefix("refs/orchestrate/planted created"), "\(changes)")
    #expect(try repository.resolve("refs/orchestrate/checkout-sync-test") == nil, "deleted again")
    try repo.git("commit", "-q", "--allow-empty", "-m", "other")
    try repo.git("update-ref", "refs/orchestrate/checkout-sync-test", "HEAD")
    let again = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    #expect(before.changes(to: before.settlingResurrections(in: again, repository: repository)).contains {
      $0.hasPrefix("refs/orchestrate/checkout-sync-test created")
    }, "a value the tool never gave it is someone's change")
  }

  @Test("a ref moved again after the fingerprint is not overwritten: it is reported as not put back")
  func restoreIsCompareAndSwap() throws {
    let repo = try TemporaryRepository()
    let repository = try Repository(path: repo.path)
    let base = try repository.revparse("main")
    let before = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    try repo.git("commit", "-q", "--allow-empty", "-m", "one\n\nOrchestrate-Plan: x")
    let after = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    try repo.git("commit", "-q", "--allow-empty", "-m", "two")
    let (restored, failed) = before.restoreRefs(changedIn: after, repository: repository)
    #expect(restored.isEmpty)
    #expect(failed.count == 1 && failed[0].hasPrefix("refs/heads/main could not be put back"), "\(failed)")
    #expect(try repository.resolve("refs/heads/main") != base)
  }

  @Test("main moved forward by commits that claim no sub-task is someone else's work, not tampering")
  func ordinaryMainMove() throws {
    let repo = try TemporaryRepository()
    let repository = try Repository(path: repo.path)
    let before = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    try repo.git("commit", "-q", "--allow-empty", "-m", "user work")
    let after = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    #expect(before.changes(to: try before.acceptingOrdinaryMainMove(in: after, repository: repository)).isEmpty)
    // Rewound past where it was: not ordinary.
    try repo.git("update-ref", "refs/heads/main", "HEAD~1")
    try repo.git("commit", "-q", "--allow-empty", "-m", "rewritten")
    let rewritten = try GitGuard.capture(repository, workspaces: [], mainRef: "refs/heads/main")
    #expect(!after.changes(to: try after.acceptingOrdinaryMainMove(in: rewritten, repository: repository)).isEmpty)
  }

  @Test("info/exclude, info/attributes and a work-tree-relative core.hooksPath are in the fingerprint")
  func fingerprintFiles() throws {
    let repo = try TemporaryRepository()
    try FileManager.default.createDirectory(atPath: repo.path + "/.githooks", withIntermediateDirectories: true)
    try repo.write(".githooks/pre-commit", "#!/bin/sh\n")
    try repo.git("config", "core.hooksPath", ".githooks")
    let repository = try Repository(path: repo.path)
    let before = try GitGuard.capture(repository, workspaces: [])
    try repo.write(".git/info/exclude", "secret.txt\n")
    try repo.write(".git/info/attributes", "* -diff\n")
    try repo.write(".githooks/pre-commit", "#!/bin/sh\ntouch /tmp/pwned\n")
    let changes = before.changes(to: try GitGuard.capture(repository, workspaces: []))
    #expect(changes.contains { $0.hasPrefix("file changed") && $0.hasSuffix("/info/exclude") }, "\(changes)")
    #expect(changes.contains { $0.hasPrefix("file created") && $0.hasSuffix("/info/attributes") }, "\(changes)")
    #expect(changes.contains { $0.hasPrefix("hook changed") && $0.hasSuffix("/.githooks/pre-commit") }, "\(changes)")
  }

  @Test("the global and XDG config files are watched where git reads them")
  func globalConfigFiles() {
    let files = GitGuard.configFiles(commonDirectory: "/r/.git")
    #expect(files.contains("/r/.git/info/exclude") && files.contains("/r/.git/info/attributes"))
    let environment = ProcessInfo.processInfo.environment
    if environment["GIT_CONFIG_GLOBAL"] == nil, let home = environment["HOME"] {
      #expect(files.contains(home + "/.gitconfig"))
    }
    if environment["XDG_CONFIG_HOME"] == nil, let home = environment["HOME"] {
      #expect(files.contains(home + "/.config/git/config"))
    }
  }
}

/// Pids of the processes whose command line is exactly `arguments`.
func processes(withArguments arguments: [String]) -> [pid_t] {
  let wanted = arguments.joined(separator: "\0") + "\0"
  return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name in
    guard let pid = pid_t(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
    guard String(decoding: data, as: UTF8.self) == wanted, !processIsGone(pid) else { return nil }
    return pid
  }
}
