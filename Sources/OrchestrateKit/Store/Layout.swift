import Foundation
import GitKit

/// Where git-orchestrate keeps its state: ref names and paths, all derived from validated ids.
///
/// Ids reach this type only after `RefNameComponent` accepted them, so they never form a path
/// or ref outside the namespaces below.
public struct Layout: Sendable {
  /// The repository's common git directory (shared by all worktrees).
  public let commonDirectory: String
  /// The folder holding this repository's work folders: `<root>/<repository key>`, outside the
  /// git directory and outside the checkout.
  public let workRoot: String

  /// - Parameter workdirRoot: `git config orchestrate.workdirRoot`, if set (see `workRoot(configured:…)`).
  public init(
    commonDirectory: String, workdirRoot: String? = nil,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws {
    self.commonDirectory = commonDirectory
    workRoot =
      try Self.workRoot(configured: workdirRoot, environment: environment) + "/"
      + Self.repositoryKey(commonDirectory: commonDirectory)
  }

  /// The root of every repository's work folders: `orchestrate.workdirRoot` when set (absolute, or
  /// `~/…`), else `$XDG_STATE_HOME/git-orchestrate/work`, else `~/.local/state/git-orchestrate/work`.
  ///
  /// A *state* folder, not a cache: a work folder holds an agent's uncommitted work between runs,
  /// which a cache cleaner must not delete.
  public static func workRoot(configured: String?, environment: [String: String]) throws -> String {
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    if var value = configured?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
      if value == "~" || value.hasPrefix("~/") { value = home + value.dropFirst() }
      guard value.hasPrefix("/") else {
        throw OrchestrateError.invalidArgument(
          "git config orchestrate.workdirRoot '\(PlanDiagnostic.escaped(value))' is not an absolute path; set it to a folder outside the repository, e.g. 'git config orchestrate.workdirRoot ~/orchestrate-work'"
        )
      }
      return trimmed(value)
    }
    if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
      return trimmed(state) + "/git-orchestrate/work"
    }
    return trimmed(home) + "/.local/state/git-orchestrate/work"
  }

  /// A folder name for the repository: the checkout's name (readable) and 12 hex digits of the
  /// SHA-256 of its common git directory's real path (unique), e.g. `shop-3f9c2e1a0b4d`.
  ///
  /// The common git directory is what every linked worktree of one repository shares, so a run
  /// from any of them finds the same work folders, and two repositories never share one.
  public static func repositoryKey(commonDirectory: String) -> String {
    var real = trimmed(commonDirectory)
    if let resolved = realpath(real, nil) {
      real = String(cString: resolved)
      free(resolved)
    }
    var name = (real as NSString).lastPathComponent
    if name == ".git" { name = ((real as NSString).deletingLastPathComponent as NSString).lastPathComponent }
    if name.hasSuffix(".git") { name = String(name.dropLast(4)) }
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    name = String(name.map { allowed.contains($0) ? $0 : "_" }.prefix(40))
    while name.hasPrefix(".") { name.removeFirst() }
    if name.isEmpty { name = "repository" }
    return name + "-" + String(SHA256.hex(Array(real.utf8)).prefix(12))
  }

  private static func trimmed(_ path: String) -> String {
    var path = path
    while path.count > 1, path.hasSuffix("/") { path.removeLast() }
    return path
  }

  public static let planRefPrefix = "refs/orchestrate/plans/"
  public static let attemptsRefPrefix = "refs/orchestrate/attempts/"
  public static let savedRefPrefix = "refs/orchestrate/saved/"
  public static let syncRef = "refs/orchestrate/checkout-sync"
  public static let notesRef = "refs/notes/orchestrate"
  public static let branchPrefix = "refs/heads/orchestrate/"

  public static func planRef(_ planID: String) -> String { planRefPrefix + planID }

  /// What the last run or MCP session of the plan read of main's history (`History.saveRecord`).
  public static let historyRefPrefix = "refs/orchestrate/history/"
  public static func historyRef(_ planID: String) -> String { historyRefPrefix + planID }

  /// `orchestrate/<plan>/<NN>-<id>` without `refs/heads/`.
  public static func branchName(plan: String, subtask: Subtask) -> String {
    "orchestrate/\(plan)/\(orderText(subtask.order))-\(subtask.id)"
  }

  /// The order as branch names spell it, at least two digits (`String(format: "%02d")`, without
  /// Foundation's formatter: status names the branch of every sub-task of a plan).
  public static func orderText(_ order: Int) -> String {
    (0..<10).contains(order) ? "0\(order)" : "\(order)"
  }

  public static func branchRef(plan: String, subtask: Subtask) -> String {
    "refs/heads/" + branchName(plan: plan, subtask: subtask)
  }

  public static func attemptsRef(plan: String, subtask: Subtask) -> String {
    attemptsRefPrefix + "\(plan)/\(orderText(subtask.order))-\(subtask.id)"
  }

  /// The tool's own folder inside the common git directory.
  public var stateDirectory: String { commonDirectory + "/orchestrate" }
  public var lockPath: String { stateDirectory + "/lock" }

  /// The managed working directory of a plan: a linked worktree outside the git directory and
  /// outside the user's checkout (see `workRoot`), reused across sub-tasks and runs.
  ///
  /// Outside `.git` because agents such as Claude Code refuse to write there; outside the
  /// checkout because tools would resolve the user's own `node_modules`, `conftest.py` or
  /// `pyproject.toml` from a parent folder.
  public func workdir(plan: String) -> String { workRoot + "/" + plan }

  /// What contender `k` > 1 of a `best_of` sub-task adds to its branch name. No other sub-task's
  /// branch can be named so: the `<NN>` of a branch is its sub-task's order, which no two share.
  public static func contenderSuffix(_ k: Int) -> String { "-contender-\(k)" }

  /// The work folder of job slot `slot` of a parallel run (`run --jobs`): slot 0 is the plan's own
  /// work folder, slot k is `<plan>~<k+1>` beside it (`~` cannot be part of a plan id, so no plan's
  /// folder can be another's slot).
  public func workdir(plan: String, slot: Int) -> String {
    slot == 0 ? workdir(plan: plan) : workdir(plan: plan) + "~\(slot + 1)"
  }

  /// Where work folders were kept before they left the git directory; a plan found registered
  /// there (or anywhere else) is moved by `Workspace.open`.
  public func legacyWorkdir(plan: String) -> String { stateDirectory + "/work/" + plan }

  /// Whether `path` is one of the tool's work folders (now or formerly), where no run may start.
  public func isWorkFolder(_ path: String) -> Bool {
    let path = Self.trimmed(path) + "/"
    return path.hasPrefix(workRoot + "/") || path.hasPrefix(stateDirectory + "/work/")
  }

  /// The name under which the plan's worktree is registered (`.git/worktrees/<name>`).
  public static func worktreeName(plan: String) -> String { "orchestrate-" + plan }

  /// The worktree name of job slot `slot` (see `workdir(plan:slot:)`): `orchestrate--job<k+1>-<plan>`.
  ///
  /// Not `<plan>~<k+1>` like the folder: git reads a linked worktree's HEAD as the ref
  /// `worktrees/<name>/HEAD`, so the name must be a valid ref component, and `git fsck` fails on
  /// one with `~`. No suffix can tell a slot from a plan (a plan id may hold any character a ref
  /// name can); a second `-` after the prefix can, because a plan id never starts with `-`. The
  /// `orchestrate-` prefix keeps it among the tool's own worktrees (never a user's checkout).
  public static func worktreeName(plan: String, slot: Int) -> String {
    slot == 0 ? worktreeName(plan: plan) : "orchestrate--job\(slot + 1)-" + plan
  }

  /// Whether `name` is the worktree of one of `plan`'s job slots other than 0.
  public static func isSlotWorktree(_ name: String, plan: String) -> Bool {
    slot(ofWorktree: name, plan: plan).map { $0 > 0 } ?? false
  }

  /// The job slot whose worktree is named `name` (0 for the plan's own), nil for any other name.
  public static func slot(ofWorktree name: String, plan: String) -> Int? {
    if name == worktreeName(plan: plan) { return 0 }
    let prefix = "orchestrate--job"
    guard name.hasPrefix(prefix), name.hasSuffix("-" + plan) else { return nil }
    let number = name.dropFirst(prefix.count).dropLast(plan.count + 1)
    guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let k = Int(number), k >= 2 else {
      return nil
    }
    return worktreeName(plan: plan, slot: k - 1) == name ? k - 1 : nil
  }

  /// The branch ref each of `plan`'s job slots has checked out, by slot: read from the worktrees'
  /// HEAD files, without opening them (a resumed run and a restarted MCP server find each
  /// sub-task's work folder by them).
  public func slotHeads(plan: String) -> [Int: String] {
    let folder = commonDirectory + "/worktrees"
    var heads: [Int: String] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
      guard let slot = Self.slot(ofWorktree: name, plan: plan),
        let head = try? String(contentsOfFile: folder + "/" + name + "/HEAD", encoding: .utf8), head.hasPrefix("ref: ")
      else { continue }
      heads[slot] = head.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return heads
  }

  /// Logs of agent and checkpoint output, per plan.
  public func logDirectory(plan: String) -> String { stateDirectory + "/logs/" + plan }
}
