import Foundation
import Logging
import MCP
import OrchestrateKit

/// Answers `tools/call` requests itself, each decoded once, and passes every other message on to
/// the SDK's `Server` unchanged.
///
/// The SDK decodes an incoming message up to three times before it knows it is a request (as a
/// batch, then a response, then a request), encodes and decodes it again for the typed handler, and
/// turns the handler's result into its generic `Value` and back through JSON before encoding the
/// answer. Every string decoded as a `Value` goes through `Data.isDataURL`, which builds and
/// compiles a Regex on each call, so a `get_next_subtask` answer (its prompt is in it twice) spent
/// most of the server's time there. Here a plain `tools/call` request (one object, an integer or
/// string id, `params` with a tool name) is decoded once, the tool runs as the SDK's handler would
/// run it, and the answer is encoded in the SDK's form (sorted keys, slashes unescaped), its object
/// once: every tool of this server answers with an object sent both as `structuredContent` and as the
/// JSON text of its one content item (`OrchestrationServer.result`), and the text's bytes are the
/// object's encoding. A request read otherwise goes to the SDK, which answers it as before, errors
/// included.
///
/// One difference, on purpose: argument strings reach the tool as sent. The SDK turns a string that
/// looks like a data URL (`data:,x`) into bytes, whose text comes back re-encoded.
public actor DirectToolCalls: Transport {
  /// Runs one tool call: the object it answers with, and `true` for a tool error.
  public typealias Handler =
    @Sendable (_ name: String, _ arguments: [String: Value]?) async -> (
      object: Value, isError: Bool?
    )

  private let inner: any Transport
  private let handler: Handler
  public nonisolated let logger: Logger
  private let stream: AsyncThrowingStream<Data, Error>
  private let continuation: AsyncThrowingStream<Data, Error>.Continuation
  private var pump: Task<Void, Never>?

  /// - Parameters:
  ///   - inner: the transport the messages come from and the answers go to (an `OrderedTransport`,
  ///     which hands over the next request only once this one is answered).
  ///   - handler: runs one tool call, as the server's `CallTool` handler does.
  public init(_ inner: any Transport, logger: Logger? = nil, handler: @escaping Handler) {
    self.inner = inner
    self.handler = handler
    self.logger = logger ?? Logger(label: "git-orchestrate.mcp.direct", factory: { _ in SwiftLogNoOpLogHandler() })
    (stream, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
  }

  public func connect() async throws {
    try await inner.connect()
    let incoming = await inner.receive()
    let continuation = continuation
    pump = Task { [weak self] in
      do {
        for try await data in incoming {
          if let call = ToolCallRequest.read(data) {
            await self?.answer(call)
          } else {
            continuation.yield(data)
          }
        }
        continuation.finish()
      } catch {
        continuation.finish(throwing: error)
      }
    }
  }

  public func disconnect() async {
    pump?.cancel()
    await inner.disconnect()
    continuation.finish()
  }

  public func send(_ data: Data) async throws {
    try await inner.send(data)
  }

  public func receive() -> AsyncThrowingStream<Data, Error> { stream }

  /// Runs the call and sends its answer before the next message is read: the inner transport
  /// hands over one request at a time anyway, and a task per call cost a thread hop on every call.
  /// Notifications that arrive meanwhile wait in the stream (no tool heeds a cancellation).
  private func answer(_ call: ToolCallRequest) async {
    let answer = await handler(call.name, call.arguments)
    guard let data = Self.response(to: call, answer, logger: logger) else { return }
    do {
      try await inner.send(data)
    } catch {
      logger.error("cannot send the answer to \(call.name): \(error)")
    }
  }

  /// The bytes to send for `answer`: the tool's result, or, when it cannot be encoded (logged), an
  /// internal error; nil when not even that can be.
  static func response(to call: ToolCallRequest, _ answer: (object: Value, isError: Bool?), logger: Logger) -> Data? {
    do {
      return try encode(id: call.id, object: answer.object, isError: answer.isError)
    } catch {
      logger.error("cannot encode the answer to \(call.name): \(error)")
      return try? encoder.encode(
        CallTool.response(id: call.id, error: MCPError.internalError(error.localizedDescription)))
    }
  }

  /// The response `{id, jsonrpc, result: {content: [{text, type}], isError?, structuredContent}}`,
  /// written as the SDK's encoder writes it (sorted keys, slashes unescaped) with the object
  /// encoded once: its bytes are `structuredContent`, and their text is the content item's.
  static func encode(id: ID, object: Value, isError: Bool?) throws -> Data {
    let json = try ValueJSON.bytes(object)
    let text = String(decoding: json, as: UTF8.self)
    var response = JSONWriter(pretty: false, capacity: 2 * json.count + 160)
    response.object { top in
      top.field("id") {
        switch id {
        case .string(let name): $0.string(name)
        case .number(let number): $0.integer(number)
        }
      }
      top.field("jsonrpc") { $0.string("2.0") }
      top.field("result") {
        $0.object { result in
          result.field("content") {
            $0.array([text]) { item, text in
              item.object {
                $0.field("text") { $0.string(text) }
                $0.field("type") { $0.string("text") }
              }
            }
          }
          if let isError { result.field("isError") { $0.boolean(isError) } }
          result.field("structuredContent") { $0.raw(json) }
        }
      }
    }
    return Data(response.bytes)
  }

  /// The SDK's own output format for every message it sends.
  static var encoder: JSONEncoder { ValueJSON.encoder }
}

/// A `tools/call` request, read once; `nil` for anything else or anything not plainly formed.
struct ToolCallRequest: Decodable {
  let id: ID
  let name: String
  let arguments: [String: Value]?

  static func read(_ data: Data) -> ToolCallRequest? {
    // The top level first, without building it: only requests named tools/call are decoded.
    guard let top = Envelope.read(data), top.method == CallTool.name, top.id != nil, !top.hasResult, !top.hasError
    else { return nil }
    if let plain = plain(data) { return plain }
    return try? JSONDecoder().decode(ToolCallRequest.self, from: data)
  }

  init(id: ID, name: String, arguments: [String: Value]?) {
    self.id = id
    self.name = name
    self.arguments = arguments
  }

  /// The request read without `JSONDecoder` (a tenth of a `get_next_subtask` went to decoding its
  /// few bytes): only when it is plainly formed, with no `_meta`, no key twice and no number but
  /// an integer; `nil` leaves anything else to `JSONDecoder`, which decides as before.
  static func plain(_ data: Data) -> ToolCallRequest? {
    data.withUnsafeBytes { raw in
      var reader = PlainJSONReader(bytes: raw.bindMemory(to: UInt8.self))
      return try? reader.toolCall()
    }
  }

  private enum Keys: String, CodingKey { case jsonrpc, id, method, params }
  private enum ParameterKeys: String, CodingKey { case name, arguments, _meta }

  init(from decoder: Decoder) throws {
    let top = try decoder.container(keyedBy: Keys.self)
    guard try top.decode(String.self, forKey: .jsonrpc) == "2.0" else {
      throw DecodingError.dataCorruptedError(forKey: .jsonrpc, in: top, debugDescription: "not JSON-RPC 2.0")
    }
    id = try top.decode(ID.self, forKey: .id)
    let parameters = try top.nestedContainer(keyedBy: ParameterKeys.self, forKey: .params)
    name = try parameters.decode(String.self, forKey: .name)
    // Read as the SDK reads it (a malformed `_meta` is the SDK's to refuse), though no tool uses it.
    _ = try parameters.decodeIfPresent(Metadata.self, forKey: ._meta)
    arguments = try parameters.decodeIfPresent([String: PlainValue].self, forKey: .arguments)?.mapValues(\.value)
  }
}

/// A JSON value decoded as the SDK's `Value` decodes one, except that a string stays a string.
struct PlainValue: Decodable {
  let value: Value

  init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    // Strings first (most arguments are): a JSON string decodes as nothing else, and each failed
    // attempt builds an error. Bool before the numbers, as the SDK's `Value` does.
    if let text = try? container.decode(String.self) {
      value = .string(text)
    } else if container.decodeNil() {
      value = .null
    } else if let flag = try? container.decode(Bool.self) {
      value = .bool(flag)
    } else if let number = try? container.decode(Int.self) {
      value = .int(number)
    } else if let number = try? container.decode(Double.self) {
      value = .double(number)
    } else if let items = try? container.decode([PlainValue].self) {
      value = .array(items.map(\.value))
    } else if let entries = try? container.decode([String: PlainValue].self) {
      value = .object(entries.mapValues(\.value))
    } else {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
    }
  }
}

