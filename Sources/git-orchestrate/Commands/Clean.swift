import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct Clean: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "clean",
      abstract: "Remove the work folders and sub-task branches of finished plans, keeping every attempt.",
      discussion: """
        With no plan, every completed plan is cleaned and unfinished ones are left alone. A branch's \
        commits that main does not hold are kept under refs/orchestrate/attempts/<plan>/<NN>-<id>, \
        so 'git orchestrate show' still lists every attempt. A running plan is refused (exit 2), and \
        so is an unfinished one unless --abandon is given.
        """)

    @OptionGroup var repository: RepositoryOptions

    @Argument(
      help: ArgumentHelp("The plan's id (default: every completed plan).", valueName: "plan-id"),
      completion: .custom(Completions.planIDs))
    var plan: String?

    @Flag(help: "Also clean a plan that is not finished: you give it up (its attempts are kept).")
    var abandon = false

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
      let orchestrator = try repository.orchestrator()
      let reports: [CleanReport]
      if let plan {
        reports = [try orchestrator.clean(try orchestrator.store.load(plan), abandon: abandon)]
      } else if abandon {
        throw ValidationError("--abandon needs the plan to give up: 'git orchestrate clean --abandon PLAN'")
      } else {
        reports = try orchestrator.cleanCompleted()
      }
      if json {
        emit(jsonLine(reports.map(\.jsonObject)))
        return
      }
      if reports.isEmpty { emit("no plans stored; nothing to clean") }
      for report in reports {
        if let skipped = report.skipped {
          emit("plan '\(report.plan)': left alone (\(skipped))")
          continue
        }
        emit(
          "plan '\(report.plan)': removed \(Plural.count(report.workFolders.count, "work folder")) and \(Plural.count(report.branches.count, "branch", plural: "branches"))"
        )
        for folder in report.workFolders { emit("  removed \(folder)") }
        for (branch, kept) in report.branches {
          emit("  deleted \(branch)" + (kept.map { "; its attempts are kept at \($0)" } ?? " (its commit is on main)"))
        }
      }
    }
  }
}
