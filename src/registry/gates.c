/*
 * gates.c — deployment quality gates: galaxy.set_gate / drop_gate /
 * check_gates, galaxy.describe(model id), the evaluation every deploy path
 * runs (through galaxy.gate_results), its error, and the on-demand latency
 * measurement of models registered without one.
 *
 * A gate is "metric op threshold" (op: >=, >, <=, <) on a project, or on
 * every project (project_id NULL, set with project => '*').  A model's
 * metric is a number in its metrics jsonb (held-out metrics, and
 * predict_p50_ms / predict_p99_ms measured when it was registered),
 * size_bytes from its row, or a latency measured on demand and kept in
 * galaxy.model_latency.  A model without the gated metric fails the gate.
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "galaxy.h"
#include "model/model_latency.h"
#include "registry/access.h"
#include "registry/audit.h"
#include "registry/gates.h"
#include "registry/refusal_audit.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_set_gate);
PG_FUNCTION_INFO_V1(galaxy_drop_gate);
PG_FUNCTION_INFO_V1(galaxy_check_gates);
PG_FUNCTION_INFO_V1(galaxy_describe_model);

/* The model galaxy.deploy_override is deploying (0: none). */
static int64 override_model = 0;

/* The model galaxy.deploy_override is deploying now: the gates let it through. */
void
registry_gates_set_override(int64 model_id)
{
	override_model = model_id;
}

/* Whether a gate metric is a latency galaxy measures. */
static bool
is_latency_metric(const char *metric)
{
	return strcmp(metric, "predict_p50_ms") == 0 || strcmp(metric, "predict_p99_ms") == 0;
}

/* Whether a result fails its gate (failed, missing or not measured). */
bool
registry_gate_failed(const GateResult *g)
{
	return strcmp(g->status, "passed") != 0;
}

/* The gate results of a model as rows of galaxy.gate_results, project gates first. */
static QueryResult *
gate_rows(int64 model_id, const char *columns)
{
	return catalog_query(psprintf("SELECT %s FROM galaxy.gate_results WHERE model = $1 "
								  "ORDER BY scope DESC, metric", columns),
						 1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(model_id)},
						 NULL, false, 0, SPI_OK_SELECT, "read galaxy.gate_results");
}

/*
 * Measure a model's single-row predict latency now (as the calling role, on
 * its training relation when that role can read it; see
 * model/model_latency.h) and keep it in galaxy.model_latency.  A model that
 * cannot be measured stays unmeasured (its latency gates fail).
 */
static void
measure_latency(int64 model_id)
{
	ModelLatency lat;

	if (!model_latency_measure(model_id, &lat))
		return;
	catalog_command("INSERT INTO galaxy.model_latency"
					" (model_id, project_id, p50_ms, p99_ms, sample_rows, source, measured_by)"
					" SELECT m.id, m.project_id, $2, $3, $4, $5, $6 FROM galaxy.models m WHERE m.id = $1"
					" ON CONFLICT (model_id) DO NOTHING",
					6, (Oid[]) {INT8OID, FLOAT8OID, FLOAT8OID, INT4OID, TEXTOID, NAMEOID},
					(Datum[]) {Int64GetDatum(model_id), Float8GetDatum(lat.p50_ms),
							   Float8GetDatum(lat.p99_ms), Int32GetDatum(lat.rows),
							   CStringGetTextDatum(lat.synthetic ? "synthetic" : "relation"),
							   CStringGetDatum(GetUserNameFromId(GetUserId(), false))},
					NULL, SPI_OK_INSERT, "write galaxy.model_latency");
}

/*
 * Whether any gate could apply to a model: a gate of its project, a default
 * gate, or its compression guard.  galaxy.gate_results has no row for the
 * model otherwise, and this is the usual case: a simple lookup instead of
 * the view, which a fresh backend pays milliseconds to plan, three times
 * per deployment.  Not read-only: the model may have been registered by
 * this very statement (train), and only a new snapshot sees it.  The
 * coalesce matters: without the key, jsonb_typeof is NULL, false OR NULL is
 * NULL, and a NULL here would mean "may apply" for every ordinary model.
 */
