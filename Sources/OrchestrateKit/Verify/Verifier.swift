import Foundation
import GitKit

/// Decides, for sub-task commits, whether each one's checkpoint passed on its exact tree.
///
/// A pass recorded in `refs/notes/orchestrate` for (tree id, hash of the checkpoint's commands) is
/// trusted and nothing runs: that is what makes a push of validated work instant. Anything else (no
/// record, or a recorded failure, which may have been flaky or fixed since) runs the checkpoint in a
/// temporary linked worktree at the commit, never in the user's checkout, and records the result
/// unless the checkpoint left the tree dirty.
public final class Verifier {
  public let orchestrator: Orchestrator
  var repository: Repository { orchestrator.repository }
  /// Called with a line of progress whenever a checkpoint is about to run (never for cached passes).
  public var progress: (String) -> Void = { _ in }
  /// Only read records: a commit without a recorded pass fails, and nothing runs.
  public var cachedOnly = false
  private var plans: [String: StoredPlan] = [:]
  private var notes: NotesIndex?
  /// The temporary worktree of this `verify`, made for the first checkpoint that runs and moved to
  /// each next commit.
  private var sandbox: CheckoutSandbox?

  public init(orchestrator: Orchestrator) {
    self.orchestrator = orchestrator
  }

  // MARK: - Choosing commits

  /// The sub-task commits a `verify` argument list names, oldest first.
  ///
  /// No argument: the commits of the main branch not on its upstream, else all of main. Otherwise
  /// `A..B`, `A...B`, `REV` (everything reachable) and `^REV` (excluded), as `git rev-list` reads them.
  /// - Throws: `OrchestrateError.invalidArgument` for a revision that names nothing.
  public func subtaskCommits(revisions: [String]) throws -> [SubtaskCommit] {
    var tips: [OID] = []
    var hidden: [OID] = []
    if revisions.isEmpty {
      let main = try orchestrator.mainBranch(for: nil)
      guard let tip = try repository.resolve("refs/heads/" + main) else {
        throw OrchestrateError.mainBranchMissing(main)
      }
      tips = [tip]
      if let upstream = try upstreamRef(of: main), let base = try repository.resolve(upstream) { hidden = [base] }
    }
    for argument in revisions {
      if let range = argument.range(of: "...") {
        let left = try revision(String(argument[..<range.lowerBound]), whole: argument)
        let right = try revision(String(argument[range.upperBound...]), whole: argument)
        tips += [left, right]
        if let base = try repository.mergeBase(left, right) { hidden.append(base) }
      } else if let range = argument.range(of: "..") {
        hidden.append(try revision(String(argument[..<range.lowerBound]), whole: argument))
        tips.append(try revision(String(argument[range.upperBound...]), whole: argument))
      } else if argument.hasPrefix("^") {
        hidden.append(try revision(String(argument.dropFirst()), whole: argument))
      } else {
        tips.append(try revision(argument, whole: argument))
      }
    }
    guard !tips.isEmpty else { return [] }
    return try subtaskCommits(reachableFrom: tips, hiding: hidden)
  }

  /// The sub-task commits reachable from `tips` and not from `hidden`, oldest first.
  public func subtaskCommits(reachableFrom tips: [OID], hiding hidden: [OID], ref: String? = nil) throws
    -> [SubtaskCommit]
  {
    try repository.commits(reachableFrom: tips, hiding: hidden).compactMap { oid in
      SubtaskCommit(try repository.commit(oid), ref: ref)
    }
  }

  private func revision(_ text: String, whole: String) throws -> OID {
    do {
      return try repository.revparse(text.isEmpty ? "HEAD" : text)
    } catch let error as RepositoryError {
      guard case .refNotFound = error else { throw error }
      throw OrchestrateError.invalidArgument(
        "unknown revision '\(text.isEmpty ? "HEAD" : text)' in '\(whole)'; give a commit, a branch or a range such as origin/main..main"
      )
    }
  }

