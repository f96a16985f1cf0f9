import Foundation
import GitKit

/// The guard: what an agent or a checkpoint (which runs code the agent wrote) must not change —
/// main, `refs/orchestrate/**`, `refs/notes/orchestrate`, the git configuration (local, global,
/// XDG), `info/attributes` and `info/exclude`, and every hooks folder — fingerprinted before it
/// runs and compared after, sandbox or not.
extension PlanSession {
  /// The fingerprint of everything the guard watches, refs included.
  ///
  /// The refs are read until two readings agree: `git gc` packing refs beside us can make one
  /// reading miss a ref for a moment, and a baseline that misses one would take the tool's own ref
  /// for tampering. The files have no such race and are read once.
  func captureGuard() throws -> GitGuard {
    let opened = workspaces.keys.sorted().compactMap { workspaces[$0]?.repository }
    var fingerprint = try GitGuard.captureFiles(repository, workspaces: opened)
    var refs = try GitGuard.captureRefs(repository, mainRef: mainRef)
    for _ in 0..<5 {
      let again = try GitGuard.captureRefs(repository, mainRef: mainRef)
      if again == refs { break }
      refs = again
    }
    fingerprint.mainRef = mainRef
    fingerprint.refs = refs
    return fingerprint
  }

  /// Takes a new baseline after the tool's own writes (notes, attempts, landing, the checkout's
  /// sync refs), so only what happens between the tool's own steps is compared: an agent's turn, a
  /// checkpoint, or the time between two MCP calls, when the caller's agent works.
  ///
  /// In a parallel run other jobs' agents and checkpoints run while the tool writes: the new
  /// baseline is taken only if everything that changed since the last one is the tool's own doing
  /// (refs holding what this process last wrote to them, work folders it opened); anything else is
  /// refused as `checkGuard` refuses it, so no change can hide in the tool's own steps.
  func refreshGuard() throws {
    let fresh = try captureGuard()
    if let state = parallel, let before = guardBaseline {
      let expected = before.expecting(toolWritesIn: fresh)
      let after = try expected.acceptingOrdinaryMainMove(
        in: expected.settlingResurrections(in: fresh, repository: repository), repository: repository)
      let changes = expected.changes(to: after)
      if !changes.isEmpty {
        let (restored, failed) = expected.restoreRefs(changedIn: after, repository: repository)
        let suspects = state.suspects(in: plan)
        throw OrchestrateError.agentTamperedWithGit(
          subtask: suspects.subtasks, changes: changes, culprit: suspects.culprit, restored: restored,
          notRestored: failed)
      }
    }
    guardBaseline = fresh
  }

  /// `refreshGuard()` after steps that wrote refs at most: the configuration, hook and attribute
  /// files of `earlier` (taken since those steps began, by this session) are kept, the refs read again.
  func refreshGuard(keepingFilesOf earlier: GitGuard) throws {
    // A parallel run's other jobs may change files meanwhile: it reads everything and checks.
    if parallel != nil { return try refreshGuard() }
    var refs = try GitGuard.captureRefs(repository, mainRef: mainRef)
    // A reading that agrees with `earlier`'s refs (themselves two readings that agreed, a moment
    // ago) is as sure as two readings that agree: the MCP server's calls that wrote no ref read
    // them once here instead of twice.
    for _ in 0..<5 where refs != earlier.refs {
      let again = try GitGuard.captureRefs(repository, mainRef: mainRef)
      if again == refs { break }
      refs = again
    }
    var fingerprint = earlier
    fingerprint.mainRef = mainRef
    fingerprint.refs = refs
    guardBaseline = fingerprint
  }

  /// Refuses to go on when anything the guard watches changed since the baseline (`since`, else
  /// the session's); refs are put back by compare-and-swap first. Main moving forward by commits
  /// that claim no sub-task is the user's own work, not tampering
  /// (`GitGuard.acceptingOrdinaryMainMove`): the landing replays onto it.
  /// - Throws: `OrchestrateError.agentTamperedWithGit` naming each change and what was put back.
  /// - Returns: the fingerprint taken now, as read; nil when there is no baseline to compare with.
  @discardableResult
  public func checkGuard(since baseline: GitGuard? = nil, subtask: String, by culprit: String = "agent") throws
    -> GitGuard?
  {
    guard let before = baseline ?? guardBaseline else { return nil }
    let now = try captureGuard()
    let after = try before.acceptingOrdinaryMainMove(
      in: before.settlingResurrections(in: now, repository: repository), repository: repository)
    let changes = before.changes(to: after)
    guard !changes.isEmpty else { return now }
    let (restored, failed) = before.restoreRefs(changedIn: after, repository: repository)
    throw OrchestrateError.agentTamperedWithGit(
      subtask: subtask, changes: changes, culprit: culprit, restored: restored, notRestored: failed)
  }

  /// The sandbox agents and checkpoints of this session run in: `--sandbox`, else
  /// `git config orchestrate.sandbox`, else `auto`; `auto` says once, as a notice, when there is none.
  /// - Throws: `ConfinementError` for a bad setting, or `on` where the sandbox cannot be used.
  static func resolveConfinement(
    flag: Confinement.Setting?, repository: Repository, events: (RunEvent) -> Void
  ) throws -> Confinement? {
    let setting = try Confinement.setting(flag: flag, configured: try repository.configString("orchestrate.sandbox"))
    return try Confinement.resolve(setting: setting, gitCommonDirectory: repository.commonDirectory) {
      events(.notice($0))
    }
  }
}
