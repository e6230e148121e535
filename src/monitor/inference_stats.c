/*
 * inference_stats.c — galaxy.inference_stats: calls, rows, errors and
 * latency (mean, p50/p95/p99 from a log-bucketed histogram, max) per model,
 * in shared memory, the pg_stat_statements way.
 *
 * A shared hash keyed by (database, model id) holds one entry per model,
 * at most galaxy.inference_stats_max of them; a new model beyond that
 * evicts the least recently used entry.  The hash's LWLock guards its
 * shape (shared to find an entry, exclusive to add or remove one); each
 * entry's counters have their own spinlock.  A backend gathers its calls
 * locally (one slot per model) and adds them to the shared entries at the
 * end of each transaction, or every INFERENCE_STATS_FLUSH_CALLS calls, so
 * the per-row cost of predict is a few additions.  Every call is counted;
 * the latency of the first call of each transaction and of every
 * INFERENCE_STATS_SAMPLE-th after it is measured (two clock reads, which
 * cost a system call each on some virtual machines): all of them for
 * single-row predicts, one in INFERENCE_STATS_SAMPLE over a relation.
 *
 * A latency of t nanoseconds falls in bucket floor(4 log2 t) (the first
 * bucket holds everything under 2^(1/4) ns, the last everything above
 * 2^36.75 ns, 115 s): each bucket is 19 % wide, and a percentile is
 * reported as its bucket's geometric middle (within 9 %), never above the
 * maximum seen.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "galaxy.h"
#include "monitor/inference_stats.h"

#define INFERENCE_STATS_TRANCHE	"galaxy_inference_stats"
#define LOCAL_SLOTS				8	/* models one backend gathers at once */
#define STATS_NATTS				14

PG_FUNCTION_INFO_V1(galaxy_inference_stats_entries);
PG_FUNCTION_INFO_V1(galaxy_reset_inference_stats);

/* Hash key: models are per database. */
typedef struct StatsKey
{
	Oid			dboid;
	int64		model_id;
} StatsKey;

/* Counters of one model. */
typedef struct StatsCounters
{
	int64		calls;
	int64		timed;			/* calls whose latency was measured */
	int64		errors;
	double		total_us;
	double		max_us;
	int64		buckets[INFERENCE_STATS_BUCKETS];
} StatsCounters;

/* One model's shared entry. */
typedef struct StatsEntry
{
	StatsKey	key;
	slock_t		mutex;			/* guards everything below */
	int64		project_id;
	TimestampTz since;			/* created or reset */
	TimestampTz last_call;		/* start of the last statement whose calls were added */
	uint64		last_used;		/* the shared clock when last flushed into (LRU) */
	StatsCounters c;
} StatsEntry;

typedef struct StatsShared
{
	LWLock	   *lock;
	pg_atomic_uint64 clock;		/* ticks once per flush of an entry (LRU order) */
	int64		evictions;		/* under the exclusive lock */
	TimestampTz reset_at;
} StatsShared;

/* What a backend gathered for one model since its last flush. */
typedef struct LocalSlot
{
	int64		model_id;		/* 0: free */
	int64		project_id;
	int			blo,			/* buckets touched: blo..bhi */
				bhi;
	StatsCounters c;
} LocalSlot;

static StatsShared *stats_shared = NULL;
static HTAB *stats_hash = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static LocalSlot local_slots[LOCAL_SLOTS];
static int64 local_calls = 0;
static bool callbacks_registered = false;

/* Calls begun in this transaction: which of them are timed. */
static uint32 local_seq = 0;

/* The call under way. */
static bool call_open = false;
static bool call_timed = false;
static instr_time call_start;
static int64 call_model = 0;
static int64 call_project = 0;

/* Shared memory for the header and the hash. */
Size
inference_stats_memsize(void)
{
	return add_size(MAXALIGN(sizeof(StatsShared)),
					hash_estimate_size(galaxy_inference_stats_max, sizeof(StatsEntry)));
}

