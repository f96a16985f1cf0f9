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
  /// Every value this process gave each ref, for refs it has deleted since (see `resurrected`).
  private var earlier: [String: Set<OID>] = [:]

  func record(_ name: String, _ value: OID?) {
    lock.lock()
    defer { lock.unlock() }
    if let value { earlier[name, default: []].insert(value) }
    values[name] = .some(value)
  }

  /// Whether `name` holding `value` is a ref this process deleted coming back with a value it once
  /// gave it: `git pack-refs` (run by `git gc`) that read the loose ref just before the deletion
  /// writes it into `packed-refs` just after, as libgit2's deletion of a loose-only ref does not
  /// take the `packed-refs` lock. Nobody wrote it; it is the process's own ref, resurrected.
  public func resurrected(_ name: String, _ value: OID) -> Bool {
    lock.lock()
    defer { lock.unlock() }
    guard case .some(.none) = values[name] else { return false }
    return earlier[name]?.contains(value) == true
  }

  /// What this process last wrote to `name`: `.some(nil)` when it deleted it, nil when it never wrote it.
  public func lastWrite(_ name: String) -> OID?? {
    lock.lock()
    defer { lock.unlock() }
    return values[name]
  }
}
