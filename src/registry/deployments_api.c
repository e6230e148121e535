/*
 * deployments_api.c — the SQL deployment API on top of the deployment primitive
 * (registry_deploy_model in deploy.c): galaxy.deploy by model or strategy,
 * galaxy.rollback, galaxy.deployed_model, and the approval gate that every
 * insert into galaxy.deployments passes.
 *
 * Strategies:
 *   specific  the given model (galaxy.deploy(project, model [, traffic]))
 *   best      the ready or deployed model with the best key metric: the
 *             project's key_metric, else r2 / accuracy / silhouette by task
 *   latest    the newest ready or deployed model
 *   rollback  the model of the primary deployment before the current one
 *
 * When approval is required (galaxy.require_approval or the project's
 * require_approval), specific/best/latest consume an approved request for the
 * chosen model; a rollback returns to a model that was already in production
 * and needs none.
 *
 * Every strategy, canaries and rollbacks included, deploys only a model that
 * passes the project's quality gates (the primitive enforces them; see
 * gates.h).  galaxy.deploy_override is a galaxy_admin's emergency exit: it
 * deploys a model that fails a gate, without an approved request (approve
 * refuses such a model), and audits the reason and the failed gates.
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "access/htup_details.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "galaxy.h"
#include "algo/algo.h"
#include "eval/metrics.h"
#include "registry/access.h"
#include "registry/approvals.h"
#include "registry/audit.h"
#include "registry/deploy.h"
#include "registry/gates.h"
#include "util/catalog.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_deploy_model);
PG_FUNCTION_INFO_V1(galaxy_deploy_strategy);
PG_FUNCTION_INFO_V1(galaxy_rollback);
PG_FUNCTION_INFO_V1(galaxy_deployed_model);
PG_FUNCTION_INFO_V1(galaxy_deployment_gate);
PG_FUNCTION_INFO_V1(galaxy_deploy_override);

/*
 * The model galaxy.deploy/rollback is deploying right now, after applying
 * the approval rules; the gate trigger on galaxy.deployments lets exactly
 * that deployment through when approval is required.
 */
static int64 deploying_model = 0;

/* Whether model_id is being deployed through the approval rules now. */
static bool
is_cleared(int64 model_id)
{
	return deploying_model != 0 && deploying_model == model_id;
}

/* Call the deployment primitive with the gate open for this model only. */
static void
deploy_cleared(int64 project_id, int64 model_id, double traffic,
			   const char *strategy, const char *reason)
{
	PG_TRY();
	{
		deploying_model = model_id;
		registry_deploy_model(project_id, model_id, traffic, strategy, reason);
	}
	PG_FINALLY();
	{
		deploying_model = 0;
	}
	PG_END_TRY();
}

/*
 * BEFORE INSERT trigger on galaxy.deployments: when the project requires
 * approval, galaxy's code may only record deployments cleared by
 * galaxy.deploy/rollback (after an approved request, or a rollback).  This
 * closes every other path, e.g. an automatic deployment after training.
 * It also checks again, on stored values, that the model passes the
 * project's quality gates (the primitive enforced them already).
 */
Datum
galaxy_deployment_gate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	int			pattno;
	int			mattno;
	bool		isnull;
	int64		project_id;
	int64		model_id;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "galaxy_deployment_gate must be a BEFORE INSERT FOR EACH ROW trigger");

	desc = RelationGetDescr(trigdata->tg_relation);
	pattno = SPI_fnumber(desc, "project_id");
	mattno = SPI_fnumber(desc, "model_id");
	if (pattno <= 0 || mattno <= 0)
		elog(ERROR, "galaxy.deployments has no project_id or model_id column");
	project_id = DatumGetInt64(heap_getattr(trigdata->tg_trigtuple, pattno, desc, &isnull));
	model_id = DatumGetInt64(heap_getattr(trigdata->tg_trigtuple, mattno, desc, &isnull));

	/*
	 * Only galaxy's own code records deployments on behalf of a caller; it
	 * does so as the extension owner (SECURITY_LOCAL_USERID_CHANGE).  Rows
	 * written directly by the table's owner, e.g. a pg_dump restore, pass.
	 */
	if (InLocalUserIdChange() && !is_cleared(model_id) &&
		registry_approval_required(project_id))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("deploying galaxy model %lld needs an approved deployment request",
						(long long) model_id),
				 errdetail("galaxy.require_approval (or the project's require_approval) is on; only galaxy.deploy() with an approved request, or galaxy.rollback(), may deploy."),
				 errhint("Run SELECT galaxy.request_deployment(%lld, 'why'); after another galaxy_approver approves it, run galaxy.deploy(project, %lld). Train with deploy => 'never' meanwhile.",
						 (long long) model_id, (long long) model_id)));
	if (InLocalUserIdChange())
		registry_gates_recheck(project_id, model_id);
	return PointerGetDatum(trigdata->tg_trigtuple);
}

