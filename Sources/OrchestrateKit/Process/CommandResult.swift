import Foundation

/// What ran, how it ended, and the last part of what it printed.
///
/// The output is kept as a bounded tail so that an agent printing gigabytes costs no more memory
/// than `CommandSpec.tailBytes`; `outputBytes` still counts everything it printed.
public struct CommandResult: Sendable, Equatable {
  /// How the command ended.
  public enum Termination: Sendable, Equatable {
    /// The shell exited with this status.
    case exited(Int32)
    /// The shell was ended by this signal, sent by someone other than the runner.
    case signalled(Int32)
    /// The runner ended the process group because the timeout passed.
    case timedOut
    /// The runner ended the process group because of this signal (SIGINT or SIGTERM to the parent, or `cancelAll`).
    case interrupted(Int32)
  }

  public var command: String
  public var termination: Termination
  /// Wall-clock time from spawn to reaping, in seconds.
  public var duration: TimeInterval
  /// The last `tailBytes` of the merged standard output and error, decoded as lossy UTF-8.
  public var outputTail: String
  /// Every byte the command printed, including those no longer in the tail.
  public var outputBytes: Int
  /// The timeout the command ran under, kept so that `summary` can say it.
  public var timeout: TimeInterval?

  public init(
    command: String, termination: Termination, duration: TimeInterval, outputTail: String,
    outputBytes: Int, timeout: TimeInterval? = nil
  ) {
    self.command = command
    self.termination = termination
    self.duration = duration
    self.outputTail = outputTail
    self.outputBytes = outputBytes
    self.timeout = timeout
  }

  /// True only for an exit status of 0.
  public var succeeded: Bool { termination == .exited(0) }

  /// The status a shell would report: the exit status, 124 for a timeout (like `timeout(1)`), 128+n for a signal.
  public var exitCode: Int32 {
    switch termination {
    case .exited(let code): code
    case .signalled(let signal), .interrupted(let signal): 128 + signal
    case .timedOut: 124
    }
  }

  /// A short lowercase phrase for messages: "exited 1", "timed out after 10 s", "killed by signal 9", "interrupted".
  public var summary: String {
    switch termination {
    case .exited(let code): "exited \(code)"
    case .signalled(let signal): "killed by signal \(signal)"
    case .timedOut: timeout.map { "timed out after \(Self.seconds($0)) s" } ?? "timed out"
    case .interrupted: "interrupted"
    }
  }

  /// Formats seconds without a useless fraction: 10 → "10", 1.5 → "1.5".
  static func seconds(_ value: TimeInterval) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(format: "%.1f", value)
  }
}

/// A shell command to run: what, where, with which environment and input, under which limits.
public struct CommandSpec: Sendable {
  /// Run as `/bin/sh -c <command>`.
  public var command: String
  /// The working directory; it must exist.
  public var directory: String
  /// The complete environment of the command (nothing is inherited beyond it).
  public var environment: [String: String]
  /// Written to the command's standard input, which is then closed; nil means /dev/null.
  public var input: Data?
  /// After this many seconds the whole process group is ended; nil means no limit.
  public var timeout: TimeInterval?
  /// When set, the full output is appended to this file as well.
  public var logFile: String?
  /// How many trailing bytes of output the result keeps.
  public var tailBytes: Int = 65536
  /// Seconds between SIGTERM and SIGKILL when the group is ended.
  public var killGrace: TimeInterval = 2
  /// When set, the command runs inside this sandbox, its directory as its work folder.
  public var confinement: Confinement?

  /// - Parameter environment: the full environment; defaults to this process's own.
  public init(
    command: String, directory: String,
    environment: [String: String] = ProcessInfo.processInfo.environment,
    input: Data? = nil, timeout: TimeInterval? = nil, logFile: String? = nil
  ) {
    self.command = command
    self.directory = directory
    self.environment = environment
    self.input = input
    self.timeout = timeout
    self.logFile = logFile
  }
}

/// Why a command could not be started.
public enum ProcessRunnerError: LocalizedError, Equatable {
  /// The working directory is missing or not a directory.
  case directoryNotFound(String)
  /// The log file could not be opened for appending.
  case logFileUnwritable(path: String, reason: String)
  /// The operating system refused to create a pipe or the process.
  case spawnFailed(command: String, reason: String)

  public var errorDescription: String? {
    switch self {
    case .directoryNotFound(let path):
      "cannot run a command in '\(path)': no such directory; create it or pass an existing one"
    case .logFileUnwritable(let path, let reason):
      "cannot append the output to '\(path)': \(reason); check that its directory exists and is writable"
    case .spawnFailed(let command, let reason):
      "cannot start '\(command)': \(reason); check that /bin/sh exists and that process limits are not exhausted"
    }
  }
}
