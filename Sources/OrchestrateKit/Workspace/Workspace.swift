import Foundation
import GitKit

/// The working directory the tool manages for one plan: a linked worktree inside the git
/// directory, reused across sub-tasks and runs, so the user's checkout is never used for the work.
///
/// The workspace keeps its own index file (a stat cache that agents' git commands never touch) and
/// the tree the directory held at the last snapshot. A `ChangeWatcher` says which paths changed; only
/// those are hashed and written into a new tree (`git_tree_create_updated`), so the cost of a
/// snapshot follows the change, not the repository. When the watcher cannot tell, a full scan
/// compares every file with its cached stat data.
final class Workspace {
  let path: String
  let name: String
  let repository: Repository
  /// The private index; while the opening scan runs, it is being loaded in the background.
  private var loadedIndex: Index?
  var index: Index {
    get throws {
      if let loadedIndex { return loadedIndex }
      try finishOpeningScan()
      guard let loadedIndex else { throw OrchestrateError.io("the workspace index could not be loaded") }
      return loadedIndex
    }
  }
  private var watcher: ChangeWatcher?
  /// The tree the working directory held at the last snapshot; the index's entries describe it.
  private(set) var tree: OID?
  private var needsFullScan = true
  /// A full scan started when the workspace was opened, running while the agent works.
  private var pendingScan: BackgroundScan?
  private let useWatcher: Bool
  private let trustExecutableBit: Bool
  /// No attributes or line-ending conversion can apply, so a file's blob is its bytes and can be hashed
  /// without libgit2's per-file attribute lookup. Re-evaluated at every full scan.
  private var rawHashing = false
  private let configAllowsRawHashing: Bool

  /// Notes for the user (a saved stray change, a recreated directory).
  var notices: [String] = []
  /// Paths found in the working directory that no git tree can hold, with the reason.
  private var refused: [String: String] = [:]

  private init(path: String, name: String, repository: Repository, index: Index?, useWatcher: Bool) throws {
    self.path = path
    self.name = name
    self.repository = repository
    self.loadedIndex = index
    self.useWatcher = useWatcher
    trustExecutableBit = try repository.configBool("core.filemode") ?? true
    let autocrlf = try repository.configString("core.autocrlf")?.lowercased()
    let home = ProcessInfo.processInfo.environment["HOME"] ?? "/"
    let xdg = ProcessInfo.processInfo.environment["XDG_CONFIG_HOME"] ?? home + "/.config"
    let eol = try repository.configString("core.eol")
    let attributesFile = try repository.configString("core.attributesFile")
    configAllowsRawHashing =
      (autocrlf == nil || autocrlf == "false") && eol == nil && attributesFile == nil
      && !FileManager.default.fileExists(atPath: xdg + "/git/attributes")
      && !FileManager.default.fileExists(atPath: repository.commonDirectory + "/info/attributes")
  }

  private var treeStampPath: String { repository.gitDirectory + "/orchestrate-tree" }
  private var indexPath: String { repository.gitDirectory + "/orchestrate-index" }

  /// Opens the plan's workspace, creating or repairing it so its HEAD is `branchRef`.
  /// A new workspace is checked out at the branch's commit.
  ///
  /// A plan whose worktree is registered somewhere else (inside `.git`, where work folders were
  /// kept before, or under a former `orchestrate.workdirRoot`) moves here by itself, its
  /// uncommitted work carried over (see `Workspace+Move.swift`).
  /// - Parameter agentFiles: gitignore patterns of files agents write for themselves, never snapshotted.
  static func open(
    main: Repository, layout: Layout, planID: String, branchRef: String, useWatcher: Bool = true,
    agentFiles: [String] = []
  ) throws -> Workspace {
    let path = layout.workdir(plan: planID)
    let name = Layout.worktreeName(plan: planID)
    try checkLocation(path, main: main)
    guard let registered = try main.worktrees().first(where: { $0.name == name }),
      !samePlace(registered.path, path)
    else {
      return try open(main: main, path: path, name: name, branchRef: branchRef, useWatcher: useWatcher, agentFiles: agentFiles)
    }
    return try move(
      registered, to: path, main: main, planID: planID, branchRef: branchRef, useWatcher: useWatcher,
      agentFiles: agentFiles)
  }

