import Foundation
import Logging
import MCP
import TestSupport
import Testing

@testable import OrchestrateMCP

/// The direct lane answers a plain tool call itself only when the SDK owes no answer, and keeps
/// the order of everything else.
@Suite("Direct lane")
struct DirectLaneTests {
  @Test("a call waits for the SDK's answers; then it is answered here, and end of input waits for it")
  func routes() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    let lane = DirectLane(host: host, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    var pipe: [Int32] = [0, 0]
    #expect(makePipe(&pipe) == 0)
    defer { close(pipe[0]) }
    let (stream, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
    let writer = LineWriter(pipe[1])
    lane.connect(to: continuation, output: writer)

    let initialize = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#
    let owedCall = #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_plans","arguments":{}}}"#
    let notification = #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
    let directCall = #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_plans","arguments":{}}}"#
    lane.accept(Data(initialize.utf8))
    lane.accept(Data(owedCall.utf8))  // request 1 is not answered: the SDK's way
    // The SDK answers both (as `LineTransport.send` reports what it wrote).
    lane.sent(Data(#"{"id":1,"jsonrpc":"2.0","result":{}}"#.utf8))
    lane.sent(Data(#"{"id":2,"jsonrpc":"2.0","result":{}}"#.utf8))
    lane.accept(Data(notification.utf8))
    lane.accept(Data(directCall.utf8))  // nothing owed: answered here
    lane.endOfInput()

    var passed: [String] = []
    for try await data in stream { passed.append(String(decoding: data, as: UTF8.self)) }
    #expect(passed == [initialize, owedCall, notification])
    // End of input came after the direct answer was written.
    close(pipe[1])
    let written = FileHandle(fileDescriptor: pipe[0]).readDataToEndOfFile()
    let lines = String(decoding: written, as: UTF8.self).split(separator: "\n")
    #expect(lines.count == 1)
    let answer = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    #expect(answer["id"] as? Int == 3)
    let result = answer["result"] as? [String: Any]
    #expect((result?["structuredContent"] as? [String: Any])?["plans"] != nil, "\(answer)")
    // Byte for byte what the SDK path (DirectToolCalls) would have written for the same result.
    let expected = try DirectToolCalls.encode(
      id: .number(3), object: await OrchestrationServer.answer("list_plans", arguments: [:], host: host).object,
      isError: nil)
    #expect(String(decoding: expected, as: UTF8.self) == String(lines[0]))
    await host.close()
  }

  @Test("a request the SDK never answers keeps every call on the SDK's way")
  func owedForever() async throws {
    let repo = try TemporaryRepository()
    let host = repo.host()
    let lane = DirectLane(host: host, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    let (stream, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
    lane.connect(to: continuation, output: LineWriter(-1))
    let calls = (1...3).map {
      #"{"jsonrpc":"2.0","id":\#($0),"method":"tools/call","params":{"name":"list_plans","arguments":{}}}"#
    }
    lane.accept(Data(#"{"jsonrpc":"2.0","id":"slow","method":"ping"}"#.utf8))
    for call in calls { lane.accept(Data(call.utf8)) }
    lane.endOfInput()
    var passed: [String] = []
    for try await data in stream { passed.append(String(decoding: data, as: UTF8.self)) }
    #expect(passed.count == 4 && Array(passed.dropFirst()) == calls)
    await host.close()
  }
}

/// `pipe(2)` under either C library's name.
private func makePipe(_ fds: inout [Int32]) -> Int32 {
  fds.withUnsafeMutableBufferPointer { pipe($0.baseAddress!) }
}
