import Foundation
import TestSupport
import Testing

/// The command lines agent presets build, checked by running them: a stand-in `claude` or `aider`
/// on PATH records its arguments, standard input and environment (no LLM is reachable here).
@Suite("agent presets", .serialized)
struct AgentPresetTests {
  /// Installs a fake agent named `name` that records what it was given and writes `done.txt`.
  func fakeAgent(_ name: String, in box: TemporaryRepository) throws -> URL {
    let bin = box.root.appendingPathComponent("bin")
    try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
    let record = box.root.appendingPathComponent("record-\(name)")
    try FileManager.default.createDirectory(at: record, withIntermediateDirectories: true)
    let script = """
      #!/bin/sh
      for a in "$@"; do printf '%s\\n' "$a"; done > \(record.path)/argv
      cat > \(record.path)/stdin
      env | grep '^ORCHESTRATE_' | sort > \(record.path)/env
      pwd > \(record.path)/pwd
      if [ -n "$ORCHESTRATE_PROMPT_FILE" ]; then cp "$ORCHESTRATE_PROMPT_FILE" \(record.path)/prompt-file; fi
      echo done > done.txt
      """
    let url = bin.appendingPathComponent(name)
    try Data(script.utf8).write(to: url)
    chmod(url.path, 0o755)
    // The fake agent records outside its work folder, which the sandbox forbids.
    try box.git("config", "orchestrate.sandbox", "off")
    return record
  }

  func plan(agent: String) -> String {
    TestPlan(
      id: "presets", description: "Presets", agent: agent,
      subtasks: [
        .init(
          id: "work", description: "Do the work", prompt: "Write done.txt", complexity: "small",
          checkpoint: ["test -f done.txt"], checkpointDescription: "the file exists")
      ]
    ).yaml
  }

  /// Runs the binary with the fake agents first on PATH.
  func run(_ box: TemporaryRepository, _ args: [String]) -> CommandOutput {
    let path = box.root.appendingPathComponent("bin").path + ":" + (box.environment["PATH"] ?? "")
    return box.orchestrate(args, environment: ["PATH": path])
  }

  @Test("claude: headless, prompt on standard input, edits allowed, run in the working directory")
  func claudePreset() throws {
    let box = try TemporaryRepository()
    let record = try fakeAgent("claude", in: box)
    try box.write("plan.yml", plan(agent: "claude"))
    let result = run(box, ["run", "plan.yml"])
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    let argv = box.read("argv", in: record)?.split(separator: "\n").map(String.init)
    #expect(
      argv == [
        "-p", "--permission-mode", "acceptEdits", "--allowedTools", "Bash,Edit,Write,Read,NotebookEdit",
        "--output-format", "stream-json", "--verbose",
      ])
    let stdin = box.read("stdin", in: record) ?? ""
    #expect(stdin.contains("Execute complete orchestration for this sub-task:"))
    #expect(stdin.contains("Description: Write done.txt"))
    #expect(stdin.contains("Complexity: small"))
    #expect(stdin.contains("test -f done.txt"))
    #expect(stdin.contains("This is subtask 1 of 1"))
    #expect(stdin.contains("Previous subtasks have been completed and validated."))
    let workdir = box.workdirRoot.appendingPathComponent("presets").path
    #expect(stdin.contains("Work in this directory: \(workdir)"))
    #expect(box.read("pwd", in: record)?.trimmingCharacters(in: .whitespacesAndNewlines) == workdir)
    #expect(box.read("prompt-file", in: record) == stdin)
    let env = box.read("env", in: record) ?? ""
    for line in [
      "ORCHESTRATE_PLAN_ID=presets", "ORCHESTRATE_SUBTASK_ID=work", "ORCHESTRATE_SUBTASK_ORDER=1",
      "ORCHESTRATE_SUBTASK_TOTAL=1", "ORCHESTRATE_ATTEMPT=1", "ORCHESTRATE_BRANCH=orchestrate/presets/01-work",
      "ORCHESTRATE_WORKDIR=\(workdir)",
    ] {
      #expect(env.contains(line + "\n"), "missing \(line) in\n\(env)")
    }
    #expect(try box.trailers("main")["Orchestrate-Subtask"] == "1/1 work")
  }

  @Test("aider: the prompt file as --message-file, no auto-commits; --agent overrides the plan")
  func aiderPresetFromFlag() throws {
    let box = try TemporaryRepository()
    let record = try fakeAgent("aider", in: box)
    try box.write("plan.yml", plan(agent: "claude"))
    let result = run(box, ["run", "plan.yml", "--agent", "aider"])
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    let argv = box.read("argv", in: record)?.split(separator: "\n").map(String.init) ?? []
    #expect(Array(argv.prefix(3)) == ["--yes-always", "--no-auto-commits", "--no-gitignore"])
    #expect(argv.count >= 5 && argv[argv.count - 2] == "--message-file" && argv[argv.count - 1].hasSuffix(".prompt.md"))
    #expect(box.read("prompt-file", in: record)?.contains("Execute complete orchestration") == true)
  }

  @Test("git config orchestrate.agent is used when neither flag nor plan names one; an agent neither a preset nor on PATH is exit 2")
  func configAgentAndUnknownPreset() throws {
    let box = try TemporaryRepository()
    let record = try fakeAgent("my-agent", in: box)
    try box.write(
      "plan.yml",
      TestPlan(id: "cfg", description: nil, subtasks: [.init(id: "work", checkpoint: ["test -f done.txt"])]).yaml)
    try box.git("config", "orchestrate.agent", box.root.appendingPathComponent("bin/my-agent").path)
    let result = run(box, ["run", "plan.yml"])
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(box.read("stdin", in: record)?.contains("Execute complete orchestration") == true)
    try box.write("plan2.yml", "id: cfg2\nsubtasks:\n  - id: work\n    checkpoint: { commands: [\"true\"] }\n")
    let bad = run(box, ["run", "plan2.yml", "--agent", "gpt"])
    #expect(bad.status == 2)
    #expect(
      (bad.stdout + bad.stderr).contains("--agent 'gpt' is neither a preset (claude, aider, openhands, script) nor a program on PATH"))
  }
}
