/*
 * schedule.c — schedules, alert rules, alerts and the monitor worker.
 *
 * SQL: galaxy.schedule() stores an action on a schedule in galaxy.schedules
 * (cron text or an interval, cron.c): 'evaluate' (the deployed model's
 * metrics on a relation, appended to galaxy.evaluations), 'drift' (a drift
 * check; galaxy.schedule_drift() is its older form) or 'retrain' (a
 * training job through galaxy.submit, like the current model's).
 * galaxy.unschedule() removes one, galaxy.next_run() shows when a schedule
 * text fires, galaxy.set_alert_rule() / drop_alert_rule() keep the
 * project's alert rules (galaxy.alert_rules), galaxy.set_logging() turns
 * inference logging on or off for a project (inference_log.c), and
 * galaxy.acknowledge_alert() marks an alert acknowledged or resolved.
 *
 * The monitor worker (galaxy_monitor_main) is started by the launcher
 * (src/jobs/launcher.c), one at a time, connected to one database as the
 * bootstrap superuser.  It
 *   1. writes the database's predictions waiting in the inference-log ring
 *      to galaxy.inference_log, a batch per statement, and frees their
 *      slots once the batch committed (then they are acknowledged);
 *   2. deletes logged predictions older than their project's retention;
 *   3. runs every due schedule, each in its own transaction: the action
 *      runs in a subtransaction as the schedule's owner (its privileges
 *      apply); an error is caught there and recorded on the schedule
 *      (last_status 'failed', last_error, last_sqlstate, failures), and the
 *      next schedule runs regardless.  A drift check whose features cross
 *      the thresholds (after a run that did not) inserts an alert into
 *      galaxy.alerts and sends NOTIFY galaxy_alerts with a JSON payload;
 *      so does a schedule that starts failing.  A check that keeps
 *      breaching (or failing) raises no further alert until it recovers.
 *      An evaluation's metrics are appended to galaxy.evaluations; a
 *      retraining records its job.  A missed run is not caught up:
 *      next_run is the first time after now that the schedule fires;
 *   4. checks the alert rules (galaxy_internal.alert_rule_breaches): a rule
 *      breached with no open alert of its own raises one (a unique index
 *      keeps it to one), after submitting a retraining job as the rule's
 *      owner when the rule says so;
 *   5. tells the launcher when the next schedule of the database is due
 *      (within MONITOR_RULES_MS while rules other than metric_below exist).
 * It repeats 1-4 while it finds work, for at most MONITOR_BUDGET_MS.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "galaxy.h"
#include "jobs/shmem.h"
#include "monitor/cron.h"
#include "monitor/drift.h"
#include "monitor/inference_log.h"
#include "monitor/schedule.h"
#include "registry/access.h"
#include "registry/audit.h"
#include "util/query.h"

/* Predictions written per INSERT. */
#define MONITOR_BATCH			1000
/* A monitor worker repeats its rounds while it finds work, this long at most. */
#define MONITOR_BUDGET_MS		5000
/* Schedules run per round at most. */
#define MONITOR_MAX_RUNS		100
/* Alert rules other than metric_below are checked this often. */
#define MONITOR_RULES_MS		10000
/* Bytes of an alert's NOTIFY payload at most (the server's limit is 8000). */
#define ALERT_PAYLOAD_MAX		7000

PGDLLEXPORT void galaxy_monitor_main(Datum arg);

PG_FUNCTION_INFO_V1(galaxy_next_run);
PG_FUNCTION_INFO_V1(galaxy_schedule_drift);
PG_FUNCTION_INFO_V1(galaxy_schedule);
PG_FUNCTION_INFO_V1(galaxy_set_alert_rule);
PG_FUNCTION_INFO_V1(galaxy_drop_alert_rule);
PG_FUNCTION_INFO_V1(galaxy_unschedule);
PG_FUNCTION_INFO_V1(galaxy_set_logging);
PG_FUNCTION_INFO_V1(galaxy_acknowledge_alert);

/*
 * Tell the launcher that dboid's schedules or logging settings changed: it
 * starts a monitor worker there soon (called at commit).
 */
void
monitor_note_db(Oid dboid)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	int			i;

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < shared->nmonitor_pending; i++)
		if (shared->monitor_pending[i] == dboid)
			break;
	if (i == shared->nmonitor_pending)
	{
		if (shared->nmonitor_pending < GALAXY_PENDING_DBS)
			shared->monitor_pending[shared->nmonitor_pending++] = dboid;
		else
			shared->monitor_pending_overflow = true;
	}
	LWLockRelease(shared->lock);
}

/* Unix seconds of a timestamptz, and back. */
static int64
ts_to_unix(TimestampTz t)
{
	int64		us = t + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

	return us >= 0 ? us / USECS_PER_SEC : -((-us + USECS_PER_SEC - 1) / USECS_PER_SEC);
}

static TimestampTz
unix_to_ts(int64 secs)
{
	return secs * USECS_PER_SEC - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

/* Parse schedule text, ERROR 22023 when it is bad. */
static void
schedule_parse(const char *text, CronSpec *spec)
{
	char		err[256];

	if (!cron_parse(text, spec, err, sizeof(err)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid schedule \"%s\": %s", galaxy_short(text), err),
				 errhint("Write five cron fields (minute hour day-of-month month day-of-week, e.g. '*/5 * * * *'), "
						 "a macro such as '@daily', or an interval such as 'every 30 seconds'.")));
}

/* The first time after 'after' that a parsed schedule fires; ERROR if never. */
static TimestampTz
schedule_next(const CronSpec *spec, const char *text, TimestampTz after)
{
	int64		next = cron_next(spec, ts_to_unix(after));

	if (next < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schedule \"%s\" never fires", galaxy_short(text)),
				 errdetail("No minute in the next five years matches all of its fields.")));
	return unix_to_ts(next);
}

/*
 * galaxy.next_run(schedule text, after timestamptz DEFAULT now()) →
 * timestamptz: when the schedule text fires next (cron fields in UTC).
 */
Datum
galaxy_next_run(PG_FUNCTION_ARGS)
{
	char	   *str;
	CronSpec	spec;
	TimestampTz after;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("schedule must not be NULL")));
	str = text_to_cstring(PG_GETARG_TEXT_PP(0));
	after = PG_ARGISNULL(1) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(1);
	if (TIMESTAMP_NOT_FINITE(after))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("after must be a finite time")));
	schedule_parse(str, &spec);
	PG_RETURN_TIMESTAMPTZ(schedule_next(&spec, str, after));
}

/* The launcher looks at this database's schedules and log again at commit. */
static void
schedule_wake_launcher(void)
{
	inference_log_settings_changed();
}

/* A NOT NULL text argument. */
static char *
required_text(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
	return text_to_cstring(PG_GETARG_TEXT_PP(arg));
}

/* An option of a jsonb object, or NULL when absent or JSON null. */
static JsonbValue *
opt_get(Jsonb *opts, const char *key, JsonbValue *buf)
{
	JsonbValue *v;

	if (opts == NULL || !JB_ROOT_IS_OBJECT(opts))
		return NULL;
	v = getKeyJsonValueFromContainer(&opts->root, key, strlen(key), buf);
	return (v == NULL || v->type == jbvNull) ? NULL : v;
}

/* An option as text (a string, a number or a boolean), NULL when absent. */
static char *
opt_text(Jsonb *opts, const char *key)
{
	JsonbValue	buf;
	JsonbValue *v = opt_get(opts, key, &buf);

	if (v == NULL)
		return NULL;
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" must be a string, a number or a boolean", key)));
	}
	return NULL;
}

