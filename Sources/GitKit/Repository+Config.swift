internal import CGit2
import Foundation

extension Repository {
  /// The value of `key` from the repository's full configuration (system, global, local), or nil.
  public func configString(_ key: String) throws -> String? {
    try withConfigSnapshot { config in
      var value: UnsafePointer<CChar>?
      let code = git_config_get_string(&value, config, key)
      if code == GIT_ENOTFOUND.rawValue { return nil }
      try check(code, "git_config_get_string")
      return value.map { String(cString: $0) }
    }
  }

  /// The boolean value of `key` (git's true/yes/on/1 spellings), or nil when unset.
  public func configBool(_ key: String) throws -> Bool? {
    try withConfigSnapshot { config in
      var value: Int32 = 0
      let code = git_config_get_bool(&value, config, key)
      if code == GIT_ENOTFOUND.rawValue { return nil }
      try check(code, "git_config_get_bool")
      return value != 0
    }
  }

  /// The integer value of `key` (with git's k/m/g suffixes), or nil when unset.
  public func configInt(_ key: String) throws -> Int? {
    try withConfigSnapshot { config in
      var value: Int64 = 0
      let code = git_config_get_int64(&value, config, key)
      if code == GIT_ENOTFOUND.rawValue { return nil }
      try check(code, "git_config_get_int64")
      return Int(value)
    }
  }

  /// Sets `key` in the repository-local config file.
  public func setConfig(_ key: String, _ value: String) throws {
    var config: OpaquePointer?
    try check(git_repository_config(&config, pointer), "git_repository_config")
    defer { git_config_free(config) }
    var local: OpaquePointer?
    try check(git_config_open_level(&local, config, GIT_CONFIG_LEVEL_LOCAL), "git_config_open_level")
    defer { git_config_free(local) }
    try check(git_config_set_string(local, key, value), "git_config_set_string")
  }

  /// Every entry of the repository-local config file (<commondir>/config) plus, if present, <gitdir>/config.worktree, as (name, value) in file order.
  ///
  /// Names are as libgit2 reports them: section and key lowercased, subsection kept. A key with no
  /// value (`[core] bare`) reads as an empty string.
  public func localConfigEntries() throws -> [(name: String, value: String)] {
    var entries = try Repository.configEntries(ofFile: commonDirectory + "/config")
    let worktreeFile = gitDirectory + "/config.worktree"
    if FileManager.default.fileExists(atPath: worktreeFile) {
      entries += try Repository.configEntries(ofFile: worktreeFile)
    }
    return entries
  }

  /// user.name and user.email, falling back to "git-orchestrate" <git-orchestrate@localhost>, dated now.
  public func defaultSignature() -> Signature {
    let name = (try? configString("user.name")) ?? nil
    let email = (try? configString("user.email")) ?? nil
    return Signature(
      name: name.flatMap { $0.isEmpty ? nil : $0 } ?? "git-orchestrate",
      email: email.flatMap { $0.isEmpty ? nil : $0 } ?? "git-orchestrate@localhost")
  }

  private static func configEntries(ofFile path: String) throws -> [(name: String, value: String)] {
    var config: OpaquePointer?
    try check(git_config_open_ondisk(&config, path), "git_config_open_ondisk")
    defer { git_config_free(config) }
    var iterator: OpaquePointer?
    try check(git_config_iterator_new(&iterator, config), "git_config_iterator_new")
    defer { git_config_iterator_free(iterator) }
    var entries: [(name: String, value: String)] = []
    while true {
      var entry: UnsafeMutablePointer<git_config_entry>?
      let code = git_config_next(&entry, iterator)
      if code == GIT_ITEROVER.rawValue { break }
      try check(code, "git_config_next")
      guard let entry else { continue }
      entries.append((String(cString: entry.pointee.name), entry.pointee.value.map { String(cString: $0) } ?? ""))
    }
    return entries
  }

  /// Calls `body` with a read-only snapshot of the configuration, so related reads see one state.
  private func withConfigSnapshot<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
    var config: OpaquePointer?
    try check(git_repository_config_snapshot(&config, pointer), "git_repository_config_snapshot")
    defer { git_config_free(config) }
    return try body(config!)
  }
}
