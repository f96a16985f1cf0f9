import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("Pack writer")
struct PackWriterTests {
  @Test(
    "blobs written as packs read back through git and libgit2, ids as git hash-object's; duplicates and stored objects not written again"
  )
  func packsReadBack() throws {
    try withTemporaryRepository { repo in
      try repo.write("stored.txt", "already stored\n")
      _ = try repo.commitAll("base")
      let repository = try Repository(path: repo.path)
      var generator = SystemRandomNumberGenerator()
      var blobs: [Data] = (0..<300).map { index in
        // Sizes across the entry header's size bytes (< 16, < 2^11, < 2^18), some incompressible.
        let size = [0, 1, 15, 16, 200, 2047, 2048, 70_000][index % 8]
        if index % 3 == 0 { return Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        return Data(String(repeating: "line \(index)\n", count: size / 8 + 1).prefix(size).utf8)
      }
      blobs.append(blobs[5])  // taken twice
      blobs.append(Data("already stored\n".utf8))  // in the database already
      // A small limit, so that the objects go into several packs.
      let writer = PackWriter(repository: repository, packLimit: 200_000)
      var ids: [OID] = []
      for blob in blobs { ids.append(try writer.add(blob: blob)) }
      try writer.finish()
      #expect(writer.packs.count > 1)
      #expect(writer.objectCount == Set(ids).count - 1)

      let packFolder = repo.url.appendingPathComponent(".git/objects/pack").path
      let files = try FileManager.default.contentsOfDirectory(atPath: packFolder)
      #expect(!files.contains { $0.hasPrefix("tmp_") })
      var listed = Set<String>()
      for name in writer.packs {
        #expect(files.contains(name + ".pack") && files.contains(name + ".idx"))
        let verified = try repo.git("verify-pack", "-v", packFolder + "/" + name + ".idx")
        for line in verified.split(separator: "\n") where line.contains(" blob ") {
          listed.insert(String(line.prefix(40)))
        }
      }
      #expect(listed.count == writer.objectCount)
      let fresh = try Repository(path: repo.path)
      for (blob, id) in zip(blobs, ids) {
        let path = repo.root.appendingPathComponent("blob").path
        try blob.write(to: URL(fileURLWithPath: path))
        #expect(try repo.git("hash-object", path) == id.hex)
        #expect(try fresh.blob(id) == blob)
        #expect(try repository.blob(id) == blob)  // the handle that wrote: its packs rescanned on a miss
      }
      _ = try repo.git("fsck", "--strict", "--no-dangling")
    }
  }
}
