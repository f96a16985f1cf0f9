import Foundation
import GitKit

/// One plan worked on by one process: holds the repository lock, the settings, the workspace and
/// the user's checkout, and offers the sub-task cycle that `run` and the MCP server both follow:
///
/// `begin` (branch and work folder) → `work` (agent or steps) → `check` (→ `Verdict`) →
/// `settle` (→ `Settlement`: recorded as an attempt, or landed on main by compare-and-swap).
public final class PlanSession {
  public let orchestrator: Orchestrator
  public let stored: StoredPlan
  public var plan: Plan { stored.plan }
  public let settings: RunSettings
  public var mainName: String { settings.mainName }
  public var mainRef: String { settings.mainRef }
  /// What holds the lock, for the message another process gets.
  let command: String
  /// The sandbox agents and checkpoints run in (nil: none), resolved once when the session starts.
  let confinement: Confinement?
  let lock: RepositoryLock
  let processRunner = ProcessRunner()
  /// The work folders this session opened, by job slot: slot 0 is the plan's work folder, the
  /// only one of a sequential run; a parallel run (`run --jobs N`) opens one per running sub-task.
  var workspaces: [Int: Workspace] = [:]
  /// The plan's own work folder (slot 0), when opened.
  var workspace: Workspace? { workspaces[0] }
  /// Set while a parallel run schedules sub-tasks: its lock and the jobs under way.
  var parallel: ParallelState?
  /// The user's checkouts that have main checked out (found when first needed).
  private var foundUserCheckouts: [UserCheckout]?
  private var historyCache: History?
  /// Every sub-task before this index in `plan.subtasks` is on main, as `historyCache` says:
  /// completions only accumulate while main moves forward, so `nextSubtask` looks on from here
  /// instead of from the first sub-task (reset whenever the history is read afresh).
  private var doneBefore = 0
  /// The sums the run's progress is computed from, as `historyCache` says (nil: computed afresh
  /// when next asked for), kept up to date with the completions each extension brings.
  private var tally: Estimate.Tally?
  /// Each sub-task's complexity, by id, for `tally`.
  private lazy var complexities = Dictionary(
    plan.subtasks.map { ($0.id, $0.complexity) }, uniquingKeysWith: { first, _ in first })
  /// Where the run's progress is published for its renderer (`RunOptions.progress`), if anywhere.
  let progressFeed: LockedBox<RunProgress?>?
  /// Where events go; in a parallel run each job's events are tagged with its sub-task (`events`).
  var baseEvents: @Sendable (RunEvent) -> Void
  public var events: @Sendable (RunEvent) -> Void {
    get {
      guard let job = Self.currentJob else { return baseEvents }
      let base = baseEvents
      return { base(.job(subtask: job, $0)) }
    }
    set { baseEvents = newValue }
  }
  var repository: Repository { orchestrator.repository }
  var cache: CheckpointCache { CheckpointCache(repository: repository) }
  /// Checkpoint results not yet written to the notes ref (written in batches, and when the session closes).
  var pendingRecords: [(tree: OID, record: CheckpointRecord)] = []
  /// `run` batches checkpoint results; the MCP server (one step per call) writes each at once.
  var batchRecords = false
  /// The checkpoints this process ran, by tree and commands: the only results `check` reuses.
  var ranHere: [RanKey: Verdict] = [:]
  /// The red results of this session's `red_first` sub-tasks, for their landing commits.
  var redResults: [String: String] = [:]
  /// When the attempt under way of each sub-task (by branch: best-of contenders have their own) began, so that a cycle begun again (the MCP server
  /// begins one per call) counts its time once.
  var attemptStarts: [String: Date] = [:]
  /// What the guard watches, as the tool's own last step left it (nil until the first step).
  var guardBaseline: GitGuard?

  /// Reads the settings and takes the repository lock for this plan.
  /// - Throws: `OrchestrateError.locked` when another process works in the repository, or
  ///   `.invalidArgument` for a setting that cannot be used.
  public init(
    orchestrator: Orchestrator, plan stored: StoredPlan, options: RunOptions = RunOptions(),
    events: @escaping @Sendable (RunEvent) -> Void = { _ in }
  ) throws {
    self.orchestrator = orchestrator
    self.stored = stored
    self.baseEvents = events
    command = options.command
    progressFeed = options.progress
    settings = try RunSettings.resolve(
      repository: orchestrator.repository, plan: stored.plan, mainName: try orchestrator.mainBranch(for: stored.plan),
      options: options)
    confinement = try Self.resolveConfinement(flag: options.sandbox, repository: orchestrator.repository, events: events)
    if let workdir = orchestrator.repository.workingDirectory, orchestrator.layout.isWorkFolder(workdir) {
      throw OrchestrateError.invalidArgument(
        "this is git orchestrate's own working directory; run git orchestrate from your checkout of the repository")
    }
    lock = RepositoryLock(path: orchestrator.layout.lockPath)
    try lock.acquire(plan: stored.plan.id, command: options.command)
    if lock.recoveredStale {
      RepositoryLock.removeStaleGitLocks(
        layout: orchestrator.layout, deadRunStarted: lock.staleHolderStarted, mainRef: settings.mainRef,
        userGitDirectory: orchestrator.repository.workingDirectory == nil ? nil : orchestrator.repository.gitDirectory)
      lock.staleGitLocksRemoved()
    }
  }

  deinit { close() }

  /// Writes what is pending (checkpoint records, the workspace's index) and releases the lock.
  public func close() {
    if lock.isHeld { flushQuietly() }
    lock.release()
  }

