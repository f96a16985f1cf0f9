import Foundation
import GitKit

/// Keeps a checkout of the user's in step with main while it has main checked out: after each
/// landing it shows main's new tree, and their own uncommitted, staged and untracked work is
/// never touched.
///
/// Only the paths the run changed are compared and written, so the cost follows the size of the
/// change, not of the repository. Every update first checks that the checkout still has main
/// checked out (the user may switch branches during a run) and that nothing of theirs would be
/// overwritten, content or mode.
final class UserCheckout {
  let repository: Repository
  let workdir: String
  let mainRef: String
  /// Where this checkout's lag behind main is recorded while the run works.
  let syncRef: String
  /// The main commit the user's checkout reflects.
  private(set) var syncedTo: OID
  /// Whether this process brought the checkout up to main's tip once (a previous run may have stopped short).
  var caughtUp = false

  /// `nil` when the checkout's HEAD is not the main branch (it is then left alone).
  init?(repository: Repository, mainRef: String, mainTip: OID, syncRef: String = Layout.syncRef) throws {
    guard let workdir = repository.workingDirectory else { return nil }
    guard case .branch(let name, _) = try repository.head(), name == mainRef else { return nil }
    self.repository = repository
    self.workdir = workdir
    self.mainRef = mainRef
    self.syncRef = syncRef
    syncedTo = try repository.resolve(syncRef) ?? mainTip
  }

  /// Every checkout of the repository that has main checked out: `repository`'s own, the main
  /// working tree and each linked worktree, except the tool's own work folders.
  static func all(repository: Repository, layout: Layout, mainRef: String, mainTip: OID) throws -> [UserCheckout] {
    var found: [UserCheckout] = []
    var seen = Set<String>()
    if let own = try UserCheckout(
      repository: repository, mainRef: mainRef, mainTip: mainTip, syncRef: syncRef(for: repository, layout: layout))
    {
      found.append(own)
      seen.insert(own.workdir)
    }
    if let ownDirectory = repository.workingDirectory { seen.insert(ownDirectory) }
    var others: [String] = []
    let primary = (repository.commonDirectory as NSString).deletingLastPathComponent
    if (repository.commonDirectory as NSString).lastPathComponent == ".git" { others.append(primary) }
    for worktree in try repository.worktrees() where worktree.isValid && !worktree.name.hasPrefix("orchestrate-") {
      others.append(worktree.path)
    }
    for path in others where !seen.contains(path) && !(path + "/").hasPrefix(layout.stateDirectory + "/") {
      seen.insert(path)
      guard let other = try? Repository(path: path), other.commonDirectory == repository.commonDirectory else {
        continue
      }
      if let checkout = try UserCheckout(
        repository: other, mainRef: mainRef, mainTip: mainTip, syncRef: syncRef(for: other, layout: layout))
      {
        found.append(checkout)
      }
    }
    return found
  }

  /// The main working tree uses `Layout.syncRef`; a linked worktree one of its own.
  static func syncRef(for repository: Repository, layout: Layout) -> String {
    let gitDirectory =
      repository.gitDirectory.hasSuffix("/") ? String(repository.gitDirectory.dropLast()) : repository.gitDirectory
    let common =
      repository.commonDirectory.hasSuffix("/")
      ? String(repository.commonDirectory.dropLast()) : repository.commonDirectory
    guard gitDirectory != common else { return Layout.syncRef }
    return Layout.syncRef + "-" + (gitDirectory as NSString).lastPathComponent
  }

  /// `path` as a message names it: with the checkout's folder when it is not the one the run started in.
  func describe(_ path: String) -> String {
    FileManager.default.currentDirectoryPath.hasPrefix(workdir) ? path : "\(path) (in \(workdir))"
  }

  /// Whether the checkout still has main checked out (the user may have switched during the run).
  var isOnMain: Bool {
    guard case .branch(let name, _)? = try? repository.head() else { return false }
    return name == mainRef
  }

