import Foundation
import GitKit

extension PlanSession {
  /// Begins (or begins again) the next sub-task: its branch exists and the workspace holds it.
  ///
  /// Idempotent: beginning the sub-task under way again changes nothing, and the time of its
  /// attempt under way keeps counting from when it first began.
  /// - Parameter keepingWork: when the workspace is already on the sub-task's branch, keep what its
  ///   working directory holds instead of resetting it to the branch: an agent's work in progress,
  ///   or a hand fix made there after a stop (also across restarts of the MCP server).
  /// - Throws: `OrchestrateError.outOfOrder` or `.alreadyCompleted` for any sub-task but the next.
  /// - Parameter slot: the job slot whose work folder it works in (0 but in a parallel run, where
  ///   any ready sub-task may begin: every sub-task it depends on is on main).
  /// - Parameter contender: with `best_of`, which of the sub-task's agents this is: contender k > 1
  ///   works on its own branch, `<branch>-contender-<k>`.
  /// - Parameter anyReady: any ready sub-task may begin, in slot 0 too: the MCP server hands out
  ///   several at once, each in whichever slot is free.
  public func begin(
    _ subtask: Subtask, keepingWork: Bool = true, slot: Int = 0, contender: Int = 1, anyReady: Bool = false
  ) throws -> SubtaskCycle {
    // Whatever happened since the tool's last step (the caller's agent worked, over MCP) is judged first.
    let checked = try checkGuard(subtask: subtask.id)
    let workspaceChecked = workspaces[slot]
    if slot > 0 || parallel != nil || anyReady {
      try checkReady(subtask)
    } else {
      guard let next = try nextSubtask() else {
        throw OrchestrateError.outOfOrder(plan: plan.id, subtask: subtask.id, next: nil)
      }
      guard next.id == subtask.id else {
        if try history().completions[subtask.id] != nil {
          throw OrchestrateError.alreadyCompleted(plan: plan.id, subtask: subtask.id)
        }
        throw OrchestrateError.outOfOrder(plan: plan.id, subtask: subtask.id, next: next.id)
      }
    }
    let tip = try mainTip()
    try catchUpUserCheckout(tip: tip)
    let suffix = contender > 1 ? Layout.contenderSuffix(contender) : ""
    let branchRef = Layout.branchRef(plan: plan.id, subtask: subtask) + suffix
    let branch = Layout.branchName(plan: plan.id, subtask: subtask) + suffix
    var branchTip = try repository.resolve(branchRef)
    if branchTip == nil {
      try repository.updateReference(branchRef, to: tip, expected: nil, message: "orchestrate: start \(subtask.id)")
      branchTip = tip
    }
    guard let branchTip else { throw OrchestrateError.io("cannot create \(branch)") }
    let base = try repository.mergeBase(branchTip, tip) ?? tip

    Trace.mark(" begin: refs")
    let workspace = try openWorkspace(branchRef: branchRef, slot: slot)
    try workspace.switchTo(branchRef: branchRef, commit: branchTip, planID: plan.id, keepingWork: keepingWork)
    Trace.mark(" begin: workspace")
    for notice in workspace.takeNotices() { events(.notice(notice)) }

    let log = try AttemptLog.read(
      repository: repository, from: branchTip, plan: plan.id, subtask: subtask.id, mainTip: tip)
    var attempts = log.count
    let tree = try workspace.knownTree()
    let baseTree = try repository.commit(base).tree
    let fresh = branchTip == base && tree == baseTree
    // A commit made for main that passed, when a run stopped just before moving main.
    var landing: OID?
    let tipCommit = try repository.commit(branchTip)
    if tipCommit.parents == [tip], tipCommit.tree == tree, CommitRole(tipCommit).completion(of: plan.id) != nil {
      landing = branchTip
      attempts = max(0, (CommitRole(tipCommit).completion(of: plan.id)?.attempts ?? 1) - 1)
    }
    let started = attemptStarts[branchRef] ?? Date()
    attemptStarts[branchRef] = started
    // Of what the fingerprint covers, beginning writes refs at most (the branch, the checkout's sync
    // ref, saved stray work), unless it opened a new workspace, whose git directory it covers too:
    // the configuration, hook and attribute files the check read still hold.
    if let checked, let workspaceChecked, workspaceChecked === workspace {
      try refreshGuard(keepingFilesOf: checked)
    } else {
      try refreshGuard()
    }
    var cycle = SubtaskCycle(
      subtask: subtask, branch: branch, branchRef: branchRef, workdir: workspace.path, slot: slot,
      base: landing == nil ? base : tip, attempts: attempts, fresh: fresh, spent: log.seconds, landing: landing,
      attemptStarted: started)
    cycle.contender = contender
    return cycle
  }

