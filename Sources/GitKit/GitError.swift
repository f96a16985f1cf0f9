internal import CGit2
import Foundation

/// A failure reported by libgit2: its code, class and message, and the function that failed.
///
/// The engine tells the few codes it acts on apart through the `is…` properties; everything else is
/// shown to the user as the message with the function name.
public struct GitError: Error, LocalizedError, Sendable, Equatable {
  public let code: Int32
  public let errorClass: Int32
  public let function: String
  public let message: String

  public init(code: Int32, errorClass: Int32, function: String, message: String) {
    self.code = code
    self.errorClass = errorClass
    self.function = function
    self.message = message
  }

  /// The object, reference or file asked for does not exist (GIT_ENOTFOUND).
  public var isNotFound: Bool { code == GIT_ENOTFOUND.rawValue }
  /// The object or reference to create already exists (GIT_EEXISTS).
  public var isExists: Bool { code == GIT_EEXISTS.rawValue }
  /// A compare-and-swap lost: the value changed since it was read (GIT_EMODIFIED).
  public var isModified: Bool { code == GIT_EMODIFIED.rawValue }
  /// A lock file is held by someone else (GIT_ELOCKED).
  public var isLocked: Bool { code == GIT_ELOCKED.rawValue }
  /// A checkout or merge would overwrite or conflicts with local changes (GIT_ECONFLICT).
  public var isConflict: Bool { code == GIT_ECONFLICT.rawValue }

  public var errorDescription: String? { "\(message) (\(function))" }
}
