import Foundation

/// Estimates the time left from measured durations, per complexity, as the seed's
/// `estimated_remaining`.
///
/// A sub-task left is estimated by the mean duration of the completed ones of its complexity; a
/// complexity with none measured yet is scaled from all of them by its weight. (Scaling everything
/// from a few small sub-tasks said 4.6 s just before a 32 s one.)
enum Estimate {
  static func remaining(plan: Plan, history: History) -> Double? {
    Tally(plan: plan, history: history).remaining
  }

  static func text(_ seconds: Double?, remainingCount: Int) -> String {
    if remainingCount == 0 { return "none (all sub-tasks completed)" }
    guard let seconds else { return "unknown until a sub-task has completed" }
    return "about " + Durations.format(seconds)
  }

  /// What the estimate is computed from, per complexity: the sub-tasks left, and the measured
  /// durations of the completed ones. A run keeps one up to date as sub-tasks land (`record`), so
  /// its progress after each sub-task costs the same at the end of a long plan as at its start.
  struct Tally {
    private(set) var completed = 0
    // Per complexity, by its place in `Complexity.allCases`: arrays rather than dictionaries, as
    // status counts every sub-task of a plan (10,000 hashes each of three tables, ~2 ms).
    private var left = [Int](repeating: 0, count: Complexity.allCases.count)
    private var seconds = [Double](repeating: 0, count: Complexity.allCases.count)
    private var measured = [Int](repeating: 0, count: Complexity.allCases.count)

    /// No sub-task yet.
    init() {}

    /// The plan's sub-tasks as `history` says they stand.
    init(plan: Plan, history: History) {
      for index in plan.subtasks.indices {
        count(plan.subtasks[index].complexity, history.completions[plan.subtasks[index].id])
      }
    }

    /// One more sub-task of `complexity`, completed by `completion` or left (nil).
    mutating func count(_ complexity: Complexity, _ completion: History.Completion?) {
      left[complexity.slot] += 1
      if let completion { record(complexity, old: nil, new: completion) }
    }

    /// A sub-task of `complexity` completed by `new`, which replaces `old` (nil: it was left).
    mutating func record(_ complexity: Complexity, old: History.Completion?, new: History.Completion) {
      let slot = complexity.slot
      if let old {
        if let duration = old.duration {
          seconds[slot] -= duration
          measured[slot] -= 1
        }
      } else {
        completed += 1
        left[slot] -= 1
      }
      if let duration = new.duration {
        seconds[slot] += duration
        measured[slot] += 1
      }
    }

    /// Seconds, to a tenth; nil until a completed sub-task has a measured duration.
    var remaining: Double? {
      var total = 0.0
      var weight = 0.0
      for complexity in Complexity.allCases {
        total += seconds[complexity.slot]
        weight += Double(measured[complexity.slot]) * complexity.weight
      }
      guard weight > 0 else { return nil }
      let rate = total / weight
      var estimate = 0.0
      for complexity in Complexity.allCases {
        let count = Double(left[complexity.slot])
        guard count > 0 else { continue }
        let same = measured[complexity.slot]
        if same > 0 {
          estimate += count * (seconds[complexity.slot] / Double(same))
        } else {
          estimate += count * complexity.weight * rate
        }
      }
      return (estimate * 10).rounded() / 10
    }
  }
}

extension Complexity {
  /// Its place in `allCases`, where `Estimate.Tally` keeps its counts.
  fileprivate var slot: Int {
    switch self {
    case .small: 0
    case .medium: 1
    case .large: 2
    case .massive: 3
    }
  }
}
