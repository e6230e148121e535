/*
 * deploy.c — the deployment primitive every deploy path uses (train's
 * deploy policy, galaxy.deploy strategies, rollback, approvals, the gate
 * override): it enforces the project's quality gates (gates.h) before a
 * model serves.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/timestamp.h"
#include "utils/jsonb.h"

#include "registry/audit.h"
#include "registry/deploy.h"
#include "registry/gates.h"
#include "util/catalog.h"
#include "util/query.h"

/* Deployment changes made by this backend (see registry_deployments_local_changes). */
static uint64 local_deploy_changes = 0;

/* Tell every backend (at commit) that deployments changed. */
void
registry_deployments_changed(void)
{
	local_deploy_changes++;
	CacheInvalidateRelcacheByRelid(galaxy_relation_oid("deployments"));
}

/* How many deployment changes this backend has made. */
uint64
registry_deployments_local_changes(void)
{
	return local_deploy_changes;
}

/* Lock tag of a project's deployments (an advisory tag galaxy alone uses). */
static void
deployments_locktag(LOCKTAG *tag, int64 project_id)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) ((uint64) project_id >> 32),
						 (uint32) project_id, 0x4758);	/* "GX": not 1 or 2 as SQL advisory locks */
}

/* Hold the project's deployment lock until the end of the transaction. */
void
registry_deployments_lock(int64 project_id)
{
	LOCKTAG		tag;

	deployments_locktag(&tag, project_id);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * Take in the invalidations of every deploy of the project that has ended,
 * without waiting for one in progress.  Returns false when a deploy holds
 * the project's lock: it may be uncommitted (its routes are not ours to
 * see) or committed with its invalidations not sent yet, so the caller must
 * read the routes from the catalog, not from a cache.  Called once per
 * statement by predict.
 */
