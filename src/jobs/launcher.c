/*
 * launcher.c — the job launcher (one static background worker) and the
 * short-lived per-database job scanner.
 *
 * The launcher is connected to no database (like the logical replication
 * launcher): it reads pg_database and keeps a local list of databases.  A
 * database is visited by starting a "job scanner" worker connected to it
 * (as the bootstrap superuser) which
 *   - recovers jobs left 'running' without a live worker (after a crash, a
 *     restart or pg_terminate_backend): failed, or re-queued while
 *     attempts <= retries; audited and notified;
 *   - fails queued jobs whose owner can no longer connect;
 *   - hands the launcher the next queued jobs, highest priority and oldest
 *     first, at most as many as there are free worker places.
 * The launcher then starts one training worker per job (worker.c), never
 * more than galaxy.max_workers at once in the whole cluster.
 *
 * A database is visited when the launcher starts (all of them: recovery),
 * when a submit commits there (jobs_note_pending_db + latch), when one of
 * its workers exits, when it had more queued jobs than free places, and
 * every 30 s for databases where galaxy is installed (safety net).
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "galaxy.h"
#include "jobs/jobs.h"
#include "registry/audit.h"
#include "util/query.h"

/* Seconds between safety-net visits of databases where galaxy is installed. */
#define LAUNCHER_RESCAN_SECS	30
/* Seconds between re-reads of pg_database. */
#define LAUNCHER_DBLIST_SECS	300
/* Back-off after a failed scan or worker start. */
#define LAUNCHER_BACKOFF_MS		5000

/* What the launcher knows about one database. */
typedef struct LauncherDb
{
	Oid			dboid;
	int			installed;		/* -1 unknown, 0 no, 1 yes */
	bool		need_scan;
	bool		need_recovery;
	bool		seen;			/* still in pg_database at the last re-read */
	TimestampTz not_before;
	TimestampTz last_scan;
} LauncherDb;

static LauncherDb *dbs = NULL;
static int	ndbs = 0;
static int	maxdbs = 0;
static BackgroundWorkerHandle *worker_handles[GALAXY_MAX_JOB_WORKERS];
static BackgroundWorkerHandle *scan_handle = NULL;
static Oid	scan_dboid = InvalidOid;
static bool warned_no_slot = false;

/* Register the static launcher (from _PG_init while preloading). */
void
jobs_register_launcher(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	strlcpy(worker.bgw_library_name, "galaxy", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "galaxy_launcher_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "galaxy launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "galaxy launcher", BGW_MAXLEN);
	worker.bgw_main_arg = (Datum) 0;
	worker.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&worker);
}

/* The launcher's entry for dboid, added if new. */
static LauncherDb *
LauncherDbFor(Oid dboid)
{
	int			i;

	for (i = 0; i < ndbs; i++)
		if (dbs[i].dboid == dboid)
			return &dbs[i];
	if (ndbs == maxdbs)
	{
		maxdbs = Max(16, maxdbs * 2);
		if (dbs == NULL)
			dbs = MemoryContextAlloc(TopMemoryContext, sizeof(LauncherDb) * maxdbs);
		else
			dbs = repalloc(dbs, sizeof(LauncherDb) * maxdbs);
	}
	memset(&dbs[ndbs], 0, sizeof(LauncherDb));
	dbs[ndbs].dboid = dboid;
	dbs[ndbs].installed = -1;
	dbs[ndbs].seen = true;
	return &dbs[ndbs++];
}

/*
 * Re-read pg_database: add new connectable, non-template databases (marked
 * for a visit when 'visit_new'), drop the ones that are gone.
 */
static void
LauncherReadDatabases(bool visit_all)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	int			i,
				j;

	for (i = 0; i < ndbs; i++)
		dbs[i].seen = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database dbform = (Form_pg_database) GETSTRUCT(tup);
		LauncherDb *db;
		bool		known = false;

		if (!dbform->datallowconn || dbform->datistemplate ||
			database_is_invalid_form(dbform))
			continue;
		for (i = 0; i < ndbs; i++)
			if (dbs[i].dboid == dbform->oid)
				known = true;
		db = LauncherDbFor(dbform->oid);
		db->seen = true;
		if (!known || visit_all)
		{
			db->need_recovery = true;
			db->need_scan = true;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();

	/* forget databases that were dropped */
	for (i = 0, j = 0; i < ndbs; i++)
		if (dbs[i].seen)
			dbs[j++] = dbs[i];
	ndbs = j;
}

