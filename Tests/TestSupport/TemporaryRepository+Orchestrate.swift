import Foundation

extension TemporaryRepository {
  /// Runs the built `git-orchestrate` in the repository as a user does.
  @discardableResult
  public func orchestrate(_ arguments: String..., input: String? = nil) -> CommandOutput {
    orchestrate(arguments, input: input)
  }

  /// Runs the built `git-orchestrate` in `directory` (the repository by default), with `overrides`
  /// added to the environment.
  @discardableResult
  public func orchestrate(
    _ arguments: [String], in directory: URL? = nil, input: String? = nil, environment overrides: [String: String] = [:]
  ) -> CommandOutput {
    run(orchestrateBinary.path, arguments, in: directory, input: input, environment: overrides)
  }

  /// Starts `git-orchestrate` in the repository without waiting for it; both its outputs go to `log`.
  public func start(_ arguments: [String], log: URL) throws -> Process {
    let process = Process()
    process.executableURL = orchestrateBinary
    process.arguments = arguments
    process.currentDirectoryURL = url
    process.environment = environment
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let handle = try FileHandle(forWritingTo: log)
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
  }

  /// Where the runs make their working directories, one per plan.
  public var workdirRoot: URL {
    let root = state.appendingPathComponent("git-orchestrate/work")
    let keys = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return root.appendingPathComponent(keys.first { $0.hasPrefix(url.lastPathComponent + "-") } ?? "not-created-yet")
  }

  /// `$XDG_STATE_HOME` of the commands a test runs (and `orchestrate.workdirRoot`'s default below it).
  public var state: URL { home.appendingPathComponent(".local/state") }

  /// Whether a run or an MCP server holds the repository's lock.
  public var isLocked: Bool { exists(".git/orchestrate/lock") }

  /// Creates the empty marker file `name` in `root`, for a waiting agent script to see.
  public func signal(_ name: String) {
    _ = FileManager.default.createFile(atPath: root.appendingPathComponent(name).path, contents: nil)
  }

  /// The shell text that waits until the test calls `signal(name)`.
  public func waitForSignal(_ name: String) -> String {
    "while [ ! -f '\(root.appendingPathComponent(name).path)' ]; do sleep 0.02; done"
  }
}
