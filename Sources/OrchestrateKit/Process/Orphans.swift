import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Ends the processes an agent or checkpoint left behind outside its process group.
///
/// Ending the process group misses anything that left it (`setsid`, `setpgid`, a daemonising
/// double fork). Without a sandbox there is no pid namespace to take them down, so the tool makes
/// itself a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`): every process orphaned below it is
/// re-parented to it instead of to init, where it can be found. After each command the runner
/// looks at its own children: one that it did not start itself (not a registered shell) and that
/// started after the command did can only be a descendant of a command that died, and is killed.
/// That is sound only where every child of this process is started by `ProcessRunner` while a
/// sweep can run, which holds for the `git-orchestrate` binary (one command at a time; `git`
/// helpers run between commands) but not for a test process spawning its own children in
/// parallel, which is why adopting is an explicit call (`ProcessRunner.adoptOrphans()`) and not a
/// side effect of using a runner. Tracking by cgroup would be exact but needs a delegated,
/// writable cgroup tree, which neither containers nor most desktops give a plain user.
enum Orphans {
  /// Whether this process is a subreaper (set once, by `adopt()`).
  static let adopting = LockedBox(false)
  /// The shells this process started and has not reaped yet.
  static let shells = LockedBox(Set<pid_t>())

  /// Makes this process a child subreaper; returns false where the system has none.
  static func adopt() -> Bool {
    #if os(Linux)
      adopting.withLock { adopting in
        if !adopting, let prctl = setProcessControl { adopting = prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0) == 0 }
        return adopting
      }
    #else
      false
    #endif
  }

  private typealias ProcessControl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32

  /// prctl, looked up at run time: Swift does not import C variadic functions. Passing its
  /// integer arguments through a fixed signature is what the Linux calling conventions allow.
  private static let setProcessControl: ProcessControl? = {
    guard let symbol = dlsym(nil, "prctl") else { return nil }
    return unsafeBitCast(symbol, to: ProcessControl.self)
  }()

  static var isAdopting: Bool { adopting.withLock { $0 } }

  /// Spawns through `body` with the shell table locked, so a sweep never sees a new shell before it is registered.
  static func spawning(_ body: () throws -> pid_t) rethrows -> pid_t {
    try shells.withLock { shells in
      let pid = try body()
      shells.insert(pid)
      return pid
    }
  }

  static func reaped(_ pid: pid_t) {
    _ = shells.withLock { $0.remove(pid) }
  }

  /// Kills and reaps every orphan re-parented to us that started at or after `since` (clock ticks
  /// since boot), until none is left and process group `group` is empty, or `limit` seconds pass.
  /// - Returns: the pids killed.
  @discardableResult
  static func sweep(since: UInt64, group: pid_t, limit: TimeInterval = 5) -> [pid_t] {
    guard isAdopting else { return [] }
    var killed: [pid_t] = []
    let deadline = Date().addingTimeInterval(limit)
    let me = getpid()
    while true {
      let found = shells.withLock { shells in
        children(of: me).filter { !shells.contains($0) && (startTime(of: $0) ?? 0) >= since }
      }
      for pid in found {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        killed.append(pid)
      }
      // A member of the group still dying may orphan more children: look again until it is gone.
      let groupGone = kill(-group, 0) != 0 && errno == ESRCH
      if found.isEmpty && groupGone || Date() >= deadline { return killed }
      if found.isEmpty { usleep(1000) }
    }
  }

  /// The children of process `pid`: from each thread's `children` list, else by reading every `/proc/<n>/stat`.
  static func children(of pid: pid_t) -> [pid_t] {
    let tasks = "/proc/\(pid)/task"
    if let threads = try? FileManager.default.contentsOfDirectory(atPath: tasks),
      FileManager.default.fileExists(atPath: tasks + "/" + (threads.first ?? "") + "/children")
    {
      var found: [pid_t] = []
      for thread in threads {
        guard let text = procText("\(tasks)/\(thread)/children") else { continue }
        found += text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
      }
      return found
    }
    let all = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return all.compactMap(pid_t.init).filter { statFields(of: $0)?.parent == pid }
  }

  /// The text of a `/proc` file, read with read(2). Foundation's `String(contentsOfFile:)` keeps
  /// the buffer of every empty file it reads (about 4 KB each; a `children` file of a thread
  /// without children is empty), and a run reads these after every command: 450 MB over a plan
  /// of 10,000 sub-tasks.
  static func procText(_ path: String) -> String? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var text: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count >= 0 else { return nil }
      if count == 0 { return String(decoding: text, as: UTF8.self) }
      text.append(contentsOf: buffer[..<count])
    }
  }

  /// When process `pid` started, in clock ticks since boot.
  static func startTime(of pid: pid_t) -> UInt64? { statFields(of: pid)?.start }

  /// The parent and start time from `/proc/<pid>/stat`, read after the command name (which may hold spaces and parentheses).
  static func statFields(of pid: pid_t) -> (parent: pid_t, start: UInt64)? {
    guard let text = procText("/proc/\(pid)/stat"),
      let close = text.lastIndex(of: ")")
    else { return nil }
    // After ")": state(3) ppid(4) … starttime(22); fields counted from 3.
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 19, let parent = pid_t(fields[1]), let start = UInt64(fields[19]) else { return nil }
    return (parent, start)
  }
}
