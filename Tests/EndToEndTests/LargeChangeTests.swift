import Foundation
import TestSupport
import Testing

/// A sub-task that changes many files at once: its blobs past the first 64 go into one pack
/// (issue 18), and everything reads them back — main, the user's checkout, git itself.
@Suite("large changes")
struct LargeChangeTests {
  @Test("150 new files, then 100 of them changed and 20 removed: packed, landed, in the checkout, fsck clean")
  func manyFilesPacked() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml",
      """
      id: many
      subtasks:
        - id: make
          run: ["mkdir -p many && for i in $(seq 1 150); do echo \\"file $i\\" > many/f$i.txt; done"]
          checkpoint: { commands: ["test $(ls many | wc -l) -eq 150"] }
        - id: change
          run: ["for i in $(seq 1 100); do echo changed >> many/f$i.txt; done; for i in $(seq 131 150); do rm many/f$i.txt; done; echo \\"file 1\\" > many/copy.txt"]
          checkpoint: { commands: ["test $(ls many | wc -l) -eq 131"] }
      """)
    let packsBefore = try Self.packs(box)
    let out = box.orchestrate("run", "plan.yml", "--sandbox", "off")
    #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
    #expect(try box.mainSubjects().count == 3)
    // Two snapshots of more than 64 blobs: a pack each, both readable.
    let packs = try Self.packs(box).subtracting(packsBefore)
    #expect(packs.count == 2, "\(packs)")
    for pack in packs {
      _ = try box.git("verify-pack", box.url.appendingPathComponent(".git/objects/pack/\(pack).idx").path)
    }
    #expect(try box.git("show", "main:many/f7.txt") == "file 7\nchanged")
    #expect(try box.git("show", "main:many/f120.txt") == "file 120")
    #expect(try box.git("show", "main:many/copy.txt") == "file 1")
    #expect((try? box.git("cat-file", "-e", "main:many/f140.txt")) == nil)
    #expect(try box.git("ls-tree", "main:many").split(separator: "\n").count == 131)
    // The user's checkout followed main, its files read from the packs.
    #expect(box.read("many/f99.txt") == "file 99\nchanged\n")
    #expect(box.read("many/f150.txt") == nil)
    #expect(try box.git("status", "--porcelain", "--untracked-files=all", "--", "many") == "")
    _ = try box.git("fsck", "--strict", "--no-dangling")
  }

  static func packs(_ box: TemporaryRepository) throws -> Set<String> {
    let folder = box.url.appendingPathComponent(".git/objects/pack").path
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    return Set(names.filter { $0.hasSuffix(".idx") }.map { String($0.dropLast(4)) })
  }
}