  /// Paths among `changes` (a sub-task's change, landing as `target`) where the user's checkout holds
  /// something of their own that bringing it from `syncedTo` to `target` would overwrite.
  func conflicts(_ changes: [DiffEntry], target: OID) throws -> [String] {
    guard !changes.isEmpty, isOnMain else { return [] }
    let oldTree = try repository.commit(syncedTo).tree
    let newTree = try repository.commit(target).tree
    // One tree-to-tree diff (it descends only where the trees differ) instead of two root lookups
    // per changed path; a path the diff does not name is the same on both sides, so nothing is written there.
    var between: [String: DiffEntry] = [:]
    for entry in try repository.diffTrees(oldTree, newTree) { between[entry.path] = entry }
    let entries = changes.compactMap { change -> DiffEntry? in
      guard let entry = between[change.path] else { return nil }
      let old = Self.isFile(entry.oldMode) ? entry.oldOID : nil
      let new = Self.isFile(entry.newMode) ? entry.newOID : nil
      return DiffEntry(
        path: change.path, status: change.status, oldOID: old, newOID: new, oldMode: old == nil ? nil : entry.oldMode,
        newMode: new == nil ? nil : entry.newMode)
    }
    let probe = try Probe(self)
    try repairInterruptedWrite(probe)
    let committed = entries.isEmpty ? [:] : try mainLine(to: target, landed: false).committed
    return try conflicts(entries, probe, committed: committed)
  }

  /// Paths among `changes` (relative to `syncedTo`) where the user's checkout holds something of
  /// their own, in content, mode or the index, that writing the change would overwrite.
  func conflicts(_ changes: [DiffEntry]) throws -> [String] {
    let probe = try Probe(self)
    try repairInterruptedWrite(probe)
    return try conflicts(changes, probe)
  }

  /// - Parameter committed: versions of paths the user committed on main since `syncedTo`: a
  ///   checkout holding one of them, in its file and its index, holds nothing uncommitted there.
  private func conflicts(_ changes: [DiffEntry], _ probe: Probe, committed: [String: [Version]] = [:]) throws
    -> [String]
  {
    guard !changes.isEmpty else { return [] }
    let index = probe.index
    var found: [String] = []
    let removed = Set(changes.filter { $0.newOID == nil }.map(\.path))
    for change in changes where change.oldOID != change.newOID || change.oldMode != change.newMode {
      let full = workdir + "/" + change.path
      // Never through a symbolic link: an untracked `d -> /elsewhere` and a change to `d/x` would
      // write (or delete) /elsewhere/x. A tracked link that the change removes first is no obstacle.
      if let link = probe.symlinkedParent(of: change.path), !removed.contains(link) {
        found.append(Self.throughLink(change.path, link))
        continue
      }
      // One lstat per path answers what is there: a folder, a file's content id and its mode.
      let look = probe.look(change.path)
      if change.newOID != nil, look.isDirectory {
        // A folder becomes a file: only if everything in the folder is tracked and goes away with it.
        if !Self.files(under: full, relative: change.path).allSatisfy(removed.contains) {
          found.append(change.path)
        }
        continue
      }
      let current = look.oid
      let staged = index.entryOID(path: change.path)
      if current == change.newOID, change.newOID == nil || look.mode == change.newMode { continue }
      // The index already holds what would be written (the user committed or staged the same):
      // nothing is written there, their working file is left as it is.
      if let new = change.newOID, staged == new, index.entryMode(path: change.path) == change.newMode { continue }
      // The user committed this very content on main since the checkout was last brought up to
      // date (the landing was replayed onto their commit): it is in history, nothing is lost.
      if let current, staged == current,
        committed[change.path]?.contains(Version(oid: current, mode: look.mode)) == true,
        index.entryMode(path: change.path) == look.mode
      {
        continue
      }
      if current != change.oldOID || (current != nil && look.mode != change.oldMode) {
        found.append(change.path)
        continue
      }
      if staged != change.oldOID { found.append(change.path) }
    }
    return found
  }

  /// Brings the checkout from `syncedTo` to `target`, refusing (before writing anything) when a
  /// changed path holds uncommitted work. A checkout no longer on main is left alone (0).
  ///
  /// The user's own git may hold the checkout's index lock for a moment (a commit, a status):
  /// the update waits for it, never failing for that alone.
  @discardableResult
  func update(to target: OID) throws -> Int {
    try retryingTransient { try updateOnce(to: target) }
  }

