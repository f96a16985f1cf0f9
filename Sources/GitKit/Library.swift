internal import CGit2
internal import CGit2Start
import Foundation

/// Initialises libgit2 once per process, on first use.
///
/// A global `let` is initialised lazily and atomically by Swift, so every entry point that needs libgit2
/// touches it (`_ = libgit2`) and the library is set up exactly once, on any thread.
let libgit2: Void = {
  // Without parsing the CA bundle: GitKit opens no TLS connection (Sources/CGit2Start/certificates.c).
  git_libgit2_init()
  cgit2_certificates_loaded_normally()
  // Bound what libgit2 keeps in memory: pack windows are mapped 8 MiB at a time, at most 32 MiB
  // of them at once, and the object cache holds at most 16 MiB. A run over a 100,000-file
  // repository reads every blob once when it creates its working directory; without these limits
  // the mapped packs and cached objects alone would take most of the 100 MB a run may use.
  _ = cgit2_set_mwindow_size(8 << 20)
  _ = cgit2_set_mwindow_mapped_limit(32 << 20)
  _ = cgit2_set_cache_max_size(16 << 20)
  // Like git itself, do not re-hash every object read to check its id (`git fsck` does that); it
  // was a twentieth of the time of `status` and `verify`.
  _ = cgit2_set_strict_hash_verification(0)
}()

/// How many CA bundle loads libgit2's start skipped: 1 where libgit2 uses mbedTLS (Debian's), 0 elsewhere.
var libgit2CertificateLoadsSkipped: Int {
  _ = libgit2
  return Int(cgit2_certificate_loads_skipped())
}

/// Points libgit2's TLS at a CA bundle file, loading it now.
/// - Throws: `GitError` when the file cannot be loaded.
func libgit2LoadCertificates(file: String) throws {
  _ = libgit2
  try check(cgit2_set_ssl_cert_file(file), "git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS)")
}

/// Throws a `GitError` when `code` is a libgit2 failure code.
///
/// Must run right after the failing call, on the same thread: libgit2 keeps its last error per thread.
func check(_ code: Int32, _ function: StaticString) throws {
  guard code < 0 else { return }
  throw lastError(code, "\(function)")
}

/// The thread's last libgit2 error as a `GitError`, for a failure code that needs handling before it is thrown.
func lastError(_ code: Int32, _ function: String) -> GitError {
  let last = git_error_last()
  let message = last.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "unknown error"
  let errorClass = last.map { $0.pointee.klass } ?? 0
  return GitError(code: code, errorClass: errorClass, function: function, message: message)
}

/// Calls `body` with a `git_strarray` holding copies of `strings`.
func withStringArray<R>(_ strings: [String], _ body: (inout git_strarray) throws -> R) rethrows -> R {
  var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
  defer { for pointer in pointers { free(pointer) } }
  return try pointers.withUnsafeMutableBufferPointer { buffer in
    var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
    return try body(&array)
  }
}

/// Copies a `git_buf`'s contents out as a string.
func string(from buffer: git_buf) -> String {
  guard let pointer = buffer.ptr, buffer.size > 0 else { return "" }
  return String(decoding: UnsafeRawBufferPointer(start: pointer, count: buffer.size), as: UTF8.self)
}

/// Removes one trailing slash, the way libgit2 reports directories.
func trimmingTrailingSlash(_ path: String) -> String {
  path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
}
