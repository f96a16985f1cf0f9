internal import CGit2
internal import Crypto
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// An index file (`.git/index`, versions 2 and 3) patched with a few entries, written by GitKit
/// itself rather than by libgit2.
///
/// Why: a landing changes a handful of the user's index entries, and libgit2 serialises every
/// entry again and hashes the whole file with its collision-detecting SHA-1 — 10 to 14 ms for a
/// 20,000-entry index, most of a sub-task's cost. Here the unchanged entries are copied as they
/// are, and the file is hashed with BoringSSL's SHA-1 (about 1 ms for the same file).
///
/// What git expects of such a write, and what this does:
/// - entries stay sorted by path (bytes), a path never both a file and a folder: checked, and an
///   edit that would break either is left to libgit2 (`patch` returns nil);
/// - the cache tree (`TREE`) is invalidated along each changed path, as git's own `add` does; the
///   resolve-undo data (`REUC`) is kept; every other optional extension (the untracked cache,
///   fsmonitor's token, the offset tables) is dropped, as libgit2 drops them; a required one (split
///   index, sparse directories), version 4 or a conflicted path among the edits: nil;
/// - entries as new as the index file read are "racily clean" (git cannot trust their stat data):
///   each one whose file still looks unchanged is hashed, and one whose content no longer matches
///   is smudged (its size written as 0) so git looks at it again, as git and libgit2 do on write.
public struct IndexFile {
  /// One change to an entry at stage 0.
  public enum Edit: Sendable {
    case set(oid: OID, mode: FileMode, stat: FileStat)
    case remove
  }

  /// The file to write, as pieces of the original file and new bytes (unchanged entries are never
  /// copied: they are hashed and written from the original), and the paths whose entries were
  /// smudged (racily clean, content changed).
  public struct Patched {
    enum Piece {
      case original(Range<Int>)
      case new([UInt8])
    }
    let original: [UInt8]
    let pieces: [Piece]
    let checksum: [UInt8]
    public let smudged: [String]
    /// The SHA-1 state every `HashCheckpoints.interval` bytes of the new file, for the next write.
    let checkpoints: HashCheckpoints

    /// The whole file.
    public var bytes: [UInt8] {
      var out: [UInt8] = []
      out.reserveCapacity(original.count + 4096)
      for piece in pieces {
        switch piece {
        case .original(let range): out += original[range]
        case .new(let bytes): out += bytes
        }
      }
      out += checksum
      return out
    }
  }

  /// `original` (the index file's bytes, modified at `modified`) with `edits` applied, or nil when
  /// this writer does not handle the file or the edits (libgit2 then writes the index).
  ///
  /// - Parameters:
  ///   - workdir: where racily clean entries' files are looked at.
  ///   - resuming: the SHA-1 states of `original` kept when GitKit wrote it: the part of the new
  ///     file that is `original`'s first bytes is not hashed again from its start.
  public static func patch(
    _ original: [UInt8], modified: (seconds: Int32, nanoseconds: UInt32), edits: [String: Edit], workdir: String,
    resuming: HashCheckpoints? = nil
  ) -> Patched? {
    original.withUnsafeBufferPointer { buffer in
      guard let parsed = Parsed(buffer),
        let (pieces, smudged) = parsed.patch(edits: edits, modified: modified, workdir: workdir)
      else { return nil }
      let (checksum, checkpoints) = hash(pieces, of: original, resuming: resuming)
      return Patched(original: original, pieces: pieces, checksum: checksum, smudged: smudged, checkpoints: checkpoints)
    }
  }

  /// SHA-1 states at every `interval` bytes of an index file, as it was hashed when written.
  ///
  /// A landing changes a few entries of the user's index, so the new file begins with the old
  /// one's bytes up to its first changed entry: hashing resumes from the last state kept before
  /// that point (at 20k files, half of the 1.76 MB on average), and the states kept up to it stay
  /// valid for the new file.
  public struct HashCheckpoints {
    static let interval = 1 << 16
    /// The state after `offset` bytes, for offsets that are multiples of `interval`, ascending.
    var states: [(offset: Int, state: Insecure.SHA1)] = []
    /// How many bytes the write that made these did not hash again (for tests and traces).
    public internal(set) var resumedBytes = 0
  }

