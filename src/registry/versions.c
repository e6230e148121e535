/*
 * versions.c — projects, the semantic versions of their models, and the
 * immutability of a trained model's row.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "galaxy.h"
#include "registry/audit.h"
#include "registry/versions.h"
#include "util/catalog.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_model_immutable);

/* ERROR 22023 unless name is a valid project name. */
void
registry_check_project_name(const char *name)
{
	size_t		n = strlen(name);
	bool		ok = n > 0 && n < NAMEDATALEN &&
		(isalpha((unsigned char) name[0]) || name[0] == '_');

	for (size_t i = 1; ok && i < n; i++)
		if (!(isalnum((unsigned char) name[i]) || name[i] == '_' || name[i] == '.' || name[i] == '-'))
			ok = false;
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid project name \"%s\"", galaxy_short(name)),
				 errdetail("A project name starts with a letter or underscore and has at most 63 letters, digits, '_', '.' or '-'.")));
}

/* Find a project by name (0 if absent and missing_ok). */
int64
registry_project_id(const char *name, bool missing_ok)
{
	QueryResult *r;
	int64		id = 0;

	r = catalog_query("SELECT id FROM galaxy.projects WHERE name = $1",
					  1, (Oid[]) {TEXTOID}, (Datum[]) {CStringGetTextDatum(name)},
					  NULL, true, 1, SPI_OK_SELECT, "read galaxy.projects");
	if (r->nrows == 1)
		id = query_int64(r, 0, 1, 0);

	if (id == 0 && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("project \"%s\" does not exist", galaxy_short(name)),
				 errhint("Train a model with galaxy.train('%s', ...) to create it.", name)));
	return id;
}

/* Find or create a project; a project's task never changes. */
int64
registry_project_ensure(const char *name, GalaxyTask task)
{
	Datum		vname = CStringGetTextDatum(name);
	Datum		vtask = CStringGetTextDatum(galaxy_task_name(task));
	char	   *owner = GetUserNameFromId(GetUserId(), false);
	QueryResult *r;
	int64		id;
	char	   *existing_task;
	bool		created;

	/* insert-if-absent, race-free through the unique name */
	created = catalog_command("INSERT INTO galaxy.projects (name, task, owner) VALUES ($1, $2, $3) "
							  "ON CONFLICT (name) DO NOTHING RETURNING id",
							  3, (Oid[]) {TEXTOID, TEXTOID, NAMEOID},
							  (Datum[]) {vname, vtask, CStringGetDatum(owner)},
							  NULL, SPI_OK_INSERT_RETURNING, "write galaxy.projects") == 1;
	r = catalog_query("SELECT id, task FROM galaxy.projects WHERE name = $1",
					  1, (Oid[]) {TEXTOID}, (Datum[]) {vname}, NULL, false, 1,
					  SPI_OK_SELECT, "read galaxy.projects");
	if (r->nrows != 1)
		elog(ERROR, "could not read project \"%s\"", name);
	id = query_int64(r, 0, 1, 0);
	existing_task = query_text(r, 0, 2);
	Assert(id > 0 && existing_task != NULL);

	if (existing_task && strcmp(existing_task, galaxy_task_name(task)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("project \"%s\" is a %s project, but this training is %s",
						name, existing_task, galaxy_task_name(task)),
				 errhint("Use another project name, or pass task => '%s'.", existing_task)));
	if (created)
	{
		char		idbuf[32];

		snprintf(idbuf, sizeof(idbuf), INT64_FORMAT, id);
		galaxy_audit("create_project", "project", idbuf, NULL);
	}
	return id;
}