static bool
gates_may_apply(int64 model_id)
{
	QueryResult *r;

	r = catalog_query("SELECT EXISTS (SELECT 1 FROM galaxy.deployment_gates g"
					  "               WHERE g.project_id = m.project_id OR g.project_id IS NULL)"
					  "       OR coalesce(jsonb_typeof(m.metrics -> 'max_metric_drop') = 'number', false)"
					  "  FROM galaxy.models m WHERE m.id = $1",
					  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(model_id)},
					  NULL, false, 1, SPI_OK_SELECT, "read galaxy.deployment_gates");
	return r->nrows == 1 && query_bool(r, 0, 1, true);
}

/* The gates that apply to a model, evaluated; see gates.h. */
int
registry_gates_evaluate(int64 model_id, bool measure, GateResult **results)
{
	const char *columns = "metric, op, threshold, scope, value, status, margin";
	QueryResult *r;
	GateResult *res;

	if (!gates_may_apply(model_id))
	{
		*results = palloc0(sizeof(GateResult));
		return 0;
	}
	r = gate_rows(model_id, columns);

	if (measure)
	{
		for (uint64 i = 0; i < r->nrows; i++)
		{
			char	   *status = query_text(r, i, 6);

			if (strcmp(status, "not_measured") == 0)
			{
				measure_latency(model_id);
				r = gate_rows(model_id, columns);
				break;
			}
		}
	}

	res = palloc0(sizeof(GateResult) * Max(r->nrows, 1));
	for (uint64 i = 0; i < r->nrows; i++)
	{
		bool		isnull;
		Datum		v;

		res[i].metric = query_text(r, i, 1);
		res[i].op = query_text(r, i, 2);
		res[i].threshold = query_float8(r, i, 3, NAN);
		res[i].scope = query_text(r, i, 4);
		v = query_datum(r, i, 5, &isnull);
		res[i].has_value = !isnull;
		res[i].value = isnull ? NAN : DatumGetFloat8(v);
		res[i].status = query_text(r, i, 6);
		res[i].margin = query_float8(r, i, 7, NAN);
	}
	*results = res;
	return (int) r->nrows;
}

/* "accuracy >= 0.975": a gate as users write it. */
static char *
gate_text(const GateResult *g)
{
	return psprintf("%s %s %s", g->metric, g->op, float8out_internal(g->threshold));
}

/* A failed gate with its value: "accuracy >= 0.975 (measured 0.964602, misses by 0.0103982)". */
static char *
failure_text(const GateResult *g)
{
	if (strcmp(g->status, "missing") == 0)
		return psprintf("%s (the model has no metric \"%s\")", gate_text(g), g->metric);
	if (strcmp(g->status, "not_measured") == 0)
		return psprintf("%s (not measured)", gate_text(g));
	return psprintf("%s (measured %.6g, misses by %.6g)", gate_text(g), g->value, -g->margin);
}

/* The failed gates as "a (..); b (..)", and their count. */
static char *
failures_list(const GateResult *res, int n, int *nfailed)
{
	StringInfoData s;

	initStringInfo(&s);
	*nfailed = 0;
	for (int i = 0; i < n; i++)
	{
		if (!registry_gate_failed(&res[i]))
			continue;
		if ((*nfailed)++ > 0)
			appendStringInfoString(&s, "; ");
		appendStringInfoString(&s, failure_text(&res[i]));
	}
	return s.data;
}

/* A project's name by id (for messages). */
static char *
project_name(int64 project_id)
{
	QueryResult *r = catalog_query("SELECT name FROM galaxy.projects WHERE id = $1",
								   1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(project_id)},
								   NULL, true, 1, SPI_OK_SELECT, "read galaxy.projects");

	return r->nrows == 1 ? query_text(r, 0, 1) : psprintf(INT64_FORMAT, project_id);
}

