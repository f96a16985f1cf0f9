import Foundation
import GitKit

/// The working directory the tool manages for one plan: a linked worktree inside the git
/// directory, reused across sub-tasks and runs, so the user's checkout is never used for the work.
///
/// The workspace keeps its own index file, which agents' git commands never touch, and finds what
/// changed through a `ChangeWatcher`; only when the watcher cannot tell does it scan the whole tree.
final class Workspace {
  let path: String
  let name: String
  let repository: Repository
  let index: Index
  private var watcher: ChangeWatcher?
  /// The tree the index describes; `nil` until the first snapshot of this process.
  private(set) var indexTree: OID?
  private var needsFullScan = true
  let useWatcher: Bool

  /// Notes for the user (a saved stray change, a recreated directory).
  private(set) var notices: [String] = []

  private init(path: String, name: String, repository: Repository, index: Index, useWatcher: Bool) {
    self.path = path
    self.name = name
    self.repository = repository
    self.index = index
    self.useWatcher = useWatcher
  }

  /// Opens the plan's workspace, creating or repairing it so its HEAD is `branchRef`.
  /// A new workspace is checked out at the branch's commit.
  static func open(
    main: Repository, layout: Layout, planID: String, branchRef: String, useWatcher: Bool = true
  ) throws -> Workspace {
    let path = layout.workdir(plan: planID)
    let name = Layout.worktreeName(plan: planID)
    var notices: [String] = []
    let registered = try main.worktrees().first { $0.name == name }
    let gitFile = path + "/.git"
    var repository: Repository?
    if registered?.isValid == true, FileManager.default.fileExists(atPath: gitFile) {
      repository = try? Repository(path: path)
      if let repo = repository, repo.isWorktree == false || repo.commonDirectory != main.commonDirectory {
        repository = nil
      }
    }
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
      try main.addWorktree(name: name, path: path, branch: branchRef)
      repository = try Repository(path: path)
    }
    guard let repository else { throw OrchestrateError.workdirBroken(path: path, reason: "cannot open it") }
    let indexPath = repository.gitDirectory + "/orchestrate-index"
    let index = try repository.usePrivateIndex(at: indexPath)
    let workspace = Workspace(path: path, name: name, repository: repository, index: index, useWatcher: useWatcher)
    workspace.notices = notices
    return workspace
  }

  /// Checks that the directory and its `.git` file still exist; an agent may have removed them.
  func checkIntact() throws {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
      throw OrchestrateError.workdirBroken(path: path, reason: "it was removed")
    }
    let gitFile = path + "/.git"
    guard let data = FileManager.default.contents(atPath: gitFile),
      String(decoding: data, as: UTF8.self).hasPrefix("gitdir: ")
    else {
      throw OrchestrateError.workdirBroken(path: path, reason: "its .git file was removed or replaced")
    }
  }

  /// Starts watching for changes, if the platform allows it.
  func startWatching() {
    guard useWatcher, watcher == nil else { return }
    watcher = ChangeWatcher(root: path)
  }

  /// Brings the index up to date with the working directory and writes its tree.
  ///
  /// Uses the watcher's list of changed paths when it has one; otherwise scans everything.
  func snapshot() throws -> OID {
    try checkIntact()
    var changes = ChangeSet.everything(reason: "first snapshot")
    if !needsFullScan, let watcher, watcher.isActive {
      changes = watcher.drain()
    } else {
      _ = watcher?.drain()
    }
    switch changes {
    case .everything:
      try index.addAll()
    case .paths(let paths):
      for path in paths.sorted() { try update(path) }
    }
    needsFullScan = false
    let tree = try index.writeTree()
    indexTree = tree
    return tree
  }

  /// Updates the index for one path reported by the watcher (a file, a folder, or something gone).
  private func update(_ relative: String) throws {
    if relative.isEmpty || relative == ".git" || relative.hasPrefix(".git/") || relative.contains("/.git/")
      || relative.hasSuffix("/.git")
    {
      return
    }
    let full = path + "/" + relative
    var info = stat()
    if lstat(full, &info) != 0 {
      try index.remove(path: relative)
      try index.removeDirectory(relative)
      return
    }
    let kind = info.st_mode & S_IFMT
    if kind == S_IFDIR {
      try updateDirectory(relative)
    } else if kind == S_IFREG || kind == S_IFLNK {
      // A folder replaced by a file: drop the entries that were under it.
      if !index.paths(under: relative).filter({ $0 != relative }).isEmpty {
        try index.removeDirectory(relative)
      }
      let ignored = try repository.isIgnored(relative)
      if index.entryOID(path: relative) != nil || !ignored {
        try index.add(path: relative)
      }
    }
  }

  /// Reconciles the index entries under a folder with what the folder holds now.
  private func updateDirectory(_ relative: String) throws {
    if index.entryOID(path: relative) != nil { try index.remove(path: relative) }  // a file became a folder
    if FileManager.default.fileExists(atPath: path + "/" + relative + "/.git") {
      // A nested repository: git would record a gitlink; keep the parent tree free of it.
      return
    }
    if try repository.isIgnored(relative + "/") { return }
    var present = Set<String>()
    let base = URL(fileURLWithPath: path + "/" + relative)
    if let enumerator = FileManager.default.enumerator(atPath: base.path) {
      while let item = enumerator.nextObject() as? String {
        let rel = relative + "/" + item
        let attributes = enumerator.fileAttributes
        let type = attributes?[.type] as? FileAttributeType
        if type == .typeDirectory {
          let ignored = try repository.isIgnored(rel + "/")
          if (item as NSString).lastPathComponent == ".git" || ignored {
            enumerator.skipDescendants()
          }
          continue
        }
        present.insert(rel)
        let ignored = try repository.isIgnored(rel)
        if index.entryOID(path: rel) != nil || !ignored {
          try index.add(path: rel)
        }
      }
    }
    for tracked in index.paths(under: relative) where !present.contains(tracked) {
      try index.remove(path: tracked)
    }
  }

  /// Points the workspace's HEAD at `branchRef` whose commit is `commit`, checking out its tree if
  /// the working directory does not already hold it. Uncommitted content that would be replaced is
  /// first saved under `refs/orchestrate/saved/`. With `keepingWork`, a workspace already on
  /// `branchRef` keeps its content: it is the work in progress.
  func switchTo(branchRef: String, commit: OID, planID: String, keepingWork: Bool = false) throws {
    if keepingWork, case .branch(let name, _) = try repository.head(), name == branchRef { return }
    let target = try repository.commit(commit).tree
    let current = try snapshot()
    if current != target {
      let headCommit = try? repository.resolve("HEAD")
      let headTree = try headCommit.map { try repository.commit($0).tree }
      if current != headTree {
        try saveStray(tree: current, parent: headCommit, planID: planID)
      }
      try repository.checkout(tree: target, baseline: current, force: true)
      // The checkout wrote the index from the tree; re-read the stat data of what it wrote.
      needsFullScan = true
      _ = try snapshot()
    }
    try repository.setHead(branchRef)
  }

  /// Replaces the working directory's content with `tree` (used when main moved and the sub-task is replayed).
  func checkout(tree: OID) throws {
    let current = try snapshot()
    guard current != tree else { return }
    try repository.checkout(tree: tree, baseline: current, force: true)
    needsFullScan = true
    _ = try snapshot()
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
    try index.write()
    let visible = repository.gitDirectory + "/index"
    let temporary = visible + ".orchestrate-tmp"
    unlink(temporary)
    try FileManager.default.copyItem(atPath: repository.gitDirectory + "/orchestrate-index", toPath: temporary)
    guard rename(temporary, visible) == 0 else {
      throw OrchestrateError.io("cannot update \(visible): \(String(cString: strerror(errno)))")
    }
  }

  func takeNotices() -> [String] {
    defer { notices = [] }
    return notices
  }
}
