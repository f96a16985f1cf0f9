import Foundation
import Testing

@testable import GitKit

@Suite("Index")
struct IndexTests {
  @Test("addAll stages new, modified and deleted files and respects .gitignore")
  func addAll() throws {
    try withTemporaryRepository { root in
      try write("build/\n*.log\n", to: ".gitignore", in: root)
      try write("one\n", to: "keep.txt", in: root)
      try write("bye\n", to: "delete.txt", in: root)
      try write("v1\n", to: "src/mod.swift", in: root)
      try commitAll("base", in: root)

      try write("v2\n", to: "src/mod.swift", in: root)
      try write("new\n", to: "src/new/file.swift", in: root)
      try write("ignored\n", to: "build/out.o", in: root)
      try write("ignored\n", to: "debug.log", in: root)
      try FileManager.default.removeItem(at: root.appendingPathComponent("delete.txt"))

      let repository = try Repository(path: root.path)
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
      #expect(tree.hex == (try git(["write-tree"], in: root).trimmed))
      #expect(
        try git(["diff", "--cached", "--name-status"], in: root)
          == "D\tdelete.txt\nM\tsrc/mod.swift\nA\tsrc/new/file.swift\n")
    }
  }

  @Test("add and remove single paths; paths(under:) and removeDirectory")
  func singlePaths() throws {
    try withTemporaryRepository { root in
      for path in ["a", "a.txt", "a-b/x", "a/b/c", "a/d", "ab/e", "z"] {
        try write("\(path)\n", to: path == "a" ? "top-a" : path, in: root)
      }
      let repository = try Repository(path: root.path)
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
      #expect(try git(["ls-files"], in: root) == "a-b/x\na.txt\nab/e\n")

      let tree = try index.writeTree()
      #expect(tree.hex == (try git(["write-tree"], in: root).trimmed))

      // readTree replaces the entries; read(force:) drops unsaved changes.
      try index.readTree(try repository.writeTree(files: ["only.txt": Data("o\n".utf8)]))
      #expect(index.paths(under: "") == ["only.txt"])
      try index.read(force: true)
      #expect(index.paths(under: "") == ["a-b/x", "a.txt", "ab/e"])
    }
  }
}
