internal import CGit2
import Foundation

/// One `Key: value` line of a commit message's trailer block.
public struct Trailer: Equatable, Sendable {
  public let key: String
  public let value: String

  public init(key: String, value: String) {
    self.key = key
    self.value = value
  }
}

/// A commit, copied out of the object database.
public struct Commit: Equatable, Sendable {
  public let oid: OID
  public let tree: OID
  public let parents: [OID]
  public let message: String
  public let summary: String
  public let author: Signature
  public let committer: Signature
  /// The message's trailers, as `git interpret-trailers --parse` reads them.
  public let trailers: [Trailer]

  /// The first value of trailer `key`, compared case-insensitively as git does (ASCII letters,
  /// `strncasecmp`), without making lowercase copies: history readers look up a dozen keys per commit.
  public func trailer(_ key: String) -> String? {
    trailers.first { Self.sameKey($0.key, key) }?.value
  }

  static func sameKey(_ a: String, _ b: String) -> Bool {
    var a = a
    var b = b
    return a.withUTF8 { a in
      b.withUTF8 { b in
        guard a.count == b.count else { return false }
        for index in 0..<a.count where a[index] != b[index] {
          // ASCII letters differ by 0x20 between cases; anything else must be equal.
          guard a[index] | 0x20 == b[index] | 0x20, (0x61...0x7A).contains(a[index] | 0x20) else { return false }
        }
        return true
      }
    }
  }

  init(_ commit: OpaquePointer) throws {
    oid = OID(git_commit_id(commit))
    tree = OID(git_commit_tree_id(commit))
    parents = (0..<git_commit_parentcount(commit)).compactMap { index in
      git_commit_parent_id(commit, index).map { OID($0) }
    }
    let text = git_commit_message(commit).map { String(cString: $0) } ?? ""
    message = text
    summary = git_commit_summary(commit).map { String(cString: $0) } ?? ""
    author = Signature(git_commit_author(commit))
    committer = Signature(git_commit_committer(commit))
    trailers = try Commit.parseTrailers(text)
  }

  static func parseTrailers(_ message: String) throws -> [Trailer] {
    var array = git_message_trailer_array()
    try check(git_message_trailers(&array, message), "git_message_trailers")
    defer { git_message_trailer_array_free(&array) }
    return (0..<array.count).map { index in
      let trailer = array.trailers[index]
      return Trailer(key: String(cString: trailer.key), value: String(cString: trailer.value))
    }
  }
}
