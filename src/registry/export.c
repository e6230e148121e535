/*
 * export.c — moving a model between databases: galaxy.export_model() and
 * galaxy.import_model().
 *
 * The byte format (writing, reading and validating an export) lives in
 * export_format.c; this file reads and writes the catalog.  Import validates
 * the export there (container, checksum, model value, metadata against the
 * model), then registers a new version of the target project.
 *
 * Exports are signed with HMAC-SHA256 under a per-cluster key that only the
 * server can read: a file in the data directory, created with mode 0600 on
 * first use.  An export signed here is trusted as galaxy wrote it; any other
 * (another cluster's, a version 1 export, a forged one) is "foreign": only a
 * galaxy_admin may import it, and its metrics are kept apart as claims
 * (imported_from.claimed_metrics), so they never choose a deployment.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port.h"
#include "postmaster/bgworker.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "data/data_internal.h"
#include "model/model.h"
#include "model/modelio.h"
#include "registry/access.h"
#include "registry/audit.h"
#include "registry/export_format.h"
#include "registry/gates.h"
#include "registry/versions.h"
#include "util/catalog.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_export_model);

PGDLLEXPORT void galaxy_export_audit_main(Datum arg);
static void export_audit(int64 model_id, int64 project_id, int64 bytes,
						 const uint8 *digest);

#define EXPORT_KEY_FILE "galaxy_export.key"
#define EXPORT_KEY_LEN 32

static uint8 export_key[EXPORT_KEY_LEN];
static bool export_key_loaded = false;

/* Read the key file; false if it does not exist. */
static bool
read_export_key(const char *path)
{
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	int			n;

	if (fd < 0)
	{
		if (errno == ENOENT)
			return false;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open galaxy's export key \"%s\": %m", path)));
	}
	n = read(fd, export_key, EXPORT_KEY_LEN);
	CloseTransientFile(fd);
	if (n != EXPORT_KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("galaxy's export key \"%s\" is damaged (%d bytes, expected %d)",
						path, n, EXPORT_KEY_LEN),
				 errhint("Restore it from a backup of the data directory; exports signed with it cannot be verified otherwise.")));
	return true;
}

/*
 * This cluster's export key, created on first use: written to a private
 * temporary file, then linked into place, so two backends racing to create
 * it agree on one key (the loser reads the winner's).
 */
static const uint8 *
get_export_key(void)
{
	char		path[MAXPGPATH];
	char		tmp[MAXPGPATH];
	int			fd;

	if (export_key_loaded)
		return export_key;
	snprintf(path, sizeof(path), "%s/%s", DataDir, EXPORT_KEY_FILE);
	if (!read_export_key(path))
	{
		uint8		fresh[EXPORT_KEY_LEN];

		if (!pg_strong_random(fresh, EXPORT_KEY_LEN))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random export key")));
		snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, MyProcPid);
		fd = OpenTransientFilePerm(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY, S_IRUSR | S_IWUSR);
		if (fd < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create \"%s\": %m", tmp)));
		if (write(fd, fresh, EXPORT_KEY_LEN) != EXPORT_KEY_LEN || pg_fsync(fd) != 0)
		{
			int			save = errno;

			CloseTransientFile(fd);
			unlink(tmp);
			errno = save;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write \"%s\": %m", tmp)));
		}
		CloseTransientFile(fd);
		if (link(tmp, path) != 0 && errno != EEXIST)
		{
			int			save = errno;

			unlink(tmp);
			errno = save;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create galaxy's export key \"%s\": %m", path)));
		}
		unlink(tmp);
		fsync_fname(DataDir, true);
		if (!read_export_key(path))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("galaxy's export key \"%s\" vanished after it was created", path)));
	}
	export_key_loaded = true;
	return export_key;
}
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

	registry_check_model_access(project_id, model_id, "export");
	if (value == NULL || strcmp(status, "training") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("galaxy model %lld has no trained value to export", (long long) model_id)));

	result = export_build(metadata, VARDATA_ANY(value), (uint32) VARSIZE_ANY_EXHDR(value),
						  get_export_key(), EXPORT_KEY_LEN, digest);

	export_audit(model_id, project_id, (int64) (VARSIZE(result) - VARHDRSZ), digest);

	PG_RETURN_BYTEA_P(result);
}

/*
 * What the export audit keeper needs, passed in bgw_extra (128 bytes): the
 * database, the exporting roles and transaction, the model, the export's
 * size and SHA-256, and the nonce that names the export's audit row.
 */
typedef struct ExportAuditRequest
{
	Oid			dboid;
	Oid			session_user_oid;
	Oid			current_user_oid;
	TransactionId xid;
	int64		model_id;
	int64		project_id;
	int64		bytes;
	uint8		digest[EXPORT_HASH_LEN];
	uint8		nonce[16];
} ExportAuditRequest;

StaticAssertDecl(sizeof(ExportAuditRequest) <= BGW_EXTRALEN,
				 "the export audit request must fit in bgw_extra");

