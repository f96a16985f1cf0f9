import Foundation
import TestSupport
import Testing

@testable import GitKit

@Suite("OID")
struct OIDTests {
  @Test("hex round-trips and only full 40-hex ids parse")
  func hexRoundTrip() throws {
    let hex = "0123456789abcdef0123456789abcdef01234567"
    let oid = try #require(OID(hex: hex))
    #expect(oid.hex == hex)
    #expect(oid.description == hex)
    #expect(OID(hex: hex.uppercased()) == oid)
    #expect(OID(hex: "0123456") == nil)
    #expect(OID(hex: String(repeating: "g", count: 40)) == nil)
    #expect(OID(hex: hex + "0") == nil)
    #expect(!oid.isZero)
    #expect(OID.zero.isZero)
    #expect(OID.zero.hex == String(repeating: "0", count: 40))
  }

  @Test("Codable as a hex string")
  func codable() throws {
    let oid = try #require(OID(hex: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"))
    let data = try JSONEncoder().encode([oid])
    #expect(String(decoding: data, as: UTF8.self) == "[\"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391\"]")
    #expect(try JSONDecoder().decode([OID].self, from: data) == [oid])
    #expect(throws: DecodingError.self) { try JSONDecoder().decode([OID].self, from: Data("[\"abc\"]".utf8)) }
  }

  @Test("hashBlob matches git hash-object")
  func hashBlob() throws {
    try withTemporaryRepository { repo in
      for text in ["", "hello\n", "no newline", String(repeating: "x", count: 100_000)] {
        let expected = try repo.rawGit(["hash-object", "--stdin"], input: text).trimmed
        #expect(OID.hashBlob(Data(text.utf8)).hex == expected)
      }
    }
  }
}
