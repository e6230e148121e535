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
 *   galaxy_internal.softmax_pass(y, seed, test_size, point, VARIADIC x):
 *     one Newton pass of multinomial logistic regression (k >= 3 classes,
 *     D = k (p + 1) parameters, see SmPass): header {PASS_SM_TAG, k, p},
 *     the training part {rows, weight, weighted log-loss, clipped log-loss,
 *     confusion k x k, gradient D, Hessian D x D (upper triangle)}, the
 *     held-out part {rows, weight, weighted log-loss, clipped log-loss,
 *     confusion k x k}, the point it is taken at {class weights k, theta D,
 *     center p, scale p, fill p}, and a buffer of training rows not summed
 *     yet {count, then PASS_SM_BUFFER_ROWS x (class, t[p])}: the rows are
 *     summed a block at a time with BLAS (dgemm, dsyrk), the combine
 *     function sums the buffered rows of the other state, and the final
 *     function those left.
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
#define PASS_SM_TAG		21325.0		/* "SM" */
#define PASS_HEADER		3
#define PASS_MAX_CLASSES 256
#define PASS_MAX_CLUSTERS 10000
/*
 * softmax_pass: the most parameters k (p + 1) (its Hessian, D x D doubles,
 * is 8 MB at the cap), and the training rows buffered per BLAS block.
 */
#define PASS_SM_MAX_PARAMS 1024
#define PASS_SM_BUFFER_ROWS 128

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

/* The doubles of a softmax_pass state: parts, point, buffer. */
static inline Size
pass_sm_train_doubles(int k, int p)
{
	Size		D = (Size) k * (p + 1);

	return 4 + (Size) k * k + D + D * D;
}

static inline Size
pass_sm_point_doubles(int k, int p)
{
	return (Size) k + (Size) k * (p + 1) + 3 * (Size) p;
}

static inline Size
pass_sm_doubles(int k, int p)
{
	return PASS_HEADER + pass_sm_train_doubles(k, p) + 4 + (Size) k * k +
		pass_sm_point_doubles(k, p) + 1 + (Size) PASS_SM_BUFFER_ROWS * (p + 1);
}

/* A softmax_pass state, as pointers into it (held: the held-out part's). */
typedef struct SmPass
{
	int			k;
	int			p;
	int			D;				/* k (p + 1) */
	double	   *rows;			/* training part */
	double	   *wsum;
	double	   *loss;
	double	   *logloss;
	double	   *confusion;		/* k x k, true class major */
	double	   *grad;			/* D: class-major, each (intercept, coef[p]) */
	double	   *hess;			/* D x D, row-major, upper triangle */
	double	   *held;			/* {rows, weight, loss, logloss, confusion k x k} */
	double	   *point;			/* the point: */
	double	   *class_w;		/* k */
	double	   *theta;			/* D */
	double	   *center;			/* p */
	double	   *scale;			/* p */
	double	   *fill;			/* p */
	double	   *n_buf;			/* rows in the buffer */
	double	   *buf;			/* PASS_SM_BUFFER_ROWS x (class, t[p]) */
} SmPass;

/*
 * The point argument of softmax_pass: {k, p, class weights k, theta D,
 * center p, scale p, fill p}; the model of logistic_proba: {k, p, theta
 * o (p + 1), center p, scale p, fill p} with o = 1 output for two classes,
 * else k.
 */
static inline Size
pass_lp_model_doubles(int k, int p)
{
	return 2 + (Size) (k == 2 ? 1 : k) * (p + 1) + 3 * (Size) p;
}

extern void pass_sm_layout(double *state, SmPass *out);
/* A new softmax_pass state at a checked point argument (palloc'd, header set). */
extern void pass_sm_init(double *state, const double *point_arg);
/* One row (class cls, transformed t) into part 'part': held out at once, training buffered. */
extern void pass_sm_add_row(double *state, int cls, const double *t, int part);
/* Sum the buffered training rows. */
extern void pass_sm_flush(double *state);
/* The training rows of a state, summed and buffered. */
extern double pass_sm_rows(const double *state);
/* Check softmax_pass's point (sm) or logistic_proba's model for rows of p_row features; *k its classes. */
extern void pass_sm_arg_check(const double *v, int n, bool sm, int p_row, int *k);

/* A validated state (a detoasted copy); *n its doubles (passes_sql.c). */
extern double *pass_state_from_datum(Datum d, int *n);

/* passes.c: validation (ERROR 22023 when malformed), parts, merge. */
/* *third: the features of a k-means or softmax state, 0 for nb_score's (its third field is a count) */
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
