import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("Diff, merge and history")
struct DiffMergeTests {
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
