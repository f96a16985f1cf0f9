import Dispatch
import Foundation
import Logging
import MCP
import OrchestrateKit

/// Runs the actor's jobs on one dispatch queue of its own, so the blocking git work and checkpoint
/// commands of a tool call never occupy the cooperative threads that read and write the protocol.
final class QueueExecutor: SerialExecutor, Sendable {
  let queue = DispatchQueue(label: "git-orchestrate.mcp.host")

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    let executor = asUnownedSerialExecutor()
    queue.async { job.runSynchronously(on: executor) }
  }

  func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

  /// A block run on the queue (`OrchestrationHost.runIsolated`) is isolated to the actor: the
  /// queue is serial and runs every job of the actor.
  func checkIsolated() {
    dispatchPrecondition(condition: .onQueue(queue))
  }
}

/// Collects the kit's run events during a tool call: notices go into the result, everything is logged.
final class EventLog: Sendable {
  private let notices = LockedBox<[String]>([])
  let logger: Logger

  init(logger: Logger) {
    self.logger = logger
  }

  func record(_ event: RunEvent) {
    switch event {
    case .notice(let text):
      notices.withLock { $0.append(text) }
      logger.notice("\(text)")
    case .output(let data):
      logger.trace("\(String(decoding: data, as: UTF8.self))")
    default:
      logger.debug("\(event)")
    }
  }

  func note(_ text: String) {
    notices.withLock { $0.append(text) }
    logger.notice("\(text)")
  }

  /// The notices since the last call.
  func take() -> [String] {
    notices.withLock { taken in
      defer { taken = [] }
      return taken
    }
  }
}

/// The one place where the repository and the plan session live while the server runs.
///
/// `Repository` and `PlanSession` are not thread-safe, so every tool runs isolated to this actor,
/// one call at a time. The repository lock is taken by the first call that changes anything and held
/// until `close()`; read-only calls never take it.
public actor OrchestrationHost {
  private let executor = QueueExecutor()
  public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

  /// Where the server was started (any directory inside the repository).
  public let path: String
  let logger: Logger
  let events: EventLog
  private var opened: Orchestrator?
  private(set) var session: PlanSession?
  /// The lock held by `decompose_task` before any plan session exists.
  private var planLock: RepositoryLock?

  /// Whether `decompose_task` may store plans (`git orchestrate mcp --no-plan-creation` forbids it).
  public let allowsPlanCreation: Bool
  /// The plan commits (hex) this server session stored, by plan id: the only plans it may replace.
  private(set) var createdPlans: [String: String] = [:]
  /// `--sandbox` for the checkpoints this server runs; nil means `git config orchestrate.sandbox`.
  let sandbox: Confinement.Setting?
  /// The sub-tasks of plan `slotsPlan` handed out and not finished, by id, with the job slot whose
  /// work folder holds each (see Slots.swift); read back from the slots' worktrees when first needed.
  var slots: [String: Int] = [:]
  var slotsPlan: String?
  /// Whether sub-tasks of that plan were handed out several at once (count > 1, or found in slots
  /// beside the plan's own folder): a sub-task not handed out is then refused as such, not as out of order.
  var parallelDispatch = false

  public init(
    path: String, allowsPlanCreation: Bool = true, logger: Logger = Logger(label: "git-orchestrate.mcp"),
    sandbox: Confinement.Setting? = nil
  ) {
    self.path = path
    self.allowsPlanCreation = allowsPlanCreation
    self.sandbox = sandbox
    self.logger = logger
    self.events = EventLog(logger: logger)
  }

  /// Runs `body` isolated to the host on its queue, from a thread that is not a task's: the MCP
  /// server's direct lane answers a tool call there without a hop through the task executors.
  nonisolated func runIsolated(_ body: @escaping @Sendable (isolated OrchestrationHost) -> Void) {
    executor.queue.async {
      self.assumeIsolated { body($0) }
    }
  }

  /// Notes that this session stored plan `id` as commit `commit`.
  func recordCreated(planID: String, commit: String) {
    createdPlans[planID] = commit
  }

  /// Writes the workspace's index and releases the repository lock.
  public func close() {
    session?.close()
    session = nil
    planLock?.release()
    planLock = nil
  }

  /// Whether this server holds the repository lock now.
  public var holdsLock: Bool { session != nil || planLock?.isHeld == true }

  // MARK: - Repository and plans

  func orchestrator() throws -> Orchestrator {
    if let opened { return opened }
    do {
      let created = try Orchestrator(at: path)
      opened = created
      return created
    } catch {
      throw ToolError.invalid(
        "cannot open a git repository at \(path) (\(error.localizedDescription)); start the server inside your repository or pass -C <path>"
      )
    }
  }

  /// The stored plan `id`; without an id, the plan of the current session, else the only stored plan.
  func storedPlan(_ id: String?) throws -> StoredPlan {
    let orchestrator = try orchestrator()
    if let id {
      if let session, session.plan.id == id { return session.stored }
      return try orchestrator.store.load(id)
    }
    if let session { return session.stored }
    return try orchestrator.resolvePlan(nil, addIfFile: false)
  }

  /// The plan session for `stored`, taking the repository lock if this server does not hold it yet.
  /// Switching to another plan closes the previous session first.
  func session(for stored: StoredPlan) throws -> PlanSession {
    if let session, session.plan.id == stored.plan.id { return session }
    if let session {
      logger.info("switching from plan '\(session.plan.id)' to '\(stored.plan.id)'")
      session.close()
      self.session = nil
    }
    forgetSlots()
    planLock?.release()
    planLock = nil
    var options = RunOptions()
    options.command = "mcp"
    options.sandbox = sandbox
    let events = self.events
    let created = try PlanSession(orchestrator: try orchestrator(), plan: stored, options: options) {
      events.record($0)
    }
    logger.info("holding the repository lock for plan '\(stored.plan.id)'")
    session = created
    return created
  }

  /// Takes the repository lock for a change that has no plan session (storing a plan).
  func holdLock(planID: String) throws {
    if session != nil || planLock?.isHeld == true { return }
    let lock = RepositoryLock(path: try orchestrator().layout.lockPath)
    try lock.acquire(plan: planID, command: "mcp")
    planLock = lock
  }

  /// Closes the session of plan `id` (its stored plan changed).
  func forgetSession(planID: String) {
    guard let session, session.plan.id == planID else { return }
    session.close()
    self.session = nil
    forgetSlots()
    // Keep the repository: re-take the lock at once, as the session held it.
    try? holdLock(planID: planID)
  }

  // MARK: - Progress

  /// The plan's status, from git alone.
  func status(_ stored: StoredPlan) throws -> PlanStatus {
    if let session, session.plan.id == stored.plan.id { return try session.status() }
    return try orchestrator().status(stored)
  }

  /// `{total, completed, current, percentage}`.
  static func progress(_ status: PlanStatus) -> Value {
    let current = status.subtaskDetails.first { $0.state != .completed }?.id
    return [
      "total": .int(status.totalSubtasks), "completed": .int(status.completedSubtasks.count),
      "current": .nullable(current), "percentage": .double(status.progressPercentage),
    ]
  }
}
