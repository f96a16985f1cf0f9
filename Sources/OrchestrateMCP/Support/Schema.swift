import MCP

/// Small builders for the JSON Schemas of the tools' inputs and outputs.
///
/// The Python SDK validates every `structuredContent` against the declared output schema, so these
/// say exactly what the tools send: a nullable field is declared nullable, an optional one is not required.
enum Schema {
  static func object(_ properties: [String: Value], required: [String] = [], additional: Bool = false) -> Value {
    [
      "type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) }),
      "additionalProperties": .bool(additional),
    ]
  }

  /// A tool's output schema: an object, with its dialect declared as draft-07.
  ///
  /// The schemas use only keywords that draft-07 and 2020-12 (MCP's default dialect) read alike, and
  /// MCP lets a schema name its dialect. The Python SDK checks the schema itself against its
  /// dialect's meta-schema on every call before it validates the result: 2020-12's meta-schema (its
  /// vocabularies and dynamic references) made that ~12 ms of each `get_next_subtask` round trip,
  /// draft-07's ~2.5 ms. TypeScript clients (Ajv) read draft-07 by default.
  static func output(_ properties: [String: Value], required: [String] = []) -> Value {
    guard case .object(var entries) = object(properties, required: required) else { return .null }
    entries["$schema"] = .string(draft07)
    return .object(entries)
  }

  static let draft07 = "http://json-schema.org/draft-07/schema#"

  static func string(_ description: String) -> Value { ["type": "string", "description": .string(description)] }
  static func nullableString(_ description: String) -> Value {
    ["type": ["string", "null"], "description": .string(description)]
  }
  static func integer(_ description: String) -> Value { ["type": "integer", "description": .string(description)] }
  static func number(_ description: String) -> Value { ["type": "number", "description": .string(description)] }
  static func nullableNumber(_ description: String) -> Value {
    ["type": ["number", "null"], "description": .string(description)]
  }
  static func boolean(_ description: String) -> Value { ["type": "boolean", "description": .string(description)] }
  static func strings(_ description: String) -> Value {
    ["type": "array", "items": ["type": "string"], "description": .string(description)]
  }
  static func list(_ items: Value, _ description: String) -> Value {
    ["type": "array", "items": items, "description": .string(description)]
  }
  static func nullable(_ schema: Value) -> Value {
    guard case .object(var entries) = schema, case .string(let type)? = entries["type"] else { return schema }
    entries["type"] = [.string(type), "null"]
    return .object(entries)
  }

  /// `{total, completed, current}`: where the plan stands.
  static let progress = object(
    [
      "total": integer("Number of sub-tasks in the plan."),
      "completed": integer("Sub-tasks whose commit is on main."),
      "current": nullableString("Id of the sub-task to work on now; null when all are done."),
      "percentage": number("completed / total × 100, one decimal."),
    ], required: ["total", "completed", "current", "percentage"])

  /// One checkpoint command's result.
  static let commandResult = object(
    [
      "command": string("The checkpoint command, as the plan gives it."),
      "exit_code": integer("Its exit status (124 on timeout, 128+n when killed by signal n)."),
      "duration_seconds": number("How long it ran."),
      "output_tail": string("The end of its combined standard output and error."),
    ], required: ["command", "exit_code", "duration_seconds", "output_tail"])
}
