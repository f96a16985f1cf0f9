import Foundation

/// The value this process last gave each reference it wrote (nil: deleted), by any handle.
///
/// A parallel run of git orchestrate takes the guard's new baseline after its own writes while
/// other jobs' agents run: a ref that changed since the last baseline is the tool's own change only
/// if it holds what the tool last wrote to it.
// @unchecked: its one dictionary is read and written only under `lock`.
public final class RefWriteLog: @unchecked Sendable {
  public static let shared = RefWriteLog()
  private let lock = NSLock()
  private var values: [String: OID?] = [:]

  func record(_ name: String, _ value: OID?) {
    lock.lock()
    defer { lock.unlock() }
    values[name] = .some(value)
  }

  /// What this process last wrote to `name`: `.some(nil)` when it deleted it, nil when it never wrote it.
  public func lastWrite(_ name: String) -> OID?? {
    lock.lock()
    defer { lock.unlock() }
    return values[name]
  }
}
