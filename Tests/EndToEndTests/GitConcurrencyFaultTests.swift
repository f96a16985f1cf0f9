import Foundation
import TestSupport
import Testing

/// A run while git itself works on the same repository, as a real one sees: `git gc`, `verify`
/// and the user's own commits on main, looping beside it. Short here; longer with
/// `ORCHESTRATE_FAULTS=1` (`make test-faults`).
@Suite("git beside a run", .serialized)
struct GitConcurrencyFaultTests {
  static let long = ProcessInfo.processInfo.environment["ORCHESTRATE_FAULTS"] == "1"

  static func plan(id: String, steps: Int) -> String {
    var text = "id: \(id)\nsubtasks:\n"
    for step in 1...steps {
      text += """
          - id: s\(step)
            run: ["sleep 0.15; echo \(step) > step-\(step).txt"]
            checkpoint: { commands: ["grep -q \(step) step-\(step).txt"] }

        """
    }
    return text
  }

  @Test("gc, verify and the user's commits loop beside a run: it finishes, every sub-task once, the user's commits kept, fsck clean")
  func soak() throws {
    let rounds = Self.long ? 6 : 1
    let steps = Self.long ? 20 : 8
    for round in 1...rounds {
      let box = try TemporaryRepository()
      try box.write("user.txt", "")
      try box.git("add", "user.txt")
      try box.git("commit", "-q", "-m", "user file")
      try box.write("plan.yml", Self.plan(id: "soak\(round)", steps: steps))
      let out = box.root.appendingPathComponent("run.out")
      let run = try box.start(["run", "plan.yml"], log: out)
      var userLines = 0
      var gcs = 0
      var verifies: [Int32] = []
      let deadline = Date().addingTimeInterval(180)
      while run.isRunning, Date() < deadline {
        switch (gcs + userLines + verifies.count) % 3 {
        case 0:
          _ = box.run("/usr/bin/env", ["git", "gc", "--quiet"], in: box.url)
          gcs += 1
        case 1:
          verifies.append(box.orchestrate("verify", "--cached").status)
        default:
          // The user's own work on main, in their checkout, while the run lands beside it.
          // (A commit that meets the run's index lock fails as git says; the line goes with the next one.)
          try box.write("user.txt", (box.read("user.txt") ?? "") + "line \(userLines)\n")
          userLines += 1
          _ = box.run("/usr/bin/env", ["git", "commit", "-q", "-am", "user \(userLines)"], in: box.url)
        }
      }
      run.waitUntilExit()
      _ = box.run("/usr/bin/env", ["git", "commit", "-q", "-am", "user, last"], in: box.url)
      let printed = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
      #expect(run.terminationStatus == 0, "round \(round): \(printed)")
      // The loop really ran beside the run.
      #expect(gcs >= 2 && userLines >= 2 && verifies.count >= 2, "gc \(gcs), commits \(userLines), verify \(verifies.count)")
      // verify never failed on the run's ref updates: 0 (passed) or 1 (a commit without a record yet).
      #expect(verifies.allSatisfy { $0 == 0 || $0 == 1 }, "verify exit codes \(verifies)")
      let subjects = try box.git("log", "--first-parent", "--format=%(trailers:key=Orchestrate-Subtask,valueonly)", "main")
        .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
      #expect(subjects.count == steps, "\(subjects)")
      #expect(Set(subjects).count == steps)
      let lines = try box.git("show", "main:user.txt").split(separator: "\n")
      #expect(lines.count == userLines, "the user's \(userLines) lines are all on main")
      #expect(try box.git("status", "--porcelain", "--untracked-files=no") == "")
      #expect(box.run("/usr/bin/env", ["git", "fsck", "--strict", "--no-dangling"], in: box.url).status == 0)
    }
  }
}
