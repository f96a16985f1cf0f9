import Foundation
import GitKit

extension PlanSession {
  /// What attempt `attempt` of `subtask` used, as its agent reported it (nil: unknown).
  func attemptUsage(_ subtask: Subtask, attempt: Int) -> AgentUsage? {
    AttemptUsageFiles(layout: orchestrator.layout, plan: plan.id, subtask: subtask, attempt: attempt).read()
  }

  /// The sub-task's total when it lands: the failed attempts on its branch, as their trailers say,
  /// and the landing attempt's `usage`.
  func landingCost(_ cycle: SubtaskCycle, usage: AgentUsage?) throws -> CostTotal {
    var total = CostTotal()
    if let tip = try repository.resolve(cycle.branchRef), tip != cycle.base {
      total = try AttemptLog.read(
        repository: repository, from: tip, plan: plan.id, subtask: cycle.subtask.id, mainTip: cycle.base
      ).cost
    }
    total.add(usage)
    return total
  }

  /// Stops before an agent starts when the plan's recorded spend has reached its budget.
  /// - Throws: `OrchestrateError.budgetReached` with the spend and how to go on.
  public func checkBudget() throws {
    guard let budget = settings.budget else { return }
    let spent = try orchestrator.ledger(stored).spentUSD ?? 0
    if spent >= budget.limit { throw OrchestrateError.budgetReached(plan: plan.id, spent: spent, budget: budget) }
  }
}
