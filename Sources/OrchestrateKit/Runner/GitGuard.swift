import Foundation
import GitKit

/// A fingerprint of what an agent or a checkpoint must not change, taken before it runs and
/// compared after, sandbox or not (macOS has none, `off` exists, and a sandbox has bugs).
///
/// It covers the refs that say what passed (main, `refs/orchestrate/**`, `refs/notes/orchestrate`),
/// every git configuration file that can make git run a program (local, worktree, global, XDG,
/// system), `info/attributes` and `info/exclude` (which decide what a commit holds), and every
/// hooks folder: the repository's, the work folder's git directory, and `core.hooksPath` — where
/// that path is relative, under the user's checkout and under the work folder both, because git
/// resolves it against the work tree it runs in, so a tracked `.githooks/` edited in the work folder
/// is the hooks folder the user's next commit runs once it lands.
public struct GitGuard: Equatable, Sendable {
  var config: [String]
  var hooks: [String: String]
  /// Configuration and attribute files by path: a hash of their content, or "absent".
  var files: [String: String] = [:]
  /// Refs by name and value; empty when captured without refs (`captureGitGuard()` for MCP).
  var refs: [String: OID] = [:]
  /// The main branch's ref name, when refs were captured.
  var mainRef: String?

  static func capture(_ repository: Repository, workspaces: [Repository], mainRef: String? = nil) throws -> GitGuard {
    var config = try repository.localConfigEntries().map { "\($0.name)=\($0.value)" }
    for workspace in workspaces {
      let worktreeConfig = workspace.gitDirectory + "/config.worktree"
      if let data = FileManager.default.contents(atPath: worktreeConfig) {
        config.append(worktreeConfig + "=" + OID.hashBlob(data).hex)
      }
    }
    var hooks: [String: String] = [:]
    var folders = [repository.commonDirectory + "/hooks"]
    if let hooksPath = try repository.configString("core.hooksPath"), !hooksPath.isEmpty {
      let expanded = hooksPath.hasPrefix("~/") ? (Self.home ?? "") + hooksPath.dropFirst() : hooksPath
      if expanded.hasPrefix("/") {
        folders.append(expanded)
      } else {
        folders.append((repository.workingDirectory ?? repository.commonDirectory) + "/" + expanded)
        for workdir in workspaces.compactMap(\.workingDirectory) { folders.append(workdir + "/" + expanded) }
      }
    }
    for workspace in workspaces { folders.append(workspace.gitDirectory + "/hooks") }
    for folder in folders {
      for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
        // Size, times, inode and mode say whether a hook was touched, without reading it.
        let path = folder + "/" + name
        if let (stat, mode) = FileStat.of(path) {
          hooks[path] = "\(stat.size) \(stat.mtimeSeconds).\(stat.mtimeNanoseconds) \(stat.ctimeSeconds).\(stat.ctimeNanoseconds) \(stat.inode) \(String(mode, radix: 8))"
        }
      }
    }
    var files: [String: String] = [:]
    for path in Self.configFiles(commonDirectory: repository.commonDirectory) {
      files[path] = FileManager.default.contents(atPath: path).map { OID.hashBlob($0).hex } ?? "absent"
    }
    var refs: [String: OID] = [:]
    if let mainRef {
      for name in [mainRef, Layout.notesRef] { refs[name] = try repository.resolve(name) }
      for reference in try repository.references(withPrefix: "refs/orchestrate/") {
        refs[reference.name] = try reference.target ?? repository.resolve(reference.name)
      }
    }
    return GitGuard(config: config, hooks: hooks, files: files, refs: refs, mainRef: mainRef)
  }

  static var home: String? { variable("HOME") }

  /// One environment variable, read as it is now (`ProcessInfo.environment` copies them all, and
  /// the fingerprint is taken twice after every step of a run).
  static func variable(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
  }

  /// The files outside the local config that decide what git runs or what a commit holds.
  static func configFiles(commonDirectory: String) -> [String] {
    var paths = [commonDirectory + "/info/attributes", commonDirectory + "/info/exclude"]
    if let global = variable("GIT_CONFIG_GLOBAL"), !global.isEmpty {
      paths.append(global)
    } else if let home {
      paths.append(home + "/.gitconfig")
    }
    if let xdg = variable("XDG_CONFIG_HOME"), !xdg.isEmpty {
      paths.append(xdg + "/git/config")
      paths.append(xdg + "/git/attributes")
    } else if let home {
      paths.append(home + "/.config/git/config")
      paths.append(home + "/.config/git/attributes")
    }
    if variable("GIT_CONFIG_NOSYSTEM") == nil { paths.append(variable("GIT_CONFIG_SYSTEM") ?? "/etc/gitconfig") }
    return paths
  }

  /// What changed between `self` (before) and `after`, each as a short sentence.
  public func changes(to after: GitGuard) -> [String] {
    var found: [String] = []
    for name in Set(refs.keys).union(after.refs.keys).sorted() where refs[name] != after.refs[name] {
      found.append(Self.describe(ref: name, from: refs[name], to: after.refs[name]))
    }
    let before = Set(config)
    let now = Set(after.config)
    for entry in after.config where !before.contains(entry) { found.append("config set \(entry)") }
    for entry in config where !now.contains(entry) { found.append("config removed \(entry)") }
    for path in Set(files.keys).union(after.files.keys).sorted() where files[path] != after.files[path] {
      let (old, new) = (files[path] ?? "absent", after.files[path] ?? "absent")
      found.append(old == "absent" ? "file created \(path)" : new == "absent" ? "file removed \(path)" : "file changed \(path)")
    }
    for (path, print) in after.hooks.sorted(by: { $0.key < $1.key }) {
      if hooks[path] == nil { found.append("hook added \(path)") } else if hooks[path] != print { found.append("hook changed \(path)") }
    }
    for path in hooks.keys.sorted() where after.hooks[path] == nil { found.append("hook removed \(path)") }
    return found
  }

  static func describe(ref name: String, from old: OID?, to new: OID?) -> String {
    switch (old, new) {
    case (nil, let new?): "\(name) created at \(new.hex.prefix(10))"
    case (let old?, nil): "\(name) deleted (was \(old.hex.prefix(10)))"
    case (let old?, let new?): "\(name) moved from \(old.hex.prefix(10)) to \(new.hex.prefix(10))"
    case (nil, nil): "\(name) unchanged"
    }
  }

  /// `after` with main taken as it was before when main only moved forward by commits that claim
  /// no sub-task (no `Orchestrate-` trailer): someone committing on main during a run, which the
  /// landing replays onto, and which under the sandbox can only be the user.
  ///
  /// Without the sandbox an agent can make such a move too; it gains nothing the status, `verify`
  /// or the pre-push hook would vouch for, and the commit shows in the user's history as theirs.
  func acceptingOrdinaryMainMove(in after: GitGuard, repository: Repository) throws -> GitGuard {
    guard let mainRef, let old = refs[mainRef], let new = after.refs[mainRef], old != new,
      try repository.isAncestor(old, of: new)
    else { return after }
    var claims = false
    try repository.walkFirstParents(from: new, stop: old) { commit in
      claims = claims || commit.trailers.contains { $0.key.lowercased().hasPrefix("orchestrate-") }
      return !claims
    }
    // Merged side branches are not walked by first parents; a merge brings claims only with its message.
    if claims { return after }
    var accepted = after
    accepted.refs[mainRef] = old
    return accepted
  }

  /// Puts back, by compare-and-swap, every ref in this fingerprint (before) that `after` saw changed.
  /// - Returns: a sentence for each ref it could not put back (someone moved it again meanwhile).
  func restoreRefs(changedIn after: GitGuard, repository: Repository) -> (restored: [String], failed: [String]) {
    var restored: [String] = []
    var failed: [String] = []
    for name in Set(refs.keys).union(after.refs.keys).sorted() where refs[name] != after.refs[name] {
      do {
        if let old = refs[name] {
          if let current = after.refs[name] {
            try repository.updateReference(name, to: old, expected: current, message: "orchestrate: put back after tampering")
          } else {
            try repository.updateReference(name, to: old, expected: nil, message: "orchestrate: put back after tampering")
          }
        } else if let current = after.refs[name] {
          try repository.deleteReference(name, expected: current)
        }
        restored.append(name)
      } catch {
        failed.append("\(name) could not be put back (\(error.localizedDescription))")
      }
    }
    return (restored, failed)
  }
}
