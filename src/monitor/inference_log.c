/*
 * inference_log.c — the inference-log ring: predictions of logged projects
 * on their way to galaxy.inference_log.
 *
 * galaxy.set_logging(project, sample_rate) stores a project's setting in
 * galaxy.inference_logging and, at commit, bumps a generation number in
 * shared memory; each backend keeps the settings of its database in a
 * small local array, read again (one catalog query) when the generation
 * moved.  So a predict of a project that is not logged costs an atomic
 * read and a look-up in that array.
 *
 * A logged prediction (model, project, time, the raw input values as the
 * model reads them, the prediction) is copied into the next slot of a ring
 * in shared memory under one LWLock held for the copy only.  The predict
 * path never waits for anything else: when the ring is full the prediction
 * is counted as dropped (galaxy.inference_log_status) and not logged.
 *
 * The launcher starts a monitor worker for the database of the oldest
 * waiting entry (schedule.c), which copies the database's entries out
 * (inference_log_take), inserts them in one statement, commits, and only
 * then frees their slots (inference_log_written).  Positions only grow:
 * 'head' is the next slot to fill, 'tail' the oldest not yet committed.  A
 * prediction is acknowledged as written once tail has passed its position;
 * galaxy.flush_inference_log() waits for that.  Entries still in the ring
 * at a crash or a restart are lost (they were never acknowledged).
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "galaxy.h"
#include "jobs/shmem.h"
#include "monitor/inference_log.h"
#include "monitor/schedule.h"
#include "util/query.h"

#define INFERENCE_LOG_TRANCHE	"galaxy_inference_log"
#define LOCAL_SETTINGS_MAX		64	/* logged projects one backend knows */

PG_FUNCTION_INFO_V1(galaxy_flush_inference_log);
PG_FUNCTION_INFO_V1(galaxy_inference_log_state);

typedef struct LogShared
{
	LWLock	   *lock;
	pg_atomic_uint64 settings_gen;	/* bumped when any logging setting commits */
	pg_atomic_uint64 dropped;	/* predictions not logged: the ring was full */
	uint64		head;			/* next position to fill */
	uint64		tail;			/* oldest position not yet written */
	uint64		logged;			/* entries ever put into the ring */
	int			writer_pid;		/* the monitor worker taking entries, 0: none */
	int			nslots;
	InferenceLogEntry slots[FLEXIBLE_ARRAY_MEMBER];
} LogShared;

/* A logged project of this backend's database. */
typedef struct LocalSetting
{
	int64		project_id;
	double		sample_rate;
} LocalSetting;

int			galaxy_inference_log_buffer = 16384;

static LogShared *log_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static uint64 local_gen = 0;	/* 0: never loaded (the shared one starts at 1) */
static int	nlocal = 0;
static LocalSetting local_settings[LOCAL_SETTINGS_MAX];
static bool bump_at_commit = false;
static bool xact_callback_registered = false;

/* Shared memory of the ring. */
static Size
log_memsize(void)
{
	return add_size(offsetof(LogShared, slots),
					mul_size(sizeof(InferenceLogEntry), galaxy_inference_log_buffer));
}

/* shmem_request_hook: the ring and one LWLock. */
static void
log_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(log_memsize());
	RequestNamedLWLockTranche(INFERENCE_LOG_TRANCHE, 1);
}

