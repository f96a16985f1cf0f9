import Foundation
import TestSupport
import Testing

/// `git orchestrate mcp` as a process: stdio framing, end of input, and the lock shared with `run`.
@Suite("mcp server", .serialized)
struct MCPServerTests {
  static let plan = TestPlan(
    id: "demo", description: "two steps",
    subtasks: [
      .makes("one.txt", "1", id: "one", description: "First step"),
      .init(
        id: "two", description: "Second step", run: ["echo 2 > two.txt"], checkpoint: ["sleep 0.3", "test -f two.txt"]),
    ]
  ).yaml

  static func request(_ id: Int, _ method: String, _ params: String = "{}") -> String {
    #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#
  }

  static let initialize =
    request(
      1, "initialize", #"{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}"#
    )
    + "\n" + #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#

  static func tool(_ id: Int, _ name: String, _ arguments: String) -> String {
    request(id, "tools/call", #"{"name":"\#(name)","arguments":\#(arguments)}"#)
  }

  /// Responses by id, from the server's standard output.
  static func responses(_ stdout: String) throws -> [Int: [String: Any]] {
    var byID: [Int: [String: Any]] = [:]
    for line in stdout.split(separator: "\n") {
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      if let object, let id = object["id"] as? Int { byID[id] = object }
    }
    return byID
  }

  static func result(_ response: [String: Any]?) -> [String: Any] { response?["result"] as? [String: Any] ?? [:] }

  @Test("answers every request sent before standard input closes, in order, and writes only protocol to stdout")
  func answersEverythingBeforeEOF() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan)
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    // The requests arrive at once and the input closes right after the last (a slow checkpoint).
    let input =
      [
        Self.initialize, Self.request(2, "tools/list"),
        Self.tool(3, "get_next_subtask", #"{"master_task_id":"demo"}"#),
        Self.tool(4, "validate_checkpoint", #"{"master_task_id":"demo","subtask_id":"one"}"#),
        Self.tool(5, "get_decomposition_status", #"{"master_task_id":"demo"}"#),
      ].joined(separator: "\n") + "\n"
    let out = box.orchestrate("mcp", "--log-level", "info", input: input)
    #expect(out.status == 0, "\(out.stderr)")
    let responses = try Self.responses(out.stdout)
    #expect(Set(responses.keys) == [1, 2, 3, 4, 5], "\(out.stdout)")
    #expect(
      out.stdout.split(separator: "\n").count == 5, "stdout carries something besides the protocol: \(out.stdout)")
    // In order: the validation saw the branch get_next_subtask prepared, and failed on the undone work.
    let validation = Self.result(responses[4])["structuredContent"] as? [String: Any]
    #expect(validation?["passed"] as? Bool == false)
    let status = Self.result(responses[5])["structuredContent"] as? [String: Any]
    #expect((status?["subtask_details"] as? [[String: Any]])?.first?["state"] as? String == "in_progress")
    #expect(out.stderr.contains("standard input closed"))
    // At the default level (warning) the routine lines stay out of the client's log.
    let quiet = box.orchestrate("mcp", input: Self.initialize + "\n")
    #expect(quiet.status == 0 && !quiet.stderr.contains("standard input closed"), "\(quiet.stderr)")
  }

  @Test("a request still running when input closes is answered before the server exits")
  func slowLastRequestAnswered() throws {
    let box = try TemporaryRepository()
    let plan = TestPlan(
      id: "slow", description: nil,
      subtasks: [.init(id: "wait", description: "Wait a little", checkpoint: ["sleep 1", "true"])])
    try box.write("plan.yml", plan.yaml)
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    let input =
      [
        Self.initialize, Self.tool(2, "complete_subtask", #"{"master_task_id":"slow","subtask_id":"wait"}"#),
      ].joined(separator: "\n") + "\n"
    let out = box.orchestrate("mcp", input: input)
    #expect(out.status == 0, "\(out.stderr)")
    let completed = Self.result(try Self.responses(out.stdout)[2])["structuredContent"] as? [String: Any]
    #expect(completed?["completed"] as? Bool == true, "\(out.stdout)")
    #expect(try box.git("log", "-1", "--format=%s", "main") == "Wait a little")
  }

  @Test("while the server holds the lock a CLI run is refused with exit 3; after it exits, run works")
  func runRefusedWhileServerHoldsLock() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", Self.plan)
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    let server = Process()
    server.executableURL = orchestrateBinary
    server.arguments = ["mcp"]
    server.currentDirectoryURL = box.url
    server.environment = box.environment
    let input = Pipe()
    let output = Pipe()
    server.standardInput = input
    server.standardOutput = output
    server.standardError = FileHandle.nullDevice
    try server.run()
    input.fileHandleForWriting.write(
      Data((Self.initialize + "\n" + Self.tool(2, "get_next_subtask", #"{"master_task_id":"demo"}"#) + "\n").utf8))
    // Read until the tool call is answered: from then on the server holds the lock.
    var received = ""
    while !received.contains(#""id":2"#) {
      let chunk = output.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      received += String(decoding: chunk, as: UTF8.self)
    }
    #expect(received.contains(#""has_next":true"#), "\(received)")

    let refused = box.orchestrate("run", "demo")
    #expect(refused.status == 3, "\(refused.stdout)\n\(refused.stderr)")
    #expect(refused.stderr.contains("mcp"), "the refusal should name the MCP server: \(refused.stderr)")
    // Reading works meanwhile.
    #expect(box.orchestrate("status", "demo").status == 0)

    try input.fileHandleForWriting.close()
    server.waitUntilExit()
    #expect(server.terminationStatus == 0)
    let run = box.orchestrate("run", "demo")
    #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    #expect(try box.mainSubjects().prefix(2) == ["Second step", "First step"])
  }

  @Test("while a CLI run holds the lock, changing tools are tool errors with the lock message; reading tools work")
  func serverRefusedWhileRunHoldsLock() throws {
    let box = try TemporaryRepository()
    let plan = TestPlan(
      id: "held", description: nil,
      subtasks: [
        .init(
          id: "block", description: "Block until released", run: ["\(box.waitForSignal("release")); echo ok > ok.txt"],
          checkpoint: ["test -f ok.txt"])
      ])
    try box.write("plan.yml", plan.yaml)
    let log = box.root.appendingPathComponent("run.log")
    let run = try box.start(["run", "plan.yml"], log: log)
    defer { box.signal("release") }
    try #require(eventually("the run to take the lock") { box.isLocked })
    let input =
      [
        Self.initialize, Self.tool(2, "get_next_subtask", #"{"master_task_id":"held"}"#),
        Self.tool(3, "get_decomposition_status", #"{"master_task_id":"held"}"#),
        Self.tool(4, "list_plans", "{}"),
      ].joined(separator: "\n") + "\n"
    let out = box.orchestrate("mcp", input: input)
    box.signal("release")
    run.waitUntilExit()
    #expect(run.terminationStatus == 0)
    let responses = try Self.responses(out.stdout)
    let refused = Self.result(responses[2])
    #expect(refused["isError"] as? Bool == true)
    let message = (refused["structuredContent"] as? [String: Any])?["error"] as? String ?? ""
    #expect(message.contains("another git orchestrate"), "\(message)")
    #expect(message.contains("run"), "\(message)")
    #expect(Self.result(responses[3])["isError"] as? Bool != true)
    #expect(Self.result(responses[4])["isError"] as? Bool != true)
  }

  @Test("mcp --no-plan-creation: decompose_task stores nothing; the stored plans still run")
  func noPlanCreationOption() throws {
    let box = try TemporaryRepository()
    let input =
      [
        Self.initialize,
        Self.tool(
          2, "decompose_task",
          #"{"task_id":"other","subtasks":[{"id":"a","checkpoint":{"commands":["true"]}}]}"#),
      ].joined(separator: "\n") + "\n"
    let out = box.run(orchestrateBinary.path, ["mcp", "--no-plan-creation"], in: box.url, input: input)
    #expect(out.status == 0, "\(out.stderr)")
    let result = Self.result(try Self.responses(out.stdout)[2])
    #expect(result["isError"] as? Bool == true, "\(out.stdout)")
    #expect(out.stdout.contains("no-plan-creation"), "\(out.stdout)")
    #expect((try? box.git("rev-parse", "--verify", "-q", "refs/orchestrate/plans/other")) == nil)
  }
}