/* A project's id, task and key metric; ERROR if it does not exist. */
static int64
project_info(const char *project, char **task, char **key_metric)
{
	QueryResult *r;

	r = catalog_query("SELECT id, task, key_metric FROM galaxy.projects WHERE name = $1",
					  1, (Oid[]) {TEXTOID}, (Datum[]) {CStringGetTextDatum(project)},
					  NULL, true, 1, SPI_OK_SELECT, "read galaxy.projects");
	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy project \"%s\" does not exist", galaxy_short(project))));
	*task = query_text(r, 0, 2);
	*key_metric = query_text(r, 0, 3);
	return query_int64(r, 0, 1, 0);
}

/* Run a one-column bigint query as the owner; 0 if it returns no row or NULL. */
static int64
query_bigint(const char *sql, int nargs, Oid *types, Datum *values)
{
	/* a fresh snapshot: under the deployment lock, see deploys that committed meanwhile */
	QueryResult *r = catalog_query(sql, nargs, types, values, NULL, false, 1,
								   SPI_OK_SELECT, "read the galaxy catalog");

	return r->nrows == 1 ? query_int64(r, 0, 1, 0) : 0;
}

/* The model a strategy picks (ERROR if none); *why describes the choice. */
static int64
strategy_model(int64 project_id, const char *project, const char *strategy,
			   const char *task, const char *key_metric, char **why)
{
	Oid			t1[1] = {INT8OID};
	Datum		v1[1] = {Int64GetDatum(project_id)};
	int64		model_id;

	if (strcmp(strategy, "best") == 0)
	{
		const char *metric = key_metric;
		bool		lower;
		Oid			t2[2] = {INT8OID, TEXTOID};
		Datum		v2[2];

		if (metric == NULL)
			metric = metrics_key(galaxy_task_from_name(task), NULL);
		lower = metrics_lower_is_better(metric);
		v2[0] = Int64GetDatum(project_id);
		v2[1] = CStringGetTextDatum(metric);
		model_id = query_bigint(lower ?
								"SELECT id FROM galaxy.models WHERE project_id = $1"
								" AND status IN ('ready', 'deployed') AND jsonb_typeof(metrics -> $2) = 'number'"
								" ORDER BY (metrics ->> $2)::float8 ASC, id DESC LIMIT 1" :
								"SELECT id FROM galaxy.models WHERE project_id = $1"
								" AND status IN ('ready', 'deployed') AND jsonb_typeof(metrics -> $2) = 'number'"
								" ORDER BY (metrics ->> $2)::float8 DESC, id DESC LIMIT 1",
								2, t2, v2);
		if (model_id == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("project \"%s\" has no ready model with the metric \"%s\"", project, metric)));
		*why = psprintf("best %s", metric);
	}
	else if (strcmp(strategy, "latest") == 0)
	{
		model_id = query_bigint("SELECT id FROM galaxy.models WHERE project_id = $1"
								" AND status IN ('ready', 'deployed') ORDER BY created_at DESC, id DESC LIMIT 1",
								1, t1, v1);
		if (model_id == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("project \"%s\" has no ready model", project)));
		*why = pstrdup("latest model");
	}
	else if (strcmp(strategy, "rollback") == 0)
	{
		int64		current = registry_primary_model(project_id);

		if (current == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("project \"%s\" has no deployed model to roll back", project)));
		{
			Oid			t2[2] = {INT8OID, INT8OID};
			Datum		v2[2] = {Int64GetDatum(project_id), Int64GetDatum(current)};

			model_id = query_bigint("SELECT d.model_id FROM galaxy.deployments d"
									" JOIN galaxy.models m ON m.id = d.model_id"
									" WHERE d.project_id = $1 AND d.traffic = 1.0 AND d.retired_at IS NOT NULL"
									" AND d.model_id <> $2 AND m.status IN ('ready', 'deployed')"
									" AND d.id < (SELECT max(id) FROM galaxy.deployments"
									"             WHERE project_id = $1 AND model_id = $2 AND traffic = 1.0)"
									" ORDER BY d.id DESC LIMIT 1",
									2, t2, v2);
		}
		if (model_id == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("project \"%s\" has no earlier deployment to roll back to", project),
					 errdetail("Model %lld is the first primary deployment of the project.", (long long) current)));
		*why = psprintf("rollback from model %lld", (long long) current);
	}
	else if (strcmp(strategy, "specific") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("strategy \"specific\" needs a model"),
				 errhint("Call galaxy.deploy('%s', model => <model id>).", project)));
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown deployment strategy \"%s\"", strategy),
				 errhint("Use best, latest, rollback, or galaxy.deploy(project, model) for a specific model.")));
	return model_id;
}

