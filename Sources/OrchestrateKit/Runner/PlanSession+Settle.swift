import Foundation
import GitKit

extension PlanSession {
  /// Settles a verdict: a failure is kept as an attempt on the branch; a pass becomes one commit
  /// that main fast-forwards to by compare-and-swap. If main moved meanwhile, the work is replayed
  /// onto its new tip and validated again first.
  ///
  /// - Throws: `OrchestrateError.dirtyCheckout` when landing would overwrite the user's own work,
  ///   `.alreadyCompleted` when another process landed the sub-task first.
  public func settle(_ cycle: inout SubtaskCycle, _ verdict: Verdict) throws -> Settlement {
    let settlement = try inLandingTurn(verdict.passed) { try settleVerdict(&cycle, verdict) }
    try refreshGuard()
    return settlement
  }

  private func settleVerdict(_ cycle: inout SubtaskCycle, _ verdict: Verdict) throws -> Settlement {
    var verdict = verdict
    if let landing = cycle.landing, verdict.passed, try mainTip() == cycle.base {
      // The commit was made and validated before the run stopped: only main is left to move.
      try stageInUserCheckouts(landing)
      if try moveMain(to: landing, from: cycle.base, cycle.subtask) {
        let commit = try repository.commit(landing)
        let changes = try repository.diffTrees(try repository.commit(cycle.base).tree, commit.tree)
        return landed(
          &cycle, commit: landing, seconds: CommitRole(commit).completion(of: plan.id)?.seconds ?? 0,
          artifacts: changes.map(\.path))
      }
    }
    while true {
      let tree: OID
      let checkpointSeconds: Double
      switch verdict {
      case .failed(let failedTree, let failure, _, _):
        return .retry(failure: failure, attemptCommit: try recordAttempt(&cycle, tree: failedTree, failure: failure))
      case .passed(let passedTree, _, _, let seconds):
        tree = passedTree
        checkpointSeconds = seconds
      }
      let tip = try mainTip()
      if tip != cycle.base {
        if try history().completions[cycle.subtask.id] != nil {
          throw OrchestrateError.alreadyCompleted(plan: plan.id, subtask: cycle.subtask.id)
        }
        if let paths = try replay(&cycle, tree: tree, onto: tip) {
          return .conflict(
            paths: paths, attemptCommit: try recordAttempt(&cycle, tree: tree, failure: .replay(paths, mainName)))
        }
        verdict = try check(cycle)
        continue
      }
      Trace.mark(" land: main tip")
      let seconds = cycle.spent + Date().timeIntervalSince(cycle.attemptStarted)
      let (commit, changes) = try makeCompletion(
        cycle, tree: tree, checkpointSeconds: checkpointSeconds, seconds: seconds)
      // The branch's attempts, kept once the branch moves to the landing commit (a branch that only
      // followed main, replayed onto it, holds none).
      if let oldTip = try repository.resolve(cycle.branchRef), oldTip != cycle.base,
        try !repository.isAncestor(oldTip, of: cycle.base)
      {
        try repository.setReference(
          Layout.attemptsRef(plan: plan.id, subtask: cycle.subtask), to: oldTip, message: "orchestrate: attempts")
      }
      try repository.setReference(cycle.branchRef, to: commit, message: "orchestrate: checkpoint passed")
      Trace.mark(" land: branch ref")
      guard try moveMain(to: commit, from: cycle.base, cycle.subtask) else { continue }
      Trace.mark(" land: main ref")
      if let workspace = workspaces[cycle.slot], tree == (try? workspace.snapshot()) {
        try workspace.restoreHead(branchRef: cycle.branchRef)
      }
      return landed(&cycle, commit: commit, seconds: seconds, artifacts: changes.map(\.path))
    }
  }

  /// Brings a resumed sub-task whose main moved onto main's tip before it is checked, so that it is
  /// validated once, on the tree that would land.
  /// - Returns: `.conflict` (kept as an attempt) when the work does not apply to the new main.
  func replayIfBehind(_ cycle: inout SubtaskCycle) throws -> Settlement? {
    let tip = try mainTip()
    guard tip != cycle.base, cycle.landing == nil else { return nil }
    let tree = try openedWorkspace(cycle).snapshot()
    guard let paths = try replay(&cycle, tree: tree, onto: tip) else { return nil }
    return .conflict(
      paths: paths, attemptCommit: try recordAttempt(&cycle, tree: tree, failure: .replay(paths, mainName)))
  }

  /// Replays `tree` (built on `cycle.base`) onto main's `tip` in the workspace.
  /// - Returns: nil when it applied (the workspace holds the merged tree, `cycle.base` is `tip`),
  ///   else the conflicting paths (nothing changed).
  private func replay(_ cycle: inout SubtaskCycle, tree: OID, onto tip: OID) throws -> [String]? {
    events(.mainMoved(from: cycle.base.hex, to: tip.hex))
    let ancestor = try repository.commit(cycle.base).tree
    switch try repository.mergeTrees(ancestor: ancestor, ours: try repository.commit(tip).tree, theirs: tree) {
    case .conflicts(let paths):
      return paths
    case .clean(let merged):
      try openedWorkspace(cycle).checkout(tree: merged)
      cycle.base = tip
      return nil
    }
  }