  /// `refs/remotes/<remote>/<branch>` (or the local ref) that `branch` tracks, from `branch.<name>.*`.
  func upstreamRef(of branch: String) throws -> String? {
    guard let merge = try repository.configString("branch.\(branch).merge"),
      let remote = try repository.configString("branch.\(branch).remote")
    else { return nil }
    if remote == "." { return merge }
    guard merge.hasPrefix("refs/heads/") else { return nil }
    return "refs/remotes/\(remote)/" + merge.dropFirst("refs/heads/".count)
  }

  // MARK: - Verifying

  /// Verifies each commit; the report lists them in the order given.
  /// - Throws: `OrchestrateError.planNotFound` / `.subtaskNotFound` when a commit names a plan or
  ///   sub-task this repository does not store (bad input: nothing can be decided).
  public func verify(_ commits: [SubtaskCommit]) throws -> VerifyReport {
    // Resolve every checkpoint first, so bad input is reported before anything runs.
    var checkpoints: [(SubtaskCommit, StoredPlan, Subtask)] = []
    for commit in commits {
      let stored = try plan(commit.plan, for: commit)
      guard let subtask = stored.plan.subtask(id: commit.subtask) else {
        throw OrchestrateError.invalidArgument(
          "commit \(commit.commit.hex.prefix(12)) names sub-task '\(commit.subtask)', which plan '\(commit.plan)' does not have; the stored plan may have been replaced ('git orchestrate plan show \(commit.plan)')"
        )
      }
      checkpoints.append((commit, stored, subtask))
    }
    if notes == nil, !checkpoints.isEmpty { notes = try NotesIndex(repository: repository) }
    defer {
      sandbox?.remove()
      sandbox = nil
    }
    var decided: [String: VerifiedCommit] = [:]
    var results: [VerifiedCommit] = []
    for (commit, stored, subtask) in checkpoints {
      let hash = subtask.checkpoint.commandsHash
      let key = commit.tree.hex + " " + hash
      if var earlier = decided[key] {
        // The same tree and commands already decided in this run (a cherry-pick, an amend of the message).
        earlier.commit = commit.commit.hex
        earlier.summary = commit.summary
        earlier.ref = commit.ref
        earlier.plan = commit.plan
        earlier.subtask = commit.subtask
        earlier.order = commit.order
        if earlier.source == .ran { earlier.source = .cached }
        earlier.recorded = false
        results.append(earlier)
        continue
      }
      var result = VerifiedCommit(
        commit: commit.commit.hex, tree: commit.tree.hex, summary: commit.summary, plan: commit.plan,
        subtask: commit.subtask, order: commit.order, ref: commit.ref, passed: false, source: .missing,
        recorded: false, durationSeconds: 0)
      let records = try notes?.records(on: commit.tree) ?? []
      let latest = CheckpointRecord.latest(records, commandsHash: hash)
      if let latest, latest.passed {
        result.passed = true
        result.source = .cached
        result.durationSeconds = latest.durationSeconds
      } else if cachedOnly {
        result.failureSummary =
          latest.map { "failed when recorded (\($0.failingCommand ?? "exit \($0.exitCode)"))" }
          ?? "no checkpoint result recorded for this tree"
        result.failingCommand = latest?.failingCommand
      } else {
        progress(
          "verifying \(commit.commit.hex.prefix(12)) (plan \(commit.plan), sub-task \(commit.order) \(commit.subtask)): running its checkpoint"
        )
        try run(subtask.checkpoint, plan: stored.plan, commit: commit, into: &result)
      }
      decided[key] = result
      try checkProtected(commit, plan: stored.plan, subtask: subtask, into: &result)
      results.append(result)
    }
    return VerifyReport(results: results)
  }

  /// A sub-task commit that changes its own protected paths fails, naming them, unless it declares
  /// them as a person's hand fix (`Orchestrate-Protected-Changed`, written when a resumed run
  /// accepted them); declared ones are said in a notice.
  private func checkProtected(
    _ commit: SubtaskCommit, plan: Plan, subtask: Subtask, into result: inout VerifiedCommit
  ) throws {
    guard !plan.protectedGlobs(subtask).isEmpty else { return }
    let object = try repository.commit(commit.commit)
    let parentTree = try object.parents.first.map { try repository.commit($0).tree }
    let protection = try Protection(plan: plan, subtask: subtask, baseTree: parentTree, repository: repository)
    let touched = protection.violations(in: try repository.diffTrees(parentTree, object.tree))
    guard !touched.isEmpty else { return }
    let declared = object.trailer(Trailers.protectedByHand) ?? ""
    let undeclared = touched.filter { !declared.contains($0) }
    if undeclared.isEmpty {
      result.notice = "changes protected paths by hand (declared): " + touched.joined(separator: ", ")
      return
    }
    result.passed = false
    result.failingCommand = nil
    result.failureSummary = "changes its protected paths: " + undeclared.joined(separator: ", ")
  }