/* Whether an option is a JSON number. */
static bool
opt_is_number(Jsonb *opts, const char *key)
{
	JsonbValue	buf;
	JsonbValue *v = opt_get(opts, key, &buf);

	return v != NULL && v->type == jbvNumeric;
}

/* A boolean option: dflt when absent; ERROR when not a boolean. */
static bool
opt_bool(Jsonb *opts, const char *key, bool dflt)
{
	JsonbValue	buf;
	JsonbValue *v = opt_get(opts, key, &buf);

	if (v == NULL)
		return dflt;
	if (v->type != jbvBool)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be true or false", key)));
	return v->val.boolean;
}

/* ERROR 22023 for a key of opts that is not in known (NULL-terminated). */
static void
opt_check_keys(Jsonb *opts, const char *const *known, const char *what)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			depth = 0;

	if (opts == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(opts) || JB_ROOT_IS_SCALAR(opts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a jsonb object")));
	it = JsonbIteratorInit(&opts->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if (tok == WJB_BEGIN_OBJECT || tok == WJB_BEGIN_ARRAY)
			depth++;
		else if (tok == WJB_END_OBJECT || tok == WJB_END_ARRAY)
			depth--;
		else if (tok == WJB_KEY && depth == 1)
		{
			char	   *k = pnstrdup(v.val.string.val, v.val.string.len);
			bool		ok = false;
			StringInfoData list;

			for (int i = 0; known[i] != NULL; i++)
				ok |= strcmp(known[i], k) == 0;
			if (ok)
				continue;
			initStringInfo(&list);
			for (int i = 0; known[i] != NULL; i++)
				appendStringInfo(&list, "%s%s", i ? ", " : "", known[i]);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown %s \"%s\"", what, galaxy_short(k)),
					 list.len > 0 ? errhint("Known options: %s.", list.data) : errhint("It takes no options.")));
		}
	}
}

/* The options of a new schedule: what galaxy.schedule() and schedule_drift() pass on. */
typedef struct ScheduleArgs
{
	char	   *name;
	char	   *project;
	char	   *schedule;
	const char *kind;			/* drift, evaluate or retrain */
	Oid			relid;			/* InvalidOid: none */
	Interval   *window;			/* drift without a relation: the log window */
	bool		has_warning;
	double		psi_warning;
	bool		has_drift;
	double		psi_drift;
	const char *alert_on;
	Jsonb	   *options;		/* as given (stored); NULL: none */
	const char *audit_action;	/* schedule or schedule_drift */
} ScheduleArgs;

/* ERROR 22000 (data exception) when the caller sees no row in relid. */
static void
schedule_check_not_empty(Oid relid, const char *relname, const char *kind)
{
	QueryResult *r;

	r = user_query(psprintf("SELECT EXISTS (SELECT 1 FROM %s)", relname), 0, NULL, NULL, NULL,
				   true, 1, SPI_OK_SELECT, "read the scheduled relation");
	if (!query_bool(r, 0, 1, false))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("relation %s has no rows", relname),
				 errdetail("A scheduled %s needs rows to read; fill the relation first.",
						   strcmp(kind, "drift") == 0 ? "drift check" : kind)));
}

/*
 * Validate and store a schedule; returns its id.  Needs the deploy
 * privilege on the project; runs later as the caller.  Audited.
 */
static int64
schedule_create(ScheduleArgs *a)
{
	int64		project_id;
	CronSpec	spec;
	TimestampTz next;
	char	   *relname = NULL;
	Datum		args[13];
	char		nulls[13];
	QueryResult *r;
	int64		id;
	StringInfoData js;
	bool		is_drift = strcmp(a->kind, "drift") == 0;

	if (a->name[0] == '\0' || strlen(a->name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a schedule's name must have 1 to %d bytes", NAMEDATALEN - 1)));
	project_id = registry_check_project_access_by_name(a->project, "set_gate");
	schedule_parse(a->schedule, &spec);
	next = schedule_next(&spec, a->schedule, GetCurrentTimestamp());
	if (strcmp(a->alert_on, "drift") != 0 && strcmp(a->alert_on, "warning") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alert_on must be 'drift' or 'warning', not \"%s\"", galaxy_short(a->alert_on))));
	if (a->has_warning || a->has_drift)
	{
		double		warning = a->has_warning ? a->psi_warning : 0.1;
		double		drift = a->has_drift ? a->psi_drift : Max(0.25, warning);

		drift_check_thresholds(warning, drift);
	}
	if (OidIsValid(a->relid))
	{
		if (get_rel_name(a->relid) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation with OID %u does not exist", a->relid)));
		/* every feature of the project's model must be there */
		drift_check_relation(project_id, a->project, a->relid);
		relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(a->relid)),
											 get_rel_name(a->relid));
		if (strcmp(a->kind, "evaluate") == 0)
		{
			/* and the target the metrics compare with */
			QueryResult *t = user_query("SELECT m.target FROM galaxy.models m"
										" WHERE m.project_id = $1 AND m.status <> 'training'"
										" ORDER BY m.id DESC LIMIT 1",
										1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(project_id)},
										NULL, true, 1, SPI_OK_SELECT, "read galaxy.models");
			char	   *target = t->nrows == 1 ? query_text(t, 0, 1) : NULL;

			if (target == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("project \"%s\" has no model with a target to evaluate", galaxy_short(a->project))));
			if (get_attnum(a->relid, target) == InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("relation %s has no column \"%s\", the target of project \"%s\"",
								relname, target, galaxy_short(a->project)),
						 errhint("An evaluation compares the model's predictions with the target column.")));
		}
		schedule_check_not_empty(a->relid, relname, a->kind);
	}
	else if (!is_drift)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a scheduled %s needs a relation", a->kind)));
	else
	{
		Interval	zero;

		memset(&zero, 0, sizeof(zero));
		if (a->window == NULL ||
			DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(a->window),
											  IntervalPGetDatum(&zero))) <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("log_window must be a positive interval when no relation is given")));
		/* the model must have scalar inputs the log can show */
		(void) user_query("SELECT galaxy_internal.inference_log_columns($1)", 1,
						  (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(project_id)}, NULL,
						  true, 0, SPI_OK_SELECT, "check the logged features");
	}

	memset(nulls, ' ', sizeof(nulls));
	args[0] = CStringGetTextDatum(a->name);
	args[1] = Int64GetDatum(project_id);
	args[2] = CStringGetTextDatum(a->schedule);
	args[3] = relname ? CStringGetTextDatum(relname) : (Datum) 0;
	nulls[3] = relname ? ' ' : 'n';
	args[4] = a->window ? IntervalPGetDatum(a->window) : (Datum) 0;
	nulls[4] = a->window ? ' ' : 'n';
	args[5] = Float8GetDatum(a->psi_warning);
	nulls[5] = a->has_warning ? ' ' : 'n';
	args[6] = Float8GetDatum(a->psi_drift);
	nulls[6] = a->has_drift ? ' ' : 'n';
	args[7] = CStringGetTextDatum(a->alert_on);
	args[8] = CStringGetDatum(GetUserNameFromId(GetUserId(), false));
	args[9] = ObjectIdGetDatum(GetUserId());
	args[10] = TimestampTzGetDatum(next);
	args[11] = CStringGetTextDatum(a->kind);
	args[12] = a->options ? JsonbPGetDatum(a->options) : (Datum) 0;
	nulls[12] = a->options ? ' ' : 'n';
	r = catalog_query("INSERT INTO galaxy.schedules (name, project_id, schedule, relation, log_window,"
					  " psi_warning, psi_drift, alert_on, owner, owner_oid, next_run, kind, options)"
					  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, coalesce($13, '{}'))"
					  " ON CONFLICT (name) DO NOTHING RETURNING id",
					  13, (Oid[]) {TEXTOID, INT8OID, TEXTOID, TEXTOID, INTERVALOID, FLOAT8OID,
					  FLOAT8OID, TEXTOID, NAMEOID, OIDOID, TIMESTAMPTZOID, TEXTOID, JSONBOID},
					  args, nulls, false, 0, SPI_OK_INSERT_RETURNING, "write galaxy.schedules");
	if (r->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("a schedule named \"%s\" already exists", galaxy_short(a->name)),
				 errhint("Remove it first with galaxy.unschedule('%s').", galaxy_short(a->name))));
	id = query_int64(r, 0, 1, 0);

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "name", a->name);
	details_str(&js, "project", a->project);
	details_str(&js, "schedule", a->schedule);
	details_str(&js, "action", a->kind);
	details_str(&js, "relation", relname);
	if (is_drift)
		details_str(&js, "alert_on", a->alert_on);
	galaxy_audit(a->audit_action, "schedule",
				 psprintf(INT64_FORMAT, id), details_end(&js));
	schedule_wake_launcher();
	return id;
}