/* shmem_startup_hook: create (or attach to) the ring. */
static void
log_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	log_shared = ShmemInitStruct("galaxy inference log", log_memsize(), &found);
	if (!found)
	{
		log_shared->lock = &(GetNamedLWLockTranche(INFERENCE_LOG_TRANCHE))->lock;
		pg_atomic_init_u64(&log_shared->settings_gen, 1);
		pg_atomic_init_u64(&log_shared->dropped, 0);
		log_shared->head = log_shared->tail = log_shared->logged = 0;
		log_shared->writer_pid = 0;
		log_shared->nslots = galaxy_inference_log_buffer;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Module start-up (from _PG_init): the GUC and, when preloaded, the ring. */
void
inference_log_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("galaxy.inference_log_buffer",
							"Predictions the inference-log ring in shared memory holds on their way to galaxy.inference_log.",
							"When it is full, further predictions are counted as dropped, not logged.",
							&galaxy_inference_log_buffer,
							16384, 64, 1048576,
							PGC_POSTMASTER, 0, NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = log_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = log_shmem_startup;
}

/* Transaction callback: bump the settings generation once a change commits. */
static void
log_xact_callback(XactEvent event, void *arg)
{
	if (!bump_at_commit)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		bump_at_commit = false;
		if (log_shared != NULL)
			pg_atomic_fetch_add_u64(&log_shared->settings_gen, 1);
		/* the launcher's monitor worker looks at the database again soon */
		monitor_note_db(MyDatabaseId);
		jobs_wake_launcher();
	}
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		bump_at_commit = false;
}

/* The logging settings changed in this transaction (galaxy.set_logging). */
void
inference_log_settings_changed(void)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(log_xact_callback, NULL);
		xact_callback_registered = true;
	}
	bump_at_commit = true;
}

/* Read this database's logging settings again. */
static void
log_load_settings(uint64 gen)
{
	QueryResult *r;

	nlocal = 0;
	r = catalog_query("SELECT pg_catalog.to_regclass('galaxy.inference_logging') IS NOT NULL",
					  0, NULL, NULL, NULL, true, 0, SPI_OK_SELECT, "read galaxy's logging settings");
	if (r->nrows == 1 && query_bool(r, 0, 1, false))
	{
		r = catalog_query("SELECT project_id, sample_rate FROM galaxy.inference_logging"
						  " WHERE sample_rate > 0 ORDER BY project_id",
						  0, NULL, NULL, NULL, true, LOCAL_SETTINGS_MAX, SPI_OK_SELECT,
						  "read galaxy's logging settings");
		for (uint64 i = 0; i < r->nrows; i++)
		{
			local_settings[nlocal].project_id = query_int64(r, i, 1, 0);
			local_settings[nlocal].sample_rate = query_float8(r, i, 2, 0);
			nlocal++;
		}
	}
	local_gen = gen;
}

/* Log one prediction when its project is logged (see the header). */
void
inference_log_record(int64 model_id, int64 project_id,
					 const double *raw, int n_raw, double prediction)
{
	LogShared  *ls = log_shared;
	uint64		gen;
	double		rate = 0;
	InferenceLogEntry *e;
	TimestampTz now;

	if (ls == NULL)
		return;
	gen = pg_atomic_read_u64(&ls->settings_gen);
	if (gen != local_gen)
		log_load_settings(gen);
	for (int i = 0; i < nlocal; i++)
		if (local_settings[i].project_id == project_id)
		{
			rate = local_settings[i].sample_rate;
			break;
		}
	if (!(rate > 0))
		return;
	if (rate < 1 && pg_prng_double(&pg_global_prng_state) >= rate)
		return;

	now = GetCurrentTimestamp();
	LWLockAcquire(ls->lock, LW_EXCLUSIVE);
	if (ls->head - ls->tail >= (uint64) ls->nslots)
	{
		LWLockRelease(ls->lock);
		pg_atomic_fetch_add_u64(&ls->dropped, 1);
		return;
	}
	e = &ls->slots[ls->head % ls->nslots];
	e->dboid = MyDatabaseId;
	e->model_id = model_id;
	e->project_id = project_id;
	e->logged_at = now;
	e->prediction = prediction;
	if (raw != NULL && n_raw <= INFERENCE_LOG_MAX_FEATURES)
	{
		e->nfeatures = (int16) n_raw;
		memcpy(e->features, raw, sizeof(double) * n_raw);
	}
	else
		e->nfeatures = -1;
	ls->head++;
	ls->logged++;
	LWLockRelease(ls->lock);
}

