import Foundation

/// What a finished command printed, and how it ended.
public struct CommandOutput: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String

  public init(status: Int32, stdout: String, stderr: String) {
    self.status = status
    self.stdout = stdout
    self.stderr = stderr
  }
}

/// Runs `executable` with `arguments` in `directory` and waits for it.
///
/// Standard output and standard error are read at the same time, each on its own thread, and
/// `input` is written on a third: reading one pipe to its end before the other deadlocks as soon as
/// the child fills the pipe nobody reads (64 KiB on Linux), and so does writing a large input to a
/// child that answers while it reads.
///
/// - Parameters:
///   - environment: the whole environment of the child; the test process's own when nil.
/// - Returns: the exit status (-1 when the command could not be started, with the reason on
///   standard error) and everything it printed.
public func runCommand(
  _ executable: String, _ arguments: [String], in directory: URL, input: String? = nil,
  environment: [String: String]? = nil
) -> CommandOutput {
  ignoreBrokenPipes
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  process.currentDirectoryURL = directory
  if let environment { process.environment = environment }
  let output = Pipe()
  let errors = Pipe()
  let inputPipe = input.map { _ in Pipe() }
  process.standardOutput = output
  process.standardError = errors
  process.standardInput = inputPipe ?? FileHandle.nullDevice
  do {
    try process.run()
  } catch {
    return CommandOutput(status: -1, stdout: "", stderr: "cannot run \(executable): \(error)")
  }
  let group = DispatchGroup()
  let collected = Collected()
  let readOutput = output.fileHandleForReading
  let readErrors = errors.fileHandleForReading
  DispatchQueue.global().async(group: group) { collected.stdout = readOutput.readDataToEndOfFile() }
  DispatchQueue.global().async(group: group) { collected.stderr = readErrors.readDataToEndOfFile() }
  if let inputPipe, let input {
    let writer = inputPipe.fileHandleForWriting
    DispatchQueue.global().async(group: group) {
      // A child that exits without reading all of it is not an error of the test's.
      try? writer.write(contentsOf: Data(input.utf8))
      try? writer.close()
    }
  }
  group.wait()
  process.waitUntilExit()
  return CommandOutput(
    status: process.terminationStatus,
    stdout: String(decoding: collected.stdout, as: UTF8.self),
    stderr: String(decoding: collected.stderr, as: UTF8.self))
}

/// What the reader threads of `runCommand` hand back.
///
/// `@unchecked Sendable`: each property is written by one reader thread and read only after
/// `DispatchGroup.wait()`, which orders those writes before the reads.
private final class Collected: @unchecked Sendable {
  var stdout = Data()
  var stderr = Data()
}

/// Writing to a child that has exited must fail the write, not kill the test process with SIGPIPE.
private let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()
