import Foundation

/// Where a run stands, for the compact line printed at each sub-task's start and end:
/// `[3/7 · 43% · ETA ~2 min]`.
public struct RunProgress: Sendable, Equatable {
  public var completed: Int
  public var total: Int
  public var percentage: Double
  /// From measured durations per complexity (`Estimate`); nil until a sub-task has a measured duration.
  public var remainingSeconds: Double?

  public init(_ status: PlanStatus) {
    completed = status.completedSubtasks.count
    total = status.totalSubtasks
    percentage = status.progressPercentage
    remainingSeconds = status.isComplete ? 0 : status.estimatedRemainingSeconds
  }

  /// The same figures as `init(_:)` of the plan's status, from a run's own tally of its history.
  init(total: Int, tally: Estimate.Tally) {
    self.total = total
    completed = tally.completed
    percentage = total == 0 ? 0 : (Double(completed) * 1000 / Double(total)).rounded() / 10
    remainingSeconds = completed == total ? 0 : tally.remaining
  }

  /// `[3/7 · 43% · ETA ~2 min]`; `ETA unknown` before anything was measured.
  public var compact: String {
    let eta: String
    if completed == total {
      eta = "done"
    } else if let remainingSeconds {
      eta = "ETA ~" + Self.roughly(remainingSeconds)
    } else {
      eta = "ETA unknown"
    }
    return "[\(completed)/\(total) · \(Int(percentage.rounded()))% · \(eta)]"
  }

  /// A duration as a person says it ahead of time: `40 s`, `2 min`, `1 h 20 min`.
  static func roughly(_ seconds: Double) -> String {
    if seconds < 60 { return "\(max(1, Int((seconds / 5).rounded()) * 5)) s" }
    let minutes = Int((seconds / 60).rounded())
    if minutes < 60 { return "\(minutes) min" }
    return minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes / 60) h \(minutes % 60) min"
  }

  public var jsonObject: [String: Any] {
    [
      "completed": completed, "total": total, "progress_percentage": percentage,
      "estimated_remaining_seconds": remainingSeconds as Any,
    ]
  }
}
