import Foundation
import GitKit

/// A parallel run (`run --jobs N`): up to N sub-tasks whose dependencies are on main work at once,
/// each in its own work folder (job slot) and on its own branch; their results land one at a time
/// through `settle`'s compare-and-swap, each replayed onto main's tip and validated again there.
///
/// Every step of the session (begin, snapshot, check's bookkeeping, settle, the user's checkout)
/// runs with `gate` held, so the session's state, its libgit2 handles and the repository's refs see
/// one job at a time; the gate is open only while a job's agent or checkpoint command runs
/// (`runCommand`). Landing is therefore serial, and in the order the sub-tasks pass (first ready,
/// first landed).
// @unchecked: every property is read and written with `gate` held (the scheduler's loop and the
// jobs' threads both hold it); `LockedBox` cannot serve, because a job must also wait on, and give
// up, the same lock while its commands run.
final class ParallelState: @unchecked Sendable {
  let gate = NSCondition()
  let jobs: Int
  /// The sub-tasks under way, by id, with the job slots their work folders use (one, or one per
  /// contender of a `best_of` sub-task).
  var running: [String: [Int]] = [:]
  /// Job slots: `jobs`, and as many more as the largest `best_of` needs beside them.
  var slots: Int
  /// The sub-tasks whose checkpoint still fails after the attempt budget, in the order they stopped.
  var stuck: [RunOutcome.Stuck] = []
  /// The first error that stopped a job (tampering, an interrupt, an agent that cannot start):
  /// no new job starts, running ones are ended, and the run rethrows it.
  var error: Error?
  /// The landing queue: a passed sub-task takes the next ticket and waits until it is served, so
  /// one at a time replays onto main, is checked there and lands, in the order they passed.
  var nextTicket = 0
  var serving = 0

  init(jobs: Int, slots: Int) {
    self.jobs = jobs
    self.slots = slots
  }

  /// The sub-tasks under way, in plan order.
  func running(in plan: Plan) -> [String] { plan.subtasks.map(\.id).filter { running[$0] != nil } }

  /// Who may have changed what the guard watches while the gate was open: any job's agent or checkpoint.
  func suspects(in plan: Plan) -> (subtasks: String, culprit: String) {
    let ids = running(in: plan)
    let list = ids.joined(separator: ", ")
    return (list, ids.count > 1 ? "agent or checkpoint (one of \(list))" : "agent or checkpoint")
  }
}

extension PlanSession {
  /// The sub-task a job's events belong to (bound on the job's thread).
  @TaskLocal static var currentJob: String?
  /// The runner of a `best_of` contender's commands, so that the winner can end the others' alone.
  @TaskLocal static var currentRunner: ProcessRunner?

  /// Runs the remaining sub-tasks with up to `jobs` at once. Returns when every sub-task is on main,
  /// or when nothing more can start: the stuck ones and every sub-task that depends on them wait.
  func runParallel(jobs: Int) throws -> RunOutcome {
    let contenders = plan.subtasks.map(settings.contenders(for:)).max() ?? 1
    let state = ParallelState(jobs: jobs, slots: jobs + contenders - 1)
    parallel = state
    state.gate.lock()
    defer {
      parallel = nil
      state.gate.unlock()
    }
    while true {
      // One job at a time (best_of alone asked for the scheduler) keeps the seed's rule: never past a failure.
      if state.error == nil, InterruptMonitor.shared.received == nil, state.jobs > 1 || state.stuck.isEmpty {
        for subtask in try readySubtasks(state) {
          let count = settings.contenders(for: subtask)
          guard let slots = freeSlots(count, for: subtask, state) else { break }
          state.running[subtask.id] = slots
          if count == 1 {
            startJob(subtask, slot: slots[0], state)
          } else {
            let group = ContenderGroup(count: count)
            for (index, slot) in slots.enumerated() {
              startJob(subtask, slot: slot, state, group: group, contender: index + 1)
            }
          }
        }
        lock.record(running: state.running(in: plan))
      }
      if state.running.isEmpty { break }
      state.gate.wait()
    }
    lock.record(running: [])
    if let error = state.error { throw error }
    if !state.stuck.isEmpty {
      let done = try history().completions
      let waiting = plan.subtasks.filter { done[$0.id] == nil && !state.stuck.map(\.subtask).contains($0.id) }
      return .blocked(stuck: state.stuck, waiting: waiting.map(\.id), status: try finish())
    }
    return try finishAll()
  }

