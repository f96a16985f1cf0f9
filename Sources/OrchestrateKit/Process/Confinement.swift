import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A bubblewrap sandbox for the commands that run untrusted code: agents, and checkpoints (which
/// import the tests and `conftest.py` the agent wrote).
///
/// The process tree sees the whole file system read-only, except its work folder (the command's
/// directory), a private temporary folder made for each command (its `TMPDIR`, also its
/// `XDG_CACHE_HOME`), the folders in `writable` that exist and, for agents only, their state folders
/// in `agentWritable` (a checkpoint gets `forCheckpoints`, without them). The repository's git
/// directory is bound read-only again after those, so a writable folder above it (a work folder
/// kept inside `.git/orchestrate/work`, a home folder holding the repository) does not open it:
/// the agent can read history and run `git status` or `git diff` (git tolerates a read-only index),
/// but cannot move a ref, write a note, an object, the config or a hook. The tree gets its own pid
/// namespace, whose first process (bubblewrap's own) reaps and, when the command's shell exits,
/// takes every process left in it down with it, `setsid` and double-forked ones included; and its
/// own session, so that it cannot push keystrokes into the user's terminal (TIOCSTI). The network
/// stays on: agents call their model APIs.
public struct Confinement: Sendable, Equatable {
  /// `git config orchestrate.sandbox` and `--sandbox`.
  public enum Setting: String, Sendable, CaseIterable {
    /// The sandbox where it works; a notice, once, where it does not.
    case auto
    /// The sandbox, or exit 2 saying how to install it.
    case on
    /// No sandbox: detection only (fingerprints, and processes left behind are ended).
    case off
  }

  /// The bwrap executable.
  public var tool: String
  /// Folders and files that stay writable besides the work folder and the temporary folder, bound only if they exist.
  public var writable: [String]
  /// The agents' own state folders (`agentState(home:)`), writable for agents only: a checkpoint
  /// runs tests, not an agent, and gets them read-only (`forCheckpoints`).
  public var agentWritable: [String]
  /// Folders bound read-only again over any writable folder above them (a work folder inside stays writable).
  public var readOnly: [String]
  /// Where each command's private temporary folder is made (on the host).
  public var temporaryRoot: String

  public init(
    tool: String, writable: [String], agentWritable: [String] = [], readOnly: [String],
    temporaryRoot: String = NSTemporaryDirectory()
  ) {
    self.tool = tool
    self.writable = writable
    self.agentWritable = agentWritable
    self.readOnly = readOnly
    self.temporaryRoot = temporaryRoot
  }

  /// The agent state folders left writable under `home`.
  ///
  /// Claude Code writes its session transcripts, to-dos and state under these folders of
  /// `~/.claude` and its settings cache in `~/.claude.json`; aider writes `~/.aider` (analytics,
  /// caches). Not the whole of `~/.claude` (its `settings.json` holds hooks that run in the user's
  /// own sessions) nor `~/.cache` (pre-commit keeps the hook code it runs on the user's commits
  /// there): caches go to the private temporary folder through `XDG_CACHE_HOME`.
  public static func agentState(home: String) -> [String] {
    ["projects", "todos", "statsig", "shell-snapshots", "ide"].map { home + "/.claude/" + $0 }
      + [home + "/.claude.json", home + "/.aider"]
  }

  /// The same sandbox without the agents' state folders, for checkpoint commands: the tests an
  /// agent wrote cannot plant anything in `~/.claude` or `~/.aider` for the next agent, and each
  /// bind left out is one mount fewer to make per command (~0.13 ms each, 7 of them).
  public var forCheckpoints: Confinement {
    var confinement = self
    confinement.agentWritable = []
    return confinement
  }

  /// The bwrap arguments that run `command` with `/bin/sh -c` in `directory`, with `temporary` writable.
  ///
  /// Mounts are made shallowest first, so a deeper bind wins over its parent's: the git directory
  /// is read-only even under a writable home, and the work folder is writable inside it.
  public func arguments(command: String, directory: String, temporary: String) -> [String] {
    var arguments = [
      tool, "--die-with-parent", "--unshare-pid", "--new-session", "--ro-bind", "/", "/", "--dev", "/dev", "--proc",
      "/proc",
    ]
    // Bound by their real paths, so that the order below follows the real nesting of the folders.
    var mounts: [(path: String, writable: Bool)] = [(Self.real(directory), true), (Self.real(temporary), true)]
    for path in writable + agentWritable where Self.exists(path) { mounts.append((Self.real(path), true)) }
    for path in readOnly where Self.exists(path) { mounts.append((Self.real(path), false)) }
    var seen = Set<String>()
    let ordered = mounts.enumerated().filter { seen.insert($0.element.path).inserted }
      .sorted { ($0.element.path.split(separator: "/").count, $0.offset) < ($1.element.path.split(separator: "/").count, $1.offset) }
    for (_, mount) in ordered {
      arguments += [mount.writable ? "--bind" : "--ro-bind", mount.path, mount.path]
    }
    arguments += ["--chdir", directory, "--", "/bin/sh", "-c", command]
    return arguments
  }

  /// `environment` with the private temporary folder as TMPDIR (and TMP, TEMP) and as the cache home.
  public func environment(_ environment: [String: String], temporary: String) -> [String: String] {
    var environment = environment
    for key in ["TMPDIR", "TMP", "TEMP"] { environment[key] = temporary }
    environment["XDG_CACHE_HOME"] = temporary + "/cache"
    return environment
  }

  /// Makes the private temporary folder of one command.
  func makeTemporaryFolder() throws -> String {
    var template = Array((temporaryRoot.hasSuffix("/") ? temporaryRoot : temporaryRoot + "/").utf8CString.dropLast())
    template += Array("orchestrate-tmp-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else {
      throw ProcessRunnerError.spawnFailed(
        command: "mkdtemp", reason: "cannot make a temporary folder in \(temporaryRoot): \(errnoDescription())")
    }
    let path = String(cString: made)
    mkdir(path + "/cache", 0o700)
    return path
  }

  /// `path` with every symbolic link resolved; itself when it cannot be resolved.
  static func real(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  static func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
  }

  // MARK: - Resolving the setting

  /// The setting in force: the flag, then `git config orchestrate.sandbox`, then `auto`.
  /// - Throws: `ConfinementError.badSetting` for a configured value that is not auto, on or off.
  public static func setting(flag: Setting?, configured: String?) throws -> Setting {
    if let flag { return flag }
    guard let configured, !configured.isEmpty else { return .auto }
    guard let value = Setting(rawValue: configured.lowercased()) else { throw ConfinementError.badSetting(configured) }
    return value
  }

  /// The confinement to run agents and checkpoints under, once per session; nil means none.
  ///
  /// `auto` uses bubblewrap when it is installed and works here (probed once per process by
  /// running `bwrap … true`), and otherwise calls `notice` with why not; `on` throws instead.
  /// - Parameters:
  ///   - gitCommonDirectory: the repository's common git directory, bound read-only.
  ///   - home: the home folder whose agent state folders stay writable (`agentState(home:)`).
  ///   - extraWritable: more folders to leave writable (they must exist to be bound).
  /// - Throws: `ConfinementError` when the setting is `on` and the sandbox cannot be used.
  public static func resolve(
    setting: Setting, gitCommonDirectory: String, home: String? = ProcessInfo.processInfo.environment["HOME"],
    extraWritable: [String] = [], notice: (String) -> Void
  ) throws -> Confinement? {
    if setting == .off { return nil }
    let problem: ConfinementError
    switch probe() {
    case .success(let tool):
      let common = URL(fileURLWithPath: gitCommonDirectory).resolvingSymlinksInPath().path
      // Only existing folders can be bound: make the agents' state folders, so that a first run
      // (Claude Code keeping its session under ~/.claude/projects) works inside the sandbox too.
      for folder in (home.map(agentState(home:)) ?? []) where !folder.hasSuffix(".json") {
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      }
      return Confinement(
        tool: tool, writable: extraWritable, agentWritable: home.map(agentState(home:)) ?? [], readOnly: [common])
    case .failure(let error):
      problem = error
    }
    if setting == .on { throw problem }
    notice(
      "agents and checkpoints run without a sandbox (\(problem.reason)); changes to git state are still detected. "
        + "Set 'git config orchestrate.sandbox off' to silence this, or 'on' to require the sandbox")
    return nil
  }

  /// Throws, saying why and how to fix it, when the sandbox cannot be used here.
  public static func requireAvailable() throws {
    if case .failure(let error) = probe() { throw error }
  }

  /// Whether bubblewrap works here, found and probed once per process.
  static func probe() -> Result<String, ConfinementError> {
    probeCache.withLock { cached in
      if let cached { return cached }
      let result = runProbe()
      cached = result
      return result
    }
  }

  private static let probeCache = LockedBox<Result<String, ConfinementError>?>(nil)

  private static func runProbe() -> Result<String, ConfinementError> {
    #if os(Linux)
      let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
      let candidates = path.split(separator: ":").map { String($0) + "/bwrap" }
      guard let tool = candidates.first(where: { access($0, X_OK) == 0 }) else { return .failure(.notInstalled) }
      let confinement = Confinement(tool: tool, writable: [], readOnly: [])
      var spec = CommandSpec(command: "true", directory: "/", environment: ["PATH": "/usr/bin:/bin"], timeout: 10)
      spec.confinement = confinement
      spec.tailBytes = 2000
      do {
        let result = try ProcessRunner().run(spec)
        guard result.succeeded else {
          let output = result.outputTail.trimmingCharacters(in: .whitespacesAndNewlines)
          return .failure(.unusable(tool: tool, reason: output.isEmpty ? result.summary : output))
        }
        return .success(tool)
      } catch {
        return .failure(.unusable(tool: tool, reason: error.localizedDescription))
      }
    #else
      return .failure(.unsupportedPlatform)
    #endif
  }
}

/// Why the sandbox cannot be used.
public enum ConfinementError: LocalizedError, Equatable {
  /// bwrap is not on PATH.
  case notInstalled
  /// bwrap is there but cannot make its namespaces here (a container without user namespaces, for one).
  case unusable(tool: String, reason: String)
  /// No bubblewrap on this system (macOS).
  case unsupportedPlatform
  /// `orchestrate.sandbox` holds something other than auto, on or off.
  case badSetting(String)

  /// A short phrase for the notice of `auto`.
  public var reason: String {
    switch self {
    case .notInstalled: "bubblewrap is not installed; 'apt-get install bubblewrap' installs it"
    case .unusable(let tool, let reason): "\(tool) does not work here: \(reason)"
    case .unsupportedPlatform: "this system has no bubblewrap"
    case .badSetting(let value): "orchestrate.sandbox is '\(value)'"
    }
  }

  public var errorDescription: String? {
    switch self {
    case .notInstalled:
      "the sandbox is on but bubblewrap is not installed; install it ('apt-get install bubblewrap'), or run with --sandbox auto or off"
    case .unusable(let tool, let reason):
      "the sandbox is on but \(tool) does not work here (\(reason)); allow unprivileged user namespaces or run as root, or run with --sandbox auto or off"
    case .unsupportedPlatform:
      "the sandbox is on but this system has no bubblewrap (it is Linux only); run with --sandbox auto or off: changes to git state are still detected"
    case .badSetting(let value):
      "git config orchestrate.sandbox is '\(value)'; set it to auto, on or off, e.g. 'git config orchestrate.sandbox auto'"
    }
  }
}