/* Models tracked now in the whole server (-1 without shared memory). */
int64
inference_stats_count(void)
{
	int64		n;

	if (stats_shared == NULL)
		return -1;
	LWLockAcquire(stats_shared->lock, LW_SHARED);
	n = hash_get_num_entries(stats_hash);
	LWLockRelease(stats_shared->lock);
	return n;
}

/* shmem_request_hook: the space and one LWLock. */
static void
stats_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(inference_stats_memsize());
	RequestNamedLWLockTranche(INFERENCE_STATS_TRANCHE, 1);
}

/* shmem_startup_hook: create (or attach to) the header and the hash. */
static void
stats_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	stats_shared = ShmemInitStruct("galaxy inference stats", sizeof(StatsShared), &found);
	if (!found)
	{
		stats_shared->lock = &(GetNamedLWLockTranche(INFERENCE_STATS_TRANCHE))->lock;
		pg_atomic_init_u64(&stats_shared->clock, 0);
		stats_shared->evictions = 0;
		stats_shared->reset_at = GetCurrentTimestamp();
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(StatsKey);
	info.entrysize = sizeof(StatsEntry);
	stats_hash = ShmemInitHash("galaxy inference stats hash",
							   galaxy_inference_stats_max, galaxy_inference_stats_max,
							   &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

/* Module start-up (from _PG_init): the shared-memory hooks when preloaded. */
void
inference_stats_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = stats_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = stats_shmem_startup;
}

/* Bucket of a latency in microseconds. */
static inline int
stats_bucket(double us)
{
	double		ns = us * 1000.0;
	int			b;

	if (!(ns > 1.0))
		return 0;
	b = (int) (4.0 * log2(ns));
	return Min(Max(b, 0), INFERENCE_STATS_BUCKETS - 1);
}

/* Add counters a, whose buckets lo..hi may be non-zero, to b (under b's spinlock: short). */
static inline void
stats_add(StatsCounters *b, const StatsCounters *a, int lo, int hi)
{
	b->calls += a->calls;
	b->timed += a->timed;
	b->errors += a->errors;
	b->total_us += a->total_us;
	b->max_us = Max(b->max_us, a->max_us);
	for (int i = lo; i <= hi; i++)
		b->buckets[i] += a->buckets[i];
}

/* Evict the least recently used entry (exclusive lock held). */
static void
stats_evict_one(void)
{
	HASH_SEQ_STATUS seq;
	StatsEntry *e,
			   *victim = NULL;

	hash_seq_init(&seq, stats_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (victim == NULL || e->last_used < victim->last_used)
			victim = e;
	if (victim)
	{
		(void) hash_search(stats_hash, &victim->key, HASH_REMOVE, NULL);
		stats_shared->evictions++;
	}
}

/* Add what this backend gathered to the shared entries, and forget it. */
static void
stats_flush(void)
{
	TimestampTz now;

	local_seq = 0;
	if (local_calls == 0 || stats_shared == NULL)
	{
		local_calls = 0;
		return;
	}
	/* the statement's start: no clock read (a system call on some machines) per flush */
	now = GetCurrentStatementStartTimestamp();
	for (int i = 0; i < LOCAL_SLOTS; i++)
	{
		LocalSlot  *ls = &local_slots[i];
		StatsKey	key;
		StatsEntry *e;
		uint64		tick;

		if (ls->model_id == 0)
			continue;
		memset(&key, 0, sizeof(key));
		key.dboid = MyDatabaseId;
		key.model_id = ls->model_id;

		LWLockAcquire(stats_shared->lock, LW_SHARED);
		e = hash_search(stats_hash, &key, HASH_FIND, NULL);
		if (e == NULL)
		{
			bool		found;

			LWLockRelease(stats_shared->lock);
			LWLockAcquire(stats_shared->lock, LW_EXCLUSIVE);
			e = hash_search(stats_hash, &key, HASH_FIND, NULL);
			if (e == NULL)
			{
				if (hash_get_num_entries(stats_hash) >= galaxy_inference_stats_max)
					stats_evict_one();
				e = hash_search(stats_hash, &key, HASH_ENTER_NULL, &found);
				if (e != NULL && !found)
				{
					SpinLockInit(&e->mutex);
					e->project_id = ls->project_id;
					e->since = now;
					e->last_call = 0;
					e->last_used = 0;
					memset(&e->c, 0, sizeof(e->c));
				}
			}
		}
		tick = pg_atomic_add_fetch_u64(&stats_shared->clock, 1);
		if (e != NULL)
		{
			SpinLockAcquire(&e->mutex);
			stats_add(&e->c, &ls->c, ls->blo, ls->bhi);
			e->last_call = now;
			e->last_used = tick;
			SpinLockRelease(&e->mutex);
		}
		LWLockRelease(stats_shared->lock);
		memset(ls, 0, sizeof(LocalSlot));
	}
	local_calls = 0;
}

/* This backend's slot for a model (flushing to make room). */
static LocalSlot *
stats_local_slot(int64 model_id, int64 project_id)
{
	for (int i = 0; i < LOCAL_SLOTS; i++)
		if (local_slots[i].model_id == model_id)
			return &local_slots[i];
	for (int pass = 0; pass < 2; pass++)
	{
		for (int i = 0; i < LOCAL_SLOTS; i++)
			if (local_slots[i].model_id == 0)
			{
				local_slots[i].model_id = model_id;
				local_slots[i].project_id = project_id;
				local_slots[i].blo = INFERENCE_STATS_BUCKETS;
				local_slots[i].bhi = -1;
				return &local_slots[i];
			}
		stats_flush();
	}
	return NULL;					/* not reached: a flush frees every slot */
}

/* A call that raised an ERROR counts as an error of its model. */
static void
stats_count_error(void)
{
	if (call_open && call_model != 0)
	{
		LocalSlot  *ls = stats_local_slot(call_model, call_project);

		ls->c.errors++;
		local_calls++;
	}
	call_open = false;
}

/* End of transaction: count an interrupted call, then flush. */
static void
stats_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			stats_count_error();
			stats_flush();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			call_open = false;
			stats_flush();
			break;
		default:
			break;
	}
}

