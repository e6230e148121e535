/*
 * schedule.c — schedules, alerts and the monitor worker.
 *
 * SQL: galaxy.schedule_drift() stores a drift check in galaxy.schedules
 * (cron text or an interval, cron.c), galaxy.unschedule() removes it,
 * galaxy.next_run() shows when a schedule text fires, galaxy.set_logging()
 * turns inference logging on or off for a project (inference_log.c), and
 * galaxy.acknowledge_alert() marks an alert acknowledged or resolved.
 *
 * The monitor worker (galaxy_monitor_main) is started by the launcher
 * (src/jobs/launcher.c), one at a time, connected to one database as the
 * bootstrap superuser.  It
 *   1. writes the database's predictions waiting in the inference-log ring
 *      to galaxy.inference_log, a batch per statement, and frees their
 *      slots once the batch committed (then they are acknowledged);
 *   2. deletes logged predictions older than their project's retention;
 *   3. runs every due schedule, each in its own transaction: the check runs
 *      in a subtransaction as the schedule's owner (its privileges apply);
 *      an error is caught there and recorded on the schedule (last_status
 *      'failed', last_error, last_sqlstate, failures), and the next
 *      schedule runs regardless.  A drift check whose features cross the
 *      thresholds (after a run that did not) inserts an alert into
 *      galaxy.alerts and sends NOTIFY galaxy_alerts with a JSON payload;
 *      so does a schedule that starts failing.  A check that keeps
 *      breaching (or failing) raises no further alert until it recovers.  A missed run is not caught up: next_run is the first time
 *      after now that the schedule fires;
 *   4. tells the launcher when the next schedule of the database is due.
 * It repeats 1-3 while it finds work, for at most MONITOR_BUDGET_MS.
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
/* Bytes of an alert's NOTIFY payload at most (the server's limit is 8000). */
#define ALERT_PAYLOAD_MAX		7000

PGDLLEXPORT void galaxy_monitor_main(Datum arg);

PG_FUNCTION_INFO_V1(galaxy_next_run);
PG_FUNCTION_INFO_V1(galaxy_schedule_drift);
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
	char	   *name = required_text(fcinfo, 0, "name");
	char	   *project = required_text(fcinfo, 1, "project");
	char	   *sched = required_text(fcinfo, 2, "schedule");
	Oid			relid = PG_ARGISNULL(3) ? InvalidOid : PG_GETARG_OID(3);
	Interval   *window = PG_ARGISNULL(4) ? NULL : PG_GETARG_INTERVAL_P(4);
	char	   *alert_on = PG_ARGISNULL(7) ? "drift" : text_to_cstring(PG_GETARG_TEXT_PP(7));
	int64		project_id;
	CronSpec	spec;
	TimestampTz next;
	char	   *relname = NULL;
	Datum		args[11];
	char		nulls[11];
	QueryResult *r;
	int64		id;
	StringInfoData js;

	if (name[0] == '\0' || strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a schedule's name must have 1 to %d bytes", NAMEDATALEN - 1)));
	project_id = registry_check_project_access_by_name(project, "set_gate");
	schedule_parse(sched, &spec);
	next = schedule_next(&spec, sched, GetCurrentTimestamp());
	if (strcmp(alert_on, "drift") != 0 && strcmp(alert_on, "warning") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alert_on must be 'drift' or 'warning', not \"%s\"", galaxy_short(alert_on))));
	if (!PG_ARGISNULL(5) || !PG_ARGISNULL(6))
	{
		double		warning = PG_ARGISNULL(5) ? 0.1 : PG_GETARG_FLOAT8(5);
		double		drift = PG_ARGISNULL(6) ? Max(0.25, warning) : PG_GETARG_FLOAT8(6);

		drift_check_thresholds(warning, drift);
	}
	if (OidIsValid(relid))
	{
		drift_check_relation(project_id, project, relid);
		relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											 get_rel_name(relid));
	}
	else
	{
		Interval	zero;

		memset(&zero, 0, sizeof(zero));
		if (window == NULL ||
			DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(window),
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
	args[0] = CStringGetTextDatum(name);
	args[1] = Int64GetDatum(project_id);
	args[2] = CStringGetTextDatum(sched);
	args[3] = relname ? CStringGetTextDatum(relname) : (Datum) 0;
	nulls[3] = relname ? ' ' : 'n';
	args[4] = window ? IntervalPGetDatum(window) : (Datum) 0;
	nulls[4] = window ? ' ' : 'n';
	args[5] = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);
	nulls[5] = PG_ARGISNULL(5) ? 'n' : ' ';
	args[6] = PG_ARGISNULL(6) ? (Datum) 0 : PG_GETARG_DATUM(6);
	nulls[6] = PG_ARGISNULL(6) ? 'n' : ' ';
	args[7] = CStringGetTextDatum(alert_on);
	args[8] = CStringGetDatum(GetUserNameFromId(GetUserId(), false));
	args[9] = ObjectIdGetDatum(GetUserId());
	args[10] = TimestampTzGetDatum(next);
	r = catalog_query("INSERT INTO galaxy.schedules (name, project_id, schedule, relation, log_window,"
					  " psi_warning, psi_drift, alert_on, owner, owner_oid, next_run)"
					  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
					  " ON CONFLICT (name) DO NOTHING RETURNING id",
					  11, (Oid[]) {TEXTOID, INT8OID, TEXTOID, TEXTOID, INTERVALOID, FLOAT8OID,
					  FLOAT8OID, TEXTOID, NAMEOID, OIDOID, TIMESTAMPTZOID},
					  args, nulls, false, 0, SPI_OK_INSERT_RETURNING, "write galaxy.schedules");
	if (r->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("a schedule named \"%s\" already exists", galaxy_short(name)),
				 errhint("Remove it first with galaxy.unschedule('%s').", galaxy_short(name))));
	id = query_int64(r, 0, 1, 0);

	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "name", name);
	details_str(&js, "project", project);
	details_str(&js, "schedule", sched);
	details_str(&js, "relation", relname);
	details_str(&js, "alert_on", alert_on);
	galaxy_audit("schedule_drift", "schedule", psprintf(INT64_FORMAT, id), details_end(&js));
	schedule_wake_launcher();
	PG_RETURN_INT64(id);
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

