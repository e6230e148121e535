/*
 * versions.c — projects and semantic versions of their models.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "galaxy.h"
#include "registry/deploy.h"
#include "registry/audit.h"
#include "util/catalog.h"
#include "util/query.h"

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
