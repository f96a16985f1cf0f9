import Foundation
import MCP

/// A tool call that cannot be carried out; it becomes a tool result with `isError: true`.
public enum ToolError: LocalizedError, Equatable, Sendable {
  case missingArgument(tool: String, name: String, hint: String)
  case wrongType(tool: String, name: String, expected: String)
  case unknownArguments(tool: String, names: [String], known: [String])
  case unknownTool(String, known: [String])
  case commandsNotThePlans(subtask: String, commands: [String])
  case invalid(String)

  public var errorDescription: String? {
    switch self {
    case .missingArgument(let tool, let name, let hint):
      "\(tool): missing argument '\(name)'; \(hint)"
    case .wrongType(let tool, let name, let expected):
      "\(tool): argument '\(name)' must be \(expected)"
    case .unknownArguments(let tool, let names, let known):
      "\(tool): unknown argument\(names.count == 1 ? "" : "s") \(names.map { "'\($0)'" }.joined(separator: ", ")); "
        + "the arguments are \(known.joined(separator: ", "))"
    case .unknownTool(let name, let known):
      "no tool '\(name)'; the tools are \(known.joined(separator: ", "))"
    case .commandsNotThePlans(let subtask, let commands):
      "sub-task '\(subtask)': the server runs the plan's own checkpoint commands, not commands sent by the caller; "
        + "omit test_commands (the plan's are: \(commands.joined(separator: " ; ")))"
    case .invalid(let message):
      message
    }
  }
}

/// A tool's arguments, read with messages that name the tool and the argument.
struct Arguments {
  let tool: String
  let values: [String: Value]

  init(tool: String, _ values: [String: Value]?) {
    self.tool = tool
    self.values = values ?? [:]
  }

  /// Refuses names outside `known`, so a misspelt argument is an error instead of being ignored.
  func allowOnly(_ known: [String]) throws {
    let unknown = values.keys.filter { !known.contains($0) }.sorted()
    guard unknown.isEmpty else { throw ToolError.unknownArguments(tool: tool, names: unknown, known: known) }
  }

  func has(_ name: String) -> Bool {
    if let value = values[name], value != .null { return true }
    return false
  }

  /// A required non-empty string.
  func string(_ name: String, hint: String) throws -> String {
    guard let value = try optionalString(name), !value.isEmpty else {
      throw ToolError.missingArgument(tool: tool, name: name, hint: hint)
    }
    return value
  }

  /// A string when present; numbers are accepted as their text (ids such as 1 or "1").
  func optionalString(_ name: String) throws -> String? {
    switch values[name] {
    case nil, .null?: return nil
    case .string(let text)?: return text
    case .int(let number)?: return String(number)
    case .data(let mimeType, let data)?: return data.dataURLEncoded(mimeType: mimeType)
    default: throw ToolError.wrongType(tool: tool, name: name, expected: "a string")
    }
  }

  func optionalStrings(_ name: String) throws -> [String]? {
    switch values[name] {
    case nil, .null?: return nil
    case .array(let items)?:
      return try items.map {
        guard case .string(let text) = $0 else {
          throw ToolError.wrongType(tool: tool, name: name, expected: "a list of strings")
        }
        return text
      }
    default: throw ToolError.wrongType(tool: tool, name: name, expected: "a list of strings")
    }
  }

  /// A whole number when present (a JSON number without a fraction).
  func optionalInt(_ name: String) throws -> Int? {
    switch values[name] {
    case nil, .null?: return nil
    case .int(let number)?: return number
    case .double(let number)? where number.rounded() == number && abs(number) < 1e9: return Int(number)
    default: throw ToolError.wrongType(tool: tool, name: name, expected: "a whole number")
    }
  }

  func optionalBool(_ name: String) throws -> Bool? {
    switch values[name] {
    case nil, .null?: return nil
    case .bool(let flag)?: return flag
    default: throw ToolError.wrongType(tool: tool, name: name, expected: "true or false")
    }
  }
}