/* Next semantic version for a model with this schema fingerprint. */
void
registry_next_version(int64 project_id, const char *schema_fingerprint,
					  int *major, int *minor, int *patch, int64 *parent_id)
{
	QueryResult *r;

	*major = 1;
	*minor = 0;
	*patch = 0;
	*parent_id = 0;

	/* serialise version assignment per project until commit */
	catalog_command("SELECT 1 FROM galaxy.projects WHERE id = $1 FOR UPDATE",
					1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(project_id)},
					NULL, SPI_OK_SELECT, "lock galaxy.projects");

	/*
	 * Under REPEATABLE READ or SERIALIZABLE our snapshot may predate a model
	 * another session registered (and committed) meanwhile: the version we
	 * would compute is taken.  Say so as a serialization failure, which the
	 * caller can retry, instead of a duplicate key.
	 */
	if (IsolationUsesXactSnapshot())
	{
		const char *sql = "SELECT count(*) FROM galaxy.models WHERE project_id = $1";
		int64		seen;
		int64		latest;

		r = catalog_query(sql, 1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(project_id)},
						  NULL, true, 1, SPI_OK_SELECT, "read galaxy.models");
		seen = query_int64(r, 0, 1, 0);
		PushActiveSnapshot(GetLatestSnapshot());
		r = catalog_query(sql, 1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(project_id)},
						  NULL, true, 1, SPI_OK_SELECT, "read galaxy.models");
		PopActiveSnapshot();
		latest = query_int64(r, 0, 1, 0);
		if (latest != seen)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access: another session registered a model of this project after this transaction began"),
					 errhint("Retry the transaction.")));
	}
	r = catalog_query("SELECT id, version_major, version_minor, schema_fingerprint = $2, "
					  "  (SELECT max(version_major) FROM galaxy.models WHERE project_id = $1), "
					  "  (SELECT max(m2.version_minor) FROM galaxy.models m2 "
					  "    WHERE m2.project_id = $1 AND m2.version_major = m.version_major) "
					  "FROM galaxy.models m WHERE project_id = $1 AND version_patch = 0 "
					  "ORDER BY created_at DESC, id DESC LIMIT 1",
					  2, (Oid[]) {INT8OID, TEXTOID},
					  (Datum[]) {Int64GetDatum(project_id), CStringGetTextDatum(schema_fingerprint)},
					  NULL, false, 1, SPI_OK_SELECT, "read galaxy.models");
	if (r->nrows == 1)
	{
		int			last_major = query_int32(r, 0, 2, 1);
		bool		same_schema = query_bool(r, 0, 4, false);
		int			max_major = query_int32(r, 0, 5, 1);
		int			max_minor = query_int32(r, 0, 6, 0);

		*parent_id = query_int64(r, 0, 1, 0);
		if (same_schema)
		{
			*major = last_major;
			*minor = max_minor + 1;
		}
		else
		{
			*major = max_major + 1;
			*minor = 0;
		}
	}
}

/* The next patch version of a model; see versions.h. */
void
registry_next_patch(int64 project_id, int64 model_id, int *major, int *minor, int *patch)
{
	QueryResult *r;

	catalog_command("SELECT 1 FROM galaxy.projects WHERE id = $1 FOR UPDATE",
					1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(project_id)},
					NULL, SPI_OK_SELECT, "lock galaxy.projects");
	r = catalog_query("SELECT m.version_major, m.version_minor, "
					  "  (SELECT max(o.version_patch) FROM galaxy.models o WHERE o.project_id = $1 "
					  "     AND o.version_major = m.version_major AND o.version_minor = m.version_minor) "
					  "FROM galaxy.models m WHERE m.id = $2 AND m.project_id = $1",
					  2, (Oid[]) {INT8OID, INT8OID},
					  (Datum[]) {Int64GetDatum(project_id), Int64GetDatum(model_id)},
					  NULL, false, 1, SPI_OK_SELECT, "read galaxy.models");
	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy model %lld does not exist", (long long) model_id)));
	*major = query_int32(r, 0, 1, 1);
	*minor = query_int32(r, 0, 2, 0);
	*patch = query_int32(r, 0, 3, 0) + 1;
}

/* ------------------------------------------------------------------------
 * Model immutability
 * ------------------------------------------------------------------------
 */

/* true if a model may move from status 'from' to 'to'. */
static bool
status_transition_allowed(const char *from, const char *to)
{
	static const char *const allowed[][2] = {
		{"ready", "deployed"},
		{"deployed", "ready"},
		{"deployed", "archived"},
		{"ready", "archived"},
		{"archived", "deployed"},
	};

	if (strcmp(from, to) == 0)
		return true;
	for (int i = 0; i < lengthof(allowed); i++)
		if (strcmp(allowed[i][0], from) == 0 && strcmp(allowed[i][1], to) == 0)
			return true;
	return false;
}

/* Foreign keys of galaxy.models declared ON DELETE SET NULL. */
static bool
is_provenance_link(const char *column)
{
	return strcmp(column, "parent_id") == 0 || strcmp(column, "dataset_id") == 0 ||
		strcmp(column, "job_id") == 0;
}

/*
 * Whether two non-NULL values of a column are the same: the same TOAST
 * pointer is the same stored value (TOAST values never change in place), so
 * an UPDATE that leaves the model column alone costs no decompression of it;
 * anything else is compared byte by byte.
 */
