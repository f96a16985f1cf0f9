import Foundation
import GitKit

/// A plan's progress, computed from git alone: the plan ref, main's first-parent history and the
/// sub-task branches. Field names are those of the seed's `get_decomposition_status`.
public struct PlanStatus: Codable, Sendable, Equatable {
  public enum State: String, Codable, Sendable {
    /// `interrupted`: work began on the sub-task's branch, no attempt was recorded and nothing runs
    /// now (a run stopped by Ctrl-C or killed); `run` resumes it.
    case completed, failed
    case inProgress = "in_progress"
    case interrupted, pending
  }

  public struct Detail: Codable, Sendable, Equatable {
    public var id: String
    public var order: Int
    public var description: String
    public var state: State
    public var commit: String?
    public var attempts: Int
    public var durationSeconds: Double?
    public var branch: String
    /// What its agents reported, every attempt counted (`Orchestrate-Cost-Total` once completed); absent when none did.
    public var costUSD: Decimal? = nil
    public var inputTokens: Int? = nil
    public var outputTokens: Int? = nil

    enum CodingKeys: String, CodingKey {
      case id, order, description, state, commit, attempts, branch
      case durationSeconds = "duration_seconds"
      case costUSD = "cost_usd"
      case inputTokens = "input_tokens"
      case outputTokens = "output_tokens"
    }
  }

  public var masterTaskID: String
  public var description: String
  public var mainBranch: String
  public var totalSubtasks: Int
  public var completedSubtasks: [String]
  public var progressPercentage: Double
  public var estimatedRemaining: String
  public var estimatedRemainingSeconds: Double?
  public var currentSubtask: String?
  public var subtaskDetails: [Detail]
  /// The plan's work folder (a linked worktree outside the checkout), where its sub-tasks are worked on.
  public var workdir: String
  /// What the agents cost, from the cost trailers (docs/storage.md); an estimate of what is left.
  public var cost: CostSummary? = nil

  enum CodingKeys: String, CodingKey {
    case description
    case masterTaskID = "master_task_id"
    case mainBranch = "main_branch"
    case totalSubtasks = "total_subtasks"
    case completedSubtasks = "completed_subtasks"
    case progressPercentage = "progress_percentage"
    case estimatedRemaining = "estimated_remaining"
    case estimatedRemainingSeconds = "estimated_remaining_seconds"
    case currentSubtask = "current_subtask"
    case subtaskDetails = "subtask_details"
    case workdir
    case cost
  }

  // `estimated_remaining_seconds` and `current_subtask` are always present, as null when unknown.
  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(masterTaskID, forKey: .masterTaskID)
    try c.encode(description, forKey: .description)
    try c.encode(mainBranch, forKey: .mainBranch)
    try c.encode(totalSubtasks, forKey: .totalSubtasks)
    try c.encode(completedSubtasks, forKey: .completedSubtasks)
    try c.encode(progressPercentage, forKey: .progressPercentage)
    try c.encode(estimatedRemaining, forKey: .estimatedRemaining)
    try c.encode(estimatedRemainingSeconds, forKey: .estimatedRemainingSeconds)
    try c.encode(currentSubtask, forKey: .currentSubtask)
    try c.encode(subtaskDetails, forKey: .subtaskDetails)
    try c.encode(workdir, forKey: .workdir)
    try c.encodeIfPresent(cost, forKey: .cost)
  }

  public var isComplete: Bool { completedSubtasks.count == totalSubtasks }

  public var jsonObject: Any {
    (try? JSONSerialization.jsonObject(with: jsonData(pretty: false))) ?? [:]
  }
}

/// What main's history says about one plan's sub-tasks.
struct History {
  struct Completion {
    var commit: OID
    var attempts: Int
    var duration: Double?
    var checkpoint: String?
    /// `Orchestrate-Red`: how the checkpoint failed on the base first (red_first sub-tasks).
    var red: String?
    /// What it cost over every attempt (`CommitRole.Completion.cost`).
    var cost: CostTotal
  }

  var completions: [String: Completion] = [:]
  var mainTip: OID?

  /// Reads main's first-parent history from its tip down to the plan's base commit.
  static func read(repository: Repository, mainRef: String, planID: String, base: OID?, expected: Int) throws -> History
  {
    var history = History()
    guard let tip = try repository.resolve(mainRef) else { return history }
    history.mainTip = tip
    var stop = base
    if let candidate = base, !(try repository.isAncestor(candidate, of: tip)) { stop = nil }
    try repository.walkFirstParents(from: tip, stop: stop) { commit in
      history.record(commit, planID: planID)
      return history.completions.count < expected || stop != nil
    }
    return history
  }

  /// `read`, from the plan's history record when there is one (`History+Record`) and main only
  /// gained commits since: then only those are read (a `status` of a long plan costs the same as a
  /// short one's). Else main is read down to the plan's base. (A cache file kept in the git
  /// directory, which anyone can edit, had to be checked against every commit it named: a second
  /// pass over what reading main costs, so there is none.)
  static func readRecorded(repository: Repository, mainRef: String, stored: StoredPlan) throws -> History {
    let plan = stored.plan
    guard let tip = try repository.resolve(mainRef) else { return History() }
    if var recorded = loadRecord(repository: repository, stored: stored, mainRef: mainRef),
      try recorded.extend(to: tip, repository: repository, planID: plan.id, base: stored.base) != nil
    {
      return recorded
    }
    return try read(
      repository: repository, mainRef: mainRef, planID: plan.id, base: stored.base, expected: plan.subtasks.count)
  }

  /// A completion that `extend` brought in: a sub-task completed, or completed again (`old`).
  struct Change {
    var subtask: String
    var old: Completion?
    var new: Completion
  }

  /// This history brought forward to main's new `tip`, reading only the commits main gained since `mainTip`.
  /// - Returns: the completions the new commits brought; nil (and nothing changed) when main was
  ///   rewritten rather than extended.
  @discardableResult
  mutating func extend(to tip: OID, repository: Repository, planID: String, base: OID?) throws -> [Change]? {
    guard let known = mainTip else { return nil }
    if known == tip { return [] }
    var added = History()
    var reachedKnown = false
    var walked = 0
    try repository.walkFirstParents(from: tip, stop: known) { commit in
      if commit.parents.first == known { reachedKnown = true }
      added.record(commit, planID: planID)
      walked += 1
      return walked < 10_000 && commit.oid != base
    }
    guard reachedKnown else { return nil }
    mainTip = tip
    // The new commits are the newer ones: they win, as the newest does in `read`.
    var changes: [Change] = []
    for (subtask, completion) in added.completions {
      changes.append(
        Change(subtask: subtask, old: completions.updateValue(completion, forKey: subtask), new: completion))
    }
    return changes
  }

  /// Notes `commit` if it completes a sub-task of `planID` (the newest such commit wins), by the one
  /// rule `CommitRole`: a failed attempt on main completes nothing.
  mutating func record(_ commit: Commit, planID: String) {
    guard let done = CommitRole(commit).completion(of: planID), completions[done.subtask] == nil else { return }
    completions[done.subtask] = Completion(
      commit: commit.oid, attempts: done.attempts, duration: done.seconds, checkpoint: done.checkpoint, red: done.red,
      cost: done.cost)
  }

}
