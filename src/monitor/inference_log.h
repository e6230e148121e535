/*
 * inference_log.h — inference logging (src/monitor/inference_log.c):
 * predictions of the projects set with galaxy.set_logging() go into a ring
 * in shared memory, which the monitor worker (schedule.c) writes to
 * galaxy.inference_log in batches.  The predict path never waits for a
 * disk or a lock held across I/O; when the ring is full the prediction is
 * counted as dropped, not logged.
 */
#ifndef GALAXY_INFERENCE_LOG_H
#define GALAXY_INFERENCE_LOG_H

#include "datatype/timestamp.h"

/* Raw input values kept per logged prediction; wider rows log no features. */
#define INFERENCE_LOG_MAX_FEATURES	32

/* One logged prediction, as the ring holds it and the writer reads it. */
typedef struct InferenceLogEntry
{
	Oid			dboid;
	int16		nfeatures;		/* -1: too wide, not kept */
	int64		model_id;
	int64		project_id;
	TimestampTz logged_at;
	double		prediction;
	double		features[INFERENCE_LOG_MAX_FEATURES];	/* NaN: NULL */
} InferenceLogEntry;

/* Slots of the ring (GUC galaxy.inference_log_buffer, at server start). */
extern int	galaxy_inference_log_buffer;

/* From _PG_init: the GUC and the shared-memory hooks (when preloaded). */
extern void inference_log_init(void);

/*
 * Log one prediction of a model of project_id when the project is logged
 * (and the sample says so): raw holds n_raw input values.  Cheap when the
 * project is not logged: one atomic read and a look-up in a small array.
 */
extern void inference_log_record(int64 model_id, int64 project_id,
								 const double *raw, int n_raw, double prediction);

/* The database of the oldest prediction waiting in the ring (InvalidOid: none). */
extern Oid	inference_log_pending_db(void);

/*
 * Writer side (one monitor worker at a time): copy up to max of the oldest
 * waiting entries, while they belong to dboid, into out; *end gets the
 * ring position after them.  Returns how many (0: none of dboid first, or
 * another writer is busy).
 */
extern int	inference_log_take(Oid dboid, InferenceLogEntry *out, int max, uint64 *end);

/* The entries taken up to 'end' are committed: free their slots. */
extern void inference_log_written(uint64 end);

/* The writer is done (or gone): another may take entries. */
extern void inference_log_release_writer(void);

/* The logging settings changed: backends reload them (at commit). */
extern void inference_log_settings_changed(void);

#endif							/* GALAXY_INFERENCE_LOG_H */
