/*
 * progress.c — live training progress: shared-memory slots, throttled
 * NOTICEs, and the per-iteration history of background jobs.
 *
 * Every backend owns one slot (indexed by MyBackendId), so taking it needs
 * no search and a slot can never be held by two processes.  The slot is
 * released by progress_end(), at transaction or subtransaction abort, and
 * at process exit; readers additionally skip slots whose process is gone.
 * Values are written under the slot's spinlock (cheap: the callback runs
 * once per iteration); galaxy.progress_slots() reads them under the shared
 * LWLock plus that spinlock.
 *
 * The slots live in the job subsystem's shared memory (jobs/shmem.h), the
 * one segment galaxy requests; this folder only reads and writes them, so
 * the training pipeline reports progress without depending on the jobs.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "galaxy.h"
#include "jobs/shmem.h"
#include "progress/progress.h"
#include "registry/access.h"
#include "registry/versions.h"
#include "util/catalog.h"
#include "util/query.h"

/* Rows of job history kept in memory; beyond this, keep every 2nd, 4th, ... */
#define HISTORY_MAX_ROWS	1000
#define HISTORY_COLS		10	/* step .. learning_rate */

struct ProgressRun
{
	int64		job_id;
	char		project[NAMEDATALEN];
	char		algorithm[NAMEDATALEN];
	char		phase[GALAXY_PHASE_LEN];
	int64		rows;
	TimestampTz started;
	TimestampTz last_notice;
};

/* One remembered iteration of a background job. */
typedef struct HistoryRow
{
	int			step;			/* 1-based counter over the whole run */
	int			iteration;
	int			total;
	char		phase[GALAXY_PHASE_LEN];
	int64		rows;
	double		loss;
	double		val_loss;
	double		metric;
	double		learning_rate;
	TimestampTz at;
} HistoryRow;

/* The run that holds this backend's slot (if any) and its xact nesting level. */
static ProgressRun *slot_run = NULL;
static bool slot_held = false;
static int	slot_nest_level = 0;
static int	last_iteration = 0;
static bool callbacks_registered = false;

/* History buffer (TopMemoryContext) of the current job. */
static HistoryRow *history = NULL;
static int	history_n = 0;
static int	history_stride = 1;
static int	history_seen = 0;
static int64 history_job = 0;
static HistoryRow history_last;

PG_FUNCTION_INFO_V1(galaxy_progress_slots);

/* Clear this backend's slot (caller need not hold any lock). */
static void
release_slot(void)
{
	ProgressSlot *slot = jobs_my_slot();

	if (slot != NULL && slot_held)
	{
		LWLockAcquire(galaxy_jobs_shared->lock, LW_EXCLUSIVE);
		SpinLockAcquire(&slot->mutex);
		slot->in_use = false;
		slot->pid = 0;
		slot->job_id = 0;
		SpinLockRelease(&slot->mutex);
		LWLockRelease(galaxy_jobs_shared->lock);
	}
	slot_held = false;
	slot_run = NULL;
}

/* Transaction end: a run never outlives its transaction. */
static void
progress_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			if (slot_held)
				release_slot();
			break;
		default:
			break;
	}
}

/* Subtransaction abort: release a slot taken inside the aborted level. */
static void
progress_sub_xact_callback(SubXactEvent event, SubTransactionId mySubid,
						   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && slot_held &&
		slot_nest_level >= GetCurrentTransactionNestLevel())
		release_slot();
}

/* Process exit: free the slot and any galaxy.wait() registration. */
static void
progress_shmem_exit(int code, Datum arg)
{
	ProgressSlot *slot = jobs_my_slot();

	if (slot == NULL)
		return;
	LWLockAcquire(galaxy_jobs_shared->lock, LW_EXCLUSIVE);
	SpinLockAcquire(&slot->mutex);
	slot->in_use = false;
	slot->pid = 0;
	slot->job_id = 0;
	SpinLockRelease(&slot->mutex);
	slot->wait_job_id = 0;
	slot->wait_dboid = InvalidOid;
	slot->pgprocno = -1;
	LWLockRelease(galaxy_jobs_shared->lock);
	slot_held = false;
}

/* Register the cleanup callbacks once per process. */
void
progress_register_cleanup(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(progress_xact_callback, NULL);
	RegisterSubXactCallback(progress_sub_xact_callback, NULL);
	if (galaxy_jobs_shared != NULL)
		before_shmem_exit(progress_shmem_exit, (Datum) 0);
	callbacks_registered = true;
}

/* Forget the history buffer. */
void
progress_discard_history(void)
{
	history_n = 0;
	history_stride = 1;
	history_seen = 0;
	history_job = 0;
	memset(&history_last, 0, sizeof(history_last));
}