/*
 * galaxy.schedule_drift(name, project, schedule, relation regclass DEFAULT
 * NULL, log_window interval DEFAULT '1 hour', psi_warning, psi_drift,
 * alert_on text DEFAULT 'drift') → bigint: a drift check of relation
 * (NULL: the project's logged predictions of the last log_window) on a
 * schedule; an alert when a feature's status reaches alert_on.  Needs the
 * deploy privilege on the project; runs as the caller.  Audited.
 */
Datum
galaxy_schedule_drift(PG_FUNCTION_ARGS)
{
	ScheduleArgs a;

	memset(&a, 0, sizeof(a));
	a.name = required_text(fcinfo, 0, "name");
	a.project = required_text(fcinfo, 1, "project");
	a.schedule = required_text(fcinfo, 2, "schedule");
	a.kind = "drift";
	a.relid = PG_ARGISNULL(3) ? InvalidOid : PG_GETARG_OID(3);
	a.window = PG_ARGISNULL(4) ? NULL : PG_GETARG_INTERVAL_P(4);
	a.has_warning = !PG_ARGISNULL(5);
	a.psi_warning = a.has_warning ? PG_GETARG_FLOAT8(5) : 0;
	a.has_drift = !PG_ARGISNULL(6);
	a.psi_drift = a.has_drift ? PG_GETARG_FLOAT8(6) : 0;
	a.alert_on = PG_ARGISNULL(7) ? "drift" : text_to_cstring(PG_GETARG_TEXT_PP(7));
	a.options = NULL;
	a.audit_action = "schedule_drift";
	PG_RETURN_INT64(schedule_create(&a));
}

/* A number option of a jsonb object: false when absent; ERROR when not a number. */
static bool
option_float(Jsonb *opts, const char *key, double *out)
{
	char	   *s = opt_text(opts, key);

	if (s == NULL)
		return false;
	if (!opt_is_number(opts, key))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" must be a number, not %s", key, galaxy_short(s))));
	*out = DatumGetFloat8(DirectFunctionCall1(float8in, CStringGetDatum(s)));
	return true;
}

/*
 * galaxy.schedule(name, project, schedule, action, relation regclass DEFAULT
 * NULL, options jsonb DEFAULT '{}') → bigint: run action ('evaluate',
 * 'drift' or 'retrain') on the project on a schedule, as the caller.
 * Options: drift's log_window, psi_warning, psi_drift, alert_on.  Needs the
 * deploy privilege on the project.  Audited.
 */
Datum
galaxy_schedule(PG_FUNCTION_ARGS)
{
	ScheduleArgs a;
	Jsonb	   *opts;
	char	   *s;
	static const char *const known[] = {"log_window", "psi_warning", "psi_drift", "alert_on", NULL};
	static const char *const none[] = {NULL};

	memset(&a, 0, sizeof(a));
	a.name = required_text(fcinfo, 0, "name");
	a.project = required_text(fcinfo, 1, "project");
	a.schedule = required_text(fcinfo, 2, "schedule");
	a.kind = required_text(fcinfo, 3, "action");
	a.relid = PG_ARGISNULL(4) ? InvalidOid : PG_GETARG_OID(4);
	opts = PG_ARGISNULL(5) ? NULL : PG_GETARG_JSONB_P(5);
	if (strcmp(a.kind, "drift") != 0 && strcmp(a.kind, "evaluate") != 0 && strcmp(a.kind, "retrain") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown schedule action \"%s\"", galaxy_short(a.kind)),
				 errhint("The actions are 'evaluate', 'drift' and 'retrain'.")));
	opt_check_keys(opts, strcmp(a.kind, "drift") == 0 ? known : none, "schedule option");
	a.alert_on = "drift";
	if (opts != NULL)
	{
		a.has_warning = option_float(opts, "psi_warning", &a.psi_warning);
		a.has_drift = option_float(opts, "psi_drift", &a.psi_drift);
		if ((s = opt_text(opts, "alert_on")) != NULL)
			a.alert_on = s;
		if ((s = opt_text(opts, "log_window")) != NULL)
			a.window = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(s),
															 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	}
	if (strcmp(a.kind, "drift") == 0 && !OidIsValid(a.relid) && a.window == NULL)
		a.window = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum("1 hour"),
														 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	a.options = opts;
	a.audit_action = "schedule";
	PG_RETURN_INT64(schedule_create(&a));
}


/* Whether a metric's values lie in [0, 1] (a threshold outside is out of range). */
static bool
metric_is_ratio(const char *metric)
{
	static const char *const ratios[] = {"accuracy", "balanced_accuracy", "f1", "f1_macro", "f1_weighted",
		"precision", "precision_macro", "recall", "recall_macro", "roc_auc", "silhouette", NULL};

	for (int i = 0; ratios[i] != NULL; i++)
		if (strcmp(ratios[i], metric) == 0)
			return true;
	return false;
}

/*
 * galaxy.set_alert_rule(project, kind, threshold float8 DEFAULT NULL,
 * options jsonb DEFAULT '{}') → bigint: create or replace the project's
 * rule of that kind (and metric).  Kinds: metric_below (options.metric, a
 * threshold), latency_above (p99 in ms), drift (a PSI; NULL: the project's
 * drift threshold), job_failed (no threshold), schedule_missed (periods
 * overdue, default 1).  Options: severity, retrain, relation, enabled.
 * Needs the deploy privilege; audited.
 */
