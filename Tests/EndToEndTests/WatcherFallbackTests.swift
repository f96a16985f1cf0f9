import Foundation
import Testing

/// The run finds what an agent changed from an inotify watch, and falls back to a full scan whenever
/// the watch cannot tell. Each fallback must give the very tree `git add -A` would.
@Suite("watcher fallbacks", .serialized)
struct WatcherFallbackTests {
  /// The tree `git add -A` makes of `directory`, through a scratch index (the directory's own is untouched).
  func addAllTree(_ box: Sandbox, _ directory: URL) throws -> String {
    let index = box.root.appendingPathComponent("scratch-index-\(UUID().uuidString)").path
    var env = box.environment
    env["GIT_INDEX_FILE"] = index
    for args in [["add", "-A"], ["write-tree"]] {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = ["git"] + args
      process.currentDirectoryURL = directory
      process.environment = env
      let out = Pipe()
      process.standardOutput = out
      try process.run()
      let data = out.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      if args == ["write-tree"] { return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
    }
    return ""
  }

  static let plan = """
    id: watch
    description: d
    subtasks:
      - id: shapes
        description: Shapes
        run:
          - "mkdir -p a/b/c && echo deep > a/b/c/f.txt && echo top > top.txt"
          - "echo ignored > build.log && printf 'build.log\\\\n' > .gitignore"
          - "ln -s top.txt link && chmod +x top.txt && rm README.md"
        checkpoint: { commands: ["test -f a/b/c/f.txt"] }
      - id: moves
        description: Moves
        run:
          - "mv a z && mkdir a && echo again > a/new.txt && echo more >> z/b/c/f.txt"
        checkpoint: { commands: ["test -f z/b/c/f.txt"] }
    """

  @Test("with the watch and with full scans only (--no-watch), main gets the same trees, equal to git add -A's")
  func watchAndScanAgree() throws {
    var trees: [[String]] = []
    for flags in [[], ["--no-watch"]] {
      let box = try Sandbox()
      try box.write("plan.yml", Self.plan)
      try box.git("add", "plan.yml")
      try box.git("commit", "-q", "-m", "plan")
      let result = box.orchestrate(["run", "plan.yml"] + flags)
      #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
      let workdir = box.workdirRoot.appendingPathComponent("watch")
      #expect(try box.git("rev-parse", "main^{tree}") == (try addAllTree(box, workdir)))
      trees.append([try box.git("rev-parse", "main~1^{tree}"), try box.git("rev-parse", "main^{tree}")])
      let names = try box.git("ls-tree", "-r", "--name-only", "main").split(separator: "\n").map(String.init)
      #expect(names.contains("z/b/c/f.txt") && names.contains("a/new.txt") && !names.contains("build.log"))
      #expect(!names.contains("README.md"))
    }
    #expect(trees[0] == trees[1])
  }

  @Test("an agent that makes more changes than inotify's queue holds: the overflow falls back to a full scan")
  func queueOverflow() throws {
    let limit = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
      .trimmingCharacters(in: .whitespacesAndNewlines) ?? "16384") ?? 16384
    let files = limit + 2000
    let box = try Sandbox()
    try box.write(
      "plan.yml",
      """
      id: flood
      description: d
      subtasks:
        - id: many
          description: Many files
          run: ["mkdir many && cd many && seq 1 \(files) | xargs touch"]
          checkpoint: { commands: ["test -f many/\(files)"] }
        - id: modes
          description: Every file executable
          run: ["find many -type f -exec chmod +x {} +"]
          checkpoint: { commands: ["test -x many/\(files)"] }
      """)
    var env = box.environment
    env["ORCHESTRATE_TRACE"] = "1"
    let process = Process()
    process.executableURL = Sandbox.binary
    process.arguments = ["run", "plan.yml"]
    process.currentDirectoryURL = box.repo
    process.environment = env
    let err = Pipe()
    process.standardError = err
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let trace = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(trace.suffix(2000))")
    // The second sub-task changes every file of a watched folder: the watch's queue overflowed,
    // and the snapshot said so and scanned everything.
    #expect(trace.contains("snapshot: full scan ("), "\(trace.suffix(2000))")
    #expect(trace.lowercased().contains("overflow"), "\(trace.suffix(2000))")
    let entries = try box.git("ls-tree", "-r", "main", "many/").split(separator: "\n")
    #expect(entries.count == files)
    #expect(entries.allSatisfy { $0.hasPrefix("100755 ") })
  }

  @Test("a .gitignore that stops ignoring a file made earlier brings the file in (a full scan)")
  func gitignoreChange() throws {
    let box = try Sandbox(files: ["README.md": "# p\n", ".gitignore": "*.log\n"])
    try box.write(
      "plan.yml",
      """
      id: unignore
      description: d
      subtasks:
        - id: log
          description: Make a log
          run: ["echo kept > app.log"]
          checkpoint: { commands: ["test -f app.log"] }
        - id: track
          description: Track logs
          run: ["printf '# nothing ignored\\\\n' > .gitignore"]
          checkpoint: { commands: ["true"] }
      """)
    var env = box.environment
    env["ORCHESTRATE_TRACE"] = "1"
    let result = box.run(Sandbox.binary.path, ["run", "plan.yml"], in: box.repo, environment: env)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stderr.contains("snapshot: full scan (.gitignore or .gitattributes changed)"))
    #expect(!(try box.git("ls-tree", "--name-only", "main~1")).contains("app.log"))
    #expect(try box.git("ls-tree", "--name-only", "main").contains("app.log"))
  }

  @Test("a change made in the working directory between runs is found by the opening scan")
  func changedBetweenRuns() throws {
    let box = try Sandbox()
    try box.write(
      "plan.yml",
      """
      id: between
      description: d
      max_attempts: 1
      subtasks:
        - id: first
          description: First
          run: ["echo 1 > one.txt"]
          checkpoint: { commands: ["test -f one.txt"] }
        - id: second
          description: Second
          run: ["echo 2 > two.txt"]
          checkpoint: { commands: ["test -f fixed.txt"] }
      """)
    #expect(box.orchestrate("run", "plan.yml").status == 1)
    // By hand, in the working directory the stop names: a fix, and an edit to a file no step touches.
    let workdir = box.workdirRoot.appendingPathComponent("between")
    try Data("fixed\n".utf8).write(to: workdir.appendingPathComponent("fixed.txt"))
    try Data("edited by hand\n".utf8).write(to: workdir.appendingPathComponent("README.md"))
    let resumed = box.orchestrate("run", "between")
    #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
    #expect(try box.git("show", "main:fixed.txt") == "fixed")
    #expect(try box.git("show", "main:README.md") == "edited by hand")
    #expect(try box.git("rev-parse", "main^{tree}") == (try addAllTree(box, workdir)))
  }
}