/* Hex text of the nonce. */
static char *
nonce_hex(const uint8 *nonce)
{
	char	   *s = palloc(33);

	for (int i = 0; i < 16; i++)
		snprintf(s + 2 * i, 3, "%02x", nonce[i]);
	return s;
}

/* The export audit row's details. */
static Jsonb *
export_audit_details(const ExportAuditRequest *req, bool after_rollback)
{
	StringInfoData js;

	initStringInfo(&js);
	details_begin(&js);
	details_int(&js, "project_id", req->project_id);
	details_int(&js, "bytes", req->bytes);
	details_str(&js, "sha256", galaxy_hex(req->digest, GALAXY_SHA256_LEN));
	details_str(&js, "nonce", nonce_hex(req->nonce));
	if (after_rollback)
	{
		details_bool(&js, "recorded_after_rollback", true);
		details_int(&js, "exporting_xid", (int64) req->xid);
	}
	return details_end(&js);
}

/*
 * Audit an export so that no rollback can erase it.  The row is written in
 * the exporting transaction as usual; a short-lived background worker (the
 * audit keeper) waits for that transaction to end and, if the row did not
 * survive it (the transaction or a savepoint around the export rolled back,
 * or a later error aborted it), writes it again in a transaction of its own.
 * The export fails, and returns no bytes, unless the keeper is running.
 */
