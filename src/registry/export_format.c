/*
 * export_format.c — the byte format of galaxy.export_model() values.
 *
 * Export format (all integers little-endian):
 *
 *   offset  size  field
 *        0     8  magic "GLXEXPRT"
 *        8     2  format version (2; version 1 is still read)
 *       10     2  flags (version 2: 0x0001 "signed"; version 1: 0)
 *       12     4  M = metadata length
 *       16     M  metadata: UTF-8 JSON object (algorithm, task, features,
 *                 feature_types, target, label_type, hyperparams,
 *                 hyperparams_given, preprocess, metrics, schema_fingerprint,
 *                 data_fingerprint, training_rows, test_rows, seed, source)
 *     16+M     4  L = model length
 *     20+M     L  the galaxy.model value (as galaxy.model_send sends it)
 *   20+M+L    32  SHA-256 of bytes [0, 20+M+L)
 *   52+M+L    32  version 2 only: HMAC-SHA256 of bytes [0, 20+M+L) under
 *                 the exporting cluster's export key (see export.c)
 *
 * Reading checks the magic, version, lengths and checksum, then parses and
 * validates the model value itself (model_parse), and checks that the
 * metadata describes that model (algorithm, task, inputs, schema
 * fingerprint).  No SPI and no catalog access here: export.c does that, and
 * test/fuzz/fuzz_import.c fuzzes this file as it is.
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/hmac.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "algo/algo.h"
#include "data/data_internal.h"
#include "data/dataset.h"
#include "model/model.h"
#include "model/modelio.h"
#include "registry/export_format.h"

#define EXPORT_MAGIC "GLXEXPRT"
#define EXPORT_MAGIC_LEN 8
#define EXPORT_FORMAT_VERSION 2
#define EXPORT_FLAG_SIGNED 0x0001
#define EXPORT_MAX_METADATA ((Size) 64 * 1024 * 1024)

/* Little-endian readers over a validated range. */
static uint16
le16(const char *p)
{
	const unsigned char *u = (const unsigned char *) p;

	return (uint16) (u[0] | (u[1] << 8));
}

static uint32
le32(const char *p)
{
	const unsigned char *u = (const unsigned char *) p;

	return (uint32) u[0] | ((uint32) u[1] << 8) | ((uint32) u[2] << 16) | ((uint32) u[3] << 24);
}

/* HMAC-SHA256 of a buffer under key; ERROR if it cannot be computed. */
void
export_hmac(const uint8 *key, Size keylen, const char *data, Size len, uint8 *out)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);

	if (ctx == NULL || pg_hmac_init(ctx, key, keylen) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_hmac_final(ctx, out, EXPORT_HASH_LEN) < 0)
	{
		const char *why = ctx ? pg_hmac_error(ctx) : "out of memory";

		if (ctx)
			pg_hmac_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute HMAC-SHA256: %s", why)));
	}
	pg_hmac_free(ctx);
}

/* Whether an export's signature was made under key (constant-time compare). */
bool
export_signed_by(const char *data, const ExportContents *ex, const uint8 *key, Size keylen)
{
	uint8		mac[EXPORT_HASH_LEN];
	uint8		diff = 0;

	if (ex->mac == NULL)
		return false;
	export_hmac(key, keylen, data, ex->content_len, mac);
	for (int i = 0; i < EXPORT_HASH_LEN; i++)
		diff |= mac[i] ^ ex->mac[i];
	return diff == 0;
}

/*
 * An export of the metadata text and model bytes, with its SHA-256 in
 * digest; signed (version 2) under key, or version 1 when key is NULL.
 */
