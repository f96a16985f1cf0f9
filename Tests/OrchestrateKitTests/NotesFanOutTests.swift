import Foundation
import GitKit
import TestSupport
import Testing

@testable import OrchestrateKit

/// Checkpoint records past a few hundred trees are kept in git's fan-out layout (`ab/cdef…`), so a
/// long run does not read and rewrite one flat tree of every record at each flush; git, libgit2 and
/// verify's `NotesIndex` read them wherever they are.
@Suite("checkpoint notes fan-out")
struct NotesFanOutTests {
  static func record(_ i: Int) -> CheckpointRecord {
    CheckpointRecord(
      plan: "p", subtask: "s\(i)", commandsHash: "h", status: "passed", exitCode: 0, failingCommand: nil,
      durationSeconds: 0.1, toolVersion: Version.current, recordedAt: "2026-01-01T00:00:00Z")
  }

  @Test("flat below the threshold, fanned out once past it, every record still found, appended records kept")
  func fansOut() throws {
    let box = try TemporaryRepository()
    let repository = try Repository(path: box.url.path)
    let cache = CheckpointCache(repository: repository)
    let trees = (0..<300).map { i in try! repository.writeTree(files: ["f": Data("\(i)\n".utf8)]) }
    try cache.record(trees.prefix(200).enumerated().map { ($0.element, Self.record($0.offset)) })
    let flat = try box.git("ls-tree", "--name-only", "refs/notes/orchestrate").split(separator: "\n")
    #expect(flat.count == 200 && flat.allSatisfy { $0.count == 40 })
    for (i, tree) in trees.enumerated().dropFirst(200) { try cache.record(Self.record(i), tree: tree) }
    let root = try box.git("ls-tree", "refs/notes/orchestrate").split(separator: "\n")
    #expect(root.allSatisfy { $0.contains(" tree ") }, "\(root.prefix(3))")
    // Another record on a tree that has one: appended, not replacing.
    try cache.record(Self.record(1000), tree: trees[0])
    #expect(try cache.records(for: trees[0]).map(\.subtask) == ["s0", "s1000"])
    #expect(try box.git("notes", "--ref=orchestrate", "show", trees[299].hex).contains("\"s299\""))
    let index = try NotesIndex(repository: repository)
    for (i, tree) in trees.enumerated() {
      #expect(try index.records(on: tree).first?.subtask == "s\(i)")
    }
  }
}
