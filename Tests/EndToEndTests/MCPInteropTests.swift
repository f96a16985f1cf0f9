import Foundation
import TestSupport
import Testing

/// `git orchestrate mcp` driven by the official MCP Python SDK (pip `mcp`, pinned in the Makefile).
@Suite("mcp interop", .serialized)
struct MCPInteropTests {
  /// `ORCHESTRATE_PYTHON`, else `<package root>/.venv/bin/python`, if it can import `mcp`.
  static func python(in box: TemporaryRepository) -> (path: String?, tried: [String]) {
    var candidates: [String] = []
    if let path = ProcessInfo.processInfo.environment["ORCHESTRATE_PYTHON"], !path.isEmpty { candidates.append(path) }
    candidates.append(packageRoot.appendingPathComponent(".venv/bin/python").path)
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
      if box.run(candidate, ["-c", "import mcp"], in: box.root).status == 0 { return (candidate, candidates) }
    }
    return (nil, candidates)
  }

  /// Runs `Tests/MCPInterop/<script>` against the built binary and `box`; nil (recorded as an
  /// issue) when no Python has the SDK.
  static func drive(_ script: String, _ box: TemporaryRepository) -> CommandOutput? {
    let (python, tried) = python(in: box)
    guard let python else {
      Issue.record(
        "no Python with the MCP SDK (tried \(tried.joined(separator: ", "))): run 'make venv' (or 'make test'), or set ORCHESTRATE_PYTHON"
      )
      return nil
    }
    let path = packageRoot.appendingPathComponent("Tests/MCPInterop/" + script).path
    return box.run(python, [path, orchestrateBinary.path, box.url.path], in: box.root)
  }

  @Test("the Python SDK drives a two-step plan through the seed's loop; every check of drive_plan.py passes")
  func pythonClientDrivesPlan() throws {
    let box = try TemporaryRepository()
    let before = try box.git("rev-parse", "main")
    guard let result = Self.drive("drive_plan.py", box) else { return }
    #expect(result.status == 0, "drive_plan.py failed:\n\(result.stdout)\n\(result.stderr)")
    #expect(result.stdout.contains("all MCP interop checks passed"))
    // Two sub-task commits on main, made by the server, with the run engine's trailers.
    let subjects = try box.git("log", "--first-parent", "--format=%s", "\(before)..main").split(separator: "\n")
    #expect(subjects == ["Write the farewell", "Write the greeting"])
    #expect(try box.trailers("main")["Orchestrate-Subtask"] == "2/2 farewell")
    // The server let go of the lock when standard input closed.
    #expect(!box.isLocked)
  }

  @Test(
    "the Python SDK dispatches sub-tasks in parallel with get_next_subtask(count): separate workdirs, one commit each, dependencies respected, a same-line edit reported as a conflict; every check of drive_parallel.py passes"
  )
  func pythonClientDispatchesInParallel() throws {
    let box = try TemporaryRepository()
    let before = try box.git("rev-parse", "main")
    guard let result = Self.drive("drive_parallel.py", box) else { return }
    #expect(result.status == 0, "drive_parallel.py failed:\n\(result.stdout)\n\(result.stderr)")
    #expect(result.stdout.contains("all MCP parallel checks passed"))
    // One commit per sub-task on main (and the test's own commit of the shared file), nothing else.
    let subjects = try box.git("log", "--first-parent", "--format=%s", "\(before)..main").split(separator: "\n")
    #expect(
      subjects == [
        "Put beta on the first line", "Put omega on the last line", "Put alpha on the first line", "shared file",
        "Join the halves", "Write the left half", "Write the right half",
      ])
    #expect(!box.isLocked)
  }
}
