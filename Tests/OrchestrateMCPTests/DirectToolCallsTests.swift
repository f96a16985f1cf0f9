import Foundation
import Logging
import MCP
import Testing

@testable import OrchestrateMCP

/// `tools/call` requests are answered without the SDK's decoding, exactly as the SDK would answer
/// them; everything else reaches the SDK untouched.
@Suite("Direct tool calls")
struct DirectToolCallsTests {
  @Test("a plain tools/call request is read once; anything else is left to the SDK")
  func reads() throws {
    let plain = ToolCallRequest.read(
      Data(
        #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_plans","arguments":{"a":[1,2.5,null,true,{"b":"c"}]}}}"#
          .utf8))
    #expect(plain?.id == .number(7))
    #expect(plain?.name == "list_plans")
    #expect(plain?.arguments == ["a": [.int(1), .double(2.5), .null, .bool(true), ["b": "c"]]])
    #expect(
      ToolCallRequest.read(
        Data(
          #"{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"n","_meta":{"progressToken":1}}}"#.utf8))?
        .id == .string("x"))
    for text in [
      #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
      #"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"n"}}"#,  // a notification
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,  // no params: the SDK's error
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}"#,  // no name
      #"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"n"}}"#,
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n","arguments":[1]}}"#,
      #"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n"}}]"#,  // a batch
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n"}"#,  // cut short
    ] {
      #expect(ToolCallRequest.read(Data(text.utf8)) == nil, "\(text)")
    }
  }

