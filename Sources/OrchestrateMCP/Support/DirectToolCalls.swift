import Foundation
import Logging
import MCP

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
    let data: Data
    do {
      data = try Self.encode(id: call.id, object: answer.object, isError: answer.isError)
    } catch {
      logger.error("cannot encode the answer to \(call.name): \(error)")
      let failure = CallTool.response(id: call.id, error: MCPError.internalError(error.localizedDescription))
      guard let encoded = try? Self.encoder.encode(failure) else { return }
      data = encoded
    }
    do {
      try await inner.send(data)
    } catch {
      logger.error("cannot send the answer to \(call.name): \(error)")
    }
  }

  /// The response `{id, jsonrpc, result: {content: [{text, type}], isError?, structuredContent}}`
  /// with the object encoded once: `structuredContent` sorts last in `result`, and `result` last in
  /// the response, so the object's bytes go just before the two closing braces, where the encoder
  /// would have written the same bytes again.
  static func encode(id: ID, object: Value, isError: Bool?) throws -> Data {
    let json = try encoder.encode(object)
    let text = String(decoding: json, as: UTF8.self)
    let shell = CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)], isError: isError)
    var data = try encoder.encode(Response<CallTool>(id: id, result: shell))
    let closing = Data("}}".utf8)
    guard data.count > closing.count, data.suffix(closing.count) == closing else {
      return try encoder.encode(
        Response<CallTool>(id: id, result: OrchestrationServer.result(object, isError: isError)))
    }
    data.removeLast(closing.count)
    data.append(contentsOf: #","structuredContent":"#.utf8)
    data.append(json)
    data.append(closing)
    return data
  }

  /// The SDK's own output format for every message it sends.
  static var encoder: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }
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
    return try? JSONDecoder().decode(ToolCallRequest.self, from: data)
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