  private func updateOnce(to target: OID) throws -> Int {
    guard target != syncedTo else { return 0 }
    guard isOnMain else { return 0 }
    Trace.mark("  checkout: start")
    let old = try repository.commit(syncedTo).tree
    let new = try repository.commit(target).tree
    let line = try mainLine(to: target)
    let changes = try repository.diffTrees(old, new).filter { line.landed.contains($0.path) }
    Trace.mark("  checkout: owed paths")
    try repairInterruptedWrite(try Probe(self))
    // Under the index lock, as git's own commands: the user's `git add` or `git commit` happens
    // wholly before this update or wholly after it, never between its read and its write. The lock
    // is let go just before libgit2's own locked write; a git command taking it in that moment
    // makes the write fail as locked, and `update` tries again.
    let lock = try repository.lockIndex()
    defer { lock.release() }
    let probe = try Probe(self)
    Trace.mark("  checkout: index read")
    let conflicting = try conflicts(changes, probe, committed: line.committed)
    Trace.mark("  checkout: conflicts")
    guard conflicting.isEmpty else {
      throw OrchestrateError.dirtyCheckout(files: conflicting, branch: String(mainRef.dropFirst("refs/heads/".count)))
    }
    let index = probe.index
    // The same changes, for writing the index file without libgit2 (`Index.writePatched`); an
    // entry only libgit2 can make (a submodule's, a file's it must stat) makes it write the file.
    var edits: [String: IndexFile.Edit] = [:]
    var libgit2Writes = false
    var journaled = false
    var madeFolders = Set<String>()
    // Links are looked for again at the write (one made since `conflicts` must not be followed
    // either), once per folder of the change rather than once per file.
    let linkCheck = Probe.LinkCheck(workdir: workdir)
    // Removals first, so a folder that becomes a file (or a file that becomes a folder) is out of the way.
    for change in changes.filter({ $0.newOID == nil }) + changes.filter({ $0.newOID != nil }) {
      let full = workdir + "/" + change.path
      if let link = linkCheck.symlinkedParent(of: change.path) {
        lock.release()
        try index.write()
        throw OrchestrateError.dirtyCheckout(
          files: [Self.throughLink(change.path, link)], branch: String(mainRef.dropFirst("refs/heads/".count)))
      }
      if let oid = change.newOID, let mode = change.newMode {
        // Each file's content id is read at most once per update (a stat says whether it is still the
        // one `conflicts` read), and from the index's stat data when git would trust it.
        let look = probe.look(change.path)
        let current = look.oid
        if index.entryOID(path: change.path) == oid, index.entryMode(path: change.path) == mode, current != oid {
          continue  // staged already; the working file holds the user's own edits on top
        }
        if mode == .gitlink {
          try index.add(path: change.path)
          libgit2Writes = true
          continue
        }
        if current != oid || look.mode != mode {
          let folder = workdir + "/" + RelativePath.parent(of: change.path)
          if madeFolders.insert(folder).inserted, !Self.isDirectory(folder) {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
          }
          if mode == .symlink {
            let data = try repository.blob(oid)
            unlink(full)
            try FileManager.default.createSymbolicLink(
              atPath: full, withDestinationPath: String(decoding: data, as: UTF8.self))
          } else if current != oid {
            // Written in place, not aside and renamed (a temporary file, an fsync and a rename per
            // file cost more than the rest of the update). A write cut short (a kill, a full disk)
            // leaves a prefix of the new content or no file: the journal names the update, and
            // `repairInterruptedWrite` puts the old content back before anything else looks, so a
            // torn file is never taken for the user's own change.
            if !journaled {
              try writeJournal(target)
              journaled = true
            }
            try Self.writeFile(full, oid: oid, executable: mode == .executable, repository: repository)
          } else {
            chmod(full, mode == .executable ? 0o755 : 0o644)
          }
        }
        // The entry from what the tool knows (the blob id it wrote and the file's stat data), not
        // by reading, filtering and hashing the file again.
        if let (stat, _) = FileStat.of(full) {
          try index.set(path: change.path, oid: oid, mode: mode, stat: stat)
          edits[change.path] = .set(oid: oid, mode: mode, stat: stat)
        } else {
          try index.add(path: change.path)
          libgit2Writes = true
        }
      } else {
        unlink(full)
        try index.remove(path: change.path)
        edits[change.path] = .remove
        Self.removeEmptyParents(of: full, below: workdir)
      }
    }
    Trace.mark("  checkout: files written")
    // The index is written after every file, and the journal removed after the index: until then a
    // file whose entry still names the old content may be a torn write of the tool's.
    let patched = try !libgit2Writes && index.writePatched(edits, lock: lock)
    if !patched {
      lock.release()
      try index.write()
    }
    if journaled { unlink(journalPath) }
    syncedTo = target
    Trace.mark("  checkout: index written (\(patched ? "patched" : "libgit2")), updated \(changes.count) files")
    return changes.count
  }

