import Foundation
import Testing

@testable import GitKit

@Suite("Status and checkout")
struct StatusCheckoutTests {
  @Test("status reports staged, unstaged, deleted and untracked paths")
  func status() throws {
    try withTemporaryRepository { root in
      try write("ignored/\n", to: ".gitignore", in: root)
      try write("1\n", to: "modified.txt", in: root)
      try write("1\n", to: "staged.txt", in: root)
      try write("1\n", to: "deleted.txt", in: root)
      try commitAll("base", in: root)
      try write("2\n", to: "modified.txt", in: root)
      try write("2\n", to: "staged.txt", in: root)
      try git(["add", "staged.txt"], in: root)
      try FileManager.default.removeItem(at: root.appendingPathComponent("deleted.txt"))
      try write("new\n", to: "dir/untracked.txt", in: root)
      try write("x\n", to: "ignored/x", in: root)
      let repository = try Repository(path: root.path)

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
    try withTemporaryRepository { root in
      try write("base\n", to: "f.txt", in: root)
      try commitAll("base", in: root)
      try git(["checkout", "-q", "-b", "other"], in: root)
      try write("other\n", to: "f.txt", in: root)
      try commitAll("other", in: root)
      try git(["checkout", "-q", "main"], in: root)
      try write("main\n", to: "f.txt", in: root)
      try commitAll("main", in: root)
      #expect(throws: GitCommandError.self) { try git(["merge", "-q", "other"], in: root) }
      let repository = try Repository(path: root.path)
      #expect(try repository.status(includeUntracked: true).map(\.isConflicted) == [true])
      #expect(try repository.index().hasConflicts)
    }
  }

  @Test("checkout moves files to the tree, updates the index, and SAFE refuses to overwrite a local change")
  func checkout() throws {
    try withTemporaryRepository { root in
      try write("one\n", to: "changes.txt", in: root)
      try write("same\n", to: "same.txt", in: root)
      try write("only in first\n", to: "dir/first.txt", in: root)
      let first = try #require(OID(hex: try commitAll("first", in: root)))
      try write("two\n", to: "changes.txt", in: root)
      try FileManager.default.removeItem(at: root.appendingPathComponent("dir"))
      try write("only in second\n", to: "second.txt", in: root)
      let second = try #require(OID(hex: try commitAll("second", in: root)))
      let repository = try Repository(path: root.path)
      let firstTree = try repository.commit(first).tree
      let secondTree = try repository.commit(second).tree

      try repository.checkout(tree: firstTree, baseline: secondTree, force: false)
      #expect(try read("changes.txt", in: root) == "one\n")
      #expect(try read("dir/first.txt", in: root) == "only in first\n")
      #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("second.txt").path))
      #expect(try git(["write-tree"], in: root).trimmed == firstTree.hex)
      try repository.setHeadDetached(first)
      #expect(try git(["status", "--porcelain"], in: root).isEmpty)

      // A local change to a file the checkout must rewrite: SAFE refuses, naming it, and touches nothing.
      try write("local edit\n", to: "changes.txt", in: root)
      let error = try #require(
        #expect(throws: GitError.self) {
          try repository.checkout(tree: secondTree, baseline: firstTree, force: false)
        })
      #expect(error.isConflict)
      #expect(error.message.contains("changes.txt"))
      #expect(try read("changes.txt", in: root) == "local edit\n")
      #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("dir/first.txt").path))

      // A local change to a file both trees agree on survives a SAFE checkout.
      try write("one\n", to: "changes.txt", in: root)
      try write("kept edit\n", to: "same.txt", in: root)
      try repository.checkout(tree: secondTree, baseline: firstTree, force: false)
      #expect(try read("changes.txt", in: root) == "two\n")
      #expect(try read("same.txt", in: root) == "kept edit\n")

      // force overwrites local changes.
      try write("local again\n", to: "changes.txt", in: root)
      try repository.checkout(tree: firstTree, baseline: secondTree, force: true)
      #expect(try read("changes.txt", in: root) == "one\n")
      #expect(try git(["write-tree"], in: root).trimmed == firstTree.hex)
    }
  }
}
