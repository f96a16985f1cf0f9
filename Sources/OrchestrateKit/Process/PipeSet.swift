#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The pipes of one run: input (optional), merged output, and a wake pipe to stop the helper threads.
///
/// Every descriptor is close-on-exec so that commands spawned concurrently by other threads
/// never inherit another command's pipe (which would keep its output open after it exits).
struct PipeSet: Sendable {
  var inputRead: Int32 = -1
  var inputWrite: Int32 = -1
  var outputRead: Int32 = -1
  var outputWrite: Int32 = -1
  var wakeRead: Int32 = -1
  var wakeWrite: Int32 = -1

  init(withInput: Bool, command: String) throws {
    do {
      (outputRead, outputWrite) = try Self.makePipe(command: command)
      (wakeRead, wakeWrite) = try Self.makePipe(command: command)
      if withInput {
        (inputRead, inputWrite) = try Self.makePipe(command: command)
        _ = fcntl(inputWrite, F_SETFL, fcntl(inputWrite, F_GETFL) | O_NONBLOCK)
      }
      _ = fcntl(outputRead, F_SETFL, fcntl(outputRead, F_GETFL) | O_NONBLOCK)
    } catch {
      closeAll()
      throw error
    }
  }

  /// Closes the ends the child got copies of, so that end-of-file arrives when the child's copies close.
  func closeChildEnds() {
    for descriptor in [inputRead, outputWrite] where descriptor >= 0 { close(descriptor) }
  }

  /// Closes the ends the parent kept (the input's write end is closed by its writer thread).
  func closeParentEnds() {
    for descriptor in [outputRead, wakeRead, wakeWrite] where descriptor >= 0 { close(descriptor) }
  }

  func closeAll() {
    for descriptor in [inputRead, inputWrite, outputRead, outputWrite, wakeRead, wakeWrite]
    where descriptor >= 0 {
      close(descriptor)
    }
  }

  /// Makes the wake pipe readable for good, which tells the reader and writer threads to stop.
  func wake() {
    var byte: UInt8 = 1
    _ = write(wakeWrite, &byte, 1)
  }

  private static func makePipe(command: String) throws -> (Int32, Int32) {
    var fds: [Int32] = [-1, -1]
    let code: Int32
    if let pipe2 = pipeWithFlags {
      code = pipe2(&fds, O_CLOEXEC)
    } else {
      // Not atomic: a process spawned by another thread in between could inherit these.
      code = pipe(&fds)
      if code == 0 {
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
      }
    }
    guard code == 0 else {
      throw ProcessRunnerError.spawnFailed(command: command, reason: errnoDescription())
    }
    return (fds[0], fds[1])
  }
}

private typealias PipeWithFlagsFunction =
  @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

/// pipe2, looked up at run time because Glibc only declares it under _GNU_SOURCE (and macOS lacks it).
private let pipeWithFlags: PipeWithFlagsFunction? = {
  #if canImport(Glibc)
    guard let symbol = dlsym(nil, "pipe2") else { return nil }
    return unsafeBitCast(symbol, to: PipeWithFlagsFunction.self)
  #else
    return nil
  #endif
}()
