/*
 * worker.c — the training worker: one dynamic background worker per job.
 *
 * It connects to the job's database as the role that submitted the job
 * (BackgroundWorkerInitializeConnectionByOid), so it reads only what that
 * role can read, and runs the one training pipeline (train_run).  Every
 * state change is its own committed transaction, audited and announced
 * with NOTIFY galaxy_jobs '<id>:<state>':
 *   1. queued → running (attempts + 1);
 *   2. train_run() and, in the same transaction, running → succeeded with
 *      the model id and the job's progress history;
 *   or, when step 2 fails, a new transaction running → failed (message,
 *      SQLSTATE, context stored on the job), → queued again while
 *      attempts <= retries, or → cancelled after galaxy.cancel() or
 *      pg_cancel_backend().
 * The time limit (the job's timeout, else galaxy.job_timeout) is a timer
 * that cancels the run; SIGTERM (shutdown, pg_terminate_backend) also
 * stops training at the next CHECK_FOR_INTERRUPTS and is recorded.
 *
 * A worker can fail before step 1 commits: its role may not log in any
 * more, the database may be gone, or the role's settings may break the
 * first transaction (ALTER ROLE ... SET default_transaction_read_only = on).
 * Such errors are FATAL here (no handler is set up yet) and the process
 * cannot record anything in the job's database — it may not even be
 * connected.  So the worker does not try: an emit_log_hook copies the last
 * error's message and SQLSTATE into its shared worker entry, and the
 * launcher, seeing the entry end without 'started', has the next scanner of
 * the database (the bootstrap superuser, with its own settings) count the
 * attempt and fail the job once attempts > retries (launcher.c).
 */
#include "postgres.h"

#include <limits.h>
#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "api/train.h"
#include "galaxy.h"
#include "jobs/shmem.h"
#include "progress/progress.h"
#include "registry/audit.h"
#include "util/catalog.h"
#include "util/query.h"

/* Background worker entry point, found by name (bgw_function_name). */
PGDLLEXPORT void galaxy_job_worker_main(Datum arg);

/* What the launcher passes in bgw_extra (must match launcher.c). */
typedef struct WorkerExtra
{
	uint64		generation;
	int64		job_id;
	Oid			dboid;
	Oid			owner;
} WorkerExtra;

/* The job as read when it was marked running. */
typedef struct WorkerJob
{
	int64		id;
	int			attempts;
	int			retries;
	int64		timeout_ms;		/* 0 = none */
	char	   *project;
	Jsonb	   *request;
} WorkerJob;

static volatile sig_atomic_t got_sigterm = false;
static volatile sig_atomic_t job_timed_out = false;
static volatile sig_atomic_t recording = false;
static int	my_worker_idx = -1;
static uint64 my_generation = 0;
static MemoryContext job_context = NULL;
static bool capture_start_error = false;
static emit_log_hook_type prev_emit_log_hook = NULL;

/*
 * SIGTERM: stop training at the next CHECK_FOR_INTERRUPTS, like a cancel,
 * so that the worker can still record why the job ended.  A second SIGTERM,
 * or one that arrives while a state change is being recorded (which holds
 * off cancels), terminates the process at once: the job is then recovered
 * as interrupted.
 */
static void
worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	if (got_sigterm || recording)
		die(postgres_signal_arg);
	else
	{
		got_sigterm = true;
		InterruptPending = true;
		QueryCancelPending = true;
		SetLatch(MyLatch);
	}
	errno = save_errno;
}

/* Timer of the job's time limit: cancel the run. */
static void
job_timeout_handler(void)
{
	job_timed_out = true;
	InterruptPending = true;
	QueryCancelPending = true;
	SetLatch(MyLatch);
}

/*
 * emit_log_hook: until the job is marked running, keep the last ERROR or
 * FATAL (message, SQLSTATE) in our worker entry, for the launcher to record
 * on the job.  No lock: the entry is ours (claimed under the lock), and the
 * launcher reads it only after this process has stopped or, for an entry
 * it inherited, after worker_shmem_exit set 'exited' under the lock.
 */
