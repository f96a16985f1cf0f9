import Foundation
import GitKit

/// Writing trees into the working directory, and moving it between branches.
extension Workspace {
  // MARK: - Writing the directory

  /// Writes `target` into the working directory, changing only what differs from `old`
  /// (everything when `old` is nil), and records each written file in the index.
  func materialize(_ target: OID, from old: OID?) throws {
    let index = try self.index
    var changes: [(path: String, oid: OID?, mode: FileMode?)] = []
    if let old {
      for change in try repository.diffTrees(old, target) {
        changes.append((change.path, change.newOID, change.newMode))
      }
    } else {
      try index.clear()
      try repository.walkTree(target) { path, oid, mode in changes.append((path, oid, mode)) }
      // What a full scan would decide, known from the tree: a new workspace hashes raw from its first
      // snapshot on (per-file attribute lookups were a quarter of a large change's cost). A
      // `.gitattributes` written later is a change the watcher reports, and that takes a full scan.
      rawHashing = configAllowsRawHashing && !changes.contains { $0.path.hasSuffix(".gitattributes") }
    }
    var madeFolders = Set<String>()
    for change in changes {
      let full = path + "/" + change.path
      if let oid = change.oid, let mode = change.mode {
        if old != nil { try removeItem(full) }
        // (Not NSString's deletingLastPathComponent, which normalises the path first: a tenth of
        // writing a 20,000-file work folder.)
        let folder = String(full.utf8[..<full.utf8.lastIndex(of: UInt8(ascii: "/"))!])!
        if madeFolders.insert(folder).inserted, !FileManager.default.fileExists(atPath: folder) {
          try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        switch mode {
        case .gitlink:
          try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
          try cache(change.path, oid: oid, mode: mode, stat: FileStat.of(full)?.0 ?? Self.zeroStat)
          continue
        case .symlink:
          guard symlink(String(decoding: try repository.blob(oid), as: UTF8.self), full) == 0 else {
            throw OrchestrateError.io("cannot write \(full): \(String(cString: strerror(errno)))")
          }
        default:
          try writeFile(full, blob: oid, executable: mode == .executable)
        }
        if let (stat, _) = FileStat.of(full) { try cache(change.path, oid: oid, mode: mode, stat: stat) }
      } else {
        try removeItem(full)
        try index.remove(path: change.path)
        UserCheckout.removeEmptyParents(of: full, below: path)
      }
    }
    tree = target
  }

  /// Opens `path` for writing from its start, created or truncated; -1 with `errno` on failure.
  /// - Returns: also whether the file is new and already has its mode (created with it, and the
  ///   umask took nothing from it), so that no `fchmod` is needed: one system call per file fewer
  ///   when a work folder is written.
  static func openForWriting(_ path: String, executable: Bool) -> (fd: Int32, hasMode: Bool) {
    let mode: mode_t = executable ? 0o755 : 0o644
    let created = posixOpen(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
    if created >= 0 { return (created, umaskKeepsModes) }
    guard errno == EEXIST else { return (-1, false) }
    return (posixOpen(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode), false)
  }

  private static func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    #if canImport(Glibc)
      Glibc.open(path, flags, mode)
    #else
      Darwin.open(path, flags, mode)
    #endif
  }

  /// Whether the process's umask leaves 0o755 and 0o644 as they are (a umask of 022 or 002 does),
  /// read from /proc (setting the umask to read it would race with other threads' files); false
  /// where it cannot be read, so the mode is then always set.
  static let umaskKeepsModes: Bool = {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
      let mask = Int(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8)
    else { return false }
    return mask & 0o755 == 0
  }()

  /// Writes a file in place (no temporary file and rename: they are slow for many files).
  static func writeFile(_ path: String, _ data: Data, executable: Bool) throws {
    let (fd, hasMode) = openForWriting(path, executable: executable)
    guard fd >= 0 else { throw OrchestrateError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    try data.withUnsafeBytes { buffer in try writeAll(fd, buffer, path: path) }
    if !hasMode { fchmod(fd, executable ? 0o755 : 0o644) }
  }

  /// Writes blob `oid` in place, streamed from the object database (a large file is never held whole).
  func writeFile(_ path: String, blob oid: OID, executable: Bool) throws {
    let (fd, hasMode) = Self.openForWriting(path, executable: executable)
    guard fd >= 0 else { throw OrchestrateError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    try repository.readBlob(oid) { piece in try Self.writeAll(fd, piece, path: path) }
    if !hasMode { fchmod(fd, executable ? 0o755 : 0o644) }
  }

  /// Writes all of `buffer` to `fd` (a write may take less than it was given), naming `path` on failure.
  static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
    var offset = 0
    while offset < buffer.count {
      let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
      if written < 0 {
        if errno == EINTR { continue }
        throw OrchestrateError.io("cannot write \(path): \(String(cString: strerror(errno)))")
      }
      offset += written
    }
  }

  static let zeroStat = FileStat(
    ctimeSeconds: 0, ctimeNanoseconds: 0, mtimeSeconds: 0, mtimeNanoseconds: 0, device: 0, inode: 0, uid: 0, gid: 0,
    size: 0)

  func removeItem(_ full: String) throws {
    var info = stat()
    guard lstat(full, &info) == 0 else { return }
    if info.st_mode & S_IFMT == S_IFDIR {
      try FileManager.default.removeItem(atPath: full)
    } else {
      unlink(full)
    }
  }

  /// Points the workspace's HEAD at `branchRef` whose commit is `commit`, writing its tree if the
  /// working directory does not already hold it. Uncommitted content that would be replaced is
  /// first saved under `refs/orchestrate/saved/`. With `keepingWork`, a workspace already on
  /// `branchRef` keeps its content: it is the work in progress (an agent's, or a hand fix).
  func switchTo(branchRef: String, commit: OID, planID: String, keepingWork: Bool = true) throws {
    if keepingWork, case .branch(let name, _) = try repository.head(), name == branchRef { return }
    let target = try repository.commit(commit).tree
    let current = try snapshot()
    if current != target {
      let headCommit = try? repository.resolve("HEAD")
      let headTree = try headCommit.map { try repository.commit($0).tree }
      if current != headTree {
        try saveStray(tree: current, parent: headCommit, planID: planID)
      }
      try materialize(target, from: current)
    }
    try repository.setHead(branchRef)
  }

  /// Replaces the working directory's content with `tree` (used when main moved and the sub-task is replayed).
  func checkout(tree target: OID) throws {
    let current = try snapshot()
    guard current != target else { return }
    try materialize(target, from: current)
  }

  func saveStray(tree: OID, parent: OID?, planID: String) throws {
    let signature = repository.defaultSignature()
    let commit = try repository.createCommit(
      tree: tree, parents: parent.map { [$0] } ?? [],
      message: "uncommitted work found in the \(planID) working directory\n", author: signature, committer: signature)
    let ref = Layout.savedRefPrefix + planID + "/" + String(Int(Date().timeIntervalSince1970 * 1000))
    try repository.setReference(ref, to: commit, message: "orchestrate: saved stray work")
    notices.append("uncommitted work in \(path) was saved as \(ref) before switching sub-tasks")
  }

  /// Makes sure HEAD still names `branchRef` (an agent may have switched branches); the content
  /// is judged from the working directory, never from what the agent committed.
  func restoreHead(branchRef: String) throws {
    if case .branch(let name, _) = try repository.head(), name == branchRef { return }
    try repository.setHead(branchRef)
  }

  /// Writes the index and copies it over the worktree's own index, so `git status` and `git diff`
  /// in the working directory show the agent the sub-task's changes and nothing else.
  func flush() throws {
    // While the opening scan still runs, the index file is as the last flush left it.
    guard pendingScan == nil || loadedIndex != nil else { return try copyIndexToWorktree() }
    try index.write()
    // Written plainly (Foundation's write syncs the file): a torn stamp does not parse, and a full scan follows.
    if let tree { try Self.writeFile(treeStampPath, Data("\(tree.hex) \(indexStamp())".utf8), executable: false) }
    try copyIndexToWorktree()
  }

  func copyIndexToWorktree() throws {
    let visible = repository.gitDirectory + "/index"
    let temporary = visible + ".orchestrate-tmp"
    unlink(temporary)
    try FileManager.default.copyItem(atPath: indexPath, toPath: temporary)
    guard rename(temporary, visible) == 0 else {
      throw OrchestrateError.io("cannot update \(visible): \(String(cString: strerror(errno)))")
    }
  }

  func takeNotices() -> [String] {
    defer { notices = [] }
    return notices
  }
}