  // MARK: - Interrupted writes

  /// Where an update records, while it writes files, which commit it is bringing the checkout to.
  var journalPath: String {
    (repository.gitDirectory.hasSuffix("/") ? repository.gitDirectory : repository.gitDirectory + "/")
      + "orchestrate-checkout-writing"
  }

  private func writeJournal(_ target: OID) throws {
    // No fsync: it guards against a killed process, whose writes the kernel keeps; after a power
    // loss the files written without one are no safer than the journal. A journal cut short names
    // no commit, and then no file had been written yet.
    try Workspace.writeFile(journalPath, Data((target.hex + "\n").utf8), executable: false)
  }

  /// Undoes the torn writes of an update that was cut short (killed, or a disk that filled up):
  /// a file the journal's update was writing whose index entry still names the old content, and
  /// that holds a strict prefix of the new content or is missing, gets its old content back.
  /// Complete writes are left as the update left them (the next update finishes them); anything
  /// else is the user's and is judged by the usual rules.
  private func repairInterruptedWrite(_ probe: Probe) throws {
    guard let text = try? String(contentsOfFile: journalPath, encoding: .utf8) else { return }
    guard let target = OID(hex: text.trimmingCharacters(in: .whitespacesAndNewlines)),
      let targetTree = try? repository.commit(target).tree
    else {
      unlink(journalPath)
      return
    }
    let index = probe.index
    var repaired = false
    for change in try repository.diffTrees(try repository.commit(syncedTo).tree, targetTree) {
      guard let new = change.newOID, change.newMode == .blob || change.newMode == .executable else { continue }
      let staged = index.entry(path: change.path)
      guard staged?.oid != new, Self.symlinkedParent(of: change.path, in: workdir) == nil else { continue }
      let full = workdir + "/" + change.path
      var info = stat()
      let torn: Bool
      if lstat(full, &info) != 0 {
        torn = staged != nil
      } else if info.st_mode & S_IFMT == S_IFREG {
        torn = try isStrictPrefix(full, size: Int(info.st_size), of: new)
      } else {
        torn = false
      }
      guard torn else { continue }
      if let staged {
        guard staged.mode == .blob || staged.mode == .executable else { continue }
        try Self.writeFile(full, oid: staged.oid, executable: staged.mode == .executable, repository: repository)
        if let (stat, _) = FileStat.of(full) {
          try index.set(path: change.path, oid: staged.oid, mode: staged.mode, stat: stat)
        }
      } else {
        unlink(full)
      }
      probe.forget(change.path)
      repaired = true
    }
    if repaired { try index.write() }
    unlink(journalPath)
  }

  /// Whether the file at `full` (`size` bytes) holds a strict prefix of blob `blob`, compared a
  /// piece at a time (neither is read whole).
  private func isStrictPrefix(_ full: String, size: Int, of blob: OID) throws -> Bool {
    guard let file = FileHandle(forReadingAtPath: full) else { return false }
    defer { try? file.close() }
    var compared = 0
    var same = true
    let blobSize = try repository.readBlob(blob) { piece in
      guard same, compared < size else { return }
      let count = min(piece.count, size - compared)
      let data = file.readData(ofLength: count)
      same = data.count == count && data.withUnsafeBytes { memcmp($0.baseAddress!, piece.baseAddress!, count) == 0 }
      compared += count
    }
    return size < blobSize && same && compared == size
  }

  /// Writes blob `oid` to `path` as a new file (an existing one is unlinked first, as git does: a
  /// running program or a hard link keeps the old content), streamed from the object database.
  static func writeFile(_ path: String, oid: OID, executable: Bool, repository: Repository) throws {
    unlink(path)
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, executable ? 0o755 : 0o644)
    guard fd >= 0 else { throw OrchestrateError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    try repository.readBlob(oid) { piece in try Workspace.writeAll(fd, piece, path: path) }
    fchmod(fd, executable ? 0o755 : 0o644)
  }

