import Foundation

extension PlanStatus {
  /// The status as JSON: the bytes `JSONEncoder` writes for it (sorted keys, slashes unescaped,
  /// pretty printed or compact), written directly.
  ///
  /// `JSONEncoder` goes through `Codable` for every value, about 7 µs per sub-task: 70 ms of a
  /// `status --json` of 10,000 sub-tasks. Numbers that are not integers are spelled by
  /// `JSONEncoder` itself (once per distinct value), so they read exactly as before; the keys'
  /// order is the sorted order of `CodingKeys` (PlanStatusJSONTests compares both writers).
  public func jsonData(pretty: Bool = true) throws -> Data {
    var writer = JSONWriter(pretty: pretty, capacity: 1024 + 320 * subtaskDetails.count)
    try writer.object { json in
      try json.field("completed_subtasks") { try $0.array(completedSubtasks) { $0.string($1) } }
      if let cost { try json.field("cost") { try $0.cost(cost) } }
      try json.field("current_subtask") { $0.string(currentSubtask) }
      try json.field("description") { $0.string(description) }
      try json.field("estimated_remaining") { $0.string(estimatedRemaining) }
      try json.field("estimated_remaining_seconds") { try $0.double(estimatedRemainingSeconds) }
      try json.field("main_branch") { $0.string(mainBranch) }
      try json.field("master_task_id") { $0.string(masterTaskID) }
      try json.field("progress_percentage") { try $0.double(progressPercentage) }
      try json.field("subtask_details") { try $0.array(subtaskDetails) { try $0.detail($1) } }
      try json.field("total_subtasks") { $0.integer(totalSubtasks) }
      try json.field("workdir") { $0.string(workdir) }
    }
    Trace.mark("status: JSON written")
    return Data(writer.bytes)
  }
}

extension JSONWriter {
  /// A detail as its synthesized `Encodable` writes it: nil optionals left out. Written with
  /// `key` rather than a closure per field: one detail per sub-task, and the closures' captures
  /// of the detail retained and released its strings for every field.
  fileprivate mutating func detail(_ detail: PlanStatus.Detail) throws {
    let outer = open(UInt8(ascii: "{"))
    key("attempts")
    integer(detail.attempts)
    key("branch")
    string(detail.branch)
    if let commit = detail.commit {
      key("commit")
      string(commit)
    }
    if let cost = detail.costUSD {
      key("cost_usd")
      try decimal(cost)
    }
    key("description")
    string(detail.description)
    if let seconds = detail.durationSeconds {
      key("duration_seconds")
      try double(seconds)
    }
    key("id")
    string(detail.id)
    if let tokens = detail.inputTokens {
      key("input_tokens")
      integer(tokens)
    }
    key("order")
    integer(detail.order)
    if let tokens = detail.outputTokens {
      key("output_tokens")
      integer(tokens)
    }
    key("state")
    string(detail.state.rawValue)
    close(UInt8(ascii: "}"), outer)
  }

  /// A cost summary as its own `encode(to:)` writes it: every key, null when unknown.
  fileprivate mutating func cost(_ cost: CostSummary) throws {
    try object { json in
      try json.field("attempts_reported") { $0.integer(cost.attemptsReported) }
      try json.field("attempts_unreported") { $0.integer(cost.attemptsUnreported) }
      try json.field("budget_usd") { try $0.decimal(cost.budgetUSD) }
      try json.field("estimated_remaining") { $0.string(cost.estimatedRemaining) }
      try json.field("estimated_remaining_usd") { try $0.decimal(cost.estimatedRemainingUSD) }
      try json.field("input_tokens") { $0.integer(cost.inputTokens) }
      try json.field("output_tokens") { $0.integer(cost.outputTokens) }
      try json.field("spent_usd") { try $0.decimal(cost.spentUSD) }
    }
  }
}