/* ERROR 23514 naming the first failed gate of evaluated results, if any fails. */
static void
report_failures(int64 project_id, int64 model_id, const GateResult *res, int n, const char *prefix)
{
	int			nfailed;
	char	   *list = failures_list(res, n, &nfailed);
	const GateResult *first = NULL;
	bool		any_missing = false;
	char	   *what;
	char	   *project;

	if (nfailed == 0)
		return;
	for (int i = 0; i < n; i++)
	{
		if (!registry_gate_failed(&res[i]))
			continue;
		if (first == NULL)
			first = &res[i];
		if (strcmp(res[i].status, "missing") == 0)
			any_missing = true;
	}
	if (strcmp(first->status, "missing") == 0)
		what = psprintf("the model has no metric \"%s\"", first->metric);
	else if (strcmp(first->status, "not_measured") == 0)
		what = psprintf("its %s is not measured", first->metric);
	else
		what = psprintf("%s = %.6g", first->metric, first->value);
	project = project_name(project_id);
	/* the refusal is audited although this ERROR rolls the transaction back */
	refusal_audit_keep(project_id, model_id, gate_text(first), nfailed);
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("%sgalaxy model %lld fails the deployment gate \"%s\" of project \"%s\": %s",
					prefix ? prefix : "", (long long) model_id, gate_text(first), project, what),
			 errdetail("The model fails %d of the %d gates that apply to it: %s.%s",
					   nfailed, n, list,
					   any_missing ? " A model without the gated metric fails the gate." : ""),
			 errhint("Deploy a model that passes them (SELECT * FROM galaxy.check_gates(model) shows the margins), change the gates with galaxy.set_gate(), or, in an emergency, a galaxy_admin may run galaxy.deploy_override('%s', %lld, 'reason').",
					 project, (long long) model_id)));
}

/* ERROR 23514 unless the model passes every gate; see gates.h. */
void
registry_gates_enforce(int64 project_id, int64 model_id, const char *prefix)
{
	GateResult *res;
	int			n;

	if (override_model != 0 && override_model == model_id)
		return;
	n = registry_gates_evaluate(model_id, true, &res);
	report_failures(project_id, model_id, res, n, prefix);
}

/* The trigger's check, on stored values only; see gates.h. */
void
registry_gates_recheck(int64 project_id, int64 model_id)
{
	GateResult *res;
	int			n;

	if (override_model != 0 && override_model == model_id)
		return;
	n = registry_gates_evaluate(model_id, false, &res);
	report_failures(project_id, model_id, res, n, NULL);
}

/* NULL when the model passes every gate, else its failures as text. */
char *
registry_gates_refusal(int64 model_id)
{
	GateResult *res;
	int			n = registry_gates_evaluate(model_id, true, &res);
	int			nfailed;
	char	   *list = failures_list(res, n, &nfailed);

	if (nfailed == 0)
		return NULL;
	return psprintf("it fails the deployment gate%s %s", nfailed > 1 ? "s" : "", list);
}

/* A double as JSON (null when not finite). */
static void
json_number(StringInfo s, double v)
{
	if (isfinite(v))
		appendStringInfoString(s, float8out_internal(v));
	else
		appendStringInfoString(s, "null");
}

/* The failed gates as a JSON array of objects. */
char *
registry_gates_failures_json(const GateResult *res, int n)
{
	StringInfoData s;
	bool		any = false;

	initStringInfo(&s);
	appendStringInfoChar(&s, '[');
	for (int i = 0; i < n; i++)
	{
		const GateResult *g = &res[i];

		if (!registry_gate_failed(g))
			continue;
		if (any)
			appendStringInfoString(&s, ", ");
		any = true;
		appendStringInfoString(&s, "{\"gate\": ");
		escape_json(&s, gate_text(g));
		appendStringInfoString(&s, ", \"metric\": ");
		escape_json(&s, g->metric);
		appendStringInfoString(&s, ", \"op\": ");
		escape_json(&s, g->op);
		appendStringInfoString(&s, ", \"threshold\": ");
		json_number(&s, g->threshold);
		appendStringInfoString(&s, ", \"scope\": ");
		escape_json(&s, g->scope);
		appendStringInfoString(&s, ", \"value\": ");
		json_number(&s, g->has_value ? g->value : NAN);
		appendStringInfoString(&s, ", \"status\": ");
		escape_json(&s, g->status);
		appendStringInfoString(&s, ", \"margin\": ");
		json_number(&s, g->margin);
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoChar(&s, ']');
	return s.data;
}

/* ------------------------------------------------------------------------
 * SQL functions
 * ------------------------------------------------------------------------
 */

/* Text argument i; ERROR 22004 naming it when NULL. */
static char *
required_text(FunctionCallInfo fcinfo, int i, const char *name)
{
	if (PG_ARGISNULL(i))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
	return text_to_cstring(PG_GETARG_TEXT_PP(i));
}

/* ERROR 22023 unless metric is a gate metric name. */
static void
check_metric_name(const char *metric)
{
	size_t		n = strlen(metric);
	bool		ok = n > 0 && n < NAMEDATALEN && islower((unsigned char) metric[0]);

	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the metric of a gate must not be empty"),
				 errhint("Name a metric of the models' metrics (accuracy, roc_auc, f1_macro, rmse, r2, ...), size_bytes, predict_p50_ms or predict_p99_ms.")));
	for (size_t i = 1; ok && i < n; i++)
		if (!(islower((unsigned char) metric[i]) || isdigit((unsigned char) metric[i]) || metric[i] == '_'))
			ok = false;
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid gate metric \"%s\"", galaxy_short(metric)),
				 errdetail("A metric name is a lower-case letter followed by at most 62 lower-case letters, digits or underscores, as the keys of galaxy.models.metrics are."),
				 errhint("Name a metric of the models' metrics (accuracy, roc_auc, f1_macro, rmse, r2, ...), size_bytes, predict_p50_ms or predict_p99_ms.")));
}