static void
worker_capture_start_error(ErrorData *edata)
{
	if (capture_start_error && edata->elevel >= ERROR &&
		galaxy_jobs_shared != NULL && my_worker_idx >= 0)
	{
		JobWorkerSlot *w = &galaxy_jobs_shared->workers[my_worker_idx];

		strlcpy(w->start_error, edata->message ? edata->message : "",
				GALAXY_START_ERROR_LEN);
		strlcpy(w->start_sqlstate, unpack_sql_state(edata->sqlerrcode),
				sizeof(w->start_sqlstate));
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* on_shmem_exit: tell the launcher this worker is gone. */
static void
worker_shmem_exit(int code, Datum arg)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	JobWorkerSlot *w;

	if (shared == NULL || my_worker_idx < 0)
		return;
	w = &shared->workers[my_worker_idx];
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (w->in_use && w->generation == my_generation)
		w->exited = true;
	LWLockRelease(shared->lock);
}

/* Our worker entry's cancel flag, and the role that asked. */
static bool
worker_cancel_requested(Oid *role)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	JobWorkerSlot *w = &shared->workers[my_worker_idx];
	bool		result;

	LWLockAcquire(shared->lock, LW_SHARED);
	result = w->cancel_requested;
	if (role)
		*role = w->cancel_role;
	LWLockRelease(shared->lock);
	return result;
}

/*
 * Start a transaction with an active snapshot, as every step here does (SQL
 * runs through util/query.h, which opens SPI itself), and report the activity.
 */
static void
worker_begin_xact(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

/* Commit what worker_begin_xact started. */
static void
worker_commit_xact(void)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Audit details: each key with its value as a string (a NULL value is left out). */
static Jsonb *
audit_details(int n, const char **keys, const char **values)
{
	StringInfoData d;

	initStringInfo(&d);
	details_begin(&d);
	for (int i = 0; i < n; i++)
		if (values[i] != NULL)
			details_str(&d, keys[i], values[i]);
	return details_end(&d);
}

/*
 * Transaction 1: queued → running.  false if the job is no longer queued
 * (cancelled, or picked twice): then there is nothing to do.
 */
static bool
worker_start_job(WorkerJob *job)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	bool		ok = false;
	char		idbuf[32];
	QueryResult *r;

	snprintf(idbuf, sizeof(idbuf), INT64_FORMAT, job->id);
	HOLD_CANCEL_INTERRUPTS();
	recording = true;
	worker_begin_xact("galaxy: starting a training job");
	values[0] = Int64GetDatum(job->id);
	r = catalog_query("UPDATE galaxy.jobs SET state = 'running', started_at = now(),"
					  " finished_at = NULL, worker_pid = pg_catalog.pg_backend_pid(),"
					  " attempts = attempts + 1 "
					  "WHERE id = $1 AND state = 'queued' "
					  "RETURNING request, attempts, retries,"
					  " (extract(epoch FROM timeout) * 1000)::float8, project",
					  1, types, values, NULL, false, 0,
					  SPI_OK_UPDATE_RETURNING,
					  psprintf("mark galaxy job %s running", idbuf));
	if (r->nrows == 1)
	{
		bool		isnull;
		Datum		d;
		MemoryContext old;
		char		attempt[16];
		const char *keys[2] = {"attempt", "worker_pid"};
		const char *vals[2];
		char		pidbuf[16];

		/* what the job needs after this transaction: copied to job_context */
		old = MemoryContextSwitchTo(job_context);
		d = query_datum(r, 0, 1, &isnull);
		job->request = DatumGetJsonbPCopy(d);
		job->attempts = query_int32(r, 0, 2, 0);
		job->retries = query_int32(r, 0, 3, 0);
		d = query_datum(r, 0, 4, &isnull);
		if (isnull)
			job->timeout_ms = galaxy_job_timeout_ms;
		else
			job->timeout_ms = (int64) Min(Max(DatumGetFloat8(d), 1.0), (double) INT_MAX);
		job->project = query_text(r, 0, 5);
		MemoryContextSwitchTo(old);

		snprintf(attempt, sizeof(attempt), "%d", job->attempts);
		snprintf(pidbuf, sizeof(pidbuf), "%d", MyProcPid);
		vals[0] = attempt;
		vals[1] = pidbuf;
		galaxy_audit("job_running", "job", idbuf, audit_details(2, keys, vals));
		jobs_notify(job->id, "running");
		ok = true;
	}
	worker_commit_xact();
	recording = false;
	RESUME_CANCEL_INTERRUPTS();
	return ok;
}

/*
 * Record the end of an unsuccessful run in a new transaction: state is
 * 'failed', 'cancelled' or 'queued' (another attempt follows).
 */