Datum
galaxy_set_alert_rule(PG_FUNCTION_ARGS)
{
	char	   *project = required_text(fcinfo, 0, "project");
	char	   *kind = required_text(fcinfo, 1, "kind");
	bool		has_threshold = !PG_ARGISNULL(2);
	double		threshold = has_threshold ? PG_GETARG_FLOAT8(2) : 0;
	Jsonb	   *opts = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	static const char *const known[] = {"metric", "severity", "retrain", "relation", "enabled", NULL};
	char	   *metric;
	char	   *severity;
	char	   *relation;
	char	   *relname = NULL;
	bool		retrain;
	bool		enabled;
	int64		project_id;
	Datum		args[10];
	char		nulls[10];
	QueryResult *r;
	int64		id;
	StringInfoData js;

	project_id = registry_check_project_access_by_name(project, "set_gate");
	if (strcmp(kind, "metric_below") != 0 && strcmp(kind, "latency_above") != 0 &&
		strcmp(kind, "drift") != 0 && strcmp(kind, "job_failed") != 0 &&
		strcmp(kind, "schedule_missed") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown alert rule kind \"%s\"", galaxy_short(kind)),
				 errhint("The kinds are 'metric_below', 'latency_above', 'drift', 'job_failed' and 'schedule_missed'.")));
	opt_check_keys(opts, known, "alert rule option");
	metric = opt_text(opts, "metric");
	severity = opt_text(opts, "severity");
	relation = opt_text(opts, "relation");
	retrain = opt_bool(opts, "retrain", false);
	enabled = opt_bool(opts, "enabled", true);
	if (severity == NULL)
		severity = "warning";
	if (strcmp(severity, "warning") != 0 && strcmp(severity, "critical") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("severity must be 'warning' or 'critical', not \"%s\"", galaxy_short(severity))));
	if (has_threshold && !isfinite(threshold))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("threshold must be a finite number, not %g", threshold)));

	if (strcmp(kind, "metric_below") == 0)
	{
		if (metric == NULL || metric[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a metric_below rule needs the option \"metric\""),
					 errhint("For example '{\"metric\": \"accuracy\"}'.")));
		if (!has_threshold)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a metric_below rule needs a threshold")));
		if (metric_is_ratio(metric) && (threshold < 0 || threshold > 1))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("threshold %g is out of range for %s: it lies between 0 and 1", threshold, metric)));
	}
	else if (metric != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the option \"metric\" belongs to metric_below rules only")));
	if (strcmp(kind, "latency_above") == 0 && (!has_threshold || threshold <= 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a latency_above rule needs a threshold in milliseconds above 0")));
	if (strcmp(kind, "drift") == 0 && has_threshold && (threshold <= 0 || threshold > 100))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a drift rule's threshold is a PSI above 0 (and at most 100), not %g", threshold)));
	if (strcmp(kind, "job_failed") == 0 && has_threshold)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a job_failed rule takes no threshold")));
	if (strcmp(kind, "schedule_missed") == 0 && has_threshold && (threshold <= 0 || threshold > 1000))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a schedule_missed rule's threshold is the number of periods overdue, above 0 (and at most 1000), not %g",
						threshold)));
	if (relation != NULL)
	{
		Oid			relid = DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(relation)));

		if (!retrain)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the option \"relation\" is the relation a retraining job reads: it needs \"retrain\": true")));
		drift_check_relation(project_id, project, relid);
		relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											 get_rel_name(relid));
		schedule_check_not_empty(relid, relname, "retrain");
	}

	memset(nulls, ' ', sizeof(nulls));
	args[0] = Int64GetDatum(project_id);
	args[1] = CStringGetTextDatum(kind);
	args[2] = CStringGetTextDatum(metric ? metric : "");
	args[3] = Float8GetDatum(threshold);
	nulls[3] = has_threshold ? ' ' : 'n';
	args[4] = CStringGetTextDatum(severity);
	args[5] = BoolGetDatum(retrain);
	args[6] = relname ? CStringGetTextDatum(relname) : (Datum) 0;
	nulls[6] = relname ? ' ' : 'n';
	args[7] = BoolGetDatum(enabled);
	args[8] = CStringGetDatum(GetUserNameFromId(GetUserId(), false));
	args[9] = ObjectIdGetDatum(GetUserId());
	r = catalog_query("INSERT INTO galaxy.alert_rules (project_id, kind, metric, threshold, severity, retrain,"
					  " relation, enabled, owner, owner_oid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
					  " ON CONFLICT (project_id, kind, metric) DO UPDATE SET threshold = excluded.threshold,"
					  " severity = excluded.severity, retrain = excluded.retrain, relation = excluded.relation,"
					  " enabled = excluded.enabled, owner = excluded.owner, owner_oid = excluded.owner_oid"
					  " RETURNING id",
					  10, (Oid[]) {INT8OID, TEXTOID, TEXTOID, FLOAT8OID, TEXTOID, BOOLOID, TEXTOID, BOOLOID,
					  NAMEOID, OIDOID}, args, nulls, false, 0, SPI_OK_INSERT_RETURNING,
					  "write galaxy.alert_rules");
	id = query_int64(r, 0, 1, 0);

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	details_str(&js, "kind", kind);
	details_str(&js, "metric", metric);
	if (has_threshold)
		details_float(&js, "threshold", threshold);
	details_str(&js, "severity", severity);
	details_bool(&js, "retrain", retrain);
	details_str(&js, "relation", relname);
	details_bool(&js, "enabled", enabled);
	galaxy_audit("set_alert_rule", "alert_rule", psprintf(INT64_FORMAT, id), details_end(&js));
	schedule_wake_launcher();
	PG_RETURN_INT64(id);
}

/*
 * galaxy.drop_alert_rule(id bigint) → boolean: remove a rule (deploy
 * privilege on its project); false if there is none.  Its alerts stay.
 * Audited.
 */
Datum
galaxy_drop_alert_rule(PG_FUNCTION_ARGS)
{
	int64		id;
	QueryResult *r;
	Datum		arg;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("id must not be NULL")));
	id = PG_GETARG_INT64(0);
	arg = Int64GetDatum(id);
	r = catalog_query("SELECT project_id FROM galaxy.alert_rules WHERE id = $1",
					  1, (Oid[]) {INT8OID}, &arg, NULL, true, 1, SPI_OK_SELECT, "read galaxy.alert_rules");
	if (r->nrows == 0)
		PG_RETURN_BOOL(false);
	registry_check_project_access(query_int64(r, 0, 1, 0), "set_gate");
	catalog_command("DELETE FROM galaxy.alert_rules WHERE id = $1", 1, (Oid[]) {INT8OID}, &arg, NULL,
					SPI_OK_DELETE, "write galaxy.alert_rules");
	galaxy_audit("drop_alert_rule", "alert_rule", psprintf(INT64_FORMAT, id), NULL);
	PG_RETURN_BOOL(true);
}

/*
 * galaxy.unschedule(name text) → boolean: remove a schedule (its owner, or
 * a role with the deploy privilege on its project); false if there is none
 * the caller can see.  Audited.
 */
Datum
galaxy_unschedule(PG_FUNCTION_ARGS)
{
	char	   *name = required_text(fcinfo, 0, "name");
	Datum		arg = CStringGetTextDatum(name);
	QueryResult *r;
	int64		id;
	StringInfoData js;

	r = catalog_query("SELECT id, project_id FROM galaxy.schedules WHERE name = $1",
					  1, (Oid[]) {TEXTOID}, &arg, NULL, true, 1, SPI_OK_SELECT, "read galaxy.schedules");
	if (r->nrows == 0)
		PG_RETURN_BOOL(false);
	id = query_int64(r, 0, 1, 0);
	registry_check_project_access(query_int64(r, 0, 2, 0), "set_gate");
	arg = Int64GetDatum(id);
	catalog_command("DELETE FROM galaxy.schedules WHERE id = $1", 1, (Oid[]) {INT8OID}, &arg, NULL,
					SPI_OK_DELETE, "write galaxy.schedules");
	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "name", name);
	galaxy_audit("unschedule", "schedule", psprintf(INT64_FORMAT, id), details_end(&js));
	schedule_wake_launcher();
	PG_RETURN_BOOL(true);
}

/*
 * galaxy.set_logging(project text, sample_rate float8 DEFAULT 1.0,
 * retention interval DEFAULT '7 days') → void: log that share of the
 * project's predictions to galaxy.inference_log, kept for 'retention'
 * (sample_rate 0 or NULL: logging off).  Needs the deploy privilege;
 * audited; backends see it when the transaction commits.
 */
