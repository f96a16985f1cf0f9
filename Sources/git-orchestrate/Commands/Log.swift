import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "log",
      abstract: "One line per sub-task: order, id, state, attempts, duration, checkpoint.",
      discussion: "Completed sub-tasks come from main's history, the others from their branches (failed ones included)."
    )

    @OptionGroup var repository: RepositoryOptions

    @Argument(
      help: ArgumentHelp("The plan's id (default: every stored plan).", valueName: "plan-id"),
      completion: .custom(Completions.planIDs))
    var plan: String?

    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let orchestrator = try repository.orchestrator()
      let plans = try orchestrator.plans(plan)
      let entries = try plans.map { try orchestrator.log($0) }
      if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        emit(String(decoding: try encoder.encode(entries.flatMap { $0 }), as: UTF8.self))
        return
      }
      // One write for the whole log: a plan of 10,000 sub-tasks is 10,000 lines.
      var lines: [String] = []
      for (index, stored) in plans.enumerated() {
        if plans.count > 1 {
          if index > 0 { lines.append("") }
          lines.append(Style.bold("plan \(stored.plan.id): \(stored.plan.description)"))
        }
        let widths = SubtaskLogEntry.Widths(entries[index])
        for entry in entries[index] {
          let line = entry.line(widths: widths)
          switch entry.state {
          case .completed: lines.append(line)
          case .failed: lines.append(Style.red(line))
          case .inProgress, .interrupted: lines.append(Style.yellow(line))
          case .pending: lines.append(Style.dim(line))
          }
        }
      }
      if !lines.isEmpty { emit(lines.joined(separator: "\n")) }
    }
  }
}
