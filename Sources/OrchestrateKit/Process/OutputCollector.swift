import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads a command's output, passing it on live and keeping only a bounded tail plus a byte count.
///
/// Only the reader thread touches it until that thread has been joined, which is what makes the
/// unchecked Sendable conformance sound.
final class OutputCollector: @unchecked Sendable {
  private let limit: Int
  private let logDescriptor: Int32
  private let handler: (@Sendable (Data) -> Void)?
  private var tail: [UInt8] = []
  private(set) var totalBytes = 0

  init(limit: Int, logDescriptor: Int32, handler: (@Sendable (Data) -> Void)?) {
    self.limit = limit
    self.logDescriptor = logDescriptor
    self.handler = handler
  }

  /// Reads until end of file, or until the wake descriptor becomes readable (then drains what is buffered).
  func collect(from descriptor: Int32, wake: Int32) {
    let size = 65536
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
    defer { buffer.deallocate() }
    var fds = [
      pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
      pollfd(fd: wake, events: Int16(POLLIN), revents: 0),
    ]
    while true {
      // Drain everything available before blocking again.
      while true {
        let count = read(descriptor, buffer.baseAddress, size)
        if count > 0 {
          append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        } else if count == 0 {
          return
        } else if errno == EINTR {
          continue
        } else if errno == EAGAIN || errno == EWOULDBLOCK {
          break
        } else {
          return
        }
      }
      if fds[1].revents != 0 { return }
      fds[0].revents = 0
      fds[1].revents = 0
      if poll(&fds, 2, -1) < 0, errno != EINTR { return }
    }
  }

  func append(_ bytes: UnsafeRawBufferPointer) {
    totalBytes += bytes.count
    if logDescriptor >= 0, let base = bytes.baseAddress {
      var offset = 0
      while offset < bytes.count {
        let written = write(logDescriptor, base + offset, bytes.count - offset)
        if written > 0 {
          offset += written
        } else if written < 0, errno == EINTR {
          continue
        } else {
          break  // a full disk must not stop the command; the tail still has the end
        }
      }
    }
    handler?(Data(bytes))
    guard limit > 0 else { return }
    if bytes.count >= limit {
      tail = Array(bytes.suffix(limit))
    } else {
      tail.append(contentsOf: bytes)
      // Trim in batches so that appending stays amortised O(1) per byte.
      if tail.count > 2 * limit { tail.removeFirst(tail.count - limit) }
    }
  }

  /// The last `limit` bytes as lossy UTF-8; a character cut in half at the start is dropped.
  func tailString() -> String {
    var bytes = tail.suffix(limit)
    if totalBytes > bytes.count {
      while let first = bytes.first, first & 0xC0 == 0x80 { bytes.removeFirst() }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