  @Test("argument strings reach the tool as sent, data URLs included")
  func keepsStrings() {
    let request = ToolCallRequest.read(
      Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n","arguments":{"id":"data:,x"}}}"#.utf8))
    #expect(request?.arguments?["id"] == .string("data:,x"))
  }

  @Test("the answer is the SDK's, byte for byte; other messages pass through in order")
  func answers() async throws {
    let wire = MemoryTransport()
    let direct = DirectToolCalls(wire) { name, arguments in
      let object: Value = [
        "called": .string(name), "id": arguments?["id"] ?? .null, "path": "a/b", "percentage": .double(50),
        "text": "a \"quoted\" line\nand a tab\t, a backslash \\ and é ✓", "nested": ["list": [1, true, .null]],
      ]
      return (object, name == "fails" ? true : nil)
    }
    try await direct.connect()
    let incoming = await direct.receive()
    wire.feed(#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}"#)
    wire.feed(#"{"jsonrpc":"2.0","id":"r","method":"tools/call","params":{"name":"t","arguments":{"id":"data:,x"}}}"#)
    wire.feed(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
    wire.feed(#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"fails"}}"#)
    wire.end()
    var passed: [String] = []
    for try await data in incoming { passed.append(String(decoding: data, as: UTF8.self)) }
    #expect(passed.count == 2)
    #expect(passed.first?.contains("initialize") == true)
    #expect(passed.last?.contains("notifications/initialized") == true)

    let sent = try await eventually { await wire.sent.count == 2 ? await wire.sent : nil }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    for (data, (id, name, argument, isError)) in zip(
      sent, [(ID.string("r"), "t", Value.string("data:,x"), Bool?.none), (ID.number(9), "fails", Value.null, true)])
    {
      let object: Value = [
        "called": .string(name), "id": argument, "path": "a/b", "percentage": .double(50),
        "text": "a \"quoted\" line\nand a tab\t, a backslash \\ and é ✓", "nested": ["list": [1, true, .null]],
      ]
      // What the SDK's server sent for the same result (OrchestrationServer.result's form).
      let expected = CallTool.response(id: id, result: OrchestrationServer.result(object, isError: isError))
      #expect(String(decoding: data, as: UTF8.self) == String(decoding: try encoder.encode(expected), as: UTF8.self))
    }
    #expect(String(decoding: sent[0], as: UTF8.self).contains(#""path":"a/b""#))
  }

  @Test("values are written as the SDK's encoder writes them")
  func writesValues() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let keys = [
      "a10", "a2", "B", "a", "_x", "aB", "a_b", "é", "z", "A", "ab", "", "a b", "\u{1F600}", "\"q\"", "e\u{301}",
    ]
    let numbers: [Value] = [
      .double(50), .double(33.333333333333336), .double(0.1), .double(-0.0), .double(1e-7), .double(1e21),
      .double(2_147_483_647), .double(2_147_483_648), .double(-3), .double(1e15), .int(-9), .int(Int.max),
    ]
    let strings: [Value] = [
      "", "plain", "a/b", "tab\t nl\n cr\r bs\\ q\" bell\u{7} nul\u{0} del\u{7f} \u{2028} é ✓ \u{1F600}",
      .string(String(decoding: (0..<32).map { UInt8($0) }, as: UTF8.self)),
    ]
    var object: [String: Value] = [:]
    for (index, key) in keys.enumerated() { object[key] = index % 2 == 0 ? .int(index) : .string(key) }
    let values: [Value] =
      numbers + strings + [
        .null, .bool(true), .bool(false), [], [:], .object(object),
        ["list": .array(numbers + strings + [.null, ["nested": [1, [:], []]]])],
      ]
    for value in values {
      #expect(try ValueJSON.bytes(value) == Array(encoder.encode(value)), "\(value)")
    }
  }

  @Test("a request is read without JSONDecoder only as JSONDecoder reads it")
  func readsPlainRequests() throws {
    let plain = [
      #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_next_subtask","arguments":{"master_task_id":"p"}}}"#,
      #"{"jsonrpc": "2.0", "id": "x", "method": "tools/call", "params": {"name": "n", "arguments": {"a": [1, -2, 0, true, false, null, {"b": "\u00e9\n\"\/\ud83d\ude00"}], "c": {}}}}"#,
      #" { "method":"tools/call","params":{"arguments":null,"name":"n","other":[1,{"k":"v"}]},"id":1,"jsonrpc":"2.0","extra":"e" } "#,
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"é ✓","arguments":{"s":"data:,x","t":"a\tb"}}}"#,
    ]
    for text in plain {
      let data = Data(text.utf8)
      let read = try #require(ToolCallRequest.plain(data), "\(text)")
      let decoded = try JSONDecoder().decode(ToolCallRequest.self, from: data)
      #expect(read.id == decoded.id && read.name == decoded.name && read.arguments == decoded.arguments, "\(text)")
    }
    // Left to JSONDecoder: numbers that are not plain integers, keys twice, _meta, and anything malformed.
    for text in [
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n","arguments":{"a":1.5}}}"#,
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n","arguments":{"a":1e3}}}"#,
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n","arguments":{"a":-0}}}"#,
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n","arguments":{"a":01}}}"#,
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n","arguments":{"a":1,"a":2}}}"#,
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n","_meta":{"progressToken":1}}}"#,
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n","arguments":{"a":"\ud800"}}}"#,
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n","arguments":[1]}}"#,
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n"}} x"#,
      #"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"a\u{1}b\"}}",
    ] {
      #expect(ToolCallRequest.plain(Data(text.utf8)) == nil, "\(text)")
    }
    #expect(
      ToolCallRequest.plain(
        Data(
          [UInt8](#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":""#.utf8) + [0xFF]
            + Array(#""}}"#.utf8))) == nil)
  }

  /// Waits up to five seconds for `value` to give something.
  func eventually<T>(_ value: () async -> T?) async throws -> T {
    for _ in 0..<500 {
      if let found = await value() { return found }
      try await Task.sleep(for: .milliseconds(10))
    }
    throw CancellationError()
  }
}

/// A transport whose incoming messages a test writes and whose outgoing ones it reads.
actor MemoryTransport: Transport {
  nonisolated let logger = Logger(label: "test.memory", factory: { _ in SwiftLogNoOpLogHandler() })
  private(set) var sent: [Data] = []
  private nonisolated let stream: AsyncThrowingStream<Data, Error>
  private nonisolated let continuation: AsyncThrowingStream<Data, Error>.Continuation

  init() {
    (stream, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
  }

  func connect() async throws {}
  func disconnect() async { continuation.finish() }
  func send(_ data: Data) async throws { sent.append(data) }
  func receive() -> AsyncThrowingStream<Data, Error> { stream }

  nonisolated func feed(_ text: String) { continuation.yield(Data(text.utf8)) }
  nonisolated func end() { continuation.finish() }
}
