import Foundation
import TestSupport
import Testing

@testable import OrchestrateKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs a shell script in `directory` (through ProcessRunner, so the changes come from a child process).
@discardableResult
private func shell(_ script: String, in directory: String) throws -> CommandResult {
  let result = try ProcessRunner().run(
    CommandSpec(
      command: "set -e\n" + script, directory: directory, environment: ["PATH": "/usr/bin:/bin"]))
  try #require(result.succeeded, "script failed: \(result.outputTail)")
  return result
}

private func isEverything(_ changes: ChangeSet) -> Bool {
  if case .everything = changes { return true }
  return false
}

#if canImport(Glibc)
  @Suite("ChangeWatcher")
  struct ChangeWatcherTests {
    @Test(
      "file creations, edits, deletions, chmods and renames in nested directories are reported exactly"
    )
    func fileChanges() throws {
      try withTemporaryDirectoryPath { root in
        try shell(
          """
          mkdir -p src/deep/er docs
          echo old > src/deep/er/edit.txt
          echo gone > src/deep/remove.txt
          echo mode > docs/mode.sh
          echo name > docs/before.md
          echo same > untouched.txt
          """, in: root)
        let watcher = ChangeWatcher(root: root)
        #expect(watcher.isActive)
        #expect(watcher.drain() == .paths([]))

        try shell(
          """
          echo new >> src/deep/er/edit.txt
          rm src/deep/remove.txt
          chmod +x docs/mode.sh
          mv docs/before.md docs/after.md
          echo hello > src/created.txt
          """, in: root)
        let expected: Set<String> = [
          "src/deep/er/edit.txt", "src/deep/remove.txt", "docs/mode.sh", "docs/before.md",
          "docs/after.md",
          "src/created.txt",
        ]
        #expect(watcher.drain() == .paths(expected))
      }
    }

    @Test("drain resets: a second drain without changes is empty")
    func drainResets() throws {
      try withTemporaryDirectoryPath { root in
        let watcher = ChangeWatcher(root: root)
        try shell("echo a > a.txt", in: root)
        #expect(watcher.drain() == .paths(["a.txt"]))
        #expect(watcher.drain() == .paths([]))
      }
    }

    @Test("a new directory tree is reported as its top directory, and is watched from then on")
    func newDirectoryTree() throws {
      try withTemporaryDirectoryPath { root in
        let watcher = ChangeWatcher(root: root)
        try shell("mkdir -p a/b/c && echo > a/b/c/f", in: root)
        #expect(watcher.drain() == .paths(["a"]))
        try shell("echo more >> a/b/c/f && echo > a/b/g", in: root)
        #expect(watcher.drain() == .paths(["a/b/c/f", "a/b/g"]))
      }
    }

    @Test("a deleted directory is reported as its path")
    func deletedDirectory() throws {
      try withTemporaryDirectoryPath { root in
        try shell("mkdir -p keep gone/inner && echo > gone/inner/f && echo > gone/g", in: root)
        let watcher = ChangeWatcher(root: root)
        try shell("rm -r gone", in: root)
        #expect(watcher.drain() == .paths(["gone"]))
        try shell("mkdir gone && echo > gone/again", in: root)
        #expect(watcher.drain() == .paths(["gone"]))
        try shell("echo >> gone/again", in: root)
        #expect(watcher.drain() == .paths(["gone/again"]))
      }
    }

    @Test("a directory moved out of the tree is reported as its path and no longer watched")
    func directoryMovedAway() throws {
      try withTemporaryDirectoryPath { outside in
        try withTemporaryDirectoryPath { root in
          try shell("mkdir -p away/sub && echo > away/sub/f", in: root)
          let watcher = ChangeWatcher(root: root)
          try shell("mv away '\(outside)/away'", in: root)
          #expect(watcher.drain() == .paths(["away"]))
          try shell("echo >> '\(outside)/away/sub/f'", in: root)
          #expect(watcher.drain() == .paths([]))
        }
      }
    }

    @Test("nothing inside .git is ever reported")
    func gitDirectoryIgnored() throws {
      try withTemporaryDirectoryPath { root in
        try shell("git init -q . && echo > tracked && git add tracked", in: root)
        let watcher = ChangeWatcher(root: root)
        try shell(
          """
          git -c user.name=T -c user.email=t@example.com commit -q -m one
          echo > .git/extra
          mkdir -p sub/.git && echo > sub/.git/HEAD
          echo > file
          """, in: root)
        // sub/.git itself appears as part of the new directory sub; nothing below any .git does.
        #expect(watcher.drain() == .paths(["sub", "file"]))
        try shell("echo >> sub/.git/HEAD && rm -rf .git", in: root)
        #expect(watcher.drain() == .paths([]))
      }
    }

    @Test("renaming a directory within the tree asks for a full scan, then watching is exact again")
    func directoryRename() throws {
      try withTemporaryDirectoryPath { root in
        try shell("mkdir -p old/inner && echo > old/inner/f", in: root)
        let watcher = ChangeWatcher(root: root)
        try shell("mv old new", in: root)
        #expect(isEverything(watcher.drain()))
        #expect(watcher.isActive)
        try shell("echo >> new/inner/f", in: root)
        #expect(watcher.drain() == .paths(["new/inner/f"]))
      }
    }

    @Test("an overflowing event queue asks for a full scan, then watching is exact again")
    func queueOverflow() throws {
      try withTemporaryDirectoryPath { root in
        let limitText = try String(
          contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8)
        let limit = try #require(Int(limitText.trimmingCharacters(in: .whitespacesAndNewlines)))
        try #require(limit <= 1_000_000, "max_queued_events is too large to overflow in a test")
        let watcher = ChangeWatcher(root: root)
        // Each file gives two events (create, close after write), so this is well over the limit.
        for index in 0..<(limit / 2 + 1000) {
          let descriptor = open(root + "/f\(index)", O_CREAT | O_WRONLY, 0o644)
          try #require(descriptor >= 0)
          close(descriptor)
        }
        let changes = watcher.drain()
        guard case .everything(let reason) = changes else {
          Issue.record("expected .everything, got \(changes)")
          return
        }
        #expect(reason.contains("overflow"))
        try shell("echo > after", in: root)
        #expect(watcher.drain() == .paths(["after"]))
      }
    }

    @Test("reaching the watch limit falls back to full scans with the reason")
    func watchLimit() throws {
      try withTemporaryDirectoryPath { root in
        try shell("mkdir -p a b", in: root)
        let watcher = ChangeWatcher(root: root, maxWatches: 1)
        #expect(!watcher.isActive)
        #expect(
          watcher.drain() == .everything(reason: "inotify watch limit reached (maxWatches=1)"))
        try shell("echo > a/f", in: root)
        #expect(isEverything(watcher.drain()))
      }
    }

    @Test("a new directory past the watch limit falls back to full scans")
    func watchLimitWhileRunning() throws {
      try withTemporaryDirectoryPath { root in
        let watcher = ChangeWatcher(root: root, maxWatches: 2)
        try shell("mkdir -p one", in: root)
        #expect(watcher.drain() == .paths(["one"]))
        try shell("mkdir -p two", in: root)
        #expect(
          watcher.drain() == .everything(reason: "inotify watch limit reached (maxWatches=2)"))
        #expect(!watcher.isActive)
      }
    }

    @Test("invalidate forces one full scan, then drains are exact again")
    func invalidate() throws {
      try withTemporaryDirectoryPath { root in
        let watcher = ChangeWatcher(root: root)
        watcher.invalidate(reason: "working directory replaced")
        #expect(watcher.drain() == .everything(reason: "working directory replaced"))
        try shell("echo > x", in: root)
        #expect(watcher.drain() == .paths(["x"]))
      }
    }

    @Test("the root itself moved asks for a full scan")
    func rootMoved() throws {
      try withTemporaryDirectoryPath { parent in
        try shell("mkdir root", in: parent)
        let watcher = ChangeWatcher(root: parent + "/root")
        try shell("mv root moved", in: parent)
        #expect(isEverything(watcher.drain()))
      }
    }

    @Test("a missing root falls back to full scans instead of failing")
    func missingRoot() {
      let watcher = ChangeWatcher(root: "/nonexistent/orchestrate-watch")
      #expect(!watcher.isActive)
      #expect(isEverything(watcher.drain()))
    }
  }
#else
  @Suite("ChangeWatcher")
  struct ChangeWatcherTests {
    @Test("without inotify every drain asks for a full scan")
    func unavailable() throws {
      try withTemporaryDirectoryPath { root in
        let watcher = ChangeWatcher(root: root)
        #expect(!watcher.isActive)
        #expect(isEverything(watcher.drain()))
      }
    }
  }
#endif
