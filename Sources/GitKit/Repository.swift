internal import CGit2
import Foundation

/// An open git repository: a work tree, a linked worktree or a bare repository.
///
/// Owns its libgit2 handle. Not thread safe, hence not `Sendable`: open one per task.
public final class Repository {
  let pointer: OpaquePointer
  /// `packed-refs` as `scanReferences` last parsed it.
  var packedReferences: PackedReferences?
  /// An object database of the repository's packs alone (`isPacked`), made on first use.
  var packs: OpaquePointer?
  /// The index file as GitKit last wrote it itself (`Index.writePatched`): its stat data, bytes and
  /// SHA-1 states. While the file still has this stat data, libgit2's copy in memory holds what it
  /// holds and is not read again, and the next patched write neither reads nor hashes it all again.
  var ownIndexWrite: (stat: FileStat, bytes: [UInt8], checkpoints: IndexFile.HashCheckpoints)?

  /// Whether the index file with stat data `stat` is the one `Index.writePatched` last wrote.
  func isOwnIndexWrite(_ stat: FileStat) -> Bool {
    guard let own = ownIndexWrite?.stat else { return false }
    return stat.matches(own) && stat.device == own.device
  }
  /// The last few `diffTrees` answers, by the ids asked for.
  var recentDiffs: [(old: OID?, new: OID?, entries: [DiffEntry])] = []

  private init(pointer: OpaquePointer) {
    self.pointer = pointer
  }

  deinit {
    if let packs { git_odb_free(packs) }
    git_repository_free(pointer)
  }

  /// Opens the repository containing `path` (any subdirectory; the search may cross filesystems).
  ///
  /// - Throws: `RepositoryError.notARepository` when none is found, `.unsupportedExtension` or
  ///   `.sha256Repository` when libgit2 1.5 cannot open the one found, else `GitError`.
  public static func discover(from path: String) throws -> Repository {
    _ = libgit2
    var buffer = git_buf()
    defer { git_buf_dispose(&buffer) }
    let code = git_repository_discover(&buffer, path, 1, nil)
    if code == GIT_ENOTFOUND.rawValue {
      throw RepositoryError.notARepository(path: path)
    }
    try check(code, "git_repository_discover")
    return try Repository(path: string(from: buffer))
  }

  /// Opens exactly the repository at `path`: a gitdir or a work tree, including a linked worktree.
  ///
  /// - Throws: as `discover(from:)`, without searching parent directories.
  public init(path: String) throws {
    _ = libgit2
    var repository: OpaquePointer?
    let code = git_repository_open_ext(&repository, path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil)
    if code < 0 {
      let failure = lastError(code, "git_repository_open_ext")
      if let reason = Repository.unsupportedFormat(at: path) { throw reason }
      if code == GIT_ENOTFOUND.rawValue { throw RepositoryError.notARepository(path: path) }
      throw failure
    }
    pointer = repository!
  }

  /// The repository's gitdir (for a linked worktree, its own `.git/worktrees/<name>`), no trailing slash.
  public var gitDirectory: String {
    trimmingTrailingSlash(String(cString: git_repository_path(pointer)))
  }

  /// The directory shared by all worktrees (objects, refs, config), no trailing slash.
  public var commonDirectory: String {
    if let cachedCommonDirectory { return cachedCommonDirectory }
    let found = trimmingTrailingSlash(String(cString: git_repository_commondir(pointer)))
    cachedCommonDirectory = found
    return found
  }
  /// The common directory never changes once the repository is open; the guard asks for it a
  /// dozen times per MCP call.
  private var cachedCommonDirectory: String?

  /// The working directory, no trailing slash; nil when bare.
  public var workingDirectory: String? {
    git_repository_workdir(pointer).map { trimmingTrailingSlash(String(cString: $0)) }
  }

  public var isBare: Bool { git_repository_is_bare(pointer) == 1 }
  public var isShallow: Bool { git_repository_is_shallow(pointer) == 1 }
  public var isWorktree: Bool { git_repository_is_worktree(pointer) == 1 }

