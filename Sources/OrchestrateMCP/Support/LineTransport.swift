import Foundation
import Logging
import MCP
import OrchestrateKit

/// Newline-delimited JSON-RPC on standard input and output, fast for messages of any size.
///
/// The SDK's `StdioTransport` searches its whole pending buffer for a newline after every 4 KB
/// read, and reads without suspending while input is available, so one 10 MB line took minutes of
/// CPU and no reply could be written meanwhile. Here a thread of its own reads in large blocks and
/// searches only the bytes just read; writes never wait for reads. A line longer than
/// `maximumMessageSize` is dropped, and the server answers it with a parse error.
public actor LineTransport: Transport {
  public static let maximumMessageSize = 64 << 20

  public nonisolated let logger: Logger
  private let input: Int32
  private let output: LineWriter
  private let lane: DirectLane?
  private let stream: AsyncThrowingStream<Data, Error>
  private let continuation: AsyncThrowingStream<Data, Error>.Continuation
  private var connected = false

  /// - Parameter lane: answers plain `tools/call` requests itself when nothing else is under way
  ///   (see `DirectLane`); every other message is handed on as read.
  public init(
    input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO, logger: Logger? = nil, lane: DirectLane? = nil
  ) {
    self.input = input
    self.output = LineWriter(output)
    self.lane = lane
    self.logger = logger ?? Logger(label: "git-orchestrate.mcp.lines", factory: { _ in SwiftLogNoOpLogHandler() })
    (stream, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
  }

  public func connect() async throws {
    guard !connected else { return }
    connected = true
    let input = input
    let continuation = continuation
    let logger = logger
    let lane = lane
    lane?.connect(to: continuation, output: output)
    let reader = Thread { Self.readLines(from: input, into: continuation, lane: lane, logger: logger) }
    reader.name = "mcp-stdin"
    reader.start()
  }

  public func disconnect() async {
    connected = false
    continuation.finish()
  }

  public func send(_ data: Data) async throws {
    // Counted out once written, so that a call the lane answers next is written after it.
    defer { lane?.sent(data) }
    try output.send(data)
  }

  public func receive() -> AsyncThrowingStream<Data, Error> { stream }

  /// Reads until end of input, handing on each non-empty line; runs on its own thread.
  private static func readLines(
    from input: Int32, into continuation: AsyncThrowingStream<Data, Error>.Continuation, lane: DirectLane?,
    logger: Logger
  ) {
    let deliver: (Data) -> Void = { line in
      if let lane { lane.accept(line) } else { continuation.yield(line) }
    }
    var pending = [UInt8]()
    var searched = 0  // bytes of `pending` known to hold no newline
    var dropping = false  // inside a line over the size limit
    var block = [UInt8](repeating: 0, count: 1 << 20)
    let newline = UInt8(ascii: "\n")
    while true {
      let count = block.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        if errno == EAGAIN {
          var ready = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
          _ = poll(&ready, 1, -1)
          continue
        }
        logger.error("cannot read standard input: \(String(cString: strerror(errno)))")
        break
      }
      if count == 0 { break }
      pending.append(contentsOf: block[..<count])
      var start = 0
      while let end = pending[(start + searched)...].firstIndex(of: newline) {
        if dropping {
          dropping = false
        } else if end > start {
          deliver(Data(pending[start..<end]))
        }
        start = end + 1
        searched = 0
      }
      pending.removeFirst(start)
      searched = pending.count
      if pending.count > maximumMessageSize {
        if !dropping {
          logger.error("a message over \(maximumMessageSize >> 20) MB was dropped")
          deliver(Data("message too large".utf8))  // answered with a parse error
        }
        dropping = true
        pending.removeAll(keepingCapacity: true)
        searched = 0
      }
    }
    if !dropping, !pending.isEmpty { deliver(Data(pending)) }
    if let lane { lane.endOfInput() } else { continuation.finish() }
  }
}

/// Standard output, one message per line; a message is written whole before the next begins
/// (the SDK's answers and the direct lane's come from different threads).
public final class LineWriter: Sendable {
  private let output: LockedBox<Int32>

  init(_ output: Int32) {
    self.output = LockedBox(output)
  }

  func send(_ data: Data) throws {
    var message = data
    message.append(UInt8(ascii: "\n"))
    try output.withLock { output in
      try message.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
          let written = write(output, buffer.baseAddress! + offset, buffer.count - offset)
          if written >= 0 {
            offset += written
          } else if errno == EINTR {
            continue
          } else if errno == EAGAIN {
            var ready = pollfd(fd: output, events: Int16(POLLOUT), revents: 0)
            _ = poll(&ready, 1, -1)
          } else {
            throw MCPError.transportError(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
          }
        }
      }
    }
  }
}
