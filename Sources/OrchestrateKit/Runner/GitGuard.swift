import Foundation
import GitKit

/// A fingerprint of the repository's own git configuration and hooks, taken before an agent runs
/// and compared after, so an agent cannot reach beyond its sub-task through git itself
/// (hooks, `core.hooksPath`, `core.fsmonitor`, `core.sshCommand`, aliases, `includeIf`).
public struct GitGuard: Equatable, Sendable {
  var config: [String]
  var hooks: [String: String]

  static func capture(_ repository: Repository, workspace: Repository?) throws -> GitGuard {
    var config = try repository.localConfigEntries().map { "\($0.name)=\($0.value)" }
    if let workspace {
      let worktreeConfig = workspace.gitDirectory + "/config.worktree"
      if let data = FileManager.default.contents(atPath: worktreeConfig) {
        config.append("config.worktree=" + OID.hashBlob(data).hex)
      }
    }
    var hooks: [String: String] = [:]
    var folders = [repository.commonDirectory + "/hooks"]
    if let hooksPath = try repository.configString("core.hooksPath"), !hooksPath.isEmpty {
      folders.append(
        hooksPath.hasPrefix("/") ? hooksPath : (repository.workingDirectory ?? repository.commonDirectory) + "/" + hooksPath)
    }
    if let workspace { folders.append(workspace.gitDirectory + "/hooks") }
    for folder in folders {
      for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
        // Size, times, inode and mode say whether a hook was touched, without reading it.
        let path = folder + "/" + name
        if let (stat, mode) = FileStat.of(path) {
          hooks[path] = "\(stat.size) \(stat.mtimeSeconds).\(stat.mtimeNanoseconds) \(stat.ctimeSeconds).\(stat.ctimeNanoseconds) \(stat.inode) \(String(mode, radix: 8))"
        }
      }
    }
    return GitGuard(config: config, hooks: hooks)
  }

  /// What changed between `self` (before) and `after`, each as a short sentence.
  public func changes(to after: GitGuard) -> [String] {
    var found: [String] = []
    let before = Set(config)
    let now = Set(after.config)
    for entry in after.config where !before.contains(entry) { found.append("config set \(entry)") }
    for entry in config where !now.contains(entry) { found.append("config removed \(entry)") }
    for (path, print) in after.hooks.sorted(by: { $0.key < $1.key }) {
      if hooks[path] == nil { found.append("hook added \(path)") } else if hooks[path] != print { found.append("hook changed \(path)") }
    }
    for path in hooks.keys.sorted() where after.hooks[path] == nil { found.append("hook removed \(path)") }
    return found
  }
}