  /// Opens (creating or repairing) the worktree `name` at `path`.
  static func open(
    main: Repository, path: String, name: String, branchRef: String, useWatcher: Bool, agentFiles: [String]
  ) throws -> Workspace {
    var notices: [String] = []
    let registered = try main.worktrees().first { $0.name == name }
    var repository: Repository?
    if registered?.isValid == true, FileManager.default.fileExists(atPath: path + "/.git") {
      repository = try? Repository(path: path)
      if let repo = repository, repo.isWorktree == false || repo.commonDirectory != main.commonDirectory {
        repository = nil
      }
    }
    var created = false
    if repository == nil {
      if registered != nil { try main.pruneWorktree(name: name) }
      if FileManager.default.fileExists(atPath: path) {
        // Never delete what an agent left: move it aside and say where.
        let aside = path + ".orphaned-" + String(Int(Date().timeIntervalSince1970))
        try FileManager.default.moveItem(atPath: path, toPath: aside)
        notices.append("the working directory \(path) was not a usable worktree; it was moved to \(aside)")
      }
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try main.addWorktree(name: name, path: path, branch: branchRef, checkout: false, lock: true)
      repository = try Repository(path: path)
      created = true
    }
    guard let repository else { throw OrchestrateError.workdirBroken(path: path, reason: "cannot open it") }
    // In memory, for this handle only: info/exclude is shared with the user's checkout.
    try repository.addIgnoreRules(agentFiles)
    let indexPath = repository.gitDirectory + "/orchestrate-index"
    if created { unlink(indexPath) }
    Trace.mark("  open: repository")
    // An existing workspace whose tree is on record reads its index in the background (see below).
    var index: Index?
    if created || !FileManager.default.fileExists(atPath: indexPath) || !useWatcher {
      if created { unlink(indexPath) }
      index = try repository.usePrivateIndex(at: indexPath)
    }
    Trace.mark("  open: index")
    let workspace = try Workspace(path: path, name: name, repository: repository, index: index, useWatcher: useWatcher)
    workspace.notices = notices
    if created {
      guard let tip = try repository.resolve(branchRef) else { throw OrchestrateError.io("no branch \(branchRef)") }
      try workspace.materialize(try repository.commit(tip).tree, from: nil)
      try workspace.flush()
    } else {
      workspace.tree = workspace.recordedTree()
    }
    // Watch from here on: the files written above are known, and the first snapshot scans anyway.
    Trace.mark("  open: tree")
    workspace.startWatching()
    Trace.mark("  open: watcher")
    if created, workspace.watcher?.isActive == true {
      // Every file was just written and recorded: the watcher alone says what changes from here.
      workspace.needsFullScan = false
    }
    if !created, workspace.tree != nil, workspace.watcher?.isActive == true, workspace.loadedIndex == nil {
      // Load the index and compare every file with it in the background: on a large repository
      // this takes a while, and the agent can start meanwhile. Whatever changes after the scan
      // began, the watcher reports.
      workspace.pendingScan = BackgroundScan(
        root: path, indexPath: indexPath, trustExecutableBit: workspace.trustExecutableBit)
    } else if workspace.loadedIndex == nil {
      workspace.loadedIndex = try repository.usePrivateIndex(at: indexPath)
    }
    return workspace
  }