  /// What the checkout's files hold, read as git would: from the index's stat data when the file
  /// is unchanged since its entry was written (and the entry is not racily clean), else hashed.
  final class Probe {
    let index: Index
    let workdir: String
    /// The index file's modification time before it was re-read: an entry as new as it may
    /// describe a file changed in the same instant (git's "racily clean" entries), so it is hashed.
    private let indexTime: (Int32, UInt32)?
    private var known: [String: (FileStat, OID?)] = [:]
    private let links: LinkCheck

    /// `symlinkedParent(of:in:)` with its answer kept per folder for the life of the probe.
    final class LinkCheck {
      let workdir: String
      private var folders: [Substring: String?] = [:]

      init(workdir: String) { self.workdir = workdir }

      func symlinkedParent(of path: String) -> String? {
        guard let slash = path.lastIndex(of: "/") else { return nil }
        let folder = path[..<slash]
        if let known = folders[folder] { return known }
        let found = UserCheckout.symlinkedParent(of: path, in: workdir)
        folders[folder] = .some(found)
        return found
      }
    }

    func symlinkedParent(of path: String) -> String? { links.symlinkedParent(of: path) }

    init(_ checkout: UserCheckout) throws {
      let gitDirectory = checkout.repository.gitDirectory
      let indexFile = (gitDirectory.hasSuffix("/") ? gitDirectory : gitDirectory + "/") + "index"
      indexTime = FileStat.of(indexFile).map { ($0.0.mtimeSeconds, $0.0.mtimeNanoseconds) }
      index = try checkout.repository.index()
      try index.reload()
      workdir = checkout.workdir
      links = LinkCheck(workdir: checkout.workdir)
    }

    func forget(_ path: String) { known[path] = nil }

    /// What one `lstat` of a path tells, with the content id of a file or symlink.
    struct Look {
      /// The blob id of a file's content or a symlink's target; nil for nothing, a folder or anything else.
      var oid: OID?
      /// As `UserCheckout.mode(of:)` gives it.
      var mode: FileMode?
      var isDirectory: Bool
    }

    func look(_ path: String) -> Look {
      let full = workdir + "/" + path
      var info = stat()
      guard lstat(full, &info) == 0 else { return Look(oid: nil, mode: nil, isDirectory: false) }
      let mode: FileMode?
      switch info.st_mode & S_IFMT {
      case S_IFLNK: mode = .symlink
      case S_IFREG: mode = info.st_mode & 0o100 != 0 ? .executable : .blob
      case S_IFDIR: mode = .tree
      default: mode = nil
      }
      let isFile = mode == .symlink || mode == .blob || mode == .executable
      return Look(oid: isFile ? contentID(path, full: full, info) : nil, mode: mode, isDirectory: mode == .tree)
    }

    /// The blob id of what is at `path` (a file's content or a symlink's target), `nil` if nothing.
    func contentID(_ path: String) -> OID? {
      let full = workdir + "/" + path
      var info = stat()
      guard lstat(full, &info) == 0 else { return nil }
      return contentID(path, full: full, info)
    }

    private func contentID(_ path: String, full: String, _ info: stat) -> OID? {
      let stat = FileStat(info)
      if let (seen, oid) = known[path], seen.matches(stat) { return oid }
      var oid: OID?
      if info.st_mode & S_IFMT == S_IFREG, let entry = index.entry(path: path),
        entry.mode == .blob || entry.mode == .executable,
        entry.stat.matches(stat), let indexTime, Self.older(entry.stat, than: indexTime)
      {
        oid = entry.oid
      } else {
        oid = UserCheckout.contentID(full)
      }
      known[path] = (stat, oid)
      return oid
    }

    private static func older(_ stat: FileStat, than time: (Int32, UInt32)) -> Bool {
      stat.mtimeSeconds < time.0 || (stat.mtimeSeconds == time.0 && stat.mtimeNanoseconds < time.1)
    }
  }

  /// What main got between `syncedTo` and `target`, in one walk of main's own line (first parents:
  /// it also works in a shallow clone, where a revision walk or a merge base fails at the missing
  /// parents; when main was rewritten under the checkout, the walk goes on to where history ends,
  /// bounded).
  private struct MainLine {
    /// The paths the tool's own sub-task commits changed: the only ones the checkout is owed. What
    /// main got from the user's own commits (made in this checkout, perhaps a moment ago, perhaps
    /// still being made) is there already, or newer.
    var landed = Set<String>()
    /// The versions (content and mode) the user's own commits, those that complete no sub-task, put
    /// at each path: what the checkout may hold, committed, that the tool did not write. No tree is
    /// read for it when main got only sub-task commits.
    var committed: [String: [Version]] = [:]
  }