static void
worker_finish_job(WorkerJob *job, const char *state, const char *message,
				  const char *sqlstate, const char *context, Oid cancel_role)
{
	Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	char		idbuf[32];

	snprintf(idbuf, sizeof(idbuf), INT64_FORMAT, job->id);
	HOLD_CANCEL_INTERRUPTS();
	recording = true;
	worker_begin_xact("galaxy: recording the end of a training job");
	if (OidIsValid(cancel_role))
	{
		/* a role name needs the catalog, hence a transaction */
		char	   *name = GetUserNameFromId(cancel_role, true);

		/* in job_context: still logged after the commit */
		message = MemoryContextStrdup(job_context,
									  psprintf("cancelled by role %s with galaxy.cancel()",
											   name ? name : "(dropped)"));
	}
	values[0] = Int64GetDatum(job->id);
	values[1] = CStringGetTextDatum(state);
	values[2] = message ? CStringGetTextDatum(message) : (Datum) 0;
	nulls[2] = message ? ' ' : 'n';
	values[3] = sqlstate ? CStringGetTextDatum(sqlstate) : (Datum) 0;
	nulls[3] = sqlstate ? ' ' : 'n';
	values[4] = context ? CStringGetTextDatum(context) : (Datum) 0;
	nulls[4] = context ? ' ' : 'n';
	if (catalog_command("UPDATE galaxy.jobs SET state = $2, error_message = $3,"
						" error_sqlstate = $4, error_context = $5,"
						" finished_at = CASE WHEN $2 = 'queued' THEN NULL"
						"               ELSE greatest(clock_timestamp(), started_at) END "
						"WHERE id = $1 AND state = 'running'",
						5, types, values, nulls,
						SPI_OK_UPDATE,
						psprintf("record the end of galaxy job %s", idbuf)) == 1)
	{
		const char *keys[4] = {"attempt", "sqlstate", "message", "state"};
		const char *vals[4];
		char		attempt[16];
		const char *action;

		snprintf(attempt, sizeof(attempt), "%d", job->attempts);
		vals[0] = attempt;
		vals[1] = sqlstate;
		vals[2] = message;
		vals[3] = state;
		progress_save_history(job->id, job->attempts);
		if (strcmp(state, "cancelled") == 0)
			action = "job_cancelled";
		else if (strcmp(state, "queued") == 0)
			action = "job_requeued";
		else
			action = "job_failed";
		galaxy_audit(action, "job", idbuf, audit_details(4, keys, vals));
		jobs_notify(job->id, state);
		if (strcmp(state, "queued") == 0)
			jobs_wake_at_commit(true, false);
	}
	else
		progress_discard_history();
	worker_commit_xact();
	recording = false;
	RESUME_CANCEL_INTERRUPTS();
	jobs_wake_waiters(MyDatabaseId, job->id);
	ereport(LOG,
			(errmsg("galaxy job %s %s: %s", idbuf,
					strcmp(state, "queued") == 0 ? "re-queued" : state,
					message ? message : "(no message)")));
}

/* Transaction 2: train and, on success, record the model in the same transaction. */
static void
worker_run_job(WorkerJob *job, int timeout_id)
{
	TrainRequest *req;
	int64		model_id;
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		values[2];
	char		idbuf[32];
	char		activity[NAMEDATALEN + 64];
	char		modelbuf[32];
	char		attempt[16];
	const char *keys[2] = {"model_id", "attempt"};
	const char *vals[2];

	snprintf(idbuf, sizeof(idbuf), INT64_FORMAT, job->id);
	snprintf(activity, sizeof(activity), "galaxy: training job %s (project %s)",
			 idbuf, job->project);
	worker_begin_xact(activity);
	if (job->timeout_ms > 0)
		enable_timeout_after(timeout_id, (int) job->timeout_ms);

	req = train_request_from_jsonb(job->request);
	req->job_id = job->id;
	model_id = train_run(req, NULL);

	disable_timeout(timeout_id, false);
	HOLD_CANCEL_INTERRUPTS();
	recording = true;

	values[0] = Int64GetDatum(job->id);
	values[1] = Int64GetDatum(model_id);
	if (catalog_command("UPDATE galaxy.jobs SET state = 'succeeded', model_id = $2,"
						" error_message = NULL, error_sqlstate = NULL, error_context = NULL,"
						" finished_at = greatest(clock_timestamp(), started_at) "
						"WHERE id = $1 AND state = 'running'",
						2, types, values, NULL,
						SPI_OK_UPDATE,
						psprintf("record the success of galaxy job %s", idbuf)) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("galaxy job %s stopped being 'running' while it trained", idbuf)));

	progress_save_history(job->id, job->attempts);
	snprintf(modelbuf, sizeof(modelbuf), INT64_FORMAT, model_id);
	snprintf(attempt, sizeof(attempt), "%d", job->attempts);
	vals[0] = modelbuf;
	vals[1] = attempt;
	galaxy_audit("job_succeeded", "job", idbuf, audit_details(2, keys, vals));
	jobs_notify(job->id, "succeeded");
	worker_commit_xact();
	recording = false;
	RESUME_CANCEL_INTERRUPTS();
	jobs_wake_waiters(MyDatabaseId, job->id);
	ereport(LOG, (errmsg("galaxy job %s succeeded: model %s", idbuf, modelbuf)));
}

