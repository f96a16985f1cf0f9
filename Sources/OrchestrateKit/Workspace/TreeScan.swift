import Foundation
import GitKit

/// What a full scan of a working directory found, compared with the index's cached stat data.
///
/// Pure file-system work with no libgit2 repository involved, so it can run on a background thread
/// while an agent works; the workspace turns it into blobs and a tree afterwards.
struct ScanResult: Sendable {
  /// Tracked files whose stat data or mode differ: to be hashed again.
  var changed: [String] = []
  /// Files the index does not track: hashed unless ignored.
  var untracked: [String] = []
  /// Folders with no tracked file below them: rescanned unless ignored.
  var untrackedFolders: [String] = []
  /// Tracked files that are gone.
  var deleted: [String] = []
  /// Whether any tracked path is a `.gitattributes` file.
  var hasAttributes = false
}

enum TreeScan {
  /// Walks `root` and compares every file with `entries` (the index, in index order).
  static func scan(root: String, entries: [IndexEntry], trustExecutableBit: Bool) -> ScanResult {
    var result = ScanResult()
    var byPath: [String: IndexEntry] = [:]
    byPath.reserveCapacity(entries.count)
    var trackedFolders: Set<String> = [""]
    var opaque: [String] = []
    for entry in entries {
      byPath[entry.path] = entry
      if entry.path.hasSuffix(".gitattributes") { result.hasAttributes = true }
      var folder = RelativePath.parent(of: entry.path)
      while !folder.isEmpty, trackedFolders.insert(folder).inserted { folder = RelativePath.parent(of: folder) }
    }
    var seen = Set<String>()
    seen.reserveCapacity(entries.count)
    var folders = [""]
    while let folder = folders.popLast() {
      let full = folder.isEmpty ? root : root + "/" + folder
      guard let directory = opendir(full) else { continue }
      defer { closedir(directory) }
      let descriptor = dirfd(directory)
      while let item = readdir(directory) {
        let name = withUnsafePointer(to: item.pointee.d_name) {
          $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name == "." || name == ".." || name == ".git" { continue }
        let relative = folder.isEmpty ? name : folder + "/" + name
        var info = stat()
        // Relative to the open folder: no path walk from the root for each of many files.
        guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
          if byPath[relative]?.mode == .gitlink || faccessat(descriptor, name + "/.git", F_OK, 0) == 0 {
            opaque.append(relative)
          } else if trackedFolders.contains(relative) {
            folders.append(relative)
          } else {
            result.untrackedFolders.append(relative)
          }
        case S_IFREG, S_IFLNK:
          seen.insert(relative)
          guard let entry = byPath[relative] else {
            result.untracked.append(relative)
            continue
          }
          let stat = FileStat(info)
          let mode = fileMode(UInt32(info.st_mode), previous: entry.mode, trustExecutableBit: trustExecutableBit)
          if !entry.stat.matches(stat) || entry.mode != mode { result.changed.append(relative) }
        default:
          continue
        }
      }
    }
    for entry in entries where entry.mode != .gitlink && !seen.contains(entry.path) {
      if opaque.contains(where: { entry.path.hasPrefix($0 + "/") }) { continue }
      result.deleted.append(entry.path)
    }
    return result
  }

  /// The mode git records for a file with `st_mode`; without a trusted executable bit, the previous mode stays.
  static func fileMode(_ mode: UInt32, previous: FileMode?, trustExecutableBit: Bool) -> FileMode {
    if mode & UInt32(S_IFMT) == UInt32(S_IFLNK) { return .symlink }
    if !trustExecutableBit, let previous, previous == .blob || previous == .executable { return previous }
    return mode & 0o100 != 0 ? .executable : .blob
  }
}

/// Loads the workspace's index and runs a full scan against it on a background thread; `wait()`
/// returns both. Reading a 100,000-entry index takes tens of milliseconds and the scan hundreds, so
/// a run can start its agent meanwhile.
final class BackgroundScan: Sendable {
  private let done = DispatchSemaphore(value: 0)
  private let result = LockedBox<Result<(DetachedIndex, ScanResult), Error>?>(nil)

  /// Starts loading the index file at `indexPath` and scanning `root` against it.
  init(root: String, indexPath: String, trustExecutableBit: Bool) {
    Thread.detachNewThread { [self] in
      let scanned = Result {
        let index = try DetachedIndex(path: indexPath)
        let scan = TreeScan.scan(root: root, entries: index.entries(), trustExecutableBit: trustExecutableBit)
        return (index, scan)
      }
      result.withLock { $0 = scanned }
      done.signal()
    }
  }

  func wait() throws -> (DetachedIndex, ScanResult) {
    done.wait()
    done.signal()
    guard let scanned = result.current else { preconditionFailure("signalled before a result was stored") }
    return try scanned.get()
  }
}