static bool
same_value(Datum d1, Datum d2, Form_pg_attribute att)
{
	if (att->attlen == -1 &&
		VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(d1)) &&
		VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(d2)))
	{
		struct varatt_external e1;
		struct varatt_external e2;

		VARATT_EXTERNAL_GET_POINTER(e1, DatumGetPointer(d1));
		VARATT_EXTERNAL_GET_POINTER(e2, DatumGetPointer(d2));
		if (e1.va_valueid == e2.va_valueid && e1.va_toastrelid == e2.va_toastrelid)
			return true;
	}
	return datum_image_eq(d1, d2, att->attbyval, att->attlen);
}

/*
 * BEFORE UPDATE trigger on galaxy.models: once a model has left 'training',
 * only its status may change, and only along the allowed transitions (and
 * its provenance links may become NULL when what they point to is deleted).
 */
Datum
galaxy_model_immutable(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	oldtup;
	HeapTuple	newtup;
	int			status_att = 0;
	int			id_att = 0;
	bool		isnull;
	char	   *oldstatus;
	char	   *newstatus;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		elog(ERROR, "galaxy_model_immutable must be a BEFORE UPDATE FOR EACH ROW trigger");

	desc = RelationGetDescr(trigdata->tg_relation);
	oldtup = trigdata->tg_trigtuple;
	newtup = trigdata->tg_newtuple;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (strcmp(NameStr(att->attname), "status") == 0)
			status_att = i + 1;
		else if (strcmp(NameStr(att->attname), "id") == 0)
			id_att = i + 1;
	}
	if (status_att == 0 || id_att == 0)
		elog(ERROR, "galaxy.models has no status or id column");

	oldstatus = TextDatumGetCString(heap_getattr(oldtup, status_att, desc, &isnull));
	newstatus = TextDatumGetCString(heap_getattr(newtup, status_att, desc, &isnull));
	if (strcmp(oldstatus, "training") == 0)
		return PointerGetDatum(newtup);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		n1,
					n2;
		Datum		d1,
					d2;

		if (att->attisdropped || i + 1 == status_att)
			continue;
		d1 = heap_getattr(oldtup, i + 1, desc, &n1);
		d2 = heap_getattr(newtup, i + 1, desc, &n2);
		/* provenance links are cut when what they point to is deleted */
		if (n2 && is_provenance_link(NameStr(att->attname)))
			continue;
		if (n1 != n2 ||
			(!n1 && !same_value(d1, d2, att)))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("galaxy model %lld is immutable: column \"%s\" cannot change once the model is %s",
							(long long) DatumGetInt64(heap_getattr(oldtup, id_att, desc, &n1)),
							NameStr(att->attname), oldstatus),
					 errdetail("Only the status of a trained model changes (ready → deployed → archived)."),
					 errhint("Train or import a new version instead.")));
	}

	if (!status_transition_allowed(oldstatus, newstatus))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("galaxy model %lld cannot go from status \"%s\" to \"%s\"",
						(long long) DatumGetInt64(heap_getattr(oldtup, id_att, desc, &isnull)),
						oldstatus, newstatus),
				 errdetail("Allowed: ready → deployed, deployed → ready or archived, ready → archived, archived → deployed (rollback).")));

	return PointerGetDatum(newtup);
}

/* The galaxy.models row of a model, as a composite Datum. */
Datum
registry_model_row(int64 model_id)
{
	return registry_model_row_with(model_id, NULL);
}

/*
 * The same, given the value of its model column (the caller has just stored
 * it): a composite Datum holds no TOAST pointers, so the row's stored model
 * would otherwise be read back from TOAST in whole (a text model of 0.5 MB:
 * 250 chunks).
 */
Datum
registry_model_row_with(int64 model_id, struct varlena *model)
{
	QueryResult *r;
	int			att;

	r = catalog_query("SELECT * FROM galaxy.models WHERE id = $1",
					  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(model_id)},
					  NULL, false, 1, SPI_OK_SELECT, "read galaxy.models");
	if (r->nrows != 1)
		elog(ERROR, "model " INT64_FORMAT " vanished", model_id);
	att = model != NULL ? SPI_fnumber(r->tupdesc, "model") : SPI_ERROR_NOATTRIBUTE;
	if (att > 0)
	{
		int			natts = r->tupdesc->natts;
		Datum	   *values = palloc(sizeof(Datum) * natts);
		bool	   *nulls = palloc(sizeof(bool) * natts);

		heap_deform_tuple(r->rows[0], r->tupdesc, values, nulls);
		if (!nulls[att - 1] && VARATT_IS_EXTERNAL(DatumGetPointer(values[att - 1])))
		{
			values[att - 1] = PointerGetDatum(model);
			r->rows[0] = heap_form_tuple(r->tupdesc, values, nulls);
		}
	}
	return query_row_datum(r, 0);
}