Datum
galaxy_set_logging(PG_FUNCTION_ARGS)
{
	char	   *project = required_text(fcinfo, 0, "project");
	double		rate = PG_ARGISNULL(1) ? 0 : PG_GETARG_FLOAT8(1);
	int64		project_id;
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	StringInfoData js;

	project_id = registry_check_project_access_by_name(project, "set_gate");
	if (!isfinite(rate) || rate < 0 || rate > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_rate must be between 0 and 1, not %g", rate)));
	args[0] = Int64GetDatum(project_id);
	if (rate == 0)
		catalog_command("DELETE FROM galaxy.inference_logging WHERE project_id = $1",
						1, (Oid[]) {INT8OID}, args, NULL, SPI_OK_DELETE, "write galaxy.inference_logging");
	else
	{
		Interval	zero;

		memset(&zero, 0, sizeof(zero));
		if (!PG_ARGISNULL(2) &&
			DatumGetInt32(DirectFunctionCall2(interval_cmp, PG_GETARG_DATUM(2),
											  IntervalPGetDatum(&zero))) <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("retention must be a positive interval")));
		args[1] = Float8GetDatum(rate);
		args[2] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
		nulls[2] = PG_ARGISNULL(2) ? 'n' : ' ';
		args[3] = CStringGetDatum(GetUserNameFromId(GetUserId(), false));
		catalog_command("INSERT INTO galaxy.inference_logging (project_id, sample_rate, retention, set_by)"
						" VALUES ($1, $2, coalesce($3, interval '7 days'), $4)"
						" ON CONFLICT (project_id) DO UPDATE SET sample_rate = excluded.sample_rate,"
						" retention = excluded.retention, set_by = excluded.set_by, set_at = now()",
						4, (Oid[]) {INT8OID, FLOAT8OID, INTERVALOID, NAMEOID}, args, nulls,
						SPI_OK_INSERT, "write galaxy.inference_logging");
	}
	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	details_float(&js, "sample_rate", rate);
	galaxy_audit("set_logging", "project", psprintf(INT64_FORMAT, project_id), details_end(&js));
	inference_log_settings_changed();
	if (!galaxy_preloaded)
		ereport(WARNING,
				(errmsg("galaxy is not in shared_preload_libraries: no prediction is logged"),
				 errhint("Add 'galaxy' to shared_preload_libraries and restart the server.")));
	PG_RETURN_VOID();
}

/*
 * galaxy.acknowledge_alert(id bigint, resolve boolean DEFAULT false) →
 * boolean: mark an alert acknowledged (and resolved); needs the deploy
 * privilege on its project; false if it was already in that state.
 * Audited.
 */
Datum
galaxy_acknowledge_alert(PG_FUNCTION_ARGS)
{
	int64		id;
	bool		resolve = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	Datum		args[3];
	QueryResult *r;
	uint64		n;
	StringInfoData js;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("id must not be NULL")));
	id = PG_GETARG_INT64(0);
	args[0] = Int64GetDatum(id);
	r = catalog_query("SELECT project_id FROM galaxy.alerts WHERE id = $1",
					  1, (Oid[]) {INT8OID}, args, NULL, true, 1, SPI_OK_SELECT, "read galaxy.alerts");
	if (r->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("alert " INT64_FORMAT " does not exist", id)));
	registry_check_project_access(query_int64(r, 0, 1, 0), "set_gate");
	args[1] = BoolGetDatum(resolve);
	args[2] = CStringGetDatum(GetUserNameFromId(GetUserId(), false));
	n = catalog_command("UPDATE galaxy.alerts SET"
						" acknowledged_at = coalesce(acknowledged_at, now()),"
						" acknowledged_by = coalesce(acknowledged_by, $3),"
						" resolved_at = CASE WHEN $2 THEN coalesce(resolved_at, now()) ELSE resolved_at END,"
						" resolved_by = CASE WHEN $2 THEN coalesce(resolved_by, $3) ELSE resolved_by END"
						" WHERE id = $1 AND (acknowledged_at IS NULL OR ($2 AND resolved_at IS NULL))",
						3, (Oid[]) {INT8OID, BOOLOID, NAMEOID}, args, NULL, SPI_OK_UPDATE,
						"write galaxy.alerts");
	initStringInfo(&js);
	details_begin(&js);
	details_bool(&js, "resolve", resolve);
	galaxy_audit(resolve ? "resolve_alert" : "acknowledge_alert", "alert",
				 psprintf(INT64_FORMAT, id), details_end(&js));
	PG_RETURN_BOOL(n > 0);
}

/* ---------------------------------------------------------------------
 * The monitor worker
 * --------------------------------------------------------------------- */

/* Run one statement as the worker (the bootstrap superuser). */
static QueryResult *
monitor_exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expected)
{
	return user_query(sql, nargs, types, values, nulls, false, 0, expected,
					  "run a galaxy monitor query");
}

/* An array of by-value Datums. */
static Datum
datum_array(Datum *d, int n, Oid type)
{
	int16		len;
	bool		byval;
	char		align;

	get_typlenbyvalalign(type, &len, &byval, &align);
	return PointerGetDatum(construct_array(d, n, type, len, byval, align));
}

/*
 * Write the database's waiting predictions to galaxy.inference_log (or
 * drop them when galaxy is not installed); returns how many.
 */
static int64
monitor_write_log(bool installed, InferenceLogEntry *buf)
{
	int64		total = 0;

	for (;;)
	{
		uint64		end;
		int			n = inference_log_take(MyDatabaseId, buf, MONITOR_BATCH, &end);
		Datum	   *m,
				   *p,
				   *t,
				   *y,
				   *o,
				   *c,
				   *f;
		int			nf = 0;

		if (n == 0)
			break;
		CHECK_FOR_INTERRUPTS();
		if (!installed)
		{
			inference_log_written(end);
			total += n;
			continue;
		}
		m = palloc(sizeof(Datum) * n);
		p = palloc(sizeof(Datum) * n);
		t = palloc(sizeof(Datum) * n);
		y = palloc(sizeof(Datum) * n);
		o = palloc(sizeof(Datum) * n);
		c = palloc(sizeof(Datum) * n);
		f = palloc(sizeof(Datum) * ((Size) n * INFERENCE_LOG_MAX_FEATURES + 1));
		for (int i = 0; i < n; i++)
		{
			m[i] = Int64GetDatum(buf[i].model_id);
			p[i] = Int64GetDatum(buf[i].project_id);
			t[i] = TimestampTzGetDatum(buf[i].logged_at);
			y[i] = Float8GetDatum(buf[i].prediction);
			o[i] = Int32GetDatum(nf);
			c[i] = Int32GetDatum(buf[i].nfeatures);
			for (int k = 0; k < buf[i].nfeatures; k++)
				f[nf++] = Float8GetDatum(buf[i].features[k]);
		}

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		{
			Datum		args[7];

			args[0] = datum_array(m, n, INT8OID);
			args[1] = datum_array(p, n, INT8OID);
			args[2] = datum_array(t, n, TIMESTAMPTZOID);
			args[3] = datum_array(y, n, FLOAT8OID);
			args[4] = datum_array(f, nf, FLOAT8OID);
			args[5] = datum_array(o, n, INT4OID);
			args[6] = datum_array(c, n, INT4OID);
			(void) monitor_exec("INSERT INTO galaxy.inference_log (model_id, project_id, logged_at, prediction, features)"
							   " SELECT u.m, u.p, u.t, u.y,"
							   "        CASE WHEN u.c < 0 THEN NULL ELSE $5[u.o + 1 : u.o + u.c] END"
							   "   FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3),"
							   "   pg_catalog.unnest($4), pg_catalog.unnest($6), pg_catalog.unnest($7)) AS u(m, p, t, y, o, c)",
							   7, (Oid[]) {INT8ARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, FLOAT8ARRAYOID,
							   FLOAT8ARRAYOID, INT4ARRAYOID, INT4ARRAYOID}, args, NULL, SPI_OK_INSERT);
		}
		PopActiveSnapshot();
		CommitTransactionCommand();
		/* committed: now the slots may be reused (the predictions are acknowledged) */
		inference_log_written(end);
		total += n;
		pfree(m);
		pfree(p);
		pfree(t);
		pfree(y);
		pfree(o);
		pfree(c);
		pfree(f);
	}
	return total;
}

