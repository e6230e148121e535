/*
 * export.c — moving a model between databases: galaxy.export_model() and
 * galaxy.import_model().
 *
 * Export format (all integers little-endian):
 *
 *   offset  size  field
 *        0     8  magic "GLXEXPRT"
 *        8     2  format version (1)
 *       10     2  flags (0)
 *       12     4  M = metadata length
 *       16     M  metadata: UTF-8 JSON object (algorithm, task, features,
 *                 feature_types, target, label_type, hyperparams,
 *                 hyperparams_given, preprocess, metrics, schema_fingerprint,
 *                 data_fingerprint, training_rows, test_rows, seed, source)
 *     16+M     4  L = model length
 *     20+M     L  the galaxy.model value (as galaxy.model_send sends it)
 *   20+M+L    32  SHA-256 of bytes [0, 20+M+L)
 *
 * Import checks the magic, version, lengths and checksum, then parses and
 * validates the model value itself (model_parse), checks that the metadata
 * describes that model (algorithm, task, inputs, schema fingerprint), and
 * registers a new version of the target project.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "api/train.h"
#include "data/data_internal.h"
#include "model/model.h"
#include "model/modelio.h"
#include "registry/audit.h"
#include "registry/deploy.h"
#include "registry/registry.h"
#include "util/catalog.h"

#define EXPORT_MAGIC "GLXEXPRT"
#define EXPORT_MAGIC_LEN 8
#define EXPORT_FORMAT_VERSION 1
#define EXPORT_HASH_LEN 32
#define EXPORT_MAX_METADATA ((Size) 64 * 1024 * 1024)

PG_FUNCTION_INFO_V1(galaxy_export_model);
PG_FUNCTION_INFO_V1(galaxy_import_model);

/* SHA-256 of a buffer. */
static void
sha256_bytes(const char *data, Size len, uint8 *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(ctx, out, EXPORT_HASH_LEN) < 0)
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

/* Hex text of a digest (palloc'd). */
static char *
digest_hex(const uint8 *h)
{
	char	   *s = palloc(EXPORT_HASH_LEN * 2 + 1);

	for (int i = 0; i < EXPORT_HASH_LEN; i++)
		snprintf(s + 2 * i, 3, "%02x", h[i]);
	return s;
}

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

/*
 * galaxy.export_model(model bigint) → bytea: the model value and the
 * metadata needed to register it elsewhere, with a SHA-256 checksum.
 */
