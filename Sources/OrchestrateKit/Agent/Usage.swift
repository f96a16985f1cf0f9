import Foundation

/// What one agent run reported it used: money, tokens, turns, the model and the session.
///
/// Every field is what the agent itself said. A field it did not report stays `nil` and a run that
/// reported nothing has no usage at all: the tool never estimates a cost it was not told.
public struct AgentUsage: Codable, Sendable, Equatable {
  /// US dollars, as the agent computed them (rounded to micro-dollars).
  public var costUSD: Decimal?
  public var inputTokens: Int?
  public var outputTokens: Int?
  public var cacheReadTokens: Int?
  public var cacheWriteTokens: Int?
  public var turns: Int?
  public var model: String?
  /// The agent's own session id (Claude Code's `session_id`), to reopen what it did.
  public var sessionID: String?
  /// Who reported it: `claude`, `aider`, or the name a usage file gives (`agent`), else `usage-file`.
  public var agent: String?
  /// A command that reopens the session, when a usage file gives one.
  public var resumeCommand: String?

  public init(
    costUSD: Decimal? = nil, inputTokens: Int? = nil, outputTokens: Int? = nil, cacheReadTokens: Int? = nil,
    cacheWriteTokens: Int? = nil, turns: Int? = nil, model: String? = nil, sessionID: String? = nil,
    agent: String? = nil, resumeCommand: String? = nil
  ) {
    self.costUSD = costUSD.map(Self.rounded)
    self.inputTokens = inputTokens
    self.outputTokens = outputTokens
    self.cacheReadTokens = cacheReadTokens
    self.cacheWriteTokens = cacheWriteTokens
    self.turns = turns
    self.model = model
    self.sessionID = sessionID
    self.agent = agent
    self.resumeCommand = resumeCommand
  }

  enum CodingKeys: String, CodingKey {
    case costUSD = "cost_usd"
    case inputTokens = "input_tokens"
    case outputTokens = "output_tokens"
    case cacheReadTokens = "cache_read_tokens"
    case cacheWriteTokens = "cache_write_tokens"
    case turns, model, agent
    case sessionID = "session_id"
    case resumeCommand = "resume_command"
  }

  /// True when it says nothing about cost or tokens.
  public var isEmpty: Bool { costUSD == nil && inputTokens == nil && outputTokens == nil }

  /// Two runs of one attempt (a step list, or an agent run again after an interruption) added up.
  /// A sum is known when either part is; the session and model are the later run's.
  public static func + (lhs: AgentUsage, rhs: AgentUsage) -> AgentUsage {
    func add<T: AdditiveArithmetic>(_ a: T?, _ b: T?) -> T? {
      switch (a, b) {
      case (nil, nil): nil
      case (let a?, nil): a
      case (nil, let b?): b
      case (let a?, let b?): a + b
      }
    }
    return AgentUsage(
      costUSD: add(lhs.costUSD, rhs.costUSD), inputTokens: add(lhs.inputTokens, rhs.inputTokens),
      outputTokens: add(lhs.outputTokens, rhs.outputTokens),
      cacheReadTokens: add(lhs.cacheReadTokens, rhs.cacheReadTokens),
      cacheWriteTokens: add(lhs.cacheWriteTokens, rhs.cacheWriteTokens), turns: add(lhs.turns, rhs.turns),
      model: rhs.model ?? lhs.model, sessionID: rhs.sessionID ?? lhs.sessionID, agent: rhs.agent ?? lhs.agent,
      resumeCommand: rhs.resumeCommand ?? lhs.resumeCommand)
  }

  /// Micro-dollars: what agents report beyond that is floating-point noise (`0.012112000000000001`).
  static func rounded(_ value: Decimal) -> Decimal {
    var input = value
    var output = Decimal()
    NSDecimalRound(&output, &input, 6, .plain)
    return output
  }

  /// The command that reopens the agent's session, run in the work folder: `claude --resume ID` for
  /// Claude Code, or what a usage file gave.
  public var resume: String? {
    if let resumeCommand, !resumeCommand.isEmpty { return resumeCommand }
    if agent == "claude", let sessionID { return "claude --resume \(sessionID)" }
    return nil
  }
}

