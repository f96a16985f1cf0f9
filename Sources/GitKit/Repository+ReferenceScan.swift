internal import CGit2
import Foundation

/// `packed-refs` as last read, with the file's identity, so that it is parsed once per change.
final class PackedReferences {
  struct Stamp: Equatable {
    var inode: UInt64
    var size: Int64
    var modified: timespec
    var changed: timespec

    static func == (a: Stamp, b: Stamp) -> Bool {
      a.inode == b.inode && a.size == b.size && a.modified.tv_sec == b.modified.tv_sec
        && a.modified.tv_nsec == b.modified.tv_nsec && a.changed.tv_sec == b.changed.tv_sec
        && a.changed.tv_nsec == b.changed.tv_nsec
    }

    /// The identity of the file at `path`; nil when there is none.
    static func of(_ path: String) -> Stamp? {
      var info = stat()
      guard stat(path, &info) == 0 else { return nil }
      return Stamp(
        inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim, changed: info.st_ctim)
    }
  }

  let stamp: Stamp?
  /// Sorted by name.
  let entries: [(name: String, target: OID)]

  init(stamp: Stamp?, entries: [(name: String, target: OID)]) {
    self.stamp = stamp
    self.entries = entries
  }

  /// Parses `packed-refs` as git writes it: an optional `# pack-refs with:` line, `<id> <name>`
  /// lines and `^<id>` lines peeling the one before. Anything else: nil.
  static func parse(_ data: Data) -> [(name: String, target: OID)]? {
    var entries: [(name: String, target: OID)] = []
    var sorted = true
    for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
      if line.first == UInt8(ascii: "#") || line.first == UInt8(ascii: "^") { continue }
      guard line.count > 41, line[line.startIndex + 40] == UInt8(ascii: " "),
        let oid = OID(hex: String(decoding: line.prefix(40), as: UTF8.self))
      else { return nil }
      let name = String(decoding: line.dropFirst(41), as: UTF8.self)
      if let last = entries.last, last.name >= name { sorted = false }
      entries.append((name, oid))
    }
    return sorted ? entries : entries.sorted { $0.name < $1.name }
  }
}

extension Repository {
  /// The references under `prefix` read from the reference files themselves (loose files under
  /// the folder, then `packed-refs`, parsed once per change of that file), sorted by name; nil
  /// when it cannot tell for sure, and the caller asks libgit2.
  ///
  /// libgit2 1.5 copies and sorts every packed reference whenever a reference iterator is made,
  /// whatever its glob: once `git gc` (or `git pack-refs`) has packed the branches of a plan of
  /// 10,000 sub-tasks, each listing of a few refs costs milliseconds, and the guard lists
  /// `refs/orchestrate/` after every step of a run. Reading the files costs what the prefix holds.
  ///
  /// Only a plain files store and a prefix shared by every worktree qualify; a symbolic reference,
  /// a file that is not a ref id, a name git would refuse or a `packed-refs` line it does not know
  /// make it answer nil.
  func scanReferences(withPrefix prefix: String) -> [Reference]? {
    guard prefix.hasPrefix("refs/"),
      !["refs/worktree/", "refs/bisect/", "refs/rewritten/"].contains(where: { prefix.hasPrefix($0) || $0.hasPrefix(prefix) }),
      !prefix.contains(".."), !prefix.contains("*"), !prefix.contains("?"), !prefix.contains("[")
    else { return nil }
    let common = commonDirectory
    for _ in 0..<3 {
      let packedPath = common + "/packed-refs"
      let before = PackedReferences.Stamp.of(packedPath)
      guard let packed = readPackedReferences(path: packedPath, stamp: before),
        let loose = looseReferences(common: common, prefix: prefix)
      else { return nil }
      // A `git pack-refs` between the two readings moves refs from files to packed-refs: read again.
      guard PackedReferences.Stamp.of(packedPath) == before else { continue }
      var found: [String: OID] = [:]
      for entry in packed.entries[packed.firstIndex(atOrAfter: prefix)...] {
        guard entry.name.hasPrefix(prefix) else { break }
        found[entry.name] = entry.target
      }
      for (name, target) in loose { found[name] = target }
      return found.map { Reference(name: $0.key, target: $0.value, symbolicTarget: nil) }.sorted { $0.name < $1.name }
    }
    return nil
  }

  /// `packed-refs` as it is now (reusing the last parse while the file is unchanged); an empty
  /// store when there is no such file, nil when it cannot be read or parsed.
  private func readPackedReferences(path: String, stamp: PackedReferences.Stamp?) -> PackedReferences? {
    if let cached = packedReferences, cached.stamp == stamp { return cached }
    guard let stamp else {
      let empty = PackedReferences(stamp: nil, entries: [])
      packedReferences = empty
      return empty
    }
    guard let data = FileManager.default.contents(atPath: path), let entries = PackedReferences.parse(data) else {
      return nil
    }
    let parsed = PackedReferences(stamp: stamp, entries: entries)
    packedReferences = parsed
    return parsed
  }

  /// The loose references under `prefix`: every file below its folder, each holding an id.
  private func looseReferences(common: String, prefix: String) -> [(String, OID)]? {
    let slash = prefix.lastIndex(of: "/")!
    let folder = String(prefix[..<slash])
    var found: [(String, OID)] = []
    var pending = [folder]
    while let relative = pending.popLast() {
      guard let directory = opendir(common + "/" + relative) else {
        if errno == ENOENT || errno == ENOTDIR { continue }
        return nil
      }
      defer { closedir(directory) }
      while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
          String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name == "." || name == ".." { continue }
        let path = relative + "/" + name
        guard path.hasPrefix(prefix) || prefix.hasPrefix(path + "/") else { continue }
        var info = stat()
        guard lstat(common + "/" + path, &info) == 0 else {
          if errno == ENOENT { continue }  // removed meanwhile (a ref deleted, a lock renamed)
          return nil
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
          pending.append(path)
        case S_IFREG:
          if name.hasSuffix(".lock") { continue }  // a ref being written: its file holds the value
          guard path.hasPrefix(prefix), Repository.isValidReferenceName(path),
            let data = FileManager.default.contents(atPath: common + "/" + path),
            let oid = Self.looseTarget(data)
          else {
            if !FileManager.default.fileExists(atPath: common + "/" + path) { continue }
            return nil
          }
          found.append((path, oid))
        default:
          return nil
        }
      }
    }
    return found
  }

  /// The id a loose ref file holds: 40 hex digits, then nothing or whitespace (as libgit2 reads it).
  static func looseTarget(_ data: Data) -> OID? {
    guard data.count >= 40, let oid = OID(hex: String(decoding: data.prefix(40), as: UTF8.self)) else { return nil }
    if data.count > 40 {
      let next = data[data.startIndex + 40]
      guard next == UInt8(ascii: "\n") || next == UInt8(ascii: " ") || next == UInt8(ascii: "\t")
        || next == UInt8(ascii: "\r")
      else { return nil }
    }
    return oid
  }
}

extension PackedReferences {
  /// The index of the first entry whose name is `name` or sorts after it.
  func firstIndex(atOrAfter name: String) -> Int {
    var low = 0
    var high = entries.count
    while low < high {
      let middle = (low + high) / 2
      if entries[middle].name < name { low = middle + 1 } else { high = middle }
    }
    return low
  }
}
