import Foundation
import TestSupport
import Testing

/// The run finds what an agent changed from an inotify watch, and falls back to a full scan whenever
/// the watch cannot tell. Each fallback must give the very tree `git add -A` would.
@Suite("watcher fallbacks", .serialized)
struct WatcherFallbackTests {
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
      let box = try TemporaryRepository()
      try box.write("plan.yml", Self.plan)
      try box.git("add", "plan.yml")
      try box.git("commit", "-q", "-m", "plan")
      let result = box.orchestrate(["run", "plan.yml"] + flags)
      #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
      let workdir = box.workdirRoot.appendingPathComponent("watch")
      #expect(try box.git("rev-parse", "main^{tree}") == (try box.treeGitWouldMake(of: workdir)))
      trees.append([try box.git("rev-parse", "main~1^{tree}"), try box.git("rev-parse", "main^{tree}")])
      let names = try box.git("ls-tree", "-r", "--name-only", "main").split(separator: "\n").map(String.init)
      #expect(names.contains("z/b/c/f.txt") && names.contains("a/new.txt") && !names.contains("build.log"))
      #expect(!names.contains("README.md"))
    }
    #expect(trees[0] == trees[1])
  }

  @Test("an agent that makes more changes than inotify's queue holds: the overflow falls back to a full scan")
  func queueOverflow() throws {
    let limit =
      Int(
        (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
          .trimmingCharacters(in: .whitespacesAndNewlines) ?? "16384") ?? 16384
    let files = limit + 2000
    let box = try TemporaryRepository()
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
    let result = box.orchestrate(["run", "plan.yml"], environment: ["ORCHESTRATE_TRACE": "1"])
    let trace = result.stderr
    #expect(result.status == 0, "\(trace.suffix(2000))")
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
    let box = try TemporaryRepository(files: ["README.md": "# p\n", ".gitignore": "*.log\n"])
    try box.write(
      "plan.yml",
      """
      id: unignore
      description: d
      subtasks:
        - id: log
          description: Make a log
          run: ["echo kept > app.log"]
          # An ignored file is moved aside while a checkpoint runs (it is not part of the tree).
          checkpoint: { commands: ["test ! -f app.log"] }
        - id: track
          description: Track logs
          run: ["printf '# nothing ignored\\\\n' > .gitignore"]
          checkpoint: { commands: ["true"] }
      """)
    let result = box.orchestrate(["run", "plan.yml"], environment: ["ORCHESTRATE_TRACE": "1"])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stderr.contains("snapshot: full scan (.gitignore or .gitattributes changed)"))
    #expect(!(try box.git("ls-tree", "--name-only", "main~1")).contains("app.log"))
    #expect(try box.git("ls-tree", "--name-only", "main").contains("app.log"))
  }

  @Test("a change made in the working directory between runs is found by the opening scan")
  func changedBetweenRuns() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml",
      TestPlan.firstThen(id: "between", maxAttempts: 1, run: ["echo 2 > two.txt"], checkpoint: ["test -f fixed.txt"])
        .yaml)
    #expect(box.orchestrate("run", "plan.yml").status == 1)
    // By hand, in the working directory the stop names: a fix, and an edit to a file no step touches.
    let workdir = box.workdirRoot.appendingPathComponent("between")
    try Data("fixed\n".utf8).write(to: workdir.appendingPathComponent("fixed.txt"))
    try Data("edited by hand\n".utf8).write(to: workdir.appendingPathComponent("README.md"))
    let resumed = box.orchestrate("run", "between")
    #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
    #expect(try box.git("show", "main:fixed.txt") == "fixed")
    #expect(try box.git("show", "main:README.md") == "edited by hand")
    #expect(try box.git("rev-parse", "main^{tree}") == (try box.treeGitWouldMake(of: workdir)))
  }
}
