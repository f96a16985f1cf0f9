import Foundation
import TestSupport
import Testing

@testable import GitKit

/// The index file GitKit writes itself (`IndexFile`, `Index.writePatched`) against libgit2's write
/// of the same changes, read back by git: the entries, the tree `git write-tree` makes from the
/// cache tree, the status.
@Suite("IndexFile")
struct IndexFileTests {
  enum Shape: String, CaseIterable, Sendable {
    /// git's default: version 2, a full cache tree after `git commit`.
    case committed
    /// version 3 (an intent-to-add entry), the untracked cache and a stage of resolve-undo data.
    case extensions
  }

  /// A repository of `count` files in nested folders, with names that sort around "/" ("a",
  /// "a-b", "a.b", "a/b"), committed by git.
  static func repository(_ shape: Shape, count: Int = 300) throws -> TemporaryRepository {
    let box = try TemporaryRepository(files: nil)
    for number in 0..<count {
      let folder = ["", "a/", "a-b/", "a.b/", "a/b/", "a/b/c/", "z/"][number % 7]
      try box.write("\(folder)f\(number).txt", "file \(number)\n")
    }
    try box.write("a/b-c", "b-c\n")
    try box.write("a/b.c", "b.c\n")
    try box.git("add", "-A")
    try box.git("commit", "-q", "-m", "files")
    if shape == .extensions {
      try box.git("config", "core.untrackedCache", "true")
      try box.write("z/untracked.txt", "untracked\n")
      try box.write("intent.txt", "intent\n")
      try box.git("add", "-N", "intent.txt")
      _ = try box.git("status", "--porcelain")
      try box.git("update-index", "--index-version", "3")
    }
    return box
  }

  /// A copy of `box`'s repository beside it.
  static func twin(of box: TemporaryRepository) throws -> URL {
    let twin = box.root.appendingPathComponent("twin")
    _ = box.run("/bin/cp", ["-a", box.url.path, twin.path])
    return twin
  }

  enum Change { case write(String, String), remove(String) }

