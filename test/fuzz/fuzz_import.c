/*
 * fuzz_import.c — libFuzzer target for galaxy.import_model()'s bytea: the
 * export format reader, export_parse() in src/registry/export_format.c (the
 * part of import that runs before any catalog access).
 *
 * Each input is read twice:
 *   1. as it is: mutations mostly stop at the container checks (magic,
 *      version, flags, lengths, SHA-256);
 *   2. repaired: when the metadata length fits, the model length field is set
 *      to the bytes up to the trailer (SHA-256, and in version 2 the HMAC,
 *      which export_parse does not check), the model value's CRC-32C and the
 *      export's SHA-256 are recomputed, so mutations reach the metadata JSON, the model
 *      reader and the metadata-versus-model checks.
 *
 * An accepted export must hold what it says: building an unsigned export
 * again from its metadata text and model bytes (export_build) gives the same
 * content (and for version 1 the same bytes), and
 * the model is used as fuzz_model uses one (predict, re-serialise).  An
 * ERROR with an unexpected SQLSTATE is a finding (fuzz_common.c).
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "pg_shim.h"
#include "registry/export_format.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bytes after the model: SHA-256, and in version 2 the HMAC too. */
static size_t
trailer_len(const uint8 *buf)
{
	return (buf[8] == 2 && buf[9] == 0) ? 2 * EXPORT_HASH_LEN : EXPORT_HASH_LEN;
}

static uint32
get_le32(const uint8 *p)
{
	return (uint32) p[0] | ((uint32) p[1] << 8) | ((uint32) p[2] << 16) | ((uint32) p[3] << 24);
}

static void
put_le32(uint8 *p, uint32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8) (v >> (8 * i));
}

/* Parse one export; check what an accepted one holds. */
static void
parse_one(const uint8 *buf, size_t size, const char *where)
{
	ExportContents ex;
	volatile bool ok = false;

	PG_TRY();
	{
		export_parse((const char *) buf, size, &ex);
		ok = true;
	}
	PG_CATCH();
	{
		fuzz_check_error(where);
	}
	PG_END_TRY();
	if (!ok)
		return;

	/* the export is its metadata and model, and nothing else */
	{
		uint32		mlen = get_le32(buf + 12);
		char	   *metatext = palloc(mlen + 1);
		uint8		digest[EXPORT_HASH_LEN];
		bytea	   *again;

		memcpy(metatext, buf + 16, mlen);
		metatext[mlen] = '\0';
		if (ex.model_bytes != (const char *) buf + 16 + mlen + 4 ||
			ex.content_len != 16 + 4 + (Size) mlen + ex.model_len ||
			ex.content_len + trailer_len(buf) != size)
			fuzz_finding("%s: the model value is not where the lengths say", where);
		if (!JB_ROOT_IS_OBJECT(ex.meta) || JB_ROOT_IS_SCALAR(ex.meta))
			fuzz_finding("%s: accepted metadata that is not an object", where);
		PG_TRY();
		{
			again = export_build(metatext, ex.model_bytes, ex.model_len, NULL, 0, digest);
		}
		PG_CATCH();
		{
			fuzz_finding("%s: building an accepted export again failed: %s", where,
						 shim_last_message());
		}
		PG_END_TRY();
		/* version 1 again, unsigned: same content after the version and flags */
		if (VARSIZE(again) - VARHDRSZ != ex.content_len + EXPORT_HASH_LEN ||
			memcmp(VARDATA(again) + 12, buf + 12, ex.content_len - 12) != 0 ||
			(ex.version == 1 && (memcmp(VARDATA(again), buf, size) != 0 ||
								 memcmp(digest, ex.digest, EXPORT_HASH_LEN) != 0)))
			fuzz_finding("%s: an accepted export does not build again to the same bytes", where);
	}
	fuzz_use_model(ex.model);
}

/* Make the lengths, model checksum and SHA-256 consistent, when possible. */
static bool
repair(uint8 *buf, size_t size)
{
	uint32		mlen;
	uint32		vlen;
	uint8		digest[EXPORT_HASH_LEN];
	volatile bool ok = true;

	if (size < 16 + 4 + 2 * EXPORT_HASH_LEN)
		return false;
	mlen = get_le32(buf + 12);
	if ((size_t) mlen > size - (16 + 4 + trailer_len(buf)))
		return false;
	vlen = (uint32) (size - (16 + 4 + trailer_len(buf)) - mlen);
	put_le32(buf + 16 + mlen, vlen);
	fuzz_repair_model_checksum(buf + 16 + mlen + 4, vlen);
	PG_TRY();
	{
		galaxy_sha256((const char *) buf, 16 + 4 + (Size) mlen + vlen, digest);
	}
	PG_CATCH();
	{
		fuzz_check_error("export_sha256");
		ok = false;
	}
	PG_END_TRY();
	if (ok)
		memcpy(buf + 16 + 4 + mlen + vlen, digest, EXPORT_HASH_LEN);
	return ok;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup("fuzz_import");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8	   *buf = malloc(size > 0 ? size : 1);

	memcpy(buf, data, size);
	parse_one(buf, size, "export_parse");
	shim_free_all();

	if (repair(buf, size))
		parse_one(buf, size, "export_parse (repaired)");
	shim_free_all();
	free(buf);
	return 0;
}
