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
 *   - counts the attempts of workers that failed before they could mark
 *     their job running (see "Failed starts" below);
 *   - fails queued jobs whose owner can no longer connect;
 *   - hands the launcher the next queued jobs, highest priority and oldest
 *     first, at most as many as there are free worker places, and at most
 *     max(1, galaxy.max_workers - 1) running jobs per owner while another
 *     owner has jobs waiting (here or, as last seen, in another database).
 * The launcher then starts one training worker per job (worker.c), never
 * more than galaxy.max_workers at once in the whole cluster.
 *
 * Failed starts.  A worker can end before it marks its job running: its
 * role can no longer log in, the database is gone, or the role's settings
 * break its first transaction (default_transaction_read_only = on).  The
 * worker cannot record that itself (it may not be connected, and its own
 * transactions run under the very settings that failed), so it leaves the
 * error in its shared entry and the launcher takes over: it keeps the job
 * in back-off (1 s, doubling up to 60 s, per job; other jobs of the
 * database are not held up) and passes the failure to the next scanner of
 * the database, which runs as the bootstrap superuser with
 * default_transaction_read_only off and records it like any failed
 * attempt: attempts + 1, error message and SQLSTATE on the job, 'failed'
 * once attempts > retries (else still 'queued'), audited (job_failed or
 * job_requeued) and notified.  The launcher keeps this in its own memory:
 * a launcher restart forgets at most one uncounted failure per job.
 *
 * A database is visited when the launcher starts (all of them: recovery),
 * when a submit commits there (jobs_note_pending_db + latch), when one of
 * its workers exits, when it had more queued jobs than free places, and
 * every 30 s for databases where galaxy is installed (safety net).
 *
 * Monitoring.  The launcher also starts, one at a time, a short-lived
 * "monitor worker" per database (src/monitor/schedule.c): it writes the
 * database's predictions waiting in the inference-log ring to
 * galaxy.inference_log and runs the schedules that are due, then tells
 * the launcher when the next one is due.  A database gets one when the
 * ring holds its predictions, when its next schedule is due, when a
 * schedule or a logging setting changed there (monitor_note_db), and once
 * after galaxy is found installed there.
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
#include "jobs/launcher.h"
#include "jobs/shmem.h"
#include "monitor/inference_log.h"
#include "registry/audit.h"
#include "util/query.h"

/* Background worker entry points, found by name (bgw_function_name). */
PGDLLEXPORT void galaxy_launcher_main(Datum arg);
PGDLLEXPORT void galaxy_scanner_main(Datum arg);

/* Seconds between safety-net visits of databases where galaxy is installed. */
#define LAUNCHER_RESCAN_SECS	30
/* Seconds between re-reads of pg_database. */
#define LAUNCHER_DBLIST_SECS	300
/* Back-off after a failed scan or worker start. */
#define LAUNCHER_BACKOFF_MS		5000
/* Back-off of one job after its worker failed to start it: 1 s doubling to 60 s. */
#define START_BACKOFF_MIN_MS	1000
#define START_BACKOFF_MAX_MS	60000
/* A job in back-off is forgotten this long after its back-off ended. */
#define HELD_FORGET_MS			(10 * 60 * 1000)
/* Jobs in back-off remembered at once. */
#define LAUNCHER_MAX_HELD		256
/* A database's next monitor visit when none is due. */
#define MONITOR_NEVER			PG_INT64_MAX
/* Back-off of a database whose monitor worker failed: 5 s doubling to 5 min. */
#define MONITOR_BACKOFF_MAX_MS	(5 * 60 * 1000)

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
	int			nleft;			/* owners whose queued jobs the last scan left */
	Oid			left[GALAXY_MAX_JOB_WORKERS];
	TimestampTz monitor_at;		/* next monitor worker (0: now, MONITOR_NEVER: none) */
	TimestampTz monitor_backoff;	/* its last monitor worker failed: none before this */
	int			monitor_failures;	/* monitor workers failed in a row there */
	bool		monitor_probe;	/* a change there: visit even before a scan saw galaxy */
} LauncherDb;

/* A job whose worker failed before it marked the job running. */
typedef struct HeldJob
{
	Oid			dboid;
	int64		job_id;
	int			nfail;			/* failed starts in a row */
	TimestampTz not_before;		/* no new worker for it before this */
	bool		due;			/* not_before passed and its database was flagged */
	bool		pending;		/* the failure is not yet recorded on the job */
	char		sqlstate[6];
	char		message[GALAXY_START_ERROR_LEN];
} HeldJob;