/* Delete logged predictions older than their project's retention. */
static void
monitor_retention(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	(void) monitor_exec("DELETE FROM galaxy.inference_log l USING galaxy.inference_logging s"
						" WHERE l.project_id = s.project_id AND l.logged_at < now() - s.retention",
						0, NULL, NULL, NULL, SPI_OK_DELETE);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Insert an alert and NOTIFY galaxy_alerts with it as JSON; schedule_id and
 * rule_id 0 for none.  A rule's alert is not inserted while another of the
 * same rule is open (unresolved); returns whether it was.
 */
static bool
monitor_alert(int64 project_id, int64 schedule_id, int64 rule_id, const char *kind,
			  const char *severity, const char *message, const char *details)
{
	Datum		args[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	QueryResult *r;

	args[0] = Int64GetDatum(project_id);
	args[1] = Int64GetDatum(schedule_id);
	nulls[1] = schedule_id ? ' ' : 'n';
	args[2] = CStringGetTextDatum(kind);
	args[3] = CStringGetTextDatum(severity);
	args[4] = CStringGetTextDatum(message);
	args[5] = CStringGetTextDatum(details);
	args[6] = Int64GetDatum(rule_id);
	nulls[6] = rule_id ? ' ' : 'n';
	r = monitor_exec("WITH a AS ("
					 "  INSERT INTO galaxy.alerts (project_id, schedule_id, kind, severity, message, details, rule_id)"
					 "  VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)"
					 "  ON CONFLICT (rule_id) WHERE resolved_at IS NULL DO NOTHING"
					 "  RETURNING id, raised_at, project_id, schedule_id, kind, severity, message, details, rule_id) "
					 "SELECT pg_catalog.pg_notify('galaxy_alerts', CASE WHEN octet_length(j) <= "
					 CppAsString2(ALERT_PAYLOAD_MAX) " THEN j ELSE"
					 "   (pg_catalog.jsonb_build_object('id', a.id, 'kind', a.kind, 'severity', a.severity,"
					 "     'project', p.name, 'truncated', true))::text END)"
					 "  FROM a JOIN galaxy.projects p ON p.id = a.project_id,"
					 "  LATERAL (SELECT (pg_catalog.jsonb_build_object('id', a.id, 'raised_at', a.raised_at,"
					 "     'project', p.name, 'schedule', (SELECT s.name FROM galaxy.schedules s WHERE s.id = a.schedule_id),"
					 "     'rule_id', a.rule_id, 'kind', a.kind, 'severity', a.severity, 'message', a.message)"
					 "     || a.details)::text AS j) x",
					 7, (Oid[]) {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID},
					 args, nulls, SPI_OK_SELECT);
	return r->nrows > 0;
}

/* One due schedule, as the select of monitor_run_schedules reads it. */
typedef struct DueSchedule
{
	int64		id;
	Oid			owner;
	bool		owner_ok;		/* the role exists and may log in */
	char	   *name;
	char	   *project;
	int64		project_id;
	char	   *relation;		/* NULL: the logged predictions */
	Datum		window;			/* interval, when relation is NULL */
	bool		has_warning;
	double		psi_warning;
	bool		has_drift;
	double		psi_drift;
	bool		alert_on_warning;
	char	   *schedule;
	char	   *last_status;	/* NULL: never ran */
	char	   *kind;			/* drift, evaluate or retrain */
} DueSchedule;

/*
 * Run one statement as a role (owner_ok: it exists and may log in) in a
 * subtransaction; returns its rows, or NULL with *edata set when it
 * failed (the error is caught: the caller records it).
 */
static QueryResult *
monitor_as_owner(Oid role, bool owner_ok, const char *sql, int nargs, Oid *types, Datum *args,
				 const char *nulls, const char *what, ErrorData **edata)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Oid			save_uid;
	int			save_sec;
	QueryResult *volatile r = NULL;

	*edata = NULL;
	GetUserIdAndSecContext(&save_uid, &save_sec);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		if (!owner_ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("the owner (role %u) no longer exists or cannot log in", role)));
		SetUserIdAndSecContext(role, save_sec | SECURITY_LOCAL_USERID_CHANGE);
		r = user_query(sql, nargs, types, args, nulls, false, 0, SPI_OK_SELECT, what);
		SetUserIdAndSecContext(save_uid, save_sec);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		SetUserIdAndSecContext(save_uid, save_sec);
		MemoryContextSwitchTo(cxt);
		*edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		r = NULL;
	}
	PG_END_TRY();
	return r;
}

/*
 * Run one schedule as its owner: a drift check returns the features over
 * the thresholds (rows: feature, kind, psi, status), an evaluation its
 * metrics (one jsonb), a retraining the job's id; NULL with *edata set
 * when it failed.
 */
static QueryResult *
monitor_check(DueSchedule *s, ErrorData **edata)
{
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	const char *sql;

	if (strcmp(s->kind, "evaluate") == 0)
	{
		args[0] = CStringGetTextDatum(s->project);
		args[1] = CStringGetTextDatum(s->relation ? s->relation : "");
		return monitor_as_owner(s->owner, s->owner_ok,
								"SELECT galaxy.evaluate($1, $2::regclass)",
								2, (Oid[]) {TEXTOID, TEXTOID}, args, nulls,
								"run a scheduled evaluation", edata);
	}
	if (strcmp(s->kind, "retrain") == 0)
	{
		args[0] = Int64GetDatum(s->project_id);
		args[1] = s->relation ? CStringGetTextDatum(s->relation) : (Datum) 0;
		nulls[1] = s->relation ? ' ' : 'n';
		return monitor_as_owner(s->owner, s->owner_ok,
								"SELECT galaxy_internal.submit_retrain($1, $2)",
								2, (Oid[]) {INT8OID, TEXTOID}, args, nulls,
								"submit a scheduled retraining", edata);
	}
	args[0] = CStringGetTextDatum(s->project);
	args[1] = s->relation ? CStringGetTextDatum(s->relation) : s->window;
	args[2] = Float8GetDatum(s->psi_warning);
	nulls[2] = s->has_warning ? ' ' : 'n';
	args[3] = Float8GetDatum(s->psi_drift);
	nulls[3] = s->has_drift ? ' ' : 'n';
	args[4] = BoolGetDatum(s->alert_on_warning);
	if (s->relation)
		sql = "SELECT d.feature, d.kind, d.psi, d.status"
			" FROM galaxy.drift($1, $2::regclass, NULL, $3, $4) d"
			" WHERE d.status = 'drift' OR ($5 AND d.status = 'warning') ORDER BY d.psi DESC";
	else
		sql = "SELECT d.feature, d.kind, d.psi, d.status"
			" FROM galaxy.drift_live($1, $2::interval, $3, $4) d"
			" WHERE d.status = 'drift' OR ($5 AND d.status = 'warning') ORDER BY d.psi DESC";
	return monitor_as_owner(s->owner, s->owner_ok, sql, 5,
							(Oid[]) {TEXTOID, s->relation ? TEXTOID : INTERVALOID, FLOAT8OID, FLOAT8OID, BOOLOID},
							args, nulls, "run a scheduled drift check", edata);
}

