/*
 * export_format.h — the byte format of galaxy.export_model() values: writing
 * one, and reading and validating one for galaxy.import_model().
 *
 * Pure format code (no SPI, no catalog), so that the fuzz target
 * test/fuzz/fuzz_import.c compiles it as it is.  The layout is described in
 * export_format.c.
 */
#ifndef GALAXY_EXPORT_FORMAT_H
#define GALAXY_EXPORT_FORMAT_H

#include "model/model.h"
#include "utils/jsonb.h"

#include "util/sha256.h"

#define EXPORT_HASH_LEN GALAXY_SHA256_LEN

/* What a valid export holds (pointers into the export or palloc'd). */
typedef struct ExportContents
{
	Jsonb	   *meta;			/* the metadata, a JSON object */
	const char *model_bytes;	/* the galaxy.model value, inside the export */
	uint32		model_len;
	GalaxyModel *model;			/* that value, parsed and validated */
	char	   *schema_fingerprint; /* of the model's inputs */
	uint8		digest[EXPORT_HASH_LEN];	/* SHA-256 of the content */
	int			version;		/* format version: 1 (unsigned) or 2 (signed) */
	Size		content_len;	/* bytes covered by the checksum and signature */
	const uint8 *mac;			/* version 2: the HMAC-SHA256 inside the export */
} ExportContents;


/* HMAC-SHA256 of a buffer under key; ERROR if it cannot be computed. */
extern void export_hmac(const uint8 *key, Size keylen, const char *data, Size len, uint8 *out);

/*
 * An export of the metadata (JSON text) and model value (its bytes), with
 * its SHA-256 in 'digest': version 2, signed with HMAC-SHA256 under key, or
 * version 1 (unsigned) when key is NULL.
 */
extern bytea *export_build(const char *metadata, const char *model, uint32 model_len,
						   const uint8 *key, Size keylen, uint8 *digest);

/* Whether a parsed export (data, ex) carries a valid signature under key. */
extern bool export_signed_by(const char *data, const ExportContents *ex,
							 const uint8 *key, Size keylen);

/*
 * Validate an export: container (magic, version, flags, lengths, checksum),
 * metadata (a JSON object), the model value (model_parse with its checksum)
 * and that the metadata describes that model.  ERROR on any mismatch.
 */
extern void export_parse(const char *data, Size len, ExportContents *out);

/* A member of the metadata object (NULL if absent). */
extern JsonbValue *export_meta_get(Jsonb *meta, const char *key);

#endif							/* GALAXY_EXPORT_FORMAT_H */