/* Remember one iteration of a background job, thinning evenly past the cap. */
static void
history_append(const ProgressRun *run, const ProgressInfo *info, TimestampTz now)
{
	HistoryRow	row;

	if (history == NULL)
		history = MemoryContextAlloc(TopMemoryContext,
									 sizeof(HistoryRow) * HISTORY_MAX_ROWS);
	if (history_job != run->job_id)
	{
		progress_discard_history();
		history_job = run->job_id;
	}

	row.step = ++history_seen;
	row.iteration = Max(info->iteration, 0);
	row.total = info->total;
	/* the pipeline's phase: "fit" inside cross-validation is "cross-validate" */
	strlcpy(row.phase, run->phase[0] ? run->phase : (info->phase ? info->phase : ""),
			sizeof(row.phase));
	row.rows = info->rows;
	row.loss = info->loss;
	row.val_loss = info->val_loss;
	row.metric = info->metric;
	row.learning_rate = info->learning_rate;
	row.at = now;
	history_last = row;

	if ((row.step - 1) % history_stride != 0)
		return;
	if (history_n == HISTORY_MAX_ROWS)
	{
		int			i;

		/* keep rows 0, 2, 4, ... and record every other step from now on */
		for (i = 0; i < HISTORY_MAX_ROWS / 2; i++)
			history[i] = history[2 * i];
		history_n = HISTORY_MAX_ROWS / 2;
		history_stride *= 2;
		if ((row.step - 1) % history_stride != 0)
			return;
	}
	history[history_n++] = row;
}

/* Start reporting for a run. */
ProgressRun *
progress_begin(int64 job_id, const char *project, const char *algorithm, int64 rows)
{
	ProgressRun *run = palloc0(sizeof(ProgressRun));
	ProgressSlot *slot;

	run->job_id = job_id;
	strlcpy(run->project, project ? project : "", sizeof(run->project));
	strlcpy(run->algorithm, algorithm ? algorithm : "", sizeof(run->algorithm));
	strlcpy(run->phase, "load", sizeof(run->phase));
	run->rows = rows;
	run->started = GetCurrentTimestamp();
	last_iteration = 0;

	if (job_id != 0 && history_job != job_id)
	{
		progress_discard_history();
		history_job = job_id;
	}

	progress_register_cleanup();
	slot = jobs_my_slot();
	if (slot != NULL)
	{
		LWLockAcquire(galaxy_jobs_shared->lock, LW_EXCLUSIVE);
		SpinLockAcquire(&slot->mutex);
		slot->in_use = true;
		slot->pid = MyProcPid;
		slot->dboid = MyDatabaseId;
		slot->roleid = GetUserId();
		slot->job_id = job_id;
		strlcpy(slot->project, run->project, sizeof(slot->project));
		strlcpy(slot->algorithm, run->algorithm, sizeof(slot->algorithm));
		strlcpy(slot->phase, run->phase, sizeof(slot->phase));
		slot->iteration = 0;
		slot->total = 0;
		slot->rows = rows;
		slot->loss = NAN;
		slot->val_loss = NAN;
		slot->metric = NAN;
		slot->learning_rate = NAN;
		slot->started_at = run->started;
		slot->updated_at = run->started;
		slot->loop_started_at = run->started;
		SpinLockRelease(&slot->mutex);
		LWLockRelease(galaxy_jobs_shared->lock);
		slot_held = true;
		slot_run = run;
		slot_nest_level = GetCurrentTransactionNestLevel();
	}
	return run;
}

/* Set the current phase. */
void
progress_phase(ProgressRun *run, const char *phase)
{
	ProgressSlot *slot;

	if (run == NULL)
		return;
	strlcpy(run->phase, phase, sizeof(run->phase));
	last_iteration = 0;
	slot = jobs_my_slot();
	if (slot != NULL && slot_held && slot_run == run)
	{
		TimestampTz now = GetCurrentTimestamp();

		SpinLockAcquire(&slot->mutex);
		strlcpy(slot->phase, phase, sizeof(slot->phase));
		slot->iteration = 0;
		slot->total = 0;
		slot->updated_at = now;
		slot->loop_started_at = now;
		SpinLockRelease(&slot->mutex);
	}
}

/* Set the number of training rows. */
void
progress_set_rows(ProgressRun *run, int64 rows)
{
	ProgressSlot *slot;

	if (run == NULL)
		return;
	run->rows = rows;
	slot = jobs_my_slot();
	if (slot != NULL && slot_held && slot_run == run)
	{
		SpinLockAcquire(&slot->mutex);
		slot->rows = rows;
		SpinLockRelease(&slot->mutex);
	}
}

