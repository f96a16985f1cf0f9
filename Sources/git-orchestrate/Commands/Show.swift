import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "show",
      abstract: "Show a sub-task: its commit and trailers, checkpoint results, attempts and diff stat.",
      discussion: """
        A sub-task not completed is shown by its latest attempt, diffed against the main commit it \
        started from; --attempt N shows one attempt with its full agent and checkpoint output (kept \
        in .git/orchestrate/logs/<plan>/ by the clone that ran it).
        """)

    @OptionGroup var repository: RepositoryOptions

    @Argument(
      help: ArgumentHelp("The sub-task's id.", valueName: "subtask-id"), completion: .custom(Completions.subtaskIDs))
    var subtask: String

    @Option(
      help: ArgumentHelp("The plan (needed when several plans have this sub-task).", valueName: "id"),
      completion: .custom(Completions.planIDs))
    var plan: String?

    @Option(
      help: ArgumentHelp(
        "Show one failed attempt: its message, its diff against main, its full output.", valueName: "n"))
    var attempt: Int?

    @Flag(help: "Also print the diff (of a sub-task not completed: its latest attempt against main).") var patch = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      if let attempt {
        let detail = try repository.orchestrator().attempt(attempt, subtask: subtask, plan: plan)
        emit(json ? String(decoding: try detail.jsonData(), as: UTF8.self) : detail.rendered)
        return
      }
      let detail = try repository.orchestrator().detail(subtask: subtask, plan: plan, patch: patch)
      emit(json ? String(decoding: try detail.jsonData(), as: UTF8.self) : detail.rendered)
    }
  }
}
