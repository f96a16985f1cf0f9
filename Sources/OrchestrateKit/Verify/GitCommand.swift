import Foundation

/// Runs the `git` command line for the few things libgit2 1.5 does not do well here: linked
/// worktrees at a detached commit, and talking to remotes (credentials, transports, hooks).
///
/// Through the one `ProcessRunner`, so git gets the same process group, output draining and
/// interrupt handling as every other command the tool runs.
enum GitCommand {
  struct Output {
    var status: Int32
    /// Standard output and error together, as git wrote them (the last `outputLimit` bytes).
    var text: String
    var succeeded: Bool { status == 0 }
    var message: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }
  }

  /// Runs `git ARGS` in `directory` with the repository-locating variables removed (as in a hook).
  /// - Throws: `OrchestrateError.io` when git cannot be started at all.
  @discardableResult
  static func run(_ arguments: [String], in directory: String, outputLimit: Int = 65536) throws -> Output {
    let command = (["git"] + arguments).map(shellQuoted).joined(separator: " ")
    var spec = CommandSpec(command: command, directory: directory, environment: PlanSession.childEnvironment())
    spec.tailBytes = outputLimit
    let result: CommandResult
    do {
      result = try ProcessRunner().run(spec)
    } catch {
      throw OrchestrateError.io("cannot run git: \(error.localizedDescription); is git installed and on PATH?")
    }
    if result.exitCode == 127 {
      throw OrchestrateError.io("cannot run git: not found; is git installed and on PATH?")
    }
    return Output(status: result.exitCode, text: result.outputTail)
  }

  /// `text` as one word for `sh -c`.
  static func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}
