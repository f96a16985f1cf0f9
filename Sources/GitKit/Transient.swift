internal import CGit2
import Foundation

extension GitError {
  /// A failure that `git gc`, `git maintenance` or another git command running beside us causes and
  /// that passes by itself: a lock file held (packing refs, writing the index), or an object write
  /// whose fan-out folder `git prune-packed` removed between libgit2's mkdir and its rename.
  public var isTransient: Bool {
    if isLocked { return true }
    guard errorClass == GIT_ERROR_OS.rawValue || errorClass == GIT_ERROR_ODB.rawValue else { return false }
    let text = message.lowercased()
    return text.contains("rename") || text.contains("no such file") || text.contains("failed to create")
      || text.contains("failed to make directory")
  }
}

/// Runs `body`, and again, with growing waits for about two seconds in all, while it fails
/// transiently (`GitError.isTransient`). Anything else, or a failure that outlasts the waits, is
/// thrown as it came.
public func retryingTransient<T>(_ body: () throws -> T) throws -> T {
  var wait: useconds_t = 1000
  var waited: useconds_t = 0
  while true {
    do {
      return try body()
    } catch let error as GitError where error.isTransient && waited < 2_000_000 {
      usleep(wait)
      waited += wait
      wait = min(wait * 2, 200_000)
    }
  }
}
