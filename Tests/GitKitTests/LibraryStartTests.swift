import Foundation
import Testing

@testable import GitKit

#if canImport(Glibc)
  import Glibc
#endif

@Suite("libgit2's start")
struct LibraryStartTests {
  /// Whether this libgit2 does its TLS with mbedTLS (Debian's build): its CA bundle loader is bound then.
  static let usesMbedTLS: Bool = {
    #if os(Linux)
      _ = libgit2
      return dlsym(nil, "mbedtls_x509_crt_init") != nil
    #else
      return false
    #endif
  }()

  @Test(
    "libgit2 starts without parsing the CA bundle; loading certificates afterwards reaches mbedTLS",
    .enabled(if: usesMbedTLS))
  func certificatesNotParsedAtStart() throws {
    #expect(libgit2CertificateLoadsSkipped == 1)
    // Were the loads still skipped, a file that does not exist would be "loaded" too.
    #expect(throws: GitError.self) { try libgit2LoadCertificates(file: "/nonexistent/ca-certificates.crt") }
    let bundle = "/etc/ssl/certs/ca-certificates.crt"
    if FileManager.default.fileExists(atPath: bundle) {
      try libgit2LoadCertificates(file: bundle)
    }
    #expect(libgit2CertificateLoadsSkipped == 1)
  }
}
