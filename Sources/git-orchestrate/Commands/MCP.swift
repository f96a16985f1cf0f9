import ArgumentParser
import Foundation
import OrchestrateKit
import OrchestrateMCP

extension GitOrchestrate {
  struct MCP: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "mcp",
      abstract: "Serve the orchestration tools over MCP (stdio) for an agent such as Claude Code.",
      discussion: """
        Starts the MCP server 'orchestration' on standard input and output: get_next_subtask, \
        validate_checkpoint, complete_subtask, get_decomposition_status, decompose_task, list_plans and \
        get_subtask_failure. Logs go to standard error. The server runs until standard input closes. \
        The first tool call that changes anything takes the repository's lock and keeps it until the \
        server exits, so a 'git orchestrate run' meanwhile is refused (exit 3), and the other way round. \
        decompose_task may store a new plan, and replace only a plan this server stored itself and \
        nothing of which has run; --no-plan-creation forbids storing plans at all (add them with \
        'git orchestrate plan add').
        Configure Claude Code with .mcp.json: \
        {"mcpServers": {"orchestration": {"command": "git", "args": ["orchestrate", "mcp"]}}}
        """)

    @OptionGroup var repository: RepositoryOptions

    @Option(
      help: ArgumentHelp(
        "Log level on standard error: trace, debug, info, notice, warning (default), error.", valueName: "level")
    )
    var logLevel: String?

    @Flag(
      name: .customLong("plan-creation"), inversion: .prefixedNo,
      help: "Let decompose_task store new plans (--no-plan-creation: only plans you added can be run).")
    var planCreation = true

    @Option(
      help: ArgumentHelp(
        "Run checkpoints in a bubblewrap sandbox: auto, on or off (default: git config orchestrate.sandbox, else auto).",
        valueName: "auto|on|off"))
    var sandbox: String?

    func validate() throws {
      let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
      if let logLevel, !levels.contains(logLevel.lowercased()) {
        throw ValidationError("--log-level '\(logLevel)' is not one of \(levels.joined(separator: ", "))")
      }
      if let sandbox, Confinement.Setting(rawValue: sandbox) == nil {
        throw ValidationError("--sandbox '\(sandbox)' is not one of auto, on, off")
      }
    }

    func run() throws {
      let setting = sandbox.flatMap(Confinement.Setting.init(rawValue:))
      // `on` where the sandbox cannot work is refused before serving, as `run` refuses it (exit 2).
      if setting == .on { try Confinement.requireAvailable() }
      ProcessRunner.adoptOrphans()
      try OrchestrationServer.serveStdio(
        repositoryPath: repository.path ?? FileManager.default.currentDirectoryPath, logLevel: logLevel,
        allowsPlanCreation: planCreation, sandbox: setting)
    }
  }
}
