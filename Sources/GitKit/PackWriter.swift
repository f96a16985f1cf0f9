internal import CGit2
internal import Crypto
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Many new blobs written as one pack file instead of a loose file each.
///
/// Why: a sub-task that changes thousands of files wrote as many loose objects, each a file made,
/// linked and unlinked in `.git/objects`, and on a real disk making a file costs far more than
/// writing its bytes (5,000 blobs took 0.9 s of a sub-task on this VM's ext4). git does the same
/// when it receives many objects (`transfer.unpackLimit`: above 100, `index-pack` keeps the pack).
///
/// The pack is version 2, every object whole (no deltas) and zlib-compressed (level 1, git's
/// `core.looseCompression`); its index is version 2. Both are written under temporary names in
/// `objects/pack` and renamed, the pack first: git and libgit2 open a pack only through its index.
/// An object the database already holds, or this writer already took, is not written again.
/// Until `finish()` the blobs are not readable: the caller finishes before anything refers to them.
public final class PackWriter {
  struct Entry {
    /// The id's 20 bytes.
    let name: [UInt8]
    let offset: UInt32
    let crc: UInt32
  }

  private let repository: Repository
  /// The compressed objects of the pack under way, each with its header; the pack header goes before them.
  private var body: [UInt8] = []
  private var entries: [Entry] = []
  private var taken: Set<OID> = []
  /// The packs written, by name (`pack-<checksum>`).
  public private(set) var packs: [String] = []
  /// How many objects the packs hold.
  public private(set) var objectCount = 0

  /// Above this many bytes of compressed objects, a pack is written and another begun: memory stays
  /// bounded, and every object's offset fits the index's 31-bit offsets.
  let packLimit: Int

  public init(repository: Repository, packLimit: Int = 64 << 20) {
    self.repository = repository
    self.packLimit = min(packLimit, 1 << 30)
  }

  /// Takes `data` as a blob into the pack under way and returns its id.
  public func add(blob data: Data) throws -> OID {
    let oid = OID.hashBlob(data)
    guard !taken.contains(oid), !repository.contains(oid, refreshing: false) else { return oid }
    taken.insert(oid)
    let start = body.count
    Self.appendHeader(type: 3, size: data.count, to: &body)
    try Self.deflate(data, into: &body)
    let crc = body[start...].withUnsafeBufferPointer { bytes in
      UInt32(crc32(0, bytes.baseAddress, UInt32(bytes.count)))
    }
    var raw = oid.raw
    let name = withUnsafeBytes(of: &raw.id) { Array($0) }
    entries.append(Entry(name: name, offset: UInt32(12 + start), crc: crc))
    if body.count >= packLimit { try writePack() }
    return oid
  }

  /// Writes what was taken since the last pack; afterwards every blob added is in the database.
  public func finish() throws {
    if !entries.isEmpty { try writePack() }
  }

  // MARK: - Writing

  private func writePack() throws {
    var header: [UInt8] = Array("PACK".utf8)
    appendBigEndian(UInt32(2), to: &header)
    appendBigEndian(UInt32(entries.count), to: &header)
    var hasher = Insecure.SHA1()
    hasher.update(data: header)
    hasher.update(data: body)
    let checksum = Array(hasher.finalize())
    let name = "pack-" + checksum.withUnsafeBytes { OID(bytes: $0) }.hex
    let folder = repository.commonDirectory + "/objects/pack"
    try Self.writeFile(folder: folder, name: name + ".pack", [header, body, checksum])
    try Self.writeFile(folder: folder, name: name + ".idx", [index(packChecksum: checksum)])
    packs.append(name)
    objectCount += entries.count
    body = []
    entries = []
  }

  /// The version-2 index of the pack under way.
  private func index(packChecksum: [UInt8]) -> [UInt8] {
    let sorted = entries.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    var out: [UInt8] = [0xFF, 0x74, 0x4F, 0x63]  // "\377tOc"
    appendBigEndian(UInt32(2), to: &out)
    var fanout = [UInt32](repeating: 0, count: 256)
    for entry in sorted { fanout[Int(entry.name[0])] += 1 }
    var running: UInt32 = 0
    for byte in 0..<256 {
      running += fanout[byte]
      appendBigEndian(running, to: &out)
    }
    for entry in sorted { out += entry.name }
    for entry in sorted { appendBigEndian(entry.crc, to: &out) }
    for entry in sorted { appendBigEndian(entry.offset, to: &out) }
    out += packChecksum
    var hasher = Insecure.SHA1()
    hasher.update(data: out)
    out += Array(hasher.finalize())
    return out
  }

  /// Writes `pieces` to a temporary file in `folder`, read-only as git makes its packs, and renames it to `name`.
  private static func writeFile(folder: String, name: String, _ pieces: [[UInt8]]) throws {
    var template = Array((folder + "/tmp_pack_XXXXXX").utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard descriptor >= 0 else { throw PackWriterError.io(path: folder, reason: String(cString: strerror(errno))) }
    let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var failure: String?
    for piece in pieces {
      if let code = piece.withUnsafeBytes({ writeAll(descriptor, $0) }) {
        failure = String(cString: strerror(code))
        break
      }
    }
    fchmod(descriptor, 0o444)
    if close(descriptor) != 0, failure == nil { failure = String(cString: strerror(errno)) }
    if failure == nil, rename(temporary, folder + "/" + name) != 0 { failure = String(cString: strerror(errno)) }
    if let failure {
      unlink(temporary)
      throw PackWriterError.io(path: folder + "/" + name, reason: failure)
    }
  }

  /// A pack entry's header: the type in bits 4-6 of the first byte, the size in 4 bits, then 7 bits a byte.
  static func appendHeader(type: UInt8, size: Int, to out: inout [UInt8]) {
    var size = size
    var byte = (type << 4) | UInt8(size & 0x0F)
    size >>= 4
    while size > 0 {
      out.append(byte | 0x80)
      byte = UInt8(size & 0x7F)
      size >>= 7
    }
    out.append(byte)
  }

  static func deflate(_ data: Data, into out: inout [UInt8]) throws {
    let bound = Int(compressBound(uLong(data.count)))
    let start = out.count
    out += [UInt8](repeating: 0, count: bound)
    var length = uLongf(bound)
    let code = out.withUnsafeMutableBufferPointer { buffer in
      data.withUnsafeBytes { source in
        compress2(
          buffer.baseAddress! + start, &length, source.bindMemory(to: Bytef.self).baseAddress, uLong(data.count), 1)
      }
    }
    guard code == Z_OK else { throw PackWriterError.compression(code: Int(code)) }
    out.removeLast(bound - Int(length))
  }
}

public enum PackWriterError: Error, LocalizedError, Equatable {
  case io(path: String, reason: String)
  case compression(code: Int)

  public var errorDescription: String? {
    switch self {
    case .io(let path, let reason): "cannot write \(path): \(reason)"
    case .compression(let code): "zlib could not compress an object (error \(code))"
    }
  }
}
