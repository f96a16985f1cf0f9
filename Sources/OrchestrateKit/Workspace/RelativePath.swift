import Foundation

/// Path arithmetic on repository-relative paths ("src/a.swift"), without `NSString`.
///
/// Foundation on Linux traps in `NSString.deletingLastPathComponent` for a one-character path
/// ("a", "é"), so a tracked file or folder with a one-character name crashed every snapshot.
enum RelativePath {
  /// The folder holding `path`: "" for a top-level name, "src" for "src/a.swift".
  static func parent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return String(path[..<slash])
  }
}