/*
 * ProgressFn for algorithms: update the slot, remember job history, and
 * emit a NOTICE at most once per second when galaxy.progress_notices is on.
 */
void
progress_callback(const ProgressInfo *info, void *arg)
{
	ProgressRun *run = (ProgressRun *) arg;
	ProgressSlot *slot;
	TimestampTz now;
	bool		new_loop;

	CHECK_FOR_INTERRUPTS();
	if (run == NULL || info == NULL)
		return;

	now = GetCurrentTimestamp();
	new_loop = info->iteration <= last_iteration;
	last_iteration = info->iteration;

	slot = jobs_my_slot();
	if (slot != NULL && slot_held && slot_run == run)
	{
		SpinLockAcquire(&slot->mutex);
		if (new_loop)
			slot->loop_started_at = slot->updated_at;
		slot->iteration = info->iteration;
		slot->total = info->total;
		if (info->rows > slot->rows)
			slot->rows = info->rows;
		slot->loss = info->loss;
		slot->val_loss = info->val_loss;
		slot->metric = info->metric;
		slot->learning_rate = info->learning_rate;
		slot->updated_at = now;
		SpinLockRelease(&slot->mutex);
	}

	if (run->job_id != 0)
		history_append(run, info, now);

	if (!galaxy_progress_notices || IsBackgroundWorker)
		return;
	if (run->last_notice != 0 && !TimestampDifferenceExceeds(run->last_notice, now, 1000))
		return;
	run->last_notice = now;
	if (info->total > 0)
		ereport(NOTICE,
				(errmsg("galaxy: %s %s iteration %d/%d loss %.6g",
						run->project, run->algorithm, info->iteration, info->total, info->loss)));
	else
		ereport(NOTICE,
				(errmsg("galaxy: %s %s iteration %d loss %.6g",
						run->project, run->algorithm, info->iteration, info->loss)));
}

/* Release the run and its slot. */
void
progress_end(ProgressRun *run)
{
	if (run == NULL)
		return;
	if (slot_held && slot_run == run)
		release_slot();
	pfree(run);
}

/* Datum for a double that may be NaN/Inf (NULL then: BI tools choke on NaN). */
static inline void
set_double(Datum *values, bool *nulls, int i, double v)
{
	if (isnan(v) || isinf(v))
		nulls[i] = true;
	else
		values[i] = Float8GetDatum(v);
}

/* One column of the history as an array Datum (NULL elements where nulls[i]). */
static Datum
history_column(Datum *values, bool *nulls, int n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, elemtype,
											  typlen, typbyval, typalign));
}

/*
 * Write the buffered history of job_id to galaxy.job_progress (one
 * statement over column arrays) and forget it.
 */
void
progress_save_history(int64 job_id, int attempt)
{
	static const Oid coltypes[HISTORY_COLS] = {INT4OID, INT4OID, TIMESTAMPTZOID, TEXTOID,
	INT4OID, INT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID};
	Datum	   *values[HISTORY_COLS];
	bool	   *nulls[HISTORY_COLS];
	Datum		args[HISTORY_COLS + 2];
	Oid			argtypes[HISTORY_COLS + 2];
	int			n;

	if (history_job != job_id || history_seen == 0)
	{
		progress_discard_history();
		return;
	}
	/* the last iteration is always kept */
	n = history_n;
	if (n == 0 || history[n - 1].step != history_last.step)
	{
		if (n == HISTORY_MAX_ROWS)
			n--;
		history[n++] = history_last;
	}

	for (int c = 0; c < HISTORY_COLS; c++)
	{
		values[c] = palloc(sizeof(Datum) * n);
		nulls[c] = palloc0(sizeof(bool) * n);
	}
	for (int i = 0; i < n; i++)
	{
		HistoryRow *h = &history[i];

		values[0][i] = Int32GetDatum(h->step);
		values[1][i] = Int32GetDatum(h->iteration);
		values[2][i] = TimestampTzGetDatum(h->at);
		values[3][i] = CStringGetTextDatum(h->phase);
		values[4][i] = Int32GetDatum(h->total);
		nulls[4][i] = h->total <= 0;
		values[5][i] = Int64GetDatum(h->rows);
		nulls[5][i] = h->rows <= 0;
		set_double(values[6], nulls[6], i, h->loss);
		set_double(values[7], nulls[7], i, h->val_loss);
		set_double(values[8], nulls[8], i, h->metric);
		set_double(values[9], nulls[9], i, h->learning_rate);
	}
	args[0] = Int64GetDatum(job_id);
	argtypes[0] = INT8OID;
	args[1] = Int32GetDatum(attempt);
	argtypes[1] = INT4OID;
	for (int c = 0; c < HISTORY_COLS; c++)
	{
		args[c + 2] = history_column(values[c], nulls[c], n, coltypes[c]);
		argtypes[c + 2] = get_array_type(coltypes[c]);
	}
	catalog_command("INSERT INTO galaxy.job_progress (job_id, attempt, step, iteration, at, phase, "
					"total, rows_processed, loss, val_loss, metric, learning_rate) "
					"SELECT $1, $2, u.* FROM unnest($3, $4, $5, $6, $7, $8, $9, $10, $11, $12) u "
					"ON CONFLICT DO NOTHING",
					HISTORY_COLS + 2, argtypes, args, NULL,
					SPI_OK_INSERT, "write galaxy.job_progress");
	progress_discard_history();
}

