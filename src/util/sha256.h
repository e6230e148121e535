/*
 * sha256.h — galaxy's one SHA-256 (audit chain, export checksums, schema
 * fingerprints) and hex text of digests.
 */
#ifndef GALAXY_SHA256_H
#define GALAXY_SHA256_H

#define GALAXY_SHA256_LEN 32

/* SHA-256 of a buffer into out (GALAXY_SHA256_LEN bytes); ERROR if it cannot be computed. */
extern void galaxy_sha256(const void *data, Size len, uint8 *out);

/* Lower-case hex text of n bytes (palloc'd). */
extern char *galaxy_hex(const uint8 *bytes, int n);

#endif							/* GALAXY_SHA256_H */