Datum
galaxy_export_model(PG_FUNCTION_ARGS)
{
	int64		model_id = PG_GETARG_INT64(0);
	char	   *actor = GetUserNameFromId(GetUserId(), false);
	bool		isnull;
	char	   *metadata;
	struct varlena *value;
	int64		project_id;
	char	   *status;
	ModelWriter w;
	uint8		digest[EXPORT_HASH_LEN];
	bytea	   *result;
	MemoryContext outer = CurrentMemoryContext;
	StringInfoData js;

	SPI_connect();
	if (catalog_execute("SELECT jsonb_build_object("
						" 'algorithm', m.algorithm, 'task', m.task,"
						" 'features', to_jsonb(m.features), 'feature_types', to_jsonb(m.feature_types),"
						" 'target', m.target, 'label_type', m.label_type,"
						" 'hyperparams', m.hyperparams, 'hyperparams_given', m.hyperparams_given,"
						" 'preprocess', m.preprocess, 'metrics', m.metrics,"
						" 'schema_fingerprint', m.schema_fingerprint, 'data_fingerprint', m.data_fingerprint,"
						" 'training_rows', m.training_rows, 'test_rows', m.test_rows, 'seed', m.seed,"
						" 'source', jsonb_build_object('project', p.name, 'model', m.id, 'version', m.version,"
						"   'database', current_database(), 'trained_by', m.trained_by,"
						"   'trained_at', m.created_at, 'exported_by', $2::text, 'exported_at', now()))::text,"
						" m.model, m.project_id, m.status"
						" FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id"
						" WHERE m.id = $1",
						2, (Oid[]) {INT8OID, TEXTOID},
						(Datum[]) {Int64GetDatum(model_id), CStringGetTextDatum(actor)},
						NULL, true, 1,
						SPI_OK_SELECT, "read galaxy.models") != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy model %lld does not exist", (long long) model_id)));
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	d = SPI_tuptable->tupdesc;
		MemoryContext spicxt = MemoryContextSwitchTo(outer);
		Datum		mv;

		metadata = SPI_getvalue(t, d, 1);
		mv = SPI_getbinval(t, d, 2, &isnull);
		value = isnull ? NULL : PG_DETOAST_DATUM_COPY(mv);
		project_id = DatumGetInt64(SPI_getbinval(t, d, 3, &isnull));
		status = SPI_getvalue(t, d, 4);
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();

	registry_check_project_access(project_id, "export");
	if (value == NULL || strcmp(status, "training") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("galaxy model %lld has no trained value to export", (long long) model_id)));

	mw_init(&w);
	mw_bytes(&w, EXPORT_MAGIC, EXPORT_MAGIC_LEN);
	mw_u16(&w, EXPORT_FORMAT_VERSION);
	mw_u16(&w, 0);
	mw_u32(&w, (uint32) strlen(metadata));
	mw_bytes(&w, metadata, strlen(metadata));
	mw_u32(&w, (uint32) VARSIZE_ANY_EXHDR(value));
	mw_bytes(&w, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
	sha256_bytes(w.buf.data, w.buf.len, digest);
	mw_bytes(&w, digest, EXPORT_HASH_LEN);

	result = palloc(VARHDRSZ + w.buf.len);
	SET_VARSIZE(result, VARHDRSZ + w.buf.len);
	memcpy(VARDATA(result), w.buf.data, w.buf.len);

	initStringInfo(&js);
	details_begin(&js);
	details_int(&js, "project_id", project_id);
	details_int(&js, "bytes", w.buf.len);
	details_str(&js, "sha256", digest_hex(digest));
	galaxy_audit("export", "model", psprintf(INT64_FORMAT, model_id), details_end(&js));

	PG_RETURN_BYTEA_P(result);
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
static JsonbValue *
meta_get(Jsonb *meta, const char *key)
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
	JsonbValue *v = meta_get(meta, key);

	if (v == NULL || v->type != jbvString)
		bad_export("metadata field \"%s\" must be a string", key);
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* Require a member to be a JSON object (or null when nullable). */
static void
meta_require_object(Jsonb *meta, const char *key, bool nullable)
{
	JsonbValue *v = meta_get(meta, key);

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
	JsonbValue *v = meta_get(meta, key);
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

/*
 * galaxy.import_model(project text, data bytea) → galaxy.models: validate an
 * export and register it as a new version of the project.
 */
Datum
galaxy_import_model(PG_FUNCTION_ARGS)
{
	char	   *project;
	bytea	   *data;
	const char *p;
	Size		len;
	uint32		mlen;
	uint32		vlen;
	uint16		version;
	uint8		digest[EXPORT_HASH_LEN];
	char	   *metatext;
	Jsonb	   *meta;
	const char *vbytes;
	GalaxyModel *gm;
	int			n_in;
	char	  **features;
	char	  **types;
	const char **names;
	const char **typnames;
	int		   *widths;
	char	   *fingerprint;
	int64		project_id;
	int			major,
				minor,
				patch;
	int64		parent_id;
	struct varlena *value;
	int64		model_id;
	bool		isnull;
	StringInfoData js;
	char	   *actor = GetUserNameFromId(GetUserId(), false);

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project and data must not be NULL")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	data = PG_GETARG_BYTEA_PP(1);
	p = VARDATA_ANY(data);
	len = VARSIZE_ANY_EXHDR(data);

	/* container: magic, version, lengths, checksum */
	if (len < EXPORT_MAGIC_LEN || memcmp(p, EXPORT_MAGIC, EXPORT_MAGIC_LEN) != 0)
		bad_export("it does not start with the magic \"%s\"", EXPORT_MAGIC);
	if (len < 16 + 4 + EXPORT_HASH_LEN)
		bad_export("%zu bytes is too short", len);
	version = le16(p + 8);
	if (version != EXPORT_FORMAT_VERSION)
		bad_export("format version %u is not supported (this galaxy reads version %d)",
				   version, EXPORT_FORMAT_VERSION);
	if (le16(p + 10) != 0)
		bad_export("unknown flags 0x%04x", le16(p + 10));
	mlen = le32(p + 12);
	if ((Size) mlen > EXPORT_MAX_METADATA || (Size) mlen > len - (16 + 4 + EXPORT_HASH_LEN))
		bad_export("metadata length %u does not fit in %zu bytes", mlen, len);
	vlen = le32(p + 16 + mlen);
	if ((Size) vlen != len - (16 + 4 + EXPORT_HASH_LEN) - mlen)
		bad_export("model length %u does not match the %zu bytes left",
				   vlen, len - (16 + 4 + EXPORT_HASH_LEN) - mlen);
	sha256_bytes(p, len - EXPORT_HASH_LEN, digest);
	if (memcmp(digest, p + len - EXPORT_HASH_LEN, EXPORT_HASH_LEN) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("galaxy model export checksum mismatch: the data was modified or damaged"),
				 errdetail("SHA-256 of the content is %s, the export records %s.",
						   digest_hex(digest), digest_hex((const uint8 *) (p + len - EXPORT_HASH_LEN)))));

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

	/* the project: an existing one needs the train privilege */
	project_id = registry_project_id(project, true);
	if (project_id != 0)
		registry_check_project_access(project_id, "import");
	project_id = registry_project_ensure(project, gm->task);

	registry_next_version(project_id, fingerprint, &major, &minor, &patch, &parent_id);

	value = palloc(VARHDRSZ + vlen);
	SET_VARSIZE(value, VARHDRSZ + vlen);
	memcpy(VARDATA(value), vbytes, vlen);

	SPI_connect();
	if (catalog_execute("INSERT INTO galaxy.models (project_id, version, version_major, version_minor,"
						" version_patch, status, algorithm, task, model, hyperparams, hyperparams_given,"
						" preprocess, metrics, features, feature_types, target, label_type,"
						" training_rows, test_rows, schema_fingerprint, data_fingerprint, seed,"
						" size_bytes, trained_by, parent_id, imported_from)"
						" SELECT $1, $2 || '.' || $3 || '.' || $4, $2, $3, $4, 'ready', $6->>'algorithm',"
						"  $6->>'task', $5, $6->'hyperparams', $6->'hyperparams_given',"
						"  nullif($6->'preprocess', 'null'), $6->'metrics',"
						"  ARRAY(SELECT jsonb_array_elements_text($6->'features')),"
						"  ARRAY(SELECT jsonb_array_elements_text($6->'feature_types')),"
						"  $6->>'target', $6->>'label_type',"
						"  ($6->>'training_rows')::bigint, ($6->>'test_rows')::bigint, $7,"
						"  $6->>'data_fingerprint', ($6->>'seed')::integer, $8, $9::name, $10,"
						"  jsonb_build_object('source', $6->'source', 'sha256', $11::text,"
						"                     'imported_by', $9::text, 'imported_at', now())"
						" RETURNING id",
						11,
						(Oid[]) {INT8OID, INT4OID, INT4OID, INT4OID, galaxy_type_oid("model"), JSONBOID,
							TEXTOID, INT4OID, TEXTOID, INT8OID, TEXTOID},
						(Datum[]) {Int64GetDatum(project_id), Int32GetDatum(major), Int32GetDatum(minor),
							Int32GetDatum(patch), PointerGetDatum(value), JsonbPGetDatum(meta),
							CStringGetTextDatum(fingerprint), Int32GetDatum((int32) VARSIZE(value)),
							CStringGetTextDatum(actor), Int64GetDatum(parent_id),
						CStringGetTextDatum(digest_hex(digest))},
						parent_id ? NULL : "         n ", false, 0,
						SPI_OK_INSERT_RETURNING, "write galaxy.models") != 1)
		elog(ERROR, "could not register the imported model: no row returned");
	model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	details_str(&js, "version", psprintf("%d.%d.%d", major, minor, patch));
	details_str(&js, "sha256", digest_hex(digest));
	{
		JsonbValue *src = meta_get(meta, "source");

		if (src && src->type == jbvBinary)
			details_json(&js, "source", JsonbToCString(NULL, src->val.binary.data, -1));
	}
	galaxy_audit("import", "model", psprintf(INT64_FORMAT, model_id), details_end(&js));

	PG_RETURN_DATUM(galaxy_model_row(model_id));
}
