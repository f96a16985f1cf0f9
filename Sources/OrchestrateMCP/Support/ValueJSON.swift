import Foundation
import MCP
import OrchestrateKit

// Every answer of this server is a `Value` written as JSON, twice in each `tools/call` response
// (the text content and `structuredContent`). `JSONEncoder` took a sixth of the server's time per
// `get_next_subtask`, going through `Codable` for every string of the prompt; the writer spells
// the same bytes directly (DirectToolCallsTests and ValueJSONTests compare the two).

extension JSONWriter {
  /// `value` as `JSONEncoder` with the SDK's formatting (`.sortedKeys`, `.withoutEscapingSlashes`)
  /// writes it: keys in the order of their UTF-8 bytes, integral doubles without a fraction.
  /// - Throws: `EncodingError` for a number JSON cannot hold (NaN, infinity), as `JSONEncoder` does.
  mutating func value(_ value: Value) throws {
    switch value {
    case .null: null()
    case .bool(let flag): boolean(flag)
    case .int(let number): integer(number)
    case .double(let number):
      // JSONEncoder spells 50.0 as "50"; beyond 2^31, or -0, or a fraction, let it spell the number.
      if number.rounded(.towardZero) == number, abs(number) < 0x8000_0000, !(number == 0 && number.sign == .minus) {
        integer(Int(number))
      } else {
        try double(number)
      }
    case .string(let text): string(text)
    case .data:
      raw(try ValueJSON.encoder.encode(value))
    case .array(let items):
      try array(items) { try $0.value($1) }
    case .object(let entries):
      let sorted = entries.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
      try object { json in
        for (key, member) in sorted { try json.field(named: key) { try $0.value(member) } }
      }
    }
  }
}

enum ValueJSON {
  /// The SDK's own output format for every message it sends.
  static var encoder: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }

  /// `value`'s compact JSON, as the SDK's encoder writes it.
  static func bytes(_ value: Value, capacity: Int = 4096) throws -> [UInt8] {
    var writer = JSONWriter(pretty: false, capacity: capacity)
    try writer.value(value)
    return writer.bytes
  }
}
