internal import CGit2
import Foundation

/// `packed-refs` as last read, with the file's identity, so that it is parsed once per change.
struct PackedReferences: Sendable {
  struct Stamp: Equatable, Sendable {
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
  /// The file's bytes, and where each ref's name and id are in them, sorted by name.
  private let bytes: [UInt8]
  private let entries: [(name: Range<Int>, target: Int)]

  private init(stamp: Stamp?, bytes: [UInt8], entries: [(name: Range<Int>, target: Int)]) {
    self.stamp = stamp
    self.bytes = bytes
    self.entries = entries
  }

  /// No packed refs (no `packed-refs` file).
  static let none = PackedReferences(stamp: nil, bytes: [], entries: [])

  /// Parses `packed-refs` as git writes it: an optional `# pack-refs with:` line, `<id> <name>`
  /// lines and `^<id>` lines peeling the one before. Anything else: nil. Names and ids are made
  /// into values only for the refs asked for (`references(withPrefix:)`): the file of a plan with
  /// 10,000 packed branches is read by every `status`.
  static func parse(_ data: Data, stamp: Stamp?) -> PackedReferences? {
    let bytes = [UInt8](data)
    var entries: [(name: Range<Int>, target: Int)] = []
    var sorted = true
    var start = 0
    while start < bytes.count {
      var end = start
      while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
      defer { start = end + 1 }
      if end == start || bytes[start] == UInt8(ascii: "#") || bytes[start] == UInt8(ascii: "^") { continue }
      guard end - start > 41, bytes[start + 40] == UInt8(ascii: " ") else { return nil }
      let name = (start + 41)..<end
      if let last = entries.last, !lexicographicallyPrecedes(bytes, last.name, name) { sorted = false }
      entries.append((name, start))
    }
    if !sorted { entries.sort { lexicographicallyPrecedes(bytes, $0.name, $1.name) } }
    return PackedReferences(stamp: stamp, bytes: bytes, entries: entries)
  }

  private static func lexicographicallyPrecedes(_ bytes: [UInt8], _ a: Range<Int>, _ b: Range<Int>) -> Bool {
    bytes[a].lexicographicallyPrecedes(bytes[b])
  }

  /// The packed refs whose names start with `prefix`, in name order; nil when an id is not one.
  func references(withPrefix prefix: String) -> [(name: String, target: OID)]? {
    let wanted = Array(prefix.utf8)
    // The first entry not before `prefix`: a name that starts with it sorts at or after it.
    var low = 0
    var high = entries.count
    while low < high {
      let middle = (low + high) / 2
      if bytes[entries[middle].name].lexicographicallyPrecedes(wanted) { low = middle + 1 } else { high = middle }
    }
    var found: [(name: String, target: OID)] = []
    for entry in entries[low...] {
      guard bytes[entry.name].starts(with: wanted) else { break }
      let target = bytes.withUnsafeBufferPointer {
        OID(hexDigits: UnsafeBufferPointer(rebasing: $0[entry.target..<entry.target + 40]))
      }
      guard let target else { return nil }
      found.append((String(decoding: bytes[entry.name], as: UTF8.self), target))
    }
    return found
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
    // Byte by byte: `String.contains(String)` goes through Foundation's string search, and the
    // guard scans a prefix several times per MCP call.
    let characters = Array(prefix.utf8)
    guard prefix.hasPrefix("refs/"),
      !["refs/worktree/", "refs/bisect/", "refs/rewritten/"].contains(where: {
        prefix.hasPrefix($0) || $0.hasPrefix(prefix)
      }),
      !characters.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }),
      !zip(characters, characters.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") })
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
      guard let packedHere = packed.references(withPrefix: prefix) else { return nil }
      var found: [String: OID] = [:]
      for (name, target) in packedHere { found[name] = target }
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
      packedReferences = PackedReferences.none
      return PackedReferences.none
    }
    guard let data = FileManager.default.contents(atPath: path), let parsed = PackedReferences.parse(data, stamp: stamp)
    else { return nil }
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
            let data = Self.smallFile(common + "/" + path),
            let oid = Self.looseTarget(data)
          else {
            if access(common + "/" + path, F_OK) != 0, errno == ENOENT { continue }
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

  /// The first 64 bytes of a file (a loose ref is 41), read with the C library: Foundation's
  /// `contents(atPath:)` costs several times the two system calls; nil when it cannot be read.
  static func smallFile(_ path: String) -> Data? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
    return withUnsafeMutableBytes(of: &buffer) { raw -> Data? in
      var count = 0
      while count < raw.count {
        let got = read(fd, raw.baseAddress! + count, raw.count - count)
        if got < 0, errno == EINTR { continue }
        guard got >= 0 else { return nil }
        if got == 0 { break }
        count += got
      }
      return Data(raw.prefix(count))
    }
  }

  /// The id a loose ref file holds: 40 hex digits, then nothing or whitespace (as libgit2 reads it).
  static func looseTarget(_ data: Data) -> OID? {
    guard data.count >= 40, let oid = OID(hex: String(decoding: data.prefix(40), as: UTF8.self)) else { return nil }
    if data.count > 40 {
      let next = data[data.startIndex + 40]
      guard
        next == UInt8(ascii: "\n") || next == UInt8(ascii: " ") || next == UInt8(ascii: "\t")
          || next == UInt8(ascii: "\r")
      else { return nil }
    }
    return oid
  }
}
