/*
 * shmem.c — the job subsystem's shared memory: progress slots, the
 * training-worker table, the launcher's latch and pending databases.
 *
 * Requested through shmem_request_hook (sized from MaxBackends) and set up
 * in shmem_startup_hook; only when galaxy is in shared_preload_libraries.
 * A postmaster crash-restart re-runs the start-up hook, so no slot of a dead
 * process survives it.
 */
#include "postgres.h"

#include <limits.h>
#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "jobs/launcher.h"
#include "jobs/shmem.h"

#define GALAXY_JOBS_TRANCHE "galaxy_jobs"

GalaxyJobsShared *galaxy_jobs_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Bytes of the shared segment for n progress slots. */
static Size
jobs_shmem_size(int nslots)
{
	return add_size(offsetof(GalaxyJobsShared, slots),
					mul_size(sizeof(ProgressSlot), nslots));
}

/* shmem_request_hook: ask for the segment and one LWLock. */
static void
jobs_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(jobs_shmem_size(MaxBackends));
	RequestNamedLWLockTranche(GALAXY_JOBS_TRANCHE, 1);
}

/* shmem_startup_hook: create (or attach to) the segment. */
static void
jobs_shmem_startup(void)
{
	bool		found;
	GalaxyJobsShared *shared;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("galaxy jobs", jobs_shmem_size(MaxBackends), &found);
	if (!found)
	{
		int			i;

		memset(shared, 0, jobs_shmem_size(MaxBackends));
		shared->lock = &(GetNamedLWLockTranche(GALAXY_JOBS_TRANCHE))->lock;
		shared->launcher_pid = 0;
		shared->launcher_procno = -1;
		shared->next_generation = 1;
		shared->nslots = MaxBackends;
		for (i = 0; i < MaxBackends; i++)
		{
			SpinLockInit(&shared->slots[i].mutex);
			shared->slots[i].pgprocno = -1;
		}
	}
	LWLockRelease(AddinShmemInitLock);
	galaxy_jobs_shared = shared;
}

/* Install the hooks (from _PG_init while preloading). */
static void
jobs_shmem_register_hooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = jobs_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = jobs_shmem_startup;
}

/* This backend's progress slot, or NULL without shared memory. */
ProgressSlot *
jobs_my_slot(void)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;

	if (shared == NULL || MyBackendId == InvalidBackendId ||
		MyBackendId < 1 || MyBackendId > shared->nslots)
		return NULL;
	return &shared->slots[MyBackendId - 1];
}

/* Set the launcher's latch (no-op when it is not running). */
void
jobs_wake_launcher(void)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	int			procno;

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_SHARED);
	procno = shared->launcher_procno;
	if (procno >= 0)
		SetLatch(&GetPGProcByNumber(procno)->procLatch);
	LWLockRelease(shared->lock);
}

/* Remember that dboid has new work for the launcher. */
void
jobs_note_pending_db(Oid dboid)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	int			i;

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < shared->npending; i++)
		if (shared->pending[i] == dboid)
			break;
	if (i == shared->npending)
	{
		if (shared->npending < GALAXY_PENDING_DBS)
			shared->pending[shared->npending++] = dboid;
		else
			shared->pending_overflow = true;
	}
	LWLockRelease(shared->lock);
}

/*
 * Set the latch of every backend in galaxy.wait() for job_id in dboid
 * (job_id 0: every waiter in that database).
 */
void
jobs_wake_waiters(Oid dboid, int64 job_id)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	int			i;

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_SHARED);
	for (i = 0; i < shared->nslots; i++)
	{
		ProgressSlot *s = &shared->slots[i];

		if (s->wait_job_id != 0 && s->wait_dboid == dboid &&
			(job_id == 0 || s->wait_job_id == job_id) && s->pgprocno >= 0)
			SetLatch(&GetPGProcByNumber(s->pgprocno)->procLatch);
	}
	LWLockRelease(shared->lock);
}

