import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "push",
      abstract: "Push the plans and checkpoint records (merged with the remote's first).",
      discussion:
        "Sends refs/orchestrate/plans/* and refs/notes/orchestrate, so another clone can verify and report status.")

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: ArgumentHelp("The remote (default: main's remote, else origin).", valueName: "remote"))
    var remote: String?

    func run() throws {
      let orchestrator = try repository.orchestrator()
      let sync = RecordSync(repository: orchestrator.repository)
      let name = try sync.remote(remote, mainBranch: try orchestrator.mainBranch(for: nil))
      for line in try sync.push(remote: name).lines { emit(line) }
    }
  }

  struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "fetch",
      abstract: "Fetch the plans and checkpoint records of a remote and merge the records into yours.")

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: ArgumentHelp("The remote (default: main's remote, else origin).", valueName: "remote"))
    var remote: String?

    func run() throws {
      let orchestrator = try repository.orchestrator()
      let sync = RecordSync(repository: orchestrator.repository)
      let name = try sync.remote(remote, mainBranch: try orchestrator.mainBranch(for: nil))
      for line in try sync.fetch(remote: name).lines { emit(line) }
    }
  }
}
