/// Checks that a plan or sub-task id can be used as one component of a git ref name.
///
/// Ids become branch names such as `orchestrate/<plan-id>/<order>-<subtask-id>` and refs such as
/// `refs/orchestrate/plans/<plan-id>`, so they follow `git check-ref-format` for a single
/// component, plus a length cap, and a hostile id is refused here rather than becoming a path.
public enum RefNameComponent {
  /// The longest id accepted, in characters.
  public static let maximumLength = 100

  /// Says what is wrong with `id` as a ref-name component.
  ///
  /// - Returns: nil when `id` is valid; otherwise every problem found, joined by "; ".
  public static func problem(with id: String) -> String? {
    if id.isEmpty { return "it is empty" }
    if isPlain(id) { return nil }
    var problems: [String] = []
    if id.count > maximumLength {
      problems.append("it is longer than \(maximumLength) characters (\(id.count))")
    }
    if id == "HEAD" || id == "@" { problems.append("'\(id)' is reserved by git") }
    if id.hasPrefix("-") { problems.append("it starts with '-'") }
    if id.hasPrefix(".") { problems.append("it starts with '.'") }
    if id.hasSuffix(".") { problems.append("it ends with '.'") }
    if id.hasSuffix(".lock") { problems.append("it ends with '.lock'") }
    if id.contains("..") { problems.append("it contains '..'") }
    if id.contains("@{") { problems.append("it contains '@{'") }
    if id.contains("/") { problems.append("it contains '/'") }
    if id.contains(" ") { problems.append("it contains a space") }
    for forbidden in ["~", "^", ":", "?", "*", "[", "\\"] where id.contains(forbidden) {
      problems.append("it contains '\(forbidden)'")
    }
    if let control = id.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      let code = String(control.value, radix: 16, uppercase: true)
      problems.append(
        "it contains a control character (U+\(String(repeating: "0", count: 4 - code.count))\(code))"
      )
    }
    return problems.isEmpty ? nil : problems.joined(separator: "; ")
  }

  /// The common case, decided from the bytes alone (a plan of 10,000 sub-tasks checks 10,000 ids
  /// each time it is read): letters, digits, `_` and `-`, not first, at most `maximumLength`, and
  /// not `HEAD`. Such an id breaks none of the rules above.
  static func isPlain(_ id: String) -> Bool {
    var id = id
    return id.withUTF8 { bytes in
      guard bytes.count <= maximumLength, bytes.first != UInt8(ascii: "-") else { return false }
      for byte in bytes {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
          UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
          continue
        default:
          return false
        }
      }
      return true
    } && id != "HEAD"
  }
}