/*
 * The project a gate function names: 0 for '*' (every project; galaxy_admin
 * only), else its id once the caller's privilege for 'action' is checked.
 */
static int64
gate_project(const char *project, const char *action)
{
	if (strcmp(project, "*") == 0)
	{
		if (!registry_is_admin(GetUserId()))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("only a galaxy_admin may %s a default gate (project \"*\")",
							strcmp(action, "set_gate") == 0 ? "set" : "drop"),
					 errdetail("A default gate applies to every project.")));
		return 0;
	}
	return registry_check_project_access_by_name(project, action);
}

/* The id of a gate's project as a nullable parameter: value and null flag. */
static Datum
project_param(int64 project_id, char *null_flag)
{
	*null_flag = project_id == 0 ? 'n' : ' ';
	return Int64GetDatum(project_id);
}

/*
 * After a gate is set: a NOTICE when no model of the project reports the
 * metric (a typo fails every model), and one per deployed model that the
 * gate would refuse now (it keeps serving: gates apply when a model starts
 * serving).
 */
static void
notice_gate_effects(int64 project_id, const char *project, const char *metric)
{
	QueryResult *r;
	char		nulls[2] = {' ', ' '};
	Datum		args[2];

	if (project_id != 0 && !is_latency_metric(metric) && strcmp(metric, "size_bytes") != 0)
	{
		r = catalog_query("SELECT count(*), count(*) FILTER (WHERE jsonb_typeof(metrics -> $2) = 'number')"
						  " FROM galaxy.models WHERE project_id = $1 AND status <> 'training'",
						  2, (Oid[]) {INT8OID, TEXTOID},
						  (Datum[]) {Int64GetDatum(project_id), CStringGetTextDatum(metric)},
						  NULL, true, 1, SPI_OK_SELECT, "read galaxy.models");
		if (query_int64(r, 0, 1, 0) > 0 && query_int64(r, 0, 2, 0) == 0)
			ereport(NOTICE,
					(errmsg("no model of project \"%s\" reports the metric \"%s\"; a model without it fails the gate",
							project, metric)));
	}

	args[0] = project_param(project_id, &nulls[0]);
	args[1] = CStringGetTextDatum(metric);
	r = catalog_query("SELECT r.project, r.model, r.status, r.value FROM galaxy.gate_results r"
					  " WHERE r.metric = $2 AND r.status IN ('failed', 'missing')"
					  " AND ($1 IS NULL OR r.project_id = $1)"
					  " AND EXISTS (SELECT 1 FROM galaxy.deployments d"
					  "             WHERE d.model_id = r.model AND d.retired_at IS NULL)"
					  " ORDER BY r.project, r.model",
					  2, (Oid[]) {INT8OID, TEXTOID}, args, nulls, false, 0,
					  SPI_OK_SELECT, "read galaxy.gate_results");
	for (uint64 i = 0; i < r->nrows; i++)
	{
		char	   *value = query_text(r, i, 4) ?
			psprintf("%s = %.6g", metric, query_float8(r, i, 4, NAN)) :
			psprintf("it has no metric \"%s\"", metric);

		ereport(NOTICE,
				(errmsg("galaxy model %s, deployed in project \"%s\", fails the new gate (%s); it keeps serving",
						query_text(r, i, 2), query_text(r, i, 1), value),
				 errdetail("Gates are checked when a model starts serving; galaxy.gate_results shows every model's results.")));
	}
}