  /// A path's content and mode in a commit.
  struct Version: Equatable {
    var oid: OID
    var mode: FileMode?
  }

  /// `MainLine` up to `target`; with `landed` false, the sub-task commits' changes are not read.
  private func mainLine(to target: OID, landed wantsLanded: Bool = true) throws -> MainLine {
    var line = MainLine()
    var walked = 0
    try repository.walkFirstParents(from: target, stop: syncedTo) { commit in
      walked += 1
      var isCompletion = false
      if case .completion = CommitRole(commit) { isCompletion = true }
      guard wantsLanded || !isCompletion else { return walked < 100_000 }
      let parentTree = try commit.parents.first.map { try repository.commit($0).tree }
      for change in try repository.diffTrees(parentTree, commit.tree) {
        if isCompletion {
          line.landed.insert(change.path)
        } else if let oid = change.newOID {
          line.committed[change.path, default: []].append(Version(oid: oid, mode: change.newMode))
        }
      }
      return walked < 100_000
    }
    return line
  }

  /// The mode git would record for the file at `path`: symlink, executable or plain; nil if none.
  static func mode(of path: String) -> FileMode? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    switch info.st_mode & S_IFMT {
    case S_IFLNK: return .symlink
    case S_IFREG: return info.st_mode & 0o100 != 0 ? .executable : .blob
    case S_IFDIR: return .tree
    default: return nil
    }
  }

  /// Records that the checkout lags behind main, so a run killed before `finish` catches up next time.
  func markPending() throws {
    if try repository.resolve(syncRef) == nil {
      try repository.setReference(syncRef, to: syncedTo, message: "orchestrate: checkout at")
    }
  }

  func finish() throws {
    try repository.deleteReference(syncRef)
  }

  /// The git blob id of what is at `path` (a file's content or a symlink's target), `nil` if nothing.
  static func contentID(_ path: String) -> OID? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    switch info.st_mode & S_IFMT {
    case S_IFLNK:
      guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { return nil }
      return OID.hashBlob(Data(target.utf8))
    case S_IFREG:
      return OID.hashFile(atPath: path)
    default:
      return nil
    }
  }

  /// Whether a tree entry of `mode` is a file (blob or symlink), not a folder or a submodule.
  static func isFile(_ mode: FileMode?) -> Bool {
    guard let mode else { return false }
    return mode != .tree && mode != .gitlink
  }

  /// A tree entry that is a file (blob or symlink), `nil` for a folder or a submodule.
  static func fileEntry(_ entry: TreeEntry?) -> TreeEntry? {
    guard let entry, entry.mode != .tree, entry.mode != .gitlink else { return nil }
    return entry
  }

  /// The first leading component of `path` (a checkout-relative path) that is a symbolic link in the
  /// checkout, if any; the last component is not looked at (a link there is replaced, not followed).
  static func symlinkedParent(of path: String, in workdir: String) -> String? {
    var prefix = ""
    for component in path.split(separator: "/", omittingEmptySubsequences: false).dropLast() {
      prefix += (prefix.isEmpty ? "" : "/") + component
      var info = stat()
      guard lstat(workdir + "/" + prefix, &info) == 0 else { return nil }  // nothing further down either
      if info.st_mode & S_IFMT == S_IFLNK { return prefix }
    }
    return nil
  }

  /// How a path that would be written through a symlink is named to the user.
  static func throughLink(_ path: String, _ link: String) -> String {
    "\(path) (\(link) is a symbolic link in your checkout; git orchestrate never writes through one)"
  }

  static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
  }

  /// Every file and symlink under the folder `path`, as paths relative to the checkout.
  static func files(under path: String, relative: String) -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
    return names.flatMap { name in
      isDirectory(path + "/" + name)
        ? files(under: path + "/" + name, relative: relative + "/" + name) : [relative + "/" + name]
    }
  }

  static func removeEmptyParents(of path: String, below root: String) {
    var dir = (path as NSString).deletingLastPathComponent
    while dir.count > root.count, dir.hasPrefix(root + "/"), rmdir(dir) == 0 {
      dir = (dir as NSString).deletingLastPathComponent
    }
  }
}