extension AgentUsage {
  /// The usage-file keys with the values known, for the run's JSON events.
  public var json: [String: Any] {
    var object: [String: Any] = [:]
    if let costUSD { object["cost_usd"] = NSDecimalNumber(decimal: costUSD).doubleValue }
    if let inputTokens { object["input_tokens"] = inputTokens }
    if let outputTokens { object["output_tokens"] = outputTokens }
    if let cacheReadTokens { object["cache_read_tokens"] = cacheReadTokens }
    if let cacheWriteTokens { object["cache_write_tokens"] = cacheWriteTokens }
    if let turns { object["turns"] = turns }
    if let model { object["model"] = model }
    if let sessionID { object["session_id"] = sessionID }
    if let agent { object["agent"] = agent }
    if let resume { object["resume_command"] = resume }
    return object
  }

  /// `0.012112 USD, 2468 in / 112 out tokens, 2 turns`, for the terminal.
  public var summary: String {
    var parts: [String] = []
    parts.append(costUSD.map { Trailers.dollars($0) + " USD" } ?? "cost not reported")
    if let inputTokens, let outputTokens { parts.append("\(inputTokens) in / \(outputTokens) out tokens") }
    if let turns { parts.append("\(turns) turn\(turns == 1 ? "" : "s")") }
    return parts.joined(separator: ", ")
  }
}

// MARK: - Readers

extension AgentUsage {
  /// Claude Code's `--output-format json` or `stream-json` output: the sum of every
  /// `{"type":"result", …}` event in `log` (one per `claude -p` run; an agent run again after an
  /// interruption appends another), other lines ignored.
  ///
  /// Fields read: `total_cost_usd`, `usage.input_tokens`, `usage.output_tokens`,
  /// `usage.cache_read_input_tokens`, `usage.cache_creation_input_tokens`, `num_turns`, `session_id`,
  /// and the model of `modelUsage` that cost the most.
  /// - Returns: nil when no result event is there.
  public static func claude(log: String) -> AgentUsage? {
    var total: AgentUsage?
    for line in log.split(whereSeparator: \.isNewline) {
      let text = line.trimmingCharacters(in: .whitespaces)
      guard text.hasPrefix("{"), text.contains("\"result\""),
        let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
        object["type"] as? String == "result"
      else { continue }
      let usage = object["usage"] as? [String: Any] ?? [:]
      var model: String?
      if let models = object["modelUsage"] as? [String: Any] {
        model = models.max { a, b in
          let costA = ((a.value as? [String: Any])?["costUSD"] as? NSNumber)?.doubleValue ?? 0
          let costB = ((b.value as? [String: Any])?["costUSD"] as? NSNumber)?.doubleValue ?? 0
          return costA == costB ? a.key > b.key : costA < costB
        }?.key
      }
      let run = AgentUsage(
        costUSD: decimal(object["total_cost_usd"]), inputTokens: integer(usage["input_tokens"]),
        outputTokens: integer(usage["output_tokens"]), cacheReadTokens: integer(usage["cache_read_input_tokens"]),
        cacheWriteTokens: integer(usage["cache_creation_input_tokens"]), turns: integer(object["num_turns"]),
        model: model, sessionID: object["session_id"] as? String, agent: "claude")
      total = total.map { $0 + run } ?? run
    }
    return total
  }

  /// aider's reports, one per model reply:
  /// `Tokens: 1.2k sent, 3.4k cache write, 5.6k cache hit, 345 received.` and
  /// `Cost: $0.01 message, $0.05 session.` (on the same line, or the next when both cache counts show).
  ///
  /// Tokens are summed over the replies, as aider prints them (`1.2k` is 1200: aider rounds). The cost
  /// is the last `session` figure of each aider run (a run starts with its `Aider v…` banner), summed
  /// over the runs: the per-message figures are rounded to cents, the session total is not.
  /// - Returns: nil when no report is there.
  public static func aider(log: String) -> AgentUsage? {
    var found = false
    var tokens = AgentUsage(agent: "aider")
    var finishedRuns = Decimal(0)
    var runSession: Decimal?
    var anyCost = false
    for line in log.split(whereSeparator: \.isNewline).map(String.init) {
      if line.hasPrefix("Aider v") {
        if let runSession { finishedRuns += runSession }
        runSession = nil
        continue
      }
      if line.hasPrefix("Tokens: ") {
        found = true
        for part in line.dropFirst("Tokens: ".count).split(separator: ",") {
          let words = part.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
          guard words.count == 2, let count = aiderCount(String(words[0])) else { continue }
          switch words[1].prefix(while: { $0 != "." }) {
          case "sent": tokens.inputTokens = (tokens.inputTokens ?? 0) + count
          case "received": tokens.outputTokens = (tokens.outputTokens ?? 0) + count
          case "cache write": tokens.cacheWriteTokens = (tokens.cacheWriteTokens ?? 0) + count
          case "cache hit": tokens.cacheReadTokens = (tokens.cacheReadTokens ?? 0) + count
          default: break
          }
        }
        tokens.turns = (tokens.turns ?? 0) + 1
      }
      if let range = line.range(of: "Cost: $") {
        let rest = line[range.upperBound...]
        guard let session = rest.range(of: " session") else { continue }
        let before = rest[..<session.lowerBound]
        guard let dollar = before.range(of: "$", options: .backwards),
          let value = Decimal(string: String(before[dollar.upperBound...]), locale: Locale(identifier: "en_US_POSIX"))
        else { continue }
        found = true
        anyCost = true
        runSession = value
      }
    }
    guard found else { return nil }
    if anyCost { tokens.costUSD = rounded(finishedRuns + (runSession ?? 0)) }
    return tokens
  }

