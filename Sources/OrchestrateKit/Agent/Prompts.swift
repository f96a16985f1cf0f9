import Foundation

/// The seed's orchestration and fix prompts, filled in for one sub-task.
public enum Prompts {
  static func checkpointText(_ checkpoint: Checkpoint) -> String {
    let commands = checkpoint.commands.map { "  - \($0)" }.joined(separator: "\n")
    let description = checkpoint.description.isEmpty ? "" : checkpoint.description + "\n"
    return "\(description)  It passes when every one of these commands exits 0:\n\(commands)"
  }

  /// The prompt the agent gets for a sub-task's first attempt.
  public static func orchestration(plan: Plan, subtask: Subtask, workdir: String) -> String {
    let criteria =
      subtask.successCriteria.isEmpty
      ? "" : "\nSuccess criteria:\n" + subtask.successCriteria.map { "- \($0)" }.joined(separator: "\n") + "\n"
    return """
      Execute complete orchestration for this sub-task:

      Description: \(subtask.prompt.isEmpty ? subtask.description : subtask.prompt)
      Complexity: \(subtask.complexity.rawValue)
      Checkpoint: \(checkpointText(subtask.checkpoint))
      \(criteria)
      Requirements:
      1. Use /conduct workflow with all phases
      2. Skeleton → Implementation → Testing → Beauty
      3. Use parallel agents where appropriate WITHIN this sub-task
      4. Ensure checkpoint criteria are met
      5. Report all created files as artifacts

      This is subtask \(subtask.order) of \(plan.subtasks.count) of a larger task: \(plan.description)
      Previous subtasks have been completed and validated.

      Work in this directory: \(workdir)
      Do not commit, switch branches or change git configuration or hooks: git orchestrate runs the
      checkpoint itself and commits your work when it passes.
      \(protectedText(plan, subtask))
      """
  }

  /// The paths the agent must leave alone, in a sentence; empty when none are protected.
  static func protectedText(_ plan: Plan, _ subtask: Subtask) -> String {
    let globs = plan.protectedGlobs(subtask)
    guard !globs.isEmpty else { return "" }
    let shown = globs.map { $0 == Protection.checkpointFiles ? "the files the checkpoint commands run" : $0 }
    return "Do NOT change these protected paths (an attempt that changes any is refused and the files put back): "
      + shown.joined(separator: ", ") + "\n"
  }

  /// The prompt the fix agent gets after a failed checkpoint.
  public static func fix(plan: Plan, subtask: Subtask, failure: CheckpointFailure, workdir: String) -> String {
    if failure.kind == .replay { return redo(plan: plan, subtask: subtask, failure: failure, workdir: workdir) }
    return """
    The subtask failed checkpoint validation:

    Subtask: \(subtask.description)
    Checkpoint: \(checkpointText(subtask.checkpoint))
    Failure: \(failure.reason)
    Error: \(failure.outputTail.isEmpty ? "N/A" : String(failure.outputTail.suffix(8000)))

    Fix the issues and ensure the checkpoint passes.
    Do NOT proceed to next subtask until this is fixed.

    Work in this directory: \(workdir)
    Do not commit, switch branches or change git configuration or hooks: git orchestrate runs the
    checkpoint again itself and commits your work when it passes.
    \(protectedText(plan, subtask))
    """
  }

  /// A parallel run: another sub-task landed first and this one's work conflicts with it. The
  /// work folder now holds the new main; the earlier work is kept on the branch, to redo on top.
  static func redo(plan: Plan, subtask: Subtask, failure: CheckpointFailure, workdir: String) -> String {
    """
    Another subtask landed first, and your earlier work on this subtask conflicts with it in:
    \(failure.outputTail)

    The working directory now holds the new main, with the other subtask's changes. Redo this
    subtask on top of it (your earlier attempt is kept on the branch; `git log -p -1 HEAD` shows it),
    keeping what the other subtask did.

    Subtask: \(subtask.description)
    \(subtask.prompt)
    Checkpoint: \(checkpointText(subtask.checkpoint))

    Work in this directory: \(workdir)
    Do not commit, switch branches or change git configuration or hooks: git orchestrate runs the
    checkpoint again itself and commits your work when it passes.
    \(protectedText(plan, subtask))
    """
  }
}
