import Foundation
import Logging
import MCP

/// Wraps a transport so that requests reach the server one at a time, in the order they arrived,
/// and the stream of incoming messages ends only once every request received has been answered.
///
/// The SDK handles each request in a task of its own, so two requests sent back to back could run
/// in either order, and when standard input closes its receive loop ends while handlers still run
/// (the process would exit before answering them). Holding each request until the previous one is
/// answered gives both: the order the client sent, and "answer everything received before EOF".
/// Notifications pass straight through; a cancellation of the request in flight releases it, since
/// a cancelled request gets no answer.
public actor OrderedTransport: Transport {
  private let inner: any Transport
  public nonisolated let logger: Logger
  private let stream: AsyncThrowingStream<Data, Error>
  private let continuation: AsyncThrowingStream<Data, Error>.Continuation
  /// Ids (as JSON text) of the request being handled; empty when none.
  private var inFlight: Set<String> = []
  private var queue: [(data: Data, ids: Set<String>)] = []
  private var inputEnded = false
  private var inputError: Error?
  private var pump: Task<Void, Never>?

  public init(_ inner: any Transport, logger: Logger? = nil) {
    self.inner = inner
    self.logger = logger ?? Logger(label: "git-orchestrate.mcp.transport", factory: { _ in SwiftLogNoOpLogHandler() })
    (stream, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
  }

  public func connect() async throws {
    try await inner.connect()
    let incoming = await inner.receive()
    pump = Task { [weak self] in
      do {
        for try await data in incoming { await self?.accept(data) }
        await self?.endInput(nil)
      } catch {
        await self?.endInput(error)
      }
    }
  }

  public func disconnect() async {
    pump?.cancel()
    await inner.disconnect()
    continuation.finish()
  }

  public func send(_ data: Data) async throws {
    defer { answered(Self.responseIDs(in: data)) }
    try await inner.send(data)
  }

  public func receive() -> AsyncThrowingStream<Data, Error> { stream }

  // MARK: - Ordering

  private func accept(_ data: Data) {
    let ids = Self.requestIDs(in: data)
    if ids.isEmpty {
      if let cancelled = Self.cancelledID(in: data), inFlight.contains(cancelled) {
        continuation.yield(data)
        answered([cancelled])
        return
      }
      continuation.yield(data)
      return
    }
    queue.append((data, ids))
    advance()
  }

  private func answered(_ ids: Set<String>) {
    guard !ids.isEmpty else { return }
    inFlight.subtract(ids)
    advance()
  }

  private func endInput(_ error: Error?) {
    inputEnded = true
    inputError = error
    advance()
  }

  private func advance() {
    while inFlight.isEmpty, !queue.isEmpty {
      let next = queue.removeFirst()
      inFlight = next.ids
      continuation.yield(next.data)
    }
    if inputEnded, inFlight.isEmpty, queue.isEmpty {
      logger.debug("input closed and every request answered")
      continuation.finish(throwing: inputError)
    }
  }

  // MARK: - Reading JSON-RPC envelopes
  // Each reads the top level with `Envelope` and parses the whole message only when that cannot tell.

  /// The ids of the requests in a message (one object or a batch); none for notifications and responses.
  static func requestIDs(in data: Data) -> Set<String> {
    if let top = Envelope.read(data) {
      guard top.method != nil, !top.hasResult, !top.hasError, let id = top.id else { return [] }
      return [id]
    }
    guard let object = try? JSONSerialization.jsonObject(with: data) else { return [] }
    let items = (object as? [Any]) ?? [object]
    var ids = Set<String>()
    for case let item as [String: Any] in items where item["method"] is String {
      if item["result"] != nil || item["error"] != nil { continue }
      if let id = idText(item["id"]) { ids.insert(id) }
    }
    return ids
  }

  /// The ids a server message answers (responses and errors, alone or in a batch).
  static func responseIDs(in data: Data) -> Set<String> {
    if let top = Envelope.read(data) {
      guard !top.hasMethod, top.hasResult || top.hasError, let id = top.id else { return [] }
      return [id]
    }
    guard let object = try? JSONSerialization.jsonObject(with: data) else { return [] }
    let items = (object as? [Any]) ?? [object]
    var ids = Set<String>()
    for case let item as [String: Any] in items where item["method"] == nil {
      if item["result"] == nil && item["error"] == nil { continue }
      if let id = idText(item["id"]) { ids.insert(id) }
    }
    return ids
  }

  /// The request id of a `notifications/cancelled` message.
  static func cancelledID(in data: Data) -> String? {
    if let top = Envelope.read(data), top.method != "notifications/cancelled" { return nil }
    guard let item = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
      item["method"] as? String == "notifications/cancelled", let params = item["params"] as? [String: Any]
    else { return nil }
    return idText(params["requestId"])
  }

  /// A JSON-RPC id as comparable text: strings quoted, integers plain. Other ids are not tracked
  /// (the SDK could not answer them by id either).
  static func idText(_ id: Any?) -> String? {
    switch id {
    case let text as String: return "\"" + text + "\""
    case let number as NSNumber:
      let type = String(cString: number.objCType)
      guard type != "c", type != "B", let integer = Int(exactly: number.doubleValue) else { return nil }
      return String(integer)
    default: return nil
    }
  }
}