bytea *
export_build(const char *metadata, const char *model, uint32 model_len,
			 const uint8 *key, Size keylen, uint8 *digest)
{
	ModelWriter w;
	bytea	   *result;
	Size		content_len;

	mw_init(&w);
	mw_bytes(&w, EXPORT_MAGIC, EXPORT_MAGIC_LEN);
	mw_u16(&w, key ? EXPORT_FORMAT_VERSION : 1);
	mw_u16(&w, key ? EXPORT_FLAG_SIGNED : 0);
	mw_u32(&w, (uint32) strlen(metadata));
	mw_bytes(&w, metadata, strlen(metadata));
	mw_u32(&w, model_len);
	mw_bytes(&w, model, model_len);
	content_len = w.buf.len;
	galaxy_sha256(w.buf.data, content_len, digest);
	mw_bytes(&w, digest, EXPORT_HASH_LEN);
	if (key)
	{
		uint8		mac[EXPORT_HASH_LEN];

		export_hmac(key, keylen, w.buf.data, content_len, mac);
		mw_bytes(&w, mac, EXPORT_HASH_LEN);
	}

	result = palloc(VARHDRSZ + w.buf.len);
	SET_VARSIZE(result, VARHDRSZ + w.buf.len);
	memcpy(VARDATA(result), w.buf.data, w.buf.len);
	return result;
}

/* ERROR 22P03 about a malformed export. */
static void
bad_export(const char *fmt,...)
pg_attribute_printf(1, 2) pg_attribute_noreturn();