  /// The new file's checksum, hashed from the last state of `resuming` that its unchanged first
  /// bytes allow, and its own states.
  static func hash(_ pieces: [Patched.Piece], of original: [UInt8], resuming: HashCheckpoints?)
    -> (checksum: [UInt8], checkpoints: HashCheckpoints)
  {
    // How far the new file is `original` byte for byte.
    var same = 0
    for piece in pieces {
      switch piece {
      case .original(let range):
        guard range.lowerBound == same else { break }
        same = range.upperBound
        continue
      case .new(let bytes):
        guard same + bytes.count <= original.count, original[same..<(same + bytes.count)].elementsEqual(bytes) else { break }
        same += bytes.count
        continue
      }
      break
    }
    var kept = (resuming?.states ?? []).filter { $0.offset <= same }
    let start = kept.last
    var hasher = start?.state ?? Insecure.SHA1()
    var position = 0
    let interval = HashCheckpoints.interval
    original.withUnsafeBytes { base in
      func update(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        // Up to where hashing resumes: already in the state.
        let skip = min(rest.count, max(0, (start?.offset ?? 0) - position))
        position += skip
        rest = UnsafeRawBufferPointer(rebasing: rest[skip...])
        while !rest.isEmpty {
          let boundary = (position / interval + 1) * interval
          let take = min(rest.count, boundary - position)
          hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: rest[..<take]))
          position += take
          rest = UnsafeRawBufferPointer(rebasing: rest[take...])
          if position == boundary { kept.append((position, hasher)) }
        }
      }
      for piece in pieces {
        switch piece {
        case .original(let range): update(UnsafeRawBufferPointer(rebasing: base[range]))
        case .new(let bytes): bytes.withUnsafeBytes { update($0) }
        }
      }
    }
    return (Array(hasher.finalize()), HashCheckpoints(states: kept, resumedBytes: start?.offset ?? 0))
  }
}

// MARK: - Reading

extension IndexFile {
  /// Where each entry and extension of an index file lies.
  fileprivate struct Parsed {
    let bytes: UnsafeBufferPointer<UInt8>
    let version: UInt32
    /// Each entry: its offset, its length (padding included), its path's offset and length.
    var entries: [(offset: Int, length: Int, path: Int, pathLength: Int)] = []
    /// The TREE extension's data, and the REUC extension whole (signature and size included).
    var tree: Range<Int>?
    var resolveUndo: Range<Int>?

    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
      self.bytes = bytes
      guard bytes.count >= 12 + 20, bytes[0] == 0x44, bytes[1] == 0x49, bytes[2] == 0x52, bytes[3] == 0x43 else {
        return nil  // not "DIRC"
      }
      version = Self.uint32(bytes, 4)
      guard version == 2 || version == 3 else { return nil }
      let count = Int(Self.uint32(bytes, 8))
      let end = bytes.count - 20
      entries.reserveCapacity(count)
      var offset = 12
      for _ in 0..<count {
        guard offset + 62 <= end else { return nil }
        let flags = Self.uint16(bytes, offset + 60)
        let extended = version >= 3 && flags & 0x4000 != 0
        let path = offset + 62 + (extended ? 2 : 0)
        var pathLength = Int(flags & 0xFFF)
        if pathLength == 0xFFF {
          var cursor = path
          while cursor < end, bytes[cursor] != 0 { cursor += 1 }
          pathLength = cursor - path
        }
        // 1 to 8 NUL bytes pad the entry to a multiple of 8.
        let length = (path - offset + pathLength + 8) & ~7
        guard offset + length <= end, path + pathLength < end, bytes[path + pathLength] == 0 else { return nil }
        entries.append((offset, length, path, pathLength))
        offset += length
      }
      while offset < end {
        guard offset + 8 <= end else { return nil }
        let size = Int(Self.uint32(bytes, offset + 4))
        guard offset + 8 + size <= end else { return nil }
        let signature = (bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3])
        switch signature {
        case (0x54, 0x52, 0x45, 0x45): tree = (offset + 8)..<(offset + 8 + size)  // TREE
        case (0x52, 0x45, 0x55, 0x43): resolveUndo = offset..<(offset + 8 + size)  // REUC
        default:
          // 'A'...'Z' first: optional, and dropped (libgit2 drops them too); else required.
          guard (0x41...0x5A).contains(signature.0) else { return nil }
        }
        offset += 8 + size
      }
      guard offset == end else { return nil }
    }

    static func uint32(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
      UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    static func uint16(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt16 {
      UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
    }

    func stage(_ entry: Int) -> UInt16 { (Self.uint16(bytes, entries[entry].offset + 60) >> 12) & 0x3 }

    func path(_ entry: Int) -> UnsafeBufferPointer<UInt8> {
      UnsafeBufferPointer(rebasing: bytes[entries[entry].path..<(entries[entry].path + entries[entry].pathLength)])
    }

    /// The first entry whose path is not below `path` in git's order (bytes, then stage).
    func lowerBound(_ path: [UInt8]) -> Int {
      var low = 0
      var high = entries.count
      path.withUnsafeBufferPointer { wanted in
        while low < high {
          let middle = (low + high) / 2
          if IndexFile.compare(self.path(middle), wanted) < 0 { low = middle + 1 } else { high = middle }
        }
      }
      return low
    }
  }

  /// memcmp order, a prefix first.
  static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
    let common = min(a.count, b.count)
    if common > 0 {
      let result = memcmp(a.baseAddress!, b.baseAddress!, common)
      if result != 0 { return Int(result) }
    }
    return a.count - b.count
  }
}