/* galaxy.set_gate(project, metric, op, threshold) */
Datum
galaxy_set_gate(PG_FUNCTION_ARGS)
{
	char	   *project = required_text(fcinfo, 0, "project");
	char	   *metric = required_text(fcinfo, 1, "metric");
	char	   *op = required_text(fcinfo, 2, "op");
	double		threshold;
	int64		project_id;
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	Datum		args[5];
	QueryResult *r;
	char	   *old_op = NULL;
	double		old_threshold = NAN;
	StringInfoData js;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("threshold must not be NULL")));
	threshold = PG_GETARG_FLOAT8(3);
	check_metric_name(metric);
	if (strcmp(op, ">=") != 0 && strcmp(op, ">") != 0 && strcmp(op, "<=") != 0 && strcmp(op, "<") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown gate comparison \"%s\"", galaxy_short(op)),
				 errhint("Use >=, >, <= or <, e.g. galaxy.set_gate('%s', 'accuracy', '>=', 0.975).",
						 galaxy_short(project))));
	if (!isfinite(threshold))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the threshold of a gate must be a finite number, got %s",
						float8out_internal(threshold))));
	project_id = gate_project(project, "set_gate");

	/* the gate it replaces, locked */
	args[0] = project_param(project_id, &nulls[0]);
	args[1] = CStringGetTextDatum(metric);
	r = catalog_query("SELECT op, threshold FROM galaxy.deployment_gates"
					  " WHERE project_id IS NOT DISTINCT FROM $1 AND metric = $2 FOR UPDATE",
					  2, (Oid[]) {INT8OID, TEXTOID}, args, nulls, false, 1,
					  SPI_OK_SELECT, "read galaxy.deployment_gates");
	if (r->nrows == 1)
	{
		old_op = query_text(r, 0, 1);
		old_threshold = query_float8(r, 0, 2, NAN);
	}

	args[2] = CStringGetTextDatum(op);
	args[3] = Float8GetDatum(threshold);
	args[4] = CStringGetDatum(GetUserNameFromId(GetUserId(), false));
	catalog_command("INSERT INTO galaxy.deployment_gates (project_id, metric, op, threshold, set_by)"
					" VALUES ($1, $2, $3, $4, $5)"
					" ON CONFLICT (project_id, metric) DO UPDATE"
					" SET op = excluded.op, threshold = excluded.threshold,"
					"     set_by = excluded.set_by, set_at = now()",
					5, (Oid[]) {INT8OID, TEXTOID, TEXTOID, FLOAT8OID, NAMEOID}, args, nulls,
					SPI_OK_INSERT, "write galaxy.deployment_gates");

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	details_str(&js, "metric", metric);
	details_str(&js, "op", op);
	details_json(&js, "threshold", float8out_internal(threshold));
	details_str(&js, "previous_op", old_op);
	details_json(&js, "previous_threshold", isnan(old_threshold) ? NULL : float8out_internal(old_threshold));
	galaxy_audit("set_gate", "project", project_id ? psprintf(INT64_FORMAT, project_id) : "*",
				 details_end(&js));

	notice_gate_effects(project_id, project, metric);
	PG_RETURN_VOID();
}

