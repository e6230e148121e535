/*
 * stream.h — the streaming solver: train from one pass of SQL aggregates
 * over the relation instead of rows loaded into memory.
 *
 * train_run (api/train.c) asks stream_fit first.  For an algorithm with a
 * fit_gram (linear_regression) whose "solver" is "streaming", or "auto" on a
 * relation too large for galaxy.max_training_memory or distributed by Citus,
 * it runs
 *     SELECT galaxy_internal.split_moments(y::float8, ARRAY[x1::float8, ...],
 *                                          seed, test_size) FROM relation
 * as the calling role (parallel workers, Citus pushdown), fits the
 * preprocessor from the training part's column statistics, the model from
 * its moments in the preprocessed space, and scores it on the held-out part
 * from that part's moments — the same model as the in-memory fit on the same
 * training rows, within floating-point rounding.
 */
#ifndef GALAXY_STREAM_H
#define GALAXY_STREAM_H

#include "algo/algo.h"
#include "api/train.h"
#include "data/dataset.h"
#include "progress/progress.h"
#include "scale/moments.h"

/*
 * The moments of part 'part' in the space of a transform (NULL: each
 * column centred on its mean, unscaled, NULLs imputed with the mean), for a
 * fit with (centred) or without an intercept.
 */
extern void stream_gram_moments(const MomentsData *m, int part, const MomentsTransform *tf,
								bool center, GramMoments *out);

/* train_run's streaming fit; false when the request is for the in-memory one. */
extern bool stream_fit(TrainRequest *req, LoadOptions *lo, ProgressRun *run,
					   MemoryContext trainctx, FitOutcome *o);

#endif							/* GALAXY_STREAM_H */
