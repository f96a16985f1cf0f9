import Foundation
import TestSupport
import Testing

@testable import OrchestrateKit

@Suite("work folder location")
struct LayoutTests {
  @Test("the work root: orchestrate.workdirRoot, then $XDG_STATE_HOME, then ~/.local/state")
  func workRootPrecedence() throws {
    let env = ["HOME": "/home/u", "XDG_STATE_HOME": "/state"]
    #expect(try Layout.workRoot(configured: "/w/", environment: env) == "/w")
    #expect(try Layout.workRoot(configured: "~/w", environment: env) == "/home/u/w")
    #expect(try Layout.workRoot(configured: nil, environment: env) == "/state/git-orchestrate/work")
    #expect(
      try Layout.workRoot(configured: "", environment: ["HOME": "/home/u"])
        == "/home/u/.local/state/git-orchestrate/work")
    // A relative XDG_STATE_HOME is invalid by the XDG spec: ignored.
    #expect(
      try Layout.workRoot(configured: nil, environment: ["HOME": "/home/u", "XDG_STATE_HOME": "rel"])
        == "/home/u/.local/state/git-orchestrate/work")
    #expect(throws: OrchestrateError.self) { try Layout.workRoot(configured: "work", environment: env) }
  }

  @Test("a repository key is readable and unique per common git directory")
  func repositoryKey() throws {
    let a = Layout.repositoryKey(commonDirectory: "/nonexistent/a/shop/.git")
    let b = Layout.repositoryKey(commonDirectory: "/nonexistent/b/shop/.git")
    #expect(a.hasPrefix("shop-") && b.hasPrefix("shop-") && a != b)
    #expect(a.count == "shop-".count + 12)
    #expect(Layout.repositoryKey(commonDirectory: "/nonexistent/srv/shop.git/").hasPrefix("shop-"))
    #expect(Layout.repositoryKey(commonDirectory: "/nonexistent/x/my repo!/.git").hasPrefix("my_repo_-"))
    let layout = try Layout(
      commonDirectory: "/nonexistent/a/shop/.git", environment: ["HOME": "/h", "XDG_STATE_HOME": "/s"])
    #expect(layout.workdir(plan: "p") == "/s/git-orchestrate/work/\(a)/p")
    #expect(layout.isWorkFolder("/s/git-orchestrate/work/\(a)/p"))
    #expect(layout.isWorkFolder("/nonexistent/a/shop/.git/orchestrate/work/p/sub"))
    #expect(!layout.isWorkFolder("/nonexistent/a/shop"))
  }
}
