/*
 * galaxy.h — module-wide declarations: GUC variables and subsystem init hooks.
 */
#ifndef GALAXY_H
#define GALAXY_H

#include "postgres.h"

#define GALAXY_VERSION "0.1.0"

/* GUC variables (defined in galaxy.c) */
extern int	galaxy_max_workers;
extern int	galaxy_max_training_memory_mb;
extern int	galaxy_blas_threads;
extern int	galaxy_threads;
extern bool galaxy_progress_notices;
extern bool galaxy_allow_drop_with_data;

/* true when loaded through shared_preload_libraries */
extern bool galaxy_preloaded;

/* A user-supplied name for a message: itself, or its first 64 bytes and "...". */
extern const char *galaxy_short(const char *s);

/* Raise a clear error when a feature needs shared_preload_libraries. */
extern void galaxy_require_preload(const char *feature);

/* Apply galaxy.blas_threads to OpenBLAS (called before every BLAS-heavy fit). */
extern void galaxy_apply_blas_threads(void);

/* Bytes allowed for one training matrix. */
extern Size galaxy_training_memory_limit(void);

/* Error out, naming the need, when 'bytes' exceeds galaxy.max_training_memory. */
extern void galaxy_check_training_memory(Size bytes, const char *what);


#endif							/* GALAXY_H */
