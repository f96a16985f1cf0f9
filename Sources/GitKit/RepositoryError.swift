import Foundation

/// Why a repository cannot be used, or a reference operation was refused, in terms a user can act on.
public enum RepositoryError: Error, LocalizedError, Equatable, Sendable {
  /// No repository at or above the path.
  case notARepository(path: String)
  /// The repository has no work tree, and the operation needs one.
  case bareRepository(path: String)
  /// The repository enables an extension libgit2 1.5 refuses to open.
  case unsupportedExtension(name: String, path: String)
  /// The repository uses SHA-256 object ids, which libgit2 1.5 cannot read.
  case sha256Repository(path: String)
  /// A revision or reference name resolved to nothing.
  case refNotFound(String)
  /// A compare-and-swap update lost: the reference is not where the caller expected.
  case referenceConflict(name: String, expected: OID?, actual: OID?)

  public var errorDescription: String? {
    switch self {
    case .notARepository(let path):
      "not a git repository (or any parent up to /): \(path); run 'git init' or cd into a repository"
    case .bareRepository(let path):
      "\(path) is a bare repository; git orchestrate needs a work tree: run it in a clone with a checkout"
    case .unsupportedExtension(let name, let path) where name.lowercased() == "worktreeconfig":
      "repository \(path) uses extensions.worktreeConfig, which libgit2 1.5 cannot open; run "
        + "'git config --unset extensions.worktreeConfig' if no worktree uses config.worktree, "
        + "or move the settings of each worktree's config.worktree into the shared config first"
    case .unsupportedExtension(let name, let path):
      "repository \(path) uses extensions.\(name), which libgit2 1.5 cannot open; "
        + "use a clone without that extension, or remove it with 'git config --unset extensions.\(name)' "
        + "if the repository no longer needs it"
    case .sha256Repository(let path):
      "repository \(path) uses the sha256 object format, which libgit2 1.5 cannot read; "
        + "use a sha1 repository (the default of 'git init')"
    case .refNotFound(let name):
      "no revision or reference named '\(name)'; check it with 'git rev-parse --verify \(name)'"
    case .referenceConflict(let name, let expected, let actual):
      "reference \(name) moved: expected \(expected?.hex ?? "no reference"), found \(actual?.hex ?? "no reference"); "
        + "another process updated it, run again to start from its new value"
    }
  }
}