bool
registry_deployments_sync(int64 project_id)
{
	LOCKTAG		tag;

	deployments_locktag(&tag, project_id);
	if (LockAcquire(&tag, ShareLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return false;
	AcceptInvalidationMessages();
	LockRelease(&tag, ShareLock, false);
	return true;
}

/* The primary deployed model of a project (0 if none). */
int64
registry_primary_model(int64 project_id)
{
	QueryResult *r;

	r = catalog_query("SELECT model_id FROM galaxy.deployments "
					  "WHERE project_id = $1 AND retired_at IS NULL AND traffic = 1.0 "
					  "ORDER BY deployed_at DESC, id DESC LIMIT 1",
					  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(project_id)},
					  NULL, false, 1, SPI_OK_SELECT, "read galaxy.deployments");
	return r->nrows == 1 ? query_int64(r, 0, 1, 0) : 0;
}

/* Deploy a model as primary (traffic 1) or canary (traffic < 1). */
void
registry_deploy_model(int64 project_id, int64 model_id, double traffic,
					  const char *strategy, const char *reason)
{
	Datum		vproject = Int64GetDatum(project_id);
	Datum		vmodel = Int64GetDatum(model_id);
	char	   *caller = GetUserNameFromId(GetUserId(), false);
	QueryResult *r;
	char	   *status;
	Datum		at;
	char		idbuf[32];
	StringInfoData detail;

	if (!(traffic > 0 && traffic <= 1) || isnan(traffic))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("traffic must be in (0, 1], got %g", traffic)));

	registry_deployments_lock(project_id);

	/* the model must belong to the project and be ready or deployed */
	r = catalog_query("SELECT status FROM galaxy.models WHERE id = $2 AND project_id = $1 FOR UPDATE",
					  2, (Oid[]) {INT8OID, INT8OID}, (Datum[]) {vproject, vmodel},
					  NULL, false, 1, SPI_OK_SELECT, "read galaxy.models");
	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model " INT64_FORMAT " does not belong to this project", model_id)));
	status = query_text(r, 0, 1);
	if (strcmp(status, "ready") != 0 && strcmp(status, "deployed") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model " INT64_FORMAT " is %s and cannot be deployed", model_id, status)));

	/* the project's quality gates (measuring the model's latency when one needs it) */
	registry_gates_enforce(project_id, model_id, NULL);

	/* serialise deployments of one project */
	catalog_command("SELECT 1 FROM galaxy.projects WHERE id = $1 FOR UPDATE",
					1, (Oid[]) {INT8OID}, (Datum[]) {vproject}, NULL,
					SPI_OK_SELECT, "lock galaxy.projects");

	/*
	 * One time, taken now, under the project's lock, for the retirements and
	 * the new deployment: a concurrent deploy that committed while this one
	 * waited has a deployed_at later than this transaction's start, and
	 * retiring it at now() would precede it; and there is no gap in which
	 * nothing served.
	 */
	at = TimestampTzGetDatum(GetCurrentTimestamp());
	if (traffic >= 1.0)
	{
		/* a new primary retires every active deployment */
		catalog_command("UPDATE galaxy.deployments SET retired_at = $3, retired_by = $2 "
						"WHERE project_id = $1 AND retired_at IS NULL",
						3, (Oid[]) {INT8OID, NAMEOID, TIMESTAMPTZOID},
						(Datum[]) {vproject, CStringGetDatum(caller), at},
						NULL, SPI_OK_UPDATE, "update galaxy.deployments");
	}
	else
	{
		int64		primary = registry_primary_model(project_id);
		double		canary_sum;
		int64		canaries;

		if (primary == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("project has no primary deployment to split traffic with"),
					 errhint("Deploy a model with traffic 1.0 first.")));
		if (primary == model_id)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model " INT64_FORMAT " is the project's primary and cannot also be its canary",
							model_id),
					 errhint("Deploy another model as the primary first, or deploy a different model as the canary.")));
		/* replace an earlier canary of the same model */
		catalog_command("UPDATE galaxy.deployments SET retired_at = $4, retired_by = $3 "
						"WHERE project_id = $1 AND model_id = $2 AND retired_at IS NULL",
						4, (Oid[]) {INT8OID, INT8OID, NAMEOID, TIMESTAMPTZOID},
						(Datum[]) {vproject, vmodel, CStringGetDatum(caller), at},
						NULL, SPI_OK_UPDATE, "update galaxy.deployments");
		r = catalog_query("SELECT coalesce(sum(traffic), 0), count(*) FROM galaxy.deployments "
						  "WHERE project_id = $1 AND retired_at IS NULL AND traffic < 1.0",
						  1, (Oid[]) {INT8OID}, (Datum[]) {vproject}, NULL, false, 1,
						  SPI_OK_SELECT, "read galaxy.deployments");
		canary_sum = query_float8(r, 0, 1, 0);
		canaries = query_int64(r, 0, 2, 0);
		if (canary_sum + traffic >= 1.0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("canary traffic would total %g; it must stay below 1", canary_sum + traffic)));
		if (canaries >= REGISTRY_MAX_CANARIES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("project already has %d canary deployments, the most it can have",
							REGISTRY_MAX_CANARIES),
					 errhint("Retire a canary by deploying a primary, or redeploy an existing canary with new traffic.")));
	}

	catalog_command("INSERT INTO galaxy.deployments "
					"(project_id, model_id, traffic, strategy, reason, deployed_by, deployed_at) "
					"VALUES ($1, $2, $3, $4, $5, $6, $7)",
					7, (Oid[]) {INT8OID, INT8OID, FLOAT8OID, TEXTOID, TEXTOID, NAMEOID, TIMESTAMPTZOID},
					(Datum[]) {vproject, vmodel, Float8GetDatum(traffic),
							   CStringGetTextDatum(strategy ? strategy : "specific"),
							   reason ? CStringGetTextDatum(reason) : (Datum) 0,
							   CStringGetDatum(caller), at},
					reason ? NULL : "    n  ",
					SPI_OK_INSERT, "write galaxy.deployments");

	/* statuses follow the active deployments */
	catalog_command("UPDATE galaxy.models m SET status = CASE WHEN EXISTS "
					"  (SELECT 1 FROM galaxy.deployments d WHERE d.model_id = m.id AND d.retired_at IS NULL) "
					"  THEN 'deployed' ELSE 'ready' END "
					"WHERE m.project_id = $1 AND m.status IN ('ready', 'deployed') "
					"AND m.status IS DISTINCT FROM CASE WHEN EXISTS "
					"  (SELECT 1 FROM galaxy.deployments d WHERE d.model_id = m.id AND d.retired_at IS NULL) "
					"  THEN 'deployed' ELSE 'ready' END",
					1, (Oid[]) {INT8OID}, (Datum[]) {vproject}, NULL,
					SPI_OK_UPDATE, "update galaxy.models");

	registry_deployments_changed();

	snprintf(idbuf, sizeof(idbuf), INT64_FORMAT, model_id);
	initStringInfo(&detail);
	details_begin(&detail);
	details_int(&detail, "project_id", project_id);
	details_float(&detail, "traffic", traffic);
	details_str(&detail, "strategy", strategy ? strategy : "specific");
	details_str(&detail, "reason", reason);
	galaxy_audit("deploy", "model", idbuf, details_end(&detail));
}