/// Writes JSON as `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes` (and
/// `.prettyPrinted` when `pretty`) lays it out; the caller writes keys in sorted order (the order of
/// their UTF-8 bytes, as `JSONEncoder` sorts them). The MCP server writes its answers with it too.
package struct JSONWriter {
  let pretty: Bool
  package private(set) var bytes: [UInt8] = []
  private var level = 0
  /// Whether the object or array being written has no member yet.
  private var empty = true
  /// Numbers spelled by `JSONEncoder`, by value.
  private var doubles: [UInt64: [UInt8]] = [:]
  private var decimals: [Decimal: [UInt8]] = [:]

  private static let prettyColon = Array("\" : ".utf8)
  private static let compactColon = Array("\":".utf8)
  private static let hexDigits = Array("0123456789abcdef".utf8)

  package init(pretty: Bool, capacity: Int = 1 << 12) {
    self.pretty = pretty
    bytes.reserveCapacity(capacity)
  }

  private mutating func newline() {
    bytes.append(UInt8(ascii: "\n"))
    // From a fixed run of spaces: appending a `repeatElement` went element by element, for every
    // line of a status of thousands of sub-tasks.
    var count = 2 * level
    while count > 0 {
      let chunk = min(count, Self.spaces.count)
      Self.spaces.withUnsafeBufferPointer { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0[..<chunk])) }
      count -= chunk
    }
  }

  private static let spaces = [UInt8](repeating: UInt8(ascii: " "), count: 64)

  /// Opens `open`, runs `body` for the members, closes with `close`.
  private mutating func container(_ open: UInt8, _ close: UInt8, _ body: (inout JSONWriter) throws -> Void) rethrows {
    let outer = self.open(open)
    try body(&self)
    self.close(close, outer)
  }

  /// Opens a container with `byte`; returns what `close` needs to restore.
  fileprivate mutating func open(_ byte: UInt8) -> Bool {
    bytes.append(byte)
    let outerEmpty = empty
    empty = true
    level += 1
    return outerEmpty
  }

  /// Closes the container `open` returned `outerEmpty` for with `byte`.
  fileprivate mutating func close(_ byte: UInt8, _ outerEmpty: Bool) {
    level -= 1
    if pretty {
      // An empty container is written with an empty line inside.
      if empty { bytes.append(UInt8(ascii: "\n")) }
      newline()
    }
    bytes.append(byte)
    empty = outerEmpty
  }

  /// Starts the next member of the container being written.
  private mutating func member() {
    if !empty { bytes.append(UInt8(ascii: ",")) }
    empty = false
    if pretty { newline() }
  }

  package mutating func object(_ body: (inout JSONWriter) throws -> Void) rethrows {
    try container(UInt8(ascii: "{"), UInt8(ascii: "}"), body)
  }

  package mutating func field(_ key: StaticString, _ value: (inout JSONWriter) throws -> Void) rethrows {
    self.key(key)
    try value(&self)
  }

  /// Starts a member of the object being written: its key and colon; the value comes next.
  package mutating func key(_ key: StaticString) {
    member()
    bytes.append(UInt8(ascii: "\""))
    bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
    bytes.append(contentsOf: pretty ? Self.prettyColon : Self.compactColon)
  }

  /// A member whose key is only known at run time: escaped as any string.
  package mutating func field(named key: String, _ value: (inout JSONWriter) throws -> Void) rethrows {
    member()
    string(key)
    bytes.append(contentsOf: pretty ? Self.prettyColon.dropFirst() : Self.compactColon.dropFirst())
    try value(&self)
  }

  package mutating func array<Element>(_ elements: [Element], _ element: (inout JSONWriter, Element) throws -> Void)
    rethrows
  {
    try container(UInt8(ascii: "["), UInt8(ascii: "]")) { json in
      for item in elements {
        json.member()
        try element(&json, item)
      }
    }
  }

  package mutating func null() {
    bytes.append(contentsOf: "null".utf8)
  }

  package mutating func boolean(_ value: Bool) {
    bytes.append(contentsOf: value ? "true".utf8 : "false".utf8)
  }

  /// Bytes that are one JSON value already (written by this writer or `JSONEncoder`, same layout).
  package mutating func raw(_ json: some Sequence<UInt8>) {
    bytes.append(contentsOf: json)
  }

  package mutating func integer(_ value: Int?) {
    guard let value else { return null() }
    bytes.append(contentsOf: String(value).utf8)
  }

  package mutating func double(_ value: Double?) throws {
    guard let value else { return null() }
    if let known = doubles[value.bitPattern] { return bytes.append(contentsOf: known) }
    let spelled = Array(try JSONEncoder().encode(value))
    doubles[value.bitPattern] = spelled
    bytes.append(contentsOf: spelled)
  }

  mutating func decimal(_ value: Decimal?) throws {
    guard let value else { return null() }
    if let known = decimals[value] { return bytes.append(contentsOf: known) }
    let spelled = Array(try JSONEncoder().encode(value))
    decimals[value] = spelled
    bytes.append(contentsOf: spelled)
  }

  package mutating func string(_ value: String?) {
    guard var value else { return null() }
    bytes.append(UInt8(ascii: "\""))
    value.withUTF8 { text in
      var start = 0
      for index in 0..<text.count {
        let byte = text[index]
        guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<index]))
        start = index + 1
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
        case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
        case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
        case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
        case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
        case 0x08: bytes.append(contentsOf: #"\b"#.utf8)
        case 0x0C: bytes.append(contentsOf: #"\f"#.utf8)
        default:
          bytes.append(contentsOf: #"\u00"#.utf8)
          bytes.append(Self.hexDigits[Int(byte >> 4)])
          bytes.append(Self.hexDigits[Int(byte & 0x0F)])
        }
      }
      bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[start...]))
    }
    bytes.append(UInt8(ascii: "\""))
  }
}
