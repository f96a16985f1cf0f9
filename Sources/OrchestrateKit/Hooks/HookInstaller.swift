import Foundation
import GitKit

/// What `hooks status` reports.
public struct HookStatus: Codable, Sendable, Equatable {
  public enum State: String, Codable, Sendable {
    /// Our hook, this version.
    case installed
    /// Our hook, another version: `hooks install` updates it.
    case outdated
    /// No pre-push hook at all.
    case absent
    /// Someone else's pre-push hook, not chained to ours.
    case foreign
  }

  public var hooksDirectory: String
  /// Whether the directory comes from `core.hooksPath`.
  public var fromHooksPath: Bool
  public var state: State
  /// The user's own hook, kept and run first by ours, when there is one.
  public var chainedHook: String?
  /// The git-orchestrate binary our hook records (absolute path), when it records one.
  public var binary: String?
  /// Whether that binary is still there and executable.
  public var binaryPresent: Bool?

  enum CodingKeys: String, CodingKey {
    case state, binary
    case hooksDirectory = "hooks_directory"
    case fromHooksPath = "from_hooks_path"
    case chainedHook = "chained_hook"
    case binaryPresent = "binary_present"
  }
}

/// Puts the pre-push hook where git runs it, without ever losing a hook the user already has.
///
/// Where: `core.hooksPath` when set (a relative path is relative to the work tree, as git reads it),
/// else the common git directory's `hooks/` (shared by all worktrees). A user's hook is renamed to
/// `pre-push.orchestrate-chained` (a rename keeps its bytes, mode and symlink-ness) and our hook runs
/// it first with the same arguments and input; `uninstall` renames it back.
public struct HookInstaller {
  public static let hookName = "pre-push"
  public static let chainedName = "pre-push.orchestrate-chained"

  public let repository: Repository
  /// The binary the hook records and runs: by default this process's own executable.
  public let binary: String?

  public init(repository: Repository, binary: String? = HookInstaller.currentExecutable()) {
    self.repository = repository
    self.binary = binary
  }

  /// The absolute path of the running executable (symlinks resolved), or nil when it cannot be told.
  public static func currentExecutable() -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    if count > 0 { return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    guard let path = Bundle.main.executablePath, path.hasPrefix("/") else { return nil }
    return (path as NSString).resolvingSymlinksInPath
  }

  /// The script this installer writes.
  var script: String { PrePushScript.text(binary: binary) }

  public enum InstallOutcome: String, Sendable {
    case installed, updated, unchanged
  }

  public enum UninstallOutcome: String, Sendable {
    /// Ours removed; the user's hook, if any, is back in place.
    case removed
    /// Nothing of ours was there.
    case notInstalled
  }

  /// The directory git runs hooks from, and whether `core.hooksPath` chose it.
  public func hooksDirectory() throws -> (path: String, fromHooksPath: Bool) {
    if var configured = try repository.configString("core.hooksPath"), !configured.isEmpty {
      if configured == "~" || configured.hasPrefix("~/") {
        configured = (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + configured.dropFirst()
      }
      if !configured.hasPrefix("/") {
        configured = (repository.workingDirectory ?? repository.gitDirectory) + "/" + configured
      }
      return ((configured as NSString).standardizingPath, true)
    }
    return (repository.commonDirectory + "/hooks", false)
  }

  public func status() throws -> HookStatus {
    let (directory, fromHooksPath) = try hooksDirectory()
    let hook = directory + "/" + Self.hookName
    let chained = directory + "/" + Self.chainedName
    let state: HookStatus.State
    var recorded: String?
    if !Self.exists(hook) {
      state = .absent
    } else if let text = try? String(contentsOfFile: hook, encoding: .utf8), text.contains(PrePushScript.marker) {
      recorded = PrePushScript.recordedBinary(in: text)
      // This version, recording this binary: installed. Another binary's path or another version: outdated.
      state = text == script && Self.isExecutable(hook) ? .installed : .outdated
    } else {
      state = .foreign
    }
    return HookStatus(
      hooksDirectory: directory, fromHooksPath: fromHooksPath, state: state,
      chainedHook: Self.exists(chained) && state != .foreign ? chained : nil, binary: recorded,
      binaryPresent: recorded.map(Self.isExecutable))
  }

  /// Installs (or updates) the hook; installing again changes nothing.
  /// - Throws: `OrchestrateError.io` when a kept hook is already in the way of the user's current one.
  @discardableResult
  public func install() throws -> InstallOutcome {
    let current = try status()
    let directory = current.hooksDirectory
    let hook = directory + "/" + Self.hookName
    let chained = directory + "/" + Self.chainedName
    switch current.state {
    case .installed:
      return .unchanged
    case .outdated:
      try write(hook)
      return .updated
    case .absent:
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      try write(hook)
      return .installed
    case .foreign:
      if Self.exists(chained) {
        throw OrchestrateError.io(
          "\(hook) is a hook of yours, and \(chained) (a hook kept by an earlier install) is also there; move one of them away, then install again"
        )
      }
      guard rename(hook, chained) == 0 else {
        throw OrchestrateError.io("cannot keep your hook \(hook) as \(chained): \(String(cString: strerror(errno)))")
      }
      do {
        try write(hook)
      } catch {
        rename(chained, hook)
        throw error
      }
      return .installed
    }
  }

  /// Removes our hook and puts the user's back exactly as it was.
  @discardableResult
  public func uninstall() throws -> UninstallOutcome {
    let current = try status()
    let hook = current.hooksDirectory + "/" + Self.hookName
    let chained = current.hooksDirectory + "/" + Self.chainedName
    switch current.state {
    case .foreign:
      return .notInstalled
    case .absent:
      // A kept hook with nothing in front of it (ours deleted by hand): put it back.
      guard Self.exists(chained) else { return .notInstalled }
    case .installed, .outdated:
      guard unlink(hook) == 0 else {
        throw OrchestrateError.io("cannot remove \(hook): \(String(cString: strerror(errno)))")
      }
    }
    if Self.exists(chained), rename(chained, hook) != 0 {
      throw OrchestrateError.io(
        "removed the hook but cannot restore yours from \(chained): \(String(cString: strerror(errno))); rename it to \(hook) by hand"
      )
    }
    return .removed
  }

  /// Writes the script next to its final place and renames it there, so git never runs half a hook.
  private func write(_ hook: String) throws {
    let temporary = hook + ".orchestrate-tmp"
    guard FileManager.default.createFile(atPath: temporary, contents: Data(script.utf8)) else {
      throw OrchestrateError.io("cannot write \(temporary): check that the hooks directory is writable")
    }
    chmod(temporary, 0o755)
    guard rename(temporary, hook) == 0 else {
      unlink(temporary)
      throw OrchestrateError.io("cannot install \(hook): \(String(cString: strerror(errno)))")
    }
  }

  /// True for any directory entry, a dangling symlink included.
  static func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
  }

  static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }
}
