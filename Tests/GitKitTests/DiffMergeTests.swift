import Foundation
import Testing

@testable import GitKit

@Suite("Diff, merge and history")
struct DiffMergeTests {
  @Test("diffTrees lists added, modified, deleted and type-changed paths, sorted")
  func diffTrees() throws {
    try withTemporaryRepository { root in
      try write("keep\n", to: "keep.txt", in: root)
      try write("old\n", to: "dir/change.txt", in: root)
      try write("gone\n", to: "gone.txt", in: root)
      try write("target\n", to: "link", in: root)
      try write("script\n", to: "run.sh", in: root)
      let before = try #require(OID(hex: try commitAll("before", in: root)))
      try write("new\n", to: "dir/change.txt", in: root)
      try FileManager.default.removeItem(at: root.appendingPathComponent("gone.txt"))
      try FileManager.default.removeItem(at: root.appendingPathComponent("link"))
      try FileManager.default.createSymbolicLink(
        atPath: root.appendingPathComponent("link").path, withDestinationPath: "keep.txt")
      try write("added\n", to: "a/added.txt", in: root)
      try FileManager.default.setAttributes(
        [.posixPermissions: 0o755], ofItemAtPath: root.appendingPathComponent("run.sh").path)
      let after = try #require(OID(hex: try commitAll("after", in: root)))
      let repository = try Repository(path: root.path)
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

      let gitNames = try git(["diff", "--name-status", "--no-renames", before.hex, after.hex], in: root)
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
    try withTemporaryRepository { root in
      try write("a\nb\nc\n", to: "shared.txt", in: root)
      try write("x\n", to: "other.txt", in: root)
      let base = try #require(OID(hex: try commitAll("base", in: root)))
      try git(["checkout", "-q", "-b", "theirs"], in: root)
      try write("a\nb\nc\nd\n", to: "shared.txt", in: root)
      let theirs = try #require(OID(hex: try commitAll("theirs", in: root)))
      try git(["checkout", "-q", "main"], in: root)
      try write("y\n", to: "other.txt", in: root)
      let ours = try #require(OID(hex: try commitAll("ours", in: root)))
      try git(["checkout", "-q", "-b", "clash", base.hex], in: root)
      try write("a\nB\nc\nD\n", to: "shared.txt", in: root)
      let clash = try #require(OID(hex: try commitAll("clash", in: root)))

      let repository = try Repository(path: root.path)
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
      try git(["checkout", "-q", "main"], in: root)
      try git(["merge", "-q", "--no-edit", "theirs"], in: root)
      #expect(merged.hex == (try git(["rev-parse", "HEAD^{tree}"], in: root).trimmed))

      let conflicting = try repository.mergeTrees(
        ancestor: baseTree, ours: try repository.commit(theirs).tree, theirs: try repository.commit(clash).tree)
      #expect(conflicting == .conflicts(["shared.txt"]))
    }
  }

  @Test("walkFirstParents follows first parents newest first and stops before stop")
  func walkFirstParents() throws {
    try withTemporaryRepository { root in
      let one = try #require(OID(hex: try commitAll("one", in: root)))
      let two = try #require(OID(hex: try commitAll("two", in: root)))
      try git(["checkout", "-q", "-b", "side"], in: root)
      let side = try #require(OID(hex: try commitAll("side", in: root)))
      try git(["checkout", "-q", "main"], in: root)
      let three = try #require(OID(hex: try commitAll("three", in: root)))
      try git(["merge", "-q", "--no-ff", "-m", "merge side", "side"], in: root)
      let merge = try #require(OID(hex: try git(["rev-parse", "HEAD"], in: root).trimmed))
      let repository = try Repository(path: root.path)

      var seen: [OID] = []
      try repository.walkFirstParents(from: merge, stop: nil) {
        seen.append($0.oid)
        return true
      }
      #expect(seen == [merge, three, two, one])
      #expect(!seen.contains(side))
      let gitOrder = try git(["rev-list", "--first-parent", merge.hex], in: root).split(separator: "\n").map(
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
    try withTemporaryRepository { root in
      for number in 1...4 { try commitAll("commit \(number)", in: root) }
      let clone = root.deletingLastPathComponent().appendingPathComponent("shallow")
      try git(["clone", "-q", "--depth", "2", "file://\(root.path)", clone.path], in: root)
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
