import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "plan", abstract: "Validate, add, list and show plans.",
      subcommands: [Validate.self, Add.self, List.self, Show.self])
  }
}

extension GitOrchestrate.PlanCommand {
  struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a plan file and report every problem at once.")

    @Argument(help: ArgumentHelp("The plan file (YAML or JSON).", valueName: "file"))
    var file: String

    @Flag(help: "Print the normalised plan as JSON.")
    var json = false

    func run() throws {
      let plan = try PlanReader.read(contentsOf: file)
      for warning in plan.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
      let configAgent = (try? Orchestrator().repository.configString("orchestrate.agent")) ?? nil
      for id in AgentCheck.subtasksWithoutWork(plan, configAgent: configAgent) {
        FileHandle.standardError.write(
          Data(
            "warning: sub-task '\(id)' has no run steps and no agent; set 'agent' in the plan, pass --agent to run, or set 'git config orchestrate.agent'\n"
              .utf8))
      }
      if json {
        emit(String(decoding: try plan.normalizedJSON(), as: UTF8.self))
      } else {
        emit("\(file): plan '\(plan.id)' is valid (\(plan.subtasks.count) sub-tasks)")
      }
    }
  }

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Store a plan in the repository (under refs/orchestrate/plans/<id>).")

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: ArgumentHelp("The plan file (YAML or JSON).", valueName: "file"))
    var file: String

    @Flag(help: "Replace a different stored plan with the same id, if nothing of it has run.")
    var replace = false

    func run() throws {
      let orchestrator = try repository.orchestrator()
      let (stored, outcome) = try orchestrator.addPlan(file: file, replace: replace)
      for warning in stored.plan.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
      switch outcome {
      case .added: emit("added plan '\(stored.plan.id)' (\(stored.plan.subtasks.count) sub-tasks)")
      case .unchanged: emit("plan '\(stored.plan.id)' is already stored; nothing changed")
      case .replaced: emit("replaced plan '\(stored.plan.id)' (\(stored.plan.subtasks.count) sub-tasks)")
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the stored plans with their progress.")

    @OptionGroup var repository: RepositoryOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
      let orchestrator = try repository.orchestrator()
      var rows: [[String: Any]] = []
      for stored in try orchestrator.store.list() {
        let status = try orchestrator.status(stored)
        rows.append([
          "id": stored.plan.id, "description": stored.plan.description, "total_subtasks": status.totalSubtasks,
          "completed": status.completedSubtasks.count, "progress_percentage": status.progressPercentage,
        ])
      }
      if json {
        emit(jsonLine(rows))
      } else if rows.isEmpty {
        emit("no plans stored; add one with 'git orchestrate plan add FILE'")
      } else {
        for row in rows {
          emit("\(row["id"]!)\t\(row["completed"]!)/\(row["total_subtasks"]!)\t\(row["description"]!)")
        }
      }
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a stored plan.")

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: ArgumentHelp("The plan's id (optional with one stored plan).", valueName: "plan-id"))
    var plan: String?

    @Flag(help: "Print the normalised plan as JSON.")
    var json = false

    func run() throws {
      let orchestrator = try repository.orchestrator()
      let stored = try orchestrator.resolvePlan(plan, addIfFile: false)
      if json {
        emit(String(decoding: try stored.plan.normalizedJSON(), as: UTF8.self))
        return
      }
      let plan = stored.plan
      emit("plan \(plan.id): \(plan.description)")
      emit("stored at \(Layout.planRef(plan.id)) (\(stored.commit.hex.prefix(10)))" + (stored.base.map { ", based on \($0.hex.prefix(10))" } ?? ""))
      for subtask in plan.subtasks {
        emit("\(subtask.order). \(subtask.id) [\(subtask.complexity.rawValue)]: \(subtask.description)")
        if !subtask.run.isEmpty { emit("     run: \(subtask.run.joined(separator: " ; "))") }
        emit("     checkpoint: \(subtask.checkpoint.commands.joined(separator: " ; "))")
      }
      if let final = plan.finalCheckpoint { emit("final checkpoint: \(final.commands.joined(separator: " ; "))") }
    }
  }
}