/* A JSON string literal of s. */
static char *
json_str(const char *s)
{
	StringInfoData b;

	initStringInfo(&b);
	escape_json(&b, s ? s : "");
	return b.data;
}

/* Record one run of a schedule: its status, error and next run; alerts. */
static void
monitor_record(DueSchedule *s, QueryResult *r, ErrorData *edata)
{
	CronSpec	spec;
	char		err[256];
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz next = 0;
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bool		is_drift = strcmp(s->kind, "drift") == 0;
	bool		is_retrain = strcmp(s->kind, "retrain") == 0;
	const char *status = edata ? "failed" : (is_drift && r->nrows > 0 ? "alert" : "ok");
	int64		job_id = 0;

	if (cron_parse(s->schedule, &spec, err, sizeof(err)))
	{
		int64		n = cron_next(&spec, ts_to_unix(now));

		if (n >= 0)
			next = unix_to_ts(n);
	}
	args[0] = Int64GetDatum(s->id);
	args[1] = CStringGetTextDatum(status);
	args[2] = edata ? CStringGetTextDatum(edata->message ? edata->message : "unknown error") : (Datum) 0;
	nulls[2] = edata ? ' ' : 'n';
	args[3] = edata ? CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode)) : (Datum) 0;
	nulls[3] = edata ? ' ' : 'n';
	args[4] = TimestampTzGetDatum(next);
	nulls[4] = next ? ' ' : 'n';
	if (!edata && is_retrain && r->nrows == 1)
		job_id = query_int64(r, 0, 1, 0);
	args[5] = Int64GetDatum(job_id);
	nulls[5] = job_id ? ' ' : 'n';
	(void) monitor_exec("UPDATE galaxy.schedules SET last_run = now(), last_status = $2,"
						" last_error = $3, last_sqlstate = $4, next_run = $5,"
						" enabled = enabled AND $5 IS NOT NULL,"
						" runs = runs + 1, failures = failures + ($2 = 'failed')::int,"
						" alerts = alerts + ($2 = 'alert')::int,"
						" last_job_id = coalesce($6, last_job_id) WHERE id = $1",
						6, (Oid[]) {INT8OID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID},
						args, nulls, SPI_OK_UPDATE);
	if (!edata && strcmp(s->kind, "evaluate") == 0 && r->nrows == 1)
	{
		/* the metrics, one row each, as a time series */
		Datum		eargs[5];
		bool		isnull;

		eargs[0] = Int64GetDatum(s->id);
		eargs[1] = CStringGetTextDatum(s->name);
		eargs[2] = Int64GetDatum(s->project_id);
		eargs[3] = query_datum(r, 0, 1, &isnull);
		eargs[4] = CStringGetTextDatum(s->relation ? s->relation : "");
		if (!isnull)
			(void) monitor_exec("INSERT INTO galaxy.evaluations (schedule_id, schedule, project_id, model_id,"
								" version, relation, metric, value, rows)"
								" SELECT $1, $2, $3, m.id, m.version, $5, kv.key, (kv.value #>> '{}')::float8,"
								"        ($4 ->> 'rows')::bigint"
								"   FROM galaxy.models m, pg_catalog.jsonb_each($4) kv"
								"  WHERE m.id = ($4 ->> 'model_id')::bigint"
								"    AND pg_catalog.jsonb_typeof(kv.value) = 'number'"
								"    AND kv.key NOT IN ('rows', 'model_id', 'rows_with_unknown_label',"
								"                       'rows_with_non_finite_target')",
								5, (Oid[]) {INT8OID, TEXTOID, INT8OID, JSONBOID, TEXTOID},
								eargs, NULL, SPI_OK_INSERT);
	}

	if (edata)
	{
		/* a schedule that starts failing raises one alert, not one per run */
		if (s->last_status == NULL || strcmp(s->last_status, "failed") != 0)
		{
			StringInfoData d;
			char	   *msg = psprintf("schedule \"%s\" of project \"%s\" failed: %s",
									   s->name, s->project, edata->message ? edata->message : "");

			initStringInfo(&d);
			appendStringInfo(&d, "{\"error\": %s, \"sqlstate\": %s}",
							 json_str(edata->message), json_str(unpack_sql_state(edata->sqlerrcode)));
			monitor_alert(s->project_id, s->id, 0, "schedule_failed", "warning", msg, d.data);
		}
		ereport(LOG,
				(errmsg("galaxy schedule \"%s\" failed: %s", s->name,
						edata->message ? edata->message : "")));
		FreeErrorData(edata);
	}
	else if (is_drift && r->nrows > 0 &&
			 (s->last_status == NULL || strcmp(s->last_status, "alert") != 0))
	{
		/* one alert when the check starts to breach, not one per run */
		StringInfoData d;
		StringInfoData names;
		bool		critical = false;

		initStringInfo(&d);
		initStringInfo(&names);
		appendStringInfo(&d, "{\"relation\": %s, \"features\": [",
						 s->relation ? json_str(s->relation) : "null");
		for (uint64 i = 0; i < r->nrows; i++)
		{
			char	   *feature = query_text(r, i, 1);
			char	   *kind = query_text(r, i, 2);
			double		psi = query_float8(r, i, 3, 0);
			char	   *st = query_text(r, i, 4);

			critical |= strcmp(st, "drift") == 0;
			appendStringInfo(&d, "%s{\"feature\": %s, \"kind\": %s, \"psi\": %.6g, \"status\": %s}",
							 i ? ", " : "", json_str(feature), json_str(kind),
							 isfinite(psi) ? psi : 0.0, json_str(st));
			if (i < 5)
				appendStringInfo(&names, "%s%s (PSI %.3g)", i ? ", " : "", feature, psi);
		}
		appendStringInfoString(&d, "]}");
		monitor_alert(s->project_id, s->id, 0, "drift", critical ? "critical" : "warning",
					  psprintf("drift in project \"%s\" (schedule \"%s\"): %s%s", s->project, s->name,
							   names.data, r->nrows > 5 ? ", ..." : ""),
					  d.data);
	}
}

/* Run the due schedules, each in its own transaction; returns how many ran. */
static int
monitor_run_schedules(void)
{
	int			ran = 0;

	while (ran < MONITOR_MAX_RUNS)
	{
		QueryResult *q;
		DueSchedule s;
		QueryResult *r;
		ErrorData  *edata;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "galaxy: running a schedule");
		q = monitor_exec("SELECT s.id, s.owner_oid,"
						 "  coalesce((SELECT a.rolcanlogin FROM pg_catalog.pg_authid a WHERE a.oid = s.owner_oid), false),"
						 "  s.name, p.name, s.project_id, s.relation, s.log_window, s.psi_warning, s.psi_drift,"
						 "  s.alert_on = 'warning', s.schedule, s.last_status, s.kind"
						 " FROM galaxy.schedules s JOIN galaxy.projects p ON p.id = s.project_id"
						 " WHERE s.enabled AND s.next_run <= now()"
						 " ORDER BY s.next_run, s.id LIMIT 1 FOR UPDATE OF s SKIP LOCKED",
						 0, NULL, NULL, NULL, SPI_OK_SELECT);
		if (q->nrows == 0)
		{
			PopActiveSnapshot();
			CommitTransactionCommand();
			break;
		}
		s.id = query_int64(q, 0, 1, 0);
		s.owner = DatumGetObjectId(query_datum(q, 0, 2, &isnull));
		s.owner_ok = query_bool(q, 0, 3, false);
		s.name = query_text(q, 0, 4);
		s.project = query_text(q, 0, 5);
		s.project_id = query_int64(q, 0, 6, 0);
		s.relation = query_text(q, 0, 7);
		s.window = query_datum(q, 0, 8, &isnull);
		s.psi_warning = query_float8(q, 0, 9, 0);
		query_datum(q, 0, 9, &isnull);
		s.has_warning = !isnull;
		s.psi_drift = query_float8(q, 0, 10, 0);
		query_datum(q, 0, 10, &isnull);
		s.has_drift = !isnull;
		s.alert_on_warning = query_bool(q, 0, 11, false);
		s.schedule = query_text(q, 0, 12);
		s.last_status = query_text(q, 0, 13);
		s.kind = query_text(q, 0, 14);

		r = monitor_check(&s, &edata);
		monitor_record(&s, r, edata);
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		ran++;
	}
	return ran;
}

