import Foundation

/// A failed `git` command run by a test, with what it printed.
struct GitCommandError: Error, CustomStringConvertible {
  let arguments: [String]
  let status: Int32
  let output: String
  var description: String { "git \(arguments.joined(separator: " ")) exited \(status): \(output)" }
}

/// A private HOME for the `git` CLI, so no user or system configuration leaks into tests.
let testHome: URL = {
  let home = FileManager.default.temporaryDirectory.appendingPathComponent(
    "gitkit-tests-home-\(ProcessInfo.processInfo.processIdentifier)")
  try? FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
  let config = """
    [user]
    \tname = Test Author
    \temail = author@example.com
    [init]
    \tdefaultBranch = main
    [advice]
    \tdetachedHead = false

    """
  try? config.write(to: home.appendingPathComponent(".gitconfig"), atomically: true, encoding: .utf8)
  return home
}()

/// The fixed date of every commit the `git` CLI makes in tests.
let fixedDate = "2024-01-02T03:04:05Z"
let fixedDateSeconds: TimeInterval = 1_704_164_645

/// Runs `git` in `directory` with a deterministic environment and returns its standard output.
///
/// - Throws: `GitCommandError` with standard error when git exits non-zero.
@discardableResult
func git(_ args: [String], in directory: URL, input: String? = nil) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
  process.arguments = args
  process.currentDirectoryURL = directory
  process.environment = [
    "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
    "HOME": testHome.path,
    "GIT_CONFIG_NOSYSTEM": "1",
    "TZ": "UTC",
    "LC_ALL": "C",
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_AUTHOR_DATE": fixedDate,
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_COMMITTER_DATE": fixedDate,
  ]
  let output = Pipe()
  // Standard error goes to a file: two pipes read one after the other could deadlock.
  let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("gitkit-stderr-\(UUID().uuidString)")
  _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
  defer { try? FileManager.default.removeItem(at: errorFile) }
  let errorHandle = try FileHandle(forWritingTo: errorFile)
  process.standardOutput = output
  process.standardError = errorHandle
  let inputPipe = Pipe()
  process.standardInput = inputPipe
  try process.run()
  if let input { inputPipe.fileHandleForWriting.write(Data(input.utf8)) }
  try inputPipe.fileHandleForWriting.close()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  try errorHandle.close()
  let text = String(decoding: data, as: UTF8.self)
  guard process.terminationStatus == 0 else {
    let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
    throw GitCommandError(arguments: args, status: process.terminationStatus, output: stderr + text)
  }
  return text
}

/// Runs `body` with a fresh non-bare repository (branch `main`, no commits) in a temporary directory.
///
/// The repository is `<scratch>/repo`; tests may create siblings in `<scratch>` (worktrees, other
/// repositories). Everything is removed afterwards.
func withTemporaryRepository(_ body: (URL) throws -> Void) throws {
  try withTemporaryDirectory { scratch in
    let repository = scratch.appendingPathComponent("repo")
    try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
    try git(["init", "-q", "-b", "main"], in: repository)
    try body(repository)
  }
}

/// Runs `body` with an empty temporary directory, removed afterwards.
func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
  let scratch = FileManager.default.temporaryDirectory
    .appendingPathComponent("gitkit-\(UUID().uuidString)").resolvingSymlinksInPath()
  try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: scratch) }
  try body(scratch)
}

/// Writes `text` to `path` (relative to `directory`), creating folders as needed.
func write(_ text: String, to path: String, in directory: URL) throws {
  let file = directory.appendingPathComponent(path)
  try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
  try text.write(to: file, atomically: false, encoding: .utf8)
}

/// Reads the file at `path` (relative to `directory`).
func read(_ path: String, in directory: URL) throws -> String {
  try String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8)
}

/// Stages everything and commits with the git CLI; returns the new commit id.
@discardableResult
func commitAll(_ message: String, in directory: URL) throws -> String {
  try git(["add", "-A"], in: directory)
  try git(["commit", "-q", "--allow-empty", "-m", message], in: directory)
  return try git(["rev-parse", "HEAD"], in: directory).trimmed
}

extension String {
  var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
