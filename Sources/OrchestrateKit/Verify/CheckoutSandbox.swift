import Foundation
import GitKit

/// A temporary linked worktree, detached at one commit, where `verify` runs a checkpoint; moved from
/// commit to commit when there are several, so only what differs is written (a new worktree per
/// commit wrote the whole tree each time: 20 commits of a 20k-file repository took 12 s, not 2).
///
/// It lives in the system's temporary directory, outside the user's checkout and the tool's own
/// workspace, and is removed (files and registration) afterwards. Hooks are disabled while it is
/// created, so a user's post-checkout hook does not run for it.
///
/// With `watching`, a `ChangeWatcher` follows the worktree from its creation, so what a checkpoint
/// changed is known from the paths it touched instead of a status scan of every file (at 20,000
/// files the scans were a third of a cold `verify`).
final class CheckoutSandbox {
  let path: String
  private let root: String
  private let repositoryDirectory: String
  /// The commit the worktree is at.
  private var commit: OID
  private var watcher: ChangeWatcher?
  /// The worktree's own git directory (under the repository's `worktrees/`), when watching.
  private var gitDirectory = ""
  /// The worktree's HEAD and index files as the last checkout left them.
  private var gitFiles: [FileStat?] = []

  init(repository: Repository, commit: OID, watching: Bool = false) throws {
    var template = Array((NSTemporaryDirectory() + "/git-orchestrate-verify.XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else {
      throw OrchestrateError.io("cannot create a temporary directory: \(String(cString: strerror(errno)))")
    }
    root = String(cString: made)
    let name = (repository.workingDirectory ?? repository.commonDirectory) as NSString
    path = root + "/" + (name.lastPathComponent.isEmpty ? "work" : name.lastPathComponent)
    repositoryDirectory = repository.workingDirectory ?? repository.gitDirectory
    let output = try GitCommand.run(
      ["-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", "--quiet", path, commit.hex],
      in: repositoryDirectory)
    guard output.succeeded else {
      try? FileManager.default.removeItem(atPath: root)
      throw OrchestrateError.io(
        "cannot check out \(commit.hex.prefix(12)) in a temporary worktree: \(output.message)"
      )
    }
    self.commit = commit
    if watching {
      watcher = ChangeWatcher(root: path)
      gitDirectory = try Repository(path: path).gitDirectory
      gitFiles = currentGitFiles()
    }
  }

  /// Detaches the worktree at `commit`, as if it had just been created there: the checkout writes
  /// only what differs, and whatever the last checkpoint left (changed files, built and ignored
  /// files, nested repositories) is removed, so no checkpoint sees another's leftovers.
  func move(to commit: OID) throws {
    let checkout = try GitCommand.run(
      ["-c", "core.hooksPath=/dev/null", "checkout", "--quiet", "--force", "--detach", commit.hex], in: path)
    guard checkout.succeeded else {
      throw OrchestrateError.io(
        "cannot check out \(commit.hex.prefix(12)) in the temporary worktree \(path): \(checkout.message)")
    }
    let clean = try GitCommand.run(["clean", "-ffdxq"], in: path)
    guard clean.succeeded else {
      throw OrchestrateError.io("cannot clean the temporary worktree \(path): \(clean.message)")
    }
    self.commit = commit
    if let watcher {
      _ = watcher.drain()  // the checkout's and the clean's own changes
      gitFiles = currentGitFiles()
    }
  }

  /// The paths the checkpoint changed or created (ignored files excluded).
  ///
  /// When the watcher can tell, and the worktree's HEAD and index are as the checkout left them,
  /// paths the checkpoint touched that are neither tracked nor anything but ignored (build output,
  /// caches, files it made and removed) cannot show in a status: then nothing is scanned. Anything
  /// else, or a watcher that cannot tell, takes the full status.
  func changedPaths() throws -> [String] {
    let repository = try Repository(path: path)
    if let watcher, case .paths(let touched) = watcher.drain(), currentGitFiles() == gitFiles,
      try touched.allSatisfy({ try cannotShow($0, in: repository) })
    {
      return []
    }
    return try repository.status(includeUntracked: true).map(\.path)
  }

  /// Whether `relative`, touched by the checkpoint, is absent from a status whatever it holds:
  /// untracked, and gone or ignored.
  private func cannotShow(_ relative: String, in repository: Repository) throws -> Bool {
    guard try repository.treeEntry(in: commit, path: relative) == nil else { return false }
    guard let (_, mode) = FileStat.of(path + "/" + relative) else { return true }
    return try repository.isIgnored(mode & UInt32(S_IFMT) == UInt32(S_IFDIR) ? relative + "/" : relative)
  }

  /// The stat data of the worktree's HEAD and index: a checkpoint that runs git there (`git add`,
  /// `git reset --soft`) changes what a status reports without touching a file of the tree.
  private func currentGitFiles() -> [FileStat?] {
    [FileStat.of(gitDirectory + "/HEAD")?.0, FileStat.of(gitDirectory + "/index")?.0]
  }

  func remove() {
    watcher = nil
    let output = try? GitCommand.run(["worktree", "remove", "--force", "--force", path], in: repositoryDirectory)
    try? FileManager.default.removeItem(atPath: root)
    if output?.succeeded != true { _ = try? GitCommand.run(["worktree", "prune"], in: repositoryDirectory) }
  }
}
