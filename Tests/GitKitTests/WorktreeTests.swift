import Foundation
import Testing

@testable import GitKit

@Suite("Worktrees")
struct WorktreeTests {
  @Test("add, list and prune a worktree on an existing branch")
  func addListPrune() throws {
    try withTemporaryRepository { root in
      try write("x\n", to: "file.txt", in: root)
      let head = try #require(OID(hex: try commitAll("one", in: root)))
      try git(["branch", "orchestrate/demo/01-models"], in: root)
      let repository = try Repository(path: root.path)
      let path = root.deletingLastPathComponent().appendingPathComponent("wt-models").path
      #expect(try repository.worktrees().isEmpty)

      try repository.addWorktree(name: "models", path: path, branch: "refs/heads/orchestrate/demo/01-models")
      #expect(try repository.worktrees() == [WorktreeInfo(name: "models", path: path, isValid: true, isLocked: false)])
      #expect(try read("file.txt", in: URL(fileURLWithPath: path)) == "x\n")
      let linked = try Repository(path: path)
      #expect(try linked.head() == .branch(name: "refs/heads/orchestrate/demo/01-models", oid: head))
      #expect(try git(["worktree", "list", "--porcelain"], in: root).contains("worktree \(path)\n"))
      #expect(try git(["status", "--porcelain"], in: URL(fileURLWithPath: path)).isEmpty)

      try repository.pruneWorktree(name: "models")
      #expect(try repository.worktrees().isEmpty)
      #expect(FileManager.default.fileExists(atPath: path + "/file.txt"))  // files are kept
      #expect(!FileManager.default.fileExists(atPath: root.path + "/.git/worktrees/models"))
    }
  }

  @Test("adding a worktree where the path or name exists is a clear GitError")
  func addExisting() throws {
    try withTemporaryRepository { root in
      try commitAll("one", in: root)
      try git(["branch", "b1"], in: root)
      try git(["branch", "b2"], in: root)
      let repository = try Repository(path: root.path)
      let existing = root.deletingLastPathComponent().appendingPathComponent("occupied")
      try FileManager.default.createDirectory(at: existing, withIntermediateDirectories: true)
      let error = try #require(
        #expect(throws: GitError.self) {
          try repository.addWorktree(name: "w", path: existing.path, branch: "refs/heads/b1")
        })
      #expect(error.isExists)
      #expect(error.message.contains("already exists"))
      #expect(error.message.contains(existing.path))
      #expect(try repository.worktrees().isEmpty)

      let first = root.deletingLastPathComponent().appendingPathComponent("first").path
      try repository.addWorktree(name: "w", path: first, branch: "refs/heads/b1")
      let second = root.deletingLastPathComponent().appendingPathComponent("second").path
      let nameTaken = try #require(
        #expect(throws: GitError.self) {
          try repository.addWorktree(name: "w", path: second, branch: "refs/heads/b2")
        })
      #expect(nameTaken.isExists)
      #expect(nameTaken.message.contains("already registered"))
    }
  }
}