  /// `345` → 345, `1.2k` → 1200, `12k` → 12000.
  static func aiderCount(_ text: String) -> Int? {
    if text.hasSuffix("k"), let value = Double(text.dropLast()) { return Int((value * 1000).rounded()) }
    return Int(text)
  }

  /// The usage file an agent wrote at `$ORCHESTRATE_USAGE_FILE` (schema in docs/agents.md).
  /// - Throws: `UsageFileError` when it is not a JSON object of that schema.
  public static func usageFile(_ data: Data) throws -> AgentUsage {
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw UsageFileError(reason: "not a JSON object")
    }
    func count(_ key: String) throws -> Int? {
      guard let value = object[key], !(value is NSNull) else { return nil }
      guard let number = integer(value), number >= 0 else {
        throw UsageFileError(reason: "\(key) must be a whole number of tokens, at least 0")
      }
      return number
    }
    func text(_ key: String) throws -> String? {
      guard let value = object[key], !(value is NSNull) else { return nil }
      guard let string = value as? String else { throw UsageFileError(reason: "\(key) must be a string") }
      let clean = Trailers.sanitize(string)
      return clean.isEmpty ? nil : String(clean.prefix(200))
    }
    var cost: Decimal?
    if let value = object["cost_usd"], !(value is NSNull) {
      guard let number = decimal(value), number >= 0 else {
        throw UsageFileError(reason: "cost_usd must be a number of US dollars, at least 0")
      }
      cost = number
    }
    var usage = AgentUsage(
      costUSD: cost, inputTokens: try count("input_tokens"), outputTokens: try count("output_tokens"),
      cacheReadTokens: try count("cache_read_tokens"), cacheWriteTokens: try count("cache_write_tokens"),
      turns: try count("turns"), model: try text("model"), sessionID: try text("session_id"),
      agent: try text("agent") ?? "usage-file", resumeCommand: try text("resume_command"))
    if let id = usage.sessionID, id.contains(" ") { usage.sessionID = id.replacingOccurrences(of: " ", with: "_") }
    if usage.agent?.contains(" ") == true { usage.agent = usage.agent?.replacingOccurrences(of: " ", with: "-") }
    return usage
  }

  static func decimal(_ value: Any?) -> Decimal? {
    switch value {
    case let number as NSNumber where !isBoolean(number):
      // The shortest text that gives the double back, then exact decimal arithmetic from there.
      Decimal(string: "\(number.doubleValue)", locale: Locale(identifier: "en_US_POSIX"))
    case let string as String: Decimal(string: string, locale: Locale(identifier: "en_US_POSIX"))
    default: nil
    }
  }

  /// JSON `true` and `false` arrive as numbers; they are not counts or dollars.
  static func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

  static func integer(_ value: Any?) -> Int? {
    guard let number = value as? NSNumber, !isBoolean(number) else { return nil }
    let double = number.doubleValue
    guard double.rounded() == double, abs(double) < 1e15 else { return nil }
    return Int(double)
  }
}

/// A usage file that cannot be read: the run goes on and the attempt's usage is unknown.
public struct UsageFileError: Error, LocalizedError, Equatable {
  public var reason: String
  public var errorDescription: String? { "the agent's usage file was not used: \(reason)" }
}
