import Foundation

/// Reads and writes the durations used for timeouts and ETAs.
///
/// Plans say `10m`, `90s`, `1h30m` or `500ms`; a plain number is seconds. A duration must be
/// positive: a zero or negative timeout would fail every command at once.
public enum Durations {
  /// Parses a duration such as `10m`, `90s`, `1h`, `1h30m`, `500ms`, `1m 15s` or `42` (seconds).
  ///
  /// - Returns: the duration in seconds, or nil when the text is not a positive, finite duration.
  public static func parse(_ text: String) -> TimeInterval? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty, trimmed.count <= 64 else { return nil }
    if let seconds = plainNumber(trimmed) { return valid(seconds) }
    var total: TimeInterval = 0
    var rest = Substring(trimmed)
    while !rest.isEmpty {
      rest = rest.drop(while: { $0 == " " })
      let digits = rest.prefix(while: { $0.isASCII && ($0.isNumber || $0 == ".") })
      guard !digits.isEmpty, let amount = plainNumber(String(digits)) else { return nil }
      rest = rest.dropFirst(digits.count).drop(while: { $0 == " " })
      let unit = rest.prefix(while: { $0.isASCII && $0.isLetter })
      let scale: TimeInterval
      switch unit {
      case "ms": scale = 0.001
      case "s": scale = 1
      case "m": scale = 60
      case "h": scale = 3600
      default: return nil
      }
      total += amount * scale
      rest = rest.dropFirst(unit.count)
    }
    return valid(total)
  }

  /// Formats seconds for people: 75 → "1m 15s", 3.2 → "3.2 s", 5400 → "1h 30m".
  public static func format(_ seconds: TimeInterval) -> String {
    guard seconds.isFinite else { return "unknown" }
    let seconds = max(0, seconds)
    if seconds < 59.95 {
      // Durations from trailers are tenths: printed as `%.1f` prints them, without the formatter
      // (`log` formats one per sub-task). Anything else, a half-way value above all, goes to it.
      let tenths = (seconds * 10).rounded()
      if abs(seconds * 10 - tenths) < 1e-6 {
        let whole = Int(tenths)
        return "\(whole / 10).\(whole % 10) s"
      }
      return String(format: "%.1f s", seconds)
    }
    let whole = Int(seconds.rounded())
    let hours = whole / 3600
    let minutes = whole % 3600 / 60
    let rest = whole % 60
    if hours > 0 { return minutes > 0 ? "\(hours)h \(minutes)m" : "\(hours)h" }
    return rest > 0 ? "\(minutes)m \(rest)s" : "\(minutes)m"
  }

  private static func plainNumber(_ text: String) -> Double? {
    // Only digits and one optional point: Double("1e3"), "inf" and "0x10" are not durations.
    guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
      text.filter({ $0 == "." }).count <= 1, text.contains(where: \.isNumber)
    else { return nil }
    return Double(text)
  }

  private static func valid(_ seconds: TimeInterval) -> TimeInterval? {
    seconds.isFinite && seconds > 0 ? seconds : nil
  }
}