  /// The sub-tasks that can start now, in plan order, as many as there are free job slots: not on
  /// main, not under way, not stuck, every dependency on main.
  private func readySubtasks(_ state: ParallelState) throws -> [Subtask] {
    let done = try history().completions
    let stuck = Set(state.stuck.map(\.subtask))
    var ready: [Subtask] = []
    for subtask in plan.subtasks where state.running.count + ready.count < state.jobs {
      // (A `best_of` sub-task counts as one job; its contenders take extra slots, see `slots`.)
      guard done[subtask.id] == nil, state.running[subtask.id] == nil, !stuck.contains(subtask.id) else { continue }
      if subtask.dependencies.allSatisfy({ done[$0] != nil }) { ready.append(subtask) }
    }
    return ready
  }

  /// `count` free job slots (nil when there are not enough now), preferring the ones whose work
  /// folders are already on the sub-task's branches (a resumed run finds its uncommitted work
  /// where it was left).
  private func freeSlots(_ count: Int, for subtask: Subtask, _ state: ParallelState) -> [Int]? {
    let taken = Set(state.running.values.joined())
    var free = (0..<state.slots).filter { !taken.contains($0) }
    guard free.count >= count else { return nil }
    var chosen: [Int] = []
    for contender in 1...count {
      let slot = freeSlot(for: subtask, contender: contender, among: free)
      chosen.append(slot)
      free.removeAll { $0 == slot }
    }
    return chosen
  }

  private func freeSlot(for subtask: Subtask, contender: Int, among free: [Int]) -> Int {
    let branchRef =
      Layout.branchRef(plan: plan.id, subtask: subtask) + (contender > 1 ? Layout.contenderSuffix(contender) : "")
    let heads = orchestrator.layout.slotHeads(plan: plan.id)
    let headOf = { (slot: Int) in heads[slot] }
    // Else a slot that holds no other unfinished sub-task's work (it would be saved aside and that
    // sub-task begun again from its branch): one on a landed sub-task's branch, or unused.
    let done = (try? history().completions) ?? [:]
    let unfinished = Set(
      plan.subtasks.filter { done[$0.id] == nil && $0.id != subtask.id }.map {
        Layout.branchRef(plan: plan.id, subtask: $0)
      })
    return free.first { headOf($0) == branchRef }
      ?? free.first { slot in headOf(slot).map { head in !unfinished.contains(where: { head.hasPrefix($0) }) } ?? true }
      ?? free[0]
  }

  private func startJob(
    _ subtask: Subtask, slot: Int, _ state: ParallelState, group: ContenderGroup? = nil, contender: Int = 1
  ) {
    // The job's thread uses the session only with the gate held (see `ParallelState`).
    nonisolated(unsafe) let session = self
    let thread = Thread {
      state.gate.lock()
      defer {
        if let group {
          group.remaining -= 1
          if group.remaining == 0 { state.running[subtask.id] = nil }
        } else {
          state.running[subtask.id] = nil
        }
        state.gate.broadcast()
        state.gate.unlock()
      }
      do {
        try PlanSession.$currentJob.withValue(subtask.id) {
          try PlanSession.$currentRunner.withValue(group?.runners[contender - 1]) {
            try session.job(subtask, slot: slot, state, group: group, contender: contender)
          }
        }
      } catch {
        if var first = state.error as? Interrupted, let other = (error as? Interrupted)?.workdir {
          first.otherWorkdirs.append(other)
          state.error = first
        }
        if state.error == nil {
          state.error = error
          // The others end now: their work so far stays in their work folders, where a resumed run continues.
          session.processRunner.cancelAll(signal: SIGTERM)
        }
      }
    }
    thread.name = "orchestrate " + subtask.id
    thread.stackSize = 4 << 20
    thread.start()
  }