/* before_shmem_exit: the launcher is gone. */
static void
LauncherExit(int code, Datum arg)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->launcher_pid == MyProcPid)
	{
		shared->launcher_pid = 0;
		shared->launcher_procno = -1;
	}
	shared->scan.active = false;
	LWLockRelease(shared->lock);
}

/* Move databases flagged by committed submits into the local list. */
static void
LauncherTakePending(void)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	Oid			pending[GALAXY_PENDING_DBS];
	int			npending;
	bool		overflow;
	int			i;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	npending = shared->npending;
	memcpy(pending, shared->pending, sizeof(Oid) * npending);
	overflow = shared->pending_overflow;
	shared->npending = 0;
	shared->pending_overflow = false;
	LWLockRelease(shared->lock);

	for (i = 0; i < npending; i++)
	{
		LauncherDb *db = LauncherDbFor(pending[i]);

		db->need_scan = true;
		db->not_before = 0;
	}
	if (overflow)
	{
		LauncherReadDatabases(false);
		for (i = 0; i < ndbs; i++)
			if (dbs[i].installed != 0)
				dbs[i].need_scan = true;
	}
}

/* Release worker entries whose process has stopped. */
static void
LauncherReapWorkers(void)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	bool		stopped[GALAXY_MAX_JOB_WORKERS];
	int			i;

	/* ask the postmaster first: no need to hold our lock meanwhile */
	for (i = 0; i < GALAXY_MAX_JOB_WORKERS; i++)
	{
		pid_t		pid;

		stopped[i] = false;
		if (worker_handles[i] != NULL &&
			GetBackgroundWorkerPid(worker_handles[i], &pid) == BGWH_STOPPED)
			stopped[i] = true;
	}

	for (i = 0; i < GALAXY_MAX_JOB_WORKERS; i++)
	{
		JobWorkerSlot *w = &shared->workers[i];
		Oid			dboid = InvalidOid;
		bool		started = true;
		int64		job_id = 0;

		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		/*
		 * With a handle we wait until the postmaster has reaped the process
		 * (so never more than max_workers exist); an entry inherited from a
		 * previous launcher has no handle and relies on the exit flag.
		 */
		if (w->in_use && (stopped[i] || (worker_handles[i] == NULL && w->exited)))
		{
			dboid = w->dboid;
			started = w->started;
			job_id = w->job_id;
			w->in_use = false;
			w->generation = shared->next_generation++;
		}
		LWLockRelease(shared->lock);

		if (OidIsValid(dboid))
		{
			LauncherDb *db = LauncherDbFor(dboid);

			db->need_scan = true;
			db->need_recovery = true;
			if (!started)
			{
				ereport(WARNING,
						(errmsg("galaxy training worker for job %lld in database %u exited before it started the job",
								(long long) job_id, dboid),
						 errdetail("The job stays queued and is retried in a few seconds; see earlier messages in the server log.")));
				db->not_before = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
															 LAUNCHER_BACKOFF_MS);
			}
			if (worker_handles[i] != NULL)
			{
				pfree(worker_handles[i]);
				worker_handles[i] = NULL;
			}
		}
	}
}

/* Free worker places right now (galaxy.max_workers minus entries in use). */
static int
LauncherCapacity(void)
{
	int			free_places = galaxy_max_workers - jobs_running_workers();

	return Max(free_places, 0);
}

/* Start one training worker for a picked job; false if none could be started. */
static bool
LauncherStartWorker(Oid dboid, const JobPick *pick)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	struct
	{
		uint64		generation;
		int64		job_id;
		Oid			dboid;
		Oid			owner;
	}			extra;
	int			i,
				n = 0,
				idx = -1;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < GALAXY_MAX_JOB_WORKERS; i++)
	{
		if (shared->workers[i].in_use)
			n++;
		else if (idx < 0)
			idx = i;
	}
	if (idx < 0 || n >= galaxy_max_workers)
	{
		LWLockRelease(shared->lock);
		return false;
	}
	shared->workers[idx].in_use = true;
	shared->workers[idx].generation = shared->next_generation++;
	shared->workers[idx].job_id = pick->job_id;
	shared->workers[idx].dboid = dboid;
	shared->workers[idx].owner = pick->owner;
	shared->workers[idx].pid = 0;
	shared->workers[idx].started = false;
	shared->workers[idx].exited = false;
	shared->workers[idx].cancel_requested = false;
	extra.generation = shared->workers[idx].generation;
	LWLockRelease(shared->lock);

	extra.job_id = pick->job_id;
	extra.dboid = dboid;
	extra.owner = pick->owner;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "galaxy", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "galaxy_job_worker_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "galaxy training worker for job %lld",
			 (long long) pick->job_id);
	strlcpy(worker.bgw_type, "galaxy training worker", BGW_MAXLEN);
	worker.bgw_main_arg = Int32GetDatum(idx);
	StaticAssertStmt(sizeof(extra) <= BGW_EXTRALEN, "bgw_extra too small");
	memcpy(worker.bgw_extra, &extra, sizeof(extra));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		shared->workers[idx].in_use = false;
		shared->workers[idx].generation = shared->next_generation++;
		LWLockRelease(shared->lock);
		if (!warned_no_slot)
			ereport(WARNING,
					(errmsg("galaxy could not start a training worker for job %lld",
							(long long) pick->job_id),
					 errhint("Raise max_worker_processes (it must leave room for galaxy.max_workers plus 2)."
							 " The job stays queued.")));
		warned_no_slot = true;
		return false;
	}
	worker_handles[idx] = handle;
	warned_no_slot = false;
	return true;
}

