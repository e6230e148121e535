/*
 * drift.h — data drift against a model's training profile (src/monitor/drift.c).
 *
 * Training stores, with each model, a profile of its training rows (format
 * version DRIFT_PROFILE_VERSION): per numeric or boolean feature the
 * percentiles p0..p100 as distinct bin edges with the training count in each
 * bin, per categorical feature the frequencies of its most frequent
 * categories, and the same for the target (the baseline of the predictions).
 * galaxy.drift() bins new data on those edges in one pass.
 */
#ifndef GALAXY_DRIFT_H
#define GALAXY_DRIFT_H

#include "data/dataset.h"

#define DRIFT_PROFILE_VERSION	2
#define DRIFT_PERCENTILES		100	/* bins between p0 and p100 */
#define DRIFT_MAX_CATEGORIES	100	/* categories kept; the rest count as "other" */

/*
 * The profile of a model's training rows (rows[0..n) of ds), taken by the
 * training pipeline from the loaded rows before they are preprocessed, and
 * stored in galaxy.models.training_profile by the INSERT of the model row,
 * when that column exists (not in a database still at 0.1.0).
 */
extern Jsonb *drift_training_profile(const Dataset *ds, const int64 *rows, int64 n);
extern bool drift_profile_column_exists(void);

/* ERROR (22023) unless 0 < warning <= drift, both finite. */
extern void drift_check_thresholds(double warning, double drift);

/* ERROR unless the caller can read relid and it has every feature of the project's model. */
extern void drift_check_relation(int64 project_id, const char *project, Oid relid);

#endif							/* GALAXY_DRIFT_H */
