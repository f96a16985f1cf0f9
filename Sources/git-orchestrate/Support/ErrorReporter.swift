import ArgumentParser
import Foundation
import GitKit
import OrchestrateKit

/// Turns any error into a message on standard error and an exit code scripts can rely on.
enum ErrorReporter {
  static func report(_ error: Error, command: GitOrchestrate.Type) -> Int32 {
    switch error {
    case let error as OrchestrateError:
      printError(error.localizedDescription)
      return error.exitCode
    case let error as PlanError:
      printError(error.localizedDescription)
      return 2
    case let error as Interrupted:
      printError(error.localizedDescription)
      return 128 + error.signal
    case let error as RepositoryError:
      printError(error.localizedDescription)
      return 2
    case let error as GitError:
      printError(error.localizedDescription)
      return 2
    case let error as ExitCode:
      return error.rawValue
    default:
      let code = command.exitCode(for: error)
      if code == .success {
        print(command.fullMessage(for: error))
        return 0
      }
      let message = command.fullMessage(for: error)
      if message.isEmpty {
        printError(error.localizedDescription)
      } else {
        printError(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
      }
      return 2
    }
  }

  /// The message `report` prints for `error`, without the `git orchestrate: ` prefix.
  static func message(for error: Error, command: GitOrchestrate.Type) -> String {
    if let error = error as? LocalizedError, let description = error.errorDescription,
      error is OrchestrateError || error is PlanError || error is Interrupted || error is RepositoryError
        || error is GitError
    {
      return description
    }
    let message = command.fullMessage(for: error)
    if message.isEmpty { return error.localizedDescription }
    return message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
  }

  static func printError(_ message: String) {
    FileHandle.standardError.write(Data(("git orchestrate: " + message + "\n").utf8))
  }
}

/// Options every command that works in a repository shares.
struct RepositoryOptions: ParsableArguments {
  @Option(name: .customShort("C"), help: ArgumentHelp("Run as if started in <path>.", valueName: "path"))
  var path: String?

  func orchestrator() throws -> Orchestrator {
    try Orchestrator(at: path ?? FileManager.default.currentDirectoryPath)
  }
}

/// Writes text to standard output, flushing at once so output interleaves correctly with agents'.
func emit(_ text: String) {
  FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Prints UTF-8 `data` and a newline, as `emit` prints text, without making a string of it first
/// (the JSON status of a long plan is megabytes).
func emit(utf8 data: Data) {
  // Two writes rather than a copy of the megabytes with the newline appended.
  FileHandle.standardOutput.write(data)
  FileHandle.standardOutput.write(Data([UInt8(ascii: "\n")]))
}

/// Colour only on a terminal, and never with NO_COLOR.
enum Style {
  static let enabled: Bool =
    isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    && ProcessInfo.processInfo.environment["TERM"] != "dumb"

  static func green(_ s: String) -> String { enabled ? "\u{1B}[32m\(s)\u{1B}[0m" : s }
  static func red(_ s: String) -> String { enabled ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
  static func yellow(_ s: String) -> String { enabled ? "\u{1B}[33m\(s)\u{1B}[0m" : s }
  static func bold(_ s: String) -> String { enabled ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
  static func dim(_ s: String) -> String { enabled ? "\u{1B}[2m\(s)\u{1B}[0m" : s }
}

func jsonLine(_ object: Any) -> String {
  guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
  else {
    return "{}"
  }
  return String(decoding: data, as: UTF8.self)
}
