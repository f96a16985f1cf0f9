import Foundation
import TestSupport
import Testing

@testable import GitKit

/// `PathRules` against a table, and against git and libgit2 themselves: git with both protections on
/// refuses exactly what `PathRules` refuses, and everything libgit2 1.5 refuses by default is refused.
@Suite("path rules")
struct PathRulesTests {
  /// (path, is a symlink, refused).
  static let table: [(String, Bool, Bool)] = [
    ("a.txt", false, false),
    ("dir/sub/file.swift", false, false),
    (".gitignore", false, false),
    (".github/workflows/ci.yml", false, false),
    (".gitmodules", false, false),
    ("x/.gitmodules", false, false),
    ("git", false, false),
    ("gitx/y", false, false),
    (".gitx", false, false),
    ("a.git/b", false, false),
    (".git.orig", false, false),
    ("git~2", false, false),
    ("\\.git", false, false),
    ("a\\b", false, false),
    (".gitmodules\\x", true, false),
    ("é/ünïcode.txt", false, false),
    ("notes/.g.it", false, false),
    ("link", true, false),
    (".gitmodules-old", true, false),
    // git's own directory, in any case
    (".git", false, true),
    (".git/config", false, true),
    ("a/.git/hooks/post-checkout", false, true),
    (".Git/notes.txt", false, true),
    (".GIT", false, true),
    ("sub/.gIt/x", false, true),
    // HFS+: ignorable code points inside or around
    (".g\u{200C}it/hooks/post-checkout", false, true),
    (".git\u{200D}", false, true),
    ("\u{FEFF}.git/x", false, true),
    ("a/.\u{202E}GIT/config", false, true),
    (".gi\u{206F}t", false, true),
    // NTFS: short name, trailing dots and spaces, alternate data streams
    (".git ", false, true),
    (".git.", false, true),
    (".git. . ", false, true),
    ("git~1", false, true),
    ("GIT~1/config", false, true),
    (".git::$INDEX_ALLOCATION/x", false, true),
    (".git:stream", false, true),
    ("a/.git\\x", false, true),
    ("a\\.git", false, true),
    ("a\\.git ", false, true),
    ("x\\\\.git", false, true),
    // components git never takes
    ("a//b", false, true),
    ("./a", false, true),
    ("a/../b", false, true),
    ("a/.", false, true),
    ("..", false, true),
    // a symlinked .gitmodules, and its HFS+ and NTFS spellings
    (".gitmodules", true, true),
    ("x/.GITMODULES", true, true),
    (".gitmodules .", true, true),
    (".git\u{200C}modules", true, true),
    ("gitmod~1", true, true),
    ("GI7EBA~1", true, true),
    (".gitmodules:$DATA", true, true),
    ("a\\gitmod~1", true, true),
    ("a\\.gitmodules", true, true),
  ]

  @Test("the table")
  func table() {
    for (path, symlink, refused) in Self.table {
      let problem = PathRules.problem(path, symlink: symlink)
      #expect((problem != nil) == refused, "\(path.debugDescription) symlink=\(symlink): \(problem ?? "accepted")")
    }
    #expect(PathRules.problem(".Git/notes.txt")?.contains("'.Git'") == true)
    #expect(PathRules.problem("a/.g\u{200C}it/x")?.contains("HFS+") == true)
  }

  @Test("git with core.protectHFS and core.protectNTFS refuses exactly what PathRules refuses")
  func agreesWithGit() throws {
    try withTemporaryRepository { repo in
      let blob = try repo.git(["hash-object", "-w", "--stdin"], input: "x\n")
      for (path, symlink, _) in Self.table {
        let mode = symlink ? "120000" : "100644"
        let gitRefuses =
          (try? repo.git(
            [
              "-c", "core.protectHFS=true", "-c", "core.protectNTFS=true", "update-index", "--add", "--cacheinfo",
              "\(mode),\(blob),\(path)",
            ])) == nil
        if !gitRefuses { try repo.git(["update-index", "--force-remove", "--", path]) }
        let problem = PathRules.problem(path, symlink: symlink)
        #expect(
          (problem != nil) == gitRefuses,
          "\(path.debugDescription): git \(gitRefuses ? "refuses" : "accepts"), PathRules \(problem ?? "accepts")")
      }
    }
  }

  @Test("every path libgit2 refuses in the index by default is refused by PathRules")
  func coversLibgit2() throws {
    try withTemporaryRepository { repo in
      let repository = try Repository(path: repo.path)
      let index = try repository.index()
      let blob = try repository.writeBlob(Data("x\n".utf8))
      let stat = FileStat(
        ctimeSeconds: 0, ctimeNanoseconds: 0, mtimeSeconds: 0, mtimeNanoseconds: 0, device: 0, inode: 0, uid: 0,
        gid: 0, size: 2)
      var libgit2Refused: [String] = []
      for (path, symlink, _) in Self.table {
        do {
          try index.set(path: path, oid: blob, mode: symlink ? .symlink : .blob, stat: stat)
          try index.remove(path: path)
        } catch {
          libgit2Refused.append(path)
          #expect(
            PathRules.problem(path, symlink: symlink) != nil, "libgit2 refuses \(path.debugDescription): \(error)")
        }
      }
      #expect(libgit2Refused.contains(".Git/notes.txt"))
    }
  }

  @Test("refusedPaths lists the bad paths of a tree, which libgit2 itself can write")
  func treeScan() throws {
    try withTemporaryRepository { repo in
      let repository = try Repository(path: repo.path)
      let blob = try repository.writeBlob(Data("x\n".utf8))
      let tree = try repository.updateTree(
        nil,
        [
          TreeUpdate(path: "ok.txt", action: .upsert(blob, .blob)),
          TreeUpdate(path: ".g\u{200C}it/hooks/post-checkout", action: .upsert(blob, .blob)),
        ])
      let refused = try repository.refusedPaths(in: tree)
      #expect(refused.map(\.path) == [".g\u{200C}it/hooks/post-checkout"])
    }
  }

  @Test("the one-pass check of a plain path never passes a path the rules refuse")
  func plainPathsAgreeWithTheRules() {
    // Every table path, and every path of up to three components built from pieces that start each
    // rule's needle (or nearly), in both link kinds: what the fast check passes, the rules pass.
    let pieces = [
      "", ".", "..", ".git", ".GIT", "git~1", "GIT~1", ".gitmodules", "gitmod~1", "gi7eba~9", "~1", "a\\.git", "a",
      "b.txt", "git", "x.git", "\u{200C}.git", "é", "aux", "-g", " .git", "~", "g", "G",
    ]
    var paths = Self.table.map(\.0)
    for first in pieces {
      paths.append(first)
      for second in pieces {
        paths.append(first + "/" + second)
        for third in ["a", ".git", "git~1", ""] { paths.append(first + "/" + second + "/" + third) }
      }
    }
    paths += ["/a", "a/", "a//b", "a\u{0}b"]
    var plain = 0
    for path in paths {
      for symlink in [false, true] where PathRules.isPlainlyFine(path) {
        plain += 1
        #expect(PathRules.ruleProblem(path, symlink: symlink) == nil, "\(path) passed the fast check")
      }
    }
    #expect(plain > 100)
    #expect(
      !PathRules.isPlainlyFine("a/.git/b") && !PathRules.isPlainlyFine("GIT~1") && PathRules.isPlainlyFine("src/a.txt"))
  }
}