/* Collect a finished scanner's result and start workers for its picks. */
static void
LauncherFinishScan(void)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	ScanMailbox result;
	LauncherDb *db;
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	result = shared->scan;
	shared->scan.active = false;
	LWLockRelease(shared->lock);

	pfree(scan_handle);
	scan_handle = NULL;
	db = LauncherDbFor(scan_dboid);
	db->last_scan = now;

	if (!result.done)
	{
		/* the scanner failed (its error is in the server log): back off */
		db->need_scan = false;
		db->need_recovery = false;
		db->not_before = TimestampTzPlusMilliseconds(now, LAUNCHER_BACKOFF_MS);
		return;
	}
	db->installed = result.installed ? 1 : 0;
	db->need_recovery = false;
	db->need_scan = result.more;
	for (i = 0; i < result.npicks; i++)
	{
		if (!LauncherStartWorker(scan_dboid, &result.picks[i]))
		{
			db->need_scan = true;
			db->not_before = TimestampTzPlusMilliseconds(now, LAUNCHER_BACKOFF_MS);
			break;
		}
	}
}

/* Start a scanner for the most deserving database, if any. */
static void
LauncherStartScan(void)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	TimestampTz now = GetCurrentTimestamp();
	int			capacity = LauncherCapacity();
	LauncherDb *best = NULL;
	BackgroundWorker worker;
	uint64		generation;
	int			i;

	for (i = 0; i < ndbs; i++)
	{
		LauncherDb *db = &dbs[i];

		if (db->not_before > now)
			continue;
		if (!(db->need_recovery || (db->need_scan && capacity > 0)))
			continue;
		/* recovery first, then the database visited longest ago */
		if (best == NULL ||
			(db->need_recovery && !best->need_recovery) ||
			(db->need_recovery == best->need_recovery && db->last_scan < best->last_scan))
			best = db;
	}
	if (best == NULL)
		return;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	generation = shared->next_generation++;
	shared->scan.active = true;
	shared->scan.generation = generation;
	shared->scan.dboid = best->dboid;
	shared->scan.capacity = Min(capacity, GALAXY_MAX_JOB_WORKERS);
	shared->scan.done = false;
	shared->scan.installed = false;
	shared->scan.more = false;
	shared->scan.npicks = 0;
	LWLockRelease(shared->lock);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "galaxy", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "galaxy_scanner_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "galaxy job scanner for database %u", best->dboid);
	strlcpy(worker.bgw_type, "galaxy job scanner", BGW_MAXLEN);
	worker.bgw_main_arg = Int64GetDatum((int64) generation);
	memcpy(worker.bgw_extra, &best->dboid, sizeof(Oid));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &scan_handle))
	{
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		shared->scan.active = false;
		LWLockRelease(shared->lock);
		scan_handle = NULL;
		best->not_before = TimestampTzPlusMilliseconds(now, LAUNCHER_BACKOFF_MS);
		if (!warned_no_slot)
			ereport(WARNING,
					(errmsg("galaxy launcher could not start a job scanner"),
					 errhint("Raise max_worker_processes (it must leave room for galaxy.max_workers plus 2).")));
		warned_no_slot = true;
		return;
	}
	scan_dboid = best->dboid;
}