/* The newest active deployment row of a model, as a composite datum. */
static Datum
deployment_row(int64 project_id, int64 model_id, int64 *deployment_id)
{
	QueryResult *r;

	r = catalog_query("SELECT * FROM galaxy.deployments WHERE project_id = $1 AND model_id = $2"
					  " AND retired_at IS NULL ORDER BY id DESC LIMIT 1",
					  2, (Oid[]) {INT8OID, INT8OID},
					  (Datum[]) {Int64GetDatum(project_id), Int64GetDatum(model_id)},
					  NULL, false, 1, SPI_OK_SELECT, "read galaxy.deployments");
	if (r->nrows != 1)
		elog(ERROR, "the deployment of model %lld was not recorded", (long long) model_id);
	Assert(strcmp(NameStr(TupleDescAttr(r->tupdesc, 0)->attname), "id") == 0);
	*deployment_id = query_int64(r, 0, 1, 0);
	return query_row_datum(r, 0);
}

/*
 * Check access and approvals, deploy through the primitive, link the used
 * approval, and return the deployment row.
 */
static Datum
do_deploy(const char *project, int64 project_id, int64 model_id, double traffic,
		  const char *strategy, const char *reason)
{
	int64		approval_id = 0;
	int64		deployment_id;
	Datum		row;

	if (isnan(traffic) || !(traffic > 0 && traffic <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("traffic must be greater than 0 and at most 1, got %g", traffic),
				 errhint("1.0 makes the model the primary; a smaller share adds it as a canary.")));

	/* the model must exist in this project */
	if (query_bigint("SELECT project_id FROM galaxy.models WHERE id = $1", 1,
					 (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(model_id)}) != project_id)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy model %lld is not a model of project \"%s\"", (long long) model_id, project)));

	/* a rollback returns to a model that served; an override needs none (see above) */
	if (strcmp(strategy, "rollback") != 0 && strcmp(strategy, "override") != 0)
		approval_id = registry_consume_approval(project_id, model_id);
	deploy_cleared(project_id, model_id, traffic, strategy, reason);

	row = deployment_row(project_id, model_id, &deployment_id);
	registry_link_approval(approval_id, deployment_id);
	return row;
}

/* galaxy.deploy(project, model, traffic, reason) */
Datum
galaxy_deploy_model(PG_FUNCTION_ARGS)
{
	char	   *project;
	int64		model_id;
	double		traffic = PG_ARGISNULL(2) ? 1.0 : PG_GETARG_FLOAT8(2);
	char	   *reason = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	int64		project_id;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project and model must not be NULL")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	model_id = PG_GETARG_INT64(1);
	project_id = registry_check_project_access_by_name(project, "deploy");
	PG_RETURN_DATUM(do_deploy(project, project_id, model_id, traffic, "specific", reason));
}

/* galaxy.deploy(project, strategy, reason) */
Datum
galaxy_deploy_strategy(PG_FUNCTION_ARGS)
{
	char	   *project;
	char	   *strategy;
	char	   *reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *task = NULL;
	char	   *key_metric = NULL;
	char	   *why = NULL;
	int64		project_id;
	int64		model_id;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project and strategy must not be NULL")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	strategy = text_to_cstring(PG_GETARG_TEXT_PP(1));
	project_id = registry_check_project_access_by_name(project,
													   strcmp(strategy, "rollback") == 0 ? "rollback" : "deploy");
	(void) project_info(project, &task, &key_metric);
	/* choose under the project's deployment lock: concurrent strategies act in turn */
	registry_deployments_lock(project_id);
	model_id = strategy_model(project_id, project, strategy, task, key_metric, &why);
	PG_RETURN_DATUM(do_deploy(project, project_id, model_id, 1.0, strategy,
							  reason ? reason : why));
}

/* galaxy.rollback(project, reason) */
Datum
galaxy_rollback(PG_FUNCTION_ARGS)
{
	char	   *project;
	char	   *reason = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *task = NULL;
	char	   *key_metric = NULL;
	char	   *why = NULL;
	int64		project_id;
	int64		model_id;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project must not be NULL")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	project_id = registry_check_project_access_by_name(project, "rollback");
	(void) project_info(project, &task, &key_metric);
	/* choose under the project's deployment lock: concurrent rollbacks act in turn */
	registry_deployments_lock(project_id);
	model_id = strategy_model(project_id, project, "rollback", task, key_metric, &why);
	PG_RETURN_DATUM(do_deploy(project, project_id, model_id, 1.0, "rollback",
							  reason ? reason : why));
}

