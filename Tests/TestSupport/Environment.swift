import Foundation

/// The one identity and date of every commit the git CLI makes in tests.
public enum TestIdentity {
  public static let authorName = "Test Author"
  public static let authorEmail = "author@example.com"
  public static let committerName = "Test Committer"
  public static let committerEmail = "committer@example.com"
  /// The fixed author and committer date, and the same instant in seconds since 1970.
  public static let date = "2024-01-02T03:04:05Z"
  public static let dateSeconds: TimeInterval = 1_704_164_645
}

/// The environment every command of a test runs in: the test process's own without any `GIT_*` or
/// `ORCHESTRATE_*` variable, so nothing of the developer's setup leaks in, then a private HOME, no
/// system configuration, UTC, the C locale, the fixed identity and dates, no colour, and the built
/// `git-orchestrate` first on PATH.
public func deterministicEnvironment(home: URL) -> [String: String] {
  var environment = ProcessInfo.processInfo.environment
  for key in environment.keys where key.hasPrefix("GIT_") || key.hasPrefix("ORCHESTRATE_") || key.hasPrefix("XDG_") {
    environment[key] = nil
  }
  environment["HOME"] = home.path
  // Work folders go to $XDG_STATE_HOME/git-orchestrate/work/<repository key>/<plan>: never the real home.
  environment["XDG_STATE_HOME"] = home.appendingPathComponent(".local/state").path
  environment["GIT_CONFIG_NOSYSTEM"] = "1"
  environment["TZ"] = "UTC"
  environment["LC_ALL"] = "C"
  environment["NO_COLOR"] = "1"
  environment["GIT_AUTHOR_NAME"] = TestIdentity.authorName
  environment["GIT_AUTHOR_EMAIL"] = TestIdentity.authorEmail
  environment["GIT_AUTHOR_DATE"] = TestIdentity.date
  environment["GIT_COMMITTER_NAME"] = TestIdentity.committerName
  environment["GIT_COMMITTER_EMAIL"] = TestIdentity.committerEmail
  environment["GIT_COMMITTER_DATE"] = TestIdentity.date
  environment["PATH"] =
    orchestrateBinary.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
  return environment
}

/// The root of this package (the folder holding Package.swift), found from this file.
public let packageRoot: URL = {
  var url = URL(fileURLWithPath: #filePath)
  while url.path != "/" {
    url.deleteLastPathComponent()
    if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
  }
  return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}()

/// The built binary the end-to-end tests run: `ORCHESTRATE_BIN`, else this package's
/// `.build/debug/git-orchestrate`.
public let orchestrateBinary: URL = {
  if let path = ProcessInfo.processInfo.environment["ORCHESTRATE_BIN"], !path.isEmpty {
    return URL(fileURLWithPath: path)
  }
  return packageRoot.appendingPathComponent(".build/debug/git-orchestrate")
}()

extension String {
  /// The text without leading and trailing white space and newlines.
  public var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
