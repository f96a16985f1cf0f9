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
  /// The sub-tasks under way, by id, with their job slot.
  var running: [String: Int] = [:]
  /// The sub-tasks whose checkpoint still fails after the attempt budget, in the order they stopped.
  var stuck: [RunOutcome.Stuck] = []
  /// The first error that stopped a job (tampering, an interrupt, an agent that cannot start):
  /// no new job starts, running ones are ended, and the run rethrows it.
  var error: Error?

  init(jobs: Int) { self.jobs = jobs }
}

extension PlanSession {
  /// The sub-task a job's events belong to (bound on the job's thread).
  @TaskLocal static var currentJob: String?

  /// Runs the remaining sub-tasks with up to `jobs` at once. Returns when every sub-task is on main,
  /// or when nothing more can start: the stuck ones and every sub-task that depends on them wait.
  func runParallel(jobs: Int) throws -> RunOutcome {
    let state = ParallelState(jobs: jobs)
    parallel = state
    state.gate.lock()
    defer {
      parallel = nil
      state.gate.unlock()
    }
    while true {
      if state.error == nil, InterruptMonitor.shared.received == nil {
        for subtask in try readySubtasks(state) {
          let slot = freeSlot(for: subtask, state)
          state.running[subtask.id] = slot
          startJob(subtask, slot: slot, state)
        }
        lock.record(running: plan.subtasks.map(\.id).filter { state.running[$0] != nil })
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
      guard done[subtask.id] == nil, state.running[subtask.id] == nil, !stuck.contains(subtask.id) else { continue }
      if subtask.dependencies.allSatisfy({ done[$0] != nil }) { ready.append(subtask) }
    }
    return ready
  }

  /// A free job slot, preferring the one whose work folder is already on the sub-task's branch (a
  /// resumed run finds its uncommitted work where it was left).
  private func freeSlot(for subtask: Subtask, _ state: ParallelState) -> Int {
    let taken = Set(state.running.values)
    let free = (0..<state.jobs).filter { !taken.contains($0) }
    let branchRef = Layout.branchRef(plan: plan.id, subtask: subtask)
    let headOf = { (slot: Int) -> String? in
      let name = Layout.worktreeName(plan: self.plan.id, slot: slot)
      let head = (try? String(contentsOfFile: self.repository.commonDirectory + "/worktrees/" + name + "/HEAD", encoding: .utf8)) ?? ""
      return head.hasPrefix("ref: ") ? head.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }
    return free.first { headOf($0) == branchRef } ?? free[0]
  }

  private func startJob(_ subtask: Subtask, slot: Int, _ state: ParallelState) {
    // The job's thread uses the session only with the gate held (see `ParallelState`).
    nonisolated(unsafe) let session = self
    let thread = Thread {
      state.gate.lock()
      defer {
        state.running[subtask.id] = nil
        state.gate.broadcast()
        state.gate.unlock()
      }
      do {
        try PlanSession.$currentJob.withValue(subtask.id) { try session.job(subtask, slot: slot, state) }
      } catch {
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
  private func job(_ subtask: Subtask, slot: Int, _ state: ParallelState) throws {
    try checkRedFirst(subtask)
    var cycle = try begin(subtask, slot: slot)
    events(
      .subtaskStarted(
        order: subtask.order, total: plan.subtasks.count, id: subtask.id, description: subtask.description,
        branch: cycle.branch, workdir: cycle.workdir, resumed: !cycle.fresh, attempt: cycle.attempts + 1))
    switch try complete(&cycle) {
    case .landed(let landing):
      try updateUserCheckout()
      events(
        .subtaskCompleted(id: subtask.id, commit: landing.commit.hex, attempts: landing.attempts, seconds: landing.seconds))
    case .retry, .conflict:
      events(
        .subtaskStuck(
          id: subtask.id, branch: cycle.branch, workdir: cycle.workdir, attempts: cycle.attempts,
          resume: "git orchestrate run \(plan.id)"))
      state.stuck.append(.init(subtask: subtask.id, branch: cycle.branch, workdir: cycle.workdir))
    }
  }

  /// Runs an agent's or a checkpoint's command. In a parallel run the gate is open meanwhile, so
  /// other jobs go on; the guard's baseline is taken before it opens and compared when it closes
  /// again (every job compares at each of its returns, so a change is caught by the first job back).
  func runCommand(_ spec: CommandSpec, output: @escaping @Sendable (Data) -> Void) throws -> CommandResult {
    guard let state = parallel else { return try processRunner.run(spec, output: output) }
    try refreshGuard()
    state.gate.unlock()
    let result = Result { try processRunner.run(spec, output: output) }
    state.gate.lock()
    let suspects = plan.subtasks.map(\.id).filter { state.running[$0] != nil }
    try checkGuard(
      subtask: Self.currentJob ?? suspects.joined(separator: ", "),
      by: suspects.count > 1 ? "agent or checkpoint (one of \(suspects.joined(separator: ", ")))" : "agent or checkpoint")
    return try result.get()
  }

  /// A replay conflict in a parallel run: the attempt is kept, and the sub-task starts again on
  /// main's new tip, where the fix agent redoes it knowing what conflicted.
  func rebase(_ cycle: inout SubtaskCycle) throws {
    let tip = try mainTip()
    cycle.base = tip
    try openedWorkspace(cycle).checkout(tree: try repository.commit(tip).tree)
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
