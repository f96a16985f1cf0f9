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

  @Test("job slots' worktree names: valid ref components (git fsck reads worktrees/<name>/HEAD as a ref), one plan's never another's")
  func slotWorktreeNames() throws {
    let plans = ["x", "2-x", "x~2", "job2-x", "x-job2", "a.b+c"].filter { RefNameComponent.problem(with: $0) == nil }
    var names: Set<String> = []
    for plan in plans {
      for slot in 0..<64 {
        let name = Layout.worktreeName(plan: plan, slot: slot)
        #expect(RefNameComponent.problem(with: name) == nil, "\(name)")
        #expect(name.hasPrefix("orchestrate-"), "\(name): not one of the tool's own worktrees")
        #expect(names.insert(name).inserted, "\(name) is the name of two slots")
        for other in plans {
          #expect(Layout.isSlotWorktree(name, plan: other) == (slot > 0 && other == plan), "\(name) for \(other)")
        }
      }
    }
    #expect(Layout.worktreeName(plan: "x", slot: 0) == "orchestrate-x")
    #expect(Layout.worktreeName(plan: "x", slot: 1) == "orchestrate--job2-x")
  }
}
