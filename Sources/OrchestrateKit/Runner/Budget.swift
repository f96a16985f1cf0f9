import Foundation
import GitKit

/// The most a plan may spend on agents, in US dollars: `--budget`, else the plan's `max_cost`, else
/// `git config orchestrate.maxCost`.
///
/// Checked against the spend recorded in git (`Ledger`) before every agent run: a plan whose
/// agents reported that much stops before the next one starts. Agents that report nothing count
/// for nothing, so a budget only bounds what is measured (docs/agents.md, *Cost*).
public struct Budget: Sendable, Equatable {
  public enum Source: String, Sendable, Equatable {
    case flag = "--budget"
    case plan = "the plan's max_cost"
    case config = "git config orchestrate.maxCost"
  }

  public var limit: Decimal
  public var source: Source

  public init(limit: Decimal, source: Source) {
    self.limit = limit
    self.source = source
  }

  /// The budget that applies, if any.
  /// - Throws: `OrchestrateError.invalidArgument` for an `orchestrate.maxCost` that is not an amount.
  public static func resolve(flag: Decimal?, plan: Plan, repository: Repository) throws -> Budget? {
    if let flag { return Budget(limit: flag, source: .flag) }
    if let cost = plan.maxCost { return Budget(limit: cost, source: .plan) }
    guard let text = try repository.configString("orchestrate.maxCost") else { return nil }
    guard let value = parse(text) else {
      throw OrchestrateError.invalidArgument(
        "git config orchestrate.maxCost '\(PlanDiagnostic.escaped(text))' is not an amount of US dollars such as 5.00; set it with 'git config orchestrate.maxCost 5.00' or remove it with 'git config --unset orchestrate.maxCost'"
      )
    }
    return Budget(limit: value, source: .config)
  }

  /// `5`, `5.00`, `$5.00`, `5.00 USD` → 5.00; nil for anything else or a negative amount.
  public static func parse(_ text: String) -> Decimal? {
    var value = text.trimmingCharacters(in: .whitespaces)
    if value.hasPrefix("$") { value.removeFirst() }
    if value.uppercased().hasSuffix("USD") { value = String(value.dropLast(3)).trimmingCharacters(in: .whitespaces) }
    guard !value.isEmpty, value.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
      value.filter({ $0 == "." }).count <= 1,
      let amount = Decimal(string: value, locale: Locale(identifier: "en_US_POSIX")), amount >= 0
    else { return nil }
    return amount
  }

  /// What to type to go on: the flag with a higher amount, and where else the budget is set.
  func howToContinue(plan: String, spent: Decimal) -> String {
    let higher = Trailers.dollars(max(limit * 2, spent + limit, 1))
    let base = "give a higher budget: 'git orchestrate run \(plan) --budget \(higher)'"
    switch source {
    case .flag: return base
    case .plan: return base + " (it overrides the plan's max_cost), or raise max_cost in a new plan"
    case .config: return base + ", or 'git config orchestrate.maxCost \(higher)'"
    }
  }
}
