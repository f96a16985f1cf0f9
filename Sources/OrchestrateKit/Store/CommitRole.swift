import Foundation
import GitKit

/// What a commit is to git-orchestrate, read from its trailers: the one rule that status, `run`,
/// the MCP server, `verify`, `log`, `show` and the history cache all use.
public enum CommitRole: Sendable, Equatable {
  /// Completes sub-task `subtask` of `plan`: main receives these, one per sub-task.
  case completion(Completion)
  /// A failed attempt, kept on a sub-task's branch (or under `refs/orchestrate/attempts/`).
  case failedAttempt(Attempt)
  /// Not one of the tool's commits.
  case other

  public struct Completion: Sendable, Equatable {
    public var plan: String
    public var subtask: String
    public var attempts: Int
    public var seconds: Double?
    public var checkpoint: String
    /// `Orchestrate-Red`, when the sub-task was red first.
    public var red: String?
    /// What the landing attempt's agent reported (`Orchestrate-Cost`, `-Tokens`, `-Agent-*`), if anything.
    public var usage: AgentUsage? = nil
    /// The sub-task's total over every attempt (`Orchestrate-Cost-Total`, `-Tokens-Total`), if recorded.
    public var total: CostTotal? = nil

    /// What the sub-task cost over every attempt, as status and the ledger count it: `total`; else
    /// (no agent of it reported anything, or it landed by hand or by an older version) its failed
    /// attempts as unreported and the landing one as it says. The attempts are not walked, so a
    /// status of a long plan reads nothing more per sub-task.
    public var cost: CostTotal {
      if let total { return total }
      var cost = CostTotal()
      for _ in 1..<max(attempts, 1) { cost.add(nil) }
      cost.add(usage)
      return cost
    }
  }

  public struct Attempt: Sendable, Equatable {
    public var plan: String
    public var subtask: String
    public var number: Int
    public var result: String
    public var seconds: Double?
    /// What the attempt's agent reported (`Orchestrate-Cost`, `-Tokens`, `-Agent-*`), if anything.
    public var usage: AgentUsage? = nil
  }

  /// A completion carries the plan, a well-formed sub-task, `Orchestrate-Checkpoint: passed …` and no
  /// `Orchestrate-Result`; a failed attempt carries `Orchestrate-Result: failed …`. Anything else
  /// (a hand-made commit, an attempt main was fast-forwarded to by hand) completes nothing.
  public init(_ commit: Commit) {
    guard let plan = commit.trailer(Trailers.plan), let value = commit.trailer(Trailers.subtask),
      let subtask = Trailers.parseSubtask(value)?.id
    else {
      self = .other
      return
    }
    let seconds = commit.trailer(Trailers.duration).flatMap(Trailers.parseSeconds)
    if let result = commit.trailer(Trailers.result) {
      self =
        result.hasPrefix("failed")
        ? .failedAttempt(
          Attempt(
            plan: plan, subtask: subtask, number: Int(commit.trailer(Trailers.attempt) ?? "") ?? 0, result: result,
            seconds: seconds, usage: Trailers.usage(of: commit)))
        : .other
      return
    }
    guard let checkpoint = commit.trailer(Trailers.checkpoint), checkpoint.hasPrefix("passed") else {
      self = .other
      return
    }
    self = .completion(
      Completion(
        plan: plan, subtask: subtask, attempts: Int(commit.trailer(Trailers.attempts) ?? "") ?? 1, seconds: seconds,
        checkpoint: checkpoint, red: commit.trailer(Trailers.red), usage: Trailers.usage(of: commit),
        total: Trailers.total(of: commit)))
  }

  /// The completion this commit records for `plan`, if it is one.
  public func completion(of plan: String) -> Completion? {
    if case .completion(let completion) = self, completion.plan == plan { return completion }
    return nil
  }

  /// The failed attempt this commit records for `plan`, if it is one.
  public func failedAttempt(of plan: String) -> Attempt? {
    if case .failedAttempt(let attempt) = self, attempt.plan == plan { return attempt }
    return nil
  }
}