static LauncherDb *dbs = NULL;
static int	ndbs = 0;
static int	maxdbs = 0;
static BackgroundWorkerHandle *worker_handles[GALAXY_MAX_JOB_WORKERS];
static BackgroundWorkerHandle *scan_handle = NULL;
static Oid	scan_dboid = InvalidOid;
static bool warned_no_slot = false;
static HeldJob *held = NULL;
static int	nheld = 0;
static BackgroundWorkerHandle *monitor_handle = NULL;
static Oid	monitor_dboid = InvalidOid;
static bool warned_no_monitor = false;
static bool monitor_last_for_ring = false;	/* the last monitor worker was for the ring */

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
launcher_db_for(Oid dboid)
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

/* The back-off entry of a job, or NULL. */
static HeldJob *
held_find(Oid dboid, int64 job_id)
{
	int			i;

	for (i = 0; i < nheld; i++)
		if (held[i].dboid == dboid && held[i].job_id == job_id)
			return &held[i];
	return NULL;
}

/* Drop entry i of the back-off list. */
static void
held_remove(int i)
{
	held[i] = held[--nheld];
}

/* A back-off after 'failures' failures in a row (at least 1): min_ms, doubling each time up to max_ms. */
static int
backoff_ms(int min_ms, int max_ms, int failures)
{
	int			ms = min_ms;

	for (int i = 1; i < failures && ms < max_ms; i++)
		ms *= 2;
	return Min(ms, max_ms);
}

/*
 * A worker for job_id in dboid ended before it marked the job running:
 * hold the job back (1 s, doubling per failure in a row up to 60 s) and
 * keep the failure for the next scanner of dboid.  Returns the delay.
 */
static int
held_note_failure(Oid dboid, int64 job_id, const char *sqlstate, const char *message)
{
	HeldJob    *h = held_find(dboid, job_id);
	int			delay;
	int			i;

	if (h == NULL)
	{
		if (nheld == LAUNCHER_MAX_HELD)
		{
			/* full: forget the entry whose back-off ended first */
			int			victim = 0;

			for (i = 1; i < nheld; i++)
				if (held[i].not_before < held[victim].not_before)
					victim = i;
			held_remove(victim);
		}
		h = &held[nheld++];
		memset(h, 0, sizeof(HeldJob));
		h->dboid = dboid;
		h->job_id = job_id;
	}
	h->nfail++;
	delay = backoff_ms(START_BACKOFF_MIN_MS, START_BACKOFF_MAX_MS, h->nfail);
	h->not_before = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), delay);
	h->due = false;
	h->pending = true;
	strlcpy(h->sqlstate, sqlstate, sizeof(h->sqlstate));
	strlcpy(h->message, message, sizeof(h->message));
	return delay;
}

/* Is job_id in dboid in back-off right now? */
static bool
held_active(Oid dboid, int64 job_id, TimestampTz now)
{
	HeldJob    *h = held_find(dboid, job_id);

	return h != NULL && (h->pending || h->not_before > now);
}

/* Are failed starts in dboid waiting to be recorded? */
static bool
held_pending_in(Oid dboid)
{
	int			i;

	for (i = 0; i < nheld; i++)
		if (held[i].dboid == dboid && held[i].pending)
			return true;
	return false;
}

/*
 * Flag the databases of jobs whose back-off just ended for a visit, forget
 * old entries and those of dropped databases; returns the milliseconds to
 * the next end of a back-off (-1: none).
 */
static long
held_tick(TimestampTz now)
{
	long		next = -1;
	int			i;

	for (i = 0; i < nheld; i++)
	{
		HeldJob    *h = &held[i];
		bool		known = false;
		int			j;

		for (j = 0; j < ndbs; j++)
			if (dbs[j].dboid == h->dboid)
				known = true;
		if (!known ||
			(!h->pending && TimestampDifferenceExceeds(h->not_before, now, HELD_FORGET_MS)))
		{
			held_remove(i--);
			continue;
		}
		if (h->due)
			continue;
		if (h->not_before <= now)
		{
			LauncherDb *db = launcher_db_for(h->dboid);

			h->due = true;
			db->need_scan = true;
		}
		else
		{
			long		ms = (long) ((h->not_before - now + 999) / 1000);

			if (next < 0 || ms < next)
				next = ms;
		}
	}
	return next;
}

/*
 * Re-read pg_database: add new connectable, non-template databases (marked
 * for a visit when 'visit_new'), drop the ones that are gone.
 */
static void
launcher_read_databases(bool visit_all)
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
		db = launcher_db_for(dbform->oid);
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
launcher_exit(int code, Datum arg)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->launcher_pid == MyProcPid)
	{
		shared->launcher_pid = 0;
		shared->launcher_procno = -1;
	}
	shared->scan.active = false;
	shared->monitor.active = false;
	LWLockRelease(shared->lock);
}