/* Number of training-worker entries in use. */
int
jobs_running_workers(void)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	int			i,
				n = 0;

	if (shared == NULL)
		return 0;
	LWLockAcquire(shared->lock, LW_SHARED);
	for (i = 0; i < GALAXY_MAX_JOB_WORKERS; i++)
		if (shared->workers[i].in_use)
			n++;
	LWLockRelease(shared->lock);
	return n;
}

/* NOTIFY galaxy_jobs '<id>:<state>' in the current transaction. */
void
jobs_notify(int64 job_id, const char *state)
{
	char		payload[64];

	snprintf(payload, sizeof(payload), INT64_FORMAT ":%s", job_id, state);
	Async_Notify("galaxy_jobs", payload);
}

static bool wake_launcher_at_commit = false;
static bool wake_waiters_at_commit = false;
static bool wake_callback_registered = false;

/* At commit: tell the launcher about new jobs, wake galaxy.wait() callers. */
static void
wake_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (wake_launcher_at_commit)
			{
				jobs_note_pending_db(MyDatabaseId);
				jobs_wake_launcher();
			}
			if (wake_waiters_at_commit)
				jobs_wake_waiters(MyDatabaseId, 0);
			wake_launcher_at_commit = wake_waiters_at_commit = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			/* a rolled-back submit is never visible: nothing to do */
			wake_launcher_at_commit = wake_waiters_at_commit = false;
			break;
		default:
			break;
	}
}

/* Arrange a wake-up of the launcher and/or waiters when this transaction commits. */
void
jobs_wake_at_commit(bool launcher, bool waiters)
{
	if (!wake_callback_registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		wake_callback_registered = true;
	}
	wake_launcher_at_commit |= launcher;
	wake_waiters_at_commit |= waiters;
}

/* Module start-up of the job subsystem (called at the end of _PG_init). */
void
galaxy_jobs_init(void)
{
	if (process_shared_preload_libraries_in_progress)
	{
		jobs_shmem_register_hooks();
		jobs_register_launcher();
	}
}

/*
 * The entry of the worker that owns job_id in dboid and has not exited, or
 * NULL.  The one search of the worker table by job; call under the lock.
 */
static JobWorkerSlot *
find_job_worker(GalaxyJobsShared *shared, Oid dboid, int64 job_id)
{
	for (int i = 0; i < GALAXY_MAX_JOB_WORKERS; i++)
	{
		JobWorkerSlot *w = &shared->workers[i];

		if (w->in_use && w->dboid == dboid && w->job_id == job_id && !w->exited)
			return w;
	}
	return NULL;
}

/*
 * Ask the worker running job_id in dboid to stop: set its cancel flag and
 * send it SIGINT (a query cancel, caught by the worker).  false if no
 * worker owns the job.
 */
bool
jobs_request_cancel(Oid dboid, int64 job_id, Oid role)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	JobWorkerSlot *w;
	int			pid = 0;

	if (shared == NULL)
		return false;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	w = find_job_worker(shared, dboid, job_id);
	if (w != NULL)
	{
		w->cancel_requested = true;
		w->cancel_role = role;
		pid = w->pid;
	}
	LWLockRelease(shared->lock);
	if (pid != 0 && kill(pid, SIGINT) != 0 && errno != ESRCH)
		ereport(WARNING,
				(errmsg("could not signal galaxy training worker %d: %m", pid)));
	return w != NULL;
}

/* true while a worker process owns job_id in dboid. */
bool
jobs_worker_active(Oid dboid, int64 job_id)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	bool		found;

	if (shared == NULL)
		return false;
	LWLockAcquire(shared->lock, LW_SHARED);
	found = find_job_worker(shared, dboid, job_id) != NULL;
	LWLockRelease(shared->lock);
	return found;
}

/* Process id of the worker running job_id in dboid (0 if none or not started). */
int
jobs_worker_pid(Oid dboid, int64 job_id)
{
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	JobWorkerSlot *w;
	int			pid = 0;

	if (shared == NULL)
		return 0;
	LWLockAcquire(shared->lock, LW_SHARED);
	w = find_job_worker(shared, dboid, job_id);
	if (w != NULL)
		pid = w->pid;
	LWLockRelease(shared->lock);
	return pid;
}
