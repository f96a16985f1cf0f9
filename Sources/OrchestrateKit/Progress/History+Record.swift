import Foundation
import GitKit

/// The history a run or an MCP session read, kept under `refs/orchestrate/history/<plan>` when it
/// ends, so that `status` and `log` of a long plan read one blob instead of every sub-task's commit.
///
/// The record is a blob the session writes, behind a ref of the tool's namespace: it is trusted as
/// the plan ref and main are (the sandbox makes refs read-only to agents, and the guard puts back
/// any ref under `refs/orchestrate/` that an agent moves), unlike a file under `.git/orchestrate/cache/`,
/// which anyone can edit and which is therefore checked against every commit it names. `run` and
/// the MCP server never read it: they walk main themselves.
///
/// The blob is text: a header naming what it was read for and down to where, then one line per
/// completion, its fields separated by tabs (tabs, newlines and backslashes in values escaped).
extension History {
  static let recordVersion = "git-orchestrate history 1"

  /// The record of plan `stored` read from `mainRef`, when there is one for exactly that plan
  /// version, main branch and base; nil otherwise (or when it cannot be read).
  static func loadRecord(repository: Repository, stored: StoredPlan, mainRef: String) -> History? {
    guard let oid = try? repository.resolve(Layout.historyRef(stored.plan.id)),
      let data = try? repository.blob(oid)
    else { return nil }
    return History(record: data, stored: stored, mainRef: mainRef)
  }

  /// Writes this history as the record of plan `stored` read from `mainRef` (nothing when the
  /// record already says the same).
  func saveRecord(repository: Repository, stored: StoredPlan, mainRef: String) throws {
    guard mainTip != nil else { return }
    let blob = try repository.writeBlob(record(stored: stored, mainRef: mainRef))
    let ref = Layout.historyRef(stored.plan.id)
    if try repository.resolve(ref) != blob {
      try repository.setReference(ref, to: blob, message: "orchestrate: history of \(stored.plan.id)")
    }
  }

  /// The record's bytes.
  func record(stored: StoredPlan, mainRef: String) -> Data {
    var text = Self.header(stored: stored, mainRef: mainRef) + "tip \(mainTip?.hex ?? "-")\n\n"
    for (subtask, done) in completions.sorted(by: { $0.key < $1.key }) {
      let fields = [
        subtask, done.commit.hex, String(done.attempts), Self.field(done.duration.map { "\($0)" }),
        Self.field(done.checkpoint), Self.field(done.red), Self.field(done.cost.costUSD.map { "\($0)" }),
        Self.field(done.cost.inputTokens.map(String.init)), Self.field(done.cost.outputTokens.map(String.init)),
        String(done.cost.attempts), String(done.cost.unreported),
      ]
      text += fields.joined(separator: "\t") + "\n"
    }
    return Data(text.utf8)
  }

  /// What the record must begin with to be this plan version's, read from `mainRef` down to its base.
  private static func header(stored: StoredPlan, mainRef: String) -> String {
    "\(recordVersion)\nplan \(stored.commit.hex)\nmain \(escaped(mainRef))\nbase \(stored.base?.hex ?? "-")\n"
  }

  /// An optional value as a field: empty for nil, else `=` and the value, escaped.
  private static func field(_ value: String?) -> String {
    value.map { "=" + escaped($0) } ?? ""
  }

  private static func escaped(_ value: String) -> String {
    guard value.contains(where: { $0 == "\\" || $0 == "\t" || $0 == "\n" || $0 == "\r" }) else { return value }
    var out = ""
    for character in value {
      switch character {
      case "\\": out += "\\\\"
      case "\t": out += "\\t"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      default: out.append(character)
      }
    }
    return out
  }

  private static func unescaped(_ value: Substring) -> String? {
    guard value.utf8.contains(UInt8(ascii: "\\")) else { return String(value) }
    var out = ""
    var escaping = false
    for character in value {
      if escaping {
        switch character {
        case "\\": out += "\\"
        case "t": out += "\t"
        case "n": out += "\n"
        case "r": out += "\r"
        default: return nil
        }
        escaping = false
      } else if character == "\\" {
        escaping = true
      } else {
        out.append(character)
      }
    }
    return escaping ? nil : out
  }

  /// The history a record holds, or nil when it is not a record of this plan version, main branch
  /// and base, or not well formed.
  init?(record data: Data, stored: StoredPlan, mainRef: String) {
    guard let text = String(data: data, encoding: .utf8),
      text.hasPrefix(Self.header(stored: stored, mainRef: mainRef))
    else { return nil }
    // Split by bytes, not characters: a plan of 10,000 sub-tasks has a record of a megabyte.
    var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropFirst(4)
      .map(Substring.init)[...]
    guard let tipLine = lines.popFirst(), tipLine.hasPrefix("tip "), lines.popFirst() == "",
      let tip = OID(hex: String(tipLine.dropFirst(4)))
    else { return nil }
    self.init()
    mainTip = tip
    completions.reserveCapacity(lines.count)
    for line in lines where !line.isEmpty {
      let fields = line.utf8.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map(Substring.init)
      guard fields.count == 11, let commit = OID(hex: String(fields[1])), let attempts = Int(fields[2]),
        let duration = Self.optional(fields[3], { Double($0) }), let checkpoint = Self.optional(fields[4], { $0 }),
        let red = Self.optional(fields[5], { $0 }),
        let costUSD = Self.optional(fields[6], { Decimal(string: $0, locale: Locale(identifier: "en_US_POSIX")) }),
        let input = Self.optional(fields[7], { Int($0) }), let output = Self.optional(fields[8], { Int($0) }),
        let costAttempts = Int(fields[9]), let unreported = Int(fields[10])
      else { return nil }
      var cost = CostTotal()
      cost.costUSD = costUSD
      cost.inputTokens = input
      cost.outputTokens = output
      cost.attempts = costAttempts
      cost.unreported = unreported
      completions[String(fields[0])] = Completion(
        commit: commit, attempts: attempts, duration: duration, checkpoint: checkpoint, red: red, cost: cost)
    }
  }

  /// A field read back: `.some(nil)` when empty, `.some(value)` when it parses, nil when it does not.
  private static func optional<Value>(_ field: Substring, _ parse: (String) -> Value?) -> Value?? {
    if field.isEmpty { return .some(nil) }
    guard field.first == "=", let text = unescaped(field.dropFirst()), let value = parse(text) else { return nil }
    return .some(value)
  }
}
