/*
 * deploy.c — the deployment primitive every deploy path uses (train's
 * deploy policy, galaxy.deploy strategies, rollback, approvals).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "registry/audit.h"
#include "registry/deploy.h"
#include "util/catalog.h"

/* Run one catalog statement as the extension owner (caller is SPI-connected). */
static void
exec_owner(const char *sql, int nargs, Oid *types, Datum *values, int expected)
{
	CatalogAccess ca = {0};
	int			rc;

	catalog_access_begin(&ca);
	rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);
	catalog_access_end(&ca);
	if (rc != expected)
		elog(ERROR, "galaxy catalog statement failed: %s", SPI_result_code_string(rc));
}

/* Tell every backend (at commit) that deployments changed. */
void
registry_deployments_changed(void)
{
	CacheInvalidateRelcacheByRelid(galaxy_relation_oid("deployments"));
}

/* The primary deployed model of a project (0 if none). */
int64
registry_primary_model(int64 project_id)
{
	int64		model_id = 0;
	CatalogAccess ca = {0};
	int			rc;

	SPI_connect();
	catalog_access_begin(&ca);
	rc = SPI_execute_with_args("SELECT model_id FROM galaxy.deployments "
							   "WHERE project_id = $1 AND retired_at IS NULL AND traffic = 1.0 "
							   "ORDER BY deployed_at DESC, id DESC LIMIT 1",
							   1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(project_id)},
							   NULL, false, 1);
	catalog_access_end(&ca);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read deployments: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
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
	CatalogAccess ca = {0};
	int			rc;
	bool		isnull;
	char		idbuf[32];
	StringInfoData detail;

	if (!(traffic > 0 && traffic <= 1) || isnan(traffic))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("traffic must be in (0, 1], got %g", traffic)));

	vals3[0] = Int64GetDatum(project_id);
	vals3[1] = Int64GetDatum(model_id);
	vals3[2] = Float8GetDatum(traffic);
	vals1[0] = Int64GetDatum(project_id);

	SPI_connect();

	/* the model must belong to the project and be ready or deployed */
	catalog_access_begin(&ca);
	rc = SPI_execute_with_args("SELECT status FROM galaxy.models WHERE id = $2 AND project_id = $1 FOR UPDATE",
							   2, types3, vals3, NULL, false, 1);
	catalog_access_end(&ca);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read model: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
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
	exec_owner("SELECT 1 FROM galaxy.projects WHERE id = $1 FOR UPDATE", 1, types1, vals1, SPI_OK_SELECT);

	if (traffic >= 1.0)
	{
		/* a new primary retires every active deployment */
		exec_owner("UPDATE galaxy.deployments SET retired_at = now(), retired_by = current_user "
				   "WHERE project_id = $1 AND retired_at IS NULL", 1, types1, vals1, SPI_OK_UPDATE);
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
		exec_owner("UPDATE galaxy.deployments SET retired_at = now(), retired_by = current_user "
				   "WHERE project_id = $1 AND model_id = $2 AND retired_at IS NULL",
				   2, types3, vals3, SPI_OK_UPDATE);
		catalog_access_begin(&ca);
		rc = SPI_execute_with_args("SELECT coalesce(sum(traffic), 0) FROM galaxy.deployments "
								   "WHERE project_id = $1 AND retired_at IS NULL AND traffic < 1.0",
								   1, types1, vals1, NULL, false, 1);
		catalog_access_end(&ca);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "could not read deployments");
		canary_sum = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (canary_sum + traffic >= 1.0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("canary traffic would total %g; it must stay below 1", canary_sum + traffic)));
	}

	{
		Oid			types[5] = {INT8OID, INT8OID, FLOAT8OID, TEXTOID, TEXTOID};
		Datum		vals[5];
		char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

		vals[0] = vals3[0];
		vals[1] = vals3[1];
		vals[2] = vals3[2];
		vals[3] = CStringGetTextDatum(strategy ? strategy : "specific");
		if (reason)
			vals[4] = CStringGetTextDatum(reason);
		else
			nulls[4] = 'n';
		catalog_access_begin(&ca);
		rc = SPI_execute_with_args("INSERT INTO galaxy.deployments "
								   "(project_id, model_id, traffic, strategy, reason, deployed_by) "
								   "VALUES ($1, $2, $3, $4, $5, current_user)",
								   5, types, vals, nulls, false, 0);
		catalog_access_end(&ca);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "could not record deployment: %s", SPI_result_code_string(rc));
	}

	/* statuses follow the active deployments */
	exec_owner("UPDATE galaxy.models m SET status = CASE WHEN EXISTS "
			   "  (SELECT 1 FROM galaxy.deployments d WHERE d.model_id = m.id AND d.retired_at IS NULL) "
			   "  THEN 'deployed' ELSE 'ready' END "
			   "WHERE m.project_id = $1 AND m.status IN ('ready', 'deployed') "
			   "AND m.status IS DISTINCT FROM CASE WHEN EXISTS "
			   "  (SELECT 1 FROM galaxy.deployments d WHERE d.model_id = m.id AND d.retired_at IS NULL) "
			   "  THEN 'deployed' ELSE 'ready' END",
			   1, types1, vals1, SPI_OK_UPDATE);
	SPI_finish();

	registry_deployments_changed();

	snprintf(idbuf, sizeof(idbuf), INT64_FORMAT, model_id);
	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"project_id\": " INT64_FORMAT ", \"traffic\": %.17g, \"strategy\": ",
					 project_id, traffic);
	escape_json(&detail, strategy ? strategy : "specific");
	appendStringInfoString(&detail, ", \"reason\": ");
	if (reason)
		escape_json(&detail, reason);
	else
		appendStringInfoString(&detail, "null");
	appendStringInfoChar(&detail, '}');
	galaxy_audit("deploy", "model", idbuf,
				 DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(detail.data))));
}
