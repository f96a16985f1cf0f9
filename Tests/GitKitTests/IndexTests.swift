import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("Index")
struct IndexTests {
  @Test("addAll stages new, modified and deleted files and respects .gitignore")
  func addAll() throws {
    try withTemporaryRepository { repo in
      try repo.write(".gitignore", "build/\n*.log\n")
      try repo.write("keep.txt", "one\n")
      try repo.write("delete.txt", "bye\n")
      try repo.write("src/mod.swift", "v1\n")
      try repo.commitAll("base")

      try repo.write("src/mod.swift", "v2\n")
      try repo.write("src/new/file.swift", "new\n")
      try repo.write("build/out.o", "ignored\n")
      try repo.write("debug.log", "ignored\n")
      try FileManager.default.removeItem(at: repo.url.appendingPathComponent("delete.txt"))

      let repository = try Repository(path: repo.path)
      let index = try repository.index()
      try index.addAll()
      try index.write()

      #expect(index.entryOID(path: "src/mod.swift") == OID.hashBlob(Data("v2\n".utf8)))
      #expect(index.entryOID(path: "src/new/file.swift") == OID.hashBlob(Data("new\n".utf8)))
      #expect(index.entryOID(path: "delete.txt") == nil)
      #expect(index.entryOID(path: "build/out.o") == nil)
      #expect(index.entryOID(path: "debug.log") == nil)
      #expect(index.count == 4)
      #expect(!index.hasConflicts)
      #expect(try repository.isIgnored("build/out.o"))
      #expect(try repository.isIgnored("debug.log"))
      #expect(try !repository.isIgnored("src/mod.swift"))

      let tree = try index.writeTree()
      #expect(tree.hex == (try repo.rawGit(["write-tree"]).trimmed))
      #expect(
        try repo.rawGit(["diff", "--cached", "--name-status"])
          == "D\tdelete.txt\nM\tsrc/mod.swift\nA\tsrc/new/file.swift\n")
    }
  }

  @Test("add and remove single paths; paths(under:) and removeDirectory")
  func singlePaths() throws {
    try withTemporaryRepository { repo in
      for path in ["a", "a.txt", "a-b/x", "a/b/c", "a/d", "ab/e", "z"] {
        try repo.write(path == "a" ? "top-a" : path, "\(path)\n")
      }
      let repository = try Repository(path: repo.path)
      let index = try repository.index()
      for path in ["a.txt", "a-b/x", "a/b/c", "a/d", "ab/e", "z"] {
        try index.add(path: path)
      }
      #expect(index.count == 6)
      #expect(index.paths(under: "a") == ["a/b/c", "a/d"])
      #expect(index.paths(under: "a/b") == ["a/b/c"])
      #expect(index.paths(under: "a/d") == ["a/d"])
      #expect(index.paths(under: "a.txt") == ["a.txt"])
      #expect(index.paths(under: "missing") == [])
      #expect(index.paths(under: "").count == 6)

      try index.remove(path: "z")
      try index.remove(path: "never-there")
      #expect(index.entryOID(path: "z") == nil)
      try index.removeDirectory("a")
      #expect(index.paths(under: "a").isEmpty)
      #expect(index.entryOID(path: "a.txt") != nil)
      try index.write()
      #expect(try repo.rawGit(["ls-files"]) == "a-b/x\na.txt\nab/e\n")

      let tree = try index.writeTree()
      #expect(tree.hex == (try repo.rawGit(["write-tree"]).trimmed))

      // readTree replaces the entries; read(force:) drops unsaved changes.
      try index.readTree(try repository.writeTree(files: ["only.txt": Data("o\n".utf8)]))
      #expect(index.paths(under: "") == ["only.txt"])
      try index.read(force: true)
      #expect(index.paths(under: "") == ["a-b/x", "a.txt", "ab/e"])
    }
  }
}
