import Foundation
import Testing

/// The result of running a command.
struct Output {
  var status: Int32
  var stdout: String
  var stderr: String
}

/// A temporary directory with a fresh repository on `main`, fixed identities and dates, and helpers
/// to run `git` and the built `git-orchestrate` binary the way a user does. Removed afterwards.
final class Sandbox {
  let root: URL
  let repo: URL
  let home: URL

  init(files: [String: String] = ["README.md": "# project\n"]) throws {
    root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("orchestrate-e2e-" + UUID().uuidString)
    repo = root.appendingPathComponent("repo")
    home = root.appendingPathComponent("home")
    try FileManager.default.createDirectory(at: repo, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    try git("init", "-q", "-b", "main")
    for (path, content) in files { try write(path, content) }
    try git("add", "-A")
    try git("commit", "-q", "-m", "initial")
  }

  deinit {
    try? FileManager.default.removeItem(at: root)
  }

  var environment: [String: String] {
    var env = ProcessInfo.processInfo.environment
    for key in env.keys where key.hasPrefix("GIT_") || key.hasPrefix("ORCHESTRATE_") { env[key] = nil }
    env["HOME"] = home.path
    // Work folders go to $XDG_STATE_HOME/git-orchestrate/work/<repository key>/<plan>: here, never the real home.
    env["XDG_STATE_HOME"] = state.path
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_AUTHOR_NAME"] = "Test"
    env["GIT_AUTHOR_EMAIL"] = "test@example.invalid"
    env["GIT_COMMITTER_NAME"] = "Test"
    env["GIT_COMMITTER_EMAIL"] = "test@example.invalid"
    env["GIT_AUTHOR_DATE"] = "2026-01-01T00:00:00Z"
    env["GIT_COMMITTER_DATE"] = "2026-01-01T00:00:00Z"
    env["TZ"] = "UTC"
    env["NO_COLOR"] = "1"
    env["PATH"] = Self.binary.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
    return env
  }

  func write(_ path: String, _ content: String, executable: Bool = false) throws {
    let url = repo.appendingPathComponent(path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(content.utf8).write(to: url)
    if executable { chmod(url.path, 0o755) }
  }

  func read(_ path: String, in directory: URL? = nil) -> String? {
    (try? Data(contentsOf: (directory ?? repo).appendingPathComponent(path))).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Runs git in the repository; throws when it fails.
  @discardableResult
  func git(_ args: String..., in directory: URL? = nil) throws -> String {
    let out = run("/usr/bin/env", ["git"] + args, in: directory ?? repo)
    guard out.status == 0 else {
      throw SandboxError("git \(args.joined(separator: " ")) failed (\(out.status)): \(out.stderr)")
    }
    return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Runs the built `git-orchestrate` as a user does.
  @discardableResult
  func orchestrate(_ args: String..., input: String? = nil) -> Output {
    run(Self.binary.path, args, in: repo, input: input)
  }

  func orchestrate(_ args: [String]) -> Output {
    run(Self.binary.path, args, in: repo)
  }

  /// Starts `git-orchestrate` without waiting for it.
  func start(_ args: [String], stdout: URL) throws -> Process {
    let process = Process()
    process.executableURL = Self.binary
    process.arguments = args
    process.currentDirectoryURL = repo
    process.environment = environment
    FileManager.default.createFile(atPath: stdout.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: stdout)
    process.standardError = try FileHandle(forWritingTo: stdout)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
  }

  func run(
    _ executable: String, _ args: [String], in directory: URL, input: String? = nil, environment: [String: String]? = nil
  ) -> Output {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = args
    process.currentDirectoryURL = directory
    process.environment = environment ?? self.environment
    let out = root.appendingPathComponent("out-\(UUID().uuidString)")
    let err = root.appendingPathComponent("err-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    defer {
      try? FileManager.default.removeItem(at: out)
      try? FileManager.default.removeItem(at: err)
    }
    do {
      process.standardOutput = try FileHandle(forWritingTo: out)
      process.standardError = try FileHandle(forWritingTo: err)
      if let input {
        let pipe = Pipe()
        process.standardInput = pipe
        try process.run()
        pipe.fileHandleForWriting.write(Data(input.utf8))
        try pipe.fileHandleForWriting.close()
      } else {
        process.standardInput = FileHandle.nullDevice
        try process.run()
      }
      process.waitUntilExit()
    } catch {
      return Output(status: -1, stdout: "", stderr: "\(error)")
    }
    return Output(
      status: process.terminationStatus,
      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
  }

  /// Subjects of main's first-parent history, newest first.
  func mainSubjects() throws -> [String] {
    try git("log", "--first-parent", "--format=%s", "main").split(separator: "\n").map(String.init)
  }

  func trailers(_ rev: String) throws -> [String: String] {
    let text = try git("log", "-1", "--format=%(trailers:only,unfold)", rev)
    var result: [String: String] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      if parts.count == 2 { result[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
    }
    return result
  }

  /// Where this repository's work folders live (`<work root>/<repository key>`), once a run made one.
  var workdirRoot: URL {
    let root = state.appendingPathComponent("git-orchestrate/work")
    let keys = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return root.appendingPathComponent(keys.first { $0.hasPrefix("repo-") } ?? "repo-not-created-yet")
  }

  /// `$XDG_STATE_HOME` of the commands a test runs.
  var state: URL { root.appendingPathComponent("state") }

  /// The built binary: `ORCHESTRATE_BIN`, else `.build/debug/git-orchestrate` of this package.
  static let binary: URL = {
    if let path = ProcessInfo.processInfo.environment["ORCHESTRATE_BIN"] { return URL(fileURLWithPath: path) }
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
      url.deleteLastPathComponent()
      let candidate = url.appendingPathComponent(".build/debug/git-orchestrate")
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return candidate }
    }
    return URL(fileURLWithPath: "git-orchestrate")
  }()
}

struct SandboxError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Waits until `condition` holds, polling, for at most `seconds`.
func eventually(_ seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if try condition() { return true }
    usleep(50_000)
  }
  return try condition()
}

func processIsAlive(_ pid: pid_t) -> Bool {
  kill(pid, 0) == 0 || errno == EPERM
}