  /// Writes the batched records, the history record and the workspace's index, ignoring errors:
  /// used on the way out.
  func flushQuietly() {
    try? flushRecords()
    try? historyCache?.saveRecord(repository: repository, stored: stored, mainRef: mainRef)
    for workspace in workspaces.values { try? workspace.flush() }
  }

  // MARK: - Reading

  public func mainTip() throws -> OID {
    guard let tip = try repository.resolve(mainRef) else { throw OrchestrateError.mainBranchMissing(mainName) }
    return tip
  }

  /// What main's history says about the plan, read incrementally: only the commits added to main
  /// since the last call are walked, so a long plan costs the same per sub-task as a short one.
  func history() throws -> History {
    guard let tip = try repository.resolve(mainRef) else { return History() }
    if var cached = historyCache {
      // Taken out first, so that extending it writes in place instead of copying every completion.
      historyCache = nil
      if let changes = try cached.extend(to: tip, repository: repository, planID: plan.id, base: stored.base) {
        for change in changes {
          guard let complexity = complexities[change.subtask] else { continue }
          tally?.record(complexity, old: change.old, new: change.new)
        }
        historyCache = cached
        return cached
      }
    }
    let fresh = try History.read(
      repository: repository, mainRef: mainRef, planID: plan.id, base: stored.base, expected: plan.subtasks.count)
    historyCache = fresh
    doneBefore = 0
    tally = nil
    return fresh
  }

  /// Where the run stands: the same figures as `RunProgress` of the plan's status, from the
  /// session's history and `tally`, so that it costs the same after the last sub-task of a long
  /// plan as after the first.
  func progress() throws -> RunProgress {
    let history = try history()
    let current = tally ?? Estimate.Tally(plan: plan, history: history)
    tally = current
    return RunProgress(total: plan.subtasks.count, tally: current)
  }

  /// The first sub-task, in order, whose commit is not on main's first-parent history.
  public func nextSubtask() throws -> Subtask? {
    let done = try history().completions
    let subtasks = plan.subtasks
    while doneBefore < subtasks.count, done[subtasks[doneBefore].id] != nil { doneBefore += 1 }
    return doneBefore < subtasks.count ? subtasks[doneBefore] : nil
  }

  /// Emits `event`, a sub-task's start or end, after publishing the run's progress for its
  /// renderer (`RunOptions.progress`): computed from the session's own history, so a renderer
  /// reads no repository and a long plan's progress costs no walk of main.
  func emitWithProgress(_ event: RunEvent) {
    if let progressFeed, let progress = try? progress() {
      progressFeed.withLock { $0 = progress }
    }
    events(event)
  }

  public func status() throws -> PlanStatus { try orchestrator.status(stored, session: self) }

  // MARK: - The environment of agents and checkpoints

  /// This process's environment less the variables that would point git at another repository
  /// (set, for example, when git runs us from a hook), so git in the working directory finds it.
  static func childEnvironment() -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for key in [
      "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
      "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_QUARANTINE_PATH",
    ] {
      env[key] = nil
    }
    return env
  }

  // MARK: - The user's checkout

  /// Every checkout of the user's that has main checked out, found once.
  func userCheckouts(tip: OID) throws -> [UserCheckout] {
    if let foundUserCheckouts { return foundUserCheckouts }
    let found = try UserCheckout.all(
      repository: repository, layout: orchestrator.layout, mainRef: mainRef, mainTip: tip)
    foundUserCheckouts = found
    return found
  }

  /// Brings the user's checkouts that are on main up to main's tip: after every landing, so the
  /// user's next ordinary commit can never revert a landed sub-task.
  public func updateUserCheckout() throws {
    let tip = try mainTip()
    for user in try userCheckouts(tip: tip) {
      let count: Int
      do {
        count = try user.update(to: tip)
      } catch let error as GitError where error.isLocked {
        throw OrchestrateError.io(
          "main has the new sub-task commits, but your checkout \(user.workdir) could not be brought up to date: its index is locked (\(user.repository.gitDirectory)/index.lock); another git command is running, or one crashed. Remove the lock if no git is running, then run 'git orchestrate run \(plan.id)' again to update your checkout"
        )
      }
      try user.finish()
      if count > 0 { events(.checkoutUpdated(files: count)) }
    }
    try refreshGuard()
  }
}

/// A checkpoint's commands on one tree.
struct RanKey: Hashable {
  var tree: OID
  var commandsHash: String
}

/// The run was interrupted by SIGINT or SIGTERM; state is saved and `run` resumes it.
public struct Interrupted: Error, LocalizedError {
  public let signal: Int32
  /// The work folder whose uncommitted files hold the sub-task's work so far; nil when nothing was
  /// under way (the work is then on the branch).
  public var workdir: String?
  /// The work folders of the other sub-tasks a parallel run was working on.
  public var otherWorkdirs: [String] = []

  public init(signal: Int32, workdir: String? = nil) {
    self.signal = signal
    self.workdir = workdir
  }

  /// Where the work is, in a sentence.
  public var whereTheWorkIs: String {
    guard let workdir else { return "the work so far is kept on the sub-task's branch" }
    if !otherWorkdirs.isEmpty {
      return "the sub-tasks' work so far is uncommitted in \(([workdir] + otherWorkdirs).joined(separator: ", ")), where a resumed run continues from it"
    }
    return "the sub-task's work so far is uncommitted in \(workdir), where a resumed run continues from it"
  }

  public var errorDescription: String? {
    "interrupted by signal \(signal); \(whereTheWorkIs): run the same command again to resume"
  }
}
