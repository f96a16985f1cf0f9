import Foundation

/// Reads the JSON that `Plan.normalizedJSON()` writes, straight from its bytes into a `Plan`.
///
/// `status`, `log` and every run decode the stored plan, and `JSONDecoder` takes about 50 µs per
/// sub-task through `Codable` (half a second for a plan of 10,000). This reader knows the plan's
/// keys and builds the values directly. It accepts any valid JSON layout, but only the keys it
/// knows: an unknown key (a field added to `Plan` and not here), a missing required one, a value of
/// another type or anything malformed makes it return nil, and the caller decodes with
/// `JSONDecoder` as before. So it can be slower than it should, never different.
struct NormalizedPlanParser {
  private struct Failure: Error {}

  private let bytes: UnsafeBufferPointer<UInt8>
  /// Whether every byte is ASCII, so that no string needs its UTF-8 checked.
  private let ascii: Bool
  private var index = 0
  /// Reused for strings with escapes.
  private var scratch: [UInt8] = []

  private init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
    ascii = Self.isASCII(bytes)
  }

  private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var index = 0
    guard let base = bytes.baseAddress else { return true }
    // Eight bytes at a time: any high bit set is a byte of a multi-byte character.
    while index + 8 <= bytes.count {
      if UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
      index += 8
    }
    while index < bytes.count {
      if bytes[index] >= 0x80 { return false }
      index += 1
    }
    return true
  }

  /// The plan `data` holds, or nil when it is not exactly what this reader knows.
  static func plan(from data: Data) -> Plan? {
    data.withUnsafeBytes { plan(from: $0) }
  }

  /// The plan in `bytes` (a blob where libgit2 holds it), or nil as `plan(from:)` says.
  static func plan(from bytes: UnsafeRawBufferPointer) -> Plan? {
    var parser = NormalizedPlanParser(bytes.bindMemory(to: UInt8.self))
    guard let plan = try? parser.parsePlan() else { return nil }
    parser.skipWhitespace()
    return parser.index == parser.bytes.count ? plan : nil
  }

  // MARK: - The plan's shape

  private mutating func parsePlan() throws -> Plan {
    var id: String?
    var description: String?
    var subtasks: [Subtask]?
    var plan = Plan(id: "", description: "", subtasks: [])
    try object { parser, key in
      switch key {
      case "id": id = try parser.string()
      case "description": description = try parser.string()
      case "agent": plan.agent = try parser.optional { try $0.string() }
      case "fix_agent": plan.fixAgent = try parser.optional { try $0.string() }
      case "max_attempts": plan.maxAttempts = try parser.optional { try $0.integer() }
      case "max_cost": plan.maxCost = try parser.optional { try $0.decimal() }
      case "timeout": plan.timeout = try parser.optional { try $0.double() }
      case "main_branch": plan.mainBranch = try parser.optional { try $0.string() }
      case "subtasks": subtasks = try parser.array { try $0.parseSubtask() }
      case "final_checkpoint": plan.finalCheckpoint = try parser.optional { try $0.parseCheckpoint() }
      case "protect": plan.protect = try parser.optional { try $0.strings() }
      case "red_first": plan.redFirst = try parser.optional { try $0.bool() }
      case "keep": plan.keep = try parser.optional { try $0.strings() }
      case "execution_strategy": plan.executionStrategy = try parser.optional { try $0.string() }
      case "jobs": plan.jobs = try parser.optional { try $0.integer() }
      default: throw Failure()
      }
    }
    guard let id, let description, let subtasks else { throw Failure() }
    plan.id = id
    plan.description = description
    plan.subtasks = subtasks
    return plan
  }

  private mutating func parseSubtask() throws -> Subtask {
    var id: String?
    var order: Int?
    var description: String?
    var prompt: String?
    var complexity: Complexity?
    var run: [String]?
    var dependencies: [String]?
    var successCriteria: [String]?
    var checkpoint: Checkpoint?
    var agent: String?
    var protect: [String]?
    var redFirst: Bool?
    var bestOf: Int?
    try object { parser, key in
      switch key {
      case "id": id = try parser.string()
      case "order": order = try parser.integer()
      case "description": description = try parser.string()
      case "prompt": prompt = try parser.string()
      case "complexity":
        guard let value = Complexity(rawValue: try parser.string()) else { throw Failure() }
        complexity = value
      case "run": run = try parser.strings()
      case "dependencies": dependencies = try parser.strings()
      case "success_criteria": successCriteria = try parser.strings()
      case "checkpoint": checkpoint = try parser.parseCheckpoint()
      case "agent": agent = try parser.optional { try $0.string() }
      case "protect": protect = try parser.optional { try $0.strings() }
      case "red_first": redFirst = try parser.optional { try $0.bool() }
      case "best_of": bestOf = try parser.optional { try $0.integer() }
      default: throw Failure()
      }
    }
    guard let id, let order, let description, let prompt, let complexity, let run, let dependencies,
      let successCriteria, let checkpoint
    else { throw Failure() }
    return Subtask(
      id: id, order: order, description: description, prompt: prompt, complexity: complexity, run: run,
      dependencies: dependencies, successCriteria: successCriteria, checkpoint: checkpoint, agent: agent,
      protect: protect, redFirst: redFirst, bestOf: bestOf)
  }

  private mutating func parseCheckpoint() throws -> Checkpoint {
    var description: String?
    var commands: [String]?
    var timeout: TimeInterval?
    try object { parser, key in
      switch key {
      case "description": description = try parser.string()
      case "commands": commands = try parser.strings()
      case "timeout": timeout = try parser.optional { try $0.double() }
      default: throw Failure()
      }
    }
    guard let description, let commands else { throw Failure() }
    return Checkpoint(description: description, commands: commands, timeout: timeout)
  }

  // MARK: - JSON

  private mutating func skipWhitespace() {
    while index < bytes.count {
      switch bytes[index] {
      case 0x20, 0x0A, 0x0D, 0x09: index += 1
      default: return
      }
    }
  }

  /// Skips whitespace and consumes `byte` if it comes next.
  private mutating func take(_ byte: UInt8) -> Bool {
    skipWhitespace()
    guard index < bytes.count, bytes[index] == byte else { return false }
    index += 1
    return true
  }

  private mutating func expect(_ byte: UInt8) throws {
    guard take(byte) else { throw Failure() }
  }

  /// Each key of an object, in order, with the parser positioned at its value.
  /// An object's key where it is in the bytes, matched against the names a `switch` gives
  /// without making a string of it (twelve keys per sub-task).
  private struct Key {
    let bytes: UnsafeBufferPointer<UInt8>

    /// Whether `other` is the same key: lengths first, then the bytes (each key of a sub-task is
    /// compared with the ones before it, ~80 comparisons per sub-task).
    func same(as other: Key) -> Bool {
      guard bytes.count == other.bytes.count else { return false }
      guard let base = bytes.baseAddress, let otherBase = other.bytes.baseAddress else { return true }
      return memcmp(base, otherBase, bytes.count) == 0
    }

    static func ~= (name: StaticString, key: Key) -> Bool {
      guard name.utf8CodeUnitCount == key.bytes.count else { return false }
      guard let base = key.bytes.baseAddress else { return true }
      return memcmp(name.utf8Start, base, key.bytes.count) == 0
    }
  }

  /// A key: a string without escapes (the plan's keys have none; one with an escape is left to
  /// `JSONDecoder`).
  private mutating func key() throws -> Key {
    try expect(UInt8(ascii: "\""))
    let start = index
    while index < bytes.count {
      switch bytes[index] {
      case UInt8(ascii: "\""):
        defer { index += 1 }
        return Key(bytes: UnsafeBufferPointer(rebasing: bytes[start..<index]))
      case UInt8(ascii: "\\"), 0..<0x20:
        throw Failure()
      default:
        index += 1
      }
    }
    throw Failure()
  }

  /// Each key of an object, in order, with the parser positioned at its value. A key given twice
  /// (which readers resolve differently) or more than 32 keys: left to `JSONDecoder`.
  private mutating func object(_ body: (inout NormalizedPlanParser, Key) throws -> Void) throws {
    try expect(UInt8(ascii: "{"))
    if take(UInt8(ascii: "}")) { return }
    try withUnsafeTemporaryAllocation(of: Key.self, capacity: 32) { seen in
      var count = 0
      repeat {
        let key = try key()
        for index in 0..<count where seen[index].same(as: key) { throw Failure() }
        guard count < seen.count else { throw Failure() }
        seen.initializeElement(at: count, to: key)
        count += 1
        try expect(UInt8(ascii: ":"))
        try body(&self, key)
      } while take(UInt8(ascii: ","))
    }
    try expect(UInt8(ascii: "}"))
  }

  private mutating func array<Element>(_ element: (inout NormalizedPlanParser) throws -> Element) throws -> [Element] {
    try expect(UInt8(ascii: "["))
    var elements: [Element] = []
    if take(UInt8(ascii: "]")) { return elements }
    repeat {
      elements.append(try element(&self))
    } while take(UInt8(ascii: ","))
    try expect(UInt8(ascii: "]"))
    return elements
  }

  /// `null` as nil, anything else as `value` reads it.
  private mutating func optional<Value>(_ value: (inout NormalizedPlanParser) throws -> Value) throws -> Value? {
    if literal("null") { return nil }
    return try value(&self)
  }

  private mutating func literal(_ word: StaticString) -> Bool {
    skipWhitespace()
    let count = word.utf8CodeUnitCount
    guard index + count <= bytes.count else { return false }
    for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
    index += count
    return true
  }

  private mutating func bool() throws -> Bool {
    if literal("true") { return true }
    if literal("false") { return false }
    throw Failure()
  }

  private mutating func strings() throws -> [String] {
    try array { try $0.string() }
  }

  private mutating func string() throws -> String {
    try expect(UInt8(ascii: "\""))
    let start = index
    // The common case: no escape, so the bytes are the string.
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        defer { index += 1 }
        return try validated(UnsafeBufferPointer(rebasing: bytes[start..<index]))
      }
      if byte == UInt8(ascii: "\\") { break }
      if byte < 0x20 { throw Failure() }
      index += 1
    }
    scratch.removeAll(keepingCapacity: true)
    scratch.append(contentsOf: bytes[start..<index])
    while index < bytes.count {
      let byte = bytes[index]
      index += 1
      switch byte {
      case UInt8(ascii: "\""):
        return try scratch.withUnsafeBufferPointer { try validated($0) }
      case UInt8(ascii: "\\"):
        try unescape()
      case 0..<0x20:
        throw Failure()
      default:
        scratch.append(byte)
      }
    }
    throw Failure()
  }

  /// The string of UTF-8 `bytes`; malformed UTF-8 is refused, as `JSONDecoder` refuses it.
  private func validated(_ bytes: UnsafeBufferPointer<UInt8>) throws -> String {
    if ascii { return String(decoding: bytes, as: UTF8.self) }
    guard let text = String(validating: bytes, as: UTF8.self) else { throw Failure() }
    return text
  }

  /// Appends the character of the escape after a backslash to `scratch`.
  private mutating func unescape() throws {
    guard JSONEscape.read(bytes, at: &index, into: &scratch) else { throw Failure() }
  }

  /// The text of the number that comes next, as JSON spells numbers.
  private mutating func numberText() throws -> Substring {
    skipWhitespace()
    let start = index
    while index < bytes.count {
      switch bytes[index] {
      case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
        UInt8(ascii: "e"), UInt8(ascii: "E"):
        index += 1
      default:
        guard index > start else { throw Failure() }
        return Substring(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
      }
    }
    throw Failure()
  }

  private mutating func integer() throws -> Int {
    guard let value = Int(try numberText()) else { throw Failure() }
    return value
  }

  private mutating func double() throws -> Double {
    let text = try numberText()
    guard let value = Double(text), value.isFinite else { throw Failure() }
    return value
  }

  private mutating func decimal() throws -> Decimal {
    let text = try numberText()
    guard Double(text) != nil, let value = Decimal(string: String(text), locale: Locale(identifier: "en_US_POSIX"))
    else { throw Failure() }
    return value
  }
}
