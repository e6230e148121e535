/*
 * sha256.c — galaxy's one SHA-256, on PostgreSQL's cryptohash API.
 */
#include "postgres.h"

#include "common/cryptohash.h"

#include "util/sha256.h"

/* SHA-256 of a buffer into out; ERROR if it cannot be computed. */
void
galaxy_sha256(const void *data, Size len, uint8 *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(ctx, out, GALAXY_SHA256_LEN) < 0)
	{
		const char *why = ctx ? pg_cryptohash_error(ctx) : "out of memory";

		if (ctx)
			pg_cryptohash_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute SHA-256: %s", why)));
	}
	pg_cryptohash_free(ctx);
}

/* Lower-case hex text of n bytes (palloc'd). */
char *
galaxy_hex(const uint8 *bytes, int n)
{
	static const char digits[] = "0123456789abcdef";
	char	   *s = palloc(2 * n + 1);

	for (int i = 0; i < n; i++)
	{
		s[2 * i] = digits[bytes[i] >> 4];
		s[2 * i + 1] = digits[bytes[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}