/// A strict JSON reader for the plainest messages: anything it is not sure to read as
/// `JSONDecoder` would (a number with a fraction or exponent, a key given twice, text that is not
/// UTF-8, …) throws, and the caller hands the message to `JSONDecoder`.
struct PlainJSONReader {
  struct NotPlain: Error {}

  let bytes: UnsafeBufferPointer<UInt8>
  var at = 0

  /// `{jsonrpc: "2.0", id, method, params: {name, arguments?}}`, other keys read and ignored.
  mutating func toolCall() throws -> ToolCallRequest {
    var id: ID?
    var name: String?
    var arguments: [String: Value]?
    var version: String?
    var seen = Set<String>()
    try members(&seen) { reader, key in
      switch key {
      case "jsonrpc": version = try reader.string()
      case "id":
        switch try reader.value() {
        case .string(let text): id = .string(text)
        case .int(let number): id = .number(number)
        default: throw NotPlain()
        }
      case "params":
        var seenParameters = Set<String>()
        try reader.members(&seenParameters) { reader, key in
          switch key {
          case "name": name = try reader.string()
          case "arguments":
            switch try reader.value() {
            case .object(let entries): arguments = entries
            case .null: arguments = nil
            default: throw NotPlain()
            }
          case "_meta": throw NotPlain()  // the SDK's `Metadata` decides what is well formed
          default: _ = try reader.value()
          }
        }
      default: _ = try reader.value()
      }
    }
    space()
    guard at == bytes.count, version == "2.0", let id, let name, seen.contains("params") else { throw NotPlain() }
    return ToolCallRequest(id: id, name: name, arguments: arguments)
  }

