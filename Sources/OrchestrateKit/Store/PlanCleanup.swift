import Foundation
import GitKit

/// What `clean` did to one plan.
public struct CleanReport: Sendable {
  public var plan: String
  /// Work folders removed (their worktree registrations pruned).
  public var workFolders: [String] = []
  /// Sub-task branches deleted, each with the ref that keeps its commits reachable (nil when main
  /// already holds them).
  public var branches: [(branch: String, keptAt: String?)] = []
  /// Why the plan was left alone, when it was (with no plan named, unfinished plans are skipped).
  public var skipped: String?

  public var jsonObject: [String: Any] {
    var object: [String: Any] = [
      "plan": plan, "work_folders": workFolders,
      "branches": branches.map { ["branch": $0.branch, "kept_at": $0.keptAt as Any] },
    ]
    if let skipped { object["skipped"] = skipped }
    return object
  }
}

extension Orchestrator {
  /// Removes a plan's work folders and sub-task branches, keeping every attempt reachable.
  ///
  /// A branch whose tip main already holds (a landed sub-task's) is deleted; any other tip is kept
  /// under `refs/orchestrate/attempts/<plan>/<NN>-<id>` first (where `AttemptLog` reads a landed
  /// sub-task's attempts), or, when that ref already holds other commits, under
  /// `refs/orchestrate/saved/<plan>/<NN>-<id>-<commit>`: nothing is lost and `show` still works.
  ///
  /// - Parameter abandon: also clean a plan that is not finished (the user gives it up; running
  ///   it again starts its open sub-task afresh from main).
  /// - Throws: `OrchestrateError.planRunning` when a run of the plan holds the repository;
  ///   `.planUnfinished` when it is not complete and `abandon` is not set.
  public func clean(_ stored: StoredPlan, abandon: Bool) throws -> CleanReport {
    let plan = stored.plan
    let lock = RepositoryLock(path: layout.lockPath)
    do {
      // Held under another name than the plan's, so that the status read below does not take this
      // clean for a run of the plan.
      try lock.acquire(plan: plan.id + " (clean)", command: "git orchestrate clean \(plan.id)")
    } catch OrchestrateError.locked(let holder, _) where holder.plan == plan.id {
      throw OrchestrateError.planRunning(plan: plan.id, holder: holder)
    } catch OrchestrateError.locked {
      // Another plan's run: its refs and work folder are not the ones cleaned here.
    }
    defer { lock.release() }
    let status = try status(stored)
    if !status.isComplete && !abandon {
      let next = status.subtaskDetails.first { $0.state != .completed }
      throw OrchestrateError.planUnfinished(
        plan: plan.id, next: next.map { "\($0.id) (\($0.state.rawValue))" } ?? "?")
    }
    var report = CleanReport(plan: plan.id)
    let workdir = layout.workdir(plan: plan.id)
    for worktree in try repository.worktrees()
    where worktree.name == Layout.worktreeName(plan: plan.id) || worktree.path == workdir
      || worktree.path.hasPrefix(workdir + "/")
      // The work folders of a parallel run's other job slots.
      || Layout.isSlotWorktree(worktree.name, plan: plan.id) || worktree.path.hasPrefix(workdir + "~")
    {
      try repository.pruneWorktree(name: worktree.name)
      if FileManager.default.fileExists(atPath: worktree.path) {
        try FileManager.default.removeItem(atPath: worktree.path)
      }
      report.workFolders.append(worktree.path)
    }
    if FileManager.default.fileExists(atPath: workdir) {
      try FileManager.default.removeItem(atPath: workdir)
      if !report.workFolders.contains(workdir) { report.workFolders.append(workdir) }
    }
    let mainTip = try repository.resolve("refs/heads/" + status.mainBranch)
    let prefix = Layout.branchPrefix + plan.id + "/"
    for ref in try repository.references(withPrefix: prefix) {
      guard let tip = ref.target else { continue }
      let stem = String(ref.name.dropFirst(prefix.count))
      var keptAt: String?
      if let mainTip, try (tip == mainTip || repository.isAncestor(tip, of: mainTip)) {
        keptAt = nil
      } else {
        let attempts = Layout.attemptsRefPrefix + plan.id + "/" + stem
        if let kept = try repository.resolve(attempts) {
          if try (kept == tip || repository.isAncestor(tip, of: kept)) {
            keptAt = attempts
          } else {
            keptAt = Layout.savedRefPrefix + plan.id + "/" + stem + "-" + String(tip.hex.prefix(12))
            try repository.setReference(keptAt!, to: tip, message: "orchestrate: clean \(plan.id)")
          }
        } else {
          try repository.updateReference(attempts, to: tip, expected: nil, message: "orchestrate: clean \(plan.id)")
          keptAt = attempts
        }
      }
      try repository.deleteReference(ref.name, expected: tip)
      report.branches.append((String(ref.name.dropFirst("refs/heads/".count)), keptAt))
    }
    return report
  }

  /// Cleans every stored plan that is complete; unfinished ones are reported and left alone.
  public func cleanCompleted() throws -> [CleanReport] {
    try store.list().map { stored in
      do {
        return try clean(stored, abandon: false)
      } catch OrchestrateError.planUnfinished, OrchestrateError.planRunning {
        var report = CleanReport(plan: stored.plan.id)
        report.skipped = "unfinished or running; name it with --abandon to clean it anyway"
        return report
      }
    }
  }
}