/* A subtransaction rolled back (an exception caught in PL/pgSQL): count the error. */
static void
stats_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		stats_count_error();
}

/* Start timing a predict call (see inference_stats.h). */
void
inference_stats_begin_call(void)
{
	if (stats_shared == NULL)
		return;
	if (!callbacks_registered)
	{
		RegisterXactCallback(stats_xact_callback, NULL);
		RegisterSubXactCallback(stats_subxact_callback, NULL);
		callbacks_registered = true;
	}
	call_open = true;
	call_model = 0;
	call_timed = (local_seq++ % INFERENCE_STATS_SAMPLE) == 0;
	if (call_timed)
		INSTR_TIME_SET_CURRENT(call_start);
}

/* The model that serves the call under way. */
void
inference_stats_model(int64 model_id, int64 project_id)
{
	call_model = model_id;
	call_project = project_id;
}

/* Count the call under way with its latency. */
void
inference_stats_end(void)
{
	instr_time	now;
	double		us;
	int			b;
	LocalSlot  *ls;

	if (!call_open)
		return;
	call_open = false;
	if (call_model == 0)
		return;
	ls = stats_local_slot(call_model, call_project);
	ls->c.calls++;
	if (call_timed)
	{
		INSTR_TIME_SET_CURRENT(now);
		INSTR_TIME_SUBTRACT(now, call_start);
		us = INSTR_TIME_GET_MICROSEC(now);
		ls->c.timed++;
		ls->c.total_us += us;
		ls->c.max_us = Max(ls->c.max_us, us);
		b = stats_bucket(us);
		ls->c.buckets[b]++;
		ls->blo = Min(ls->blo, b);
		ls->bhi = Max(ls->bhi, b);
	}
	if (++local_calls >= INFERENCE_STATS_FLUSH_CALLS)
		stats_flush();
}

