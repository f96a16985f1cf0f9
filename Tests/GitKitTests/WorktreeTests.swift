import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("Worktrees")
struct WorktreeTests {
  @Test("add, list and prune a worktree on an existing branch")
  func addListPrune() throws {
    try withTemporaryRepository { repo in
      try repo.write("file.txt", "x\n")
      let head = try #require(OID(hex: try repo.commitAll("one")))
      try repo.rawGit(["branch", "orchestrate/demo/01-models"])
      let repository = try Repository(path: repo.path)
      let path = repo.root.appendingPathComponent("wt-models").path
      #expect(try repository.worktrees().isEmpty)

      try repository.addWorktree(name: "models", path: path, branch: "refs/heads/orchestrate/demo/01-models")
      #expect(try repository.worktrees() == [WorktreeInfo(name: "models", path: path, isValid: true, isLocked: false)])
      #expect(repo.read("file.txt", in: URL(fileURLWithPath: path)) == "x\n")
      let linked = try Repository(path: path)
      #expect(try linked.head() == .branch(name: "refs/heads/orchestrate/demo/01-models", oid: head))
      #expect(try repo.rawGit(["worktree", "list", "--porcelain"]).contains("worktree \(path)\n"))
      #expect(try repo.rawGit(["status", "--porcelain"], in: URL(fileURLWithPath: path)).isEmpty)

      try repository.pruneWorktree(name: "models")
      #expect(try repository.worktrees().isEmpty)
      #expect(FileManager.default.fileExists(atPath: path + "/file.txt"))  // files are kept
      #expect(!FileManager.default.fileExists(atPath: repo.path + "/.git/worktrees/models"))
    }
  }

  @Test("adding a worktree where the path or name exists is a clear GitError")
  func addExisting() throws {
    try withTemporaryRepository { repo in
      try repo.commitAll("one")
      try repo.rawGit(["branch", "b1"])
      try repo.rawGit(["branch", "b2"])
      let repository = try Repository(path: repo.path)
      let existing = repo.root.appendingPathComponent("occupied")
      try FileManager.default.createDirectory(at: existing, withIntermediateDirectories: true)
      let error = try #require(
        #expect(throws: GitError.self) {
          try repository.addWorktree(name: "w", path: existing.path, branch: "refs/heads/b1")
        })
      #expect(error.isExists)
      #expect(error.message.contains("already exists"))
      #expect(error.message.contains(existing.path))
      #expect(try repository.worktrees().isEmpty)

      let first = repo.root.appendingPathComponent("first").path
      try repository.addWorktree(name: "w", path: first, branch: "refs/heads/b1")
      let second = repo.root.appendingPathComponent("second").path
      let nameTaken = try #require(
        #expect(throws: GitError.self) {
          try repository.addWorktree(name: "w", path: second, branch: "refs/heads/b2")
        })
      #expect(nameTaken.isExists)
      #expect(nameTaken.message.contains("already registered"))
    }
  }
}
