import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "status", abstract: "Show a plan's progress, computed from git alone.")

    @OptionGroup var repository: RepositoryOptions

    @Argument(
      help: ArgumentHelp("The plan's id (optional with one stored plan).", valueName: "plan-id"),
      completion: .custom(Completions.planIDs))
    var plan: String?

    @Flag(help: "Print JSON (the fields of the seed's get_decomposition_status).")
    var json = false

    func run() throws {
      let orchestrator = try repository.orchestrator()
      let stored = try orchestrator.resolvePlan(plan, addIfFile: false)
      let status = try orchestrator.status(stored)
      if json {
        emit(utf8: try status.jsonData())
      } else {
        emit(ProgressBox(status).rendered)
      }
    }
  }
}
