import Foundation
import GitKit

/// A checkpoint judges exactly the tree that would be committed: what the agent left that the tree
/// does not hold (ignored files: a `.git/info/exclude` entry, build output, an agent's own files)
/// is moved aside while the checkpoint runs, except the caches the plan keeps (`keep:`).
extension Workspace {
  /// What `moveIgnoredAside` moved, to put back.
  struct Aside {
    var folder: String
    var paths: [String]
  }

  /// Moves every ignored path the workspace has seen (and that still exists) out of the working
  /// directory, into a sibling folder on the same file system, except those `keep` matches.
  func moveIgnoredAside(keeping keep: [String]) throws -> Aside {
    let folder = path + ".aside"
    var moved: [String] = []
    for relative in ignored.sorted() {
      if moved.contains(where: { relative.hasPrefix($0 + "/") }) { continue }
      if keep.contains(where: { Protection.matches($0, relative) || Protection.matches($0, relative + "/") }) { continue }
      let source = path + "/" + relative
      // Still there, still ignored (a .gitignore may have changed since), and holding nothing tracked.
      guard let (_, mode) = FileStat.of(source), try isStillIgnored(relative, folder: mode & UInt32(S_IFMT) == UInt32(S_IFDIR))
      else {
        ignored.remove(relative)
        continue
      }
      let target = folder + "/" + relative
      try FileManager.default.createDirectory(
        atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      if FileStat.of(target) != nil { try FileManager.default.removeItem(atPath: target) }
      guard rename(source, target) == 0 else {
        throw OrchestrateError.io("cannot move \(source) aside for the checkpoint: \(String(cString: strerror(errno)))")
      }
      moved.append(relative)
    }
    return Aside(folder: folder, paths: moved)
  }

  private func isStillIgnored(_ relative: String, folder: Bool) throws -> Bool {
    let index = try self.index
    if index.entry(path: relative) != nil || !index.paths(under: relative).isEmpty { return false }
    return try repository.isIgnored(folder ? relative + "/" : relative)
  }

  /// Puts back what `moveIgnoredAside` moved, unless the checkpoint made a path of that name again
  /// (its own output wins); the aside folder is removed.
  func putBack(_ aside: Aside) {
    for relative in aside.paths {
      let target = path + "/" + relative
      if FileStat.of(target) == nil {
        try? FileManager.default.createDirectory(
          atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = rename(aside.folder + "/" + relative, target)
      }
    }
    try? FileManager.default.removeItem(atPath: aside.folder)
  }
}
