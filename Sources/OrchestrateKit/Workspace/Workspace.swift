import Foundation
import GitKit

/// The working directory the tool manages for one plan: a linked worktree outside the git
/// directory and the user's checkout (`Layout.workdir`), reused across sub-tasks and runs, so the
/// user's checkout is never used for the work. Opening and repair are here; reading the directory
/// into a tree is in Workspace+Snapshot.swift, writing trees into it in Workspace+Materialize.swift.
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
  var loadedIndex: Index?
  var index: Index {
    get throws {
      if let loadedIndex { return loadedIndex }
      try finishOpeningScan()
      guard let loadedIndex else { throw OrchestrateError.io("the workspace index could not be loaded") }
      return loadedIndex
    }
  }
  var watcher: ChangeWatcher?
  /// The tree the working directory held at the last snapshot; the index's entries describe it.
  var tree: OID?
  var needsFullScan = true
  /// A full scan started when the workspace was opened, running while the agent works.
  var pendingScan: BackgroundScan?
  let useWatcher: Bool
  let trustExecutableBit: Bool
  /// No attributes or line-ending conversion can apply, so a file's blob is its bytes and can be hashed
  /// without libgit2's per-file attribute lookup. Re-evaluated at every full scan.
  var rawHashing = false
  let configAllowsRawHashing: Bool
  /// Inside `packingBlobs`: how many blobs it wrote loose, and, from the `packedBlobsThreshold`th
  /// on, the pack taking the rest (written when it ends, before the tree).
  var snapshotBlobs: (loose: Int, pack: PackWriter?)?
  /// Index entries made inside `packingBlobs`, set when it ends (libgit2 checks that an entry's blob exists).
  var entriesAwaitingPack: [(path: String, oid: OID, mode: FileMode, stat: FileStat)] = []

  /// Notes for the user (a saved stray change, a recreated directory).
  var notices: [String] = []
  /// Paths found in the working directory that no git tree can hold, with the reason.
  var refused: [String: String] = [:]
  /// Ignored files and folders seen in the working directory (by the watch or a scan): what an
  /// agent or a checkpoint left that is not part of the tree.
  var ignored = Set<String>()

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

  var treeStampPath: String { repository.gitDirectory + "/orchestrate-tree" }
  var indexPath: String { repository.gitDirectory + "/orchestrate-index" }

  /// Opens the plan's workspace, creating or repairing it so its HEAD is `branchRef`.
  /// A new workspace is checked out at the branch's commit.
  ///
  /// A plan whose worktree is registered somewhere else (inside `.git`, where work folders were
  /// kept before, or under a former `orchestrate.workdirRoot`) moves here by itself, its
  /// uncommitted work carried over (see `Workspace+Move.swift`).
  /// - Parameter agentFiles: gitignore patterns of files agents write for themselves, never snapshotted.
  static func open(
    main: Repository, layout: Layout, planID: String, branchRef: String, useWatcher: Bool = true,
    agentFiles: [String] = [], slot: Int = 0
  ) throws -> Workspace {
    let path = layout.workdir(plan: planID, slot: slot)
    let name = Layout.worktreeName(plan: planID, slot: slot)
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
        // A name nothing has yet: two folders set aside within one second must not collide.
        let stem = path + ".orphaned-" + String(Int(Date().timeIntervalSince1970))
        var aside = stem
        var number = 1
        while FileManager.default.fileExists(atPath: aside) {
          number += 1
          aside = stem + "-\(number)"
        }
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

  func startWatching() {
    guard useWatcher, watcher == nil else { return }
    watcher = ChangeWatcher(root: path)
  }
}
