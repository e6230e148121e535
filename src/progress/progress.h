/*
 * progress.h — live training progress in shared-memory slots (progress.c),
 * used by the training pipeline (api/train.c) and the job workers alike.
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

#include "algo/algo.h"

typedef struct ProgressRun ProgressRun;

/* Start reporting for a run; job_id 0 for synchronous galaxy.train(). */
extern ProgressRun *progress_begin(int64 job_id, const char *project, const char *algorithm,
								   int64 rows);
/* Set the current phase ("load", "preprocess", "fit", "evaluate", "register"). */
extern void progress_phase(ProgressRun *run, const char *phase);
/* Set the number of training rows once known (0 when progress_begin ran before loading). */
extern void progress_set_rows(ProgressRun *run, int64 rows);
/* The ProgressFn algorithms call (arg = the ProgressRun). */
extern void progress_callback(const ProgressInfo *info, void *arg);
/* Release the slot. */
extern void progress_end(ProgressRun *run);

/* Make sure this process frees its slot at exit (progress_begin does it too). */
extern void progress_register_cleanup(void);

/*
 * Per-iteration history of a background job (kept in memory by the worker,
 * at most about 1000 rows: later iterations are thinned out evenly).
 * progress_save_history() writes it to galaxy.job_progress in the current
 * transaction (as the extension owner) and forgets it.
 */
extern void progress_save_history(int64 job_id, int attempt);
extern void progress_discard_history(void);

/* true if the calling role acts for 'roleid' or is a galaxy administrator. */
extern bool progress_role_visible(Oid roleid);

#endif							/* GALAXY_PROGRESS_H */
