import Foundation
import Testing

@testable import OrchestrateMCP

/// The transport's quick read of a message's top level agrees with a full parse, and gives up
/// (so the full parse decides) whenever it cannot be sure.
@Suite("JSON-RPC envelopes")
struct EnvelopeTests {
  static let messages = [
    #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_next_subtask","arguments":{"x":"}{\"]"}}}"#,
    #"{"jsonrpc":"2.0","id":"abc","method":"tools/list"}"#,
    #"{ "id" : -3 , "method" : "ping" }"#,
    #"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"a \"quoted\" {brace} [x]"}],"isError":false}}"#,
    #"{"jsonrpc":"2.0","id":"r1","error":{"code":-32601,"message":"no"}}"#,
    #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#,
    #"{"jsonrpc":"2.0","id":null,"result":null}"#,
    #"{"jsonrpc":"2.0","id":true,"method":"odd"}"#,
    #"{"jsonrpc":"2.0","id":1.5,"method":"odd"}"#,
    #"{"jsonrpc":"2.0","id":"a\"b","method":"odd"}"#,
    #"{"method":3,"id":4,"result":{}}"#,
    #"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":2,"method":"b"}]"#,
    #"{"jsonrpc":"2.0","id":5,"method":"#,
    "{}",
    "not json",
  ]

  @Test("request ids, response ids and cancellations: the same as from a full parse", arguments: messages)
  func agreesWithFullParse(_ text: String) {
    let data = Data(text.utf8)
    #expect(OrderedTransport.requestIDs(in: data) == Self.fullRequestIDs(data))
    #expect(OrderedTransport.responseIDs(in: data) == Self.fullResponseIDs(data))
    #expect(OrderedTransport.cancelledID(in: data) == Self.fullCancelledID(data))
  }

  @Test("batches, escaped ids and non-integer ids are left to the full parse")
  func givesUp() {
    #expect(Envelope.read(Data(Self.messages[12].utf8)) == nil)
    #expect(Envelope.read(Data(Self.messages[10].utf8)) == nil)
    #expect(Envelope.read(Data(Self.messages[9].utf8)) == nil)
    #expect(Envelope.read(Data(Self.messages[0].utf8))?.id == "7")
  }

  static func items(_ data: Data) -> [[String: Any]] {
    guard let object = try? JSONSerialization.jsonObject(with: data) else { return [] }
    return ((object as? [Any]) ?? [object]).compactMap { $0 as? [String: Any] }
  }

  static func fullRequestIDs(_ data: Data) -> Set<String> {
    Set(items(data).filter { $0["method"] is String && $0["result"] == nil && $0["error"] == nil }.compactMap {
      OrderedTransport.idText($0["id"])
    })
  }

  static func fullResponseIDs(_ data: Data) -> Set<String> {
    Set(items(data).filter { $0["method"] == nil && ($0["result"] != nil || $0["error"] != nil) }.compactMap {
      OrderedTransport.idText($0["id"])
    })
  }

  static func fullCancelledID(_ data: Data) -> String? {
    guard let item = items(data).first, (try? JSONSerialization.jsonObject(with: data)) is [String: Any],
      item["method"] as? String == "notifications/cancelled", let params = item["params"] as? [String: Any]
    else { return nil }
    return OrderedTransport.idText(params["requestId"])
  }
}
