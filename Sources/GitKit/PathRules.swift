import Foundation

/// git's rules for the paths a tree may hold, in pure Swift: the checks of git's `verify_path`
/// (read-cache.c, as of git 2.39) with both `core.protectHFS` and `core.protectNTFS` on,
/// `is_hfs_dotgit` (utf8.c) and `is_ntfs_dotgit` / `is_ntfs_dotgitmodules` (path.c).
///
/// Both protections are on whatever this machine's defaults: a tree that lands on main travels to
/// clones on macOS (HFS+/APFS ignore some code points and case) and Windows (NTFS short names,
/// trailing dots and spaces, alternate data streams), where such a path *is* `.git`. This is a
/// superset of what libgit2 1.5 refuses by default on Linux (a case-insensitive `.git` component,
/// as `core.protectNTFS` defaults to true), so a tree that passes here can always be checked out
/// and indexed by libgit2.
public enum PathRules {
  /// Why git refuses `path` in a tree or index, or `nil` when it is fine.
  /// - Parameters:
  ///   - path: a repository-relative path, components separated by `/`.
  ///   - symlink: whether the entry is a symbolic link (git refuses a symlinked `.gitmodules`).
  public static func problem(_ path: String, symlink: Bool = false) -> String? {
    isPlainlyFine(path) ? nil : ruleProblem(path, symlink: symlink)
  }

  /// `problem` by the rules alone, component by component.
  static func ruleProblem(_ path: String, symlink: Bool) -> String? {
    if path.isEmpty { return "the path is empty" }
    if path.utf8.contains(0) { return "the path contains a NUL byte" }
    if path.hasPrefix("/") { return "the path is absolute" }
    if path.hasSuffix("/") { return "the path ends with '/'" }
    let components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    for (index, component) in components.enumerated() {
      if let problem = componentProblem(component, symlink: symlink && index == components.count - 1) {
        return "'\(component)' \(problem)"
      }
    }
    return nil
  }

