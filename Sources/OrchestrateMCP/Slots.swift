import Foundation
import GitKit
import OrchestrateKit

/// The sub-tasks handed out at once (`get_next_subtask` with `count`), each in a job slot of its
/// own: slot 0 is the plan's work folder, slot k > 0 the folder `<plan>~<k+1>` beside it
/// (`Layout.workdir(plan:slot:)`), each a linked worktree on the sub-task's branch.
///
/// The server remembers which slot each handed-out sub-task has until it lands; a new server reads
/// it back from the slots' worktrees (`<git common dir>/worktrees/<Layout.worktreeName(plan:slot:)>/HEAD`
/// names the branch), so a restart, or a `run --jobs` that stopped, leaves every sub-task where its
/// work is.
extension OrchestrationHost {
  /// The handed-out sub-tasks of the session's plan, by id, with their slots.
  func handedOut(_ session: PlanSession) throws -> [String: Int] {
    if slotsPlan != session.plan.id {
      let plan = session.plan
      let completed = Set(try session.status().completedSubtasks)
      let heads = try orchestrator().layout.slotHeads(plan: plan.id)
      let byRef = Dictionary(
        plan.subtasks.map { (Layout.branchRef(plan: plan.id, subtask: $0), $0.id) },
        uniquingKeysWith: { first, _ in first })
      slots = [:]
      for slot in heads.keys.sorted() {
        guard let id = heads[slot].flatMap({ byRef[$0] }), !completed.contains(id), slots[id] == nil else { continue }
        slots[id] = slot
      }
      slotsPlan = session.plan.id
      parallelDispatch = slots.values.contains { $0 > 0 }
      if !slots.isEmpty {
        logger.info("sub-tasks under way in their work folders: \(slots.sorted { $0.value < $1.value })")
      }
    }
    return slots
  }

  /// Forgets the slots (another plan's session, or a replaced plan): read again when next needed.
  func forgetSlots() {
    slots = [:]
    slotsPlan = nil
    parallelDispatch = false
  }

  /// Forgets the slots of sub-tasks that are on main now, or whose dependencies are no longer all on
  /// main (main was reset by hand): they are not under way any more.
  func pruneSlots(_ session: PlanSession, completed: Set<String>) throws {
    for (id, _) in try handedOut(session) {
      guard let subtask = session.plan.subtask(id: id) else { continue }
      if completed.contains(id) || !subtask.dependencies.allSatisfy(completed.contains) { slots[id] = nil }
    }
  }

  /// Sub-task `id` is finished (landed): its slot is free again.
  func release(_ id: String) {
    slots[id] = nil
  }

  /// The work folder of sub-task `subtask` without a session (read-only tools): its slot's when a
  /// slot's worktree is on its branch, else the plan's work folder.
  func workdir(plan: Plan, subtask: Subtask) throws -> String {
    let layout = try orchestrator().layout
    if let session, session.plan.id == plan.id, slotsPlan == plan.id, let slot = slots[subtask.id] {
      return layout.workdir(plan: plan.id, slot: slot)
    }
    let ref = Layout.branchRef(plan: plan.id, subtask: subtask)
    let slot = try orchestrator().layout.slotHeads(plan: plan.id).filter { $0.value == ref }.keys.min()
    return layout.workdir(plan: plan.id, slot: slot ?? 0)
  }

  /// A free slot for `subtask`: one whose worktree is already on its branch (its work was left
  /// there), else the lowest free one.
  private func freeSlot(for subtask: Subtask, _ session: PlanSession) throws -> Int {
    // A sub-task landed by another process (or found under way when main was reset) frees its slot.
    if try !handedOut(session).isEmpty {
      try pruneSlots(session, completed: Set(try session.status().completedSubtasks))
    }
    let taken = Set(try handedOut(session).values)
    let ref = Layout.branchRef(plan: session.plan.id, subtask: subtask)
    let heads = session.orchestrator.layout.slotHeads(plan: session.plan.id)
    if let own = heads.filter({ $0.value == ref && !taken.contains($0.key) }).keys.min() { return own }
    var slot = 0
    while taken.contains(slot) { slot += 1 }
    return slot
  }

