/*
 * export.c — moving a model between databases: galaxy.export_model() and
 * galaxy.import_model().
 *
 * The byte format (writing, reading and validating an export) lives in
 * export_format.c; this file reads and writes the catalog.  Import validates
 * the export there (container, checksum, model value, metadata against the
 * model), then registers a new version of the target project.
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
#include "registry/export_format.h"
#include "registry/registry.h"
#include "util/catalog.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_export_model);
PG_FUNCTION_INFO_V1(galaxy_import_model);

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
	uint8		digest[EXPORT_HASH_LEN];
	bytea	   *result;
	QueryResult *r;
	StringInfoData js;

	r = catalog_query("SELECT jsonb_build_object("
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
						SPI_OK_SELECT, "read galaxy.models");
	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy model %lld does not exist", (long long) model_id)));
	{
		Datum		mv;

		metadata = query_text(r, 0, 1);
		mv = query_datum(r, 0, 2, &isnull);
		value = isnull ? NULL : PG_DETOAST_DATUM(mv);
		project_id = query_int64(r, 0, 3, 0);
		status = query_text(r, 0, 4);
	}

	registry_check_project_access(project_id, "export");
	if (value == NULL || strcmp(status, "training") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("galaxy model %lld has no trained value to export", (long long) model_id)));

	result = export_build(metadata, VARDATA_ANY(value), (uint32) VARSIZE_ANY_EXHDR(value), digest);

	initStringInfo(&js);
	details_begin(&js);
	details_int(&js, "project_id", project_id);
	details_int(&js, "bytes", VARSIZE(result) - VARHDRSZ);
	details_str(&js, "sha256", export_digest_hex(digest));
	galaxy_audit("export", "model", psprintf(INT64_FORMAT, model_id), details_end(&js));

	PG_RETURN_BYTEA_P(result);
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
	ExportContents ex;
	uint32		vlen;
	Jsonb	   *meta;
	const char *vbytes;
	GalaxyModel *gm;
	char	   *fingerprint;
	int64		project_id;
	int			major,
				minor,
				patch;
	int64		parent_id;
	struct varlena *value;
	int64		model_id;
	QueryResult *r;
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

	/* the export: container, checksum, model value, metadata */
	export_parse(p, len, &ex);
	meta = ex.meta;
	gm = ex.model;
	vbytes = ex.model_bytes;
	vlen = ex.model_len;
	fingerprint = ex.schema_fingerprint;

	/* the project: an existing one needs the train privilege */
	project_id = registry_project_id(project, true);
	if (project_id != 0)
		registry_check_project_access(project_id, "import");
	project_id = registry_project_ensure(project, gm->task);

	registry_next_version(project_id, fingerprint, &major, &minor, &patch, &parent_id);

	value = palloc(VARHDRSZ + vlen);
	SET_VARSIZE(value, VARHDRSZ + vlen);
	memcpy(VARDATA(value), vbytes, vlen);

	r = catalog_query("INSERT INTO galaxy.models (project_id, version, version_major, version_minor,"
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
						CStringGetTextDatum(export_digest_hex(ex.digest))},
						parent_id ? NULL : "         n ", false, 0,
						SPI_OK_INSERT_RETURNING, "write galaxy.models");
	if (r->nrows != 1)
		elog(ERROR, "could not register the imported model: no row returned");
	model_id = query_int64(r, 0, 1, 0);

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	details_str(&js, "version", psprintf("%d.%d.%d", major, minor, patch));
	details_str(&js, "sha256", export_digest_hex(ex.digest));
	{
		JsonbValue *src = export_meta_get(meta, "source");

		if (src && src->type == jbvBinary)
			details_json(&js, "source", JsonbToCString(NULL, src->val.binary.data, -1));
	}
	galaxy_audit("import", "model", psprintf(INT64_FORMAT, model_id), details_end(&js));

	PG_RETURN_DATUM(galaxy_model_row(model_id));
}