/* Main loop of the launcher. */
void
galaxy_launcher_main(Datum arg)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	TimestampTz last_rescan;
	TimestampTz last_dblist;
	int			i;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (shared == NULL)
		ereport(ERROR, (errmsg("galaxy launcher started without galaxy's shared memory")));

	/* no database: only shared catalogs (pg_database) are read */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("galaxy launcher");

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->launcher_pid = MyProcPid;
	shared->launcher_procno = MyProc->pgprocno;
	/* a scanner of a previous launcher reports to nobody */
	shared->scan.active = false;
	shared->scan.generation = shared->next_generation++;
	/* entries of a previous launcher whose worker never started are void */
	for (i = 0; i < GALAXY_MAX_JOB_WORKERS; i++)
	{
		JobWorkerSlot *w = &shared->workers[i];

		if (w->in_use && w->pid == 0)
		{
			w->in_use = false;
			w->generation = shared->next_generation++;
		}
		worker_handles[i] = NULL;
	}
	shared->npending = 0;
	shared->pending_overflow = false;
	LWLockRelease(shared->lock);
	before_shmem_exit(LauncherExit, (Datum) 0);

	ereport(LOG, (errmsg("galaxy launcher started")));

	/* visit every database once: recovery of jobs left running */
	LauncherReadDatabases(true);
	last_rescan = last_dblist = GetCurrentTimestamp();

	for (;;)
	{
		TimestampTz now;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		LauncherTakePending();
		LauncherReapWorkers();

		if (scan_handle != NULL)
		{
			pid_t		pid;

			if (GetBackgroundWorkerPid(scan_handle, &pid) == BGWH_STOPPED)
				LauncherFinishScan();
		}

		now = GetCurrentTimestamp();
		if (TimestampDifferenceExceeds(last_dblist, now, LAUNCHER_DBLIST_SECS * 1000))
		{
			LauncherReadDatabases(false);
			last_dblist = now;
		}
		if (TimestampDifferenceExceeds(last_rescan, now, LAUNCHER_RESCAN_SECS * 1000))
		{
			for (i = 0; i < ndbs; i++)
				if (dbs[i].installed == 1)
					dbs[i].need_scan = true;
			last_rescan = now;
		}

		if (scan_handle == NULL)
			LauncherStartScan();

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 scan_handle != NULL ? 100L : 1000L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* Run a scanner query (the scanner is the bootstrap superuser). */
static QueryResult *
ScanExec(const char *sql, int nargs, Oid *types, Datum *values, int expected)
{
	return user_query(sql, nargs, types, values, NULL, false, 0, expected,
					  "run a galaxy job scanner query");
}

/* Audit and notify the rows (id, state, reason) of a scanner query. */
static void
ScanAuditResult(QueryResult *r, const char *action_failed, const char *action_queued)
{
	for (uint64 i = 0; i < r->nrows; i++)
	{
		int64		id = query_int64(r, i, 1, 0);
		char	   *state = query_text(r, i, 2);
		char	   *reason = query_text(r, i, 3);
		char		idbuf[32];
		JsonbParseState *ps = NULL;
		JsonbValue	k,
					v;
		Jsonb	   *details;

		pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
		k.type = jbvString;
		k.val.string.val = "reason";
		k.val.string.len = strlen("reason");
		pushJsonbValue(&ps, WJB_KEY, &k);
		v.type = jbvString;
		v.val.string.val = reason ? reason : "";
		v.val.string.len = strlen(v.val.string.val);
		pushJsonbValue(&ps, WJB_VALUE, &v);
		details = JsonbValueToJsonb(pushJsonbValue(&ps, WJB_END_OBJECT, NULL));

		snprintf(idbuf, sizeof(idbuf), INT64_FORMAT, id);
		galaxy_audit(strcmp(state, "queued") == 0 ? action_queued : action_failed,
					 "job", idbuf, details);
		jobs_notify(id, state);
		ereport(LOG,
				(errmsg("galaxy job %lld %s: %s", (long long) id,
						strcmp(state, "queued") == 0 ? "re-queued" : "failed",
						reason ? reason : "")));
	}
}

/* Entry point of the per-database job scanner. */
void
galaxy_scanner_main(Datum arg)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	uint64		generation = (uint64) DatumGetInt64(arg);
	Oid			dboid;
	Datum	   *inflight;
	int			ninflight = 0;
	int			capacity;
	bool		installed = false;
	bool		more = false;
	QueryResult *r;
	bool		changed = false;
	JobPick		picks[GALAXY_MAX_JOB_WORKERS];
	int			npicks = 0;
	int			i;

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	LWLockAcquire(shared->lock, LW_SHARED);
	if (!shared->scan.active || shared->scan.generation != generation)
	{
		LWLockRelease(shared->lock);
		proc_exit(0);
	}
	capacity = shared->scan.capacity;
	LWLockRelease(shared->lock);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("galaxy job scanner");
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "galaxy: scanning the job queue");

	installed = OidIsValid(get_extension_oid("galaxy", true));

	if (installed)
	{
		Oid			types[2] = {INT8ARRAYOID, INT4OID};
		Datum		values[2];

		/* jobs some worker owns right now: never touched here */
		inflight = palloc(sizeof(Datum) * GALAXY_MAX_JOB_WORKERS);
		LWLockAcquire(shared->lock, LW_SHARED);
		for (i = 0; i < GALAXY_MAX_JOB_WORKERS; i++)
			if (shared->workers[i].in_use && shared->workers[i].dboid == dboid)
				inflight[ninflight++] = Int64GetDatum(shared->workers[i].job_id);
		LWLockRelease(shared->lock);
		values[0] = PointerGetDatum(construct_array(inflight, ninflight, INT8OID, 8,
													FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[1] = Int32GetDatum(capacity + 1);

		/* recovery: running without a worker → failed, or queued while retries remain */
		r = ScanExec("UPDATE galaxy.jobs j SET "
				 " state = CASE WHEN j.attempts <= j.retries THEN 'queued' ELSE 'failed' END,"
				 " error_message = 'training worker terminated unexpectedly (server crash, restart or pg_terminate_backend)'"
				 "   || CASE WHEN j.attempts <= j.retries"
				 "      THEN '; re-queued for attempt ' || (j.attempts + 1) || ' of ' || (j.retries + 1)"
				 "      ELSE '' END,"
				 " error_sqlstate = '57P01',"
				 " error_context = NULL,"
				 " worker_pid = NULL,"
				 " finished_at = CASE WHEN j.attempts <= j.retries THEN NULL"
				 "               ELSE greatest(now(), j.started_at) END "
				 "WHERE j.state = 'running' AND NOT (j.id = ANY ($1)) "
				 "RETURNING j.id, j.state, j.error_message",
				 1, types, values, SPI_OK_UPDATE_RETURNING);
		changed |= r->nrows > 0;
		ScanAuditResult(r, "job_failed", "job_requeued");

		/* queued jobs whose owner can no longer connect can never run */
		r = ScanExec("UPDATE galaxy.jobs j SET state = 'failed', finished_at = now(),"
				 " error_sqlstate = '28000',"
				 " error_message = format('role %s cannot connect to this database (dropped, NOLOGIN or no CONNECT privilege), so the job cannot run as it', j.owner) "
				 "WHERE j.state = 'queued' AND NOT (j.id = ANY ($1)) AND NOT EXISTS ("
				 "  SELECT 1 FROM pg_catalog.pg_authid a WHERE a.oid = j.owner_oid AND a.rolcanlogin"
				 "  AND (a.rolsuper OR pg_catalog.has_database_privilege(a.oid, pg_catalog.current_database(), 'CONNECT'))) "
				 "RETURNING j.id, j.state, j.error_message",
				 1, types, values, SPI_OK_UPDATE_RETURNING);
		changed |= r->nrows > 0;
		ScanAuditResult(r, "job_failed", "job_requeued");

		/* the next jobs to run */
		if (capacity > 0)
		{
			r = ScanExec("SELECT j.id, j.owner_oid FROM galaxy.jobs j "
						 "WHERE j.state = 'queued' AND NOT (j.id = ANY ($1)) "
						 "ORDER BY j.priority DESC, j.submitted_at, j.id LIMIT $2",
						 2, types, values, SPI_OK_SELECT);
			for (i = 0; i < (int) r->nrows; i++)
			{
				bool		isnull;

				if (npicks == capacity)
				{
					more = true;
					break;
				}
				picks[npicks].job_id = query_int64(r, i, 1, 0);
				picks[npicks].owner = DatumGetObjectId(query_datum(r, i, 2, &isnull));
				npicks++;
			}
		}
	}

	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	if (changed)
		jobs_wake_waiters(dboid, 0);

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->scan.active && shared->scan.generation == generation)
	{
		shared->scan.installed = installed;
		shared->scan.more = more;
		shared->scan.npicks = npicks;
		memcpy(shared->scan.picks, picks, sizeof(JobPick) * npicks);
		shared->scan.done = true;
	}
	LWLockRelease(shared->lock);
	proc_exit(0);
}
