#ifndef CGIT2START_H
#define CGIT2START_H

/* Ends the deferral of the CA bundle (certificates.c): called right after git_libgit2_init. */
void cgit2_certificates_loaded_normally(void);
/* How many certificate loads the deferral skipped in git_libgit2_init (1 where libgit2 uses mbedTLS). */
int cgit2_certificate_loads_skipped(void);

#endif