/*
 * Check the alert rules (galaxy_internal.alert_rule_breaches): each breach
 * of a rule without an open alert inserts one and sends NOTIFY; a rule
 * with retrain submits a retraining job as the rule's owner first (its
 * id, or its error, goes into the alert).  One transaction.
 */
static void
monitor_check_rules(void)
{
	QueryResult *q;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "galaxy: checking alert rules");
	q = monitor_exec("SELECT b.rule_id, b.project_id, b.kind, b.severity, b.message, b.details::text,"
					 "  b.retrain, b.relation, b.owner_oid,"
					 "  coalesce((SELECT a.rolcanlogin FROM pg_catalog.pg_authid a WHERE a.oid = b.owner_oid), false)"
					 " FROM galaxy_internal.alert_rule_breaches() b",
					 0, NULL, NULL, NULL, SPI_OK_SELECT);
	for (uint64 i = 0; i < q->nrows; i++)
	{
		int64		rule_id = query_int64(q, i, 1, 0);
		int64		project_id = query_int64(q, i, 2, 0);
		char	   *details = query_text(q, i, 6);
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		if (query_bool(q, i, 7, false))
		{
			ErrorData  *edata;
			char	   *relation = query_text(q, i, 8);
			Datum		args[2];
			char		nulls[2] = {' ', ' '};
			QueryResult *r;

			args[0] = Int64GetDatum(project_id);
			args[1] = relation ? CStringGetTextDatum(relation) : (Datum) 0;
			nulls[1] = relation ? ' ' : 'n';
			r = monitor_as_owner(DatumGetObjectId(query_datum(q, i, 9, &isnull)), query_bool(q, i, 10, false),
								 "SELECT galaxy_internal.submit_retrain($1, $2)", 2,
								 (Oid[]) {INT8OID, TEXTOID}, args, nulls,
								 "submit a retraining job for an alert rule", &edata);
			/* the alert's details say what came of it */
			details = psprintf("%.*s, %s}", (int) strlen(details) - 1, details,
							   edata ? psprintf("\"retrain_error\": %s", json_str(edata->message))
							   : psprintf("\"retrain_job\": " INT64_FORMAT, query_int64(r, 0, 1, 0)));
			if (edata)
			{
				ereport(LOG,
						(errmsg("galaxy alert rule " INT64_FORMAT " could not submit a retraining job: %s",
								rule_id, edata->message ? edata->message : "")));
				FreeErrorData(edata);
			}
		}
		if (monitor_alert(project_id, 0, rule_id, query_text(q, i, 3), query_text(q, i, 4),
						  query_text(q, i, 5), details))
			(void) monitor_exec("UPDATE galaxy.alert_rules SET fired_at = now(), fired = fired + 1 WHERE id = $1",
								1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(rule_id)}, NULL, SPI_OK_UPDATE);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* The earliest next run of an enabled schedule (0: none). */
static TimestampTz
monitor_next_run(void)
{
	QueryResult *r;
	TimestampTz next = 0;
	bool		isnull;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	/* rules that watch more than the evaluations are checked every MONITOR_RULES_MS */
	r = monitor_exec("SELECT least((SELECT min(next_run) FROM galaxy.schedules WHERE enabled),"
					 " (SELECT pg_catalog.clock_timestamp() + interval '" CppAsString2(MONITOR_RULES_MS) " ms'"
					 "   WHERE EXISTS (SELECT 1 FROM galaxy.alert_rules WHERE enabled AND kind <> 'metric_below')))",
					 0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (r->nrows == 1)
	{
		Datum		d = query_datum(r, 0, 1, &isnull);

		if (!isnull)
			next = DatumGetTimestampTz(d);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	return next;
}

/* Whether galaxy (with this release's monitoring tables) is installed here. */
static bool
monitor_installed(void)
{
	bool		installed;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	installed = OidIsValid(get_extension_oid("galaxy", true));
	if (installed)
	{
		QueryResult *r = monitor_exec("SELECT pg_catalog.to_regclass('galaxy.schedules') IS NOT NULL"
									  " AND pg_catalog.to_regclass('galaxy.inference_log') IS NOT NULL",
									  0, NULL, NULL, NULL, SPI_OK_SELECT);

		installed = query_bool(r, 0, 1, false);
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	return installed;
}

/* before_shmem_exit: let another writer take the ring. */
static void
monitor_exit(int code, Datum arg)
{
	inference_log_release_writer();
}

/* Entry point of the monitor worker (see the header comment). */
void
galaxy_monitor_main(Datum arg)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	uint64		generation = (uint64) DatumGetInt64(arg);
	Oid			dboid;
	bool		installed;
	TimestampTz started;
	TimestampTz next_run = 0;
	InferenceLogEntry *buf;
	MemoryContext round_cxt;

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	LWLockAcquire(shared->lock, LW_SHARED);
	if (!shared->monitor.active || shared->monitor.generation != generation)
	{
		LWLockRelease(shared->lock);
		proc_exit(0);
	}
	LWLockRelease(shared->lock);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("galaxy monitor");
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	/* in a deadlock with a user's DDL (DROP EXTENSION ...), the worker gives way */
	SetConfigOption("deadlock_timeout", "100ms", PGC_SUSET, PGC_S_OVERRIDE);
	before_shmem_exit(monitor_exit, (Datum) 0);

	buf = MemoryContextAlloc(TopMemoryContext, sizeof(InferenceLogEntry) * MONITOR_BATCH);
	round_cxt = AllocSetContextCreate(TopMemoryContext, "galaxy monitor round", ALLOCSET_DEFAULT_SIZES);
	installed = monitor_installed();
	started = GetCurrentTimestamp();
	for (;;)
	{
		int64		written;
		int			ran = 0;
		MemoryContext old = MemoryContextSwitchTo(round_cxt);

		written = monitor_write_log(installed, buf);
		if (installed)
		{
			monitor_retention();
			ran = monitor_run_schedules();
			monitor_check_rules();
			next_run = monitor_next_run();
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(round_cxt);
		if ((written == 0 && ran == 0) ||
			TimestampDifferenceExceeds(started, GetCurrentTimestamp(), MONITOR_BUDGET_MS))
			break;
	}
	inference_log_release_writer();

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->monitor.active && shared->monitor.generation == generation)
	{
		shared->monitor.installed = installed;
		shared->monitor.next_run = next_run;
		shared->monitor.done = true;
	}
	LWLockRelease(shared->lock);
	jobs_wake_launcher();
	proc_exit(0);
}
