import Foundation
import GitKit

/// The cost trailers of attempt and sub-task commits (docs/storage.md, *Cost*).
///
/// Present only when the agent reported something: a commit without `Orchestrate-Cost` cost an
/// unknown amount, never zero.
extension Trailers {
  public static let cost = "Orchestrate-Cost"
  public static let tokens = "Orchestrate-Tokens"
  public static let agentModel = "Orchestrate-Agent-Model"
  public static let agentTurns = "Orchestrate-Agent-Turns"
  public static let agentSession = "Orchestrate-Agent-Session"
  public static let agentResume = "Orchestrate-Agent-Resume"
  public static let costTotal = "Orchestrate-Cost-Total"
  public static let tokensTotal = "Orchestrate-Tokens-Total"

  /// `0.42` → `0.42`, `1` → `1.00`, `0.012112` → `0.012112` (micro-dollars at most).
  public static func dollars(_ value: Decimal) -> String {
    var text = "\(AgentUsage.rounded(value))"
    if !text.contains(".") { text += "." }
    let decimals = text.count - 1 - (text.firstIndex(of: ".").map { text.distance(from: text.startIndex, to: $0) } ?? 0)
    if decimals < 2 { text += String(repeating: "0", count: 2 - decimals) }
    return text
  }

  /// `0.42 USD …` → 0.42.
  public static func parseDollars(_ value: String) -> Decimal? {
    let words = value.split(separator: " ")
    guard words.count >= 2, words[1] == "USD" else { return nil }
    return Decimal(string: String(words[0]), locale: Locale(identifier: "en_US_POSIX"))
  }

  /// `120500 in, 8200 out, 300 cache read, 20 cache write`.
  static func tokenText(_ usage: AgentUsage) -> String? {
    var parts: [String] = []
    if let value = usage.inputTokens { parts.append("\(value) in") }
    if let value = usage.outputTokens { parts.append("\(value) out") }
    if let value = usage.cacheReadTokens, value > 0 { parts.append("\(value) cache read") }
    if let value = usage.cacheWriteTokens, value > 0 { parts.append("\(value) cache write") }
    return parts.isEmpty ? nil : parts.joined(separator: ", ")
  }

  /// Reads `tokenText` back into `usage`.
  static func parseTokens(_ value: String, into usage: inout AgentUsage) {
    for part in value.split(separator: ",") {
      let words = part.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
      guard words.count == 2, let count = Int(words[0]) else { continue }
      switch words[1] {
      case "in": usage.inputTokens = count
      case "out": usage.outputTokens = count
      case "cache read": usage.cacheReadTokens = count
      case "cache write": usage.cacheWriteTokens = count
      default: break
      }
    }
  }

  /// The trailer lines of one attempt's usage (none when it is unknown).
  static func usageLines(_ usage: AgentUsage?) -> [String] {
    guard let usage else { return [] }
    var lines: [String] = []
    if let value = usage.costUSD { lines.append("\(cost): \(dollars(value)) USD") }
    if let tokens = tokenText(usage) { lines.append("\(Self.tokens): \(tokens)") }
    if let model = usage.model { lines.append("\(agentModel): \(sanitize(model))") }
    if let turns = usage.turns { lines.append("\(agentTurns): \(turns)") }
    if let session = usage.sessionID {
      lines.append("\(agentSession): \(sanitize(usage.agent ?? "agent")) \(sanitize(session))")
    }
    if let resume = usage.resumeCommand { lines.append("\(agentResume): \(sanitize(resume))") }
    return lines
  }

  /// The trailer lines of a landed sub-task's total, every attempt and fix agent counted.
  static func totalLines(_ total: CostTotal?) -> [String] {
    guard let total, total.costUSD != nil || total.inputTokens != nil || total.outputTokens != nil else { return [] }
    var lines: [String] = []
    if let value = total.costUSD {
      lines.append("\(costTotal): \(dollars(value)) USD (\(total.describedAttempts))")
    }
    if let tokens = tokenText(AgentUsage(inputTokens: total.inputTokens, outputTokens: total.outputTokens)) {
      lines.append("\(tokensTotal): \(tokens)")
    }
    return lines
  }

  /// The usage recorded on `commit`, nil when it has none.
  static func usage(of commit: Commit) -> AgentUsage? {
    var usage = AgentUsage()
    if let value = commit.trailer(cost) { usage.costUSD = parseDollars(value) }
    if let value = commit.trailer(tokens) { parseTokens(value, into: &usage) }
    usage.model = commit.trailer(agentModel)
    usage.turns = commit.trailer(agentTurns).flatMap { Int($0) }
    if let value = commit.trailer(agentSession) {
      let words = value.split(separator: " ", maxSplits: 1)
      if words.count == 2 {
        usage.agent = String(words[0])
        usage.sessionID = String(words[1])
      }
    }
    usage.resumeCommand = commit.trailer(agentResume)
    return usage == AgentUsage() ? nil : usage
  }

  /// The total recorded on a sub-task's commit, nil when it has none.
  static func total(of commit: Commit) -> CostTotal? {
    guard commit.trailer(costTotal) != nil || commit.trailer(tokensTotal) != nil else { return nil }
    let value = commit.trailer(costTotal) ?? ""
    var total = CostTotal()
    total.costUSD = parseDollars(value)
    // `(3 attempts, 1 unreported)`
    if let open = value.firstIndex(of: "("), let close = value.lastIndex(of: ")"), open < close {
      for part in value[value.index(after: open)..<close].split(separator: ",") {
        let words = part.trimmingCharacters(in: .whitespaces).split(separator: " ")
        guard words.count >= 2, let count = Int(words[0]) else { continue }
        if words[1].hasPrefix("attempt") { total.attempts = count }
        if words[1] == "unreported" { total.unreported = count }
      }
    }
    if let tokens = commit.trailer(tokensTotal) {
      var usage = AgentUsage()
      parseTokens(tokens, into: &usage)
      total.inputTokens = usage.inputTokens
      total.outputTokens = usage.outputTokens
    }
    if total.attempts == 0 { total.attempts = 1 }
    return total
  }
}

/// What a sub-task cost over its attempts: the agents that reported a cost, summed; how many did not.
public struct CostTotal: Codable, Sendable, Equatable {
  /// Dollars reported, summed; nil when no attempt reported a cost.
  public var costUSD: Decimal?
  public var inputTokens: Int?
  public var outputTokens: Int?
  /// Attempts counted, the landing one included.
  public var attempts = 0
  /// Of those, attempts whose agent reported no cost (script steps, agents that say nothing).
  public var unreported = 0

  public init() {}

  public var reported: Int { attempts - unreported }

  /// Adds one attempt's usage (nil: it reported nothing).
  public mutating func add(_ usage: AgentUsage?) {
    attempts += 1
    guard let usage, let cost = usage.costUSD else {
      unreported += 1
      addTokens(usage)
      return
    }
    costUSD = (costUSD ?? 0) + cost
    addTokens(usage)
  }

  private mutating func addTokens(_ usage: AgentUsage?) {
    if let value = usage?.inputTokens { inputTokens = (inputTokens ?? 0) + value }
    if let value = usage?.outputTokens { outputTokens = (outputTokens ?? 0) + value }
  }

  /// `3 attempts`, `3 attempts, 1 unreported`.
  var describedAttempts: String {
    "\(attempts) attempt\(attempts == 1 ? "" : "s")" + (unreported > 0 ? ", \(unreported) unreported" : "")
  }
}
