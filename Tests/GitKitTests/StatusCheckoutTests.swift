import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("Status and checkout")
struct StatusCheckoutTests {
  @Test("status reports staged, unstaged, deleted and untracked paths")
  func status() throws {
    try withTemporaryRepository { repo in
      try repo.write(".gitignore", "ignored/\n")
      try repo.write("modified.txt", "1\n")
      try repo.write("staged.txt", "1\n")
      try repo.write("deleted.txt", "1\n")
      try repo.commitAll("base")
      try repo.write("modified.txt", "2\n")
      try repo.write("staged.txt", "2\n")
      try repo.rawGit(["add", "staged.txt"])
      try FileManager.default.removeItem(at: repo.url.appendingPathComponent("deleted.txt"))
      try repo.write("dir/untracked.txt", "new\n")
      try repo.write("ignored/x", "x\n")
      let repository = try Repository(path: repo.path)

      #expect(
        try repository.status(includeUntracked: true) == [
          StatusEntry(
            path: "deleted.txt", indexChanged: false, workdirChanged: true, isUntracked: false, isConflicted: false),
          StatusEntry(
            path: "dir/untracked.txt", indexChanged: false, workdirChanged: false, isUntracked: true,
            isConflicted: false),
          StatusEntry(
            path: "modified.txt", indexChanged: false, workdirChanged: true, isUntracked: false, isConflicted: false),
          StatusEntry(
            path: "staged.txt", indexChanged: true, workdirChanged: false, isUntracked: false, isConflicted: false),
        ])
      #expect(
        try repository.status(includeUntracked: false).map(\.path) == ["deleted.txt", "modified.txt", "staged.txt"])
    }
  }

  @Test("status marks conflicted paths")
  func conflicted() throws {
    try withTemporaryRepository { repo in
      try repo.write("f.txt", "base\n")
      try repo.commitAll("base")
      try repo.rawGit(["checkout", "-q", "-b", "other"])
      try repo.write("f.txt", "other\n")
      try repo.commitAll("other")
      try repo.rawGit(["checkout", "-q", "main"])
      try repo.write("f.txt", "main\n")
      try repo.commitAll("main")
      #expect(throws: TestCommandError.self) { try repo.rawGit(["merge", "-q", "other"]) }
      let repository = try Repository(path: repo.path)
      #expect(try repository.status(includeUntracked: true).map(\.isConflicted) == [true])
      #expect(try repository.index().hasConflicts)
    }
  }

  @Test("checkout moves files to the tree, updates the index, and SAFE refuses to overwrite a local change")
  func checkout() throws {
    try withTemporaryRepository { repo in
      try repo.write("changes.txt", "one\n")
      try repo.write("same.txt", "same\n")
      try repo.write("dir/first.txt", "only in first\n")
      let first = try #require(OID(hex: try repo.commitAll("first")))
      try repo.write("changes.txt", "two\n")
      try FileManager.default.removeItem(at: repo.url.appendingPathComponent("dir"))
      try repo.write("second.txt", "only in second\n")
      let second = try #require(OID(hex: try repo.commitAll("second")))
      let repository = try Repository(path: repo.path)
      let firstTree = try repository.commit(first).tree
      let secondTree = try repository.commit(second).tree

      try repository.checkout(tree: firstTree, baseline: secondTree, force: false)
      #expect(repo.read("changes.txt") == "one\n")
      #expect(repo.read("dir/first.txt") == "only in first\n")
      #expect(!FileManager.default.fileExists(atPath: repo.url.appendingPathComponent("second.txt").path))
      #expect(try repo.rawGit(["write-tree"]).trimmed == firstTree.hex)
      try repository.setHeadDetached(first)
      #expect(try repo.rawGit(["status", "--porcelain"]).isEmpty)

      // A local change to a file the checkout must rewrite: SAFE refuses, naming it, and touches nothing.
      try repo.write("changes.txt", "local edit\n")
      let error = try #require(
        #expect(throws: GitError.self) {
          try repository.checkout(tree: secondTree, baseline: firstTree, force: false)
        })
      #expect(error.isConflict)
      #expect(error.message.contains("changes.txt"))
      #expect(repo.read("changes.txt") == "local edit\n")
      #expect(FileManager.default.fileExists(atPath: repo.url.appendingPathComponent("dir/first.txt").path))

      // A local change to a file both trees agree on survives a SAFE checkout.
      try repo.write("changes.txt", "one\n")
      try repo.write("same.txt", "kept edit\n")
      try repository.checkout(tree: secondTree, baseline: firstTree, force: false)
      #expect(repo.read("changes.txt") == "two\n")
      #expect(repo.read("same.txt") == "kept edit\n")

      // force overwrites local changes.
      try repo.write("changes.txt", "local again\n")
      try repository.checkout(tree: firstTree, baseline: secondTree, force: true)
      #expect(repo.read("changes.txt") == "one\n")
      #expect(try repo.rawGit(["write-tree"]).trimmed == firstTree.hex)
    }
  }
}
