/*
 * projects_api.c — removing a project: galaxy.drop_project deletes a project
 * with its models, deployments, approvals, grants and job history, as one
 * audited call (the catalog tables are not writable by users, and a plain
 * DELETE by their owner would leave no audit row).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "galaxy.h"
#include "registry/access.h"
#include "registry/audit.h"
#include "registry/deploy.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_drop_project);

/*
 * galaxy.drop_project(project): needs the "all" privilege on the project
 * (its owner, a galaxy_admin); refused while one of its jobs is queued or
 * running.  Returns how many models were deleted.  The audit log keeps the
 * project's history: its rows are never deleted with it.
 */
Datum
galaxy_drop_project(PG_FUNCTION_ARGS)
{
	char	   *project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		id;
	QueryResult *r;
	int64		models;
	int64		serving;
	int64		jobs;
	int64		busy;
	StringInfoData js;

	id = registry_check_project_access_by_name(project, "drop");
	/* concurrent deploys, trainings and drops of the project wait for us */
	registry_deployments_lock(id);
	catalog_command("SELECT 1 FROM galaxy.projects WHERE id = $1 FOR UPDATE",
					1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(id)},
					NULL, SPI_OK_SELECT, "lock galaxy.projects");

	r = catalog_query("SELECT (SELECT count(*) FROM galaxy.models WHERE project_id = $1),"
					  " (SELECT count(*) FROM galaxy.deployments WHERE project_id = $1 AND retired_at IS NULL),"
					  " (SELECT count(*) FROM galaxy.jobs WHERE project_id = $1 OR project = $2),"
					  " (SELECT min(id) FROM galaxy.jobs WHERE (project_id = $1 OR project = $2)"
					  "     AND state IN ('queued', 'running'))",
					  2, (Oid[]) {INT8OID, TEXTOID},
					  (Datum[]) {Int64GetDatum(id), CStringGetTextDatum(project)},
					  NULL, true, 1, SPI_OK_SELECT, "read galaxy.models");
	models = query_int64(r, 0, 1, 0);
	serving = query_int64(r, 0, 2, 0);
	jobs = query_int64(r, 0, 3, 0);
	busy = query_int64(r, 0, 4, 0);
	if (busy != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("galaxy project \"%s\" has a job that is queued or running (job %lld)",
						project, (long long) busy),
				 errhint("Cancel it first: SELECT galaxy.cancel(%lld);", (long long) busy)));

	/* models, deployments, approvals, grants and jobs go with the project */
	catalog_command("DELETE FROM galaxy.jobs WHERE project_id IS NULL AND project = $1",
					1, (Oid[]) {TEXTOID}, (Datum[]) {CStringGetTextDatum(project)},
					NULL, SPI_OK_DELETE, "write galaxy.jobs");
	catalog_command("DELETE FROM galaxy.projects WHERE id = $1",
					1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(id)},
					NULL, SPI_OK_DELETE, "write galaxy.projects");
	/* every backend drops its routes for the project at commit */
	registry_deployments_changed();

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	details_int(&js, "models", models);
	details_int(&js, "serving_deployments", serving);
	details_int(&js, "jobs", jobs);
	galaxy_audit("drop_project", "project", psprintf(INT64_FORMAT, id), details_end(&js));
	PG_RETURN_INT64(models);
}
