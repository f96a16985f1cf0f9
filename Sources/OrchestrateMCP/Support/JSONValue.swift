import Foundation
import MCP

/// Conversions between the SDK's `Value` and the Foundation objects the kit reads and writes.
extension Value {
  /// A Foundation object (`[String: Any?]`, `[Any?]`, `String`, `Int`, `Double`, `Bool`, `NSNull`),
  /// the shape `PlanReader.parse(object:fileName:)` reads.
  var foundationObject: Any? {
    switch self {
    case .null: return NSNull()
    case .bool(let value): return value
    case .int(let value): return value
    case .double(let value): return value
    case .string(let value): return value
    // The SDK decodes strings that look like data URLs as data; give the text back as it was.
    case .data(let mimeType, let data): return data.dataURLEncoded(mimeType: mimeType)
    case .array(let items): return items.map { $0.foundationObject } as [Any?]
    case .object(let entries): return entries.mapValues { $0.foundationObject } as [String: Any?]
    }
  }

  /// The value from an encodable type, through its JSON encoding.
  static func encoding<T: Encodable>(_ value: T) throws -> Value {
    let data = try JSONEncoder().encode(value)
    return try JSONDecoder().decode(Value.self, from: data)
  }

  /// Compact JSON text with sorted keys: the text content of every tool result.
  var jsonText: String {
    guard let bytes = try? ValueJSON.bytes(self) else { return "{}" }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// A string, or null when there is none.
  static func nullable(_ text: String?) -> Value { text.map { .string($0) } ?? .null }
}