  /// The working directory, or an error a user can act on when the repository is bare.
  public func requireWorkingDirectory() throws -> String {
    guard let directory = workingDirectory, !isBare else {
      throw RepositoryError.bareRepository(path: gitDirectory)
    }
    return directory
  }

  /// Names the repository format feature that makes libgit2 1.5 refuse `path`, if that is the reason.
  ///
  /// libgit2 reports only "unsupported extension name …"; reading the config ourselves lets the error say
  /// which one and what to do about it.
  static func unsupportedFormat(at path: String) -> RepositoryError? {
    guard let gitDirectory = gitDirectory(for: path) else { return nil }
    let commonDirectory = commonDirectory(for: gitDirectory)
    var config: OpaquePointer?
    guard git_config_open_ondisk(&config, commonDirectory + "/config") == 0 else {
      git_error_clear()
      return nil
    }
    defer { git_config_free(config) }
    var version: Int32 = 0
    if git_config_get_int32(&version, config, "core.repositoryformatversion") < 0 {
      git_error_clear()
    }
    guard version >= 1 else { return nil }
    var iterator: OpaquePointer?
    guard git_config_iterator_glob_new(&iterator, config, "^extensions\\.") == 0 else {
      git_error_clear()
      return nil
    }
    defer { git_config_iterator_free(iterator) }
    var extensions: [(name: String, value: String)] = []
    var entry: UnsafeMutablePointer<git_config_entry>?
    while git_config_next(&entry, iterator) == 0, let entry {
      let name = String(String(cString: entry.pointee.name).dropFirst("extensions.".count))
      extensions.append((name, entry.pointee.value.map { String(cString: $0) } ?? ""))
    }
    git_error_clear()
    // Name the work tree rather than its `.git` directory: that is where the user runs commands.
    var reportedPath = trimmingTrailingSlash(path)
    if (reportedPath as NSString).lastPathComponent == ".git" {
      reportedPath = (reportedPath as NSString).deletingLastPathComponent
    }
    if extensions.contains(where: { $0.name == "objectformat" && $0.value.lowercased() == "sha256" }) {
      return .sha256Repository(path: reportedPath)
    }
    // libgit2 1.5 knows only these; any other extension is what made it refuse the repository.
    let supported: Set<String> = ["noop", "objectformat"]
    guard let unsupported = extensions.first(where: { !supported.contains($0.name) }) else { return nil }
    return .unsupportedExtension(name: canonicalExtensionName(unsupported.name), path: reportedPath)
  }

  /// The gitdir of `path`: itself, its `.git` directory, or the target of its `.git` file.
  private static func gitDirectory(for path: String) -> String? {
    let fileManager = FileManager.default
    let dotGit = (path as NSString).appendingPathComponent(".git")
    var isDirectory: ObjCBool = false
    if fileManager.fileExists(atPath: dotGit, isDirectory: &isDirectory) {
      if isDirectory.boolValue { return dotGit }
      return linkedDirectory(in: dotGit, prefix: "gitdir:", relativeTo: path)
    }
    if fileManager.fileExists(atPath: (path as NSString).appendingPathComponent("HEAD")) { return path }
    return nil
  }

  private static func commonDirectory(for gitDirectory: String) -> String {
    let file = (gitDirectory as NSString).appendingPathComponent("commondir")
    return linkedDirectory(in: file, prefix: "", relativeTo: gitDirectory) ?? gitDirectory
  }

  /// Reads a path from a one-line pointer file such as `.git` or `commondir`.
  private static func linkedDirectory(in file: String, prefix: String, relativeTo base: String) -> String? {
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
    let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard line.hasPrefix(prefix) else { return nil }
    let target = line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
    return target.hasPrefix("/") ? target : (base as NSString).appendingPathComponent(target)
  }

  private static func canonicalExtensionName(_ name: String) -> String {
    let known = [
      "worktreeconfig": "worktreeConfig", "objectformat": "objectFormat",
      "partialclone": "partialClone", "preciousobjects": "preciousObjects",
      "refstorage": "refStorage", "compatobjectformat": "compatObjectFormat",
    ]
    return known[name] ?? name
  }
}