static void
bad_export(const char *fmt,...)
{
	va_list		ap;
	StringInfoData s;

	initStringInfo(&s);
	for (;;)
	{
		int			needed;

		va_start(ap, fmt);
		needed = appendStringInfoVA(&s, fmt, ap);
		va_end(ap);
		if (needed == 0)
			break;
		enlargeStringInfo(&s, needed);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid galaxy model export: %s", s.data)));
}

/* A member of the metadata object (NULL if absent). */
JsonbValue *
export_meta_get(Jsonb *meta, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(&meta->root, JB_FOBJECT, &k);
}

/* A string member that must be present. */
static char *
meta_str(Jsonb *meta, const char *key)
{
	JsonbValue *v = export_meta_get(meta, key);

	if (v == NULL || v->type != jbvString)
		bad_export("metadata field \"%s\" must be a string", key);
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Require a member to be a JSON object (or null when nullable). */
static void
meta_require_object(Jsonb *meta, const char *key, bool nullable)
{
	JsonbValue *v = export_meta_get(meta, key);

	if (v == NULL)
		bad_export("metadata field \"%s\" is missing", key);
	if (v->type == jbvNull && nullable)
		return;
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		bad_export("metadata field \"%s\" must be a JSON object", key);
}

/* The i-th string of an array member (validated length n). */
static char **
meta_str_array(Jsonb *meta, const char *key, int n)
{
	JsonbValue *v = export_meta_get(meta, key);
	char	  **out;

	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		bad_export("metadata field \"%s\" must be an array", key);
	if ((int) JsonContainerSize(v->val.binary.data) != n)
		bad_export("metadata field \"%s\" has %u entries, the model has %d inputs",
				   key, JsonContainerSize(v->val.binary.data), n);
	out = palloc(sizeof(char *) * n);
	for (int i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(v->val.binary.data, i);

		if (e == NULL || e->type != jbvString)
			bad_export("metadata field \"%s\" entry %d is not a string", key, i + 1);
		out[i] = pnstrdup(e->val.string.val, e->val.string.len);
	}
	return out;
}

/* Validate an export and describe what it holds. */
void
export_parse(const char *p, Size len, ExportContents *out)
{
	uint32		mlen;
	uint32		vlen;
	uint16		version;
	char	   *metatext;
	Jsonb	   *meta;
	const char *vbytes;
	GalaxyModel *gm;
	int			n_in;
	char	  **features;
	char	  **types;
	Size		trailer;
	const char **names;
	const char **typnames;
	int		   *widths;
	char	   *fingerprint;

	/* container: magic, version, lengths, checksum */
	if (len < EXPORT_MAGIC_LEN || memcmp(p, EXPORT_MAGIC, EXPORT_MAGIC_LEN) != 0)
		bad_export("it does not start with the magic \"%s\"", EXPORT_MAGIC);
	if (len < 16)
		bad_export("%zu bytes is too short", len);
	version = le16(p + 8);
	if (version != 1 && version != EXPORT_FORMAT_VERSION)
		bad_export("format version %u is not supported (this galaxy reads versions 1 and %d)",
				   version, EXPORT_FORMAT_VERSION);
	if (le16(p + 10) != (version == 1 ? 0 : EXPORT_FLAG_SIGNED))
		bad_export("unknown flags 0x%04x", le16(p + 10));
	trailer = version == 1 ? EXPORT_HASH_LEN : 2 * EXPORT_HASH_LEN;
	if (len < 16 + 4 + trailer)
		bad_export("%zu bytes is too short", len);
	mlen = le32(p + 12);
	if ((Size) mlen > EXPORT_MAX_METADATA || (Size) mlen > len - (16 + 4 + trailer))
		bad_export("metadata length %u does not fit in %zu bytes", mlen, len);
	vlen = le32(p + 16 + mlen);
	if ((Size) vlen != len - (16 + 4 + trailer) - mlen)
		bad_export("model length %u does not match the %zu bytes left",
				   vlen, len - (16 + 4 + trailer) - mlen);
	out->version = version;
	out->content_len = 16 + 4 + (Size) mlen + vlen;
	out->mac = version == 1 ? NULL : (const uint8 *) (p + out->content_len + EXPORT_HASH_LEN);
	galaxy_sha256(p, out->content_len, out->digest);
	if (memcmp(out->digest, p + out->content_len, EXPORT_HASH_LEN) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("galaxy model export checksum mismatch: the data was modified or damaged"),
				 errdetail("SHA-256 of the content is %s, the export records %s.",
						   galaxy_hex(out->digest, GALAXY_SHA256_LEN),
						   galaxy_hex((const uint8 *) (p + out->content_len), GALAXY_SHA256_LEN))));

	/* metadata: a JSON object */
	metatext = pnstrdup(p + 16, mlen);
	if (strlen(metatext) != mlen)
		bad_export("metadata contains a NUL byte");
	meta = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(metatext)));
	if (!JB_ROOT_IS_OBJECT(meta))
		bad_export("metadata is not a JSON object");

	/* the model value itself, fully validated */
	vbytes = p + 16 + mlen + 4;
	gm = model_parse(vbytes, vlen, true);

	/* the metadata must describe that model */
	if (strcmp(meta_str(meta, "algorithm"), gm->algo->name) != 0)
		bad_export("metadata says algorithm \"%s\", the model is \"%s\"",
				   meta_str(meta, "algorithm"), gm->algo->name);
	if (strcmp(meta_str(meta, "task"), galaxy_task_name(gm->task)) != 0)
		bad_export("metadata says task \"%s\", the model is %s",
				   meta_str(meta, "task"), galaxy_task_name(gm->task));
	n_in = preprocess_n_inputs(gm->prep);
	features = meta_str_array(meta, "features", n_in);
	types = meta_str_array(meta, "feature_types", n_in);
	names = palloc(sizeof(char *) * n_in);
	typnames = palloc(sizeof(char *) * n_in);
	widths = palloc(sizeof(int) * n_in);
	for (int i = 0; i < n_in; i++)
	{
		const InputColumn *col = preprocess_input(gm->prep, i);

		if (strcmp(features[i], col->name) != 0 || strcmp(types[i], col->typname) != 0)
			bad_export("metadata input %d is %s %s, the model's is %s %s",
					   i + 1, features[i], types[i], col->name, col->typname);
		names[i] = col->name;
		typnames[i] = col->typname;
		widths[i] = col->width;
	}
	fingerprint = data_schema_fingerprint(n_in, names, typnames, widths);
	if (strcmp(meta_str(meta, "schema_fingerprint"), fingerprint) != 0)
		bad_export("metadata schema fingerprint %s does not match the model's inputs (%s)",
				   meta_str(meta, "schema_fingerprint"), fingerprint);
	meta_require_object(meta, "hyperparams", false);
	meta_require_object(meta, "hyperparams_given", false);
	meta_require_object(meta, "metrics", false);
	meta_require_object(meta, "preprocess", true);
	meta_require_object(meta, "source", true);

	out->meta = meta;
	out->model_bytes = vbytes;
	out->model_len = vlen;
	out->model = gm;
	out->schema_fingerprint = fingerprint;
}