/*
 * true if the calling role acts for 'roleid' (is it, or has its
 * privileges) or is a galaxy administrator — as galaxy.owner_visible().
 */
bool
progress_role_visible(Oid roleid)
{
	Oid			me = GetUserId();

	return has_privs_of_role(me, roleid) || registry_is_admin(me);
}

/* true if the calling role may read the named project (as row-level security). */
static bool
project_readable(const char *project)
{
	int64		project_id;

	if (project == NULL || project[0] == '\0')
		return false;
	project_id = registry_project_id(project, true);
	if (project_id == 0)
		return false;
	return registry_project_visible(project_id);
}

#define PROGRESS_SLOT_COLS 17

/*
 * galaxy.progress_slots() → live training runs of this database that the
 * caller may see: one row per occupied slot whose process is alive.
 */
Datum
galaxy_progress_slots(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	GalaxyJobsShared *shared = galaxy_jobs_shared;
	ProgressSlot *copy;
	int			ncopy = 0;
	int			i;
	TimestampTz now = GetCurrentTimestamp();

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		return (Datum) 0;

	copy = palloc(sizeof(ProgressSlot) * shared->nslots);
	LWLockAcquire(shared->lock, LW_SHARED);
	for (i = 0; i < shared->nslots; i++)
	{
		ProgressSlot *s = &shared->slots[i];

		SpinLockAcquire(&s->mutex);
		if (s->in_use && s->dboid == MyDatabaseId)
			copy[ncopy++] = *s;
		SpinLockRelease(&s->mutex);
	}
	LWLockRelease(shared->lock);

	for (i = 0; i < ncopy; i++)
	{
		ProgressSlot *s = &copy[i];
		Datum		values[PROGRESS_SLOT_COLS];
		bool		nulls[PROGRESS_SLOT_COLS];

		/* a slot whose process is gone is never reported */
		if (s->pid != MyProcPid && BackendPidGetProc(s->pid) == NULL)
			continue;
		if (!progress_role_visible(s->roleid) && !project_readable(s->project))
			continue;

		memset(nulls, 0, sizeof(nulls));
		values[0] = Int32GetDatum(s->pid);
		values[1] = Int64GetDatum(s->job_id);
		nulls[1] = (s->job_id == 0);
		values[2] = ObjectIdGetDatum(s->roleid);
		values[3] = CStringGetTextDatum(s->project);
		values[4] = CStringGetTextDatum(s->algorithm);
		values[5] = CStringGetTextDatum(s->phase);
		values[6] = Int32GetDatum(s->iteration);
		values[7] = Int32GetDatum(s->total);
		nulls[7] = (s->total <= 0);
		values[8] = Int64GetDatum(s->rows);
		nulls[8] = (s->rows <= 0);
		set_double(values, nulls, 9, s->loss);
		set_double(values, nulls, 10, s->val_loss);
		set_double(values, nulls, 11, s->metric);
		set_double(values, nulls, 12, s->learning_rate);
		values[13] = TimestampTzGetDatum(s->started_at);
		values[14] = TimestampTzGetDatum(s->updated_at);
		nulls[15] = true;
		if (s->total > 0 && s->iteration > 0)
		{
			double		per_iter = (double) (s->updated_at - s->loop_started_at) /
				USECS_PER_SEC / s->iteration;
			double		eta = per_iter * (s->total - s->iteration) -
				(double) (now - s->updated_at) / USECS_PER_SEC;

			values[15] = Float8GetDatum(Max(eta, 0.0));
			nulls[15] = false;
		}
		/* rows per second over the iterations so far (e.g. training rows x epochs / time) */
		nulls[16] = true;
		if (s->iteration > 0 && s->rows > 0 && s->updated_at > s->loop_started_at)
		{
			values[16] = Float8GetDatum((double) s->rows * s->iteration /
										((double) (s->updated_at - s->loop_started_at) / USECS_PER_SEC));
			nulls[16] = false;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
