import Foundation

/// The seed's MASTER TASK PROGRESS box with one ✅ / ❌ / ⏳ line per sub-task.
public struct ProgressBox {
  public let status: PlanStatus

  public init(_ status: PlanStatus) {
    self.status = status
  }

  public var rendered: String {
    let rule = String(repeating: "═", count: 39)
    let next = status.subtaskDetails.first { $0.state != .completed }
    let current =
      status.currentSubtask
      ?? (status.isComplete ? "none (all sub-tasks completed)" : "none running; next: \(next?.id ?? "-")")
    var lines = [
      rule, "MASTER TASK PROGRESS", rule,
      "Plan: \(status.masterTaskID)",
      "Total Sub-tasks: \(status.totalSubtasks)",
      "Completed: \(status.completedSubtasks.count)",
      String(format: "Progress: %.1f%%", status.progressPercentage),
      "",
      "Estimated Remaining: \(status.estimatedRemaining)",
      "",
      "Current: \(current)",
      "Work folder: \(status.workdir)",
      rule,
    ]
    if let cost = status.cost, cost.spentUSD != nil || cost.budgetUSD != nil { lines.insert("Cost: " + cost.line, at: 9) }
    for detail in status.subtaskDetails {
      switch detail.state {
      case .completed:
        let attempts = Plural.count(detail.attempts, "attempt")
        let time = detail.durationSeconds.map { ", " + Durations.format($0) } ?? ""
        let cost = detail.costUSD.map { ", " + Ledger.money($0) } ?? ""
        lines.append("  ✅ \(detail.id) (\(attempts)\(time)\(cost))")
      case .failed:
        lines.append("  ❌ \(detail.id): \(detail.description) (\(Plural.count(detail.attempts, "failed attempt")), branch \(detail.branch))")
      case .inProgress:
        lines.append("  ⏳ \(detail.id): \(detail.description) (in progress, branch \(detail.branch))")
      case .interrupted:
        lines.append("  ⏸ \(detail.id): \(detail.description) (interrupted, resumes from branch \(detail.branch))")
      case .pending:
        lines.append("  ⏳ \(detail.id): \(detail.description)")
      }
    }
    return lines.joined(separator: "\n")
  }
}
