import Foundation

/// One run per repository: an exclusive lock file holding the holder's pid and plan.
///
/// A lock whose pid no longer exists on this host is stale and is taken over; a live one is refused
/// with the holder named, so the user knows which process to wait for or stop.
public final class RepositoryLock {
  public struct Holder: Codable, Sendable, Equatable {
    public var pid: Int32
    public var host: String
    public var plan: String
    public var command: String
    public var started: Date
  }

  public let path: String
  public private(set) var isHeld = false
  /// Whether `acquire` took the lock over from a holder that had died (killed, crashed).
  public private(set) var recoveredStale = false
  /// When the lock was taken over: when the dead run that held it had started.
  public private(set) var staleHolderStarted: Date?

  public init(path: String) {
    self.path = path
  }

  deinit { release() }

  /// Takes the lock or throws `OrchestrateError.locked` naming the live holder.
  public func acquire(plan: String, command: String) throws {
    if isHeld { return }
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let me = Holder(
      pid: getpid(), host: ProcessInfo.processInfo.hostName, plan: plan, command: command,
      started: Date())
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    let data = try encoder.encode(me)
    for _ in 0..<3 {
      let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
      if fd >= 0 {
        defer { close(fd) }
        _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        isHeld = true
        return
      }
      guard errno == EEXIST else {
        throw OrchestrateError.io("cannot create the lock file \(path): \(String(cString: strerror(errno)))")
      }
      if let holder = Self.readHolder(path), holder.isAlive {
        throw OrchestrateError.locked(holder: holder, path: path)
      }
      // Stale (dead pid or unreadable): remove it and try again.
      staleHolderStarted = Self.readHolder(path)?.started
      unlink(path)
      recoveredStale = true
    }
    throw OrchestrateError.io("cannot take the lock \(path); remove it if no git orchestrate is running")
  }

  public func release() {
    guard isHeld else { return }
    if let holder = Self.readHolder(path), holder.pid == getpid() { unlink(path) }
    isHeld = false
  }

  /// The current holder, if the lock exists and its process lives.
  public static func liveHolder(at path: String) -> Holder? {
    guard let holder = readHolder(path), holder.isAlive else { return nil }
    return holder
  }

  static func readHolder(_ path: String) -> Holder? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try? decoder.decode(Holder.self, from: data)
  }
}

extension RepositoryLock.Holder {
  /// Whether the holder still runs: same host and `kill(pid, 0)` finds it.
  var isAlive: Bool {
    guard host == ProcessInfo.processInfo.hostName else { return true }
    if pid == getpid() { return true }
    return kill(pid, 0) == 0 || errno == EPERM
  }
}

extension RepositoryLock {
  /// Removes the `.lock` files a killed run left on git-orchestrate's own refs and worktrees.
  ///
  /// Only called after taking the lock over from a dead holder: nothing else writes those refs,
  /// so such a file can only be that run's, and git would otherwise refuse the ref for good.
  /// The user's own refs, index and HEAD are never touched: a lock there may be a live git's.
  static func removeStaleGitLocks(layout: Layout, deadRunStarted: Date?, mainRef: String, userGitDirectory: String?) {
    let common = layout.commonDirectory
    let folders = [
      "refs/heads/orchestrate", "refs/orchestrate", "logs/refs/heads/orchestrate", "logs/refs/orchestrate",
    ]
    let fileManager = FileManager.default
    for folder in folders {
      guard let walker = fileManager.enumerator(atPath: common + "/" + folder) else { continue }
      for case let relative as String in walker where relative.hasSuffix(".lock") {
        unlink(common + "/" + folder + "/" + relative)
      }
    }
    for file in ["refs/notes/orchestrate.lock", "logs/refs/notes/orchestrate.lock"] { unlink(common + "/" + file) }
    // The dead run also wrote main and the user's index: a lock there that it created (made after
    // it started) and that no live git holds is its own, and would otherwise stop every later run.
    // git holds such a lock for milliseconds, so one still there after two seconds is not a live git's.
    if let started = deadRunStarted {
      var candidates = [
        common + "/" + mainRef + ".lock", common + "/logs/" + mainRef + ".lock", common + "/packed-refs.lock",
      ]
      if let userGitDirectory { candidates.append(userGitDirectory + "/index.lock") }
      for candidate in candidates {
        guard let attributes = try? fileManager.attributesOfItem(atPath: candidate),
          let modified = attributes[.modificationDate] as? Date
        else { continue }
        guard modified >= started.addingTimeInterval(-1) else { continue }
        let deadline = modified.addingTimeInterval(2)
        while Date() < deadline, fileManager.fileExists(atPath: candidate) { usleep(50_000) }
        unlink(candidate)
      }
    }
    for name in (try? fileManager.contentsOfDirectory(atPath: common + "/worktrees")) ?? [] where name.hasPrefix("orchestrate-") {
      let gitdir = common + "/worktrees/" + name
      for file in (try? fileManager.contentsOfDirectory(atPath: gitdir)) ?? [] where file.hasSuffix(".lock") {
        unlink(gitdir + "/" + file)
      }
    }
  }
}
