/// JSON's escapes, for the readers of JSON written by hand (the stored plan, the MCP server's plain
/// requests), which read strings from bytes and leave anything unusual to `JSONDecoder`.
package enum JSONEscape {
  /// Reads the escape whose letter is at `position` (just after a backslash) of `bytes` — for `\u`
  /// also its four hex digits and, after a high surrogate, the escaped low one that must follow —
  /// appends the UTF-8 bytes it stands for to `out` and moves `position` past it.
  /// - Returns: false (nothing appended) for a letter JSON has no escape for, bad hex digits, or a
  ///   surrogate that is not one half of a pair.
  package static func read(_ bytes: UnsafeBufferPointer<UInt8>, at position: inout Int, into out: inout [UInt8]) -> Bool
  {
    guard position < bytes.count else { return false }
    let letter = bytes[position]
    var at = position + 1
    switch letter {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(letter)
    case UInt8(ascii: "b"): out.append(0x08)
    case UInt8(ascii: "f"): out.append(0x0C)
    case UInt8(ascii: "n"): out.append(0x0A)
    case UInt8(ascii: "r"): out.append(0x0D)
    case UInt8(ascii: "t"): out.append(0x09)
    case UInt8(ascii: "u"):
      guard var scalar = hex4(bytes, at: &at) else { return false }
      if (0xD800..<0xDC00).contains(scalar) {
        guard at + 2 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
          return false
        }
        at += 2
        guard let low = hex4(bytes, at: &at), (0xDC00..<0xE000).contains(low) else { return false }
        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
      }
      // Nil for a lone low surrogate too.
      guard let unicode = Unicode.Scalar(scalar) else { return false }
      out.append(contentsOf: UTF8.encode(unicode)!)
    default:
      return false
    }
    position = at
    return true
  }

  /// Four hex digits at `at`, which moves past them; nil when they are not there.
  private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, at: inout Int) -> UInt32? {
    guard at + 4 <= bytes.count else { return nil }
    var value: UInt32 = 0
    for offset in 0..<4 {
      let byte = bytes[at + offset]
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default: return nil
      }
      value = value << 4 | UInt32(digit)
    }
    at += 4
    return value
  }
}