/* The database of the oldest waiting prediction (InvalidOid: none). */
Oid
inference_log_pending_db(void)
{
	LogShared  *ls = log_shared;
	Oid			dboid = InvalidOid;

	if (ls == NULL)
		return InvalidOid;
	LWLockAcquire(ls->lock, LW_SHARED);
	if (ls->head != ls->tail && ls->writer_pid == 0)
		dboid = ls->slots[ls->tail % ls->nslots].dboid;
	LWLockRelease(ls->lock);
	return dboid;
}

/* Copy up to max of the oldest waiting entries of dboid (see the header). */
int
inference_log_take(Oid dboid, InferenceLogEntry *out, int max, uint64 *end)
{
	LogShared  *ls = log_shared;
	uint64		pos;
	int			n = 0;

	if (ls == NULL)
		return 0;
	LWLockAcquire(ls->lock, LW_EXCLUSIVE);
	if (ls->writer_pid != 0 && ls->writer_pid != MyProcPid)
	{
		LWLockRelease(ls->lock);
		return 0;
	}
	ls->writer_pid = MyProcPid;
	for (pos = ls->tail; pos != ls->head && n < max; pos++)
	{
		InferenceLogEntry *e = &ls->slots[pos % ls->nslots];

		if (e->dboid != dboid)
			break;
		out[n++] = *e;
	}
	*end = pos;
	LWLockRelease(ls->lock);
	return n;
}

/* The entries up to 'end' are committed: free their slots. */
void
inference_log_written(uint64 end)
{
	LogShared  *ls = log_shared;

	if (ls == NULL)
		return;
	LWLockAcquire(ls->lock, LW_EXCLUSIVE);
	if (ls->writer_pid == MyProcPid && end > ls->tail && end <= ls->head)
		ls->tail = end;
	LWLockRelease(ls->lock);
}

/* The writer is done: another may take entries. */
void
inference_log_release_writer(void)
{
	LogShared  *ls = log_shared;

	if (ls == NULL)
		return;
	LWLockAcquire(ls->lock, LW_EXCLUSIVE);
	if (ls->writer_pid == MyProcPid)
		ls->writer_pid = 0;
	LWLockRelease(ls->lock);
}

/*
 * galaxy.flush_inference_log(timeout float8 DEFAULT 10) → boolean: wait until
 * every prediction logged before the call is committed to
 * galaxy.inference_log (true), or the timeout in seconds passed (false).
 */
Datum
galaxy_flush_inference_log(PG_FUNCTION_ARGS)
{
	LogShared  *ls = log_shared;
	double		timeout = PG_ARGISNULL(0) ? 10.0 : PG_GETARG_FLOAT8(0);
	TimestampTz deadline;
	uint64		target;

	if (!isfinite(timeout) || timeout < 0 || timeout > 3600)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout must be between 0 and 3600 seconds, not %g", timeout)));
	if (ls == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("inference logging needs galaxy in shared_preload_libraries")));
	LWLockAcquire(ls->lock, LW_SHARED);
	target = ls->head;
	LWLockRelease(ls->lock);
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) (timeout * 1000));
	for (;;)
	{
		uint64		tail;

		LWLockAcquire(ls->lock, LW_SHARED);
		tail = ls->tail;
		LWLockRelease(ls->lock);
		if (tail >= target)
			PG_RETURN_BOOL(true);
		if (GetCurrentTimestamp() >= deadline)
			PG_RETURN_BOOL(false);
		jobs_wake_launcher();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 20L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * galaxy_internal.inference_log_state() → (buffer_slots, waiting, logged,
 * dropped): the ring in the whole server (NULLs without shared memory).
 */
Datum
galaxy_inference_log_state(PG_FUNCTION_ARGS)
{
	LogShared  *ls = log_shared;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (ls == NULL)
		memset(nulls, true, sizeof(nulls));
	else
	{
		LWLockAcquire(ls->lock, LW_SHARED);
		values[0] = Int64GetDatum(ls->nslots);
		values[1] = Int64GetDatum((int64) (ls->head - ls->tail));
		values[2] = Int64GetDatum((int64) ls->logged);
		LWLockRelease(ls->lock);
		values[3] = Int64GetDatum((int64) pg_atomic_read_u64(&ls->dropped));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