/// The failed attempts of one sub-task, read back from git: the one reader behind `begin`,
/// `status`, `show` and the MCP server's `get_subtask_failure`.
public struct AttemptLog: Sendable {
  public struct Entry: Sendable {
    public var commit: Commit
    public var attempt: CommitRole.Attempt
  }

  /// Newest first.
  public var entries: [Entry]
  public var count: Int { entries.count }
  public var seconds: Double { entries.reduce(0) { $0 + ($1.attempt.seconds ?? 0) } }
  /// What the failed attempts cost, as their agents reported it.
  public var cost: CostTotal {
    var total = CostTotal()
    for entry in entries { total.add(entry.attempt.usage) }
    return total
  }

  /// Walks the sub-task's own commits (those not on main) for failed attempts: on its branch while
  /// it is open, under `refs/orchestrate/attempts/` once it completed (or once `clean` removed the
  /// branch), else in what `fetch` brought from a remote (`keptRefs`).
  public static func read(
    repository: Repository, plan: String, subtask: Subtask, mainTip: OID?, limit: Int = 1000
  ) throws -> AttemptLog {
    try located(repository: repository, plan: plan, subtask: subtask, mainTip: mainTip, limit: limit)?.log
      ?? AttemptLog(entries: [])
  }

  /// The first of the sub-task's refs that holds failed attempts, with them.
  public static func located(
    repository: Repository, plan: String, subtask: Subtask, mainTip: OID?, limit: Int = 1000
  ) throws -> (ref: String, tip: OID, log: AttemptLog)? {
    for ref in try keptRefs(repository: repository, plan: plan, subtask: subtask) {
      guard let tip = try repository.resolve(ref) else { continue }
      let log = try read(repository: repository, from: tip, plan: plan, subtask: subtask.id, mainTip: mainTip, limit: limit)
      if !log.entries.isEmpty { return (ref, tip, log) }
    }
    return nil
  }

  /// Where a sub-task's attempts may be, in the order they are read: its branch, its attempts ref,
  /// then the same two as fetched from each remote (`refs/orchestrate/remotes/<remote>/branches/…`
  /// and `…/attempts/…`, written by `git orchestrate fetch`).
  public static func keptRefs(repository: Repository, plan: String, subtask: Subtask) throws -> [String] {
    let stem = "\(plan)/\(Layout.orderText(subtask.order))-\(subtask.id)"
    var refs = [Layout.branchRef(plan: plan, subtask: subtask), Layout.attemptsRef(plan: plan, subtask: subtask)]
    let remote = try repository.references(withPrefix: RecordSync.remotesPrefix).map(\.name)
    refs += remote.filter { $0.hasSuffix("/branches/" + stem) }.sorted()
    refs += remote.filter { $0.hasSuffix("/attempts/" + stem) }.sorted()
    return refs
  }

  /// The failed attempts between `tip` and where it meets main.
  static func read(
    repository: Repository, from tip: OID, plan: String, subtask: String, mainTip: OID?, limit: Int = 1000
  ) throws -> AttemptLog {
    var entries: [Entry] = []
    var next: OID? = tip
    var segments = 0
    while let start = next, entries.count < limit, segments < limit {
      next = nil
      segments += 1
      let stop = try mainTip.flatMap { try repository.mergeBase(start, $0) }
      // A tip on main has no commits of its own.
      if stop == start { break }
      var oldest: Commit?
      try repository.walkFirstParents(from: start, stop: stop) { commit in
        oldest = commit
        if let attempt = CommitRole(commit).failedAttempt(of: plan), attempt.subtask == subtask {
          entries.append(Entry(commit: commit, attempt: attempt))
        }
        return entries.count < limit
      }
      // Work replayed (or restarted) onto a newer main keeps the attempts made before as the second
      // parent of its first commit there: they are the sub-task's too, and numbered before it.
      if let oldest, let stop, oldest.parents.count > 1, oldest.parents[0] == stop { next = oldest.parents[1] }
    }
    return AttemptLog(entries: entries)
  }
}
