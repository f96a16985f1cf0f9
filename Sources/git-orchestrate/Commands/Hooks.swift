import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  struct Hooks: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "hooks",
      abstract: "Install, remove or inspect the pre-push checkpoint hook.",
      discussion: """
        The hook refuses to push a sub-task commit whose checkpoint has not passed on that exact tree. \
        It goes where git runs hooks: core.hooksPath when set, else the git directory's hooks/. A \
        pre-push hook you already have is kept as pre-push.orchestrate-chained and still runs first; \
        'hooks uninstall' puts it back. Share checkpoint records and plans with 'git orchestrate push'.
        """,
      subcommands: [Install.self, Uninstall.self, HooksStatus.self])
  }

  /// What git's pre-push hook calls: `git orchestrate hook-pre-push REMOTE URL`, git's lines on stdin.
  struct HookPrePush: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "hook-pre-push", abstract: "Run the pre-push check (called by the hook).", shouldDisplay: false)

    @Argument(help: "The remote's name (or URL).") var remote: String
    @Argument(help: "The remote's URL.") var url: String?

    func run() throws {
      let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
      do {
        let environment = ProcessInfo.processInfo.environment
        let orchestrator = try Orchestrator(at: environment["GIT_DIR"] ?? FileManager.default.currentDirectoryPath)
        let verifier = Verifier(orchestrator: orchestrator)
        verifier.progress = { FileHandle.standardError.write(Data(("git orchestrate: " + $0 + "\n").utf8)) }
        let report = try PrePushCheck(verifier: verifier).run(remote: remote, url: url, input: input)
        if !report.passed {
          ErrorReporter.printError(PrePushCheck.refusal(report))
          throw ExitCode(1)
        }
      } catch let error as ExitCode {
        throw error
      } catch {
        // Any failure refuses the push: say why and how to bypass.
        ErrorReporter.printError(
          "push refused: \(error.localizedDescription)\nTo push anyway, once: git push --no-verify")
        throw ExitCode(1)
      }
    }
  }
}

extension GitOrchestrate.Hooks {
  struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "install", abstract: "Install the pre-push hook (again: no change).")
    @OptionGroup var repository: RepositoryOptions

    func run() throws {
      let installer = HookInstaller(repository: try repository.orchestrator().repository)
      let outcome = try installer.install()
      let status = try installer.status()
      let path = status.hooksDirectory + "/" + HookInstaller.hookName
      switch outcome {
      case .installed: emit("installed the pre-push hook in \(path)")
      case .updated: emit("updated the pre-push hook in \(path)")
      case .unchanged: emit("the pre-push hook is already installed in \(path)")
      }
      if let chained = status.chainedHook { emit("your own hook is kept as \(chained) and runs first") }
      if let binary = status.binary { emit("it runs \(binary) (or git-orchestrate on PATH if that is gone)") }
      if outcome != .unchanged {
        emit(
          "share checkpoint records and plans with 'git orchestrate push' (and get them with 'git orchestrate fetch')")
      }
    }
  }

  struct Uninstall: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "uninstall", abstract: "Remove the pre-push hook and restore yours.")
    @OptionGroup var repository: RepositoryOptions

    func run() throws {
      let installer = HookInstaller(repository: try repository.orchestrator().repository)
      let before = try installer.status()
      switch try installer.uninstall() {
      case .removed:
        emit("removed the pre-push hook from \(before.hooksDirectory)")
        if before.chainedHook != nil { emit("restored your own pre-push hook") }
      case .notInstalled:
        emit("the pre-push hook is not installed in \(before.hooksDirectory); nothing to do")
      }
    }
  }

  struct HooksStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "status", abstract: "Tell what is installed.")
    @OptionGroup var repository: RepositoryOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
      let status = try HookInstaller(repository: try repository.orchestrator().repository).status()
      if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        emit(String(decoding: try encoder.encode(status), as: UTF8.self))
        return
      }
      let place = status.hooksDirectory + (status.fromHooksPath ? " (core.hooksPath)" : "")
      switch status.state {
      case .installed: emit("pre-push: installed in \(place)")
      case .outdated:
        emit("pre-push: an older version is installed in \(place); run 'git orchestrate hooks install' to update it")
      case .absent: emit("pre-push: not installed (hooks directory \(place)); run 'git orchestrate hooks install'")
      case .foreign:
        emit("pre-push: not installed; \(place) has a pre-push hook of its own, which 'hooks install' keeps and chains")
      }
      if let chained = status.chainedHook { emit("chained: \(chained) (your hook, run first)") }
      if let binary = status.binary {
        emit(
          status.binaryPresent == true
            ? "runs: \(binary)"
            : "runs: \(binary), which is gone; git-orchestrate on PATH runs instead, and without one only pushes with no sub-task commit go through. Run 'git orchestrate hooks install' again"
        )
      }
    }
  }
}
