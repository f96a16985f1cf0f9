import Foundation
import GitKit

/// What a plan's agents cost, read from git: the `Orchestrate-Cost-Total` of each sub-task on main,
/// and the `Orchestrate-Cost` of the failed attempts of the ones still open. Agents that reported
/// nothing are counted as unreported, never estimated.
public struct CostSummary: Codable, Sendable, Equatable {
  /// Dollars reported so far, over every attempt of every sub-task; nil when no agent reported a cost.
  public var spentUSD: Decimal?
  public var inputTokens: Int?
  public var outputTokens: Int?
  /// Attempts whose agent reported a cost, and attempts whose agent did not (script steps included).
  public var attemptsReported: Int
  public var attemptsUnreported: Int
  /// The sub-tasks left times the measured cost per unit of complexity: an estimate, nil until a
  /// sub-task with a reported cost has completed.
  public var estimatedRemainingUSD: Decimal?
  /// `~$1.20 estimated`, or why there is no estimate.
  public var estimatedRemaining: String
  /// The budget `--budget` would be compared with if not given: the plan's `max_cost`, else
  /// `git config orchestrate.maxCost`; nil when none.
  public var budgetUSD: Decimal?

  enum CodingKeys: String, CodingKey {
    case spentUSD = "spent_usd"
    case inputTokens = "input_tokens"
    case outputTokens = "output_tokens"
    case attemptsReported = "attempts_reported"
    case attemptsUnreported = "attempts_unreported"
    case estimatedRemainingUSD = "estimated_remaining_usd"
    case estimatedRemaining = "estimated_remaining"
    case budgetUSD = "budget_usd"
  }

  // Every key present, null when unknown.
  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(spentUSD, forKey: .spentUSD)
    try c.encode(inputTokens, forKey: .inputTokens)
    try c.encode(outputTokens, forKey: .outputTokens)
    try c.encode(attemptsReported, forKey: .attemptsReported)
    try c.encode(attemptsUnreported, forKey: .attemptsUnreported)
    try c.encode(estimatedRemainingUSD, forKey: .estimatedRemainingUSD)
    try c.encode(estimatedRemaining, forKey: .estimatedRemaining)
    try c.encode(budgetUSD, forKey: .budgetUSD)
  }

  /// `$0.97 spent (1 attempt unreported) · ~$1.20 estimated to go · budget $5.00`.
  public var line: String {
    var parts: [String] = []
    if let spentUSD {
      var spent = Ledger.money(spentUSD) + " spent"
      if attemptsUnreported > 0 { spent += " (\(attemptsUnreported) attempt\(attemptsUnreported == 1 ? "" : "s") unreported)" }
      parts.append(spent)
    } else {
      parts.append("cost unknown (no agent reported one)")
    }
    if let estimatedRemainingUSD, estimatedRemainingUSD > 0 {
      parts.append("~" + Ledger.money(estimatedRemainingUSD) + " estimated to go")
    }
    if let budgetUSD { parts.append("budget " + Ledger.money(budgetUSD)) }
    return parts.joined(separator: " · ")
  }
}

/// Computes `CostSummary` and the per-sub-task costs of `PlanStatus`.
enum Ledger {
  /// `$0.97`, `$12.50`, `$0.0121` (small amounts keep 4 decimals, so they do not read as $0.00).
  static func money(_ value: Decimal) -> String {
    var input = value
    var output = Decimal()
    NSDecimalRound(&output, &input, value < Decimal(string: "0.1")! && value != 0 ? 4 : 2, .plain)
    var text = "\(output)"
    if !text.contains(".") { text += "." }
    let decimals = text.split(separator: ".", omittingEmptySubsequences: false).last?.count ?? 0
    if decimals < 2 { text += String(repeating: "0", count: 2 - decimals) }
    return "$" + text
  }

  /// The cost of each sub-task and the plan's summary: completed ones as `history` read them from
  /// their commits on main, the others from the attempts on the branches `details` name.
  /// - Parameter details: the plan's sub-tasks, in order (as status makes them).
  /// - Returns: `perSubtask[i]`, what `details[i]` cost (nil when nothing is known), and the summary.
  static func read(
    repository: Repository, plan: Plan, details: [PlanStatus.Detail], history: History, budget: Decimal?
  ) throws -> (perSubtask: [CostTotal?], summary: CostSummary) {
    precondition(details.count == plan.subtasks.count, "details are the plan's sub-tasks in order")
    var costs: [CostTotal?] = []
    costs.reserveCapacity(details.count)
    for detail in details {
      switch detail.state {
      case .completed:
        costs.append(history.completions[detail.id]?.cost)
      case .pending:
        costs.append(nil)
      case .failed, .inProgress, .interrupted:
        guard let hex = detail.commit, let tip = OID(hex: hex), detail.attempts > 0 else {
          costs.append(nil)
          continue
        }
        costs.append(
          try AttemptLog.read(
            repository: repository, from: tip, plan: plan.id, subtask: detail.id, mainTip: history.mainTip
          ).cost)
      }
    }
    var summary = CostSummary(
      spentUSD: nil, inputTokens: nil, outputTokens: nil, attemptsReported: 0, attemptsUnreported: 0,
      estimatedRemainingUSD: nil, estimatedRemaining: "", budgetUSD: budget)
    // The estimate: dollars per unit of complexity over the completed sub-tasks with a reported cost.
    var measured = Decimal(0)
    var weight = 0.0
    var leftWeight = 0.0
    var allCompleted = true
    for index in details.indices {
      let completed = details[index].state == .completed
      allCompleted = allCompleted && completed
      let complexity = plan.subtasks[index].complexity
      if let cost = costs[index] {
        if let value = cost.costUSD { summary.spentUSD = (summary.spentUSD ?? 0) + value }
        if let value = cost.inputTokens { summary.inputTokens = (summary.inputTokens ?? 0) + value }
        if let value = cost.outputTokens { summary.outputTokens = (summary.outputTokens ?? 0) + value }
        summary.attemptsReported += cost.reported
        summary.attemptsUnreported += cost.unreported
      }
      if completed, let cost = costs[index]?.costUSD {
        measured += cost
        weight += complexity.weight
      } else if !completed {
        leftWeight += complexity.weight
      }
    }
    if leftWeight == 0 {
      summary.estimatedRemainingUSD = allCompleted ? 0 : nil
      summary.estimatedRemaining = "none (all sub-tasks completed)"
    } else if weight > 0 {
      let estimate = AgentUsage.rounded(measured * Decimal(leftWeight) / Decimal(weight))
      summary.estimatedRemainingUSD = estimate
      summary.estimatedRemaining = "~" + money(estimate) + " estimated"
    } else {
      summary.estimatedRemaining = "unknown until a sub-task with a reported cost has completed"
    }
    return (costs, summary)
  }

  /// The plan's `max_cost`, else `git config orchestrate.maxCost` (ignored here when unreadable:
  /// a run reports it).
  static func configuredBudget(repository: Repository, plan: Plan) -> Decimal? {
    if let cost = plan.maxCost { return cost }
    return (try? repository.configString("orchestrate.maxCost"))?.flatMap(Budget.parse)
  }
}

extension Orchestrator {
  /// What the plan's agents cost so far, and the estimate of what is left (also `status().cost`).
  public func ledger(_ stored: StoredPlan) throws -> CostSummary {
    guard let cost = try status(stored).cost else { throw OrchestrateError.io("no cost summary") }
    return cost
  }
}
