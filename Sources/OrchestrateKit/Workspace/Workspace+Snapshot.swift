import Foundation
import GitKit

/// Reading the working directory into a tree: the watch, scans, hashing, the private index.
extension Workspace {
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
  func finishOpeningScan() throws {
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
  func fullScan() throws {
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
  func apply(_ result: ScanResult, base: OID?) throws {
    let index = try self.index
    rawHashing = configAllowsRawHashing && !result.hasAttributes
    var updates: [TreeUpdate] = []
    for path in result.deleted {
      updates.append(TreeUpdate(path: path, action: .remove))
      try index.remove(path: path)
    }
    try packingBlobs {
      for relative in result.changed {
        if let update = try hashFile(relative) { updates.append(update) }
      }
      for relative in result.untracked {
        if try repository.isIgnored(relative) {
          ignored.insert(relative)
          continue
        }
        if let update = try hashFile(relative) { updates.append(update) }
      }
      for folder in result.untrackedFolders {
        try rescanFolder(folder, into: &updates)
      }
    }
    tree = updates.isEmpty && base != nil ? base : try repository.updateTree(base, updates)
  }

  /// A snapshot writes this many blobs loose, and the rest, if any, as one pack (`PackWriter`): a
  /// pack is two files whatever it holds, where a sub-task changing 5,000 files wrote 5,000 loose
  /// objects (on tmpfs, a run of six such sub-tasks 5.9 -> 4.8 s). An ordinary sub-task's few blobs
  /// stay loose, so a long plan does not leave a pack per sub-task behind.
  static let packedBlobsThreshold = 64

  /// Runs `body`, the blobs it writes counted and, past `packedBlobsThreshold`, packed; the pack
  /// is written and the index entries `body` made are set when it ends, also when it throws.
  func packingBlobs(_ body: () throws -> Void) throws {
    guard snapshotBlobs == nil else { return try body() }
    snapshotBlobs = (0, nil)
    defer {
      snapshotBlobs = nil
      entriesAwaitingPack = []
    }
    do {
      try body()
    } catch {
      // What was hashed before the failure is kept, unless its pack could not be written.
      let pack = snapshotBlobs?.pack
      if pack == nil || (try? pack?.finish()) != nil { try? setEntriesAwaitingPack() }
      throw error
    }
    if let pack = snapshotBlobs?.pack {
      try pack.finish()
      Trace.mark("  snapshot: \(pack.objectCount) blobs packed")
    }
    try setEntriesAwaitingPack()
  }

  /// Writes a snapshot's blob: loose, or into the snapshot's pack once enough were written.
  func writeBlob(_ data: Data) throws -> OID {
    guard var counted = snapshotBlobs else { return try repository.writeBlob(data) }
    if counted.pack == nil, counted.loose < Self.packedBlobsThreshold {
      counted.loose += 1
      snapshotBlobs = counted
      return try repository.writeBlob(data)
    }
    let pack = counted.pack ?? PackWriter(repository: repository)
    snapshotBlobs = (counted.loose, pack)
    return try pack.add(blob: data)
  }

  private func setEntriesAwaitingPack() throws {
    let index = try self.index
    for entry in entriesAwaitingPack {
      try index.set(path: entry.path, oid: entry.oid, mode: entry.mode, stat: entry.stat)
    }
  }

  /// Applies the watcher's changed paths: files hashed, folders rescanned, missing paths removed.
  func apply(_ paths: Set<String>) throws {
    let index = try self.index
    guard let base = tree else { return try fullScan() }
    var updates: [TreeUpdate] = []
    try packingBlobs { try applyPaths(paths, index: index, updates: &updates) }
    Trace.mark("  apply: hashed")
    tree = updates.isEmpty ? base : try repository.updateTree(base, updates)
  }

  private func applyPaths(_ paths: Set<String>, index: Index, updates: inout [TreeUpdate]) throws {
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
        if !wanted { ignored.insert(relative) }
        if wanted, let update = try hashFile(relative) { updates.append(update) }
      }
    }
  }

  /// Reconciles the entries under a folder the watcher reported with what it holds now.
  func rescanFolder(_ relative: String, into updates: inout [TreeUpdate]) throws {
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
      ignored.insert(relative)
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
          if !hasTracked, try repository.isIgnored(child + "/") {
            ignored.insert(child)
            continue
          }
          folders.append(child)
        } else if kind == UInt32(S_IFREG) || kind == UInt32(S_IFLNK) {
          seen.insert(child)
          if let entry = index.entry(path: child) {
            if entry.stat.matches(stat), entry.mode == fileMode(mode, previous: entry.mode) { continue }
          } else if try repository.isIgnored(child) {
            ignored.insert(child)
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
  func hashFile(_ relative: String) throws -> TreeUpdate? {
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
      oid = try writeBlob(data)
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

  static func isSmall(_ full: String) -> Bool {
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
  func cache(_ relative: String, oid: OID, mode: FileMode, stat: FileStat) throws {
    guard PathRules.problem(relative, symlink: mode == .symlink) == nil else { return }
    if snapshotBlobs != nil {
      entriesAwaitingPack.append((relative, oid, mode, stat))
      return
    }
    try index.set(path: relative, oid: oid, mode: mode, stat: stat)
  }

  func fileMode(_ mode: UInt32, previous: FileMode?) -> FileMode {
    TreeScan.fileMode(mode, previous: previous, trustExecutableBit: trustExecutableBit)
  }

  func insideOpaque(_ relative: String) -> Bool {
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
  func currentIndexTree() throws -> OID? {
    if let tree { return tree }
    if let recorded = recordedTree() { return recorded }
    let index = try self.index
    if index.count == 0 { return nil }
    return try index.writeTree()
  }

  /// The tree stored beside the index at the last flush, if the index file is still the one written then.
  func recordedTree() -> OID? {
    guard let text = try? String(contentsOfFile: treeStampPath, encoding: .utf8) else { return nil }
    let parts = text.split(separator: " ")
    guard parts.count == 2, let oid = OID(hex: String(parts[0])), String(parts[1]) == indexStamp() else { return nil }
    return oid
  }

  func indexStamp() -> String {
    guard let (stat, _) = FileStat.of(indexPath) else { return "none" }
    return "\(stat.mtimeSeconds).\(stat.mtimeNanoseconds).\(stat.size).\(stat.inode)"
  }
}
