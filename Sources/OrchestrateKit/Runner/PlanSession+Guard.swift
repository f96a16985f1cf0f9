import Foundation
import GitKit

extension PlanSession {
  /// A fingerprint of the repository's git configuration and hooks (the workspace's included), for
  /// callers that let an agent work between their own calls, as the MCP server does.
  ///
  /// It leaves refs out: the server writes notes and moves main itself between the calls it compares.
  public func captureGitGuard() throws -> GitGuard {
    try GitGuard.capture(repository, workspace: workspace?.repository)
  }

  /// The full fingerprint, refs included, taken right before an agent or checkpoint runs.
  public func fingerprint() throws -> GitGuard {
    try GitGuard.capture(repository, workspace: workspace?.repository, mainRef: mainRef)
  }

  /// Compares with `before`; on any change puts the refs back (compare-and-swap) and throws.
  ///
  /// main moving forward by commits that claim no sub-task is someone else's work, not tampering
  /// (`GitGuard.acceptingOrdinaryMainMove`); the landing replays onto it.
  /// - Throws: `OrchestrateError.agentTamperedWithGit` naming each change and what was put back.
  public func refuseTampering(since before: GitGuard, subtask: String, by culprit: String = "agent") throws {
    let after = try before.acceptingOrdinaryMainMove(in: try fingerprint(), repository: repository)
    let changes = before.changes(to: after)
    guard !changes.isEmpty else { return }
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

extension PlanSession {
  /// Runs the checkpoint's commands between two fingerprints: checkpoints run the code the agent
  /// wrote (`pytest` imports its `conftest.py`), so they are held to what agents are.
  /// - Throws: `OrchestrateError.agentTamperedWithGit` when the checkpoint changed git state.
  func runCheckpoint(_ checkpoint: Checkpoint, workdir: String, tree: OID, subtaskID: String) throws
    -> CheckpointOutcome
  {
    let before = try fingerprint()
    let outcome = try runCheckpointCommands(checkpoint, workdir: workdir, tree: tree)
    try refuseTampering(since: before, subtask: subtaskID, by: "checkpoint")
    return outcome
  }
}