// MARK: - Writing

extension IndexFile.Parsed {
  func patch(
    edits: [String: IndexFile.Edit], modified: (seconds: Int32, nanoseconds: UInt32), workdir: String
  ) -> (pieces: [IndexFile.Patched.Piece], smudged: [String])? {
    // The edits in index order, each with where it goes among the old entries and whether it replaces one.
    let sorted = edits.map { (path: Array($0.key.utf8), edit: $0.value) }.sorted {
      $0.path.lexicographicallyPrecedes($1.path)
    }
    var placed: [(at: Int, replaces: Bool, path: [UInt8], edit: IndexFile.Edit)] = []
    placed.reserveCapacity(sorted.count)
    for (path, edit) in sorted {
      // A name that is not UTF-8 reached here repaired (U+FFFD, bytes EF BF BD), not as the tree has it.
      guard !path.isEmpty, path.count < 4096, !path.contains(0),
        !path.indices.dropLast(2).contains(where: { path[$0] == 0xEF && path[$0 + 1] == 0xBF && path[$0 + 2] == 0xBD })
      else { return nil }
      let at = lowerBound(path)
      let matches = at < entries.count && path.withUnsafeBufferPointer { IndexFile.compare(self.path(at), $0) == 0 }
      // A conflicted path (stages 1–3) is left to libgit2, which knows what adding over it means.
      if matches, stage(at) != 0 || (at + 1 < entries.count && path.withUnsafeBufferPointer {
        IndexFile.compare(self.path(at + 1), $0) == 0
      }) {
        return nil
      }
      placed.append((at, matches, path, edit))
    }

    // The new list: old entries by index (>= 0) or new ones (-1 - position in `placed`).
    var order: [Int] = []
    order.reserveCapacity(entries.count + placed.count)
    var next = 0
    for (number, item) in placed.enumerated() {
      while next < item.at {
        order.append(next)
        next += 1
      }
      if item.replaces { next += 1 }
      if case .set = item.edit { order.append(-1 - number) }
    }
    while next < entries.count {
      order.append(next)
      next += 1
    }
    // No path both a file and a folder: each new entry's folders, and the entries after it that
    // share its name as a prefix ("a" then "a-b", "a.b", then "a/b"), are looked at.
    func pathBytes(_ item: Int) -> [UInt8] { item >= 0 ? Array(path(item)) : placed[-1 - item].path }
    func isEntry(_ candidate: [UInt8]) -> Bool {
      switch edits[String(decoding: candidate, as: UTF8.self)] {
      case .set: return true
      case .remove: return false
      case nil:
        let at = lowerBound(candidate)
        return at < entries.count && candidate.withUnsafeBufferPointer { IndexFile.compare(path(at), $0) == 0 }
      }
    }
    for (position, item) in order.enumerated() where item < 0 {
      let mine = placed[-1 - item].path
      for (cut, byte) in mine.enumerated() where byte == UInt8(ascii: "/") {
        if isEntry(Array(mine[0..<cut])) { return nil }
      }
      var probe = position + 1
      while probe < order.count {
        let other = pathBytes(order[probe])
        guard other.count > mine.count, other.starts(with: mine) else { break }
        if other[mine.count] == UInt8(ascii: "/") { return nil }
        if other[mine.count] > UInt8(ascii: "/") { break }
        probe += 1
      }
    }

    // Racily clean old entries: as new as the file read, their stat data cannot be trusted.
    var smudged: [String] = []
    var smudge = Set<Int>()
    for item in order where item >= 0 {
      let at = entries[item].offset
      let seconds = Int32(bitPattern: Self.uint32(bytes, at + 8))
      let nanoseconds = Self.uint32(bytes, at + 12)
      guard seconds > modified.seconds || (seconds == modified.seconds && nanoseconds >= modified.nanoseconds)
      else { continue }
      if !stillMatches(item, workdir: workdir) {
        // Smudged in memory too, by name: a name that is not UTF-8 is left to libgit2.
        guard let name = String(validating: path(item), as: UTF8.self) else { return nil }
        smudge.insert(item)
        smudged.append(name)
      }
    }

    // Header, entries, the extensions kept; unchanged runs of entries as ranges of the original.
    var pieces: [IndexFile.Patched.Piece] = []
    func keep(_ range: Range<Int>) {
      if case .original(let last) = pieces.last, last.upperBound == range.lowerBound {
        pieces[pieces.count - 1] = .original(last.lowerBound..<range.upperBound)
      } else {
        pieces.append(.original(range))
      }
    }
    var header = Array(bytes[0..<8])
    appendBigEndian(UInt32(order.count), to: &header)
    pieces.append(.new(header))
    for item in order {
      if item >= 0 {
        let entry = entries[item]
        if !smudge.isEmpty, smudge.contains(item) {
          keep(entry.offset..<(entry.offset + 36))
          pieces.append(.new([0, 0, 0, 0]))  // the size: git compares the file again
          keep((entry.offset + 40)..<(entry.offset + entry.length))
        } else {
          keep(entry.offset..<(entry.offset + entry.length))
        }
        continue
      }
      let new = placed[-1 - item]
      guard case .set(let oid, let mode, let stat) = new.edit else { continue }
      var out: [UInt8] = []
      for word in [
        UInt32(bitPattern: stat.ctimeSeconds), stat.ctimeNanoseconds, UInt32(bitPattern: stat.mtimeSeconds),
        stat.mtimeNanoseconds, stat.device, stat.inode, mode.rawValue, stat.uid, stat.gid, stat.size,
      ] {
        appendBigEndian(word, to: &out)
      }
      withUnsafeBytes(of: oid.raw.id) { out.append(contentsOf: $0) }
      let flags = UInt16(min(new.path.count, 0xFFF))
      out.append(UInt8(flags >> 8))
      out.append(UInt8(flags & 0xFF))
      out.append(contentsOf: new.path)
      let length = (62 + new.path.count + 8) & ~7
      out.append(contentsOf: repeatElement(0, count: length - out.count))
      pieces.append(.new(out))
    }
    if let tree {
      guard let data = CacheTree.invalidating(UnsafeBufferPointer(rebasing: bytes[tree]), paths: placed.map(\.path))
      else { return nil }
      var out: [UInt8] = [0x54, 0x52, 0x45, 0x45]
      appendBigEndian(UInt32(data.count), to: &out)
      pieces.append(.new(out + data))
    }
    if let resolveUndo { keep(resolveUndo) }
    return (pieces, smudged)
  }

