import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What changed in a working directory since the last look.
public enum ChangeSet: Equatable, Sendable {
  /// Exactly these relative paths (files or directories) may have changed; a directory path means "rescan this subtree".
  case paths(Set<String>)
  /// The watcher cannot tell (unavailable, queue overflow IN_Q_OVERFLOW, a watched directory moved or the root itself
  /// changed, watch limit reached): the caller must scan everything.
  case everything(reason: String)
}

/// Watches a working directory with inotify so that finding an agent's changes does not walk the whole tree.
///
/// Every directory under the root gets a watch, except the root's `.git` entry and anything
/// named `.git` below it. Events queue in the kernel while the agent runs and are read only by
/// `drain()`, without blocking. Whenever the watcher cannot be sure (queue overflow, a directory
/// moved within the tree, the root moved, the watch limit), it says `.everything` so the caller
/// scans in full; it then re-establishes its watches, so later drains are exact again. On
/// platforms without inotify it always says `.everything`.
public final class ChangeWatcher {
  /// The watched directory, as given (without a trailing slash).
  public let root: String
  private let maxWatches: Int?
  /// When set, the watcher is off and every drain answers `.everything` with this reason.
  private var fallback: String?
  /// When set, the next drain answers `.everything` with this reason and re-establishes the watches.
  private var pending: String?
  #if canImport(Glibc)
    private var descriptor: Int32 = -1
    private var pathByWatch: [Int32: String] = [:]
    private var watchByPath: [String: Int32] = [:]
  #endif

  /// Starts watching `root` recursively. Never throws: if inotify is unavailable or the watch limit is hit, the watcher
  /// is in the "everything" state with the reason (e.g. "inotify watch limit reached (fs.inotify.max_user_watches=8192)").
  /// - Parameter maxWatches: a lower limit than the system's, so that tests can force the fallback.
  public init(root: String, maxWatches: Int? = nil) {
    var trimmed = root
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
    self.root = trimmed
    self.maxWatches = maxWatches
    establish()
  }

  deinit {
    #if canImport(Glibc)
      if descriptor >= 0 { close(descriptor) }
    #endif
  }

  /// True while the watcher is exact; false when it can only answer `.everything`.
  public var isActive: Bool { fallback == nil }

  /// Force the next drain() to return .everything (e.g. after the working directory was replaced).
  ///
  /// The watches are re-established then as well, which also retries a watcher that had fallen back.
  public func invalidate(reason: String) {
    if pending == nil { pending = reason }
  }

  /// Drains pending events and returns what changed since the last call (or since init), then resets.
  ///
  /// New directories get watches and are reported as directory paths (the caller rescans that
  /// subtree, which covers files created in them before the watch existed). A directory deleted
  /// or moved out of the tree is reported as its path. A directory moved within the tree gives
  /// `.everything`, after the watches have been re-established. Paths under a reported directory
  /// are left out, since the directory covers them.
  public func drain() -> ChangeSet {
    if let reason = pending {
      pending = nil
      tearDown()
      establish()
      return .everything(reason: reason)
    }
    if let fallback { return .everything(reason: fallback) }
    #if canImport(Glibc)
      var collector = ChangeCollector()
      for event in readEvents() {
        handle(event, into: &collector)
        if fallback != nil { break }
      }
      if let fallback {
        tearDown()
        return .everything(reason: fallback)
      }
      if let reason = collector.everything {
        tearDown()
        establish()
        return .everything(reason: reason)
      }
      return .paths(collector.minimalPaths())
    #else
      return .everything(reason: "file watching is not available on this platform")
    #endif
  }

  /// Starts watching from scratch; on failure the watcher falls back to `.everything`.
  private func establish() {
    #if canImport(Glibc)
      fallback = nil
      descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
      guard descriptor >= 0 else {
        fallback = "inotify is unavailable: \(String(cString: strerror(errno)))"
        return
      }
      switch watchTree("") {
      case .watched: break
      case .gone: fallback = "cannot watch '\(root)': it is not a readable directory"
      case .failed(let reason): fallback = reason
      }
      if fallback != nil { tearDown() }
    #else
      fallback = "file watching is not available on this platform"
    #endif
  }

