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
  var hooks: [String: HookPrint]
  /// Configuration and attribute files by path: a hash of their content, or "absent".
  var files: [String: String] = [:]
  /// Refs by name and value; empty when captured without refs (`captureGitGuard()` for MCP).
  var refs: [String: OID] = [:]
  /// The main branch's ref name, when refs were captured.
  var mainRef: String?
  /// The git directories and folders of the work folders fingerprinted with it.
  var workspaceFolders: [String] = []

  /// Size, times, inode and mode: whether a hook was touched, without reading it.
  struct HookPrint: Equatable, Sendable {
    var stat: FileStat
    var mode: UInt32
  }

  static func capture(_ repository: Repository, workspaces: [Repository], mainRef: String? = nil) throws -> GitGuard {
    var fingerprint = try captureFiles(repository, workspaces: workspaces)
    if let mainRef {
      fingerprint.mainRef = mainRef
      fingerprint.refs = try captureRefs(repository, mainRef: mainRef)
    }
    return fingerprint
  }

  /// Everything but the refs: configuration, hooks, attribute and exclude files.
  static func captureFiles(_ repository: Repository, workspaces: [Repository]) throws -> GitGuard {
    var config = try repository.localConfigEntries().map { "\($0.name)=\($0.value)" }
    for workspace in workspaces {
      let worktreeConfig = workspace.gitDirectory + "/config.worktree"
      if let data = contents(of: worktreeConfig) {
        config.append(worktreeConfig + "=" + OID.hashBlob(data).hex)
      }
    }
    var hooks: [String: HookPrint] = [:]
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
      for name in names(in: folder) {
        let path = folder + "/" + name
        if let (stat, mode) = FileStat.of(path) { hooks[path] = HookPrint(stat: stat, mode: mode) }
      }
    }
    var files: [String: String] = [:]
    for path in Self.configFiles(commonDirectory: repository.commonDirectory) {
      files[path] = contents(of: path).map { OID.hashBlob($0).hex } ?? "absent"
    }
    var fingerprint = GitGuard(config: config, hooks: hooks, files: files)
    fingerprint.workspaceFolders = workspaces.flatMap { [$0.gitDirectory] + ($0.workingDirectory.map { [$0] } ?? []) }
    return fingerprint
  }

  // The fingerprint is taken twice per sub-task and per MCP call: the few files and folders it
  // reads are read with the C library, which costs a fraction of FileManager's calls.

  /// The entries of `folder` but `.` and `..`; none when it cannot be read.
  private static func names(in folder: String) -> [String] {
    guard let stream = opendir(folder) else { return [] }
    defer { closedir(stream) }
    var names: [String] = []
    while let entry = readdir(stream) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
      }
      if name != ".", name != ".." { names.append(name) }
    }
    return names
  }

  /// A regular file's contents; nil when it is missing or cannot be read.
  private static func contents(of path: String) -> Data? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 16 << 10)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count >= 0 else { return nil }
      if count == 0 { return data }
      data.append(contentsOf: buffer[..<count])
    }
  }

  /// Main, `refs/notes/orchestrate` and every ref under `refs/orchestrate/`.
  static func captureRefs(_ repository: Repository, mainRef: String) throws -> [String: OID] {
    var refs: [String: OID] = [:]
    for name in [mainRef, Layout.notesRef] { refs[name] = try repository.resolve(name) }
    for reference in try repository.references(withPrefix: "refs/orchestrate/") {
      refs[reference.name] = try reference.target ?? repository.resolve(reference.name)
    }
    return refs
  }

  static var home: String? { variable("HOME") }

  /// One environment variable, read where the C library keeps it: the guard is taken several times
  /// per sub-task and per MCP call, and `ProcessInfo.environment` copies the whole environment into
  /// a new dictionary each time (a tenth of the MCP server's time went there).
  static func variable(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
  }

  /// The files outside the local config that decide what git runs or what a commit holds.
  static func configFiles(commonDirectory: String) -> [String] {
    var paths = [commonDirectory + "/info/attributes", commonDirectory + "/info/exclude"]
    let home = self.home
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

  /// `self` (before) with what the tool itself did since taken as done: refs that hold what this
  /// process last wrote to them (`RefWriteLog`), and the parts of work folders opened since.
  /// Compared with `after`, what is left is someone else's doing.
  func expecting(toolWritesIn after: GitGuard, log: RefWriteLog = .shared) -> GitGuard {
    var expected = self
    for name in Set(refs.keys).union(after.refs.keys) where refs[name] != after.refs[name] {
      if let written = log.lastWrite(name), written == after.refs[name] { expected.refs[name] = after.refs[name] }
    }
    let known = Set(workspaceFolders)
    let opened = after.workspaceFolders.filter { !known.contains($0) }.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
    guard !opened.isEmpty else { return expected }
    let isNew = { (path: String) in opened.contains { path.hasPrefix($0) } }
    expected.config += after.config.filter { isNew($0) && !expected.config.contains($0) }
    for (path, print) in after.hooks where hooks[path] == nil && isNew(path) { expected.hooks[path] = print }
    expected.workspaceFolders = after.workspaceFolders
    return expected
  }

  /// `after` without the refs this process deleted that `git gc` brought back (`RefWriteLog.resurrected`):
  /// each is deleted again, by compare-and-swap, and not taken for anyone's change.
  func settlingResurrections(in after: GitGuard, repository: Repository, log: RefWriteLog = .shared) -> GitGuard {
    var settled = after
    for (name, value) in after.refs where refs[name] == nil && log.resurrected(name, value) {
      if (try? repository.deleteReference(name, expected: value)) != nil { settled.refs[name] = nil }
    }
    return settled
  }

  /// What changed between `self` (before) and `after`, each as a short sentence.
  public func changes(to after: GitGuard) -> [String] {
    // Nothing changed, the usual answer (every MCP call checks): no sets or sorting to build.
    if refs == after.refs, config == after.config, files == after.files, hooks == after.hooks { return [] }
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
      found.append(
        old == "absent" ? "file created \(path)" : new == "absent" ? "file removed \(path)" : "file changed \(path)")
    }
    for (path, print) in after.hooks.sorted(by: { $0.key < $1.key }) {
      if hooks[path] == nil {
        found.append("hook added \(path)")
      } else if hooks[path] != print {
        found.append("hook changed \(path)")
      }
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
            try repository.updateReference(
              name, to: old, expected: current, message: "orchestrate: put back after tampering")
          } else {
            try repository.updateReference(
              name, to: old, expected: nil, message: "orchestrate: put back after tampering")
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