  /// Whether the file of racily clean entry `item` still holds what the entry says (looked at as
  /// git does: stat data first, then the content). A file whose stat data differs needs nothing:
  /// git already sees it as changed and compares it.
  private func stillMatches(_ item: Int, workdir: String) -> Bool {
    let at = entries[item].offset
    let mode = Self.uint32(bytes, at + 24)
    let recorded = FileStat(
      ctimeSeconds: Int32(bitPattern: Self.uint32(bytes, at)), ctimeNanoseconds: Self.uint32(bytes, at + 4),
      mtimeSeconds: Int32(bitPattern: Self.uint32(bytes, at + 8)), mtimeNanoseconds: Self.uint32(bytes, at + 12),
      device: Self.uint32(bytes, at + 16), inode: Self.uint32(bytes, at + 20), uid: Self.uint32(bytes, at + 28),
      gid: Self.uint32(bytes, at + 32), size: Self.uint32(bytes, at + 36))
    let oid = OID(bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[(at + 40)..<(at + 60)]))
    guard let name = String(validating: path(item), as: UTF8.self) else { return false }
    let full = workdir + "/" + name
    guard mode != FileMode.gitlink.rawValue else { return true }
    guard let (now, _) = FileStat.of(full), now.matches(recorded) else { return true }
    // As it is, no filters: a file with attributes that change it reads as different, and is
    // smudged, which costs git one more look and nothing else.
    let content: OID?
    if mode == FileMode.symlink.rawValue {
      content = (try? FileManager.default.destinationOfSymbolicLink(atPath: full)).map { OID.hashBlob(Data($0.utf8)) }
    } else {
      content = OID.hashFile(atPath: full)
    }
    return content == oid
  }

}

