import Foundation
import GitKit

/// The history a run or an MCP session read, kept under `refs/orchestrate/history/<plan>` when it
/// ends, so that `status` and `log` of a long plan read one blob instead of every sub-task's commit.
///
/// The record is a blob the session writes, behind a ref of the tool's namespace: it is trusted as
/// the plan ref and main are (the sandbox makes refs read-only to agents, and the guard puts back
/// any ref under `refs/orchestrate/` that an agent moves), unlike a file in the git directory,
/// which anyone can edit (so there is none: without the record, `status` reads main). `run` and the
/// MCP server never read it: they walk main themselves.
///
/// The blob is text: a header naming what it was read for and down to where, then one line per
/// completion, its fields separated by tabs (tabs, newlines and backslashes in values escaped).
extension History {
  static let recordVersion = "git-orchestrate history 1"

  /// The record of plan `stored` read from `mainRef`, when there is one for exactly that plan
  /// version, main branch and base; nil otherwise (or when it cannot be read).
  static func loadRecord(repository: Repository, stored: StoredPlan, mainRef: String) -> History? {
    guard let oid = try? repository.resolve(Layout.historyRef(stored.plan.id)) else { return nil }
    return (try? repository.withBlob(oid) { History(record: $0, stored: stored, mainRef: mainRef) }) ?? nil
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
  /// and base, or not well formed. Read from the bytes: a record of 10,000 sub-tasks is a megabyte.
  init?(record data: Data, stored: StoredPlan, mainRef: String) {
    guard let parsed = data.withUnsafeBytes({ History(record: $0, stored: stored, mainRef: mainRef) }) else {
      return nil
    }
    self = parsed
  }

  /// The history in `raw` (a blob where libgit2 holds it), as `init?(record:stored:mainRef:)` reads it.
  init?(record raw: UnsafeRawBufferPointer, stored: StoredPlan, mainRef: String) {
    let header = Array(Self.header(stored: stored, mainRef: mainRef).utf8)
    let parsed = { () -> History? in
      let bytes = raw.bindMemory(to: UInt8.self)
      guard bytes.count > header.count, bytes.prefix(header.count).elementsEqual(header) else { return nil }
      var lines = RecordLines(bytes: bytes, position: header.count)
      guard let tipLine = lines.next(), tipLine.count == 44, tipLine.starts(with: "tip ".utf8),
        let tip = OID(hexDigits: UnsafeBufferPointer(rebasing: tipLine.dropFirst(4))), lines.next()?.isEmpty == true
      else { return nil }
      var history = History()
      history.mainTip = tip
      // One line per completed sub-task, at most the plan's: the table made once, not grown by
      // doubling (rehashing every key each time was a fifth of reading 10,000).
      history.completions.reserveCapacity(stored.plan.subtasks.count)
      var fields: [Slice<UnsafeBufferPointer<UInt8>>] = []
      fields.reserveCapacity(11)
      // Most sub-tasks' checkpoint lines are the same text: one string for a run of them. Two
      // variables rather than an optional tuple, whose type the runtime looked up on every line.
      var lastCheckpointField: Slice<UnsafeBufferPointer<UInt8>>?
      var lastCheckpoint: String?
      while let line = lines.next() {
        if line.isEmpty { continue }
        fields.removeAll(keepingCapacity: true)
        var start = line.startIndex
        // A range of positions, not `line.indices`: Slice's `indices` was called unspecialised,
        // the runtime looking up a tuple type's metadata on each line.
        for index in line.startIndex..<line.endIndex where line[index] == UInt8(ascii: "\t") {
          fields.append(line[start..<index])
          start = index + 1
        }
        fields.append(line[start...])
        guard fields.count == 11, let commit = OID(hexDigits: UnsafeBufferPointer(rebasing: fields[1])),
          let attempts = Self.integer(fields[2]), let duration = Self.optional(fields[3], { Double($0) }),
          let checkpoint = lastCheckpointField.flatMap({ $0.elementsEqual(fields[4]) ? .some(lastCheckpoint) : nil })
            ?? Self.optional(fields[4], { $0 }),
          let red = Self.optional(fields[5], { $0 }),
          let costUSD = Self.optional(fields[6], { Decimal(string: $0, locale: Locale(identifier: "en_US_POSIX")) }),
          let input = Self.optional(fields[7], { Int($0) }), let output = Self.optional(fields[8], { Int($0) }),
          let costAttempts = Self.integer(fields[9]), let unreported = Self.integer(fields[10])
        else { return nil }
        lastCheckpointField = fields[4]
        lastCheckpoint = checkpoint
        var cost = CostTotal()
        cost.costUSD = costUSD
        cost.inputTokens = input
        cost.outputTokens = output
        cost.attempts = costAttempts
        cost.unreported = unreported
        history.completions[String(decoding: fields[0], as: UTF8.self)] = Completion(
          commit: commit, attempts: attempts, duration: duration, checkpoint: checkpoint, red: red, cost: cost)
      }
      return history
    }()
    guard let parsed else { return nil }
    self = parsed
  }

  /// The lines of a record's bytes, from `next` on.
  private struct RecordLines {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int

    mutating func next() -> Slice<UnsafeBufferPointer<UInt8>>? {
      guard position < bytes.count else { return nil }
      let start = position
      var end = start
      while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
      position = end + 1
      return bytes[start..<end]
    }
  }

  /// A whole number written by `String(Int)`.
  private static func integer(_ field: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
    guard !field.isEmpty, field.count <= 18 else { return Int(String(decoding: field, as: UTF8.self)) }
    var value = 0
    for byte in field {
      guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
        return Int(String(decoding: field, as: UTF8.self))
      }
      value = value * 10 + Int(byte - UInt8(ascii: "0"))
    }
    return value
  }

  /// A field read back: `.some(nil)` when empty, `.some(value)` when it parses, nil when it does not.
  private static func optional<Value>(_ field: Slice<UnsafeBufferPointer<UInt8>>, _ parse: (String) -> Value?)
    -> Value??
  {
    if field.isEmpty { return .some(nil) }
    guard field.first == UInt8(ascii: "="),
      let text = unescaped(Substring(String(decoding: field.dropFirst(), as: UTF8.self))),
      let value = parse(text)
    else { return nil }
    return .some(value)
  }
}
