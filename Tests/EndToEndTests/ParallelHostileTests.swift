import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Hostile agents in a parallel run (`run --jobs`): while another job lands, an agent forges a
/// sub-task commit on main and a passing note, or plants a hook. The guard's baseline moves with
/// the tool's own landings, and the change is caught by the first job whose command returns.
@Suite("ParallelHostile", .serialized)
struct ParallelHostileTests {
  typealias Mode = ConfinementTests.Mode

  /// Two independent sub-tasks: `a`'s agent writes its file; `b`'s agent waits until `a` is on
  /// main (so the tool has landed and taken its new baseline meanwhile), then does `attack`.
  static func plan(_ id: String) -> String {
    """
    id: \(id)
    description: d
    max_attempts: 1
    execution_strategy: parallel
    jobs: 2
    subtasks:
      - id: a
        description: A
        dependencies: []
        checkpoint: { commands: ["test -f a.txt"] }
      - id: b
        description: B
        dependencies: []
        checkpoint: { commands: ["test -f b.txt"] }
    """
  }

  static func agent(_ box: TemporaryRepository, attack: String) throws -> String {
    try ConfinementTests.agent(
      box,
      """
      if [ "$ORCHESTRATE_SUBTASK_ID" = a ]; then echo a > a.txt; exit 0; fi
      i=0
      until git log --format=%s main | grep -qx A; do
        i=$((i + 1)); [ $i -gt 600 ] && { echo "a never landed" >&2; exit 3; }
        sleep 0.1
      done
      echo b > b.txt
      \(attack)
      exit 0
      """)
  }

  @Test("a job's agent forges main and a note while another job lands: refused and put back, or impossible", arguments: ConfinementTests.modes)
  func forgeWhileAnotherLands(_ mode: Mode) throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan("pforge"))
    let agent = try Self.agent(
      box,
      attack: """
        tree=$(git write-tree) &&
        forged=$(printf 'B\\n\\nOrchestrate-Plan: pforge\\nOrchestrate-Subtask: 2/2 b\\nOrchestrate-Checkpoint: passed (1 command, 0.1 s)\\n' | git commit-tree "$tree" -p main) &&
        git update-ref refs/heads/main "$forged" &&
        git notes --ref orchestrate add -f -m '{"passed":true,"date":"9999-12-31T00:00:00Z"}' "$tree"
        """)
    let result = ConfinementTests.run(box, "plan.yml", agent: agent, mode)
    let output = result.stdout + result.stderr
    #expect(!ConfinementTests.notesHold(box, "9999"), "the forged note is gone")
    switch mode {
    case .off:
      #expect(result.status == 2, "\(output)")
      #expect(result.stderr.contains("refs/heads/main moved from"), "\(result.stderr)")
      #expect(result.stderr.contains("Put back: ") && result.stderr.contains("refs/heads/main"), "\(result.stderr)")
      #expect(try box.mainSubjects() == ["A", "initial"], "main holds only what the tool landed")
      #expect(box.read("b.txt") == nil, "the user's checkout gets only what landed")
    case .on:
      // A parallel run writes agents' output to their logs only.
      let log = box.read(".git/orchestrate/logs/pforge/02-b.attempt-1.log") ?? ""
      #expect(log.contains("Read-only file system"), "\(log)")
      #expect(result.status == 0, "\(output)")
      #expect(try Set(box.mainSubjects()) == ["A", "B", "initial"])
    }
    #expect(box.read("a.txt") == "a\n")
  }

  @Test("a job's agent plants a hook while another job lands: refused, or impossible", arguments: ConfinementTests.modes)
  func hookWhileAnotherLands(_ mode: Mode) throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan("phook"))
    let agent = try Self.agent(
      box,
      attack: """
        hooks="$(git rev-parse --git-common-dir)/hooks"
        printf '#!/bin/sh\\necho owned\\n' > "$hooks/post-commit" && chmod +x "$hooks/post-commit"
        """)
    let result = ConfinementTests.run(box, "plan.yml", agent: agent, mode)
    let output = result.stdout + result.stderr
    let hook = box.url.appendingPathComponent(".git/hooks/post-commit").path
    switch mode {
    case .off:
      #expect(result.status == 2, "\(output)")
      #expect(result.stderr.contains("post-commit"), "\(result.stderr)")
      #expect(try !box.mainSubjects().contains("B"), "the hostile sub-task did not land")
    case .on:
      #expect(!FileManager.default.fileExists(atPath: hook), "the hooks folder is read-only in the sandbox")
      #expect(result.status == 0, "\(output)")
    }
  }
}
