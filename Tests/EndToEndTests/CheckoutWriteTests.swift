import Foundation
import TestSupport
import Testing

/// The user's checkout is written in place (no temporary file, fsync and rename per file) under a
/// journal: an update cut short leaves a torn file that the next run undoes and finishes, and that
/// is never taken for the user's own change; a real edit of theirs still stops the run.
@Suite("writing the user's checkout", .serialized)
struct CheckoutWriteTests {
  static let old = String(repeating: "old line\n", count: 200)
  static let new = String(repeating: "new line, longer than the old one\n", count: 400)

  /// A run that lands sub-task 1 (it rewrites big.txt) and stops at sub-task 2 until `allow` exists;
  /// then the state a kill in the middle of writing big.txt leaves: the checkout recorded at the
  /// commit before, big.txt's index entry still the old content, the file holding `content`, and the
  /// journal naming the update.
  static func interruptedUpdate(_ box: TemporaryRepository, content: String) throws {
    let source = box.root.appendingPathComponent("new.txt")
    try Self.new.write(to: source, atomically: false, encoding: .utf8)
    try box.write(
      "plan.yml",
      """
      id: torn
      max_attempts: 1
      subtasks:
        - id: rewrite
          run: ["cp \(source.path) big.txt"]
          checkpoint: { commands: ["test -s big.txt"] }
        - id: second
          run: ["echo two > two.txt"]
          checkpoint: { commands: ["test -f \(box.root.path)/allow && test -f two.txt"] }
      """)
    let first = box.orchestrate("run", "plan.yml")
    #expect(first.status == 1, "\(first.stdout)\n\(first.stderr)")
    #expect(box.read("big.txt") == Self.new)
    let landed = try box.git("rev-parse", "main")
    let before = try box.git("rev-parse", "main~1")
    let oldBlob = try box.git("rev-parse", "main~1:big.txt")
    _ = try box.git("update-ref", "refs/orchestrate/checkout-sync", before)
    _ = try box.git("update-index", "--cacheinfo", "100644,\(oldBlob),big.txt")
    try box.write("big.txt", content)
    try (landed + "\n").write(
      to: box.url.appendingPathComponent(".git/orchestrate-checkout-writing"), atomically: false, encoding: .utf8)
    FileManager.default.createFile(atPath: box.root.appendingPathComponent("allow").path, contents: nil)
  }

  @Test("a write cut short (a prefix of the new content) is undone and finished by the next run, never refused")
  func tornWriteRepaired() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", "big.txt": Self.old])
    try Self.interruptedUpdate(box, content: String(Self.new.prefix(1000)))
    let resumed = box.orchestrate("run", "torn")
    #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
    #expect(box.read("big.txt") == Self.new)
    #expect(box.read("two.txt") == "two\n")
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
    #expect(!box.exists(".git/orchestrate-checkout-writing"))
  }

  @Test("a file the update had unlinked and not yet written is put back and finished")
  func missingFileRepaired() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", "big.txt": Self.old])
    try Self.interruptedUpdate(box, content: "")
    try FileManager.default.removeItem(at: box.url.appendingPathComponent("big.txt"))
    let resumed = box.orchestrate("run", "torn")
    #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
    #expect(box.read("big.txt") == Self.new)
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
  }

  @Test("the user's own edit of a journaled file is theirs: the run refuses, naming it, and keeps it")
  func userEditKept() throws {
    let box = try TemporaryRepository(files: ["README.md": "# p\n", "big.txt": Self.old])
    try Self.interruptedUpdate(box, content: "my own edit\n")
    let resumed = box.orchestrate("run", "torn")
    #expect(resumed.status != 0, "\(resumed.stdout)\n\(resumed.stderr)")
    #expect((resumed.stdout + resumed.stderr).contains("big.txt"), "\(resumed.stdout)\n\(resumed.stderr)")
    #expect(box.read("big.txt") == "my own edit\n")
  }

  @Test("a large change lands in the checkout: contents, modes, removals and links, and git status is clean")
  func largeChangeIndexed() throws {
    var files = ["README.md": "# p\n"]
    for i in 0..<300 { files["src/f\(i).txt"] = "line \(i)\n" }
    let box = try TemporaryRepository(files: files)
    try box.write(
      "plan.yml",
      """
      id: large
      subtasks:
        - id: all
          run: ["for f in src/*.txt; do echo more >> $f; done; chmod +x src/f1.txt; rm src/f2.txt; ln -s f3.txt src/link"]
          checkpoint: { commands: ["true"] }
      """)
    let result = box.orchestrate("run", "plan.yml")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(box.read("src/f0.txt") == "line 0\nmore\n")
    #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
    #expect(try box.git("diff", "--stat", "HEAD") == "")
    #expect(FileManager.default.isExecutableFile(atPath: box.url.appendingPathComponent("src/f1.txt").path))
    #expect(!box.exists("src/f2.txt"))
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: box.url.appendingPathComponent("src/link").path) == "f3.txt")
  }
}
