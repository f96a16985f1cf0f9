import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("Config and notes")
struct ConfigNotesTests {
  @Test("config values read typed and setConfig writes the local file")
  func config() throws {
    try withTemporaryRepository { repo in
      try repo.rawGit(["config", "orchestrate.agent", "claude"])
      try repo.rawGit(["config", "orchestrate.maxAttempts", "3"])
      try repo.rawGit(["config", "orchestrate.timeout", "2k"])
      try repo.rawGit(["config", "orchestrate.verbose", "yes"])
      let repository = try Repository(path: repo.path)
      #expect(try repository.configString("orchestrate.agent") == "claude")
      #expect(try repository.configInt("orchestrate.maxAttempts") == 3)
      #expect(try repository.configInt("orchestrate.timeout") == 2048)
      #expect(try repository.configBool("orchestrate.verbose") == true)
      #expect(try repository.configString("orchestrate.missing") == nil)
      #expect(try repository.configBool("orchestrate.missing") == nil)
      #expect(try repository.configInt("orchestrate.missing") == nil)
      #expect(throws: GitError.self) { try repository.configInt("orchestrate.agent") }

      try repository.setConfig("orchestrate.fixAgent", "aider")
      #expect(try repo.rawGit(["config", "--local", "--get", "orchestrate.fixagent"]).trimmed == "aider")
      #expect(try repository.configString("orchestrate.fixAgent") == "aider")

      let entries = try repository.localConfigEntries()
      let orchestrate = entries.filter { $0.name.hasPrefix("orchestrate.") }
      #expect(
        orchestrate.map(\.name) == [
          "orchestrate.agent", "orchestrate.maxattempts", "orchestrate.timeout", "orchestrate.verbose",
          "orchestrate.fixagent",
        ])
      #expect(orchestrate.map(\.value) == ["claude", "3", "2k", "yes", "aider"])
      #expect(entries.first?.name == "core.repositoryformatversion")
    }
  }

  @Test("defaultSignature uses user.name and user.email, else the tool's identity")
  func defaultSignature() throws {
    try withTemporaryRepository { repo in
      try repo.rawGit(["config", "user.name", "Local User"])
      try repo.rawGit(["config", "user.email", "local@example.com"])
      let configured = try Repository(path: repo.path).defaultSignature()
      #expect(configured.name == "Local User" && configured.email == "local@example.com")

      // Empty local values hide whatever the machine's global config holds.
      try repo.rawGit(["config", "user.name", ""])
      try repo.rawGit(["config", "user.email", ""])
      let fallback = try Repository(path: repo.path).defaultSignature()
      #expect(fallback.name == "git-orchestrate" && fallback.email == "git-orchestrate@localhost")
    }
  }

  @Test("notes are written, overwritten and read back as git notes shows them")
  func notes() throws {
    try withTemporaryRepository { repo in
      try repo.write("file.txt", "x\n")
      let commit = try #require(OID(hex: try repo.commitAll("one")))
      let repository = try Repository(path: repo.path)
      let tree = try repository.commit(commit).tree
      let author = Signature(name: "Bot", email: "bot@example.com", date: Date(timeIntervalSince1970: 1_700_000_000))
      #expect(try repository.note(on: tree, notesRef: "refs/notes/orchestrate") == nil)

      try repository.setNote(on: tree, notesRef: "refs/notes/orchestrate", "passed 3 commands\n", author: author)
      #expect(try repository.note(on: tree, notesRef: "refs/notes/orchestrate") == "passed 3 commands\n")
      #expect(try repo.rawGit(["notes", "--ref", "orchestrate", "show", tree.hex]) == "passed 3 commands\n")

      try repository.setNote(on: tree, notesRef: "refs/notes/orchestrate", "failed\n", author: author)
      #expect(try repo.rawGit(["notes", "--ref", "refs/notes/orchestrate", "show", tree.hex]) == "failed\n")
      #expect(try repository.note(on: commit, notesRef: "refs/notes/orchestrate") == nil)
      #expect(
        try repo.rawGit(["log", "-1", "--format=%an %at", "refs/notes/orchestrate"]).trimmed == "Bot 1700000000")
    }
  }
}