  /// The commit main receives for `cycle`, on `cycle.base`, after checking that the user's
  /// checkout can take it.
  private func makeCompletion(_ cycle: SubtaskCycle, tree: OID, checkpointSeconds: Double, seconds: Double) throws
    -> (OID, [DiffEntry])
  {
    let changes = try repository.diffTrees(try repository.commit(cycle.base).tree, tree)
    Trace.mark(" land: diff")
    let baseTree = try repository.commit(cycle.base).tree
    // The check passed, so protected changes left in the tree were accepted as a person's hand fix.
    let protectedByHand = try Protection(
      plan: plan, subtask: cycle.subtask, baseTree: baseTree, repository: repository
    ).violations(in: changes)
    let usage = attemptUsage(cycle.subtask, attempt: cycle.attempts + 1)
    let message = CommitMessage.completion(
      plan: plan, subtask: cycle.subtask, changes: changes, attempts: cycle.attempts + 1,
      commands: cycle.subtask.checkpoint.commands.count, checkpointSeconds: checkpointSeconds,
      duration: seconds, red: try redResult(cycle.subtask, baseTree: baseTree), protectedByHand: protectedByHand,
      usage: usage, total: try landingCost(cycle, usage: usage))
    let signature = repository.defaultSignature()
    let commit = try repository.createCommit(
      tree: tree, parents: [cycle.base], message: message, author: signature, committer: signature)
    Trace.mark(" land: commit")
    for user in try userCheckouts(tip: cycle.base) {
      let conflicting = try user.conflicts(changes, target: commit)
      Trace.mark(" land: user conflicts")
      if !conflicting.isEmpty {
        throw OrchestrateError.dirtyCheckout(files: conflicting.map { user.describe($0) }, branch: mainName)
      }
    }
    try stageInUserCheckouts(commit)
    return (commit, changes)
  }

  /// Writes `commit`'s change into every checkout of the user's that has main checked out, before
  /// main moves to it. In that order, a commit the user makes at the same moment either includes
  /// the sub-task's files (main's compare-and-swap then fails and the sub-task is replayed onto
  /// it) or is made before them: it can never revert a landed sub-task, as it could if main moved
  /// first and their index still lacked the files.
  private func stageInUserCheckouts(_ commit: OID) throws {
    for user in try userCheckouts(tip: try mainTip()) {
      try user.markPending()
      let count = try user.update(to: commit)
      if count > 0 { events(.checkoutUpdated(files: count)) }
    }
  }

  /// Moves main from `expected` to `commit`; false when main is no longer at `expected`.
  private func moveMain(to commit: OID, from expected: OID, _ subtask: Subtask) throws -> Bool {
    do {
      try repository.updateReference(mainRef, to: commit, expected: expected, message: "orchestrate: \(subtask.id)")
      return true
    } catch let error as RepositoryError {
      guard case .referenceConflict = error else { throw error }
      return false
    }
  }

  private func landed(_ cycle: inout SubtaskCycle, commit: OID, seconds: Double, artifacts: [String]) -> Settlement {
    attemptStarts[cycle.branchRef] = nil
    return .landed(Landing(commit: commit, attempts: cycle.attempts + 1, seconds: seconds, artifacts: artifacts))
  }

  /// Commits a failed attempt on the sub-task's branch with what failed, so nothing is lost and the
  /// fix agent starts from it. An attempt is recorded once per piece of work: when no work ran
  /// since the last record and the branch's tip already holds `tree` (the same work checked again,
  /// as a resumed run or an MCP client does), that commit is returned as it is.
  @discardableResult
  func recordAttempt(_ cycle: inout SubtaskCycle, tree: OID, failure: CheckpointFailure) throws -> OID {
    let parent = try repository.resolve(cycle.branchRef) ?? cycle.base
    if !cycle.unrecordedWork, parent != cycle.base, try repository.commit(parent).tree == tree { return parent }
    let number = cycle.attempts + 1
    let now = Date()
    let duration = now.timeIntervalSince(cycle.attemptStarted)
    let changes = try repository.diffTrees(try repository.commit(cycle.base).tree, tree)
    let message = CommitMessage.attempt(
      plan: plan, subtask: cycle.subtask, attempt: number, failure: failure, changes: changes, duration: duration,
      usage: attemptUsage(cycle.subtask, attempt: number))
    let signature = repository.defaultSignature()
    // An agent may have committed on the branch itself; its commits are folded into this one. When
    // the work was replayed onto a new main, the branch's earlier attempts stay reachable as a
    // second parent (the first stays main, so the attempts are counted from the new base).
    let parents = try repository.isAncestor(cycle.base, of: parent) ? [parent] : [cycle.base, parent]
    let commit = try repository.createCommit(
      tree: tree, parents: parents, message: message, author: signature, committer: signature)
    try repository.setReference(cycle.branchRef, to: commit, message: "orchestrate: attempt \(number) failed")
    cycle.attempts = number
    cycle.unrecordedWork = false
    cycle.spent += duration
    cycle.attemptStarted = now
    attemptStarts[cycle.branchRef] = now
    events(.attemptRecorded(attempt: number, commit: commit.hex, branch: cycle.branch))
    return commit
  }
}

extension CheckpointFailure {
  /// The work does not apply to the main that moved: these paths conflict.
  static func replay(_ paths: [String], _ mainName: String) -> CheckpointFailure {
    CheckpointFailure(
      kind: .replay, command: "replay onto \(mainName)", summary: "conflicts with the new \(mainName)",
      outputTail: paths.joined(separator: "\n"))
  }
}
