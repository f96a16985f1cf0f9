import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `best_of` (issue 16 item 4): several agents on one sub-task, each in its own work folder and on
/// its own branch; the first whose checkpoint passes lands, the others are stopped and their work kept.
@Suite("best of", .serialized)
struct BestOfTests {
  /// An agent that behaves by the work folder it is given: contender 2 (`…~2`) writes the answer
  /// at once; any other writes a partial file, marks that it started, and waits (boundedly) for a
  /// gate that is never opened, its command line holding `marker` so a survivor can be found.
  static func agent(_ box: TemporaryRepository, marks: URL, marker: String) throws -> String {
    try ConfinementTests.agent(
      box,
      """
      case "$ORCHESTRATE_WORKDIR" in
        *~2) echo fast > out.txt; exit 0 ;;
      esac
      echo "partial from $ORCHESTRATE_WORKDIR" > partial.txt
      touch '\(marks.path)/slow-started'
      exec sh -c 'i=0; until [ -f "\(marks.path)/never" ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05; done # \(marker)'
      """)
  }

  @Test(
    "best_of: the first contender to pass lands; the other is stopped, its work kept as an attempt on its branch; show lists both"
  )
  func firstPassingContenderLands() throws {
    let box = try TemporaryRepository()
    try box.git("config", "orchestrate.sandbox", "off")
    let marks = box.root.appendingPathComponent("marks")
    try FileManager.default.createDirectory(at: marks, withIntermediateDirectories: true)
    let marker = "bestof-slow-\(UUID().uuidString)"
    try box.write(
      "plan.yml",
      """
      id: best
      max_attempts: 1
      subtasks:
        - id: x
          description: X
          best_of: 2
          prompt: write out.txt
          checkpoint: { commands: ["test \\"$(cat out.txt)\\" = fast"] }
      """)
    let agent = try Self.agent(box, marks: marks, marker: marker)
    // The fast contender may finish before the slow one has even started: wait for both to have
    // begun by letting the fast one pass only once the slow one marked its start.
    let gated = box.root.appendingPathComponent("gated.sh")
    try Data(
      """
      #!/bin/sh
      case "$ORCHESTRATE_WORKDIR" in
        *~2) i=0; until [ -f '\(marks.path)/slow-started' ]; do i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05; done ;;
      esac
      exec '\(agent)'
      """.utf8
    ).write(to: gated)
    chmod(gated.path, 0o755)
    let result = box.orchestrate(["run", "plan.yml", "--agent", gated.path, "--json"])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")

    // One commit on main, with the fast contender's work; none of the slow one's.
    #expect(try box.mainSubjects() == ["X", "initial"])
    #expect(box.read("out.txt") == "fast\n")
    #expect(box.read("partial.txt") == nil)
    let contender2 = "refs/heads/orchestrate/best/01-x-contender-2"
    #expect(try box.git("rev-parse", contender2) == (try box.git("rev-parse", "main")), "contender 2 landed")
    // The slow contender was stopped (no process left) and its partial work kept as an attempt.
    #expect(ConfinementTests.processes(holding: marker).isEmpty, "the slow contender's command was left running")
    let attempt = try box.git("log", "-1", "--format=%B", "refs/heads/orchestrate/best/01-x")
    #expect(attempt.contains("stopped: contender 2 landed first"), "\(attempt)")
    #expect(
      try box.git("show", "refs/heads/orchestrate/best/01-x:partial.txt").hasPrefix("partial from"),
      "the stopped contender's work is kept")
    // show lists the other contender and says which landed.
    let show = box.orchestrate("show", "x", "--json")
    #expect(show.stdout.contains("01-x-contender-2") && show.stdout.contains("\"landed\" : true"), "\(show.stdout)")
    #expect(box.orchestrate("show", "x").stdout.contains("Failed attempts"))
  }

  @Test("best_of and --best-of are checked: 0 or 9 agents are refused with exit 2")
  func badBestOf() throws {
    let box = try TemporaryRepository()
    try box.write(
      "plan.yml",
      """
      id: badbest
      subtasks:
        - id: x
          best_of: 9
          prompt: p
          checkpoint: { commands: ["true"] }
      """)
    let plan = box.orchestrate("run", "plan.yml", "--agent", "true")
    #expect(plan.status == 2 && plan.stderr.contains("best_of"), "\(plan.stderr)")
    let flag = box.orchestrate("run", "plan.yml", "--best-of", "0")
    #expect(flag.status == 2 && flag.stderr.contains("--best-of"), "\(flag.stderr)")
  }

  @Test("--best-of on a plan of script steps says the steps run once, and runs them once")
  func bestOfWithSteps() throws {
    let box = try TemporaryRepository()
    try box.git("config", "orchestrate.sandbox", "off")
    try box.write(
      "plan.yml",
      """
      id: steps
      subtasks:
        - id: s
          run: ["echo s >> s.txt"]
          checkpoint: { commands: ["test -f s.txt"] }
      """)
    let run = box.orchestrate("run", "plan.yml", "--best-of", "3")
    #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    #expect(
      (run.stdout + run.stderr).contains(
        "--best-of 3 applies to sub-tasks an agent works on; script steps run once (s)"),
      "\(run.stdout)\n\(run.stderr)")
    #expect(try box.git("show", "main:s.txt") == "s")
  }
}
