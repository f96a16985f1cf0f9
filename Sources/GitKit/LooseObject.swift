internal import CGit2
import Foundation

/// A loose blob read from its file and inflated with zlib a piece at a time: the content of a file
/// of any size passes through one buffer.
///
/// libgit2 1.5 holds a large loose object in memory either way it reads one: `git_blob_lookup`
/// reads the compressed file whole and inflates it whole (twice the file), and
/// `git_odb_open_rstream` maps the compressed file whole, which counts in the process's memory as
/// it is read (as large as the file itself for content that does not compress). Here the file is
/// read with `read` into a small buffer and inflated into another.
enum LooseObject {
  /// Bytes read from the compressed file at once.
  static let inputSize = 64 << 10

  /// Streams the loose blob `oid` of `objectsDirectory` to `body`.
  /// - Returns: the blob's size; nil when there is no such file, or it is not a blob in the
  ///   standard loose format (nothing was handed to `body` then: libgit2 reads it instead).
  /// - Throws: `GitError` for a file that fails to inflate once its header was read, or whose
  ///   content is shorter or longer than its header says; whatever `body` throws.
  static func streamBlob(
    _ oid: OID, objectsDirectory: String, pieceSize: Int, _ body: (UnsafeRawBufferPointer) throws -> Void
  ) throws -> Int? {
    let hex = oid.hex
    let path = objectsDirectory + "/" + hex.prefix(2) + "/" + hex.dropFirst(2)
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var stream = z_stream()
    guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    let input = UnsafeMutablePointer<UInt8>.allocate(capacity: inputSize)
    defer { input.deallocate() }
    let output = UnsafeMutablePointer<UInt8>.allocate(capacity: pieceSize)
    defer { output.deallocate() }

    var size: Int?  // from the header, once read
    var header: [UInt8] = []
    var done = 0
    var ended = false
    while !ended {
      if stream.avail_in == 0 {
        let count = read(fd, input, inputSize)
        if count < 0 {
          if errno == EINTR { continue }
          guard size != nil else { return nil }
          throw damaged(hex, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if count == 0 {
          guard size != nil else { return nil }
          throw damaged(hex, "the file ends before the object does")
        }
        stream.next_in = input
        stream.avail_in = uInt(count)
      }
      stream.next_out = output
      stream.avail_out = uInt(pieceSize)
      let status = inflate(&stream, Z_NO_FLUSH)
      guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
        guard size != nil else { return nil }
        throw damaged(hex, "it does not inflate (zlib status \(status))")
      }
      ended = status == Z_STREAM_END
      var piece = UnsafeRawBufferPointer(start: output, count: pieceSize - Int(stream.avail_out))
      if size == nil {
        // "blob <size>\0" comes first; anything else is left to libgit2.
        guard let end = piece.firstIndex(of: 0) else {
          header += piece
          guard header.count < 32, !ended else { return nil }
          continue
        }
        header += piece[..<end]
        piece = UnsafeRawBufferPointer(rebasing: piece[(end + 1)...])
        let text = String(decoding: header, as: UTF8.self)
        guard text.hasPrefix("blob "), let declared = Int(text.dropFirst(5)), declared >= 0 else { return nil }
        size = declared
      }
      guard let size else { continue }
      guard done + piece.count <= size else { throw damaged(hex, "it holds more than the \(size) bytes it declares") }
      if !piece.isEmpty { try body(piece) }
      done += piece.count
    }
    guard let size, done == size else {
      throw damaged(hex, "it holds \(done) of the \(size ?? 0) bytes it declares")
    }
    return size
  }

  private static func damaged(_ hex: String, _ reason: String) -> GitError {
    GitError(
      code: GIT_ERROR.rawValue, errorClass: Int32(GIT_ERROR_ZLIB.rawValue), function: "readBlob",
      message: "the loose object \(hex) is damaged: \(reason); run 'git fsck'")
  }
}
