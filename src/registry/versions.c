/*
 * versions.c — projects and semantic versions of their models.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "registry/deploy.h"
#include "registry/audit.h"
#include "util/catalog.h"

/* Find a project by name (0 if absent and missing_ok). */
int64
registry_project_id(const char *name, bool missing_ok)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int64		id = 0;

	values[0] = CStringGetTextDatum(name);
	SPI_connect();
	if (catalog_execute("SELECT id FROM galaxy.projects WHERE name = $1",
						1, argtypes, values, NULL, true, 1,
						SPI_OK_SELECT, "read galaxy.projects") == 1)
	{
		bool		isnull;

		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();

	if (id == 0 && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("project \"%s\" does not exist", name),
				 errhint("Train a model with galaxy.train('%s', ...) to create it.", name)));
	return id;
}

/* Find or create a project; a project's task never changes. */
int64
registry_project_ensure(const char *name, GalaxyTask task)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	int64		id;
	char	   *existing_task = NULL;
	bool		isnull;
	bool		created = false;
	char	   *owner = GetUserNameFromId(GetUserId(), false);

	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(galaxy_task_name(task));

	SPI_connect();
	/* insert-if-absent, race-free through the unique name */
	created = catalog_execute("INSERT INTO galaxy.projects (name, task, owner) VALUES ($1, $2, $3) "
							  "ON CONFLICT (name) DO NOTHING RETURNING id",
							  3, (Oid[]) {TEXTOID, TEXTOID, NAMEOID},
							  (Datum[]) {values[0], values[1], CStringGetDatum(owner)},
							  NULL, false, 0,
							  SPI_OK_INSERT_RETURNING, "write galaxy.projects") == 1;
	if (catalog_execute("SELECT id, task FROM galaxy.projects WHERE name = $1",
						1, argtypes, values, NULL, false, 1,
						SPI_OK_SELECT, "read galaxy.projects") != 1)
		elog(ERROR, "could not read project \"%s\"", name);
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	existing_task = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (existing_task)
		existing_task = pstrdup(existing_task);
	SPI_finish();

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
	*major = 1;
	*minor = 0;
	*patch = 0;
	*parent_id = 0;

	SPI_connect();
	/* serialise version assignment per project until commit */
	catalog_execute("SELECT 1 FROM galaxy.projects WHERE id = $1 FOR UPDATE",
					1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(project_id)},
					NULL, false, 0,
					SPI_OK_SELECT, "lock galaxy.projects");
	if (catalog_execute("SELECT id, version_major, version_minor, schema_fingerprint = $2, "
						"  (SELECT max(version_major) FROM galaxy.models WHERE project_id = $1), "
						"  (SELECT max(m2.version_minor) FROM galaxy.models m2 "
						"    WHERE m2.project_id = $1 AND m2.version_major = m.version_major) "
						"FROM galaxy.models m WHERE project_id = $1 AND version_patch = 0 "
						"ORDER BY created_at DESC, id DESC LIMIT 1",
						2, (Oid[]) {INT8OID, TEXTOID},
						(Datum[]) {Int64GetDatum(project_id), CStringGetTextDatum(schema_fingerprint)},
						NULL, false, 1,
						SPI_OK_SELECT, "read galaxy.models") == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		bool		same_schema;
		int			last_major;
		int			max_major;
		int			max_minor;

		*parent_id = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
		last_major = DatumGetInt32(SPI_getbinval(tup, td, 2, &isnull));
		same_schema = DatumGetBool(SPI_getbinval(tup, td, 4, &isnull));
		max_major = DatumGetInt32(SPI_getbinval(tup, td, 5, &isnull));
		max_minor = DatumGetInt32(SPI_getbinval(tup, td, 6, &isnull));
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
	SPI_finish();
}
