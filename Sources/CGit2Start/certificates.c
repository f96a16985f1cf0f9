/*
 * libgit2 as Debian builds it (with mbedTLS) parses the whole CA bundle,
 * /etc/ssl/certs/ca-certificates.crt (some 140 certificates, base64 and X.509), inside
 * git_libgit2_init: about 4 ms of every command's start, `status` and the pre-push hook included.
 * GitKit never uses libgit2's transports (no fetch, push or clone: the user's git does those), so
 * the bundle is not read while libgit2 starts. These two definitions interpose mbedTLS's (an
 * executable's symbols come first when libgit2 binds its calls): during git_libgit2_init they load
 * nothing and report success; after it, every call goes to mbedTLS. Were GitKit ever to open a TLS
 * connection, it would set the locations first (GIT_OPT_SET_SSL_CERT_LOCATIONS, which calls these
 * again, for real); until then, with no certificate loaded, a connection would be refused, never
 * trusted. Where libgit2 uses another TLS library (macOS, OpenSSL builds), nothing calls them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include "cgit2start.h"

static int deferring = 1;
static int skipped = 0;

typedef int (*parse_function)(void *chain, const char *path);

static int forward(const char *name, void *chain, const char *path) {
  parse_function real = (parse_function)dlsym(RTLD_NEXT, name);
  /* MBEDTLS_ERR_X509_FILE_IO_ERROR: what mbedTLS says when it cannot read the file. */
  return real ? real(chain, path) : -0x2900;
}

int mbedtls_x509_crt_parse_file(void *chain, const char *path) {
  if (deferring) {
    skipped++;
    return 0;
  }
  return forward("mbedtls_x509_crt_parse_file", chain, path);
}

int mbedtls_x509_crt_parse_path(void *chain, const char *path) {
  if (deferring) {
    skipped++;
    return 0;
  }
  return forward("mbedtls_x509_crt_parse_path", chain, path);
}

void cgit2_certificates_loaded_normally(void) { deferring = 0; }

int cgit2_certificate_loads_skipped(void) { return skipped; }
