import Foundation
import GitKit

extension Workspace {
  /// Refuses a work folder inside the git directory or inside the user's checkout.
  ///
  /// Claude Code refuses to write under `.git`, and tools run in a folder inside the checkout
  /// resolve the user's own `node_modules`, `conftest.py` or `pyproject.toml` from its parents.
  static func checkLocation(_ path: String, main: Repository) throws {
    let real = realPath(path)
    for (place, what) in [(main.commonDirectory, "git directory"), (main.workingDirectory, "checkout")] {
      guard let place else { continue }
      let inside = [place, realPath(place)].contains {
        real == $0 || real.hasPrefix($0 + "/") || path.hasPrefix($0 + "/")
      }
      if inside {
        throw OrchestrateError.invalidArgument(
          "the work folder \(path) would be inside the repository's \(what) (\(place)); set 'git config orchestrate.workdirRoot' to a folder outside it, e.g. ~/.local/state/git-orchestrate/work"
        )
      }
    }
  }

  /// Whether two paths name the same folder (symbolic links resolved where they exist).
  static func samePlace(_ a: String, _ b: String) -> Bool {
    a == b || realPath(a) == realPath(b)
  }

  /// `path` with symbolic links resolved as far as it exists (the rest appended as is).
  static func realPath(_ path: String) -> String {
    var head = path
    var tail: [String] = []
    while !head.isEmpty, head != "/" {
      if let resolved = realpath(head, nil) {
        defer { free(resolved) }
        return ([String(cString: resolved)] + tail.reversed()).joined(separator: "/")
      }
      tail.append((head as NSString).lastPathComponent)
      head = (head as NSString).deletingLastPathComponent
    }
    return path
  }

  /// Moves a plan's work folder registered at `registered.path` to `path`.
  ///
  /// The old folder's content is snapshotted first; if it differs from its HEAD (uncommitted agent
  /// work), it is saved as a commit under `refs/orchestrate/saved/<plan>/` and written into the new
  /// folder, which is created on the same branch, so the run goes on exactly as before. Only then
  /// are the old registration pruned and the old folder removed (ignored files such as build
  /// output are not carried over). A folder that is not a usable worktree is left where it is.
  static func move(
    _ registered: WorktreeInfo, to path: String, main: Repository, planID: String, branchRef: String,
    useWatcher: Bool, agentFiles: [String]
  ) throws -> Workspace {
    let old = registered.path
    let name = registered.name
    var carried: OID?
    var branch = branchRef
    var notices: [String] = []
    var usable = false
    if registered.isValid, FileManager.default.fileExists(atPath: old + "/.git"),
      let oldRepository = try? Repository(path: old), oldRepository.isWorktree,
      oldRepository.commonDirectory == main.commonDirectory
    {
      usable = true
      var head: OID?
      if case .branch(let name, let oid) = try oldRepository.head(), try main.resolve(name) != nil {
        branch = name
        head = oid
      } else if case .detached(let oid) = try oldRepository.head() {
        head = oid
      }
      let previous = try open(
        main: main, path: old, name: name, branchRef: branch, useWatcher: false, agentFiles: agentFiles)
      let tree = try previous.snapshot()
      let headTree = try head.map { try main.commit($0).tree }
      if tree != headTree {
        let signature = main.defaultSignature()
        let commit = try main.createCommit(
          tree: tree, parents: head.map { [$0] } ?? [],
          message: "uncommitted work found in the \(planID) working directory when it moved from \(old)\n",
          author: signature, committer: signature)
        let ref = Layout.savedRefPrefix + planID + "/" + String(Int(Date().timeIntervalSince1970 * 1000))
        try main.setReference(ref, to: commit, message: "orchestrate: work folder moved")
        carried = tree
        notices.append("uncommitted work in \(old) was saved as \(ref) and carried over to \(path)")
      }
    }
    try main.pruneWorktree(name: name)
    let workspace = try open(
      main: main, path: path, name: name, branchRef: branch, useWatcher: useWatcher, agentFiles: agentFiles)
    if let carried {
      try workspace.checkout(tree: carried)
      try workspace.flush()
    }
    if usable {
      do {
        try FileManager.default.removeItem(atPath: old)
        notices.append("the working directory moved from \(old) to \(path)")
      } catch {
        notices.append(
          "the working directory moved to \(path); the old folder \(old) could not be removed: \(error.localizedDescription)"
        )
      }
    } else if FileManager.default.fileExists(atPath: old) {
      notices.append(
        "the working directory is now \(path); the old folder \(old) was not a usable worktree and is left as it was")
    }
    workspace.notices.insert(contentsOf: notices, at: 0)
    return workspace
  }
}
