internal import CGit2
import Foundation

extension Repository {
  /// Adds ignore rules (gitignore syntax, one pattern per element) to this handle only.
  ///
  /// The rules live in memory (`git_ignore_add_rule`): `isIgnored` and status through this handle
  /// honour them, and nothing is written to `.gitignore` or `info/exclude` — which a linked
  /// worktree shares with the main checkout, so writing there would change what the user's own
  /// `git status` shows.
  public func addIgnoreRules(_ patterns: [String]) throws {
    let rules = patterns.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    guard !rules.isEmpty else { return }
    try check(git_ignore_add_rule(pointer, rules.joined(separator: "\n")), "git_ignore_add_rule")
  }

  /// Every value of a multi-valued `key` (`git config --add`), from all configuration levels, in order.
  public func configStrings(_ key: String) throws -> [String] {
    var config: OpaquePointer?
    try check(git_repository_config_snapshot(&config, pointer), "git_repository_config_snapshot")
    defer { git_config_free(config) }
    var iterator: OpaquePointer?
    let code = git_config_multivar_iterator_new(&iterator, config, key, nil)
    if code == GIT_ENOTFOUND.rawValue { return [] }
    try check(code, "git_config_multivar_iterator_new")
    defer { git_config_iterator_free(iterator) }
    var values: [String] = []
    while true {
      var entry: UnsafeMutablePointer<git_config_entry>?
      let next = git_config_next(&entry, iterator)
      if next == GIT_ITEROVER.rawValue || next == GIT_ENOTFOUND.rawValue { break }
      try check(next, "git_config_next")
      if let value = entry?.pointee.value { values.append(String(cString: value)) }
    }
    return values
  }
}