/// `value`'s four bytes, most significant first, as git's index and pack files hold numbers.
func appendBigEndian(_ value: UInt32, to out: inout [UInt8]) {
  out.append(UInt8(value >> 24))
  out.append(UInt8((value >> 16) & 0xFF))
  out.append(UInt8((value >> 8) & 0xFF))
  out.append(UInt8(value & 0xFF))
}

// MARK: - The cache tree

/// git's `TREE` extension: each folder's tree id as of the last write-tree, with its entry count
/// and sub-folders, depth first. A changed path makes its folders' ids unknown (count -1, no id),
/// as git's `cache_tree_invalidate_path` does.
enum CacheTree {
  final class Node {
    var name: [UInt8]
    var count: Int
    var id: ArraySlice<UInt8>?
    var children: [Node] = []
    init(name: [UInt8], count: Int, id: ArraySlice<UInt8>?) {
      self.name = name
      self.count = count
      self.id = id
    }
  }

  /// The extension's data with every folder of `paths` invalidated; nil when it does not parse.
  static func invalidating(_ data: UnsafeBufferPointer<UInt8>, paths: [[UInt8]]) -> [UInt8]? {
    let bytes = Array(data)
    var offset = 0
    guard let root = parse(bytes, &offset), offset == bytes.count else { return nil }
    for path in paths {
      var node = root
      node.invalidate()
      var components = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
      components.removeLast()  // the file itself
      for component in components {
        guard let child = node.children.first(where: { $0.name.elementsEqual(component) }) else { break }
        child.invalidate()
        node = child
      }
    }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    write(root, to: &out)
    return out
  }

  static func parse(_ bytes: [UInt8], _ offset: inout Int) -> Node? {
    guard let nul = bytes[offset...].firstIndex(of: 0) else { return nil }
    let name = Array(bytes[offset..<nul])
    guard let space = bytes[(nul + 1)...].firstIndex(of: UInt8(ascii: " ")),
      let newline = bytes[(space + 1)...].firstIndex(of: UInt8(ascii: "\n")),
      let count = Int(String(decoding: bytes[(nul + 1)..<space], as: UTF8.self)),
      let subtrees = Int(String(decoding: bytes[(space + 1)..<newline], as: UTF8.self)), subtrees >= 0
    else { return nil }
    offset = newline + 1
    var id: ArraySlice<UInt8>?
    if count >= 0 {
      guard offset + 20 <= bytes.count else { return nil }
      id = bytes[offset..<(offset + 20)]
      offset += 20
    }
    let node = Node(name: name, count: count, id: id)
    for _ in 0..<subtrees {
      guard offset < bytes.count, let child = parse(bytes, &offset) else { return nil }
      node.children.append(child)
    }
    return node
  }

