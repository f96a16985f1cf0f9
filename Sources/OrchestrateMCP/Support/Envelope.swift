import Foundation

/// The top level of a JSON-RPC message, read without building it: its method, its id (as
/// `OrderedTransport.idText` writes it) and whether it carries a result or an error.
///
/// `OrderedTransport` needs only these, for every message in and out; parsing each whole message
/// with `JSONSerialization` (an answer to `get_next_subtask` carries its prompt twice) cost more
/// than the rest of the transport. `nil` means "not the plain case": a batch, an escape in a key, a
/// method or a string id, an id that is not an integer; the caller then parses the message fully.
struct Envelope: Equatable {
  var method: String?
  /// A `method` key is present, whatever its value.
  var hasMethod = false
  var id: String?
  var hasResult = false
  var hasError = false

  static func read(_ data: Data) -> Envelope? {
    data.withUnsafeBytes { raw in
      var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self))
      return scanner.envelope()
    }
  }

  private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var at = 0

    static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ","), openObject = UInt8(ascii: "{"), closeObject = UInt8(ascii: "}")
    static let openArray = UInt8(ascii: "["), closeArray = UInt8(ascii: "]")

    mutating func skipSpace() {
      while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 {
        at += 1
      }
    }

    /// A string at `at`: its contents' range and whether it has an escape; `at` moves past it.
    mutating func string() -> (Range<Int>, Bool)? {
      guard at < bytes.count, bytes[at] == Self.quote else { return nil }
      at += 1
      let start = at
      var escaped = false
      while at < bytes.count {
        if bytes[at] == Self.backslash {
          escaped = true
          at += 2
        } else if bytes[at] == Self.quote {
          defer { at += 1 }
          return (start..<at, escaped)
        } else {
          at += 1
        }
      }
      return nil
    }

    /// Moves past one value; false when the text is not well formed there.
    mutating func skipValue() -> Bool {
      skipSpace()
      guard at < bytes.count else { return false }
      switch bytes[at] {
      case Self.quote:
        return string() != nil
      case Self.openObject, Self.openArray:
        var depth = 0
        while at < bytes.count {
          let byte = bytes[at]
          if byte == Self.quote {
            guard string() != nil else { return false }
            continue
          }
          if byte == Self.openObject || byte == Self.openArray {
            depth += 1
          } else if byte == Self.closeObject || byte == Self.closeArray {
            depth -= 1
            if depth == 0 {
              at += 1
              return true
            }
          }
          at += 1
        }
        return false
      default:
        let start = at
        while at < bytes.count, ![Self.comma, Self.closeObject, Self.closeArray, 0x20, 0x0A, 0x0D, 0x09].contains(bytes[at]) {
          at += 1
        }
        return at > start
      }
    }

    func text(_ range: Range<Int>) -> String {
      String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    mutating func envelope() -> Envelope? {
      var result = Envelope()
      skipSpace()
      guard at < bytes.count, bytes[at] == Self.openObject else { return nil }
      at += 1
      skipSpace()
      if at < bytes.count, bytes[at] == Self.closeObject { return result }
      while true {
        skipSpace()
        guard let (keyRange, keyEscaped) = string(), !keyEscaped else { return nil }
        skipSpace()
        guard at < bytes.count, bytes[at] == Self.colon else { return nil }
        at += 1
        skipSpace()
        let valueStart = at
        guard skipValue() else { return nil }
        let value = valueStart..<at
        switch text(keyRange) {
        case "method":
          result.hasMethod = true
          result.method = nil
          if bytes[valueStart] == Self.quote {
            guard !text(value).contains("\\") else { return nil }
            result.method = text(value.dropFirst().dropLast())
          }
        case "id":
          let token = text(value)
          if bytes[valueStart] == Self.quote {
            guard !token.contains("\\") else { return nil }
            result.id = token
          } else if token == "null" || token == "true" || token == "false" {
            result.id = nil
          } else {
            let digits = token.hasPrefix("-") ? token.dropFirst() : Substring(token)
            guard !digits.isEmpty, digits.count < 16, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            guard let integer = Int(token) else { return nil }
            result.id = String(integer)
          }
        case "result": result.hasResult = true
        case "error": result.hasError = true
        default: break
        }
        skipSpace()
        guard at < bytes.count else { return nil }
        if bytes[at] == Self.comma {
          at += 1
          continue
        }
        return bytes[at] == Self.closeObject ? result : nil
      }
    }
  }
}
