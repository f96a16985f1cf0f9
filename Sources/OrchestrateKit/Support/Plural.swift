import Foundation

/// Counts with their noun: "1 sub-task", "2 sub-tasks".
public enum Plural {
  /// `count` and `noun`, with an "s" unless `count` is 1 (or `plural` when given).
  public static func count(_ count: Int, _ noun: String, plural: String? = nil) -> String {
    "\(count) " + (count == 1 ? noun : plural ?? noun + "s")
  }
}
