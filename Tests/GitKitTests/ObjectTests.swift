import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("Objects")
struct ObjectTests {
  @Test("createCommit writes a commit that reads back, with trailers as git parses them")
  func createAndReadCommit() throws {
    try withTemporaryRepository { repo in
      let parent = try #require(OID(hex: try repo.commitAll("base")))
      let repository = try Repository(path: repo.path)
      let tree = try repository.commit(parent).tree
      let message = """
        Add models

        Body text.

        Orchestrate-Plan: ecommerce
        Orchestrate-Subtask: 2/5 auth
        orchestrate-attempts: 2

        """
      let author = Signature(name: "A U Thor", email: "a@example.com", date: Date(timeIntervalSince1970: 1_700_000_000))
      let committer = Signature(
        name: "C O Mitter", email: "c@example.com", date: Date(timeIntervalSince1970: 1_700_000_100))
      let oid = try repository.createCommit(
        tree: tree, parents: [parent], message: message, author: author, committer: committer)
      #expect(try repository.resolve("HEAD") == parent)  // no ref moved

      let commit = try repository.commit(oid)
      #expect(commit.oid == oid)
      #expect(commit.tree == tree)
      #expect(commit.parents == [parent])
      #expect(commit.message == message)
      #expect(commit.summary == "Add models")
      #expect(commit.author == author)
      #expect(commit.committer == committer)
      #expect(commit.trailer("orchestrate-plan") == "ecommerce")
      #expect(commit.trailer("Orchestrate-Attempts") == "2")
      #expect(commit.trailer("Missing") == nil)

      let parsed = try repo.rawGit(["interpret-trailers", "--parse"], input: message)
      let fromGit = parsed.split(separator: "\n").map { line -> Trailer in
        let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        return Trailer(key: parts[0], value: parts[1])
      }
      #expect(commit.trailers == fromGit)
      #expect(fromGit.count == 3)
      #expect(try repo.rawGit(["cat-file", "-t", oid.hex]).trimmed == "commit")
      #expect(
        try repo.rawGit(["log", "-1", "--format=%an <%ae> %at|%cn %ct", oid.hex]).trimmed
          == "A U Thor <a@example.com> 1700000000|C O Mitter 1700000100")
    }
  }

  @Test("a commit made by git reads back with fixed dates and no trailers")
  func readGitCommit() throws {
    try withTemporaryRepository { repo in
      try repo.write("file.txt", "x\n")
      let oid = try #require(OID(hex: try repo.commitAll("Subject line\n\nbody")))
      let commit = try Repository(path: repo.path).commit(oid)
      #expect(commit.summary == "Subject line")
      #expect(commit.parents.isEmpty)
      #expect(commit.trailers.isEmpty)
      #expect(
        commit.author
          == Signature(
            name: "Test Author", email: "author@example.com",
            date: Date(timeIntervalSince1970: TestIdentity.dateSeconds)))
      #expect(commit.committer.name == "Test Committer")
      #expect(commit.tree.hex == (try repo.rawGit(["rev-parse", "HEAD^{tree}"]).trimmed))
    }
  }

  @Test("writeTree(files:) builds nested folders that git ls-tree reads back")
  func writeTreeFiles() throws {
    try withTemporaryRepository { repo in
      let repository = try Repository(path: repo.path)
      let files = [
        "plan.json": Data("{}\n".utf8),
        "meta/base": Data("abc\n".utf8),
        "meta/deep/er/file.txt": Data("deep\n".utf8),
        "empty": Data(),
      ]
      let tree = try repository.writeTree(files: files)
      let listing = try repo.rawGit(["ls-tree", "-r", tree.hex])
      var expected: [String] = []
      for path in files.keys.sorted() {
        expected.append("100644 blob \(OID.hashBlob(files[path]!).hex)\t\(path)")
      }
      #expect(listing == expected.joined(separator: "\n") + "\n")
      #expect(
        try repository.blob(try #require(try repository.treeEntry(in: tree, path: "meta/base")).oid)
          == Data("abc\n".utf8))
      #expect(try repository.treeEntry(in: tree, path: "meta/nope") == nil)
      #expect(try repository.treeEntry(in: tree, path: "meta")?.mode == .tree)
      #expect(try repository.treeEntries(tree).map(\.name) == ["empty", "meta", "plan.json"])
      #expect(try repository.blob(try repository.treeEntries(tree)[0].oid) == Data())
    }
  }

  @Test("writeTree(files:) refuses a path that is both a file and a folder, and invalid names")
  func writeTreeClash() throws {
    try withTemporaryRepository { repo in
      let repository = try Repository(path: repo.path)
      let error = #expect(throws: GitError.self) {
        try repository.writeTree(files: ["a": Data(), "a/b": Data()])
      }
      #expect(error?.isExists == true)
      #expect(throws: GitError.self) { try repository.writeTree(files: ["a//b": Data()]) }
      #expect(throws: GitError.self) { try repository.writeTree(files: [".git/config": Data()]) }
    }
  }

  @Test("writeBlob and blob round-trip binary data")
  func blobs() throws {
    try withTemporaryRepository { repo in
      let repository = try Repository(path: repo.path)
      let data = Data((0..<300).map { UInt8($0 % 256) })
      let oid = try repository.writeBlob(data)
      #expect(oid == OID.hashBlob(data))
      #expect(try repository.blob(oid) == data)
      let error = #expect(throws: GitError.self) { try repository.blob(OID.hashBlob(Data("absent".utf8))) }
      #expect(error?.isNotFound == true)
    }
  }

  @Test("readBlob streams a loose blob in pieces, reads a packed one whole, and refuses a damaged or missing one")
  func readBlobPieces() throws {
    try withTemporaryRepository { repo in
      let repository = try Repository(path: repo.path)
      // Larger than one piece, not a multiple of it, and not compressible to nothing.
      var generator = SystemRandomNumberGenerator()
      let data = Data(
        (0..<(Repository.blobPieceSize * 2 + 12345)).map { _ in UInt8.random(in: 0...255, using: &generator) })
      let oid = try repository.writeBlob(data)
      var pieces: [Data] = []
      #expect(try repository.readBlob(oid) { pieces.append(Data($0)) } == data.count)
      #expect(pieces.count > 1)
      #expect(pieces.allSatisfy { $0.count <= Repository.blobPieceSize })
      #expect(pieces.reduce(Data(), +) == data)

      let empty = try repository.writeBlob(Data())
      var calls = 0
      #expect(try repository.readBlob(empty) { _ in calls += 1 } == 0)
      #expect(calls == 0)

      // Packed: no loose file left, read whole through libgit2.
      let small = Data("packed content\n".utf8)
      let packed = try repository.writeBlob(small)
      try repo.write("keep.txt", "packed content\n")
      _ = try repo.rawGit(["add", "keep.txt"])
      _ = try repo.rawGit(["commit", "-q", "-m", "keep"])
      _ = try repo.rawGit(["gc", "-q", "--prune=now"])
      let loose = repository.commonDirectory + "/objects/" + packed.hex.prefix(2) + "/" + packed.hex.dropFirst(2)
      #expect(!FileManager.default.fileExists(atPath: loose))
      var read = Data()
      #expect(try repository.readBlob(packed) { read.append(contentsOf: $0) } == small.count)
      #expect(read == small)

      // A loose object cut short is an error, not a short file.
      let cut = try repository.writeBlob(Data(repeating: 7, count: 100_000) + data.prefix(50_000))
      let cutPath = repository.commonDirectory + "/objects/" + cut.hex.prefix(2) + "/" + cut.hex.dropFirst(2)
      let whole = try Data(contentsOf: URL(fileURLWithPath: cutPath))
      chmod(cutPath, 0o644)
      try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: cutPath))
      #expect(throws: GitError.self) { try repository.readBlob(cut) { _ in } }

      let absent = OID.hashBlob(Data("absent".utf8))
      let missing = #expect(throws: GitError.self) { try repository.readBlob(absent) { _ in } }
      #expect(missing?.isNotFound == true)
      let tree = try repository.commit(try repository.resolve("HEAD")!).tree
      #expect(throws: GitError.self) { try repository.readBlob(tree) { _ in } }
    }
  }
}
