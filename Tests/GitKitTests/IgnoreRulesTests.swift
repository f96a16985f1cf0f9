import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("Ignore rules and multi-valued config")
struct IgnoreRulesTests {
  @Test("in-memory ignore rules apply to one handle only and write no file")
  func ignoreRules() throws {
    try withTemporaryRepository { root in
      let repository = try Repository(path: root.path)
      #expect(try !repository.isIgnored(".aider.chat.history.md"))
      try repository.addIgnoreRules([".aider*", " ", ".my-agent/"])
      #expect(try repository.isIgnored(".aider.chat.history.md"))
      #expect(try repository.isIgnored(".aider.tags.cache.v4/cache.db"))
      #expect(try repository.isIgnored(".my-agent/"))
      #expect(try !repository.isIgnored("src/aider.py"))
      #expect(try !Repository(path: root.path).isIgnored(".aider.chat.history.md"))
      let exclude = (try? String(contentsOf: root.url.appendingPathComponent(".git/info/exclude"), encoding: .utf8)) ?? ""
      #expect(!exclude.contains(".aider"))
    }
  }

  @Test("every value of a multi-valued key, in order; none when unset")
  func multivar() throws {
    try withTemporaryRepository { root in
      try root.git(["config", "--add", "orchestrate.agentFiles", ".a/"])
      try root.git(["config", "--add", "orchestrate.agentFiles", "*.log"])
      let repository = try Repository(path: root.path)
      #expect(try repository.configStrings("orchestrate.agentFiles") == [".a/", "*.log"])
      #expect(try repository.configStrings("orchestrate.missing") == [])
    }
  }
}
