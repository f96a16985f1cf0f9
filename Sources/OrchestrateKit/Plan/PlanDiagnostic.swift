import Foundation

/// One problem (or warning) found in a plan, located as precisely as the input allows.
public struct PlanDiagnostic: Equatable, Sendable, CustomStringConvertible {
  /// The file name as given to the reader.
  public var file: String
  /// 1-based line, when the parser gives one (YAML and JSON files; not decoded objects).
  public var line: Int?
  /// The sub-task's id, or `#n` (its 1-based position) when it has no usable id.
  public var subtask: String?
  /// The field path inside the sub-task (or the plan), e.g. `checkpoint.commands[1]`.
  public var field: String?
  public var message: String

  public init(
    file: String, line: Int? = nil, subtask: String? = nil, field: String? = nil, message: String
  ) {
    self.file = file
    self.line = line
    self.subtask = subtask
    self.field = field
    self.message = message
  }

  /// "plan.yml:12: sub-task 'auth': checkpoint.commands: …"
  public var description: String {
    var text = file
    if let line { text += ":\(line)" }
    text += ": "
    if let subtask {
      let isPosition = subtask.hasPrefix("#") && subtask.dropFirst().allSatisfy(\.isNumber)
      text += isPosition ? "sub-task \(subtask): " : "sub-task '\(Self.escaped(subtask))': "
    }
    if let field { text += "\(Self.escaped(field)): " }
    return text + message
  }

  /// Makes hostile text printable on one line: control characters become escapes, long text is cut.
  static func escaped(_ text: String, limit: Int = 120) -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
      if count >= limit {
        out += "…"
        break
      }
      switch scalar {
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\0": out += "\\0"
      case _ where scalar.value < 0x20 || scalar.value == 0x7F:
        out += "\\u{\(String(scalar.value, radix: 16))}"
      default: out.unicodeScalars.append(scalar)
      }
      count += 1
    }
    return out
  }
}

/// Everything wrong with a plan, reported at once.
public struct PlanError: Error, LocalizedError, Equatable, Sendable {
  /// At least one; in file order as far as possible.
  public var diagnostics: [PlanDiagnostic]
  /// The warnings found on the way (unknown keys, often the cause of an error: a misspelt
  /// `checkpoint` leaves the sub-task without one).
  public var warnings: [PlanDiagnostic] = []

  public init(diagnostics: [PlanDiagnostic], warnings: [PlanDiagnostic] = []) {
    self.diagnostics = diagnostics
    self.warnings = warnings
  }

  /// A single problem that is not about any one field (missing file, too large, …).
  init(file: String, line: Int? = nil, message: String) {
    self.diagnostics = [PlanDiagnostic(file: file, line: line, message: message)]
  }

  /// "invalid plan <file>: N problems:\n  <each>"
  public var errorDescription: String? {
    let file = diagnostics.first?.file ?? "plan"
    let count = diagnostics.count == 1 ? "1 problem" : "\(diagnostics.count) problems"
    return "invalid plan \(file): \(count):\n"
      + diagnostics.map { "  \($0)" }.joined(separator: "\n")
      + (warnings.isEmpty ? "" : "\nwarnings:\n" + warnings.map { "  \($0)" }.joined(separator: "\n"))
  }
}
