import Foundation

/// Phase timings on standard error when `ORCHESTRATE_TRACE=1`, for finding where a run spends its time.
enum Trace {
  static let enabled = ProcessInfo.processInfo.environment["ORCHESTRATE_TRACE"] == "1"
  nonisolated(unsafe) private static var last = DispatchTime.now().uptimeNanoseconds

  static func mark(_ label: @autoclosure () -> String) {
    guard enabled else { return }
    let previous = last
    let now = DispatchTime.now().uptimeNanoseconds
    let elapsed = Double(Int64(bitPattern: now &- previous)) / 1e6
    FileHandle.standardError.write(Data("trace \(String(format: "%8.2f", elapsed)) ms  \(label())\n".utf8))
    last = now
  }
}
