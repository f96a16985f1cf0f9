import Foundation
import TestSupport
import Testing

/// Hostile and clumsy input through the CLI and the MCP server: every one is refused with a
/// message (exit 2, or an error reply), nothing is written under refs/, and the server keeps answering.
@Suite("bad input", .serialized)
struct BadInputTests {
  static let subtask = #"subtasks: [{id: a, description: d, run: ["true"], checkpoint: {commands: ["true"]}}]"#

  /// Plan files that must each be refused: name → content.
  static func hostilePlans() -> [(String, Data)] {
    func plan(_ head: String) -> Data { Data((head + "\n" + subtask + "\n").utf8) }
    func sub(_ id: String) -> Data {
      Data(
        ("id: ok\nsubtasks: [{id: \"\(id)\", description: d, run: [\"true\"], checkpoint: {commands: [\"true\"]}}]\n")
          .utf8)
    }
    var deepBlock = ""
    for depth in 0..<400 { deepBlock += String(repeating: " ", count: depth) + "k:\n" }
    var laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    for n in 1..<12 {
      laughs += "a\(n): &a\(n) [" + Array(repeating: "*a\(n - 1)", count: 9).joined(separator: ", ") + "]\n"
    }
    return [
      // Ids that try to be paths, ref syntax or shell text.
      ("id-dotdot.yml", plan("id: ../../evil")),
      ("id-absolute.yml", plan("id: /etc/passwd")),
      ("id-refs.yml", plan("id: refs/heads/main")),
      ("id-reflog.yml", plan("id: 'main@{1}'")),
      ("id-head.yml", plan("id: HEAD")),
      ("id-lock.yml", plan("id: x.lock")),
      ("id-dash.yml", plan("id: --upload-pack=touch")),
      ("id-subshell.yml", plan("id: '$(touch pwned)'")),
      ("id-backtick.yml", plan("id: \"`touch pwned`\"")),
      ("id-semicolon.yml", plan("id: 'a;touch pwned'")),
      ("id-newline.yml", plan(#"id: "a\nb""#)),
      ("id-nul.yml", plan(#"id: "a\u0000b""#)),
      ("id-long.yml", plan("id: " + String(repeating: "a", count: 300))),
      ("sub-dotdot.yml", sub("../x")),
      ("sub-colon.yml", sub("a:b")),
      ("sub-glob.yml", sub("a*")),
      ("sub-tilde.yml", sub("a~1")),
      ("sub-space.yml", sub("a b")),
      ("main-dotdot.yml", plan("id: ok\nmain_branch: ../../x")),
      ("main-space.yml", plan("id: ok\nmain_branch: 'x y'")),
      // Wrong types.
      ("type-id.yml", plan("id: [1, 2]")),
      ("type-subtasks.yml", Data("id: ok\nsubtasks: 42\n".utf8)),
      ("type-commands.yml", Data("id: ok\nsubtasks: [{id: a, description: d, checkpoint: {commands: {x: 1}}}]\n".utf8)),
      ("type-attempts.yml", plan("id: ok\nmax_attempts: lots")),
      ("type-timeout.yml", plan("id: ok\ntimeout: [1]")),
      (
        "type-run.yml",
        Data("id: ok\nsubtasks: [{id: a, description: d, run: 7, checkpoint: {commands: [\"true\"]}}]\n".utf8)
      ),
      ("type-root-list.yml", Data("- 1\n- 2\n".utf8)),
      ("type-root-scalar.yml", Data("just a string\n".utf8)),
      ("type-json.json", Data(#"{"id": 5, "subtasks": "no"}"#.utf8)),
      (
        "no-commands.yml",
        Data("id: ok\nsubtasks: [{id: a, description: d, run: [\"true\"], checkpoint: {commands: []}}]\n".utf8)
      ),
      // Empty, binary, huge, deep, self-expanding.
      ("empty.yml", Data()),
      ("control.yml", Data("id: a\u{1}\u{2}\n".utf8)),
      ("binary.yml", Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 0x80) })),
      ("huge.yml", Data(repeating: UInt8(ascii: "a"), count: 11 * 1024 * 1024)),
      ("deep-flow.yml", Data(String(repeating: "[", count: 100_000).utf8)),
      ("deep-block.yml", Data(deepBlock.utf8)),
      (
        "deep-json.json",
        Data((String(repeating: #"{"a":"#, count: 5000) + "1" + String(repeating: "}", count: 5000)).utf8)
      ),
      ("laughs.yml", Data(laughs.utf8)),
    ]
  }

  @Test("a corpus of hostile plans: plan validate, plan add and run each exit 2 with a message; refs untouched")
  func hostilePlanCorpus() throws {
    let box = try TemporaryRepository()
    let corpus = box.root.appendingPathComponent("corpus")
    try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
    let refs = try box.git("for-each-ref")
    for (name, content) in Self.hostilePlans() {
      let file = corpus.appendingPathComponent(name)
      try content.write(to: file)
      for command in [["plan", "validate"], ["plan", "add"], ["run"]] {
        let out = box.orchestrate(command + [file.path])
        #expect(out.status == 2, "\(name) \(command): exit \(out.status)\n\(out.stdout)\n\(out.stderr)")
        #expect(out.stderr.hasPrefix("git orchestrate: invalid plan "), "\(name) \(command): \(out.stderr.prefix(300))")
        #expect(out.stderr.contains(name), "\(name) \(command): the message should name the file")
        #expect(!out.stderr.contains("Fatal error") && !out.stderr.contains("crashed"), "\(name)")
        #expect(out.stderr.utf8.count < 4000, "\(name) \(command): a message of \(out.stderr.utf8.count) bytes")
        #expect(out.stdout.isEmpty, "\(name) \(command): \(out.stdout.prefix(300))")
      }
    }
    #expect(try box.git("for-each-ref") == refs)
    #expect(!FileManager.default.fileExists(atPath: box.url.appendingPathComponent("pwned").path))
    #expect(!FileManager.default.fileExists(atPath: box.workdirRoot.path))
  }

  @Test("plan names on the command line that try to be paths, refs or shell text: exit 2, refs untouched")
  func hostilePlanArguments() throws {
    let box = try TemporaryRepository()
    let refs = try box.git("for-each-ref")
    for argument in ["../../etc", "HEAD", "refs/heads/main", "main@{1}", "$(touch pwned)", "-", "a\nb", ".git/config"] {
      for command in [["run"], ["status"], ["plan", "show"]] {
        let out = box.orchestrate(command + [argument])
        #expect(out.status == 2, "\(command) \(argument): exit \(out.status)\n\(out.stderr)")
        #expect(out.stderr.hasPrefix("git orchestrate: "), "\(command) \(argument): \(out.stderr)")
      }
    }
    #expect(try box.git("for-each-ref") == refs)
    #expect(!FileManager.default.fileExists(atPath: box.url.appendingPathComponent("pwned").path))
  }

  @Test("bad orchestrate.* configuration values: exit 2 with a message naming the key and the fix, refs untouched")
  func badConfiguration() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", RunTests.simple(id: "conf").yaml)
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    let refs = try box.git("for-each-ref")
    let cases: [(key: String, value: String, expected: String)] = [
      ("orchestrate.mainBranch", "../x", "orchestrate.mainBranch '../x' is not a valid branch name"),
      ("orchestrate.mainBranch", "a b", "orchestrate.mainBranch 'a b' is not a valid branch name"),
      ("orchestrate.maxAttempts", "lots", "orchestrate.maxAttempts 'lots' is not a whole number"),
      ("orchestrate.maxAttempts", "0", "orchestrate.maxAttempts must be at least 1"),
    ]
    for (key, value, expected) in cases {
      try box.git("config", key, value)
      let out = box.orchestrate("run", "conf")
      #expect(out.status == 2, "\(key)=\(value): exit \(out.status)\n\(out.stderr)")
      #expect(out.stderr.contains(expected), "\(key)=\(value): \(out.stderr)")
      #expect(out.stderr.contains("git config \(key)"), "\(out.stderr)")
      #expect(!out.stderr.contains("(git_"), "a libgit2 function name alone: \(out.stderr)")
      try box.git("config", "--unset", key)
      #expect(try box.git("for-each-ref") == refs)
    }
  }

  // MARK: - MCP

  static func line(_ object: [String: Any]) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
  }

  @Test("the MCP server answers malformed JSON-RPC, unknown tools, wrong types and a 10 MB argument, then tools/list")
  func mcpBadInput() throws {
    let box = try TemporaryRepository()
    try box.write("plan.yml", MCPServerTests.plan)
    #expect(box.orchestrate("plan", "add", "plan.yml").status == 0)
    let refs = try box.git("for-each-ref")
    let big = String(repeating: "x", count: 10 * 1024 * 1024)
    func call(_ id: Int, _ name: String, _ arguments: Any) throws -> String {
      try Self.line([
        "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": ["name": name, "arguments": arguments],
      ])
    }
    let bad: [String] = [
      "this is not json",
      #"{"jsonrpc":"2.0","id":10,"method":"#,
      "[]",
      #"{"jsonrpc":"2.0","id":11}"#,
      #"{"jsonrpc":"1.0","id":12,"method":"tools/list"}"#,
      #"{"jsonrpc":"2.0","id":13,"method":"no/such/method"}"#,
      try call(14, "rm_rf", [String: Any]()),
      try call(15, "get_next_subtask", ["master_task_id": ["demo"]]),
      try call(16, "get_next_subtask", "demo"),
      #"{"jsonrpc":"2.0","id":17,"method":"tools/call","params":[]}"#,
      try call(18, "get_next_subtask", ["master_task_id": big]),
      try call(19, "decompose_task", ["master_task_id": "huge", "description": big, "subtasks": [Any]()]),
      try call(20, "validate_checkpoint", ["master_task_id": "demo", "subtask_id": 7]),
      try call(21, "complete_subtask", ["master_task_id": "../../x", "subtask_id": "one"]),
      try call(22, "decompose_task", ["master_task_id": "$(touch pwned)", "subtasks": "none"]),
    ]
    let input =
      ([MCPServerTests.initialize] + bad + [MCPServerTests.request(99, "tools/list")]).joined(separator: "\n") + "\n"
    let out = box.orchestrate("mcp", input: input)
    #expect(out.status == 0, "\(out.stderr.suffix(2000))")
    #expect(!out.stderr.contains("Fatal error") && !out.stderr.contains("crashed"))

    var byID: [String: [String: Any]] = [:]
    var lines = 0
    for text in out.stdout.split(separator: "\n") {
      lines += 1
      let object = try #require(
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text.prefix(300))")
      if let id = object["id"] { byID["\(id)"] = object }
    }
    // One reply per line sent, the notification excepted.
    #expect(lines == bad.count + 2, "\(out.stdout.prefix(3000))")
    for id in 11...22 {
      let reply = try #require(byID["\(id)"], "no reply to request \(id)")
      let isToolError = (reply["result"] as? [String: Any])?["isError"] as? Bool == true
      let error = reply["error"] as? [String: Any]
      #expect(isToolError || error?["message"] is String, "request \(id): \(String(describing: reply).prefix(500))")
    }
    // Parse errors and the empty batch: JSON-RPC errors.
    let codes = byID.values.compactMap { ($0["error"] as? [String: Any])?["code"] as? Int }
    #expect(codes.filter { $0 == -32700 }.count >= 2)
    #expect(codes.contains(-32601))
    let unknownTool = (byID["14"]?["result"] as? [String: Any])?["structuredContent"] as? [String: Any]
    #expect((unknownTool?["error"] as? String)?.contains("no tool 'rm_rf'") == true)
    // The server still answers.
    let tools = (byID["99"]?["result"] as? [String: Any])?["tools"] as? [[String: Any]]
    #expect(
      tools?.compactMap { $0["name"] as? String }.contains("get_next_subtask") == true, "\(out.stdout.suffix(500))")
    #expect(try box.git("for-each-ref") == refs)
    #expect(!FileManager.default.fileExists(atPath: box.url.appendingPathComponent("pwned").path))
  }
}