/* Move databases flagged by committed submits into the local list. */
static void
launcher_take_pending(void)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	Oid			pending[GALAXY_PENDING_DBS];
	int			npending;
	bool		overflow;
	Oid			mpending[GALAXY_PENDING_DBS];
	int			nmpending;
	bool		moverflow;
	int			i;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	npending = shared->npending;
	memcpy(pending, shared->pending, sizeof(Oid) * npending);
	overflow = shared->pending_overflow;
	shared->npending = 0;
	shared->pending_overflow = false;
	nmpending = shared->nmonitor_pending;
	memcpy(mpending, shared->monitor_pending, sizeof(Oid) * nmpending);
	moverflow = shared->monitor_pending_overflow;
	shared->nmonitor_pending = 0;
	shared->monitor_pending_overflow = false;
	LWLockRelease(shared->lock);

	/* schedules or logging settings changed there: a monitor worker soon */
	for (i = 0; i < nmpending; i++)
	{
		LauncherDb *db = launcher_db_for(mpending[i]);

		db->monitor_at = 0;
		if (db->installed != 1)
		{
			db->installed = -1;
			db->monitor_probe = true;	/* the worker says whether galaxy is there */
		}
	}
	if (moverflow)
		for (i = 0; i < ndbs; i++)
			if (dbs[i].installed == 1)
				dbs[i].monitor_at = 0;

	for (i = 0; i < npending; i++)
	{
		LauncherDb *db = launcher_db_for(pending[i]);

		db->need_scan = true;
		db->not_before = 0;
	}
	if (overflow)
	{
		launcher_read_databases(false);
		for (i = 0; i < ndbs; i++)
			if (dbs[i].installed != 0)
				dbs[i].need_scan = true;
	}
}

