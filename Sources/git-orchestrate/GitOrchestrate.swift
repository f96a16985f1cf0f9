import ArgumentParser
import Foundation
import OrchestrateKit

@main
struct GitOrchestrate: ParsableCommand {
  // Usage lines say `git orchestrate`, the way it is typed; completion scripts and the manual are
  // named after the executable, `git-orchestrate` (a name with a space would break them).
  static let configuration = CommandConfiguration(
    commandName: Completions.needsExecutableName ? "git-orchestrate" : "git orchestrate",
    abstract: "Run a decomposed coding task one validated sub-task at a time, with git as the record.",
    discussion: """
      Each sub-task runs on its own branch in a working directory the tool manages; an agent does the \
      work, a checkpoint of real commands validates it, and success becomes one commit that \
      fast-forwards main. Failure leaves the branch, with every attempt kept, for a fix.

      Exit codes: 0 success; 1 a checkpoint still failing; 2 bad input or a repository the tool cannot \
      work in; 3 refused because another run holds the repository (or it would overwrite your changes); \
      130/143 interrupted (resumable).
      """,
    version: Version.current,
    subcommands: [
      Run.self, Status.self, PlanCommand.self, MCP.self, Verify.self, Log.self, Show.self, Clean.self, Hooks.self,
      Push.self, Fetch.self, HookPrePush.self, DebugLock.self,
    ]
  )

  /// Parses, runs, and maps every error to a message on standard error and a reliable exit code.
  static func main() {
    if Completions.requestedScript == "bash" {
      // The bash script also defines `_git_orchestrate`, so `git orchestrate <TAB>` completes too.
      print(completionScript(for: .bash) + Completions.gitWrapper)
      return
    }
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      let code = ErrorReporter.report(error, command: self)
      // With --json a refusal is an event too, on standard output, for the script reading it.
      if code != 0, !(error is ExitCode), CommandLine.arguments.dropFirst().contains("--json") {
        emit(jsonLine(["event": "error", "message": ErrorReporter.message(for: error, command: self), "exit_code": code]))
      }
      Foundation.exit(code)
    }
  }
}
