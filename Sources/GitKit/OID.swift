internal import CGit2
import Foundation

/// A git object id (SHA-1), as a value.
///
/// Stored as plain integers rather than libgit2's `git_oid`, so it is cheap to hash and compare and
/// keeps libgit2 out of the public interface.
public struct OID: Hashable, Sendable, CustomStringConvertible, Codable {
  private var head: UInt64
  private var middle: UInt64
  private var tail: UInt32

  /// The all-zero id git uses for "no object".
  public static let zero = OID(head: 0, middle: 0, tail: 0)

  private init(head: UInt64, middle: UInt64, tail: UInt32) {
    self.head = head
    self.middle = middle
    self.tail = tail
  }

  /// Parses a full 40-character hexadecimal id; abbreviations are refused.
  public init?(hex: String) {
    var hex = hex
    guard let oid = hex.withUTF8({ OID(hexDigits: $0) }) else { return nil }
    self = oid
  }

  /// Parses a full id given as its 40 hexadecimal digits in UTF-8, without copying them (readers
  /// of long histories and of `packed-refs` parse thousands).
  public init?(hexDigits digits: UnsafeBufferPointer<UInt8>) {
    guard digits.count == 40, let base = digits.baseAddress else { return nil }
    // The bytes gathered into the three words as `init(bytes:)` loads them (little-endian order,
    // then the platform's), with no buffer and one validity check at the end: a record of
    // 10,000 completions and `packed-refs` parse an id per line.
    var invalid: UInt8 = 0
    func byte(_ index: Int) -> UInt8 {
      let high = OID.nibbleOrInvalid(base[2 * index])
      let low = OID.nibbleOrInvalid(base[2 * index + 1])
      invalid |= high | low
      return high << 4 | low & 0x0f
    }
    var head: UInt64 = 0
    var middle: UInt64 = 0
    var tail: UInt32 = 0
    for index in 0..<8 { head |= UInt64(byte(index)) << (8 * index) }
    for index in 0..<8 { middle |= UInt64(byte(8 + index)) << (8 * index) }
    for index in 0..<4 { tail |= UInt32(byte(16 + index)) << (8 * index) }
    guard invalid & 0xf0 == 0 else { return nil }
    self.init(head: UInt64(littleEndian: head), middle: UInt64(littleEndian: middle), tail: UInt32(littleEndian: tail))
  }

  /// A hexadecimal digit's value, or 0xff (high bits set) for any other byte. Without branches:
  /// whether a digit of an id is 0–9 or a–f is a coin toss, and mispredicting it cost more than
  /// the arithmetic.
  @inline(__always)
  private static func nibbleOrInvalid(_ character: UInt8) -> UInt8 {
    let isDigit: UInt8 = character &- UInt8(ascii: "0") < 10 ? 1 : 0
    // `| 0x20` lowers A–F, and takes no other byte into a–f.
    let isLetter: UInt8 = (character | 0x20) &- UInt8(ascii: "a") < 6 ? 1 : 0
    // '0'–'9' keep their low four bits; 'a'–'f' and 'A'–'F' (bit 6 set) have 1–6 there, plus 9.
    let value = (character & 0x0f) &+ 9 &* (character >> 6)
    return value | ((isDigit | isLetter) &- 1)
  }

  init(_ raw: git_oid) {
    var raw = raw
    self = withUnsafeBytes(of: &raw.id) { OID(bytes: $0) }
  }

  init(_ pointer: UnsafePointer<git_oid>) {
    self.init(pointer.pointee)
  }

  init(bytes: UnsafeRawBufferPointer) {
    self.init(
      head: bytes.loadUnaligned(as: UInt64.self),
      middle: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
      tail: bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
  }

  /// The libgit2 form of this id.
  var raw: git_oid {
    var oid = git_oid()
    withUnsafeMutableBytes(of: &oid.id) { bytes in
      bytes.storeBytes(of: head, as: UInt64.self)
      bytes.storeBytes(of: middle, toByteOffset: 8, as: UInt64.self)
      bytes.storeBytes(of: tail, toByteOffset: 16, as: UInt32.self)
    }
    return oid
  }

  /// The 40-character lowercase hexadecimal form.
  public var hex: String {
    var oid = raw
    return withUnsafeBytes(of: &oid.id) { bytes in
      // Written straight into the string's storage: status spells one id per sub-task.
      String(unsafeUninitializedCapacity: 40) { out in
        for (index, byte) in bytes.enumerated() {
          out[2 * index] = OID.hexDigit(byte >> 4)
          out[2 * index + 1] = OID.hexDigit(byte & 0x0f)
        }
        return 40
      }
    }
  }

  private static func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
  }

  public var description: String { hex }

  /// Whether this is the all-zero id.
  public var isZero: Bool { self == .zero }

  /// Git blob id of `data` (what `git hash-object --stdin` prints), computed without a repository.
  public static func hashBlob(_ data: Data) -> OID {
    _ = libgit2
    var oid = git_oid()
    let code = data.withUnsafeBytes { bytes in
      git_odb_hash(&oid, bytes.baseAddress, bytes.count, GIT_OBJECT_BLOB)
    }
    // Hashing in memory cannot fail for a blob; a failure here would be a libgit2 bug.
    precondition(code == 0, "git_odb_hash failed")
    return OID(oid)
  }

  /// The blob id of the regular file at `path` as it is on disk (no filters), read in chunks so a
  /// large file is never held in memory; nil when it cannot be read.
  public static func hashFile(atPath path: String) -> OID? {
    _ = libgit2
    var oid = git_oid()
    guard git_odb_hashfile(&oid, path, GIT_OBJECT_BLOB) == 0 else {
      git_error_clear()
      return nil
    }
    return OID(oid)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    guard let oid = OID(hex: text) else {
      throw DecodingError.dataCorruptedError(
        in: container, debugDescription: "not a 40-character hexadecimal object id: \(text)")
    }
    self = oid
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(hex)
  }
}

extension Optional where Wrapped == OID {
  /// A non-zero id, or nil: libgit2 reports "no object" as the zero id.
  init(nonZero raw: git_oid) {
    let oid = OID(raw)
    self = oid.isZero ? nil : oid
  }
}
