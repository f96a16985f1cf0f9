import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show a sub-task: its commit and trailers, checkpoint results, attempts and diff stat.")

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: ArgumentHelp("The sub-task's id.", valueName: "subtask-id"))
    var subtask: String

    @Option(help: ArgumentHelp("The plan (needed when several plans have this sub-task).", valueName: "id"))
    var plan: String?

    @Flag(help: "Also print the diff.") var patch = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let detail = try repository.orchestrator().detail(subtask: subtask, plan: plan, patch: patch)
      emit(json ? String(decoding: try detail.jsonData(), as: UTF8.self) : detail.rendered)
    }
  }
}
