import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "plan", abstract: "Validate, add, list and show plans.",
      subcommands: [Validate.self, Add.self, List.self, Show.self, Log.self])
  }
}

extension GitOrchestrate.PlanCommand {
  struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "validate", abstract: "Check a plan file and report every problem at once.")

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
      if let orchestrator = try? Orchestrator() {
        for warning in (try? orchestrator.protectionWarnings(plan)) ?? [] {
          FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
      }
      if json {
        emit(String(decoding: try plan.normalizedJSON(), as: UTF8.self))
      } else {
        emit("\(file): plan '\(plan.id)' is valid (\(Plural.count(plan.subtasks.count, "sub-task")))")
      }
    }
  }

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "add",
      abstract: "Store a plan in the repository (under refs/orchestrate/plans/<id>).")

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: ArgumentHelp("The plan file (YAML or JSON).", valueName: "file"))
    var file: String

    @Flag(
      help: """
        Replace a different stored plan with the same id. A started plan may be edited where it has \
        not run: sub-tasks completed on main must stay as they are; the others may be changed, added \
        or removed. Each version is kept ('git orchestrate plan log ID').
        """)
    var replace = false

    func run() throws {
      let orchestrator = try repository.orchestrator()
      let (stored, outcome) = try orchestrator.addPlan(file: file, replace: replace, editStarted: true)
      for warning in stored.plan.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
      switch outcome {
      case .added: emit("added plan '\(stored.plan.id)' (\(Plural.count(stored.plan.subtasks.count, "sub-task")))")
      case .unchanged: emit("plan '\(stored.plan.id)' is already stored; nothing changed")
      case .replaced:
        let change = try orchestrator.store.versions(stored.plan.id).first?.changes.map(\.text) ?? []
        emit(
          "replaced plan '\(stored.plan.id)' (\(Plural.count(stored.plan.subtasks.count, "sub-task")))"
            + (change.isEmpty ? "" : ": " + change.joined(separator: ", ")))
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list", abstract: "List the stored plans with their progress.")

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
    static let configuration = CommandConfiguration(
      commandName: "show", abstract: "Show a stored plan.")

    @OptionGroup var repository: RepositoryOptions

    @Argument(
      help: ArgumentHelp("The plan's id (optional with one stored plan).", valueName: "plan-id"),
      completion: .custom(Completions.planIDs))
    var plan: String?

    @Flag(help: "Print the normalised plan as JSON.")
    var json = false

    func run() throws {
      let orchestrator = try repository.orchestrator()
      // A plan file not stored yet is shown as it would be stored (its waves before a run, say).
      var isDirectory: ObjCBool = false
      let stored: StoredPlan?
      let plan: Plan
      if let argument = self.plan, try orchestrator.store.find(argument) == nil,
        FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), !isDirectory.boolValue
      {
        plan = try PlanReader.read(contentsOf: argument)
        stored = try orchestrator.store.find(plan.id)
      } else {
        let resolved = try orchestrator.resolvePlan(self.plan, addIfFile: false)
        stored = resolved
        plan = resolved.plan
      }
      if json {
        emit(String(decoding: try plan.normalizedJSON(), as: UTF8.self))
        return
      }
      emit("plan \(plan.id): \(plan.description)")
      if let stored, try stored.plan.normalizedJSON() == plan.normalizedJSON() {
        emit(
          "stored at \(Layout.planRef(plan.id)) (\(stored.commit.hex.prefix(10)))"
            + (stored.base.map { ", based on \($0.hex.prefix(10))" } ?? ""))
      } else {
        emit(
          "not stored \(stored == nil ? "yet" : "in this version (another is stored under that id)"); 'git orchestrate plan add' or 'run' stores it"
        )
      }
      for subtask in plan.subtasks {
        emit("\(subtask.order). \(subtask.id) [\(subtask.complexity.rawValue)]: \(subtask.description)")
        if !subtask.dependencies.isEmpty { emit("     after: \(subtask.dependencies.joined(separator: ", "))") }
        if let bestOf = subtask.bestOf, bestOf > 1 { emit("     best of \(bestOf) agents") }
        if !subtask.run.isEmpty { emit("     run: \(subtask.run.joined(separator: " ; "))") }
        emit("     checkpoint: \(subtask.checkpoint.commands.joined(separator: " ; "))")
      }
      if let final = plan.finalCheckpoint { emit("final checkpoint: \(final.commands.joined(separator: " ; "))") }
      // What `run --jobs N` can do at once; a sequential run takes them in plan order.
      let waves = plan.waves
      emit(
        "waves with run --jobs (\(plan.executionStrategy ?? "sequential")\(plan.parallelJobs > 1 ? ", jobs \(plan.parallelJobs)" : "")): "
          + (waves.count == plan.subtasks.count ? "none in parallel, every sub-task depends on the one before" : ""))
      if waves.count < plan.subtasks.count {
        for (index, wave) in waves.enumerated() {
          emit("  \(index + 1). " + wave.map(\.id).joined(separator: ", "))
        }
      }
    }
  }

  struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "log",
      abstract: "Show every version of a stored plan: who changed what, and when.")

    @OptionGroup var repository: RepositoryOptions

    @Argument(
      help: ArgumentHelp("The plan's id (optional with one stored plan).", valueName: "plan-id"),
      completion: .custom(Completions.planIDs))
    var plan: String?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
      let orchestrator = try repository.orchestrator()
      let stored = try orchestrator.resolvePlan(plan, addIfFile: false)
      let versions = try orchestrator.store.versions(stored.plan.id)
      if json {
        emit(jsonLine(versions.map(\.jsonObject)))
        return
      }
      for (index, version) in versions.enumerated() {
        let what =
          index == versions.count - 1
          ? "added (\(Plural.count(version.changes.count, "sub-task")))"
          : (version.changes.isEmpty ? "plan settings changed" : version.changes.map(\.text).joined(separator: ", "))
        emit(
          "\(version.commit.hex.prefix(10))  \(version.date.formatted(.iso8601))  \(version.author) <\(version.email)>  \(what)"
        )
      }
    }
  }
}
