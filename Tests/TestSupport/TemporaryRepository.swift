import Foundation

/// A failed command run by a test, with what it printed.
public struct TestCommandError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// A fresh repository on `main` in a temporary directory, with a fixed identity and dates, a private
/// HOME, and helpers to run `git` (and, in `TemporaryRepository+Orchestrate.swift`, the built
/// `git-orchestrate`) the way a user does. Everything is removed when it is released.
///
/// Layout: `root/repo` is the repository (`url`), `root/home` its HOME; tests may put anything else
/// in `root` (other repositories, logs, marker files).
public final class TemporaryRepository {
  /// The temporary directory holding everything.
  public let root: URL
  /// The repository's working tree.
  public let url: URL
  /// HOME for every command run here.
  public let home: URL
  public var path: String { url.path }

  /// Makes the repository.
  ///
  /// - Parameter files: committed as `initial`; nil leaves `main` unborn.
  public init(files: [String: String]? = ["README.md": "# project\n"]) throws {
    root = try makeTemporaryDirectory()
    url = root.appendingPathComponent("repo")
    home = root.appendingPathComponent("home")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    try "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n".write(
      to: home.appendingPathComponent(".gitconfig"), atomically: true, encoding: .utf8)
    try git("init", "-q", "-b", "main")
    // In the repository's own configuration, so the kit's commits made in the test process through
    // libgit2 (which reads no environment variable) carry the same identity as the CLI's.
    try git("config", "user.name", TestIdentity.authorName)
    try git("config", "user.email", TestIdentity.authorEmail)
    guard let files else { return }
    for (path, content) in files { try write(path, content) }
    try git("add", "-A")
    try git("commit", "-q", "-m", "initial")
  }

  deinit { try? FileManager.default.removeItem(at: root) }

  /// The environment of every command run here (see `deterministicEnvironment(home:)`).
  public var environment: [String: String] { deterministicEnvironment(home: home) }

  /// Runs `executable` in `directory` (the repository by default) with the deterministic
  /// environment plus `overrides`.
  public func run(
    _ executable: String, _ arguments: [String], in directory: URL? = nil, input: String? = nil,
    environment overrides: [String: String] = [:]
  ) -> CommandOutput {
    runCommand(
      executable, arguments, in: directory ?? url, input: input,
      environment: environment.merging(overrides) { $1 })
  }

  /// Runs git and returns its standard output as printed.
  ///
  /// - Throws: `TestCommandError` with standard error when git exits non-zero.
  @discardableResult
  public func rawGit(
    _ arguments: [String], in directory: URL? = nil, input: String? = nil, environment: [String: String] = [:]
  ) throws -> String {
    let output = run("/usr/bin/env", ["git"] + arguments, in: directory, input: input, environment: environment)
    guard output.status == 0 else {
      throw TestCommandError(
        "git \(arguments.joined(separator: " ")) exited \(output.status): \(output.stderr)\(output.stdout)")
    }
    return output.stdout
  }

  /// Runs git and returns its standard output without surrounding white space.
  @discardableResult
  public func git(
    _ arguments: [String], in directory: URL? = nil, input: String? = nil, environment: [String: String] = [:]
  ) throws -> String {
    try rawGit(arguments, in: directory, input: input, environment: environment).trimmed
  }

  @discardableResult
  public func git(_ arguments: String..., in directory: URL? = nil) throws -> String {
    try git(arguments, in: directory)
  }

  /// Writes `content` to `path`, relative to `directory` (the repository by default), making folders.
  public func write(_ path: String, _ content: String, executable: Bool = false, in directory: URL? = nil) throws {
    let file = (directory ?? url).appendingPathComponent(path)
    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(content.utf8).write(to: file)
    if executable { chmod(file.path, 0o755) }
  }

  /// The text of `path`, relative to `directory` (the repository by default); nil when it cannot be read.
  public func read(_ path: String, in directory: URL? = nil) -> String? {
    (try? Data(contentsOf: (directory ?? url).appendingPathComponent(path))).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Whether `path`, relative to `directory` (the repository by default), exists.
  public func exists(_ path: String, in directory: URL? = nil) -> Bool {
    FileManager.default.fileExists(atPath: (directory ?? url).appendingPathComponent(path).path)
  }

  /// Stages everything and commits; returns the new commit's id.
  @discardableResult
  public func commitAll(_ message: String) throws -> String {
    try git("add", "-A")
    try git("commit", "-q", "--allow-empty", "-m", message)
    return try git("rev-parse", "HEAD")
  }

  /// Subjects of main's first-parent history, newest first.
  public func mainSubjects() throws -> [String] {
    try git("log", "--first-parent", "--format=%s", "main").split(separator: "\n").map(String.init)
  }

  /// The `Orchestrate-Subtask` trailers (`order/total id`) of main's first-parent history after
  /// `base`, oldest first: the sub-tasks that landed, in the order they landed.
  public func landedSubtasks(since base: String) throws -> [String] {
    try git(
      "log", "--first-parent", "--reverse", "--format=%(trailers:key=Orchestrate-Subtask,valueonly)", "\(base)..main"
    ).split(separator: "\n").map(String.init)
  }

  /// The trailers of `revision`'s message, by key.
  public func trailers(_ revision: String) throws -> [String: String] {
    let text = try git("log", "-1", "--format=%(trailers:only,unfold)", revision)
    var result: [String: String] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      if parts.count == 2 { result[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
    }
    return result
  }

  /// The tree `git add -A` makes of `directory`, through a scratch index (the directory's own is
  /// untouched): from an empty index, or from `base`'s tree read into it first.
  public func treeGitWouldMake(of directory: URL, base: String? = nil) throws -> String {
    let index = root.appendingPathComponent("scratch-index-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: index) }
    let scratch = ["GIT_INDEX_FILE": index]
    var steps = [["add", "-A"], ["write-tree"]]
    if let base {
      let gitDirectory = url.appendingPathComponent(".git").path
      steps = ([["read-tree", base]] + steps).map {
        ["--git-dir=" + gitDirectory, "--work-tree=" + directory.path] + $0
      }
    }
    var tree = ""
    for step in steps { tree = try git(step, in: directory, environment: scratch) }
    return tree
  }

  /// Makes another repository, `root/name`: `git init` on `branch` with `options`, then `files`
  /// committed as `message` (no files: the branch stays unborn).
  @discardableResult
  public func makeRepository(
    _ name: String, branch: String = "main", options: [String] = [], files: [String: String] = [:],
    message: String = "init"
  ) throws -> URL {
    let directory = root.appendingPathComponent(name)
    try git(["init", "-q", "-b", branch] + options + [directory.path], in: root)
    guard !files.isEmpty else { return directory }
    for (path, content) in files { try write(path, content, in: directory) }
    try git(["add", "-A"], in: directory)
    try git(["commit", "-q", "-m", message], in: directory)
    return directory
  }

  /// A file outside the repository that checkpoint commands append a line to (`echo run >> …`).
  public var runCounter: URL { root.appendingPathComponent("runs") }

  /// How many lines were appended to `runCounter`.
  public var countedRuns: Int { (read("runs", in: root) ?? "").split(separator: "\n").count }
}

/// Runs `body` with a fresh repository whose `main` is unborn, removed afterwards.
public func withTemporaryRepository<T>(_ body: (TemporaryRepository) throws -> T) throws -> T {
  let repository = try TemporaryRepository(files: nil)
  return try withExtendedLifetime(repository) { try body(repository) }
}
