import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("References")
struct ReferenceTests {
  @Test("compare-and-swap moves the ref when expected matches")
  func casSuccess() throws {
    try withTemporaryRepository { repo in
      let first = try #require(OID(hex: try repo.commitAll("one")))
      let second = try #require(OID(hex: try repo.commitAll("two")))
      let repository = try Repository(path: repo.path)
      try repository.updateReference("refs/heads/topic", to: first, expected: nil, message: "create topic")
      #expect(try repository.resolve("refs/heads/topic") == first)
      try repository.updateReference("refs/heads/topic", to: second, expected: first, message: "advance topic")
      #expect(try repo.rawGit(["rev-parse", "refs/heads/topic"]).trimmed == second.hex)
      let reflog = try repo.rawGit(["reflog", "show", "--format=%gs", "refs/heads/topic"])
      #expect(reflog.contains("advance topic"))
    }
  }

  @Test("compare-and-swap with a stale expected value throws referenceConflict and leaves the ref")
  func casConflict() throws {
    try withTemporaryRepository { repo in
      let first = try #require(OID(hex: try repo.commitAll("one")))
      let second = try #require(OID(hex: try repo.commitAll("two")))
      let repository = try Repository(path: repo.path)
      try repository.setReference("refs/orchestrate/x", to: second, message: "set")
      #expect(throws: RepositoryError.referenceConflict(name: "refs/orchestrate/x", expected: first, actual: second)) {
        try repository.updateReference("refs/orchestrate/x", to: first, expected: first, message: "stale")
      }
      #expect(throws: RepositoryError.referenceConflict(name: "refs/orchestrate/x", expected: nil, actual: second)) {
        try repository.updateReference("refs/orchestrate/x", to: first, expected: nil, message: "must not exist")
      }
      #expect(throws: RepositoryError.referenceConflict(name: "refs/orchestrate/missing", expected: first, actual: nil))
      {
        try repository.updateReference("refs/orchestrate/missing", to: second, expected: first, message: "gone")
      }
      #expect(try repository.resolve("refs/orchestrate/x") == second)
      #expect(try repository.reference("refs/orchestrate/missing") == nil)
      let message = RepositoryError.referenceConflict(name: "refs/orchestrate/x", expected: first, actual: second)
        .localizedDescription
      #expect(message.contains(first.hex) && message.contains(second.hex))
    }
  }

  @Test("create, list by prefix and delete")
  func createListDelete() throws {
    try withTemporaryRepository { repo in
      let head = try #require(OID(hex: try repo.commitAll("one")))
      let repository = try Repository(path: repo.path)
      for name in [
        "refs/orchestrate/plans/b", "refs/orchestrate/plans/a", "refs/orchestrate/plans/deep/c",
        "refs/orchestrate/plansx", "refs/heads/other",
      ] {
        try repository.setReference(name, to: head, message: "create")
      }
      try repo.rawGit(["pack-refs", "--all"])
      try repository.setReference("refs/orchestrate/plans/loose", to: head, message: "loose")
      let listed = try repository.references(withPrefix: "refs/orchestrate/plans/")
      #expect(
        listed.map(\.name) == [
          "refs/orchestrate/plans/a", "refs/orchestrate/plans/b", "refs/orchestrate/plans/deep/c",
          "refs/orchestrate/plans/loose",
        ])
      #expect(listed.allSatisfy { $0.target == head && $0.symbolicTarget == nil })

      try repository.deleteReference("refs/orchestrate/plans/a")
      try repository.deleteReference("refs/orchestrate/plans/a")  // already gone: not an error
      try repository.deleteReference("refs/orchestrate/plans/b", expected: head)
      #expect(
        throws: RepositoryError.referenceConflict(name: "refs/orchestrate/plans/loose", expected: .zero, actual: head)
      ) {
        try repository.deleteReference("refs/orchestrate/plans/loose", expected: .zero)
      }
      #expect(
        try repo.rawGit(["for-each-ref", "--format=%(refname)", "refs/orchestrate/plans/"])
          == "refs/orchestrate/plans/deep/c\nrefs/orchestrate/plans/loose\n")
    }
  }

  @Test("head, setHead, setHeadDetached, resolve and reference")
  func headStates() throws {
    try withTemporaryRepository { repo in
      let repository = try Repository(path: repo.path)
      #expect(try repository.head() == .unborn(name: "refs/heads/main"))
      #expect(try repository.resolve("HEAD") == nil)
      let first = try #require(OID(hex: try repo.commitAll("one")))
      #expect(try repository.head() == .branch(name: "refs/heads/main", oid: first))
      #expect(
        try repository.reference("HEAD") == Reference(name: "HEAD", target: nil, symbolicTarget: "refs/heads/main"))
      #expect(try repository.resolve("HEAD") == first)

      try repository.setHeadDetached(first)
      #expect(try repository.head() == .detached(first))
      #expect(try repo.rawGit(["rev-parse", "--symbolic-full-name", "HEAD"]).trimmed == "HEAD")

      try repository.setHead("refs/heads/new")
      #expect(try repository.head() == .unborn(name: "refs/heads/new"))
      #expect(try repo.rawGit(["symbolic-ref", "HEAD"]).trimmed == "refs/heads/new")
    }
  }

  @Test("revparse peels to a commit and reports missing revisions")
  func revparse() throws {
    try withTemporaryRepository { repo in
      let first = try repo.commitAll("one")
      let second = try repo.commitAll("two")
      try repo.rawGit(["tag", "-a", "-m", "annotated", "v1"])
      let repository = try Repository(path: repo.path)
      #expect(try repository.revparse("HEAD~1").hex == first)
      #expect(try repository.revparse("v1").hex == second)
      #expect(try repository.revparse("main").hex == second)
      #expect(throws: RepositoryError.refNotFound("nope")) { try repository.revparse("nope") }
    }
  }

  @Test("reference name validation follows check-ref-format")
  func validNames() {
    #expect(Repository.isValidReferenceName("refs/heads/orchestrate/demo/01-models"))
    #expect(!Repository.isValidReferenceName("refs/heads/bad..name"))
    #expect(!Repository.isValidReferenceName("refs/heads/with space"))
    #expect(!Repository.isValidReferenceName("refs/heads/x.lock"))
    #expect(!Repository.isValidReferenceName("refs/heads/../../etc"))
  }
}