static void
export_audit(int64 model_id, int64 project_id, int64 bytes, const uint8 *digest)
{
	BackgroundWorker worker = {0};
	BackgroundWorkerHandle *handle;
	ExportAuditRequest req = {0};
	pid_t		pid;

	req.dboid = MyDatabaseId;
	req.session_user_oid = GetSessionUserId();
	req.current_user_oid = GetUserId();
	req.xid = GetTopTransactionId();
	req.model_id = model_id;
	req.project_id = project_id;
	req.bytes = bytes;
	memcpy(req.digest, digest, EXPORT_HASH_LEN);
	if (!pg_strong_random(req.nonce, sizeof(req.nonce)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random nonce")));

	galaxy_audit("export", "model", psprintf(INT64_FORMAT, model_id),
				 export_audit_details(&req, false));

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "galaxy", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "galaxy_export_audit_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "galaxy export audit keeper for model " INT64_FORMAT, model_id);
	strlcpy(worker.bgw_type, "galaxy export audit keeper", BGW_MAXLEN);
	worker.bgw_notify_pid = MyProcPid;
	memcpy(worker.bgw_extra, &req, sizeof(req));

	if (!RegisterDynamicBackgroundWorker(&worker, &handle) ||
		WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start galaxy's export audit keeper: no background worker slot is free"),
				 errdetail("An export's audit record must survive a rollback of the exporting transaction; nothing was exported."),
				 errhint("Try again, or raise max_worker_processes.")));
}

/*
 * Entry point of the export audit keeper: wait for the exporting transaction
 * to end, then make sure its export's audit row exists, writing it (as the
 * exporting roles) when the transaction did not keep it.
 */
void
galaxy_export_audit_main(Datum arg)
{
	ExportAuditRequest req;
	QueryResult *r;

	memcpy(&req, MyBgworkerEntry->bgw_extra, sizeof(req));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(req.dboid, req.session_user_oid,
											  BGWORKER_BYPASS_ALLOWCONN);
	pgstat_report_appname("galaxy export audit keeper");

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, "galaxy: waiting for an exporting transaction to end");
	XactLockTableWait(req.xid, NULL, NULL, XLTW_None);
	PushActiveSnapshot(GetTransactionSnapshot());
	r = catalog_query("SELECT 1 FROM galaxy.audit_log WHERE action = 'export' AND object_type = 'model'"
					  " AND object_id = $1 AND details ->> 'nonce' = $2",
					  2, (Oid[]) {TEXTOID, TEXTOID},
					  (Datum[]) {CStringGetTextDatum(psprintf(INT64_FORMAT, req.model_id)),
								 CStringGetTextDatum(nonce_hex(req.nonce))},
					  NULL, true, 1, SPI_OK_SELECT, "read galaxy.audit_log");
	if (r->nrows == 0)
	{
		SetUserIdAndSecContext(req.current_user_oid, 0);
		galaxy_audit("export", "model", psprintf(INT64_FORMAT, req.model_id),
					 export_audit_details(&req, true));
		ereport(LOG,
				(errmsg("galaxy: the export of model " INT64_FORMAT " was rolled back; its audit row was written again",
						req.model_id)));
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}

/*
 * The numbers import casts into the catalog: row counts (non-negative
 * integers) and the seed (an int4, or null).  ERROR 22P03 otherwise, not a
 * raw cast or constraint error.
 */
static void
export_check_numbers(Jsonb *meta)
{
	static const char *const keys[] = {"training_rows", "test_rows", "seed"};

	for (int i = 0; i < lengthof(keys); i++)
	{
		JsonbValue *v = export_meta_get(meta, keys[i]);
		bool		is_seed = strcmp(keys[i], "seed") == 0;
		char	   *txt;
		char	   *end;
		long long	n;

		if (v == NULL || v->type == jbvNull)
			continue;
		if (v->type != jbvNumeric)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid galaxy model export: metadata field \"%s\" must be a number", keys[i])));
		txt = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		errno = 0;
		n = strtoll(txt, &end, 10);
		if (errno != 0 || *end != '\0' || end == txt ||
			(is_seed ? (n < PG_INT32_MIN || n > PG_INT32_MAX) : n < 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid galaxy model export: metadata field \"%s\" is %s, not %s",
							keys[i], txt, is_seed ? "a 32-bit integer" : "a non-negative integer")));
	}
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
	bool		authenticated;
	char	   *actor = GetUserNameFromId(GetUserId(), false);

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project and data must not be NULL")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	data = PG_GETARG_BYTEA_PP(1);
	p = VARDATA_ANY(data);
	len = VARSIZE_ANY_EXHDR(data);

	registry_check_project_name(project);

	/* the export: container, checksum, model value, metadata */
	export_parse(p, len, &ex);
	export_check_numbers(ex.meta);

	/* who made it: this cluster (signed with its key), or someone else */
	authenticated = export_signed_by(p, &ex, get_export_key(), EXPORT_KEY_LEN);
	if (!authenticated && !registry_is_admin(GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("this model export was not signed by this cluster"),
				 errdetail("It comes from another cluster, an older galaxy (format version %d), or was altered; its metadata cannot be trusted.",
						   ex.version),
				 errhint("A galaxy_admin may import it as a foreign model: its metrics are kept as claims and never choose a deployment.")));
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

	/* locks the project row; then check again: it may be new and someone else's */
	registry_next_version(project_id, fingerprint, &major, &minor, &patch, &parent_id);
	registry_check_project_access(project_id, "import");

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
						"  nullif($6->'preprocess', 'null'), CASE WHEN $12 THEN $6->'metrics' ELSE '{}' END,"
						"  ARRAY(SELECT jsonb_array_elements_text($6->'features')),"
						"  ARRAY(SELECT jsonb_array_elements_text($6->'feature_types')),"
						"  $6->>'target', $6->>'label_type',"
						"  ($6->>'training_rows')::bigint, ($6->>'test_rows')::bigint, $7,"
						"  $6->>'data_fingerprint', ($6->>'seed')::integer, $8, $9::name, $10,"
						"  jsonb_build_object('source', $6->'source', 'sha256', $11::text,"
						"                     'imported_by', $9::text, 'imported_at', now(),"
						"                     'authenticated', $12, 'format_version', $13)"
						"  || CASE WHEN $12 THEN '{}' ELSE jsonb_build_object('claimed_metrics', $6->'metrics') END"
						" RETURNING id",
						13,
						(Oid[]) {INT8OID, INT4OID, INT4OID, INT4OID, galaxy_type_oid("model"), JSONBOID,
							TEXTOID, INT4OID, TEXTOID, INT8OID, TEXTOID, BOOLOID, INT4OID},
						(Datum[]) {Int64GetDatum(project_id), Int32GetDatum(major), Int32GetDatum(minor),
							Int32GetDatum(patch), PointerGetDatum(value), JsonbPGetDatum(meta),
							CStringGetTextDatum(fingerprint), Int32GetDatum((int32) VARSIZE(value)),
							CStringGetTextDatum(actor), Int64GetDatum(parent_id),
						CStringGetTextDatum(galaxy_hex(ex.digest, GALAXY_SHA256_LEN)), BoolGetDatum(authenticated),
						Int32GetDatum(ex.version)},
						parent_id ? NULL : "         n   ", false, 0,
						SPI_OK_INSERT_RETURNING, "write galaxy.models");
	if (r->nrows != 1)
		elog(ERROR, "could not register the imported model: no row returned");
	model_id = query_int64(r, 0, 1, 0);

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	details_str(&js, "version", psprintf("%d.%d.%d", major, minor, patch));
	details_str(&js, "sha256", galaxy_hex(ex.digest, GALAXY_SHA256_LEN));
	details_bool(&js, "authenticated", authenticated);
	{
		JsonbValue *src = export_meta_get(meta, "source");

		if (src && src->type == jbvBinary)
			details_json(&js, "source", JsonbToCString(NULL, src->val.binary.data, -1));
	}
	galaxy_audit("import", "model", psprintf(INT64_FORMAT, model_id), details_end(&js));

	/*
	 * Import registers, it does not deploy; the deploy paths enforce the
	 * project's gates.  Say now when the model fails them.
	 */
	{
		char	   *refusal = registry_gates_refusal(model_id);

		if (refusal != NULL)
			ereport(NOTICE,
					(errmsg("imported galaxy model %lld (project \"%s\", version %d.%d.%d) cannot be deployed: %s",
							(long long) model_id, project, major, minor, patch, refusal),
					 errdetail("It is registered; galaxy.gate_results shows its gate results.")));
	}

	PG_RETURN_DATUM(registry_model_row(model_id));
}
