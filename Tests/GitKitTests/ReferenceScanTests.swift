import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("Reference scan")
struct ReferenceScanTests {
  /// Refs under `refs/orchestrate/` and beside it, some packed, some loose, one in both.
  func mixedRefs(_ repo: TemporaryRepository) throws -> (Repository, OID, OID) {
    let first = try #require(OID(hex: try repo.commitAll("one")))
    let second = try #require(OID(hex: try repo.commitAll("two")))
    for name in ["refs/orchestrate/plans/a", "refs/orchestrate/attempts/a/01-x", "refs/heads/orchestrate/a/01-x",
      "refs/orchestrate/checkout-sync", "refs/orchestrate-other/y"] {
      try repo.rawGit(["update-ref", name, first.hex])
    }
    try repo.rawGit(["pack-refs", "--all", "--prune"])
    // Loose after packing: one new, one that shadows its packed value.
    try repo.rawGit(["update-ref", "refs/orchestrate/attempts/a/02-y", second.hex])
    try repo.rawGit(["update-ref", "refs/orchestrate/plans/a", second.hex])
    return (try Repository(path: repo.path), first, second)
  }

  @Test("packed and loose refs under a prefix, a loose one over its packed value, as libgit2 lists them")
  func sameAsLibgit2() throws {
    try withTemporaryRepository { repo in
      let (repository, first, second) = try mixedRefs(repo)
      for prefix in ["refs/orchestrate/", "refs/orchestrate/attempts/a/", "refs/heads/orchestrate/a/", "refs/orchestrate/p",
        "refs/orchestrate/none/", "refs/notes/"] {
        let scanned = try #require(repository.scanReferences(withPrefix: prefix), "\(prefix)")
        #expect(scanned == (try repository.iteratedReferences(withPrefix: prefix)), "\(prefix)")
      }
      let all = try #require(repository.scanReferences(withPrefix: "refs/orchestrate/"))
      #expect(all.map(\.name) == [
        "refs/orchestrate/attempts/a/01-x", "refs/orchestrate/attempts/a/02-y", "refs/orchestrate/checkout-sync",
        "refs/orchestrate/plans/a",
      ])
      #expect(all.first { $0.name == "refs/orchestrate/plans/a" }?.target == second)
      #expect(all.first { $0.name == "refs/orchestrate/checkout-sync" }?.target == first)
    }
  }

  @Test("a ref written, deleted or packed after a listing shows in the next")
  func followsChanges() throws {
    try withTemporaryRepository { repo in
      let (repository, first, _) = try mixedRefs(repo)
      #expect(try repository.references(withPrefix: "refs/orchestrate/").count == 4)
      try repository.setReference("refs/orchestrate/new", to: first, message: "new")
      try repository.deleteReference("refs/orchestrate/checkout-sync")
      #expect(try repository.references(withPrefix: "refs/orchestrate/").map(\.name).contains("refs/orchestrate/new"))
      #expect(!(try repository.references(withPrefix: "refs/orchestrate/").map(\.name).contains("refs/orchestrate/checkout-sync")))
      try repo.rawGit(["pack-refs", "--all", "--prune"])
      #expect(try repository.references(withPrefix: "refs/orchestrate/") == (try repository.iteratedReferences(withPrefix: "refs/orchestrate/")))
    }
  }

  @Test("a lock file is not a ref; a symbolic ref or a file that is not an id leaves it to libgit2")
  func unsureCases() throws {
    try withTemporaryRepository { repo in
      let (repository, first, _) = try mixedRefs(repo)
      let folder = URL(fileURLWithPath: repository.commonDirectory).appendingPathComponent("refs/orchestrate")
      try Data((first.hex + "\n").utf8).write(to: folder.appendingPathComponent("plans/b.lock"))
      #expect(repository.scanReferences(withPrefix: "refs/orchestrate/")?.map(\.name).contains("refs/orchestrate/plans/b.lock") == false)
      try repo.rawGit(["symbolic-ref", "refs/orchestrate/link", "refs/orchestrate/plans/a"])
      #expect(repository.scanReferences(withPrefix: "refs/orchestrate/") == nil)
      #expect(try repository.references(withPrefix: "refs/orchestrate/").map(\.name).contains("refs/orchestrate/link"))
      try FileManager.default.removeItem(at: folder.appendingPathComponent("link"))
      try Data("not an id\n".utf8).write(to: folder.appendingPathComponent("junk"))
      #expect(repository.scanReferences(withPrefix: "refs/orchestrate/") == nil)
      #expect(repository.scanReferences(withPrefix: "refs/") == nil)
    }
  }

  @Test("packed-refs in any order, with peeled lines, is read sorted")
  func packedFile() throws {
    let a = String(repeating: "a", count: 40)
    let b = String(repeating: "b", count: 40)
    let text = "# pack-refs with: peeled fully-peeled\n\(b) refs/tags/z\n^\(a)\n\(a) refs/heads/m\n"
    let packed = try #require(PackedReferences.parse(Data(text.utf8), stamp: nil))
    let entries = try #require(packed.references(withPrefix: "refs/"))
    #expect(entries.map(\.name) == ["refs/heads/m", "refs/tags/z"])
    #expect(entries.map(\.target.hex) == [a, b])
    #expect(packed.references(withPrefix: "refs/tags/")?.map(\.name) == ["refs/tags/z"])
    #expect(packed.references(withPrefix: "refs/heads/n")?.isEmpty == true)
    #expect(PackedReferences.parse(Data("garbage\n".utf8), stamp: nil) == nil)
    let badID = String(repeating: "x", count: 40) + " refs/heads/q\n"
    #expect(PackedReferences.parse(Data(badID.utf8), stamp: nil)?.references(withPrefix: "refs/") == nil)
  }
}
