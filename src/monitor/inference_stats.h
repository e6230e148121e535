/*
 * inference_stats.h — predict latency and call counts per model, in shared
 * memory (src/monitor/inference_stats.c), behind galaxy.inference_stats.
 *
 * The predict entry points call inference_stats_begin() on entry,
 * inference_stats_model() once the model is known and inference_stats_end()
 * after the prediction; a call that raises an ERROR in between counts as an
 * error of its model.  Every call is counted; the first call of each
 * transaction and every INFERENCE_STATS_SAMPLE-th after it are timed.  Counts gather in the backend and reach shared memory
 * at the end of the transaction (or every INFERENCE_STATS_FLUSH_CALLS
 * calls), so a predict over many rows takes no lock per row.
 */
#ifndef GALAXY_INFERENCE_STATS_H
#define GALAXY_INFERENCE_STATS_H

#include "portability/instr_time.h"

#define INFERENCE_STATS_BUCKETS		148	/* 2^(b/4) nanoseconds: up to 137 s */
#define INFERENCE_STATS_FLUSH_CALLS	4096
#define INFERENCE_STATS_SAMPLE		16	/* a transaction's calls timed: the first, then 1 in 16 */

/* Start timing a predict call. */
extern void inference_stats_begin_call(void);

/* The model that serves the call under way. */
extern void inference_stats_model(int64 model_id, int64 project_id);

/* The call ended: count it with its latency (no model: not counted). */
extern void inference_stats_end(void);

/* Called once from _PG_init: shared-memory hooks (when preloaded). */
extern void inference_stats_init(void);

/* Shared memory this module asks for. */
extern Size inference_stats_memsize(void);

/* Models tracked now in the whole server (-1 without shared memory). */
extern int64 inference_stats_count(void);

/* Begin a call, tracked when galaxy.track_inference is on (one test when off). */
#define inference_stats_begin() \
	do { if (galaxy_track_inference) inference_stats_begin_call(); } while (0)

#endif							/* GALAXY_INFERENCE_STATS_H */
