import Foundation

/// Runs `body` with a fresh empty directory, removed afterwards.
///
/// The URL has its symbolic links resolved (the temporary directory may be one), so paths that
/// programs print, such as `pwd -P`, compare equal to it.
public func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
  let directory = try makeTemporaryDirectory()
  defer { try? FileManager.default.removeItem(at: directory) }
  return try body(directory)
}

/// `withTemporaryDirectory`, for code that works with paths.
public func withTemporaryDirectoryPath<T>(_ body: (String) throws -> T) throws -> T {
  try withTemporaryDirectory { try body($0.path) }
}

/// Creates a fresh empty directory under the system's temporary directory; the caller removes it.
func makeTemporaryDirectory() throws -> URL {
  let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("orchestrate-tests-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  return directory.resolvingSymlinksInPath()
}
