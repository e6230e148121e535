/*
 * newton.h — one Newton (IRLS) pass of binary logistic regression, as a
 * value.
 *
 * galaxy.newton is the state of the aggregate
 *     galaxy_internal.logistic_pass(y, seed, test_size, point, x1, x2, ...)
 * (and logistic_pass_array(y, x[], seed, test_size, point)): at the point
 * (class weights, intercept, coefficients and the preprocessing transform,
 * all carried in the state), over the training rows, the weighted log-loss,
 * its gradient and its Hessian in the preprocessed space (the augmented row
 * (1, t)); over the held-out rows, the log-loss and the confusion counts.
 * The rows are split as galaxy_internal.split_moments splits them (the same
 * hash of the same values), so every pass sees the same training rows.
 *
 * Like galaxy.moments it is a real type (varlena, double aligned) with text
 * ("GNS1:" + hexadecimal) and binary I/O and a combine function (sums), so
 * the pass runs in parallel workers and can be pushed down.  A state that
 * reaches a function from outside is validated first (newton_check).
 */
#ifndef GALAXY_NEWTON_H
#define GALAXY_NEWTON_H

#include "fmgr.h"

#define NEWTON_MAGIC		0x474E5331	/* "GNS1" */
#define NEWTON_TEXT_PREFIX	"GNS1:"
#define NEWTON_MAX_FEATURES 1024

typedef struct NewtonData
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint32		magic;
	int32		p;				/* features */
	int32		n_parts;		/* 2: training, held out */
	uint64		seed;			/* the split's parameters */
	double		test_size;
	double		n_skipped;		/* rows skipped for a NULL target */
	/* then the point (newton_point_doubles(p)), then n_parts parts */
} NewtonData;

/*
 * The point: class weights of class 0 and 1, the intercept, the p
 * coefficients, and the transform t_j = (x_j or fill_j - center_j) / scale_j.
 */
typedef struct NewtonPoint
{
	double	   *class_w;		/* 2 */
	double	   *intercept;		/* 1 */
	double	   *coef;			/* p */
	double	   *center;			/* p */
	double	   *scale;			/* p */
	double	   *fill;			/* p */
} NewtonPoint;

/*
 * One part: rows, their total weight, the weighted log-loss, the
 * unweighted log-loss (clipped as metrics_classification clips it), the
 * confusion counts at threshold 0.5, the gradient (p + 1: the intercept,
 * then the coefficients) and the Hessian (packed upper triangle of order
 * p + 1) of the weighted log-loss (training part only).
 */
typedef struct NewtonPart
{
	double	   *rows;
	double	   *wsum;
	double	   *loss;
	double	   *logloss;
	double	   *tp;
	double	   *fp;
	double	   *fn;
	double	   *tn;
	double	   *grad;
	double	   *hess;
} NewtonPart;

#define NEWTON_PART_FIXED 8

static inline Size
newton_point_doubles(int p)
{
	return (Size) 4 * p + 3;
}

static inline Size
newton_part_doubles(int p)
{
	return NEWTON_PART_FIXED + (Size) (p + 1) + (Size) (p + 1) * (p + 2) / 2;
}

extern Size newton_size(int p, int n_parts);
extern NewtonData *newton_create(int p, uint64 seed, double test_size, const double *point);
extern void newton_point(const NewtonData *s, NewtonPoint *out);
extern void newton_part(const NewtonData *s, int part, NewtonPart *out);
extern void newton_check(const NewtonData *s, Size size);
extern void newton_check_point(int p, const double *point);

/* Accumulate one row (y 0 or 1) into its part. */
extern void newton_add_row(NewtonData *s, const double *x, const bool *isnull, double y);

/* Merge b into a (same features, split and point). */
extern void newton_merge(NewtonData *a, const NewtonData *b);

extern char *newton_encode(const NewtonData *s, Size *len);
extern NewtonData *newton_decode(const char *buf, Size len);
extern char *newton_to_text(const NewtonData *s);
extern NewtonData *newton_from_text(const char *str);
extern NewtonData *newton_from_datum(Datum d);

#endif							/* GALAXY_NEWTON_H */
