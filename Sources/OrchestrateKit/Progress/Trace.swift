import Foundation

/// Phase timings on standard error when `ORCHESTRATE_TRACE=1`, for finding where a run spends its time.
enum Trace {
  /// The process's peak resident size so far (VmHWM), as /proc reports it.
  static func peakMemory() -> String {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
    else { return "?" }
    return line.dropFirst(6).trimmingCharacters(in: .whitespaces)
  }

  static let enabled = ProcessInfo.processInfo.environment["ORCHESTRATE_TRACE"] == "1"
  nonisolated(unsafe) private static var last = DispatchTime.now().uptimeNanoseconds

  static func mark(_ label: @autoclosure () -> String) {
    guard enabled else { return }
    let previous = last
    let now = DispatchTime.now().uptimeNanoseconds
    let elapsed = Double(Int64(bitPattern: now &- previous)) / 1e6
    FileHandle.standardError.write(Data("trace \(String(format: "%8.2f", elapsed)) ms  \(label())  [\(peakMemory())]\n".utf8))
    last = now
  }
}