  static func write(_ node: Node, to out: inout [UInt8]) {
    out.append(contentsOf: node.name)
    out.append(0)
    out.append(contentsOf: "\(node.count) \(node.children.count)\n".utf8)
    if node.count >= 0, let id = node.id { out.append(contentsOf: id) }
    for child in node.children { write(child, to: &out) }
  }
}

extension CacheTree.Node {
  func invalidate() {
    count = -1
    id = nil
  }
}

// MARK: - The repository's index

extension Index {
  /// Writes this index's file through `lock` (which the caller took before reading the index) as
  /// the file on disk with `edits` applied — the same edits the caller made to this index in
  /// memory — without libgit2 serialising and hashing every entry (see `IndexFile`).
  ///
  /// - Returns: false when the file is not one `IndexFile` handles, or not the one this index
  ///   holds in memory: the caller then lets the lock go and writes with `write()`.
  public func writePatched(_ edits: [String: IndexFile.Edit], lock: IndexLock) throws -> Bool {
    let path = filePath
    let bytes: [UInt8]
    let onDisk: FileStat
    var resuming: IndexFile.HashCheckpoints?
    if let own = repository.ownIndexWrite, let (now, _) = FileStat.of(path), repository.isOwnIndexWrite(now) {
      // The file GitKit wrote last, unchanged since: its bytes are the ones kept, with their hash states.
      (bytes, onDisk, resuming) = (own.bytes, now, own.checkpoints)
    } else {
      let fd = open(path, O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else { return false }
      var info = stat()
      guard fstat(fd, &info) == 0, info.st_size >= 32 else {
        close(fd)
        return false
      }
      var read = [UInt8](repeating: 0, count: Int(info.st_size))
      let count = read.withUnsafeMutableBytes { readWhole(fd, into: $0) }
      close(fd)
      guard count == read.count else { return false }
      // The file must be the one in memory: libgit2 read it (its checksum), or GitKit wrote it.
      let trailer = read.suffix(20).withUnsafeBytes { OID(bytes: $0) }
      onDisk = FileStat(info)
      let loaded = git_index_checksum(pointer).map { OID($0) }
      guard loaded == trailer || repository.isOwnIndexWrite(onDisk) else { return false }
      bytes = read
    }
    guard
      let patched = IndexFile.patch(
        bytes, modified: (onDisk.mtimeSeconds, onDisk.mtimeNanoseconds), edits: edits,
        workdir: try repository.requireWorkingDirectory(), resuming: resuming)
    else { return false }
    // Memory follows the file: an entry smudged there is smudged here, so that nothing trusts
    // stat data git would not.
    for smudged in patched.smudged {
      guard var entry = entry(path: smudged) else { continue }
      entry.stat.size = 0
      try set(path: smudged, oid: entry.oid, mode: entry.mode, stat: entry.stat)
    }
    let written = patched.bytes
    try lock.commit(to: path) { fd in written.withUnsafeBytes { writeAll(fd, $0) } }
    repository.ownIndexWrite = FileStat.of(path).map { ($0.0, written, patched.checkpoints) }
    return true
  }
}

/// read(2) until `buffer` is full or the file ends (outside `Index`, whose `read(force:)` hides it).
private func readWhole(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
  var total = 0
  while total < buffer.count {
    let count = read(fd, buffer.baseAddress! + total, buffer.count - total)
    if count < 0, errno == EINTR { continue }
    guard count > 0 else { break }
    total += count
  }
  return total
}

/// write(2) until all of `buffer` is written; the errno of a failure, or nil.
func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int32? {
  var done = 0
  while done < buffer.count {
    let count = write(fd, buffer.baseAddress! + done, buffer.count - done)
    if count < 0 {
      if errno == EINTR { continue }
      return errno
    }
    done += count
  }
  return nil
}