  private func plan(_ id: String, for commit: SubtaskCommit) throws -> StoredPlan {
    if let stored = plans[id] { return stored }
    guard let stored = try orchestrator.store.find(id) else {
      throw OrchestrateError.invalidArgument(
        "commit \(commit.commit.hex.prefix(12)) belongs to plan '\(id)', which is not stored in this repository; fetch the plans with 'git orchestrate fetch' (they travel under \(Layout.planRefPrefix))"
      )
    }
    plans[id] = stored
    return stored
  }

  /// The timeout of a checkpoint command: the checkpoint's, the plan's, `orchestrate.timeout`, 10 minutes.
  func timeout(_ checkpoint: Checkpoint, plan: Plan) throws -> TimeInterval {
    if let value = checkpoint.timeout ?? plan.timeout { return value }
    if let text = try repository.configString("orchestrate.timeout") {
      guard let value = Durations.parse(text) else {
        throw OrchestrateError.invalidArgument(
          "git config orchestrate.timeout '\(text)' is not a duration such as 10m, 90s or 1h")
      }
      return value
    }
    return 600
  }

  private func run(_ checkpoint: Checkpoint, plan: Plan, commit: SubtaskCommit, into result: inout VerifiedCommit)
    throws
  {
    let timeout = try timeout(checkpoint, plan: plan)
    let sandbox: CheckoutSandbox
    if let existing = self.sandbox {
      try existing.move(to: commit.commit)
      sandbox = existing
    } else {
      sandbox = try CheckoutSandbox(repository: repository, commit: commit.commit, watching: true)
      self.sandbox = sandbox
    }
    var env = PlanSession.childEnvironment()
    env["ORCHESTRATE_PLAN_ID"] = plan.id
    env["ORCHESTRATE_SUBTASK_ID"] = commit.subtask
    env["ORCHESTRATE_WORKDIR"] = sandbox.path
    env["ORCHESTRATE_VERIFY"] = "1"
    let runner = ProcessRunner()
    let started = Date()
    var reports: [CommandReport] = []
    var failure: CheckpointFailure?
    for command in checkpoint.commands {
      let outcome = try runner.run(
        CommandSpec(
          command: command, directory: sandbox.path, environment: env, input: nil, timeout: timeout, logFile: nil))
      let report = CommandReport(outcome)
      reports.append(report)
      if case .interrupted(let signal) = outcome.termination { throw Interrupted(signal: signal) }
      if !outcome.succeeded {
        failure = CheckpointFailure(command: command, summary: outcome.summary, outputTail: report.outputTail)
        break
      }
    }
    let duration = Date().timeIntervalSince(started)
    result.source = .ran
    result.passed = failure == nil
    result.durationSeconds = (duration * 1000).rounded() / 1000
    result.failingCommand = failure?.command
    result.failureSummary = failure?.summary
    result.outputTail = failure?.outputTail
    let changed = try sandbox.changedPaths()
    if !changed.isEmpty {
      result.notice =
        "the checkpoint changed files in the tree (\(changed.prefix(5).joined(separator: ", "))); the result was not recorded, add them to .gitignore"
      return
    }
    let verdict: Verdict =
      failure.map { .failed(tree: commit.tree, failure: $0, results: reports, seconds: duration) }
      ?? .passed(tree: commit.tree, cached: false, results: reports, seconds: duration)
    try CheckpointCache(repository: repository).record(
      CheckpointCache.makeRecord(plan: plan.id, subtask: commit.subtask, checkpoint: checkpoint, verdict: verdict),
      tree: commit.tree)
    result.recorded = true
  }
}
