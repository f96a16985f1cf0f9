import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "verify",
      abstract: "Check that each sub-task commit passed its checkpoint on its exact tree.",
      discussion: """
        A pass recorded in refs/notes/orchestrate for the commit's tree and the checkpoint's commands is \
        trusted and nothing runs. Otherwise the checkpoint runs in a temporary worktree at the commit \
        (never in your checkout) and its result is recorded, unless it left files changed.

        With no revision: the sub-task commits of the main branch that its upstream does not have, \
        else all of them. Exit codes: 0 all passed; 1 a checkpoint failed; 2 bad input.
        """)

    @OptionGroup var repository: RepositoryOptions

    @Argument(
      help: ArgumentHelp(
        "Commits to check: A..B, A...B, REV or ^REV, as git rev-list reads them.", valueName: "revision-range"))
    var revisions: [String] = []

    @Flag(help: "Only read recorded results: a commit without a recorded pass fails, and nothing runs.")
    var cached = false

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
      let orchestrator = try repository.orchestrator()
      let verifier = Verifier(orchestrator: orchestrator)
      verifier.cachedOnly = cached
      verifier.progress = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
      let report = try verifier.verify(try verifier.subtaskCommits(revisions: revisions))
      if json {
        emit(String(decoding: try report.jsonData(), as: UTF8.self))
      } else {
        for result in report.results {
          let how = result.source == .cached ? "cached" : result.source == .ran ? "ran" : "no record"
          if result.passed {
            emit(
              "\(Style.green("passed")) \(result.commit.prefix(12)) \(result.plan) \(result.order) \(result.subtask) (\(how))"
            )
          } else {
            emit("\(Style.red("FAILED")) \(result.failureLine) (\(how))")
            if let tail = result.outputTail, !tail.isEmpty {
              emit(tail.split(separator: "\n").suffix(20).map { "    " + $0 }.joined(separator: "\n"))
            }
          }
          if let notice = result.notice { emit("    note: " + notice) }
        }
        let ran = report.ranCount
        if report.results.isEmpty { emit(try Self.nothingVerified(orchestrator, revisions: revisions)) }
        emit(
          "\(report.results.count) sub-task commit\(report.results.count == 1 ? "" : "s") verified: \(report.results.count - report.failures.count) passed, \(report.failures.count) failed (\(ran) checkpoint\(ran == 1 ? "" : "s") run)"
        )
      }
      if !report.passed { throw ExitCode(1) }
    }

    /// Why nothing was verified, and what to do: a fresh clone has neither plans nor records until
    /// `git orchestrate fetch`, and by default only main's commits not on its upstream are looked at.
    static func nothingVerified(_ orchestrator: Orchestrator, revisions: [String]) throws -> String {
      let repository = orchestrator.repository
      if try orchestrator.store.ids().isEmpty {
        return
          "no plans in this clone, so no commit is known as a sub-task commit: run 'git orchestrate fetch' to get the plans and checkpoint records"
      }
      if try repository.resolve(Layout.notesRef) == nil {
        return "no checkpoint records in this clone (\(Layout.notesRef)): run 'git orchestrate fetch' to get them"
      }
      if revisions.isEmpty {
        return
          "no sub-task commit on main that its upstream lacks; give a range to verify others, e.g. 'git orchestrate verify main'"
      }
      return "no sub-task commit in \(revisions.joined(separator: " "))"
    }
  }
}