  mutating func space() {
    while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 {
      at += 1
    }
  }

  mutating func expect(_ byte: UInt8) throws {
    space()
    guard at < bytes.count, bytes[at] == byte else { throw NotPlain() }
    at += 1
  }

  /// The members of an object, each key once, `body` reading each value.
  mutating func members(_ seen: inout Set<String>, _ body: (inout PlainJSONReader, String) throws -> Void) throws {
    try expect(UInt8(ascii: "{"))
    space()
    if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
      at += 1
      return
    }
    while true {
      space()
      let key = try string()
      guard seen.insert(key).inserted else { throw NotPlain() }
      try expect(UInt8(ascii: ":"))
      try body(&self, key)
      space()
      guard at < bytes.count else { throw NotPlain() }
      let byte = bytes[at]
      at += 1
      if byte == UInt8(ascii: "}") { return }
      guard byte == UInt8(ascii: ",") else { throw NotPlain() }
    }
  }

  mutating func value() throws -> Value {
    space()
    guard at < bytes.count else { throw NotPlain() }
    switch bytes[at] {
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "{"):
      var entries: [String: Value] = [:]
      var seen = Set<String>()
      try members(&seen) { reader, key in entries[key] = try reader.value() }
      return .object(entries)
    case UInt8(ascii: "["):
      at += 1
      var items: [Value] = []
      space()
      if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
        at += 1
        return .array(items)
      }
      while true {
        items.append(try value())
        space()
        guard at < bytes.count else { throw NotPlain() }
        let byte = bytes[at]
        at += 1
        if byte == UInt8(ascii: "]") { return .array(items) }
        guard byte == UInt8(ascii: ",") else { throw NotPlain() }
      }
    case UInt8(ascii: "t"):
      try word("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try word("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try word("null")
      return .null
    default:
      return .int(try integer())
    }
  }

  private mutating func word(_ text: StaticString) throws {
    let count = text.utf8CodeUnitCount
    guard at + count <= bytes.count else { throw NotPlain() }
    for index in 0..<count where bytes[at + index] != text.utf8Start[index] { throw NotPlain() }
    at += count
  }

  /// `-?[1-9][0-9]*` or `0`, up to 18 digits; anything else is `JSONDecoder`'s.
  private mutating func integer() throws -> Int {
    var negative = false
    if at < bytes.count, bytes[at] == UInt8(ascii: "-") {
      negative = true
      at += 1
    }
    let start = at
    var number = 0
    while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
      number = number * 10 + Int(bytes[at] - UInt8(ascii: "0"))
      at += 1
    }
    let digits = at - start
    guard digits > 0, digits <= 18, bytes[start] != UInt8(ascii: "0") || (digits == 1 && !negative) else {
      throw NotPlain()
    }
    if at < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[at]) {
      throw NotPlain()
    }
    return negative ? -number : number
  }

  /// A string, its escapes read; its bytes must be UTF-8.
  mutating func string() throws -> String {
    try expect(UInt8(ascii: "\""))
    let start = at
    // The common case: no escape, so the bytes are the string's.
    while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\") {
      guard bytes[at] >= 0x20 else { throw NotPlain() }
      at += 1
    }
    guard at < bytes.count else { throw NotPlain() }
    var text = Array(bytes[start..<at])
    while bytes[at] == UInt8(ascii: "\\") {
      at += 1
      guard JSONEscape.read(bytes, at: &at, into: &text) else { throw NotPlain() }
      while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\") {
        guard bytes[at] >= 0x20 else { throw NotPlain() }
        text.append(bytes[at])
        at += 1
      }
      guard at < bytes.count else { throw NotPlain() }
    }
    at += 1  // the closing quote
    guard let string = String(validating: text, as: UTF8.self) else { throw NotPlain() }
    return string
  }
}
