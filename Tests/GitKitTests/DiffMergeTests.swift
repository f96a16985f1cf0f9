import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("Diff, merge and history")
struct DiffMergeTests {
  @Test("diffTrees against git diff-tree over random changes: names sorting around \"/\", files becoming folders and back")
  func diffTreesAgainstGit() throws {
    try withTemporaryRepository { repo in
      let names = ["a", "a-b", "a.b", "a0", "b", "a/b", "a/b-c", "a/b.c", "a/b/c", "x/y/z", "x/y-z", "x/y"]
      var state: UInt64 = 7
      func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
      }
      var commits: [String] = []
      for round in 0..<24 {
        // Each round: a random set of the names as files, a name kept only when no other chosen name
        // is below it (git has no file that is also a folder).
        let chosen = names.filter { _ in next(2) == 0 }
        let files = chosen.filter { name in !chosen.contains { $0.hasPrefix(name + "/") } }
        _ = try repo.git("rm", "-rq", "--ignore-unmatch", ".")
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: repo.path)) ?? [] where entry != ".git" {
          try FileManager.default.removeItem(at: repo.url.appendingPathComponent(entry))
        }
        for file in files { try repo.write(file, "\(file) \(next(3))\n", executable: next(5) == 0) }
        try repo.write("keep", "round \(round % 2)\n")
        commits.append(try repo.commitAll("round \(round)"))
      }
      let repository = try Repository(path: repo.path)
      for (old, new) in zip(commits, commits.dropFirst()) {
        let ours = try repository.diffTrees(try #require(OID(hex: old)), try #require(OID(hex: new))).map { entry -> String in
          let letter = [DiffEntry.Status.added: "A", .deleted: "D", .modified: "M", .typeChanged: "T"][entry.status]!
          return "\(letter) \(entry.path)"
        }
        let theirs = try repo.git("diff-tree", "-r", "--no-renames", "--name-status", old, new)
          .split(separator: "\n").map { $0.replacingOccurrences(of: "\t", with: " ") }
        #expect(ours == theirs, "\(old)..\(new)")
      }
    }
  }

  @Test("diffTrees lists added, modified, deleted and type-changed paths, sorted")
  func diffTrees() throws {
    try withTemporaryRepository { repo in
      try repo.write("keep.txt", "keep\n")
      try repo.write("dir/change.txt", "old\n")
      try repo.write("gone.txt", "gone\n")
      try repo.write("link", "target\n")
      try repo.write("run.sh", "script\n")
      let before = try #require(OID(hex: try repo.commitAll("before")))
      try repo.write("dir/change.txt", "new\n")
      try FileManager.default.removeItem(at: repo.url.appendingPathComponent("gone.txt"))
      try FileManager.default.removeItem(at: repo.url.appendingPathComponent("link"))
      try FileManager.default.createSymbolicLink(
        atPath: repo.url.appendingPathComponent("link").path, withDestinationPath: "keep.txt")
      try repo.write("a/added.txt", "added\n")
      try FileManager.default.setAttributes(
        [.posixPermissions: 0o755], ofItemAtPath: repo.url.appendingPathComponent("run.sh").path)
      let after = try #require(OID(hex: try repo.commitAll("after")))
      let repository = try Repository(path: repo.path)
      let old = try repository.commit(before).tree
      let new = try repository.commit(after).tree

      let entries = try repository.diffTrees(old, new)
      try #require(entries.count == 5)
      #expect(entries.map(\.path) == ["a/added.txt", "dir/change.txt", "gone.txt", "link", "run.sh"])
      #expect(entries.map(\.status) == [.added, .modified, .deleted, .typeChanged, .modified])
      #expect(entries[0].oldOID == nil && entries[0].newOID == OID.hashBlob(Data("added\n".utf8)))
      #expect(entries[0].oldMode == nil && entries[0].newMode == .blob)
      #expect(entries[2].newOID == nil && entries[2].oldOID == OID.hashBlob(Data("gone\n".utf8)))
      #expect(entries[3].oldMode == .blob && entries[3].newMode == .symlink)
      #expect(entries[4].oldMode == .blob && entries[4].newMode == .executable)

      let gitNames = try repo.rawGit(["diff", "--name-status", "--no-renames", before.hex, after.hex])
      #expect(gitNames.split(separator: "\n").map { String($0.split(separator: "\t")[1]) } == entries.map(\.path))

      let fromEmpty = try repository.diffTrees(nil, old)
      #expect(fromEmpty.allSatisfy { $0.status == .added })
      #expect(fromEmpty.count == 5)
      #expect(try repository.diffTrees(new, nil).allSatisfy { $0.status == .deleted })
      #expect(try repository.diffTrees(new, new).isEmpty)

      let stat = try repository.diffStat(old, new)
      #expect(stat.contains("files changed"))
      #expect(stat.contains("dir/change.txt"))
      let patch = try repository.patch(old, new)
      #expect(patch.contains("diff --git a/dir/change.txt b/dir/change.txt"))
      #expect(patch.contains("-old\n+new\n"))
      #expect(patch.contains("+added\n"))
    }
  }

  @Test("mergeTrees merges disjoint changes and reports conflicting paths")
  func mergeTrees() throws {
    try withTemporaryRepository { repo in
      try repo.write("shared.txt", "a\nb\nc\n")
      try repo.write("other.txt", "x\n")
      let base = try #require(OID(hex: try repo.commitAll("base")))
      try repo.rawGit(["checkout", "-q", "-b", "theirs"])
      try repo.write("shared.txt", "a\nb\nc\nd\n")
      let theirs = try #require(OID(hex: try repo.commitAll("theirs")))
      try repo.rawGit(["checkout", "-q", "main"])
      try repo.write("other.txt", "y\n")
      let ours = try #require(OID(hex: try repo.commitAll("ours")))
      try repo.rawGit(["checkout", "-q", "-b", "clash", base.hex])
      try repo.write("shared.txt", "a\nB\nc\nD\n")
      let clash = try #require(OID(hex: try repo.commitAll("clash")))

      let repository = try Repository(path: repo.path)
      #expect(try repository.mergeBase(ours, theirs) == base)
      #expect(try repository.isAncestor(base, of: ours))
      #expect(try repository.isAncestor(ours, of: ours))
      #expect(try !repository.isAncestor(theirs, of: ours))

      let baseTree = try repository.commit(base).tree
      let result = try repository.mergeTrees(
        ancestor: baseTree, ours: try repository.commit(ours).tree, theirs: try repository.commit(theirs).tree)
      guard case .clean(let merged) = result else {
        Issue.record("expected a clean merge, got \(result)")
        return
      }
      #expect(
        try repository.blob(try #require(try repository.treeEntry(in: merged, path: "shared.txt")).oid)
          == Data("a\nb\nc\nd\n".utf8))
      #expect(
        try repository.blob(try #require(try repository.treeEntry(in: merged, path: "other.txt")).oid)
          == Data("y\n".utf8))
      try repo.rawGit(["checkout", "-q", "main"])
      try repo.rawGit(["merge", "-q", "--no-edit", "theirs"])
      #expect(merged.hex == (try repo.rawGit(["rev-parse", "HEAD^{tree}"]).trimmed))

      let conflicting = try repository.mergeTrees(
        ancestor: baseTree, ours: try repository.commit(theirs).tree, theirs: try repository.commit(clash).tree)
      #expect(conflicting == .conflicts(["shared.txt"]))
    }
  }

  @Test("mergeTrees gives git's merge for changes on disjoint paths, and leaves shared paths to the full merge")
  func mergeTreesDisjointShapes() throws {
    try withTemporaryRepository { repo in
      for index in 0..<6 { try repo.write("d\(index % 3)/sub/f\(index).txt", "\(index)\n") }
      try repo.write("top.txt", "top\n")
      try repo.write("lonely/only.txt", "alone\n")
      try repo.write("becomes-folder", "file\n")
      try repo.write("tool.sh", "echo\n")
      try repo.write("same.txt", "s\n")
      let base = try repo.commitAll("base")
      // One side: edits deep in one folder, removes a folder's only file, turns a file into a folder,
      // makes a script executable, adds the same file as the other side.
      try repo.rawGit(["checkout", "-q", "-b", "left"])
      try repo.write("d0/sub/f0.txt", "zero\n")
      try repo.rawGit(["rm", "-q", "lonely/only.txt", "becomes-folder"])
      try repo.write("becomes-folder/inside.txt", "now a folder\n")
      try repo.write("tool.sh", "echo\n", executable: true)
      try repo.write("both-add.txt", "same\n")
      let left = try repo.commitAll("left")
      // The other: edits in other folders, adds a new nested folder, a symbolic link.
      try repo.rawGit(["checkout", "-q", "-b", "right", base])
      try repo.write("d1/sub/f1.txt", "one\n")
      try repo.write("d2/sub/f5.txt", "five\n")
      try repo.write("new/deep/er/file.txt", "new\n")
      try repo.rawGit(["rm", "-q", "top.txt"])
      let right = try repo.commitAll("right")
      try repo.rawGit(["checkout", "-q", "-b", "right-both", base])
      try repo.write("both-add.txt", "same\n")
      try repo.write("d1/sub/f1.txt", "one\n")
      let rightBoth = try repo.commitAll("right and the same file as left")
      try repo.rawGit(["checkout", "-q", "-b", "into-folder", base])
      try repo.rawGit(["rm", "-q", "lonely/only.txt"])
      try repo.write("lonely/only.txt/x", "a file where left removed one\n")
      let intoFolder = try repo.commitAll("a folder where a file was")

      let repository = try Repository(path: repo.path)
      let tree = { (commit: String) in try repository.commit(try #require(OID(hex: commit))).tree }
      for (ours, theirs) in [
        (left, right), (right, left), (left, rightBoth), (rightBoth, left), (left, left), (base, left),
      ] {
        let result = try repository.mergeTrees(ancestor: try tree(base), ours: try tree(ours), theirs: try tree(theirs))
        let expected = try repo.rawGit(["merge-tree", "--write-tree", ours, theirs]).trimmed
        #expect(result == .clean(tree: try #require(OID(hex: expected))), "merging \(ours) and \(theirs)")
      }
      // A path one side removed that the other made a folder of: not disjoint, and git's merge decides.
      let clash = try repository.mergeTrees(
        ancestor: try tree(base), ours: try tree(left), theirs: try tree(intoFolder))
      let gitSays = repo.run("/usr/bin/env", ["git", "merge-tree", "--write-tree", left, intoFolder])
      if gitSays.status == 0 {
        #expect(clash == .clean(tree: try #require(OID(hex: gitSays.stdout.trimmed))))
      } else {
        guard case .conflicts = clash else {
          Issue.record("git's merge conflicts, ours gave \(clash)")
          return
        }
      }
    }
  }

  @Test("walkFirstParents follows first parents newest first and stops before stop")
  func walkFirstParents() throws {
    try withTemporaryRepository { repo in
      let one = try #require(OID(hex: try repo.commitAll("one")))
      let two = try #require(OID(hex: try repo.commitAll("two")))
      try repo.rawGit(["checkout", "-q", "-b", "side"])
      let side = try #require(OID(hex: try repo.commitAll("side")))
      try repo.rawGit(["checkout", "-q", "main"])
      let three = try #require(OID(hex: try repo.commitAll("three")))
      try repo.rawGit(["merge", "-q", "--no-ff", "-m", "merge side", "side"])
      let merge = try #require(OID(hex: try repo.rawGit(["rev-parse", "HEAD"]).trimmed))
      let repository = try Repository(path: repo.path)

      var seen: [OID] = []
      try repository.walkFirstParents(from: merge, stop: nil) {
        seen.append($0.oid)
        return true
      }
      #expect(seen == [merge, three, two, one])
      #expect(!seen.contains(side))
      let gitOrder = try repo.rawGit(["rev-list", "--first-parent", merge.hex]).split(separator: "\n").map(
        String.init)
      #expect(seen.map(\.hex) == gitOrder)

      seen = []
      try repository.walkFirstParents(from: merge, stop: two) {
        seen.append($0.oid)
        return true
      }
      #expect(seen == [merge, three])

      seen = []
      try repository.walkFirstParents(from: merge, stop: nil) {
        seen.append($0.oid)
        return seen.count < 2
      }
      #expect(seen == [merge, three])

      seen = []
      try repository.walkFirstParents(from: merge, stop: merge) {
        seen.append($0.oid)
        return true
      }
      #expect(seen.isEmpty)
    }
  }
}

@Suite("Shallow history")
struct ShallowHistoryTests {
  @Test("walkFirstParents ends at the boundary of a shallow clone")
  func shallowWalk() throws {
    try withTemporaryRepository { repo in
      for number in 1...4 { try repo.commitAll("commit \(number)") }
      let clone = repo.root.appendingPathComponent("shallow")
      try repo.rawGit(["clone", "-q", "--depth", "2", "file://\(repo.path)", clone.path])
      let repository = try Repository(path: clone.path)
      #expect(repository.isShallow)
      var summaries: [String] = []
      try repository.walkFirstParents(from: try repository.revparse("HEAD"), stop: nil) {
        summaries.append($0.summary)
        return true
      }
      #expect(summaries == ["commit 4", "commit 3"])
    }
  }
}
