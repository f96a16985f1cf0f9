import Foundation
import Logging
import MCP
import OrchestrateKit

/// Answers a plain `tools/call` request on the host's own queue, straight from the thread that
/// read it, when nothing else is under way; every other message goes on to the SDK as read.
///
/// Through the transports (`OrderedTransport`, `DirectToolCalls`) a call passed from the reading
/// thread to a task, to the host's queue and back to a task before it was written: four thread
/// wake-ups per call, a tenth of the server's CPU in the scheduler, and on a loaded machine a wait
/// for a core at each. Here the reader hands the call to the host's queue, which runs the tool,
/// writes the answer and is done: one wake-up.
///
/// The order is the transports': a call is answered here only when every request handed to the
/// SDK has been answered (its ids are counted out by the answers the SDK sends, and by a
/// cancellation, as `OrderedTransport` counts them), and whatever is read while a call runs here
/// waits, in order, until it is answered. When the SDK might still owe an answer (a request it
/// never answers), calls simply keep going the SDK's way. End of input is passed on only once
/// the call under way and every message held behind it are handed on.
public final class DirectLane: Sendable {
  private struct State {
    var continuation: AsyncThrowingStream<Data, Error>.Continuation?
    var output: LineWriter?
    /// Ids (as `OrderedTransport.idText` writes them) of requests handed to the SDK and not
    /// answered yet, with how many of each.
    var owed: [String: Int] = [:]
    /// A call is being answered here.
    var busy = false
    /// Messages read meanwhile, in order.
    var held: [Data] = []
    var inputEnded = false
  }

  private let host: OrchestrationHost
  private let logger: Logger
  private let state = LockedBox(State())

  public init(host: OrchestrationHost, logger: Logger) {
    self.host = host
    self.logger = logger
  }

  /// Where messages for the SDK go, and where answers are written.
  func connect(to continuation: AsyncThrowingStream<Data, Error>.Continuation, output: LineWriter) {
    state.withLock {
      $0.continuation = continuation
      $0.output = output
    }
  }

  /// A message just read.
  func accept(_ data: Data) {
    let call: ToolCallRequest? = state.withLock { state in
      if state.busy {
        state.held.append(data)
        return nil
      }
      return Self.route(data, &state)
    }
    if let call { answer(call) }
  }

  /// End of input: passed on once nothing is under way here.
  func endOfInput() {
    state.withLock { state in
      state.inputEnded = true
      if !state.busy { state.continuation?.finish() }
    }
  }

  /// A message the SDK sends: the requests it answers are no longer owed.
  func sent(_ data: Data) {
    let ids = OrderedTransport.responseIDs(in: data)
    guard !ids.isEmpty else { return }
    state.withLock { state in
      for id in ids { Self.settle(id, &state) }
    }
  }

  /// `data` handed to the SDK, or the call to answer here (then `busy` is set).
  private static func route(_ data: Data, _ state: inout State) -> ToolCallRequest? {
    if state.owed.isEmpty, let call = ToolCallRequest.read(data) {
      state.busy = true
      return call
    }
    for id in OrderedTransport.requestIDs(in: data) { state.owed[id, default: 0] += 1 }
    if let cancelled = OrderedTransport.cancelledID(in: data) { settle(cancelled, &state) }
    state.continuation?.yield(data)
    return nil
  }

  private static func settle(_ id: String, _ state: inout State) {
    guard let count = state.owed[id] else { return }
    state.owed[id] = count > 1 ? count - 1 : nil
  }

  /// Runs the call on the host's queue, writes the answer, then hands on what was held meanwhile
  /// (answering the next call the same way, without leaving the queue).
  private func answer(_ first: ToolCallRequest) {
    host.runIsolated { [self] host in
      var call: ToolCallRequest? = first
      while let current = call {
        let answer = OrchestrationServer.answer(current.name, arguments: current.arguments, host: host)
        write(current, answer)
        call = state.withLock { state in
          state.busy = false
          while !state.held.isEmpty {
            let next = state.held.removeFirst()
            if let call = Self.route(next, &state) { return call }
          }
          if state.inputEnded { state.continuation?.finish() }
          return nil
        }
      }
    }
  }

  private func write(_ call: ToolCallRequest, _ answer: (object: Value, isError: Bool?)) {
    guard let data = DirectToolCalls.response(to: call, answer, logger: logger) else { return }
    do {
      try state.current.output?.send(data)
    } catch {
      logger.error("cannot send the answer to \(call.name): \(error)")
    }
  }
}
