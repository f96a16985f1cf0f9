import Foundation

/// One run per repository: `flock(2)` on a lock file that also holds the holder's pid, plan,
/// command and start time.
///
/// The kernel decides who holds the lock, so no timing lets two processes hold it at once, and a
/// holder that dies (kill -9, crash) releases it with its last file descriptor: the next `acquire`
/// takes it and reads the dead holder's record from the file (`recoveredStale`). The record is only
/// for messages and `status`; it never decides.
///
/// The file is unlinked on release. A process that opened it just before that would lock an inode
/// nobody else can find, so after locking, `acquire` checks that the path still names the inode it
/// locked and starts again when it does not (the usual pattern for lock files that are removed).
public final class RepositoryLock {
  public struct Holder: Codable, Sendable, Equatable {
    public var pid: Int32
    public var host: String
    public var plan: String
    public var command: String
    public var started: Date
    /// The sub-tasks a parallel run works on now (nil: a sequential run, whose sub-task under way
    /// is the first unfinished one).
    public var running: [String]?
    /// While this holder has not yet removed the git locks a dead run left: when the earliest such
    /// run started. A holder killed in the middle of that passes the date on to the next one, which
    /// would otherwise judge those locks by the start of a run that never made them.
    public var clearingSince: Date?
  }

  public let path: String
  public var isHeld: Bool { descriptor >= 0 }
  /// Whether `acquire` took the lock over from a holder that had died (killed, crashed).
  public private(set) var recoveredStale = false
  /// When the lock was taken over: when the dead run that held it had started, or the earliest dead
  /// run whose locks that run had not yet removed when it died.
  public private(set) var staleHolderStarted: Date?
  /// The open lock file while the lock is held; closing it releases the lock.
  private var descriptor: Int32 = -1
  /// The record written while the lock is held.
  private var record: Holder?

  public init(path: String) {
    self.path = path
  }

  deinit { release() }

  /// Takes the lock or throws `OrchestrateError.locked` naming the live holder.
  ///
  /// A lock held by a process whose record is not written yet (it is between `flock` and `write`)
  /// or by a `status` that is reading it is waited for, briefly, rather than refused.
  public func acquire(plan: String, command: String) throws {
    if isHeld { return }
    try FileManager.default.createDirectory(
      atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    var me = Holder(
      pid: getpid(), host: ProcessInfo.processInfo.hostName, plan: plan, command: command,
      started: Date())
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    let deadline = Date().addingTimeInterval(2)
    while true {
      let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
      guard fd >= 0 else {
        throw OrchestrateError.io("cannot open the lock file \(path): \(String(cString: strerror(errno)))")
      }
      if flock(fd, LOCK_EX | LOCK_NB) != 0 {
        let code = errno
        let holder = Self.readHolder(fd)
        close(fd)
        guard code == EWOULDBLOCK || code == EINTR else {
          throw OrchestrateError.io("cannot lock \(path): \(String(cString: strerror(code)))")
        }
        if let holder, holder.isAlive { throw OrchestrateError.locked(holder: holder, path: path) }
        // Held, but its record names no live process yet: a holder about to write it, or a reader.
        guard Date() < deadline else {
          throw OrchestrateError.locked(
            holder: holder ?? Holder(pid: 0, host: "", plan: "?", command: "unknown", started: Date()), path: path)
        }
        usleep(10_000)
        continue
      }
      // Locked; but the file may have been unlinked by its last holder after we opened it.
      var opened = stat()
      var named = stat()
      guard fstat(fd, &opened) == 0, lstat(path, &named) == 0, opened.st_dev == named.st_dev,
        opened.st_ino == named.st_ino
      else {
        close(fd)
        continue
      }
      // We hold it. A record still in the file is a holder that died without releasing.
      if let dead = Self.readHolder(fd) {
        recoveredStale = true
        staleHolderStarted = min(dead.started, dead.clearingSince ?? dead.started)
        me.clearingSince = staleHolderStarted
      }
      descriptor = fd
      guard write(me) else {
        let message = String(cString: strerror(errno))
        close(fd)
        descriptor = -1
        throw OrchestrateError.io("cannot write the lock file \(path): \(message)")
      }
      return
    }
  }

  /// Rewrites the record with the sub-tasks a parallel run works on now, for `status`. The new
  /// record is written over the old one before the file is cut to its length, so a reader never
  /// finds it empty.
  public func record(running: [String]) {
    guard isHeld, var updated = record else { return }
    updated.running = running
    _ = write(updated)
  }

  /// Records that the git locks the dead holder left are removed (`RepositoryLock.removeStaleGitLocks`).
  public func staleGitLocksRemoved() {
    guard isHeld, var updated = record, updated.clearingSince != nil else { return }
    updated.clearingSince = nil
    _ = write(updated)
  }

  /// Writes `holder` as the record. It is written over the old one, padded with spaces to the old
  /// length, before the file is cut to its length: a reader, or the next holder after a kill at any
  /// instant, finds one whole record.
  private func write(_ holder: Holder) -> Bool {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    guard var bytes = try? [UInt8](encoder.encode(holder)) else { return false }
    let length = bytes.count
    var info = stat()
    if fstat(descriptor, &info) == 0, Int(info.st_size) > length {
      bytes += [UInt8](repeating: UInt8(ascii: " "), count: Int(info.st_size) - length)
    }
    guard pwrite(descriptor, bytes, bytes.count, 0) == bytes.count, ftruncate(descriptor, off_t(length)) == 0 else {
      return false
    }
    record = holder
    return true
  }

  /// Releases the lock: the file is removed while still locked, then closed. A holder that took
  /// the lock over from a dead run and did not remove the git locks that run left (a `clean`, the
  /// MCP server storing a plan) keeps the file: the next holder takes it for a dead one's and does.
  public func release() {
    guard isHeld else { return }
    if record?.clearingSince == nil { unlink(path) }
    close(descriptor)
    descriptor = -1
  }

  /// The current holder, if some process holds the lock.
  ///
  /// Asks the kernel (a shared, non-blocking `flock`) rather than trusting the record: a record with
  /// a live-looking pid whose lock is free is a dead run's whose pid was reused.
  public static func liveHolder(at path: String) -> Holder? {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    if flock(fd, LOCK_SH | LOCK_NB) == 0 {
      flock(fd, LOCK_UN)
      return nil
    }
    guard errno == EWOULDBLOCK else { return nil }
    return readHolder(fd) ?? Holder(pid: 0, host: "", plan: "", command: "starting", started: Date())
  }

  static func readHolder(_ fd: Int32) -> Holder? {
    var buffer = [UInt8](repeating: 0, count: 8192)
    let count = pread(fd, &buffer, buffer.count, 0)
    guard count > 0 else { return nil }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try? decoder.decode(Holder.self, from: Data(buffer[0..<count]))
  }
}

extension RepositoryLock.Holder {
  /// Whether the recorded holder still runs: same host and `kill(pid, 0)` finds it. Only used to
  /// word a refusal; who holds the lock is the kernel's answer.
  var isAlive: Bool {
    guard host == ProcessInfo.processInfo.hostName else { return true }
    if pid == getpid() { return true }
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
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