/* The q-quantile of a histogram, in microseconds (NaN without calls). */
static double
stats_quantile(const StatsCounters *c, double q)
{
	double		want = q * (double) c->timed;
	int64		seen = 0;

	if (c->timed == 0)
		return get_float8_nan();
	for (int b = 0; b < INFERENCE_STATS_BUCKETS; b++)
	{
		seen += c->buckets[b];
		if ((double) seen >= want && seen > 0)
			return Min(pow(2.0, (b + 0.5) / 4.0) / 1000.0, c->max_us);
	}
	return c->max_us;
}

/* ERROR unless the shared memory exists. */
static void
stats_require(void)
{
	galaxy_require_preload("inference statistics");
	if (stats_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("galaxy's inference statistics are not in shared memory")));
}

/*
 * galaxy.inference_stats_entries() → the current database's entries:
 * model_id, project_id, calls, errors, total_ms, mean_ms, p50_ms, p95_ms,
 * p99_ms, max_ms, since, last_call, latency_buckets, timed_calls.
 */
Datum
galaxy_inference_stats_entries(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	StatsEntry *e;

	stats_require();
	stats_flush();				/* this backend's own calls first */
	InitMaterializedSRF(fcinfo, 0);
	LWLockAcquire(stats_shared->lock, LW_SHARED);
	hash_seq_init(&seq, stats_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		StatsCounters c;
		int64		project_id;
		TimestampTz since,
					last_call;
		Datum		v[STATS_NATTS];
		bool		n[STATS_NATTS];

		if (e->key.dboid != MyDatabaseId)
			continue;
		SpinLockAcquire(&e->mutex);
		c = e->c;
		project_id = e->project_id;
		since = e->since;
		last_call = e->last_call;
		SpinLockRelease(&e->mutex);

		memset(n, 0, sizeof(n));
		v[0] = Int64GetDatum(e->key.model_id);
		v[1] = Int64GetDatum(project_id);
		v[2] = Int64GetDatum(c.calls);
		v[3] = Int64GetDatum(c.errors);
		v[4] = Float8GetDatum(c.total_us / 1000.0);
		v[5] = Float8GetDatum(c.timed ? c.total_us / 1000.0 / (double) c.timed : 0);
		n[5] = c.timed == 0;
		v[6] = Float8GetDatum(stats_quantile(&c, 0.50) / 1000.0);
		v[7] = Float8GetDatum(stats_quantile(&c, 0.95) / 1000.0);
		v[8] = Float8GetDatum(stats_quantile(&c, 0.99) / 1000.0);
		n[6] = n[7] = n[8] = c.timed == 0;
		v[9] = Float8GetDatum(c.max_us / 1000.0);
		n[9] = c.timed == 0;
		v[10] = TimestampTzGetDatum(since);
		v[11] = TimestampTzGetDatum(last_call);
		n[11] = last_call == 0;
		{
			Datum		cum[INFERENCE_STATS_BUCKETS];
			int64		seen = 0;

			/* cumulative counts, the Prometheus histogram form */
			for (int b = 0; b < INFERENCE_STATS_BUCKETS; b++)
			{
				seen += c.buckets[b];
				cum[b] = Int64GetDatum(seen);
			}
			v[12] = PointerGetDatum(construct_array(cum, INFERENCE_STATS_BUCKETS, INT8OID, sizeof(int64),
													FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		}
		v[13] = Int64GetDatum(c.timed);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	LWLockRelease(stats_shared->lock);
	return (Datum) 0;
}

/* galaxy.reset_inference_stats() → entries removed (this database's). */
Datum
galaxy_reset_inference_stats(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS seq;
	StatsEntry *e;
	int64		removed = 0;

	stats_require();
	memset(local_slots, 0, sizeof(local_slots));
	local_calls = 0;
	LWLockAcquire(stats_shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, stats_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (e->key.dboid == MyDatabaseId)
		{
			(void) hash_search(stats_hash, &e->key, HASH_REMOVE, NULL);
			removed++;
		}
	stats_shared->reset_at = GetCurrentTimestamp();
	LWLockRelease(stats_shared->lock);
	PG_RETURN_INT64(removed);
}