  /// One sub-task of a parallel run, from begin to landed or stuck; called with the gate held.
  ///
  /// With `group`, one contender of a `best_of` sub-task, on its own branch and in its own work
  /// folder. The first to pass lands (landing is serial, so there is a first); it then stops the
  /// others, whose work so far is recorded as an attempt on their branches: nothing is lost, and
  /// `git log` of each branch shows what each agent did.
  private func job(
    _ subtask: Subtask, slot: Int, _ state: ParallelState, group: ContenderGroup?, contender: Int
  ) throws {
    if contender == 1 { try checkRedFirst(subtask) }
    var cycle = try begin(subtask, slot: slot, contender: contender)
    announceStart(cycle, contenders: group?.count ?? 1)
    let settlement: Settlement
    do {
      settlement = try complete(&cycle)
    } catch let error where group?.winner != nil && (error is Interrupted || error.isAlreadyCompleted) {
      // Another contender landed first: keep what this one did, then stop.
      if let workspace = workspaces[cycle.slot], let tree = try? workspace.snapshot(),
        tree != (try repository.commit(cycle.base).tree)
      {
        try recordAttempt(
          &cycle, tree: tree,
          failure: CheckpointFailure(
            kind: .agent, command: "best_of", summary: "stopped: contender \(group?.winner ?? 0) landed first",
            outputTail: ""))
      }
      return
    }
    switch settlement {
    case .landed(let landing):
      if let group {
        group.winner = contender
        for (index, runner) in group.runners.enumerated() where index != contender - 1 {
          runner.cancelAll(signal: SIGTERM)
        }
      }
      try announceLanded(cycle, landing)
    case .retry, .conflict:
      announceStuck(cycle)
      if let group {
        // Stuck only when every contender is.
        group.failed += 1
        guard group.failed == group.count else { return }
      }
      state.stuck.append(.init(subtask: subtask.id, branch: cycle.branch, workdir: cycle.workdir))
    }
  }

  /// Runs `body` (the settling of a passed verdict) in its turn of the landing queue. Without the
  /// queue, the checkpoint run again on main's tip opens the gate, another job lands meanwhile, and
  /// the replay and the check are done again on the newer tip: in a wave of N passes that land
  /// together, the last was replayed and checked N − 1 times.
  func inLandingTurn<T>(_ passed: Bool, _ body: () throws -> T) rethrows -> T {
    guard passed, let state = parallel else { return try body() }
    let ticket = state.nextTicket
    state.nextTicket += 1
    while state.serving != ticket { state.gate.wait() }
    defer {
      state.serving += 1
      state.gate.broadcast()
    }
    return try body()
  }

  /// Runs an agent's or a checkpoint's command. In a parallel run the gate is open meanwhile, so
  /// other jobs go on; the guard's baseline is taken before it opens and compared when it closes
  /// again (every job compares at each of its returns, so a change is caught by the first job back).
  func runCommand(_ spec: CommandSpec, output: @escaping @Sendable (Data) -> Void) throws -> CommandResult {
    let runner = Self.currentRunner ?? processRunner
    guard let state = parallel else { return try runner.run(spec, output: output) }
    try refreshGuard()
    state.gate.unlock()
    let result = Result { try runner.run(spec, output: output) }
    state.gate.lock()
    let suspects = state.suspects(in: plan)
    try checkGuard(subtask: Self.currentJob ?? suspects.subtasks, by: suspects.culprit)
    return try result.get()
  }

}

extension RunOutcome {
  /// A sub-task whose checkpoint still fails after the attempt budget, and where its work is.
  public struct Stuck: Sendable {
    public var subtask: String
    public var branch: String
    public var workdir: String
  }
}

/// The contenders of one `best_of` sub-task; used with the gate held.
// @unchecked: like `ParallelState`, read and written only with its gate held.
final class ContenderGroup: @unchecked Sendable {
  let count: Int
  /// One runner per contender, so the winner ends the others' commands and nobody else's.
  let runners: [ProcessRunner]
  var winner: Int?
  var failed = 0
  /// Contenders whose thread has not ended yet.
  var remaining: Int

  init(count: Int) {
    self.count = count
    runners = (0..<count).map { _ in ProcessRunner() }
    remaining = count
  }
}

extension Error {
  var isAlreadyCompleted: Bool {
    guard let error = self as? OrchestrateError, case .alreadyCompleted = error else { return false }
    return true
  }
}
