import Foundation

/// The processes descended from `pid` (children, their children, …), read from `/proc`; empty where
/// there is no `/proc`.
public func descendants(of pid: pid_t) -> [pid_t] {
  var parents: [pid_t: pid_t] = [:]
  for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
    guard let child = pid_t(entry),
      let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { continue }
    // After "pid (name) ": the state, then the parent's pid.
    let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
    if fields.count > 1, let parent = pid_t(fields[1]) { parents[child] = parent }
  }
  var found: [pid_t] = []
  var frontier = [pid]
  while let next = frontier.popLast() {
    for (child, parent) in parents where parent == next {
      found.append(child)
      frontier.append(child)
    }
  }
  return found
}

/// kill -9 of `pid` and of everything it started, as a crash of the machine's session would end
/// them: `git-orchestrate` runs each agent and checkpoint in a process group of its own, so
/// signalling its group would leave them writing into the work folders.
///
/// Every process of the tree is stopped first, until a reading of `/proc` finds no new one (a
/// stopped process cannot start another), then all are killed at once.
/// - Returns: the descendants killed, for the caller to wait until they are gone.
@discardableResult
public func killProcessTree(_ pid: pid_t) -> [pid_t] {
  kill(pid, SIGSTOP)
  var stopped: Set<pid_t> = []
  while true {
    let new = Set(descendants(of: pid)).subtracting(stopped)
    if new.isEmpty { break }
    for process in new { kill(process, SIGSTOP) }
    stopped.formUnion(new)
  }
  kill(pid, SIGKILL)
  for process in stopped { kill(process, SIGKILL) }
  return Array(stopped)
}
