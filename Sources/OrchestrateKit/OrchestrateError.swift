import Foundation
import GitKit

/// Errors of the domain, each saying what happened and what to do.
public enum OrchestrateError: Error, LocalizedError, Sendable {
  /// Another process holds the repository's lock.
  case locked(holder: RepositoryLock.Holder, path: String)
  case planNotFound(String, known: [String])
  case noPlan
  case ambiguousPlan([String])
  case planExists(id: String)
  case planAlreadyStarted(id: String)
  /// A replacement of a started plan would change (or remove) a sub-task completed on main.
  case completedSubtaskChanged(plan: String, subtask: String, what: String)
  /// `clean` of a plan that a run is working on.
  case planRunning(plan: String, holder: RepositoryLock.Holder)
  /// `clean` of a plan that is not finished, without `--abandon`.
  case planUnfinished(plan: String, next: String)
  case subtaskNotFound(plan: String, subtask: String)
  case outOfOrder(plan: String, subtask: String, next: String?)
  case alreadyCompleted(plan: String, subtask: String)
  case mainBranchMissing(String)
  case dirtyCheckout(files: [String], branch: String)
  case workdirBroken(path: String, reason: String)
  /// An agent or checkpoint changed git state that is not its to change; refs were put back where possible.
  case agentTamperedWithGit(
    subtask: String, changes: [String], culprit: String = "agent", restored: [String] = [], notRestored: [String] = [])
  /// The agent could not start (126/127), or exited non-zero on its first run having changed nothing.
  case agentCannotStart(subtask: String, command: String, summary: String, outputTail: String)
  /// A `red_first` sub-task's checkpoint passed on its base, before any work.
  case checkpointPassesBeforeWork(subtask: String, commands: [String], main: String, commit: String)
  case replayConflict(subtask: String, paths: [String], branch: String)
  case invalidArgument(String)
  case io(String)
  /// The plan's recorded spend reached its budget; no agent was started.
  case budgetReached(plan: String, spent: Decimal, budget: Budget)

  public var errorDescription: String? {
    switch self {
    case .locked(let holder, let path):
      "another git orchestrate (pid \(holder.pid), plan '\(holder.plan)', \(holder.command)) is working in this repository since \(holder.started.formatted(.iso8601)); wait for it to finish or stop it (the lock is \(path))"
    case .planNotFound(let id, let known):
      known.isEmpty
        ? "no plan '\(id)' in this repository; add one with 'git orchestrate plan add FILE'"
        : "no plan '\(id)' in this repository; known plans: \(known.joined(separator: ", "))"
    case .noPlan:
      "no plan in this repository; give a plan file: 'git orchestrate run plan.yml'"
    case .ambiguousPlan(let ids):
      "several plans are stored (\(ids.joined(separator: ", "))); name the one to use"
    case .planExists(let id):
      "a different plan with id '\(id)' is already stored; to edit it (sub-tasks not completed yet may change), record the edit with 'git orchestrate plan add --replace FILE' and run '\(id)'; or give the new plan another id"
    case .planAlreadyStarted(let id):
      "plan '\(id)' has already started (sub-task commits or branches exist); it cannot be replaced: give the new plan another id"
    case .completedSubtaskChanged(let plan, let subtask, let what):
      "plan '\(plan)' has already started and sub-task '\(subtask)' is completed on main; the edit would change it (\(what)). Completed sub-tasks keep their id, order, work and checkpoint; only sub-tasks that have not completed may be changed, added or removed ('git orchestrate status \(plan)' shows which)"
    case .planRunning(let plan, let holder):
      "plan '\(plan)' is running (pid \(holder.pid), \(holder.command), since \(holder.started.formatted(.iso8601))); clean it once the run has ended"
    case .planUnfinished(let plan, let next):
      "plan '\(plan)' is not finished (next: \(next)); finish it with 'git orchestrate run \(plan)', or give it up with 'git orchestrate clean --abandon \(plan)' (its attempts are kept)"
    case .subtaskNotFound(let plan, let subtask):
      "plan '\(plan)' has no sub-task '\(subtask)'; 'git orchestrate status \(plan)' lists them"
    case .outOfOrder(let plan, let subtask, let next):
      if let next {
        "sub-task '\(subtask)' of plan '\(plan)' is not the next one; sub-tasks run in order and the next is '\(next)'"
      } else {
        "plan '\(plan)' is complete; there is no sub-task left to work on ('\(subtask)' was asked for)"
      }
    case .alreadyCompleted(let plan, let subtask):
      "sub-task '\(subtask)' of plan '\(plan)' is already completed on main"
    case .mainBranchMissing(let name):
      "the branch '\(name)' does not exist or has no commit; make a first commit, or set the branch with 'git config orchestrate.mainBranch NAME' or the plan's main_branch"
    case .dirtyCheckout(let files, let branch):
      "your checkout of '\(branch)' has uncommitted changes that the run would overwrite: \(files.prefix(20).joined(separator: ", "))\(files.count > 20 ? ", …" : ""); commit or stash them (or switch your checkout to another branch) and run again"
    case .workdirBroken(let path, let reason):
      "the working directory \(path) is unusable (\(reason)); run again to recreate it from the sub-task's branch"
    case .agentTamperedWithGit(let subtask, let changes, let culprit, let restored, let notRestored):
      "sub-task '\(subtask)': the \(culprit) changed git state that is not its to change (refs, configuration, hooks or attributes): \(changes.joined(separator: "; ")); the sub-task was not committed and the run stopped."
        + (restored.isEmpty ? "" : " Put back: \(restored.joined(separator: ", ")).")
        + (notRestored.isEmpty ? "" : " Not put back: \(notRestored.joined(separator: "; ")).")
        + " Undo what was not put back, then run again"
    case .checkpointPassesBeforeWork(let subtask, let commands, let main, let commit):
      "sub-task '\(subtask)': the checkpoint already passes before any work (\(commands.joined(separator: " && ")) passed on \(main) at \(commit.prefix(10))); it cannot tell whether the sub-task was done. Nothing was created. Make the checkpoint test what the sub-task adds, or set red_first: false for it"
    case .agentCannotStart(let subtask, let command, let summary, let tail):
      "sub-task '\(subtask)': the agent could not do any work: '\(command)' \(summary)"
        + (tail.isEmpty ? "" : ": " + tail.split(separator: "\n").suffix(3).joined(separator: " / "))
        + "; nothing was recorded and no attempt was spent. Check that it is installed and logged in (run it by hand in a terminal), or choose another agent (--agent, the plan's 'agent', 'git config orchestrate.agent')"
    case .replayConflict(let subtask, let paths, let branch):
      "main moved during sub-task '\(subtask)' and its changes conflict with the new main in: \(paths.joined(separator: ", ")); rebase \(branch) onto main by hand, then run again"
    case .invalidArgument(let message):
      message
    case .io(let message):
      message
    case .budgetReached(let plan, let spent, let budget):
      "plan '\(plan)' has spent \(Trailers.dollars(spent)) USD, which reaches its budget of \(Trailers.dollars(budget.limit)) USD (\(budget.source.rawValue)); no agent was started. To go on, \(budget.howToContinue(plan: plan, spent: spent))"
    }
  }

  /// The exit code a script can rely on: 2 bad input or unusable repository, 3 refused (locked or would overwrite).
  public var exitCode: Int32 {
    switch self {
    case .locked, .dirtyCheckout: 3
    case .replayConflict, .budgetReached: 1
    default: 2
    }
  }
}