  /// Random changes: edits, removals, new files in old and new folders.
  static func changes(seed: UInt64, count: Int, in box: TemporaryRepository) throws -> [Change] {
    var state = seed
    func next(_ bound: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(bound))
    }
    let tracked = try box.git("ls-files").split(separator: "\n").map(String.init).filter { $0 != "intent.txt" }
    var changes: [Change] = []
    var used = Set<String>()
    while changes.count < count {
      switch next(4) {
      case 0, 1:
        let path = tracked[next(tracked.count)]
        if used.insert(path).inserted { changes.append(.write(path, "changed \(next(1000))\n")) }
      case 2:
        let path = tracked[next(tracked.count)]
        if used.insert(path).inserted { changes.append(.remove(path)) }
      default:
        let folder = ["", "a/", "a/b/", "new/", "new/deeper/", "a/b/c/d/", "a-b/"][next(7)]
        let path = "\(folder)n\(next(100_000)).txt"
        if used.insert(path).inserted { changes.append(.write(path, "new \(path)\n")) }
      }
    }
    return changes
  }

  /// Makes `changes` in the working directory at `directory` and in its index, then writes the
  /// index patched (`patched`) or by libgit2.
  @discardableResult
  static func apply(_ changes: [Change], at directory: URL, patched: Bool) throws -> Bool {
    let repository = try Repository(path: directory.path)
    let lock = try repository.lockIndex()
    defer { lock.release() }
    let index = try repository.index()
    try index.reload()
    var edits: [String: IndexFile.Edit] = [:]
    for change in changes {
      switch change {
      case .write(let path, let content):
        edits[path] = try write(path, content, at: directory, repository: repository, index: index)
      case .remove(let path):
        try FileManager.default.removeItem(at: directory.appendingPathComponent(path))
        try index.remove(path: path)
        edits[path] = .remove
      }
    }
    if patched, try index.writePatched(edits, lock: lock) { return true }
    lock.release()
    try index.write()
    return false
  }

  /// Writes `content` to the file at `path` and its blob, stages it in `index`, and returns the edit.
  static func write(_ path: String, _ content: String, at directory: URL, repository: Repository, index: Index) throws
    -> IndexFile.Edit
  {
    let full = directory.appendingPathComponent(path)
    try FileManager.default.createDirectory(at: full.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(content.utf8).write(to: full)
    let (stat, _) = try #require(FileStat.of(full.path))
    let oid = try repository.writeBlob(Data(content.utf8))
    try index.set(path: path, oid: oid, mode: .blob, stat: stat)
    return .set(oid: oid, mode: .blob, stat: stat)
  }

  @Test("changes written patched read back as libgit2's write of them: entries, write-tree, status", arguments: Shape.allCases)
  func matchesLibgit2(_ shape: Shape) throws {
    for seed in 1...6 as ClosedRange<UInt64> {
      let box = try Self.repository(shape)
      let twin = try Self.twin(of: box)
      let changes = try Self.changes(seed: seed, count: Int(seed) * 7, in: box)
      #expect(try Self.apply(changes, at: box.url, patched: true), "seed \(seed): fell back to libgit2")
      try Self.apply(changes, at: twin, patched: false)
      for arguments in [["ls-files", "-s"], ["status", "--porcelain", "--untracked-files=all"], ["write-tree"]] {
        let ours = try box.git(arguments)
        let theirs = try box.git(arguments, in: twin)
        #expect(ours == theirs, "seed \(seed), git \(arguments.joined(separator: " "))")
      }
      // The cache tree kept for the folders nothing changed in is what write-tree uses: it must
      // name the trees git makes from the entries alone.
      let entries = try box.git("ls-files", "-s").split(separator: "\n").filter { !$0.hasSuffix("\tintent.txt") }
      let temporary = ["GIT_INDEX_FILE": box.root.appendingPathComponent("rebuilt-index").path]
      let rebuilt = box.run(
        "/usr/bin/env", ["git", "update-index", "--index-info"], input: entries.joined(separator: "\n") + "\n",
        environment: temporary)
      #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
      let expected = box.run("/usr/bin/env", ["git", "write-tree"], environment: temporary)
      #expect(try box.git("write-tree") == expected.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "seed \(seed)")
      #expect(box.run("/usr/bin/env", ["git", "fsck", "--strict", "--no-dangling"]).status == 0)
      if shape == .extensions {
        #expect(try box.git("ls-files", "--debug", "intent.txt").contains("flags: 20004000"), "seed \(seed)")
      }
    }
  }

  @Test("patched writes one after another resume hashing from the states kept of the last; git reads each (its checksum checked)")
  func resumedHashing() throws {
    let box = try Self.repository(.committed, count: 2_000)
    let repository = try Repository(path: box.path)
    let index = try repository.index()
    let tracked = try box.git("ls-files").split(separator: "\n").map(String.init)
    var state: UInt64 = 7
    var resumed: [Int] = []
    for round in 1...12 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      // In the last quarter of the index (past its first 64 KiB), and in round 6 its first entry too.
      let quarter = tracked.count / 4
      var paths = Set((0..<3).map { tracked[3 * quarter + Int((state >> (11 * $0 + 20)) % UInt64(quarter))] })
      if round == 6 { paths.insert(tracked[0]) }
      let lock = try repository.lockIndex()
      defer { lock.release() }
      try index.reload()
      var edits: [String: IndexFile.Edit] = [:]
      for path in paths {
        edits[path] = try Self.write(path, "round \(round) \(path)\n", at: box.url, repository: repository, index: index)
      }
      #expect(try index.writePatched(edits, lock: lock), "round \(round): fell back to libgit2")
      resumed.append(repository.ownIndexWrite?.checkpoints.resumedBytes ?? 0)
      for (path, edit) in edits {
        guard case .set(let oid, _, _) = edit else { continue }
        #expect(try box.git("ls-files", "-s", "--", path).contains(oid.hex), "round \(round) \(path)")
      }
      // libgit2 checks the file's checksum when it reads it (git itself only in fsck, below).
      #expect(throws: Never.self, "round \(round)") { try Repository(path: box.path).index().reload() }
      // Every entry's stat data is the file's own: nothing differs between index and files.
      #expect(try box.git("diff-files", "--name-only") == "", "round \(round)")
    }
    // The first write read the file git wrote, and round 6 changed the first entry: hashed from the
    // start; every other write resumed past the first 64 KiB.
    #expect(resumed[0] == 0 && resumed[5] == 0, "\(resumed)")
    for (round, bytes) in resumed.enumerated() where round != 0 && round != 5 {
      #expect(bytes >= IndexFile.HashCheckpoints.interval, "round \(round + 1): \(resumed)")
    }
    #expect(box.run("/usr/bin/env", ["git", "fsck", "--strict", "--no-dangling"]).status == 0)
  }

  @Test("a change libgit2 alone knows how to make is left to it: a file under a file, a file over a folder, a name not UTF-8")
  func leftToLibgit2() throws {
    let box = try Self.repository(.committed, count: 20)
    let repository = try Repository(path: box.path)
    let lock = try repository.lockIndex()
    defer { lock.release() }
    let index = try repository.index()
    try index.reload()
    let (stat, _) = try #require(FileStat.of(box.url.appendingPathComponent("f0.txt").path))
    let oid = try repository.writeBlob(Data("x\n".utf8))
    let before = try box.git("ls-files", "-s")
    #expect(try !index.writePatched(["f0.txt/inside": .set(oid: oid, mode: .blob, stat: stat)], lock: lock))
    #expect(try !index.writePatched(["a": .set(oid: oid, mode: .blob, stat: stat)], lock: lock))
    #expect(try !index.writePatched(["a/b/c": .set(oid: oid, mode: .blob, stat: stat)], lock: lock))
    // A name that was not UTF-8 reaches here repaired (U+FFFD): not the tree's name.
    #expect(try !index.writePatched(["caf\u{FFFD}.txt": .set(oid: oid, mode: .blob, stat: stat)], lock: lock))
    #expect(try box.git("ls-files", "-s") == before)
    // Removing the folder's entries with it is fine.
    let under = index.paths(under: "a/b/c")
    var edits: [String: IndexFile.Edit] = ["a/b/c": .set(oid: oid, mode: .blob, stat: stat)]
    for path in under { edits[path] = .remove }
    #expect(!under.isEmpty)
    #expect(try index.writePatched(edits, lock: lock))
    #expect(try box.git("ls-files", "-s", "a/b/c") == "100644 \(oid.hex) 0\ta/b/c")
  }

  @Test("an entry as new as the index whose file changed without its stat data: smudged; one that did not: kept")
  func racyEntriesSmudged() throws {
    let box = try Self.repository(.committed, count: 20)
    let indexPath = box.path + "/.git/index"
    let full = box.url.appendingPathComponent("f0.txt").path
    let (stat, _) = try #require(FileStat.of(full))
    let other = try Repository(path: box.path).writeBlob(Data("other\n".utf8))
    // The entry claims other content with the file's very stat data (what a change within one tick
    // of the file system's clock after git looked leaves), in an index exactly as new as the file.
    let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: indexPath)))
    let planted = try #require(
      IndexFile.patch(original, modified: (0, 0), edits: ["f0.txt": .set(oid: other, mode: .blob, stat: stat)], workdir: box.path))
    try Data(planted.bytes).write(to: URL(fileURLWithPath: indexPath))
    var times = [
      timespec(tv_sec: Int(stat.mtimeSeconds), tv_nsec: Int(stat.mtimeNanoseconds)),
      timespec(tv_sec: Int(stat.mtimeSeconds), tv_nsec: Int(stat.mtimeNanoseconds)),
    ]
    #expect(utimensat(AT_FDCWD, indexPath, &times, 0) == 0)

    let (edit, _) = try #require(FileStat.of(box.url.appendingPathComponent("f7.txt").path))
    let edits: [String: IndexFile.Edit] = ["f7.txt": .set(oid: OID.hashBlob(Data("file 7\n".utf8)), mode: .blob, stat: edit)]
    let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: indexPath)))
    let racy = try #require(IndexFile.patch(file, modified: (stat.mtimeSeconds, stat.mtimeNanoseconds), edits: edits, workdir: box.path))
    #expect(racy.smudged == ["f0.txt"])
    // Older than the index: trusted, as git does.
    let trusted = try #require(IndexFile.patch(file, modified: (stat.mtimeSeconds + 1, 0), edits: edits, workdir: box.path))
    #expect(trusted.smudged.isEmpty)
    // Through the repository: written smudged (size 0), and memory smudged too.
    let repository = try Repository(path: box.path)
    let lock = try repository.lockIndex()
    defer { lock.release() }
    let index = try repository.index()
    try index.reload()
    #expect(index.entry(path: "f0.txt")?.stat.size == stat.size)
    #expect(try index.writePatched(edits, lock: lock))
    #expect(index.entry(path: "f0.txt")?.stat.size == 0)
    #expect(try box.git("ls-files", "--debug", "f0.txt").contains("size: 0"))
    #expect(try box.git("status", "--porcelain", "f0.txt") == "MM f0.txt")
  }
}