/*
 * galaxy.deployed_model(project, at): the primary model serving the project
 * at time 'at' (NULL if none), from the temporal galaxy.deployments.
 */
Datum
galaxy_deployed_model(PG_FUNCTION_ARGS)
{
	char	   *project;
	TimestampTz at;
	int64		project_id;
	int64		model_id;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	at = PG_ARGISNULL(1) ? GetCurrentTimestamp() : PG_GETARG_TIMESTAMPTZ(1);
	project_id = registry_check_project_access_by_name(project, "read");

	model_id = query_bigint("SELECT model_id FROM galaxy.deployments"
							" WHERE project_id = $1 AND traffic = 1.0"
							" AND deployed_at <= $2 AND (retired_at IS NULL OR retired_at > $2)"
							" ORDER BY deployed_at DESC, id DESC LIMIT 1",
							2, (Oid[]) {INT8OID, TIMESTAMPTZOID},
							(Datum[]) {Int64GetDatum(project_id), TimestampTzGetDatum(at)});
	if (model_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(model_id);
}

/*
 * galaxy.deploy_override(project, model, reason, traffic): a galaxy_admin
 * deploys a model that fails one of the project's quality gates.  Needs a
 * reason; refused for a model that passes every gate (use galaxy.deploy).
 * Audited as "override_gates" with the reason and the failed gates, then as
 * the deploy itself (strategy "override").
 */
Datum
galaxy_deploy_override(PG_FUNCTION_ARGS)
{
	char	   *project;
	int64		model_id;
	char	   *reason;
	double		traffic = PG_ARGISNULL(3) ? 1.0 : PG_GETARG_FLOAT8(3);
	char	   *caller = GetUserNameFromId(GetUserId(), false);
	int64		project_id;
	GateResult *gates;
	int			n;
	int			nfailed = 0;
	const char *p;
	volatile Datum row = (Datum) 0;
	StringInfoData js;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project and model must not be NULL")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	model_id = PG_GETARG_INT64(1);
	if (!registry_is_admin(GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to override the deployment gates of project \"%s\"",
						galaxy_short(project)),
				 errdetail("Role \"%s\" is not a member of galaxy_admin; only a galaxy_admin may deploy a model that fails a gate.",
						   caller),
				 errhint("Deploy a model that passes the gates with galaxy.deploy(), or ask a galaxy_admin.")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a gate override needs a reason"),
				 errhint("Say why in reason => '...': it goes into the audit log.")));
	reason = text_to_cstring(PG_GETARG_TEXT_PP(2));
	for (p = reason; *p && isspace((unsigned char) *p); p++)
		;
	if (*p == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a gate override needs a reason, got an empty one"),
				 errhint("Say why in reason => '...': it goes into the audit log.")));

	project_id = registry_check_project_access_by_name(project, "deploy");
	if (query_bigint("SELECT project_id FROM galaxy.models WHERE id = $1", 1,
					 (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(model_id)}) != project_id)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy model %lld is not a model of project \"%s\"", (long long) model_id, project)));

	/* under the project's deployment lock: the gates cannot change meanwhile */
	registry_deployments_lock(project_id);
	n = registry_gates_evaluate(model_id, true, &gates);
	for (int i = 0; i < n; i++)
		if (registry_gate_failed(&gates[i]))
			nfailed++;
	if (nfailed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("galaxy model %lld passes every deployment gate of project \"%s\"; there is nothing to override",
						(long long) model_id, project),
				 errhint("Deploy it with galaxy.deploy('%s', %lld).", project, (long long) model_id)));

	initStringInfo(&js);
	details_begin(&js);
	details_int(&js, "project_id", project_id);
	details_str(&js, "project", project);
	details_str(&js, "reason", reason);
	details_float(&js, "traffic", traffic);
	details_json(&js, "failed_gates", registry_gates_failures_json(gates, n));
	galaxy_audit("override_gates", "model", psprintf(INT64_FORMAT, model_id), details_end(&js));

	PG_TRY();
	{
		registry_gates_set_override(model_id);
		row = do_deploy(project, project_id, model_id, traffic, "override", reason);
	}
	PG_FINALLY();
	{
		registry_gates_set_override(0);
	}
	PG_END_TRY();
	PG_RETURN_DATUM(row);
}
