import Foundation
import Yams

/// Reads plan files (YAML or JSON, one schema) and decoded plan objects into validated plans.
///
/// Every problem is collected and reported at once in a `PlanError`, each naming the file, the
/// sub-task, the field and, for files, the line. Hostile input (huge, binary, deeply nested,
/// self-expanding) is refused with a clear error rather than crashing or hanging.
public enum PlanReader {
  /// Files larger than this are refused before parsing: no real plan comes close.
  public static let maximumFileSize = 10 * 1024 * 1024

  /// Reads and validates the plan file at `path`.
  ///
  /// - Throws: `PlanError` when the file is missing, unreadable, too large or not a valid plan.
  public static func read(contentsOf path: String) throws -> Plan {
    let url = URL(fileURLWithPath: path).resolvingSymlinksInPath()
    let attributes: [FileAttributeKey: Any]
    do {
      attributes = try FileManager.default.attributesOfItem(atPath: url.path)
    } catch {
      let exists = FileManager.default.fileExists(atPath: url.path)
      throw PlanError(
        file: path,
        message: exists
          ? "cannot read the plan file; check its permissions"
          : "no such plan file; check the path, or create one (see `git orchestrate plan`)")
    }
    if let type = attributes[.type] as? FileAttributeType, type != .typeRegular {
      throw PlanError(
        file: path,
        message: type == .typeDirectory
          ? "is a directory; give the path of a plan file (.yml or .json)"
          : "is not a regular file; give the path of a plan file (.yml or .json)")
    }
    if let size = (attributes[.size] as? NSNumber)?.intValue, size > maximumFileSize {
      throw tooLarge(file: path, size: size)
    }
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw PlanError(
        file: path, message: "cannot read the plan file (\(error.localizedDescription))")
    }
    return try parse(data, fileName: path)
  }

  /// Parses and validates YAML or JSON plan text.
  ///
  /// - Parameter fileName: how diagnostics name the input, e.g. `plan.yml`.
  /// - Throws: `PlanError` with every problem found.
  public static func parse(_ data: Data, fileName: String) throws -> Plan {
    guard data.count <= maximumFileSize else { throw tooLarge(file: fileName, size: data.count) }
    var bytes = data
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
    guard let text = String(data: bytes, encoding: .utf8) else {
      throw PlanError(
        file: fileName,
        message: "is not UTF-8 text (binary data?); a plan is a YAML or JSON text file")
    }
    if let problem = YAMLPrescan.check(text) {
      throw PlanError(file: fileName, line: problem.line, message: problem.message)
    }
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch {
      // Some valid JSON is not valid YAML 1.1; JSON has no line numbers to offer then.
      if text.drop(while: \.isWhitespace).first == "{",
        let object = try? JSONSerialization.jsonObject(with: Data(text.utf8))
      {
        return try parse(object: object, fileName: fileName)
      }
      throw syntaxError(error, text: text, file: fileName)
    }
    guard let root else {
      throw PlanError(file: fileName, message: "the file is empty; a plan needs an id and subtasks")
    }
    var validator = PlanValidator(file: fileName)
    return try validator.validate(PlanValue(node: root))
  }

  /// Validates a plan given as a decoded JSON object (for example MCP tool arguments).
  ///
  /// - Throws: `PlanError` with every problem found; diagnostics have no line numbers.
  public static func parse(object: Any, fileName: String) throws -> Plan {
    var validator = PlanValidator(file: fileName)
    return try validator.validate(PlanValue(object: object))
  }

  private static func tooLarge(file: String, size: Int) -> PlanError {
    let megabytes = String(format: "%.1f", Double(size) / 1_048_576)
    return PlanError(
      file: file,
      message: "is \(megabytes) MB, over the \(maximumFileSize / 1_048_576) MB limit for a plan; "
        + "keep prompts short and data out of the plan")
  }

  private static func syntaxError(_ error: Error, text: String, file: String) -> PlanError {
    guard let error = error as? YamlError else {
      return PlanError(file: file, message: "syntax error: \(error)")
    }
    func detail(_ problem: String, _ context: YamlError.Context?) -> String {
      guard let context, !context.text.isEmpty else { return problem }
      return "\(problem) (\(context.text) at line \(context.mark.line))"
    }
    switch error {
    case .scanner(let context, let problem, let mark, _),
      .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      return PlanError(
        file: file, line: mark.line, message: "syntax error: \(detail(problem, context))")
    case .reader(let problem, let offset, _, _):
      let line = offset.map { offset in
        1 + text.utf8.prefix(max(0, offset)).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
      }
      return PlanError(file: file, line: line, message: "cannot read the text: \(problem)")
    case .duplicatedKeysInMapping(let duplicates, let context):
      let keys = duplicates.map { "'\(PlanDiagnostic.escaped($0))'" }.joined(separator: ", ")
      return PlanError(
        file: file, line: context.mark.line > 0 ? context.mark.line : nil,
        message: "duplicate key \(keys) in one mapping; keep only one")
    default:
      return PlanError(file: file, message: "syntax error: \(error)")
    }
  }
}
