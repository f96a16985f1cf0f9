internal import CGit2
import Foundation

/// Who made a commit or note, and when.
///
/// Times are whole seconds and written in UTC: git stores no finer resolution, and the engine has no
/// use for the author's time zone.
public struct Signature: Equatable, Sendable {
  public var name: String
  public var email: String
  public var date: Date

  public init(name: String, email: String, date: Date = Date()) {
    self.name = name
    self.email = email
    self.date = date
  }

  init(_ signature: UnsafePointer<git_signature>) {
    let value = signature.pointee
    self.init(
      name: value.name.map { String(cString: $0) } ?? "",
      email: value.email.map { String(cString: $0) } ?? "",
      date: Date(timeIntervalSince1970: TimeInterval(value.when.time)))
  }

  /// Calls `body` with a libgit2 signature built from this value, freed afterwards.
  func withGitSignature<R>(_ body: (UnsafeMutablePointer<git_signature>) throws -> R) throws -> R {
    var signature: UnsafeMutablePointer<git_signature>?
    let seconds = git_time_t(date.timeIntervalSince1970.rounded(.down))
    try check(git_signature_new(&signature, name, email, seconds, 0), "git_signature_new")
    defer { git_signature_free(signature) }
    return try body(signature!)
  }
}