  /// Checks that the directory and its `.git` file still exist; an agent may have removed them.
  func checkIntact() throws {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
      throw OrchestrateError.workdirBroken(path: path, reason: "it was removed")
    }
    var info = stat()
    if lstat(path + "/.git", &info) != 0, errno == ENOENT {
      // An agent that deleted everything took the .git file with it: put it back, so the
      // checkpoint judges what is left instead of every run stopping here.
      var gitdir = repository.gitDirectory
      while gitdir.hasSuffix("/") { gitdir.removeLast() }
      try Data("gitdir: \(gitdir)\n".utf8).write(to: URL(fileURLWithPath: path + "/.git"))
    }
    guard let data = FileManager.default.contents(atPath: path + "/.git"),
      String(decoding: data, as: UTF8.self).hasPrefix("gitdir: ")
    else {
      throw OrchestrateError.workdirBroken(path: path, reason: "its .git file was removed or replaced")
    }
  }

  private func startWatching() {
    guard useWatcher, watcher == nil else { return }
    watcher = ChangeWatcher(root: path)
  }

  // MARK: - Snapshots

  /// The tree the working directory holds now (written to the object database).
  ///
  /// Uses the watcher's list of changed paths when it has one; otherwise scans everything.
  func snapshot() throws -> OID {
    try checkIntact()
    try finishOpeningScan()
    let changes: ChangeSet
    if let watcher, watcher.isActive, !needsFullScan, tree != nil {
      changes = watcher.drain()
    } else {
      _ = watcher?.drain()
      changes = .everything(reason: "first snapshot")
    }
    switch changes {
    case .everything(let reason):
      Trace.mark("  snapshot: full scan (\(reason))")
      try fullScan()
    case .paths(let paths):
      if paths.contains(where: { ($0.split(separator: "/").last ?? "").hasPrefix(".git") }) {
        Trace.mark("  snapshot: full scan (.gitignore or .gitattributes changed)")
        // .gitignore or .gitattributes changed: what is ignored, or how it is hashed, may change anywhere.
        try fullScan()
      } else {
        Trace.mark("  snapshot: drain")
        try apply(paths)
        Trace.mark("  snapshot: apply \(paths.count)")
      }
    }
    needsFullScan = false
    guard let tree else { throw OrchestrateError.io("the workspace has no tree") }
    return tree
  }

  /// Waits for the opening scan, adopts the index it loaded, and applies what it found.
  private func finishOpeningScan() throws {
    guard let scan = pendingScan else { return }
    pendingScan = nil
    let (detached, result) = try scan.wait()
    loadedIndex = try repository.adopt(detached)
    if let watcher, watcher.isActive, let base = tree {
      try apply(result, base: base)
      needsFullScan = false
    } else {
      needsFullScan = true
    }
  }

  /// Compares every file with its cached stat data and hashes only the ones that differ.
  private func fullScan() throws {
    let index = try self.index
    let base = try currentIndexTree()
    let result = TreeScan.scan(root: path, entries: index.entries(), trustExecutableBit: trustExecutableBit)
    try apply(result, base: base)
  }

  /// The tree the working directory holds, if known without waiting: the recorded one while the
  /// opening scan is still running.
  func knownTree() throws -> OID {
    if pendingScan != nil, let tree { return tree }
    return try snapshot()
  }

  /// Turns a scan's findings into blobs, index entries and a tree.
  private func apply(_ result: ScanResult, base: OID?) throws {
    let index = try self.index
    rawHashing = configAllowsRawHashing && !result.hasAttributes
    var updates: [TreeUpdate] = []
    for path in result.deleted {
      updates.append(TreeUpdate(path: path, action: .remove))
      try index.remove(path: path)
    }
    for relative in result.changed {
      if let update = try hashFile(relative) { updates.append(update) }
    }
    for relative in result.untracked where try !repository.isIgnored(relative) {
      if let update = try hashFile(relative) { updates.append(update) }
    }
    for folder in result.untrackedFolders {
      try rescanFolder(folder, into: &updates)
    }
    tree = updates.isEmpty && base != nil ? base : try repository.updateTree(base, updates)
  }

  /// Applies the watcher's changed paths: files hashed, folders rescanned, missing paths removed.
  private func apply(_ paths: Set<String>) throws {
    let index = try self.index
    guard let base = tree else { return try fullScan() }
    var updates: [TreeUpdate] = []
    for relative in paths.sorted() {
      if relative.isEmpty || relative == ".git" || relative.hasPrefix(".git/") || relative.contains("/.git/")
        || relative.hasSuffix("/.git") || insideOpaque(relative)
      {
        continue
      }
      let full = path + "/" + relative
      guard let (_, mode) = FileStat.of(full) else {
        // Gone: the file, or everything under the folder.
        for tracked in index.paths(under: relative) {
          try index.remove(path: tracked)
          updates.append(TreeUpdate(path: tracked, action: .remove))
        }
        continue
      }
      let kind = mode & UInt32(S_IFMT)
      if kind == UInt32(S_IFDIR) {
        if index.entry(path: relative) != nil {  // a file became a folder
          try index.remove(path: relative)
          updates.append(TreeUpdate(path: relative, action: .remove))
        }
        try rescanFolder(relative, into: &updates)
      } else if kind == UInt32(S_IFREG) || kind == UInt32(S_IFLNK) {
        for tracked in index.paths(under: relative) where tracked != relative {  // a folder became a file
          try index.remove(path: tracked)
          updates.append(TreeUpdate(path: tracked, action: .remove))
        }
        var wanted = index.entry(path: relative) != nil
        if !wanted { wanted = try !repository.isIgnored(relative) }
        if wanted, let update = try hashFile(relative) { updates.append(update) }
      }
    }
    Trace.mark("  apply: hashed")
    tree = updates.isEmpty ? base : try repository.updateTree(base, updates)
  }

  /// Reconciles the entries under a folder the watcher reported with what it holds now.
  private func rescanFolder(_ relative: String, into updates: inout [TreeUpdate]) throws {
    let index = try self.index
    let tracked = index.paths(under: relative)
    let trackedFolders = Set(tracked.map { RelativePath.parent(of: $0) })
    var seen = Set<String>()
    if FileManager.default.fileExists(atPath: path + "/" + relative + "/.git") {
      return  // a nested repository: git would record a gitlink; leave it out of the tree
    }
    if !trackedFolders.contains(where: { $0 == relative || $0.hasPrefix(relative + "/") }),
      try repository.isIgnored(relative + "/")
    {
      return
    }
    var folders = [relative]
    while let folder = folders.popLast() {
      let full = path + "/" + folder
      guard let names = try? FileManager.default.contentsOfDirectory(atPath: full) else { continue }
      for name in names where name != ".git" {
        let child = folder + "/" + name
        guard let (stat, mode) = FileStat.of(full + "/" + name) else { continue }
        let kind = mode & UInt32(S_IFMT)
        if kind == UInt32(S_IFDIR) {
          if FileManager.default.fileExists(atPath: full + "/" + name + "/.git") { continue }
          let hasTracked = trackedFolders.contains { $0 == child || $0.hasPrefix(child + "/") }
          if !hasTracked, try repository.isIgnored(child + "/") { continue }
          folders.append(child)
        } else if kind == UInt32(S_IFREG) || kind == UInt32(S_IFLNK) {
          seen.insert(child)
          if let entry = index.entry(path: child) {
            if entry.stat.matches(stat), entry.mode == fileMode(mode, previous: entry.mode) { continue }
          } else if try repository.isIgnored(child) {
            continue
          }
          if let update = try hashFile(child) { updates.append(update) }
        }
      }
    }
    for path in tracked where !seen.contains(path) {
      try index.remove(path: path)
      updates.append(TreeUpdate(path: path, action: .remove))
    }
  }

  /// Hashes a working file into the object database, updates its index entry, and says how the tree changes.
  private func hashFile(_ relative: String) throws -> TreeUpdate? {
    let index = try self.index
    guard let (stat, mode) = FileStat.of(path + "/" + relative) else { return nil }
    if let problem = PathRules.problem(relative, symlink: mode & UInt32(S_IFMT) == UInt32(S_IFLNK)) {
      // No git tree can hold it (libgit2 refuses the entry): left out, and named by `refusedPaths`.
      refused[relative] = problem
      return nil
    }
    let previous = index.entry(path: relative)
    let fileMode = fileMode(mode, previous: previous?.mode)
    if let previous, previous.stat.matches(stat), previous.mode == fileMode {
      return TreeUpdate(path: relative, action: .upsert(previous.oid, fileMode))
    }
    let oid: OID
    if rawHashing, Self.isSmall(path + "/" + relative) {
      let full = path + "/" + relative
      let data: Data
      if mode & UInt32(S_IFMT) == UInt32(S_IFLNK) {
        data = Data(((try? FileManager.default.destinationOfSymbolicLink(atPath: full)) ?? "").utf8)
      } else {
        guard let contents = FileManager.default.contents(atPath: full) else { return nil }
        data = contents
      }
      oid = try repository.writeBlob(data)
    } else {
      oid = try repository.blobFromWorkdir(relative)
    }
    Trace.mark("   blob")
    try cache(relative, oid: oid, mode: fileMode, stat: stat)
    return TreeUpdate(path: relative, action: .upsert(oid, fileMode))
  }

  /// Below this size a file is read whole and hashed in memory; a larger one is streamed by libgit2
  /// (never held in memory, and its write errors, such as a full disk, are reported as such).
  static let rawHashingLimit = 1 << 20

  private static func isSmall(_ full: String) -> Bool {
    var info = stat()
    return lstat(full, &info) == 0 && info.st_size < rawHashingLimit
  }

  /// The files of the working directory that no git tree can hold (`.Git/…` and git's other
  /// refused names), with the reason: they are left out of every snapshot.
  func refusedPaths() -> [(path: String, problem: String)] {
    refused = refused.filter { FileStat.of(path + "/" + $0.key) != nil }
    return refused.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
  }

  /// Keeps a file's stat data in the private index, so an unchanged file is not hashed again.
  private func cache(_ relative: String, oid: OID, mode: FileMode, stat: FileStat) throws {
    guard PathRules.problem(relative, symlink: mode == .symlink) == nil else { return }
    try index.set(path: relative, oid: oid, mode: mode, stat: stat)
  }

  private func fileMode(_ mode: UInt32, previous: FileMode?) -> FileMode {
    TreeScan.fileMode(mode, previous: previous, trustExecutableBit: trustExecutableBit)
  }

  private func insideOpaque(_ relative: String) -> Bool {
    guard let index = loadedIndex else { return false }
    var prefix = ""
    for component in relative.split(separator: "/").dropLast() {
      prefix += prefix.isEmpty ? String(component) : "/" + component
      if index.entry(path: prefix)?.mode == .gitlink { return true }
    }
    return false
  }

  /// The tree the index describes: the recorded one when the index file is as we wrote it.
  /// `nil` for an empty index (the empty tree, not written unless it is the result).
  private func currentIndexTree() throws -> OID? {
    if let tree { return tree }
    if let recorded = recordedTree() { return recorded }
    let index = try self.index
    if index.count == 0 { return nil }
    return try index.writeTree()
  }

  /// The tree stored beside the index at the last flush, if the index file is still the one written then.
  private func recordedTree() -> OID? {
    guard let text = try? String(contentsOfFile: treeStampPath, encoding: .utf8) else { return nil }
    let parts = text.split(separator: " ")
    guard parts.count == 2, let oid = OID(hex: String(parts[0])), String(parts[1]) == indexStamp() else { return nil }
    return oid
  }

  private func indexStamp() -> String {
    guard let (stat, _) = FileStat.of(indexPath) else { return "none" }
    return "\(stat.mtimeSeconds).\(stat.mtimeNanoseconds).\(stat.size).\(stat.inode)"
  }

  // MARK: - Writing the directory

  /// Writes `target` into the working directory, changing only what differs from `old`
  /// (everything when `old` is nil), and records each written file in the index.
  private func materialize(_ target: OID, from old: OID?) throws {
    let index = try self.index
    var changes: [(path: String, oid: OID?, mode: FileMode?)] = []
    if let old {
      for change in try repository.diffTrees(old, target) { changes.append((change.path, change.newOID, change.newMode)) }
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
        let folder = (full as NSString).deletingLastPathComponent
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
          try Self.writeFile(full, try repository.blob(oid), executable: mode == .executable)
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

  /// Writes a file in place (no temporary file and rename: they are slow for many files).
  static func writeFile(_ path: String, _ data: Data, executable: Bool) throws {
    #if canImport(Glibc)
      let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, executable ? 0o755 : 0o644)
    #else
      let fd = Darwin.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, executable ? 0o755 : 0o644)
    #endif
    guard fd >= 0 else { throw OrchestrateError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    try data.withUnsafeBytes { buffer in
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
    fchmod(fd, executable ? 0o755 : 0o644)
  }

  private static let zeroStat = FileStat(
    ctimeSeconds: 0, ctimeNanoseconds: 0, mtimeSeconds: 0, mtimeNanoseconds: 0, device: 0, inode: 0, uid: 0, gid: 0,
    size: 0)

  private func removeItem(_ full: String) throws {
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

  private func saveStray(tree: OID, parent: OID?, planID: String) throws {
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

  private func copyIndexToWorktree() throws {
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