  /// Drops every watch by closing the inotify descriptor.
  private func tearDown() {
    #if canImport(Glibc)
      if descriptor >= 0 { close(descriptor) }
      descriptor = -1
      pathByWatch = [:]
      watchByPath = [:]
    #endif
  }
}

#if canImport(Glibc)
  // The inotify flags, spelled out: several are C macros Swift does not import. They are Linux ABI.
  private let inModify: UInt32 = 0x0000_0002
  private let inAttrib: UInt32 = 0x0000_0004
  private let inCloseWrite: UInt32 = 0x0000_0008
  private let inMovedFrom: UInt32 = 0x0000_0040
  private let inMovedTo: UInt32 = 0x0000_0080
  private let inCreate: UInt32 = 0x0000_0100
  private let inDelete: UInt32 = 0x0000_0200
  private let inDeleteSelf: UInt32 = 0x0000_0400
  private let inMoveSelf: UInt32 = 0x0000_0800
  private let inUnmount: UInt32 = 0x0000_2000
  private let inQueueOverflow: UInt32 = 0x0000_4000
  private let inIgnored: UInt32 = 0x0000_8000
  private let inOnlyDirectory: UInt32 = 0x0100_0000
  private let inDontFollow: UInt32 = 0x0200_0000
  private let inExcludeUnlinked: UInt32 = 0x0400_0000
  private let inIsDirectory: UInt32 = 0x4000_0000

  private let watchMask =
    inCreate | inDelete | inModify | inCloseWrite | inMovedFrom | inMovedTo | inAttrib
    | inDeleteSelf | inMoveSelf | inOnlyDirectory | inExcludeUnlinked

  /// One decoded inotify event.
  private struct WatchEvent {
    var watch: Int32
    var mask: UInt32
    var cookie: UInt32
    var name: String
  }

  /// What one drain found, before directories absorb the paths under them.
  private struct ChangeCollector {
    var paths: Set<String> = []
    var directories: Set<String> = []
    var movedAway: Set<UInt32> = []
    var everything: String?

    mutating func directory(_ path: String) {
      paths.insert(path)
      directories.insert(path)
    }

    /// The paths, without those inside a reported directory.
    func minimalPaths() -> Set<String> {
      paths.filter { path in
        var prefix = Substring(path)
        while let slash = prefix.lastIndex(of: "/") {
          prefix = prefix[..<slash]
          if directories.contains(String(prefix)) { return false }
        }
        return true
      }
    }
  }

  private enum WatchOutcome {
    case watched
    /// The directory vanished or cannot be read; nothing to watch.
    case gone
    case failed(String)
  }

  extension ChangeWatcher {
    private func absolute(_ relative: String) -> String {
      relative.isEmpty ? root : (root == "/" ? "/" + relative : root + "/" + relative)
    }

    private static func join(_ directory: String, _ name: String) -> String {
      directory.isEmpty ? name : directory + "/" + name
    }

    /// Watches `relative` and every directory below it, a directory's watch before its listing so nothing slips between.
    private func watchTree(_ relative: String) -> WatchOutcome {
      var stack = [relative]
      var first = true
      while let directory = stack.popLast() {
        let outcome = addWatch(directory)
        defer { first = false }
        switch outcome {
        case .watched: break
        case .gone: if first { return .gone } else { continue }
        case .failed: return outcome
        }
        guard let stream = opendir(absolute(directory)) else { continue }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
          let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
          }
          if name == "." || name == ".." || name == ".git" { continue }
          let child = Self.join(directory, name)
          var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
          if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
            var status = stat()
            isDirectory =
              lstat(absolute(child), &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
          }
          if isDirectory { stack.append(child) }
        }
      }
      return .watched
    }

    private func addWatch(_ relative: String) -> WatchOutcome {
      if let maxWatches, pathByWatch.count >= maxWatches {
        return .failed("inotify watch limit reached (maxWatches=\(maxWatches))")
      }
      // The root may be a symbolic link to the working directory; below it, links are never followed.
      let mask = relative.isEmpty ? watchMask : watchMask | inDontFollow
      let watch = inotify_add_watch(descriptor, absolute(relative), mask)
      guard watch >= 0 else {
        switch errno {
        case ENOENT, ENOTDIR, ELOOP, EACCES:
          return .gone
        case ENOSPC:
          let limit =
            (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_user_watches", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
          return .failed("inotify watch limit reached (fs.inotify.max_user_watches=\(limit))")
        default:
          return .failed(
            "cannot watch '\(absolute(relative))': \(String(cString: strerror(errno)))")
        }
      }
      if let previous = watchByPath[relative], previous != watch { pathByWatch[previous] = nil }
      pathByWatch[watch] = relative
      watchByPath[relative] = watch
      return .watched
    }

    /// Forgets the watches of `relative` and everything below it, removing them from the kernel if still there.
    private func forgetTree(_ relative: String) {
      let prefix = relative + "/"
      for (path, watch) in watchByPath where path == relative || path.hasPrefix(prefix) {
        inotify_rm_watch(descriptor, watch)
        watchByPath[path] = nil
        pathByWatch[watch] = nil
      }
    }

    /// Reads every queued event without blocking.
    private func readEvents() -> [WatchEvent] {
      var events: [WatchEvent] = []
      let size = 65536
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
      defer { buffer.deallocate() }
      let header = 16  // wd, mask, cookie, len
      while true {
        let count = read(descriptor, buffer.baseAddress, size)
        if count < 0, errno == EINTR { continue }
        guard count > 0 else { break }  // EAGAIN: the queue is empty
        var offset = 0
        while offset + header <= count {
          let watch = buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)
          let mask = buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
          let cookie = buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
          let length = Int(buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
          let nameBytes = buffer[(offset + header)..<min(count, offset + header + length)]
          let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
          events.append(WatchEvent(watch: watch, mask: mask, cookie: cookie, name: name))
          offset += header + length
        }
      }
      return events
    }

    private func handle(_ event: WatchEvent, into collector: inout ChangeCollector) {
      if event.mask & inQueueOverflow != 0 {
        let limit =
          (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
          .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        collector.everything =
          "inotify event queue overflowed (fs.inotify.max_queued_events=\(limit))"
        return
      }
      guard let directory = pathByWatch[event.watch] else { return }  // a watch already forgotten
      if event.mask & inIgnored != 0 {
        pathByWatch[event.watch] = nil
        if watchByPath[directory] == event.watch { watchByPath[directory] = nil }
        return
      }
      if event.name.isEmpty {
        // Events on a watched directory itself; below the root its parent reports them by name.
        if directory.isEmpty, event.mask & (inDeleteSelf | inMoveSelf | inUnmount) != 0 {
          collector.everything = "the watched directory '\(root)' was moved, deleted or unmounted"
        } else if event.mask & inUnmount != 0 {
          collector.everything = "a file system under '\(root)' was unmounted"
        }
        return
      }
      if directory.isEmpty, event.name == ".git" { return }
      let path = Self.join(directory, event.name)
      guard event.mask & inIsDirectory != 0 else {
        collector.paths.insert(path)
        return
      }
      if event.mask & (inCreate | inMovedTo) != 0 {
        if event.mask & inMovedTo != 0, collector.movedAway.contains(event.cookie) {
          collector.everything = "a directory was moved within '\(root)'"
        }
        collector.directory(path)
        if event.name != ".git", case .failed(let reason) = watchTree(path) { fallback = reason }
      } else if event.mask & (inDelete | inMovedFrom) != 0 {
        if event.mask & inMovedFrom != 0 { collector.movedAway.insert(event.cookie) }
        forgetTree(path)
        collector.directory(path)
      } else if event.mask & inAttrib != 0, watchByPath[path] == nil, event.name != ".git" {
        // A directory that could not be read before may have just become readable.
        switch watchTree(path) {
        case .watched: collector.directory(path)
        case .gone: break
        case .failed(let reason): fallback = reason
        }
      }
    }
  }
#endif
