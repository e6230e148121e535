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
 *
 * The stages every streamed algorithm shares (whether to stream, the
 * schema, the class labels of a classification target, the moments pass,
 * the preprocessor from the moments, the registration outcome) are
 * stream_fit's; what differs is a StreamAlgo's (stream.c's table): the
 * task it fits, what else it cannot take, and its fit from the moments
 * (linear regression: one solve) or from further passes over the relation
 * (logistic regression: Newton passes, stream_logistic.c).
 */
#ifndef GALAXY_STREAM_H
#define GALAXY_STREAM_H

#include "algo/algo.h"
#include "api/train.h"
#include "data/dataset.h"
#include "data/preprocessor.h"
#include "progress/progress.h"
#include "scale/moments.h"

/*
 * The moments of part 'part' in the space of a transform (NULL: each
 * column centred on its mean, unscaled, NULLs imputed with the mean), for a
 * fit with (centred) or without an intercept.
 */
extern void stream_gram_moments(const MomentsData *m, int part, const MomentsTransform *tf,
								bool center, GramMoments *out);

/*
 * Over the rows of part 'part' in the space of the transform tf, per feature
 * (the first d - 1 columns): the sum, the mean and the sum of squared
 * deviations from the mean (centred twice, so they do not cancel); returns
 * the rows.
 */
extern double stream_part_sums(const MomentsData *m, int part, const MomentsTransform *tf,
							   double *sum, double *mean, double *ss);

/* One streamed training, shared between its stages. */
typedef struct StreamJob
{
	TrainRequest *req;
	ProgressRun *run;
	MemoryContext trainctx;
	FitOutcome *o;
	const AlgorithmDef *algo;
	Dataset    *schema;
	bool		distributed;
	char	   *relation;		/* the relation, quoted and qualified */
	char	   *yexpr;			/* the target in SQL: its value, or its class index */
	int			n_labels;		/* a classification target's labels (at most the most it fits + 1 read) */
	MomentsData *m;				/* the first pass: the features and that target */
	MomentsData **class_m;		/* per_class: each class's part of it (NULL: no row) */
	double		n_train;
	double		n_test;
	MomentsColumn *cols;		/* the training part's column summary */
	Preprocessor *prep;
	double		score_seconds;
	StringInfoData extra;		/* the fit's own details (details_* calls) */
} StreamJob;

/* The features of a pass, as separate arguments (true) or as an array. */
extern bool stream_values_form(const StreamJob *job);
/*
 * Run one pass: sql, an aggregate over the job's relation with one float8[]
 * parameter $1 (arg[0..n)), returns one row; its value (ERROR 22000 when it is
 * NULL, i.e. the relation has no rows).  what names the pass in errors.
 */
extern Datum stream_run_pass(StreamJob *job, const char *sql, const double *arg, int n, const char *what);
/*
 * roc_auc of a model of k classes on the held-out rows (the training rows
 * when nothing is held out), as metrics_classification computes it (NaN
 * when no class has rows of both sides): one query scores them with
 * scorer(y, seed, test_size, part, model, VARIADIC x), or its _array form,
 * which returns the k class probabilities of a row of that part (else NULL),
 * and computes the Mann-Whitney statistic per class in SQL.  Its time is
 * added to job->score_seconds.
 */
extern double stream_roc_auc(StreamJob *job, int k, const char *scorer, const double *model, int n);
/* A hyperparameter of the job's algorithm by name (ERROR if it has none of that name). */
extern double stream_hp_value(const StreamJob *job, const char *name);
/* ", x1::float8, x2::float8, ..." (values form) or "ARRAY[...]::float8[]" */
extern char *stream_feature_list(const StreamJob *job, bool values);

/* logistic_regression's fit by Newton passes (stream_logistic.c). */
extern const char *stream_logistic_unsupported(StreamJob *job);
extern const char *stream_logistic_unsupported_labels(StreamJob *job);
extern void stream_logistic_fit(StreamJob *job);

/* naive_bayes's fit from per-class moments and a scoring pass (stream_nb.c). */
extern const char *stream_nb_unsupported(StreamJob *job);
extern void stream_nb_fit(StreamJob *job);

/* kmeans's fit: a sample, then Lloyd passes (stream_kmeans.c). */
extern const char *stream_kmeans_unsupported(StreamJob *job);
extern void stream_kmeans_fit(StreamJob *job);

/*
 * The training profile (drift baseline) from the first pass's sample of the
 * rows: the pass's sampling level, and the profile, or NULL when the pass
 * kept no row (stream_profile.c).
 */
extern int	stream_profile_level(const StreamJob *job);
extern Jsonb *stream_training_profile(StreamJob *job);

/* train_run's streaming fit; false when the request is for the in-memory one. */
extern bool stream_fit(TrainRequest *req, LoadOptions *lo, ProgressRun *run,
					   MemoryContext trainctx, FitOutcome *o);

#endif							/* GALAXY_STREAM_H */
