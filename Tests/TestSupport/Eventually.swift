import Foundation
import Testing

/// Polls `condition` until it holds or `seconds` have passed, for the places where a test waits for
/// another process; records an issue naming `what` when the deadline passes.
///
/// - Returns: whether the condition held in time.
@discardableResult
public func eventually(
  _ what: @autoclosure () -> String, within seconds: Double = 20,
  sourceLocation: SourceLocation = #_sourceLocation, _ condition: () throws -> Bool
) rethrows -> Bool {
  let deadline = Date().addingTimeInterval(seconds)
  repeat {
    if try condition() { return true }
    usleep(10_000)
  } while Date() < deadline
  if try condition() { return true }
  Issue.record("waited \(seconds) s for \(what())", sourceLocation: sourceLocation)
  return false
}

/// True when `pid` no longer runs: it does not exist, or it is a zombie waiting for a parent that
/// never reaps it.
public func processIsGone(_ pid: pid_t) -> Bool {
  if kill(pid, 0) != 0 { return errno == ESRCH }
  guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
    let close = stat.lastIndex(of: ")")
  else { return false }
  return stat[stat.index(close, offsetBy: 2)] == "Z"
}

/// The process id written in the file at `path`, or 0.
public func processID(inFile path: URL) -> pid_t {
  pid_t((try? String(contentsOf: path, encoding: .utf8))?.trimmed ?? "") ?? 0
}
