import Foundation

/// Runs the `git` command line for the few things libgit2 1.5 does not do well here: linked
/// worktrees at a detached commit, and talking to remotes (credentials, transports, hooks).
enum GitCommand {
  struct Output {
    var status: Int32
    var stdout: String
    var stderr: String
    var succeeded: Bool { status == 0 }
  }

  /// Runs `git ARGS` in `directory` with the repository-locating variables removed (as in a hook).
  /// - Throws: `OrchestrateError.io` when git cannot be started at all.
  @discardableResult
  static func run(_ arguments: [String], in directory: String, input: Data? = nil) throws -> Output {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git"] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.environment = PlanSession.childEnvironment()
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input == nil ? FileHandle.nullDevice : nil
    do {
      try process.run()
    } catch {
      throw OrchestrateError.io("cannot run git: \(error.localizedDescription); is git installed and on PATH?")
    }
    // Read both pipes while git runs so a large output cannot block it.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
      errData = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Output(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }
}