  /// Whether one pass over the bytes shows `path` fine: every component non-empty ASCII, starting
  /// with none of `.`, `g`, `G`, `~`, and no backslash or NUL. Every rule below needs a component
  /// that is empty, starts with one of those (`.git`, `git~1`, `gitmod~1`, `gi7eba~N`, `~N`), holds
  /// a backslash, or holds code points HFS+ ignores (non-ASCII), so such a path has no problem; the
  /// rules themselves, run per component, were a tenth of writing a 20,000-file work folder.
  static func isPlainlyFine(_ path: String) -> Bool {
    var atStart = true
    for byte in path.utf8 {
      if byte >= 0x80 || byte == 0 || byte == UInt8(ascii: "\\") { return false }
      if atStart {
        if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "g") || byte == UInt8(ascii: "G")
          || byte == UInt8(ascii: "~") || byte == UInt8(ascii: "/")
        {
          return false
        }
        atStart = false
      } else if byte == UInt8(ascii: "/") {
        atStart = true
      }
    }
    return !atStart
  }

  /// One path component's problem, worded to follow the quoted component.
  static func componentProblem(_ component: String, symlink: Bool) -> String? {
    if component.isEmpty { return "is an empty path component (a double '/')" }
    if component == "." || component == ".." { return "is not allowed as a path component" }
    if lowerASCII(component.utf8) == Array(".git".utf8) { return "is git's own directory name" }
    if isHFSDotGit(component) {
      return "is '.git' on HFS+/APFS (macOS ignores its invisible code points and case)"
    }
    if isNTFSDotGit(component) {
      return "is '.git' on NTFS (Windows reads short names, trailing dots and spaces, and streams as .git)"
    }
    if symlink, isHFSDot(component, "gitmodules") || isNTFSDotGeneric(component, "gitmodules", "gi7eba") {
      return "is a symbolic link named .gitmodules, which git refuses"
    }
    // With core.protectNTFS, git also reads what follows a backslash inside a component as a name
    // (Windows' separator): `a\.git` is refused, a backslash that starts the component is not.
    let bytes = Array(component.utf8)
    for position in bytes.indices.dropFirst() where bytes[position] == UInt8(ascii: "\\") {
      let rest = String(decoding: bytes[(position + 1)...], as: UTF8.self)
      if isNTFSDotGit(rest) {
        return "holds '\\\(rest)', which is '.git' on NTFS (Windows reads the backslash as a folder separator)"
      }
      if symlink, isNTFSDotGeneric(rest, "gitmodules", "gi7eba") {
        return "is a symbolic link ending in '\\\(rest)', which is .gitmodules on NTFS"
      }
    }
    return nil
  }

  // MARK: - HFS+ (git's utf8.c)

  /// The code points HFS+ ignores in file names (git's `next_hfs_char`).
  static let hfsIgnorable: Set<UInt32> = [
    0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
    0x206A, 0x206B, 0x206C, 0x206D, 0x206E, 0x206F, 0xFEFF,
  ]

  /// git's `is_hfs_dotgit` for one component.
  public static func isHFSDotGit(_ component: String) -> Bool { isHFSDot(component, "git") }

  /// Whether `component`, once HFS+ drops its ignorable code points and folds ASCII case, is
  /// `.` followed by `needle` (git's `is_hfs_dot_generic`; its needles are ASCII).
  static func isHFSDot(_ component: String, _ needle: String) -> Bool {
    let kept = component.unicodeScalars.filter { !hfsIgnorable.contains($0.value) }
    let wanted = Array(("." + needle).unicodeScalars)
    guard kept.count == wanted.count else { return false }
    for (have, want) in zip(kept, wanted) {
      guard have.isASCII, Character(have).lowercased() == String(want) else { return false }
    }
    return true
  }

  // MARK: - NTFS (git's path.c)

  /// git's `is_ntfs_dotgit` for one component: `.git` or `git~1`, case-insensitive, followed only by
  /// spaces and dots up to the end, a backslash or a `:` (an alternate data stream such as
  /// `.git::$INDEX_ALLOCATION`).
  public static func isNTFSDotGit(_ component: String) -> Bool {
    let bytes = Array(component.utf8)
    var rest: ArraySlice<UInt8>
    if bytes.count >= 4, bytes[0] == UInt8(ascii: "."), lowerASCII(bytes[1...3]) == Array("git".utf8) {
      rest = bytes[4...]
    } else if bytes.count >= 5, lowerASCII(bytes[0...2]) == Array("git".utf8), bytes[3] == UInt8(ascii: "~"),
      bytes[4] == UInt8(ascii: "1")
    {
      rest = bytes[5...]
    } else {
      return false
    }
    for byte in rest {
      if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: ":") { return true }
      if byte != UInt8(ascii: ".") && byte != UInt8(ascii: " ") { return false }
    }
    return true
  }

  /// git's `is_ntfs_dot_generic`: `.<name>` or its 8.3 short names (`<name 6>~1`…`~4`, or the
  /// hashed fallback `<prefix>~N`), followed only by spaces and dots up to the end or a `:`.
  static func isNTFSDotGeneric(_ component: String, _ name: String, _ shortPrefix: String) -> Bool {
    let bytes = Array(component.utf8) + [0]
    let needle = Array(name.utf8)
    let prefix = Array(shortPrefix.utf8)
    func onlySpacesAndPeriods(from start: Int) -> Bool {
      var i = start
      while true {
        let c = bytes[i]
        i += 1
        if c == 0 || c == UInt8(ascii: ":") { return true }
        if c != UInt8(ascii: " ") && c != UInt8(ascii: ".") { return false }
      }
    }
    if bytes.count > needle.count + 1, bytes[0] == UInt8(ascii: "."),
      lowerASCII(bytes[1...needle.count]) == needle
    {
      return onlySpacesAndPeriods(from: needle.count + 1)
    }
    if bytes.count > 8, lowerASCII(bytes[0..<6]) == Array(needle.prefix(6)), bytes[6] == UInt8(ascii: "~"),
      (UInt8(ascii: "1")...UInt8(ascii: "4")).contains(bytes[7])
    {
      return onlySpacesAndPeriods(from: 8)
    }
    var sawTilde = false
    var i = 0
    while i < 8 {
      let c = bytes[i]
      if c == 0 { return false }
      if sawTilde {
        if c < UInt8(ascii: "0") || c > UInt8(ascii: "9") { return false }
      } else if c == UInt8(ascii: "~") {
        i += 1
        if bytes[i] < UInt8(ascii: "1") || bytes[i] > UInt8(ascii: "9") { return false }
        sawTilde = true
      } else if i >= 6 {
        return false
      } else if c & 0x80 != 0 {
        return false
      } else if lowerASCII([c]) != [prefix[i]] {
        return false
      }
      i += 1
    }
    return onlySpacesAndPeriods(from: i)
  }

  private static func lowerASCII<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
    bytes.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }
  }
}

extension Repository {
  /// Every path of `tree` (recursively) that `PathRules` refuses, with the reason, sorted by path.
  public func refusedPaths(in tree: OID) throws -> [(path: String, problem: String)] {
    var found: [(path: String, problem: String)] = []
    try walkTree(tree) { path, _, mode in
      if let problem = PathRules.problem(path, symlink: mode == .symlink) { found.append((path, problem)) }
    }
    return found.sorted { $0.path < $1.path }
  }
}
