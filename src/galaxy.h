/*
 * galaxy.h — module-wide declarations (galaxy.c): every GUC variable, preload
 * detection, and the helpers every subsystem uses.
 */
#ifndef GALAXY_H
#define GALAXY_H

#define GALAXY_VERSION "0.1.0"

/* Every GUC variable; all are defined in _PG_init (galaxy.c). */
extern int	galaxy_max_workers;		/* galaxy.max_workers: jobs run at once */
extern int	galaxy_max_training_memory_mb;	/* galaxy.max_training_memory */
extern int	galaxy_blas_threads;	/* galaxy.blas_threads */
extern int	galaxy_threads;			/* galaxy.threads: numeric kernels */
extern bool galaxy_progress_notices;	/* galaxy.progress_notices */
extern bool galaxy_allow_drop_with_data;	/* galaxy.allow_drop_with_data */
extern bool galaxy_require_approval;	/* galaxy.require_approval (registry) */
extern int	galaxy_approval_ttl_min;	/* galaxy.approval_ttl, minutes */
extern int	galaxy_job_timeout_ms;
extern bool galaxy_track_inference;	/* galaxy.track_inference: predict statistics on */
extern int	galaxy_inference_stats_max;	/* galaxy.inference_stats_max: models tracked */	/* galaxy.job_timeout: default limit of a job, 0 = none */

/* true when loaded through shared_preload_libraries */
extern bool galaxy_preloaded;

/* A user-supplied name for a message: itself, or its first 64 bytes and "...". */
extern const char *galaxy_short(const char *s);

/* Raise a clear error when a feature needs shared_preload_libraries. */
extern void galaxy_require_preload(const char *feature);

/* Give OpenBLAS n threads (only when that changes: see galaxy.c). */
extern void galaxy_set_blas_threads(int n);

/*
 * Below this many multiply-adds in its largest product, work runs faster on
 * one BLAS thread: waking OpenBLAS's threads for small matrices costs more
 * than they save, and an idle pool thread spins for a while afterwards.
 */
#define GALAXY_BLAS_PARALLEL_MACS ((double) (1 << 22))

/* galaxy.blas_threads for work of 'macs' multiply-adds, one thread below the bound above. */
extern void galaxy_apply_blas_threads_for(double macs);

/* Bytes allowed for one training matrix. */
extern Size galaxy_training_memory_limit(void);

/* Error out, naming the need, when 'bytes' exceeds galaxy.max_training_memory. */
extern void galaxy_check_training_memory(Size bytes, const char *what);

/* Map in a large buffer about to be written from start to end (a hint: failures are ignored). */
extern void galaxy_prefault(void *p, Size len);

/* MemoryContextAllocHuge in the current context, prefaulted: for a buffer about to be written whole. */
extern void *galaxy_alloc_filled(Size len);

/* The same, zeroed (alloc_doubles): a large buffer's zeroing faults its pages in at once. */
extern void *galaxy_alloc_zeroed(Size len);

/*
 * Prepare this process's memory for a training or a pass's large state:
 * freed blocks kept, a first arena of arena_mb mapped in (the first call in
 * a process; glibc only; see galaxy.c).
 */
#define GALAXY_TRAINING_ARENA_MB	16
extern void galaxy_prepare_memory(int arena_mb);

#endif							/* GALAXY_H */