/* Release worker entries whose process has stopped. */
static void
launcher_reap_workers(void)
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
		char		sqlstate[6];
		char		message[GALAXY_START_ERROR_LEN];

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
			strlcpy(sqlstate, w->start_sqlstate, sizeof(sqlstate));
			strlcpy(message, w->start_error, sizeof(message));
			w->in_use = false;
			w->generation = shared->next_generation++;
		}
		LWLockRelease(shared->lock);

		if (OidIsValid(dboid))
		{
			LauncherDb *db = launcher_db_for(dboid);

			db->need_scan = true;
			db->need_recovery = true;
			if (!started)
			{
				int			delay;

				/* the worker's last error; none if it died without one */
				if (message[0] == '\0' || strlen(sqlstate) != 5)
				{
					strlcpy(message, "the training worker exited before it could mark the job running (see the server log)",
							sizeof(message));
					strlcpy(sqlstate, "XX000", sizeof(sqlstate));
				}
				delay = held_note_failure(dboid, job_id, sqlstate, message);
				ereport(WARNING,
						(errmsg("galaxy training worker for job %lld in database %u failed before it started the job: %s",
								(long long) job_id, dboid, message),
						 errdetail("The attempt is counted on the job; while retries remain, the job is tried again in %d s at the earliest.",
								   delay / 1000)));
			}
			else
			{
				HeldJob    *h = held_find(dboid, job_id);

				/* it started: a later failure backs off from 1 s again */
				if (h != NULL && !h->pending)
					held_remove(h - held);
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
launcher_capacity(void)
{
	int			free_places = galaxy_max_workers - jobs_running_workers();

	return Max(free_places, 0);
}

/* Start one training worker for a picked job; false if none could be started. */
static bool
launcher_start_worker(Oid dboid, const JobPick *pick)
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
	shared->workers[idx].start_sqlstate[0] = '\0';
	shared->workers[idx].start_error[0] = '\0';
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
launcher_finish_scan(void)
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
	db = launcher_db_for(scan_dboid);
	db->last_scan = now;

	if (!result.done)
	{
		/* the scanner failed (its error is in the server log): back off */
		db->need_scan = false;
		db->need_recovery = false;
		db->not_before = TimestampTzPlusMilliseconds(now, LAUNCHER_BACKOFF_MS);
		return;
	}
	if (result.installed && db->installed != 1)
		db->monitor_at = 0;		/* first sight: its schedules and log */
	db->installed = result.installed ? 1 : 0;
	db->need_recovery = false;
	db->need_scan = result.more;
	/* the failures it was given are recorded on their jobs now */
	for (i = 0; i < result.nfailures; i++)
	{
		HeldJob    *h = held_find(scan_dboid, result.failures[i].job_id);

		if (h != NULL)
			h->pending = false;
	}
	if (held_pending_in(scan_dboid))
		db->need_recovery = true;	/* more than fitted into one visit */
	if (result.capacity > 0)
	{
		bool		gone = false;
		int			j,
					k;

		/*
		 * An owner no longer waiting here may have held back the owners
		 * passed over for fairness in other databases: visit those again.
		 */
		for (j = 0; j < db->nleft && !gone; j++)
		{
			for (k = 0; k < result.nleft; k++)
				if (result.left[k] == db->left[j])
					break;
			gone = k == result.nleft;
		}
		if (gone)
			for (j = 0; j < ndbs; j++)
				if (&dbs[j] != db && dbs[j].nleft > 0)
					dbs[j].need_scan = true;
		db->nleft = result.nleft;
		memcpy(db->left, result.left, sizeof(Oid) * result.nleft);
	}
	for (i = 0; i < result.npicks; i++)
	{
		/* never a job in back-off (the scanner was told to skip them) */
		if (held_active(scan_dboid, result.picks[i].job_id, now))
			continue;
		if (!launcher_start_worker(scan_dboid, &result.picks[i]))
		{
			db->need_scan = true;
			db->not_before = TimestampTzPlusMilliseconds(now, LAUNCHER_BACKOFF_MS);
			break;
		}
	}
}

/* Start a scanner for the most deserving database, if any. */
static void
launcher_start_scan(void)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	TimestampTz now = GetCurrentTimestamp();
	int			capacity = launcher_capacity();
	LauncherDb *best = NULL;
	BackgroundWorker worker;
	uint64		generation;
	int			i;

	for (i = 0; i < ndbs; i++)
	{
		LauncherDb *db = &dbs[i];

		if (db->not_before > now)
			continue;
		if (!(db->need_recovery || (db->need_scan && capacity > 0) ||
			  held_pending_in(db->dboid)))
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
	shared->scan.owner_cap = Max(1, galaxy_max_workers - 1);
	/* failed starts to record, and the jobs in back-off */
	shared->scan.nfailures = 0;
	shared->scan.nheld = 0;
	for (i = 0; i < nheld; i++)
	{
		HeldJob    *h = &held[i];

		if (h->dboid != best->dboid)
			continue;
		if (h->pending && shared->scan.nfailures < GALAXY_MAX_JOB_WORKERS)
		{
			JobStartFailure *f = &shared->scan.failures[shared->scan.nfailures++];

			f->job_id = h->job_id;
			strlcpy(f->sqlstate, h->sqlstate, sizeof(f->sqlstate));
			strlcpy(f->message, h->message, sizeof(f->message));
		}
		if ((h->pending || h->not_before > now) && shared->scan.nheld < GALAXY_MAX_HELD)
			shared->scan.held[shared->scan.nheld++] = h->job_id;
	}
	/* owners left waiting in other databases, as their last scans saw them */
	shared->scan.nwaiting = 0;
	for (i = 0; i < ndbs; i++)
	{
		int			j,
					k;

		if (dbs[i].dboid == best->dboid)
			continue;
		for (j = 0; j < dbs[i].nleft; j++)
		{
			for (k = 0; k < shared->scan.nwaiting; k++)
				if (shared->scan.waiting[k] == dbs[i].left[j])
					break;
			if (k == shared->scan.nwaiting && k < GALAXY_MAX_JOB_WORKERS)
				shared->scan.waiting[shared->scan.nwaiting++] = dbs[i].left[j];
		}
	}
	shared->scan.done = false;
	shared->scan.installed = false;
	shared->scan.more = false;
	shared->scan.npicks = 0;
	shared->scan.nleft = 0;
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

/* Collect a finished monitor worker's result: when its database is next due. */
static void
launcher_finish_monitor(void)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	MonitorMailbox result;
	LauncherDb *db;
	TimestampTz now = GetCurrentTimestamp();

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	result = shared->monitor;
	shared->monitor.active = false;
	LWLockRelease(shared->lock);

	pfree(monitor_handle);
	monitor_handle = NULL;
	db = launcher_db_for(monitor_dboid);
	db->monitor_probe = false;
	if (!result.done)
	{
		/*
		 * It failed (its error is in the server log): back off, longer after
		 * each failure in a row, so a database where the worker cannot run
		 * (a damaged installation) costs a process start every few minutes,
		 * not every few seconds.
		 */
		db->monitor_failures++;
		db->monitor_backoff = TimestampTzPlusMilliseconds(now, backoff_ms(LAUNCHER_BACKOFF_MS, MONITOR_BACKOFF_MAX_MS,
																		  db->monitor_failures));
		db->monitor_at = db->monitor_backoff;
		return;
	}
	db->monitor_failures = 0;
	if (!result.installed)
	{
		db->installed = 0;
		db->monitor_at = MONITOR_NEVER;
		return;
	}
	db->installed = 1;
	/* a change that arrived meanwhile (monitor_at = 0) wins */
	if (db->monitor_at != 0)
		db->monitor_at = result.next_run > 0 ? result.next_run : MONITOR_NEVER;
	else if (result.next_run > 0 && result.next_run < now)
		db->monitor_at = result.next_run;
}

/*
 * Start a monitor worker for the database whose predictions wait longest in
 * the inference-log ring, else for one whose schedules are due.  Returns
 * the milliseconds until the next database is due (-1: none known).
 */
static long
launcher_start_monitor(void)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	TimestampTz now = GetCurrentTimestamp();
	Oid			dboid = inference_log_pending_db();
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	uint64		generation;
	long		next = -1;
	int			i;

	/*
	 * Predictions waiting come first (the worker drops them where galaxy is
	 * gone), but not twice in a row while another database's schedules are
	 * due: steady traffic in one database must not starve the others.
	 */
	if (OidIsValid(dboid) && launcher_db_for(dboid)->monitor_backoff > now)
		dboid = InvalidOid;
	if (!OidIsValid(dboid) || monitor_last_for_ring)
	{
		Oid			ring_db = dboid;

		dboid = InvalidOid;
		for (i = 0; i < ndbs; i++)
		{
			if (!(dbs[i].installed == 1 || (dbs[i].installed == -1 && dbs[i].monitor_probe)) ||
				dbs[i].monitor_at == MONITOR_NEVER)
				continue;
			if (dbs[i].monitor_at <= now && dbs[i].monitor_backoff <= now)
			{
				dboid = dbs[i].dboid;
				break;
			}
			else
			{
				long		ms = (long) ((dbs[i].monitor_at - now + 999) / 1000);

				if (next < 0 || ms < next)
					next = ms;
			}
		}
		if (!OidIsValid(dboid))
			dboid = ring_db;
		monitor_last_for_ring = OidIsValid(dboid) && dboid == ring_db;
	}
	else
		monitor_last_for_ring = true;
	if (!OidIsValid(dboid))
		return next;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	generation = shared->next_generation++;
	shared->monitor.active = true;
	shared->monitor.generation = generation;
	shared->monitor.dboid = dboid;
	shared->monitor.done = false;
	shared->monitor.installed = false;
	shared->monitor.next_run = 0;
	LWLockRelease(shared->lock);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "galaxy", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "galaxy_monitor_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "galaxy monitor for database %u", dboid);
	strlcpy(worker.bgw_type, "galaxy monitor", BGW_MAXLEN);
	worker.bgw_main_arg = Int64GetDatum((int64) generation);
	memcpy(worker.bgw_extra, &dboid, sizeof(Oid));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		shared->monitor.active = false;
		LWLockRelease(shared->lock);
		if (!warned_no_monitor)
			ereport(WARNING,
					(errmsg("galaxy could not start its monitor worker (inference log, schedules)"),
					 errhint("Raise max_worker_processes (it must leave room for galaxy.max_workers plus 3).")));
		warned_no_monitor = true;
		launcher_db_for(dboid)->monitor_at = TimestampTzPlusMilliseconds(now, 1000);
		return 1000;
	}
	warned_no_monitor = false;
	monitor_handle = handle;
	monitor_dboid = dboid;

	/*
	 * The visit is under way: not due again until the worker says when
	 * (launcher_finish_monitor).  A change that arrives meanwhile sets 0
	 * again, and that is how the finish tells it from this visit's own
	 * cause; left at 0, every visit looked like one asked for during the
	 * last, and the launcher started a worker for the database again and
	 * again, forever.
	 */
	launcher_db_for(dboid)->monitor_at = MONITOR_NEVER;
	return -1;
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
	shared->monitor.active = false;
	shared->nmonitor_pending = 0;
	shared->monitor_pending_overflow = false;
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
	before_shmem_exit(launcher_exit, (Datum) 0);
	held = MemoryContextAllocZero(TopMemoryContext, sizeof(HeldJob) * LAUNCHER_MAX_HELD);
	nheld = 0;

	ereport(LOG, (errmsg("galaxy launcher started")));

	/* visit every database once: recovery of jobs left running */
	launcher_read_databases(true);
	last_rescan = last_dblist = GetCurrentTimestamp();

	for (;;)
	{
		TimestampTz now;
		long		timeout;
		long		held_ms;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		launcher_take_pending();
		launcher_reap_workers();

		if (scan_handle != NULL)
		{
			pid_t		pid;

			if (GetBackgroundWorkerPid(scan_handle, &pid) == BGWH_STOPPED)
				launcher_finish_scan();
		}

		now = GetCurrentTimestamp();
		if (TimestampDifferenceExceeds(last_dblist, now, LAUNCHER_DBLIST_SECS * 1000))
		{
			launcher_read_databases(false);
			last_dblist = now;
		}
		if (TimestampDifferenceExceeds(last_rescan, now, LAUNCHER_RESCAN_SECS * 1000))
		{
			for (i = 0; i < ndbs; i++)
				if (dbs[i].installed == 1)
					dbs[i].need_scan = true;
			last_rescan = now;
		}

		/* jobs whose back-off ended: visit their databases */
		timeout = scan_handle != NULL ? 100L : 1000L;
		held_ms = held_tick(now);
		if (held_ms >= 0)
			timeout = Max(Min(timeout, held_ms), 10L);

		if (scan_handle == NULL)
			launcher_start_scan();

		/* the monitor worker: inference log and schedules */
		if (monitor_handle != NULL)
		{
			pid_t		pid;

			if (GetBackgroundWorkerPid(monitor_handle, &pid) == BGWH_STOPPED)
				launcher_finish_monitor();
		}
		if (monitor_handle == NULL)
		{
			long		monitor_ms = launcher_start_monitor();

			if (monitor_ms >= 0)
				timeout = Max(Min(timeout, monitor_ms), 10L);
		}
		else
			timeout = Min(timeout, 100L);

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* Run a scanner query (the scanner is the bootstrap superuser). */
static QueryResult *
scan_exec(const char *sql, int nargs, Oid *types, Datum *values, int expected)
{
	return user_query(sql, nargs, types, values, NULL, false, 0, expected,
					  "run a galaxy job scanner query");
}

/*
 * Audit and notify the rows (id, state, reason[, attempt, sqlstate]) of a
 * scanner query.
 */
static void
scan_audit_result(QueryResult *r, const char *action_failed, const char *action_queued)
{
	static const char *const keys[3] = {"reason", "attempt", "sqlstate"};
	int			nkeys = r->tupdesc->natts >= 5 ? 3 : 1;

	for (uint64 i = 0; i < r->nrows; i++)
	{
		int64		id = query_int64(r, i, 1, 0);
		char	   *state = query_text(r, i, 2);
		char	   *reason = query_text(r, i, 3);
		char		idbuf[32];
		StringInfoData d;

		/* every value a string, "" for NULL */
		initStringInfo(&d);
		details_begin(&d);
		for (int n = 0; n < nkeys; n++)
		{
			char	   *val = n == 0 ? reason : query_text(r, i, 3 + n);

			details_str(&d, keys[n], val ? val : "");
		}

		snprintf(idbuf, sizeof(idbuf), INT64_FORMAT, id);
		galaxy_audit(strcmp(state, "queued") == 0 ? action_queued : action_failed,
					 "job", idbuf, details_end(&d));
		jobs_notify(id, state);
		ereport(LOG,
				(errmsg("galaxy job %lld %s: %s", (long long) id,
						strcmp(state, "queued") == 0 ? "re-queued" : "failed",
						reason ? reason : "")));
	}
}

/* Workers of owner running or starting (cluster-wide), plus this scan's picks. */
static int
scan_owner_load(Oid owner, const Oid *running, int nrunning,
				const JobPick *picks, int npicks)
{
	int			n = 0;
	int			i;

	for (i = 0; i < nrunning; i++)
		if (running[i] == owner)
			n++;
	for (i = 0; i < npicks; i++)
		if (picks[i].owner == owner)
			n++;
	return n;
}

/*
 * Does another owner than 'owner' wait for a worker: a candidate here not
 * picked yet, or jobs the last scan of another database left queued?
 */
static bool
scan_others_wait(Oid owner, const Oid *cand_owner, const bool *picked, int ncand,
				 const Oid *waiting, int nwaiting)
{
	int			i;

	for (i = 0; i < ncand; i++)
		if (!picked[i] && cand_owner[i] != owner)
			return true;
	for (i = 0; i < nwaiting; i++)
		if (waiting[i] != owner)
			return true;
	return false;
}

/*
 * Count the attempts of workers that failed before they marked their job
 * running (see "Failed starts" at the top): one UPDATE per job, audited.
 */
static bool
scan_record_start_failures(const JobStartFailure *failures, int nfailures)
{
	bool		changed = false;
	int			i;

	for (i = 0; i < nfailures; i++)
	{
		Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
		Datum		values[3];
		QueryResult *r;

		values[0] = Int64GetDatum(failures[i].job_id);
		values[1] = CStringGetTextDatum(failures[i].message);
		values[2] = CStringGetTextDatum(failures[i].sqlstate);
		r = scan_exec("UPDATE galaxy.jobs j SET attempts = j.attempts + 1,"
					 " state = CASE WHEN j.attempts + 1 <= j.retries THEN 'queued' ELSE 'failed' END,"
					 " error_message = $2, error_sqlstate = $3,"
					 " error_context = 'galaxy: the training worker stopped before it could mark the job running"
					 " (attempt ' || (j.attempts + 1) || ' of ' || (j.retries + 1) || '): the job''s owner"
					 " may be unable to connect, or its settings break the worker''s first transaction',"
					 " worker_pid = NULL,"
					 " finished_at = CASE WHEN j.attempts + 1 <= j.retries THEN NULL"
					 "               ELSE greatest(now(), j.started_at) END "
					 "WHERE j.id = $1 AND j.state = 'queued' "
					 "RETURNING j.id, j.state, j.error_message, j.attempts, j.error_sqlstate",
					 3, types, values, SPI_OK_UPDATE_RETURNING);
		changed |= r->nrows > 0;
		scan_audit_result(r, "job_failed", "job_requeued");
	}
	return changed;
}

/*
 * Recovery at a visit: jobs left 'running' without a worker are failed, or
 * re-queued while retries remain; queued jobs whose owner can no longer
 * connect are failed.  Audits and notifies them; true if any changed.
 * values: $1 the jobs a worker owns right now (never touched here).
 */
static bool
scan_recover_jobs(Oid *types, Datum *values)
{
	QueryResult *r;
	bool		changed = false;

	/* running without a worker → failed, or queued while retries remain */
	r = scan_exec("UPDATE galaxy.jobs j SET "
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
	scan_audit_result(r, "job_failed", "job_requeued");

	/* queued jobs whose owner can no longer connect can never run */
	r = scan_exec("UPDATE galaxy.jobs j SET state = 'failed', finished_at = now(),"
			 " error_sqlstate = '28000',"
			 " error_message = format('role %s cannot connect to this database (dropped, NOLOGIN or no CONNECT privilege), so the job cannot run as it', j.owner) "
			 "WHERE j.state = 'queued' AND NOT (j.id = ANY ($1)) AND NOT EXISTS ("
			 "  SELECT 1 FROM pg_catalog.pg_authid a WHERE a.oid = j.owner_oid AND a.rolcanlogin"
			 "  AND (a.rolsuper OR pg_catalog.has_database_privilege(a.oid, pg_catalog.current_database(), 'CONNECT'))) "
			 "RETURNING j.id, j.state, j.error_message",
			 1, types, values, SPI_OK_UPDATE_RETURNING);
	changed |= r->nrows > 0;
	scan_audit_result(r, "job_failed", "job_requeued");
	return changed;
}

/*
 * The next jobs to run: each owner's first capacity + 1 queued jobs
 * not in back-off, in queue order.  Picked in that order, except
 * that an owner with owner_cap jobs running (cluster-wide, with
 * this scan's picks) is passed over while another owner waits, here
 * or in another database; a second round gives places nobody else
 * wants to the owners passed over.
 * Fills picks and left (the owners whose queued jobs stay here); returns
 * 'more'.  values: $1 jobs a worker owns, $2 capacity + 1, $3 jobs in back-off.
 */
static bool
scan_pick_jobs(Oid *types, Datum *values, int capacity, int owner_cap,
			   const Oid *running, int nrunning, const Oid *waiting, int nwaiting,
			   JobPick *picks, int *npicks_out, Oid *left, int *nleft_out)
{
	QueryResult *r;
	bool		more = false;
	int			npicks = 0;
	int			nleft = 0;
	int			i;
	int			ncand;
	int64	   *cand_id;
	Oid		   *cand_owner;
	bool	   *picked;
	bool		progress;

	r = scan_exec("SELECT q.id, q.owner_oid FROM ("
				 " SELECT j.id, j.owner_oid, j.priority, j.submitted_at,"
				 "  row_number() OVER (PARTITION BY j.owner_oid"
				 "   ORDER BY j.priority DESC, j.submitted_at, j.id) AS rn"
				 " FROM galaxy.jobs j"
				 " WHERE j.state = 'queued' AND NOT (j.id = ANY ($1))"
				 " AND NOT (j.id = ANY ($3))) q "
				 "WHERE q.rn <= $2 "
				 "ORDER BY q.priority DESC, q.submitted_at, q.id LIMIT 1000",
				 3, types, values, SPI_OK_SELECT);
	ncand = (int) r->nrows;
	cand_id = palloc(sizeof(int64) * Max(ncand, 1));
	cand_owner = palloc(sizeof(Oid) * Max(ncand, 1));
	picked = palloc0(sizeof(bool) * Max(ncand, 1));
	for (i = 0; i < ncand; i++)
	{
		bool		isnull;

		cand_id[i] = query_int64(r, i, 1, 0);
		cand_owner[i] = DatumGetObjectId(query_datum(r, i, 2, &isnull));
	}
	do
	{
		progress = false;
		for (i = 0; i < ncand && npicks < capacity; i++)
		{
			if (picked[i])
				continue;
			if (scan_owner_load(cand_owner[i], running, nrunning, picks, npicks) >= owner_cap &&
				scan_others_wait(cand_owner[i], cand_owner, picked, ncand, waiting, nwaiting))
				continue;
			picked[i] = true;
			picks[npicks].job_id = cand_id[i];
			picks[npicks].owner = cand_owner[i];
			npicks++;
			progress = true;
		}
	} while (progress && npicks < capacity);

	/*
	 * Jobs left: 'more' only when places ran out (jobs passed over
	 * for fairness wait for a worker to end, not for a new visit).
	 */
	for (i = 0; i < ncand; i++)
	{
		int			k;

		if (picked[i])
			continue;
		if (npicks == capacity)
			more = true;
		for (k = 0; k < nleft; k++)
			if (left[k] == cand_owner[i])
				break;
		if (k == nleft && nleft < GALAXY_MAX_JOB_WORKERS)
			left[nleft++] = cand_owner[i];
	}
	*npicks_out = npicks;
	*nleft_out = nleft;
	return more;
}

/* Entry point of the per-database job scanner. */
void
galaxy_scanner_main(Datum arg)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	uint64		generation = (uint64) DatumGetInt64(arg);
	Oid			dboid;
	int			capacity;
	int			owner_cap;
	JobStartFailure *failures;
	int			nfailures;
	Datum	   *held_ids;
	int			nheld_ids;
	Oid			waiting[GALAXY_MAX_JOB_WORKERS];
	int			nwaiting;
	Datum	   *inflight;
	int			ninflight = 0;
	Oid			running[GALAXY_MAX_JOB_WORKERS];
	int			nrunning = 0;
	bool		installed = false;
	bool		more = false;
	bool		changed = false;
	JobPick		picks[GALAXY_MAX_JOB_WORKERS];
	int			npicks = 0;
	Oid			left[GALAXY_MAX_JOB_WORKERS];
	int			nleft = 0;
	int			i;

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* what the launcher asks of this visit */
	failures = palloc(sizeof(JobStartFailure) * GALAXY_MAX_JOB_WORKERS);
	held_ids = palloc(sizeof(Datum) * GALAXY_MAX_HELD);
	LWLockAcquire(shared->lock, LW_SHARED);
	if (!shared->scan.active || shared->scan.generation != generation)
	{
		LWLockRelease(shared->lock);
		proc_exit(0);
	}
	capacity = shared->scan.capacity;
	owner_cap = shared->scan.owner_cap;
	nfailures = shared->scan.nfailures;
	memcpy(failures, shared->scan.failures, sizeof(JobStartFailure) * nfailures);
	nheld_ids = shared->scan.nheld;
	for (i = 0; i < nheld_ids; i++)
		held_ids[i] = Int64GetDatum(shared->scan.held[i]);
	nwaiting = shared->scan.nwaiting;
	memcpy(waiting, shared->scan.waiting, sizeof(Oid) * nwaiting);
	LWLockRelease(shared->lock);

	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("galaxy job scanner");
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	/* the queue's bookkeeping must work under ALTER DATABASE ... SET default_transaction_read_only */
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "galaxy: scanning the job queue");

	installed = OidIsValid(get_extension_oid("galaxy", true));

	if (installed)
	{
		Oid			types[3] = {INT8ARRAYOID, INT4OID, INT8ARRAYOID};
		Datum		values[3];

		/*
		 * Jobs some worker owns right now (never touched here), and the
		 * owners of all running workers of the cluster (for fairness).
		 */
		inflight = palloc(sizeof(Datum) * GALAXY_MAX_JOB_WORKERS);
		LWLockAcquire(shared->lock, LW_SHARED);
		for (i = 0; i < GALAXY_MAX_JOB_WORKERS; i++)
		{
			JobWorkerSlot *w = &shared->workers[i];

			if (!w->in_use)
				continue;
			if (w->dboid == dboid)
				inflight[ninflight++] = Int64GetDatum(w->job_id);
			running[nrunning++] = w->owner;
		}
		LWLockRelease(shared->lock);
		values[0] = PointerGetDatum(construct_array(inflight, ninflight, INT8OID, 8,
													FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[1] = Int32GetDatum(capacity + 1);
		values[2] = PointerGetDatum(construct_array(held_ids, nheld_ids, INT8OID, 8,
													FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));

		/* failed starts first: their jobs are queued, in back-off */
		changed |= scan_record_start_failures(failures, nfailures);

		/* recovery: jobs running without a worker, owners who cannot connect */
		changed |= scan_recover_jobs(types, values);

		/* the next jobs to run */
		if (capacity > 0)
			more = scan_pick_jobs(types, values, capacity, owner_cap, running, nrunning,
								  waiting, nwaiting, picks, &npicks, left, &nleft);
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
		shared->scan.nleft = nleft;
		memcpy(shared->scan.left, left, sizeof(Oid) * nleft);
		shared->scan.done = true;
	}
	LWLockRelease(shared->lock);
	proc_exit(0);
}