/* DETAIL, HINT and CONTEXT of an error as one text (NULL if none). */
static char *
error_context_text(ErrorData *edata)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (edata->detail)
		appendStringInfo(&buf, "DETAIL: %s\n", edata->detail);
	if (edata->hint)
		appendStringInfo(&buf, "HINT: %s\n", edata->hint);
	if (edata->context)
		appendStringInfoString(&buf, edata->context);
	while (buf.len > 0 && buf.data[buf.len - 1] == '\n')
		buf.data[--buf.len] = '\0';
	return buf.len > 0 ? buf.data : NULL;
}

/* Decide and record the outcome of a run that raised an error. */
static void
worker_handle_error(WorkerJob *job, ErrorData *edata)
{
	Oid			cancel_role = InvalidOid;
	bool		cancelled = worker_cancel_requested(&cancel_role);
	bool		retry = job->attempts <= job->retries;
	char	   *context = error_context_text(edata);
	const char *sqlstate = unpack_sql_state(edata->sqlerrcode);
	const char *message;

	if (job_timed_out)
	{
		message = psprintf("job exceeded its time limit of %lld ms (the job's timeout, else galaxy.job_timeout)",
						   (long long) job->timeout_ms);
		worker_finish_job(job, retry ? "queued" : "failed", message, "57014", context, InvalidOid);
	}
	else if (got_sigterm && !cancelled)
	{
		message = "training worker was terminated (server shutdown or pg_terminate_backend)";
		worker_finish_job(job, retry ? "queued" : "failed", message, "57P01", context, InvalidOid);
	}
	else if (cancelled || edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		worker_finish_job(job, "cancelled", "cancelled (pg_cancel_backend)", "57014", NULL,
						cancelled ? cancel_role : InvalidOid);
	else
		worker_finish_job(job, retry ? "queued" : "failed", edata->message, sqlstate, context,
						InvalidOid);

}

/* Entry point of a training worker (bgw_main_arg = its worker entry). */
void
galaxy_job_worker_main(Datum arg)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	WorkerExtra extra;
	WorkerJob	job;
	JobWorkerSlot *w;
	int			timeout_id;
	bool		mine;

	memcpy(&extra, MyBgworkerEntry->bgw_extra, sizeof(extra));
	my_worker_idx = DatumGetInt32(arg);
	pqsignal(SIGTERM, worker_sigterm);
	BackgroundWorkerUnblockSignals();

	if (shared == NULL || my_worker_idx < 0 || my_worker_idx >= GALAXY_MAX_JOB_WORKERS)
		proc_exit(0);

	/* claim our entry; a launcher restart may have voided it meanwhile */
	w = &shared->workers[my_worker_idx];
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	mine = w->in_use && w->generation == extra.generation && w->job_id == extra.job_id;
	if (mine)
		w->pid = MyProcPid;
	LWLockRelease(shared->lock);
	if (!mine)
		proc_exit(0);
	my_generation = extra.generation;
	on_shmem_exit(worker_shmem_exit, (Datum) 0);

	/* until step 1 commits, an error is a failed start: keep it (see above) */
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = worker_capture_start_error;
	capture_start_error = true;

	BackgroundWorkerInitializeConnectionByOid(extra.dboid, extra.owner, 0);
	pgstat_report_appname("galaxy training worker");

	timeout_id = RegisterTimeout(USER_TIMEOUT, job_timeout_handler);
	job_context = AllocSetContextCreate(TopMemoryContext, "galaxy job",
										ALLOCSET_DEFAULT_SIZES);

	memset(&job, 0, sizeof(job));
	job.id = extra.job_id;
	mine = worker_start_job(&job);

	/*
	 * The job is running (attempt counted) or no longer queued: from here on
	 * the launcher need not suspect a start-up failure.
	 */
	capture_start_error = false;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	w->started = true;
	LWLockRelease(shared->lock);
	if (!mine)
		proc_exit(0);

	/* cancelled while starting: no training at all */
	if (worker_cancel_requested(NULL) || got_sigterm)
	{
		ErrorData	edata;

		memset(&edata, 0, sizeof(edata));
		edata.sqlerrcode = ERRCODE_QUERY_CANCELED;
		edata.message = "cancelled before training started";
		QueryCancelPending = false;
		worker_handle_error(&job, &edata);
		proc_exit(0);
	}

	PG_TRY();
	{
		worker_run_job(&job, timeout_id);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		HOLD_INTERRUPTS();
		recording = false;
		disable_all_timeouts(false);
		QueryCancelPending = false;
		MemoryContextSwitchTo(job_context);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		RESUME_INTERRUPTS();
		/* a late cancel signal must not abort the recording transaction */
		QueryCancelPending = false;
		worker_handle_error(&job, edata);
	}
	PG_END_TRY();

	proc_exit(0);
}