  /// In a parallel run any sub-task may begin whose dependencies are all on main.
  /// - Throws: `OrchestrateError.alreadyCompleted`, or `.outOfOrder` naming a dependency not on main.
  private func checkReady(_ subtask: Subtask) throws {
    let done = try history().completions
    if done[subtask.id] != nil { throw OrchestrateError.alreadyCompleted(plan: plan.id, subtask: subtask.id) }
    if let waiting = subtask.dependencies.first(where: { done[$0] == nil }) {
      throw OrchestrateError.outOfOrder(plan: plan.id, subtask: subtask.id, next: waiting)
    }
  }

  /// Brings the user's checkouts up to main's tip once, before the first sub-task this process
  /// begins: a previous run may have stopped before they caught up.
  private func catchUpUserCheckout(tip: OID) throws {
    for user in try userCheckouts(tip: tip) where !user.caughtUp {
      user.caughtUp = true
      if user.syncedTo != tip {
        let count = try user.update(to: tip)
        if count > 0 { events(.checkoutUpdated(files: count)) }
      }
      try user.finish()
    }
  }

  func openWorkspace(branchRef: String, slot: Int = 0) throws -> Workspace {
    if let workspace = workspaces[slot] {
      do {
        try workspace.checkIntact()
        return workspace
      } catch {
        events(.notice("the working directory \(workspace.path) was removed; recreating it from the branch"))
        workspaces[slot] = nil
      }
    }
    let agentFiles = try agentFiles()
    guard let state = parallel else {
      let created = try Workspace.open(
        main: repository, layout: orchestrator.layout, planID: plan.id, branchRef: branchRef,
        useWatcher: settings.useWatcher, agentFiles: agentFiles, slot: slot)
      workspaces[slot] = created
      return created
    }
    // A parallel run makes its job slots' work folders at once, not one after another: writing a
    // large tree takes a while, and the gate is open meanwhile. The folder is made through handles
    // of its own (libgit2's are not to be shared across threads) and joins the guard's fingerprint
    // once it is there (the next baseline, at the end of `begin`).
    let layout = orchestrator.layout
    let (planID, useWatcher) = (plan.id, settings.useWatcher)
    let path = repository.workingDirectory ?? repository.gitDirectory
    try refreshGuard()
    state.gate.unlock()
    let result = Result {
      try Workspace.open(
        main: try Repository(path: path), layout: layout, planID: planID, branchRef: branchRef,
        useWatcher: useWatcher, agentFiles: agentFiles, slot: slot)
    }
    state.gate.lock()
    try checkGuard(subtask: Self.currentJob ?? branchRef, by: "agent or checkpoint running beside it")
    let created = try result.get()
    workspaces[slot] = created
    return created
  }

  /// The workspace `begin` opened for `cycle`.
  func openedWorkspace(_ cycle: SubtaskCycle) throws -> Workspace {
    guard let workspace = workspaces[cycle.slot] else { throw OrchestrateError.io("the workspace is not prepared") }
    return workspace
  }
}