  /// Begins `subtask` (ready: its dependencies are on main) in a free slot, and notes it handed out.
  func handOut(_ subtask: Subtask, _ session: PlanSession) throws -> SubtaskCycle {
    let slot = try freeSlot(for: subtask, session)
    let cycle = try session.begin(subtask, keepingWork: true, slot: slot, anyReady: true)
    slots[subtask.id] = slot
    return cycle
  }

  /// Begins sub-task `id` of the session's plan again, keeping the work in its folder: a sub-task
  /// handed out in its slot; any other only if it is the next in order (then it is handed out).
  /// - Throws: `OrchestrateError.subtaskNotFound`, `.alreadyCompleted`, `.outOfOrder`, or a tool
  ///   error naming the handed-out sub-tasks when several are.
  func begin(_ session: PlanSession, subtaskID: String) throws -> SubtaskCycle {
    let plan = session.plan
    guard let subtask = plan.subtask(id: subtaskID) else {
      throw OrchestrateError.subtaskNotFound(plan: plan.id, subtask: subtaskID)
    }
    let handed = try handedOut(session)
    if let slot = handed[subtaskID] {
      do {
        return try session.begin(subtask, keepingWork: true, slot: slot, anyReady: true)
      } catch OrchestrateError.alreadyCompleted(let planID, let id) {
        // Landed by another process meanwhile.
        release(id)
        throw OrchestrateError.alreadyCompleted(plan: planID, subtask: id)
      }
    }
    guard let next = try session.nextSubtask() else {
      throw OrchestrateError.outOfOrder(plan: plan.id, subtask: subtaskID, next: nil)
    }
    if next.id == subtaskID { return try handOut(subtask, session) }
    if try session.status().completedSubtasks.contains(subtaskID) {
      throw OrchestrateError.alreadyCompleted(plan: plan.id, subtask: subtaskID)
    }
    // One sub-task at a time so far: the sequential rule and its message.
    guard parallelDispatch || handed.keys.contains(where: { $0 != next.id }) else {
      throw OrchestrateError.outOfOrder(plan: plan.id, subtask: subtaskID, next: next.id)
    }
    let layout = try orchestrator().layout
    let list = handed.sorted { $0.value < $1.value }.map {
      "'\($0.key)' (\(layout.workdir(plan: plan.id, slot: $0.value)))"
    }
    let completed = Set(try session.status().completedSubtasks)
    let missing = subtask.dependencies.filter { !completed.contains($0) }
    throw ToolError.invalid(
      "sub-task '\(subtaskID)' of plan '\(plan.id)' was not handed out"
        + (missing.isEmpty ? "" : " (it waits for \(missing.map { "'\($0)'" }.joined(separator: ", ")) to land)")
        + ": get_next_subtask hands out the next one ('\(next.id)'), and with count up to that many ready ones at once. Handed out now: \(list.isEmpty ? "none" : list.joined(separator: ", "))"
    )
  }

  /// `error`, naming sub-task `id` and its work folder when other sub-tasks are handed out beside it.
  func naming(_ error: Error, subtask id: String) -> Error {
    guard slots.keys.contains(where: { $0 != id }), let slot = slots[id], let plan = slotsPlan,
      let layout = try? orchestrator().layout, !(error is InSubtask)
    else { return error }
    return InSubtask(subtask: id, workdir: layout.workdir(plan: plan, slot: slot), underlying: error)
  }
}

/// An error met on one of several sub-tasks handed out at once: its message says which sub-task
/// and which work folder.
struct InSubtask: Error {
  var subtask: String
  var workdir: String
  var underlying: Error
}
