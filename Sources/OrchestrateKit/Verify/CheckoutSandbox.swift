import Foundation
import GitKit

/// A temporary linked worktree, detached at one commit, where `verify` runs a checkpoint; moved from
/// commit to commit when there are several, so only what differs is written (a new worktree per
/// commit wrote the whole tree each time: 20 commits of a 20k-file repository took 12 s, not 2).
///
/// It lives in the system's temporary directory, outside the user's checkout and the tool's own
/// workspace, and is removed (files and registration) afterwards. Hooks are disabled while it is
/// created, so a user's post-checkout hook does not run for it.
final class CheckoutSandbox {
  let path: String
  private let root: String
  private let repositoryDirectory: String

  init(repository: Repository, commit: OID) throws {
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
  }

  /// The paths the checkpoint changed or created (ignored files excluded).
  func changedPaths() throws -> [String] {
    try Repository(path: path).status(includeUntracked: true).map(\.path)
  }

  func remove() {
    let output = try? GitCommand.run(["worktree", "remove", "--force", "--force", path], in: repositoryDirectory)
    try? FileManager.default.removeItem(atPath: root)
    if output?.succeeded != true { _ = try? GitCommand.run(["worktree", "prune"], in: repositoryDirectory) }
  }
}
