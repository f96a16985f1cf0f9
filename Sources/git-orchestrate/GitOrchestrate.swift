import ArgumentParser
import Foundation
import OrchestrateKit

@main
struct GitOrchestrate: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "git-orchestrate",
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
      Run.self, Status.self, PlanCommand.self, MCP.self, Verify.self, Log.self, Show.self, Hooks.self, Push.self,
      Fetch.self, HookPrePush.self, DebugLock.self,
    ]
  )

  /// Parses, runs, and maps every error to a message on standard error and a reliable exit code.
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      Foundation.exit(ErrorReporter.report(error, command: self))
    }
  }
}
