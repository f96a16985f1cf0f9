import Foundation

/// A value shared between threads, reachable only under its lock, after swift-nio's
/// `NIOLockedValueBox`.
///
/// The one place where mutable state crosses threads: types that need it hold a `LockedBox`
/// and stay `Sendable` themselves, instead of each pairing an `NSLock` with `var`s by hand.
public final class LockedBox<Value>: @unchecked Sendable {
  // @unchecked: `value` is read and written only inside `lock`, which the compiler cannot see.
  private let lock = NSLock()
  private var value: Value

  public init(_ value: Value) {
    self.value = value
  }

  /// Runs `body` with the value, holding the lock.
  public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }

  /// A copy of the value.
  public var current: Value { withLock { $0 } }
}
