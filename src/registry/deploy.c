/*
 * deploy.c — the deployment primitive every deploy path uses (train's
 * deploy policy, galaxy.deploy strategies, rollback, approvals).
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
#include "utils/jsonb.h"

#include "registry/audit.h"
#include "registry/deploy.h"
#include "registry/registry.h"
#include "util/catalog.h"

/* Tell every backend (at commit) that deployments changed. */
void
registry_deployments_changed(void)
{
	CacheInvalidateRelcacheByRelid(galaxy_relation_oid("deployments"));
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
 * Wait for any deploy of the project that is committing, then take in its
 * invalidations.  Called once per statement by predict.
 */
void
registry_deployments_sync(int64 project_id)
{
	LOCKTAG		tag;

	deployments_locktag(&tag, project_id);
	(void) LockAcquire(&tag, ShareLock, false, false);
	AcceptInvalidationMessages();
	LockRelease(&tag, ShareLock, false);
}

/* The primary deployed model of a project (0 if none). */
int64
registry_primary_model(int64 project_id)
{
	int64		model_id = 0;

	SPI_connect();
	if (catalog_execute("SELECT model_id FROM galaxy.deployments "
						"WHERE project_id = $1 AND retired_at IS NULL AND traffic = 1.0 "
						"ORDER BY deployed_at DESC, id DESC LIMIT 1",
						1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(project_id)},
						NULL, false, 1,
						SPI_OK_SELECT, "read galaxy.deployments") == 1)
	{
		bool		isnull;

		model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	return model_id;
}

/* Deploy a model as primary (traffic 1) or canary (traffic < 1). */
void
registry_deploy_model(int64 project_id, int64 model_id, double traffic,
					  const char *strategy, const char *reason)
{
	Oid			types3[3] = {INT8OID, INT8OID, FLOAT8OID};
	Datum		vals3[3];
	Oid			types1[1] = {INT8OID};
	Datum		vals1[1];
	Oid			types_r[2] = {INT8OID, NAMEOID};
	Datum		vals_r[2];
	Oid			types_m[3] = {INT8OID, INT8OID, NAMEOID};
	Datum		vals_m[3];
	char	   *caller = GetUserNameFromId(GetUserId(), false);
	bool		isnull;
	char		idbuf[32];
	StringInfoData detail;

	if (!(traffic > 0 && traffic <= 1) || isnan(traffic))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("traffic must be in (0, 1], got %g", traffic)));

	registry_deployments_lock(project_id);

	vals3[0] = Int64GetDatum(project_id);
	vals3[1] = Int64GetDatum(model_id);
	vals3[2] = Float8GetDatum(traffic);
	vals1[0] = Int64GetDatum(project_id);
	vals_r[0] = vals1[0];
	vals_r[1] = CStringGetDatum(caller);
	vals_m[0] = vals1[0];
	vals_m[1] = Int64GetDatum(model_id);
	vals_m[2] = CStringGetDatum(caller);

	SPI_connect();

	/* the model must belong to the project and be ready or deployed */
	if (catalog_execute("SELECT status FROM galaxy.models WHERE id = $2 AND project_id = $1 FOR UPDATE",
						2, types3, vals3, NULL, false, 1,
						SPI_OK_SELECT, "read galaxy.models") != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model " INT64_FORMAT " does not belong to this project", model_id)));
	{
		char	   *status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (strcmp(status, "ready") != 0 && strcmp(status, "deployed") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("model " INT64_FORMAT " is %s and cannot be deployed", model_id, status)));
	}

	/* serialise deployments of one project */
	catalog_execute("SELECT 1 FROM galaxy.projects WHERE id = $1 FOR UPDATE",
					1, types1, vals1, NULL, false, 0,
					SPI_OK_SELECT, "lock galaxy.projects");

	if (traffic >= 1.0)
	{
		/* a new primary retires every active deployment */
		catalog_execute("UPDATE galaxy.deployments SET retired_at = now(), retired_by = $2 "
						"WHERE project_id = $1 AND retired_at IS NULL",
						2, types_r, vals_r, NULL, false, 0,
						SPI_OK_UPDATE, "update galaxy.deployments");
	}
	else
	{
		double		canary_sum;

		if (registry_primary_model(project_id) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("project has no primary deployment to split traffic with"),
					 errhint("Deploy a model with traffic 1.0 first.")));
		/* replace an earlier canary of the same model */
		catalog_execute("UPDATE galaxy.deployments SET retired_at = now(), retired_by = $3 "
						"WHERE project_id = $1 AND model_id = $2 AND retired_at IS NULL",
						3, types_m, vals_m, NULL, false, 0,
						SPI_OK_UPDATE, "update galaxy.deployments");
		catalog_execute("SELECT coalesce(sum(traffic), 0) FROM galaxy.deployments "
						"WHERE project_id = $1 AND retired_at IS NULL AND traffic < 1.0",
						1, types1, vals1, NULL, false, 1,
						SPI_OK_SELECT, "read galaxy.deployments");
		canary_sum = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (canary_sum + traffic >= 1.0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("canary traffic would total %g; it must stay below 1", canary_sum + traffic)));
	}

	{
		Oid			types[6] = {INT8OID, INT8OID, FLOAT8OID, TEXTOID, TEXTOID, NAMEOID};
		Datum		vals[6];
		char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

		vals[0] = vals3[0];
		vals[1] = vals3[1];
		vals[2] = vals3[2];
		vals[3] = CStringGetTextDatum(strategy ? strategy : "specific");
		if (reason)
			vals[4] = CStringGetTextDatum(reason);
		else
			nulls[4] = 'n';
		vals[5] = CStringGetDatum(caller);
		catalog_execute("INSERT INTO galaxy.deployments "
						"(project_id, model_id, traffic, strategy, reason, deployed_by) "
						"VALUES ($1, $2, $3, $4, $5, $6)",
						6, types, vals, nulls, false, 0,
						SPI_OK_INSERT, "write galaxy.deployments");
	}

	/* statuses follow the active deployments */
	catalog_execute("UPDATE galaxy.models m SET status = CASE WHEN EXISTS "
					"  (SELECT 1 FROM galaxy.deployments d WHERE d.model_id = m.id AND d.retired_at IS NULL) "
					"  THEN 'deployed' ELSE 'ready' END "
					"WHERE m.project_id = $1 AND m.status IN ('ready', 'deployed') "
					"AND m.status IS DISTINCT FROM CASE WHEN EXISTS "
					"  (SELECT 1 FROM galaxy.deployments d WHERE d.model_id = m.id AND d.retired_at IS NULL) "
					"  THEN 'deployed' ELSE 'ready' END",
					1, types1, vals1, NULL, false, 0,
					SPI_OK_UPDATE, "update galaxy.models");
	SPI_finish();

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
