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
      // One write for the whole log, its bytes gathered as they come: a plan of 10,000 sub-tasks
      // is 10,000 lines, a megabyte that joining strings copied twice more.
      var bytes: [UInt8] = []
      var first = true
      func add(_ line: String) {
        if !first { bytes.append(UInt8(ascii: "\n")) }
        first = false
        bytes.append(contentsOf: line.utf8)
      }
      for (index, stored) in plans.enumerated() {
        if plans.count > 1 {
          if index > 0 { add("") }
          add(Style.bold("plan \(stored.plan.id): \(stored.plan.description)"))
        }
        bytes.reserveCapacity(bytes.count + entries[index].count * 96)
        let widths = SubtaskLogEntry.Widths(entries[index])
        for entry in entries[index] {
          let line = entry.line(widths: widths)
          switch entry.state {
          case .completed: add(line)
          case .failed: add(Style.red(line))
          case .inProgress, .interrupted: add(Style.yellow(line))
          case .pending: add(Style.dim(line))
          }
        }
      }
      if !first { emit(utf8: Data(bytes)) }
    }
  }
}