/* Insert an alert and NOTIFY galaxy_alerts with it as JSON. */
static void
monitor_alert(int64 project_id, int64 schedule_id, const char *kind, const char *severity,
			  const char *message, const char *details)
{
	Datum		args[6];

	args[0] = Int64GetDatum(project_id);
	args[1] = Int64GetDatum(schedule_id);
	args[2] = CStringGetTextDatum(kind);
	args[3] = CStringGetTextDatum(severity);
	args[4] = CStringGetTextDatum(message);
	args[5] = CStringGetTextDatum(details);
	(void) monitor_exec("WITH a AS ("
						"  INSERT INTO galaxy.alerts (project_id, schedule_id, kind, severity, message, details)"
						"  VALUES ($1, $2, $3, $4, $5, $6::jsonb)"
						"  RETURNING id, raised_at, project_id, schedule_id, kind, severity, message, details) "
						"SELECT pg_catalog.pg_notify('galaxy_alerts', CASE WHEN octet_length(j) <= "
						CppAsString2(ALERT_PAYLOAD_MAX) " THEN j ELSE"
						"   (pg_catalog.jsonb_build_object('id', a.id, 'kind', a.kind, 'severity', a.severity,"
						"     'project', p.name, 'truncated', true))::text END)"
						"  FROM a JOIN galaxy.projects p ON p.id = a.project_id,"
						"  LATERAL (SELECT (pg_catalog.jsonb_build_object('id', a.id, 'raised_at', a.raised_at,"
						"     'project', p.name, 'schedule', (SELECT s.name FROM galaxy.schedules s WHERE s.id = a.schedule_id),"
						"     'kind', a.kind, 'severity', a.severity, 'message', a.message)"
						"     || a.details)::text AS j) x",
						6, (Oid[]) {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID},
						args, NULL, SPI_OK_SELECT);
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
} DueSchedule;

/*
 * Run one drift check as the schedule's owner; returns the features over
 * the thresholds (rows: feature, kind, psi, status) or NULL with *edata
 * set when it failed.
 */
static QueryResult *
monitor_check(DueSchedule *s, ErrorData **edata)
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
		Datum		args[5];
		char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
		const char *sql;

		if (!s->owner_ok)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("the schedule's owner (role %u) no longer exists or cannot log in", s->owner)));
		SetUserIdAndSecContext(s->owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
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
		r = user_query(sql, 5, (Oid[]) {TEXTOID, s->relation ? TEXTOID : INTERVALOID, FLOAT8OID, FLOAT8OID, BOOLOID},
					   args, nulls, false, 0, SPI_OK_SELECT, "run a scheduled drift check");
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
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	const char *status = edata ? "failed" : (r->nrows > 0 ? "alert" : "ok");

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
	(void) monitor_exec("UPDATE galaxy.schedules SET last_run = now(), last_status = $2,"
						" last_error = $3, last_sqlstate = $4, next_run = $5,"
						" enabled = enabled AND $5 IS NOT NULL,"
						" runs = runs + 1, failures = failures + ($2 = 'failed')::int,"
						" alerts = alerts + ($2 = 'alert')::int WHERE id = $1",
						5, (Oid[]) {INT8OID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID},
						args, nulls, SPI_OK_UPDATE);

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
			monitor_alert(s->project_id, s->id, "schedule_failed", "warning", msg, d.data);
		}
		ereport(LOG,
				(errmsg("galaxy schedule \"%s\" failed: %s", s->name,
						edata->message ? edata->message : "")));
		FreeErrorData(edata);
	}
	else if (r->nrows > 0 &&
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
		monitor_alert(s->project_id, s->id, "drift", critical ? "critical" : "warning",
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
						 "  s.alert_on = 'warning', s.schedule, s.last_status"
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

		r = monitor_check(&s, &edata);
		monitor_record(&s, r, edata);
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		ran++;
	}
	return ran;
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
	r = monitor_exec("SELECT min(next_run) FROM galaxy.schedules WHERE enabled",
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
