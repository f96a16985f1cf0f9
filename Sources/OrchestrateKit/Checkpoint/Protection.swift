import Foundation
import GitKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The paths an agent must not change in a sub-task: the tests that judge it, say. A change to one
/// (added, modified, deleted, mode, renamed) fails the attempt before any checkpoint runs.
///
/// Globs are matched against repository-relative paths: `*` and `?` do not cross `/`, `**`
/// crosses any number of folders, a glob ending in `/` covers a folder and everything in it, and
/// a glob with no `/` matches a name in any folder (`conftest.py`). `@checkpoint` names every file
/// of the base tree that a checkpoint command mentions (`pytest tests/test_auth.py` protects
/// `tests/test_auth.py`), so a checkpoint's own files need not be listed twice.
public struct Protection: Sendable {
  public static let checkpointFiles = "@checkpoint"

  public let globs: [String]
  /// The files `@checkpoint` named, when it was given.
  public let checkpointPaths: Set<String>

  public var isEmpty: Bool { globs.isEmpty }

  /// The protection of `subtask`, with `@checkpoint` read against `baseTree`.
  public init(plan: Plan, subtask: Subtask, baseTree: OID?, repository: Repository) throws {
    let globs = plan.protectedGlobs(subtask)
    self.globs = globs
    var named = Set<String>()
    if globs.contains(Self.checkpointFiles), let baseTree {
      for word in subtask.checkpoint.commands.flatMap(Self.words) {
        let path = word.hasPrefix("./") ? String(word.dropFirst(2)) : word
        guard !path.isEmpty, !path.hasPrefix("-"), !path.hasPrefix("/"), !path.contains("..") else { continue }
        if let entry = try repository.treeEntry(in: baseTree, path: path), entry.mode != .tree { named.insert(path) }
      }
    }
    checkpointPaths = named
  }

  /// Whether `path` is protected.
  public func covers(_ path: String) -> Bool {
    checkpointPaths.contains(path) || globs.contains { $0 != Self.checkpointFiles && Self.matches($0, path) }
  }

  /// The protected paths among `changes`, sorted (a rename is its deletion and its addition).
  public func violations(in changes: [DiffEntry]) -> [String] {
    guard !isEmpty else { return [] }
    return Array(Set(changes.map(\.path).filter(covers))).sorted()
  }

  /// What is wrong with a glob as written in a plan, or nil.
  static func problem(with glob: String) -> String? {
    if glob.isEmpty { return "an empty glob protects nothing; remove it" }
    if glob.hasPrefix("/") { return "'\(glob)' is absolute; globs are relative to the repository's root" }
    if glob.split(separator: "/").contains("..") { return "'\(glob)' goes above the repository with '..'" }
    return nil
  }

  /// `glob` against `path`, as described on the type.
  static func matches(_ glob: String, _ path: String) -> Bool {
    if glob.hasSuffix("/") { return path.hasPrefix(glob) || matches(glob + "**", path) }
    if !glob.contains("/") {
      // A bare name matches in any folder.
      let name = path.split(separator: "/").last.map(String.init) ?? path
      return fnmatch(glob, name, 0) == 0 || fnmatch(glob, path, FNM_PATHNAME) == 0
    }
    if glob.contains("**") { return matchesDoubleStar(Array(glob.split(separator: "/", omittingEmptySubsequences: false)), Array(path.split(separator: "/", omittingEmptySubsequences: false))) }
    return fnmatch(glob, path, FNM_PATHNAME) == 0
  }

  private static func matchesDoubleStar(_ glob: [Substring], _ path: [Substring]) -> Bool {
    guard let first = glob.first else { return path.isEmpty }
    if first == "**" {
      let rest = Array(glob.dropFirst())
      for start in 0...path.count where matchesDoubleStar(rest, Array(path[start...])) { return true }
      return false
    }
    guard let head = path.first, fnmatch(String(first), String(head), 0) == 0 else { return false }
    return matchesDoubleStar(Array(glob.dropFirst()), Array(path.dropFirst()))
  }

  /// The words of a shell command line, quotes removed (good enough to find the file names it runs).
  static func words(_ command: String) -> [String] {
    var words: [String] = []
    var current = ""
    var quote: Character?
    for character in command {
      if let open = quote {
        if character == open { quote = nil } else { current.append(character) }
      } else if character == "'" || character == "\"" {
        quote = character
      } else if character.isWhitespace || ";&|<>()".contains(character) {
        if !current.isEmpty { words.append(current) }
        current = ""
      } else {
        current.append(character)
      }
    }
    if !current.isEmpty { words.append(current) }
    return words.flatMap { word -> [String] in
      // `--file=tests/x.py` and `tests/x.py::test_one` name the file too.
      var candidates = [word]
      if let equals = word.firstIndex(of: "=") { candidates.append(String(word[word.index(after: equals)...])) }
      if let colons = word.range(of: "::") { candidates.append(String(word[..<colons.lowerBound])) }
      return candidates
    }
  }
}

extension Orchestrator {
  /// The `protect` globs that match nothing in the plan's main branch as it is now: each a
  /// warning, since a glob with a typo protects nothing (and a file the sub-task is yet to add is
  /// protected only once it exists on the base).
  public func protectionWarnings(_ plan: Plan) throws -> [String] {
    let globs = Set((plan.protect ?? []) + plan.subtasks.flatMap { $0.protect ?? [] })
      .subtracting([Protection.checkpointFiles])
    guard !globs.isEmpty, let tip = try repository.resolve("refs/heads/" + mainBranch(for: plan)) else { return [] }
    var unmatched = globs
    try repository.walkTree(try repository.commit(tip).tree) { path, _, mode in
      guard mode != .tree else { return }
      unmatched = unmatched.filter { !Protection.matches($0, path) }
    }
    return unmatched.sorted().map { "protect: '\($0)' matches no file on the main branch; check the glob" }
  }
}
