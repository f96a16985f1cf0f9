import Foundation
import GitKit

/// Keeps the user's checkout in step with main when it has main checked out: after a run it shows
/// main's new tree, and their own uncommitted and untracked files are never touched.
///
/// Only the paths the run changed are compared and written, so the cost follows the size of the
/// change, not of the repository.
final class UserCheckout {
  let repository: Repository
  let workdir: String
  let mainRef: String
  /// The main commit the user's checkout reflects.
  private(set) var syncedTo: OID
  /// Whether this process brought the checkout up to main's tip once (a previous run may have stopped short).
  var caughtUp = false

  /// `nil` when the user's HEAD is not the main branch (their checkout is then left alone).
  init?(repository: Repository, mainRef: String, mainTip: OID) throws {
    guard let workdir = repository.workingDirectory else { return nil }
    guard case .branch(let name, _) = try repository.head(), name == mainRef else { return nil }
    self.repository = repository
    self.workdir = workdir
    self.mainRef = mainRef
    let recorded = try repository.resolve(Layout.syncRef)
    syncedTo = recorded ?? mainTip
  }

  /// Paths among `changes` (a sub-task's change, landing as `target`) where the user's checkout holds
  /// something of their own that bringing it from `syncedTo` to `target` would overwrite.
  func conflicts(_ changes: [DiffEntry], target: OID) throws -> [String] {
    guard !changes.isEmpty else { return [] }
    let oldTree = try repository.commit(syncedTo).tree
    let newTree = try repository.commit(target).tree
    let entries = try changes.map { change in
      DiffEntry(
        path: change.path, status: change.status,
        oldOID: try Self.fileEntry(repository.treeEntry(in: oldTree, path: change.path))?.oid,
        newOID: try Self.fileEntry(repository.treeEntry(in: newTree, path: change.path))?.oid, oldMode: nil,
        newMode: nil)
    }
    return try conflicts(entries)
  }

  /// Paths among `changes` (relative to `syncedTo`) where the user's checkout holds something of
  /// their own that writing the change would overwrite.
  func conflicts(_ changes: [DiffEntry]) throws -> [String] {
    guard !changes.isEmpty else { return [] }
    let index = try repository.index()
    var found: [String] = []
    let removed = Set(changes.filter { $0.newOID == nil }.map(\.path))
    for change in changes where change.oldOID != change.newOID {
      // Never through a symbolic link: an untracked `d -> /elsewhere` and a change to `d/x` would
      // write (or delete) /elsewhere/x. A tracked link that the change removes first is no obstacle.
      if let link = Self.symlinkedParent(of: change.path, in: workdir), !removed.contains(link) {
        found.append(Self.throughLink(change.path, link))
        continue
      }
      if change.newOID != nil, Self.isDirectory(workdir + "/" + change.path) {
        // A folder becomes a file: only if everything in the folder is tracked and goes away with it.
        if !Self.files(under: workdir + "/" + change.path, relative: change.path).allSatisfy(removed.contains) {
          found.append(change.path)
        }
        continue
      }
      let current = Self.contentID(workdir + "/" + change.path)
      if current == change.newOID { continue }  // already as it will be
      if current != change.oldOID {
        found.append(change.path)
        continue
      }
      if index.entryOID(path: change.path) != change.oldOID { found.append(change.path) }
    }
    return found
  }

  /// Brings the checkout from `syncedTo` to `target`, refusing (before writing anything) when a
  /// changed path holds uncommitted work.
  @discardableResult
  func update(to target: OID) throws -> Int {
    guard target != syncedTo else { return 0 }
    let old = try repository.commit(syncedTo).tree
    let new = try repository.commit(target).tree
    let changes = try repository.diffTrees(old, new)
    let conflicting = try conflicts(changes)
    guard conflicting.isEmpty else {
      throw OrchestrateError.dirtyCheckout(files: conflicting, branch: String(mainRef.dropFirst("refs/heads/".count)))
    }
    let index = try repository.index()
    // Removals first, so a folder that becomes a file (or a file that becomes a folder) is out of the way.
    for change in changes.filter({ $0.newOID == nil }) + changes.filter({ $0.newOID != nil }) {
      let full = workdir + "/" + change.path
      // Checked again at the write: a link made since `conflicts` must not be followed either.
      if let link = Self.symlinkedParent(of: change.path, in: workdir) {
        try index.write()
        throw OrchestrateError.dirtyCheckout(
          files: [Self.throughLink(change.path, link)], branch: String(mainRef.dropFirst("refs/heads/".count)))
      }
      if Self.contentID(full) == change.newOID, change.newOID != nil {
        try index.add(path: change.path)
        continue
      }
      if let oid = change.newOID, let mode = change.newMode {
        try FileManager.default.createDirectory(
          atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let data = try repository.blob(oid)
        if mode == .symlink {
          unlink(full)
          try FileManager.default.createSymbolicLink(
            atPath: full, withDestinationPath: String(decoding: data, as: UTF8.self))
        } else if mode != .gitlink {
          // Written aside and renamed: a full disk leaves the old file, never a torn one that
          // the next run would take for the user's own change.
          try data.write(to: URL(fileURLWithPath: full), options: .atomic)
          chmod(full, mode == .executable ? 0o755 : 0o644)
        }
        try index.add(path: change.path)
      } else {
        unlink(full)
        try index.remove(path: change.path)
        Self.removeEmptyParents(of: full, below: workdir)
      }
    }
    try index.write()
    syncedTo = target
    return changes.count
  }

  /// Records that the checkout lags behind main, so a run killed before `finish` catches up next time.
  func markPending() throws {
    if try repository.resolve(Layout.syncRef) == nil {
      try repository.setReference(Layout.syncRef, to: syncedTo, message: "orchestrate: checkout at")
    }
  }

  func finish() throws {
    try repository.deleteReference(Layout.syncRef)
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
      guard let data = FileManager.default.contents(atPath: path) else { return nil }
      return OID.hashBlob(data)
    default:
      return nil
    }
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
