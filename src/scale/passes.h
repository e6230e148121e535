/*
 * passes.h — the states of the streaming solver's later passes, as
 * float8[] values: the scoring pass of naive Bayes and the Lloyd pass of
 * k-means.
 *
 * After the first pass (galaxy.moments) the streamed naive_bayes and kmeans
 * fits run aggregates whose state is a plain float8[] (a real type with
 * text and binary I/O, DESIGN §9): a header {tag, k, third} and two parts
 * (the training rows, the held-out rows, split as
 * galaxy_internal.split_moments splits them).  The model or the centres
 * they work with are an argument, read once per query (and again only when
 * it changes).  Every state that comes from outside is validated
 * (pass_state_check): a hostile array gives an ERROR, never a crash.
 *
 *   galaxy_internal.nb_score(y, seed, test_size, model, VARIADIC x):
 *     header {PASS_NB_TAG, k, rows skipped for a NULL target}, each part
 *     {rows, log-loss sum, confusion k x k (true class major)};
 *   galaxy_internal.kmeans_pass(seed, test_size, centres, VARIADIC x):
 *     header {PASS_KM_TAG, k, p}, each part {rows, inertia to the given
 *     centres, largest squared distance, counts[k], squared norms[k],
 *     sums[k x p], the farthest row[p]} in the preprocessed space.
 *
 * The model of nb_score: {k, p, distribution, var_smoothing, alpha,
 * binarize, fit_prior, held_out_only, center[p], scale[p], fill[p], class
 * weights[k], s1[k x p], s2[k x p]} (nb_state_from_sums's sums; with
 * held_out_only 1 the training rows are counted, not scored); the centres of
 * kmeans_pass: {k, p, centres[k x p], center[p], scale[p], fill[p]}.
 */
#ifndef GALAXY_PASSES_H
#define GALAXY_PASSES_H

#include "fmgr.h"

#define PASS_NB_TAG		20034.0		/* "NB" */
#define PASS_KM_TAG		19277.0		/* "KM" */
#define PASS_HEADER		3
#define PASS_MAX_CLASSES 256
#define PASS_MAX_CLUSTERS 10000

/* Doubles of one part. */
static inline Size
pass_nb_part_doubles(int k)
{
	return 2 + (Size) k * k;
}

static inline Size
pass_km_part_doubles(int k, int p)
{
	return 3 + 2 * (Size) k + (Size) k * p + p;
}

/* One part of a k-means pass state, as pointers into it. */
typedef struct KmPassPart
{
	double	   *rows;
	double	   *inertia;
	double	   *far_d;
	double	   *counts;
	double	   *sqn;
	double	   *sums;
	double	   *far_row;
} KmPassPart;

/* A validated state (a detoasted copy); *n its doubles (passes_sql.c). */
extern double *pass_state_from_datum(Datum d, int *n);

/* passes.c: validation (ERROR 22023 when malformed), parts, merge. */
extern void pass_state_shape(const double *v, int n, int *k, int *third);
extern void pass_state_check(const double *v, int n);
extern void pass_km_part(double *state, int part, KmPassPart *out);
extern void pass_state_merge(double *a, int na, const double *b, int nb);
extern void pass_args_check(const double *v, int n, bool nb, int p_row, int *k, int *p);

/* Doubles of the model of nb_score and of the centres of kmeans_pass. */
#define PASS_NB_MODEL_HEADER 8

static inline Size
pass_nb_model_doubles(int k, int p)
{
	return PASS_NB_MODEL_HEADER + 3 * (Size) p + k + 2 * (Size) k * p;
}

static inline Size
pass_km_centres_doubles(int k, int p)
{
	return 2 + (Size) k * p + 3 * (Size) p;
}

#endif							/* GALAXY_PASSES_H */
