import Foundation
import Yams

/// A parsed plan document, reduced to what validation needs: kinds, text and line numbers.
///
/// YAML nodes and decoded JSON objects both become this, so one validator serves files and MCP
/// arguments. Conversion stops at `depthLimit`: no plan field is deeper, and deeper input is
/// only reported as a wrong type, so hostile nesting costs nothing here.
struct PlanValue {
  enum Kind {
    case null
    case string
    case int(Int)
    case double(Double)
    case bool(Bool)
    case sequence([PlanValue])
    case mapping([Entry])
    /// A list or mapping below the depth limit, kept only as its kind.
    case truncated(isMapping: Bool)
  }

  struct Entry {
    var key: String
    var line: Int?
    var value: PlanValue
  }

  static let depthLimit = 8

  var kind: Kind
  /// The scalar's text as written (for numbers and booleans too); nil for collections.
  var text: String?
  var line: Int?

  /// "a string", "a list", … for messages saying what was found instead.
  var kindName: String {
    switch kind {
    case .null: "null"
    case .string: "a string"
    case .int, .double: "a number"
    case .bool: "a boolean"
    case .sequence, .truncated(isMapping: false): "a list"
    case .mapping, .truncated(isMapping: true): "a mapping"
    }
  }

  var entries: [Entry]? {
    if case .mapping(let entries) = kind { return entries }
    return nil
  }

  var items: [PlanValue]? {
    if case .sequence(let items) = kind { return items }
    return nil
  }

  var isCollection: Bool {
    switch kind {
    case .sequence, .mapping, .truncated: true
    default: false
    }
  }

  init(kind: Kind, text: String? = nil, line: Int? = nil) {
    self.kind = kind
    self.text = text
    self.line = line
  }

  // MARK: From YAML

  init(node: Node, depth: Int = 0) {
    switch node {
    case .scalar(let scalar):
      self.init(scalar: scalar.string, plain: scalar.style == .plain, line: scalar.mark?.line)
    case .sequence(let sequence):
      let line = sequence.mark?.line
      guard depth < Self.depthLimit else {
        self.init(kind: .truncated(isMapping: false), line: line)
        return
      }
      self.init(kind: .sequence(sequence.map { PlanValue(node: $0, depth: depth + 1) }), line: line)
    case .mapping(let mapping):
      let line = mapping.mark?.line
      guard depth < Self.depthLimit else {
        self.init(kind: .truncated(isMapping: true), line: line)
        return
      }
      let entries = mapping.map { key, value in
        Entry(
          key: key.scalar?.string ?? "(a \(key.mapping != nil ? "mapping" : "list") used as a key)",
          line: key.mark?.line, value: PlanValue(node: value, depth: depth + 1))
      }
      self.init(kind: .mapping(entries), line: line)
    case .alias(let alias):
      self.init(kind: .null, text: nil, line: alias.mark?.line)
    }
  }

  /// Types a YAML scalar as the core schema would: only plain scalars can be null, booleans or numbers.
  init(scalar text: String, plain: Bool, line: Int?) {
    guard plain else {
      self.init(kind: .string, text: text, line: line)
      return
    }
    switch text {
    case "", "~", "null", "Null", "NULL":
      self.init(kind: .null, text: text, line: line)
    case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON":
      self.init(kind: .bool(true), text: text, line: line)
    case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF":
      self.init(kind: .bool(false), text: text, line: line)
    default:
      if let int = Int(text) {
        self.init(kind: .int(int), text: text, line: line)
      } else if Self.looksNumeric(text), let double = Double(text) {
        self.init(kind: .double(double), text: text, line: line)
      } else {
        self.init(kind: .string, text: text, line: line)
      }
    }
  }

  private static func looksNumeric(_ text: String) -> Bool {
    text.contains(where: \.isNumber)
      && text.allSatisfy { $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }
  }

  // MARK: From decoded JSON

  init(object: Any?, depth: Int = 0) {
    guard let object, !(object is NSNull) else {
      self.init(kind: .null)
      return
    }
    switch object {
    case let string as String:
      self.init(kind: .string, text: string)
    case let number as NSNumber where type(of: object) is NSNumber.Type:
      // A real NSNumber (from JSONSerialization): its objCType tells a boolean from a number.
      let type = String(cString: number.objCType)
      if type == "c" || type == "B" {
        self.init(kind: .bool(number.boolValue), text: number.boolValue ? "true" : "false")
      } else if let int = Int(exactly: number.doubleValue), !"fd".contains(type) {
        self.init(kind: .int(int), text: String(int))
      } else {
        self.init(kind: .double(number.doubleValue), text: "\(number.doubleValue)")
      }
    case let bool as Bool:
      self.init(kind: .bool(bool), text: bool ? "true" : "false")
    case let int as Int:
      self.init(kind: .int(int), text: String(int))
    case let double as Double:
      self.init(kind: .double(double), text: "\(double)")
    case let array as [Any?]:
      guard depth < Self.depthLimit else {
        self.init(kind: .truncated(isMapping: false))
        return
      }
      self.init(kind: .sequence(array.map { PlanValue(object: $0, depth: depth + 1) }))
    case let dictionary as [String: Any?]:
      guard depth < Self.depthLimit else {
        self.init(kind: .truncated(isMapping: true))
        return
      }
      let entries = dictionary.keys.sorted().map { key in
        Entry(
          key: key, line: nil, value: PlanValue(object: dictionary[key] ?? nil, depth: depth + 1))
      }
      self.init(kind: .mapping(entries))
    default:
      self.init(kind: .string, text: "\(object)")
    }
  }
}