/* galaxy.drop_gate(project, metric) → whether there was such a gate */
Datum
galaxy_drop_gate(PG_FUNCTION_ARGS)
{
	char	   *project = required_text(fcinfo, 0, "project");
	char	   *metric = required_text(fcinfo, 1, "metric");
	int64		project_id;
	char		nulls[2] = {' ', ' '};
	Datum		args[2];
	QueryResult *r;
	StringInfoData js;

	if (metric[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the metric of a gate must not be empty")));
	project_id = gate_project(project, "drop_gate");
	args[0] = project_param(project_id, &nulls[0]);
	args[1] = CStringGetTextDatum(metric);
	r = catalog_query("DELETE FROM galaxy.deployment_gates"
					  " WHERE project_id IS NOT DISTINCT FROM $1 AND metric = $2"
					  " RETURNING op, threshold",
					  2, (Oid[]) {INT8OID, TEXTOID}, args, nulls, false, 0,
					  SPI_OK_DELETE_RETURNING, "write galaxy.deployment_gates");
	if (r->nrows == 0)
		PG_RETURN_BOOL(false);

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	details_str(&js, "metric", metric);
	details_str(&js, "op", query_text(r, 0, 1));
	details_json(&js, "threshold", float8out_internal(query_float8(r, 0, 2, NAN)));
	galaxy_audit("drop_gate", "project", project_id ? psprintf(INT64_FORMAT, project_id) : "*",
				 details_end(&js));
	PG_RETURN_BOOL(true);
}

/* The project of a model; ERROR 42704 if there is no such model. */
static int64
model_project(int64 model_id)
{
	QueryResult *r = catalog_query("SELECT project_id FROM galaxy.models WHERE id = $1",
								   1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(model_id)},
								   NULL, true, 1, SPI_OK_SELECT, "read galaxy.models");

	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy model %lld does not exist", (long long) model_id)));
	return query_int64(r, 0, 1, 0);
}

/*
 * galaxy.check_gates(model) → SETOF galaxy.gate_results: the model's gates,
 * measuring its latency first when a latency gate needs it.
 */
Datum
galaxy_check_gates(PG_FUNCTION_ARGS)
{
	int64		model_id = PG_GETARG_INT64(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		project_id = model_project(model_id);
	GateResult *res;
	QueryResult *r;

	registry_check_model_access(project_id, model_id, "describe");
	(void) registry_gates_evaluate(model_id, true, &res);

	InitMaterializedSRF(fcinfo, 0);
	r = gate_rows(model_id, "*");
	if (r->nrows > 0 && r->tupdesc->natts != rsinfo->setDesc->natts)
		elog(ERROR, "galaxy.gate_results has %d columns, galaxy.check_gates returns %d",
			 r->tupdesc->natts, rsinfo->setDesc->natts);
	for (uint64 i = 0; i < r->nrows; i++)
		tuplestore_puttuple(rsinfo->setResult, r->rows[i]);
	return (Datum) 0;
}

/*
 * galaxy.describe(model bigint) → jsonb: describe() of the model's value,
 * with its project, version, status, metrics and gate results, and for a
 * compressed model its lineage (galaxy.model_compressions).
 */
Datum
galaxy_describe_model(PG_FUNCTION_ARGS)
{
	int64		model_id = PG_GETARG_INT64(0);
	int64		project_id = model_project(model_id);
	QueryResult *r;
	bool		isnull;
	Datum		d;

	registry_check_model_access(project_id, model_id, "describe");
	r = catalog_query("SELECT coalesce(galaxy.describe(m.model), '{}') || jsonb_build_object("
					  "  'model', m.id, 'project', p.name, 'version', m.version, 'status', m.status,"
					  "  'metrics', m.metrics,"
					  "  'gates', coalesce((SELECT jsonb_agg(jsonb_build_object("
					  "      'gate', g.gate, 'metric', g.metric, 'op', g.op, 'threshold', g.threshold,"
					  "      'scope', g.scope, 'value', g.value, 'value_source', g.value_source,"
					  "      'status', g.status, 'passed', g.passed, 'margin', g.margin)"
					  "    ORDER BY g.scope DESC, g.metric)"
					  "    FROM galaxy.gate_results g WHERE g.model = m.id), '[]'::jsonb))"
					  " || coalesce((SELECT jsonb_build_object('compressed_from', jsonb_build_object("
					  "      'parent', c.parent, 'parent_version', c.parent_version, 'method', c.method,"
					  "      'options', c.options, 'measured_on', c.measured_on, 'main_metric', c.main_metric,"
					  "      'parent_value', c.parent_value, 'value', c.value, 'metric_drop', c.metric_drop,"
					  "      'max_metric_drop', c.max_metric_drop, 'guard_passed', c.guard_passed,"
					  "      'size_ratio', c.size_ratio, 'speedup', c.speedup))"
					  "    FROM galaxy.model_compressions c WHERE c.model = m.id), '{}'::jsonb)"
					  " FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id"
					  " WHERE m.id = $1",
					  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(model_id)},
					  NULL, true, 1, SPI_OK_SELECT, "describe a galaxy model");
	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy model %lld does not exist", (long long) model_id)));
	d = query_datum(r, 0, 1, &isnull);
	PG_RETURN_DATUM(PointerGetDatum(PG_DETOAST_DATUM_COPY(d)));
}
