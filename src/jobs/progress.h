/*
 * progress.h — live training progress in shared-memory slots.
 *
 * A training run (galaxy.train() in a backend, or a job in a worker) takes a
 * slot with progress_begin(), updates it from the algorithm's ProgressFn and
 * releases it with progress_end() (also on error: the slot is released by a
 * before_shmem_exit / resource callback, so no orphaned slot survives).
 * Without shared_preload_libraries there are no slots; the calls still work
 * (galaxy.progress_notices NOTICEs and job_progress history do).
 */
#ifndef GALAXY_PROGRESS_H
#define GALAXY_PROGRESS_H

#include "postgres.h"

#include "algo/algo.h"

typedef struct ProgressRun ProgressRun;

/* Start reporting for a run; job_id 0 for synchronous galaxy.train(). */
extern ProgressRun *progress_begin(int64 job_id, const char *project, const char *algorithm,
								   int64 rows);
/* Set the current phase ("load", "preprocess", "fit", "evaluate", "register"). */
extern void progress_phase(ProgressRun *run, const char *phase);
/* The ProgressFn algorithms call (arg = the ProgressRun). */
extern void progress_callback(const ProgressInfo *info, void *arg);
/* Release the slot. */
extern void progress_end(ProgressRun *run);

#endif							/* GALAXY_PROGRESS_H */
