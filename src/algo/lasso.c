/*
 * lasso.c — lasso and elastic net regression by cyclic coordinate descent.
 *
 * Both minimise scikit-learn's objective
 *
 *     1/(2 W) sum_i w_i (y_i - b0 - x_i b)^2
 *         + alpha * l1_ratio * ||b||_1 + alpha * (1 - l1_ratio) / 2 * ||b||^2
 *
 * (W = the sum of the sample weights w_i; lasso is l1_ratio = 1) on the
 * features as the preprocessor hands them over, standard-scaled by default.
 * With an intercept, X and y are centred on their weighted means first and
 * b0 = mean(y) - mean(x) b afterwards, so b0 is not penalised.
 *
 * Each sweep visits the coefficients in order and sets each to its exact
 * minimiser given the others: soft thresholding of the correlation of its
 * column with the partial residual, which puts a coefficient at exactly zero
 * when that correlation is below the L1 penalty.  The residual is kept up to
 * date, so a sweep costs one pass over the (column-major, centred,
 * sqrt(weight)-scaled) copy of X.  As in scikit-learn, when the largest
 * coefficient change of a sweep is below tol times the largest coefficient
 * (or on the last sweep) the duality gap is computed, and the fit stops when
 * it is below tol * ||y||^2.
 *
 * Sparse input (text features, TrainData.Xs): the same sweeps over a CSC
 * copy of the CSR rows, never centred (centring would make every entry
 * non-zero).  The centred residual R = yc - (X - 1 m') b is kept as q + off,
 * a per-row part that changes only on a column's non-zero rows and one
 * scalar offset for the means, so a sweep costs O(nnz + n); the correlation
 * of a column with R needs only its non-zero rows, because the weighted sum
 * of R is zero with an intercept (and the means are zero without one).
 */
#include "postgres.h"

#include <float.h>
#include <limits.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "algo/algo.h"
#include "algo/linalg.h"
#include "algo/sparse.h"
#include "galaxy.h"
#include "model/model.h"

/* Hyperparameter indexes, shared by both algorithms (lasso has no l1_ratio: it is last). */
enum
{
	HP_ALPHA = 0,
	HP_MAX_ITER,
	HP_TOL,
	HP_FIT_INTERCEPT,
	HP_L1_RATIO
};

static const HyperParamSpec lasso_params[] = {
	{"alpha", HP_FLOAT, 1.0, 0.0, 1e10, false, NULL,
	"strength of the L1 penalty (0 = least squares, slow to converge)"},
	{"max_iter", HP_INT, 1000, 1, 1000000, false, NULL,
	"maximum number of coordinate descent sweeps"},
	{"tol", HP_FLOAT, 1e-4, 0.0, 1.0, true, NULL,
	"stop when the duality gap is below tol * ||y||^2 (checked once the coefficients change by less than tol)"},
	{"fit_intercept", HP_BOOL, 1.0, 0.0, 1.0, false, NULL,
	"fit an unpenalised intercept (the data are centred)"},
};

static const HyperParamSpec enet_params[] = {
	{"alpha", HP_FLOAT, 1.0, 0.0, 1e10, false, NULL,
	"strength of the combined L1 and L2 penalty"},
	{"max_iter", HP_INT, 1000, 1, 1000000, false, NULL,
	"maximum number of coordinate descent sweeps"},
	{"tol", HP_FLOAT, 1e-4, 0.0, 1.0, true, NULL,
	"stop when the duality gap is below tol * ||y||^2 (checked once the coefficients change by less than tol)"},
	{"fit_intercept", HP_BOOL, 1.0, 0.0, 1.0, false, NULL,
	"fit an unpenalised intercept (the data are centred)"},
	{"l1_ratio", HP_FLOAT, 0.5, 0.0, 1.0, false, NULL,
	"share of the L1 penalty: 1 = lasso, 0 = ridge"},
};

typedef struct SparseLinState
{
	int			n_features;
	double		intercept;
	double	   *coef;			/* n_features */
	int32		n_iter;			/* sweeps run */
	double		dual_gap;		/* last duality gap computed (scaled by 1/W) */
} SparseLinState;

/* Soft thresholding: sign(z) max(|z| - t, 0). */
static inline double
soft_threshold(double z, double t)
{
	if (z > t)
		return z - t;
	if (z < -t)
		return z + t;
	return 0.0;
}

/*
 * Duality gap of the (unnormalised) elastic net problem, as scikit-learn's
 * enet_coordinate_descent computes it, from its parts: dual_norm = the
 * largest |X'R - l2 b|, r_norm2 = R'R, ry = R'y, and the coefficients'
 * L1 norm and squared L2 norm (l1 = alpha * l1_ratio * W,
 * l2 = alpha * (1 - l1_ratio) * W).
 */
static double
gap_of_parts(double dual_norm, double r_norm2, double ry, double l1_norm, double w_norm2,
			 double l1, double l2)
{
	double		cst;
	double		gap;

	if (dual_norm > l1)
	{
		cst = l1 / dual_norm;
		gap = 0.5 * (r_norm2 + r_norm2 * cst * cst);
	}
	else
	{
		cst = 1.0;
		gap = r_norm2;
	}
	gap += l1 * l1_norm - cst * ry + 0.5 * l2 * (1.0 + cst * cst) * w_norm2;
	return gap;
}

/* Duality gap at coef, with residual R = y - X b (dense, scaled columns). */
static double
duality_gap(const double *Xc, const double *yc, const double *R, const double *coef,
			int64 n, int p, double l1, double l2)
{
	double		dual_norm = 0.0;
	double		r_norm2 = 0.0;
	double		w_norm2 = 0.0;
	double		l1_norm = 0.0;
	double		ry = 0.0;

	for (int j = 0; j < p; j++)
	{
		double		xta = dot_product(Xc + (Size) j * n, R, (int) n) - l2 * coef[j];

		dual_norm = Max(dual_norm, fabs(xta));
		w_norm2 += coef[j] * coef[j];
		l1_norm += fabs(coef[j]);
	}
	for (int64 i = 0; i < n; i++)
	{
		r_norm2 += R[i] * R[i];
		ry += R[i] * yc[i];
	}
	return gap_of_parts(dual_norm, r_norm2, ry, l1_norm, w_norm2, l1, l2);
}

/* ERROR unless the fit can run: regression, rows, row count in range. */
static void
check_problem(const char *name, const TrainData *d)
{
	if (d->task != TASK_REGRESSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s supports only the regression task, not %s",
						name, galaxy_task_name(d->task))));
	if (d->n_rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs at least one training row", name)));
	if (d->n_rows > INT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s supports at most %d training rows", name, INT_MAX)));
}

/* ERROR on a non-finite coefficient; the intercept from the means. */
static void
finish_state(const char *name, SparseLinState *st, bool fit_intercept, const double *xmean, double ymean)
{
	int			p = st->n_features;

	for (int j = 0; j < p; j++)
		if (!isfinite(st->coef[j]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s produced a non-finite coefficient for feature %d", name, j + 1),
					 errhint("Scale the features or raise \"alpha\".")));
	st->intercept = 0.0;
	if (fit_intercept)
	{
		st->intercept = ymean;
		for (int j = 0; j < p; j++)
			st->intercept -= xmean[j] * st->coef[j];
	}
	if (!isfinite(st->intercept))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s produced a non-finite intercept", name)));
}

/*
 * The CSR rows of X as CSC columns (colptr p + 1, rows and values nnz), the
 * memory checked first.
 */
static void
csr_to_csc(const SparseMatrix *X, int64 **colptr, int32 **rows, double **vals)
{
	int			p = X->n_cols;
	int64		base = X->indptr[0];
	int64		nnz = X->indptr[X->n_rows] - base;
	int64	   *next;

	galaxy_check_training_memory(sparse_bytes(p, nnz) + sizeof(int64) * ((Size) p + 1),
								 "the column-major copy of the text features");
	*colptr = MemoryContextAllocExtended(CurrentMemoryContext, sizeof(int64) * ((Size) p + 1),
										 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	*rows = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(nnz, 1));
	*vals = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * Max(nnz, 1));
	for (int64 k = base; k < base + nnz; k++)
	{
		int32		j = X->indices[k];

		if (j < 0 || j >= p)
			elog(ERROR, "sparse feature index %d out of range", j);
		(*colptr)[j + 1]++;
	}
	for (int j = 0; j < p; j++)
		(*colptr)[j + 1] += (*colptr)[j];
	next = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(p, 1));
	memcpy(next, *colptr, sizeof(int64) * p);
	for (int64 i = 0; i < X->n_rows; i++)
		for (int64 k = X->indptr[i]; k < X->indptr[i + 1]; k++)
		{
			int64		at = next[X->indices[k]]++;

			(*rows)[at] = (int32) i;
			(*vals)[at] = X->values[k];
		}
	pfree(next);
}

/*
 * Fit lasso or elastic net on CSR rows (see the file's header): the same
 * objective, sweeps and stopping rule as the dense fit.
 */
static void *
sparse_input_fit(const char *name, const TrainData *d, const HyperParams *hp, double l1_ratio,
				 const FitContext *ctx)
{
	const SparseMatrix *X = d->Xs;
	int			p = X->n_cols;
	int64		n = d->n_rows;
	double		alpha = hp->values[HP_ALPHA];
	int			max_iter = (int) hp->values[HP_MAX_ITER];
	double		tol = hp->values[HP_TOL];
	bool		fit_intercept = hp->values[HP_FIT_INTERCEPT] != 0.0;
	SparseLinState *st;
	int64	   *colptr;
	int32	   *rows;
	double	   *vals;
	double	   *sw;
	double	   *yc;
	double	   *q;
	double		off = 0.0;
	double	   *xmean;
	double	   *norm2;
	double		W;
	double		ymean = 0.0;
	double		yy = 0.0;
	double		l1,
				l2,
				gap = get_float8_nan();
	int			iter;

	check_problem(name, d);
	if (X->n_rows != n)
		elog(ERROR, "%s: " INT64_FORMAT " sparse rows for " INT64_FORMAT " training rows",
			 name, X->n_rows, n);
	galaxy_check_training_memory(sizeof(double) * (3 * (Size) n + 2 * (Size) p),
								 "the coordinate descent vectors");
	sw = alloc_doubles(n);
	W = algo_sample_weights(name, d, sw);
	csr_to_csc(X, &colptr, &rows, &vals);

	/* weighted means of the columns and of y; the columns' centred norms */
	xmean = alloc_doubles(p);
	norm2 = alloc_doubles(p);
	if (fit_intercept)
	{
		for (int64 i = 0; i < n; i++)
			ymean += sw[i] * d->y[i];
		ymean /= W;
	}
	for (int j = 0; j < p; j++)
	{
		double		s1 = 0.0,
					s2 = 0.0;

		for (int64 k = colptr[j]; k < colptr[j + 1]; k++)
		{
			double		wv = sw[rows[k]] * vals[k];

			s1 += wv;
			s2 += wv * vals[k];
		}
		xmean[j] = fit_intercept ? s1 / W : 0.0;
		norm2[j] = s2 - 2.0 * xmean[j] * s1 + xmean[j] * xmean[j] * W;
		if (!(norm2[j] > 1e-12 * s2))
			norm2[j] = 0.0;		/* constant within rounding: stays at zero */
	}
	yc = alloc_doubles(n);
	q = alloc_doubles(n);
	for (int64 i = 0; i < n; i++)
	{
		yc[i] = d->y[i] - ymean;
		q[i] = yc[i];
		yy += sw[i] * yc[i] * yc[i];
	}

	st = palloc0(sizeof(SparseLinState));
	st->n_features = p;
	st->coef = alloc_doubles(p);
	l1 = alpha * l1_ratio * W;
	l2 = alpha * (1.0 - l1_ratio) * W;

	for (iter = 1; iter <= max_iter; iter++)
	{
		double		w_max = 0.0;
		double		d_w_max = 0.0;
		double		loss = 0.0;

		CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < p; j++)
		{
			double		old = st->coef[j];
			double		rho = 0.0;
			double		nw;

			if (norm2[j] == 0.0)
				continue;
			for (int64 k = colptr[j]; k < colptr[j + 1]; k++)
				rho += sw[rows[k]] * vals[k] * (q[rows[k]] + off);
			rho += norm2[j] * old;
			nw = soft_threshold(rho, l1) / (norm2[j] + l2);
			if (nw != old)
			{
				double		delta = nw - old;

				/* R -= delta (x_j - m_j) */
				for (int64 k = colptr[j]; k < colptr[j + 1]; k++)
					q[rows[k]] -= delta * vals[k];
				off += delta * xmean[j];
				st->coef[j] = nw;
			}
			d_w_max = Max(d_w_max, fabs(nw - old));
			w_max = Max(w_max, fabs(nw));
		}
		for (int64 i = 0; i < n; i++)
			loss += sw[i] * (q[i] + off) * (q[i] + off);
		fit_report_iteration(ctx, iter, max_iter, n, loss / W, get_float8_nan(),
							 get_float8_nan(), get_float8_nan());

		if (w_max == 0.0 || d_w_max / w_max < tol || iter == max_iter)
		{
			double		dual_norm = 0.0,
						r_norm2 = 0.0,
						ry = 0.0,
						sr = 0.0,
						l1_norm = 0.0,
						w_norm2 = 0.0;

			for (int64 i = 0; i < n; i++)
			{
				double		r = q[i] + off;

				sr += sw[i] * r;
				r_norm2 += sw[i] * r * r;
				ry += sw[i] * r * yc[i];
			}
			for (int j = 0; j < p; j++)
			{
				double		xta = -xmean[j] * sr - l2 * st->coef[j];

				for (int64 k = colptr[j]; k < colptr[j + 1]; k++)
					xta += sw[rows[k]] * vals[k] * (q[rows[k]] + off);
				dual_norm = Max(dual_norm, fabs(xta));
				w_norm2 += st->coef[j] * st->coef[j];
				l1_norm += fabs(st->coef[j]);
			}
			gap = gap_of_parts(dual_norm, r_norm2, ry, l1_norm, w_norm2, l1, l2);
			if (gap < tol * yy)
				break;
		}
	}
	st->n_iter = Min(iter, max_iter);
	st->dual_gap = isfinite(gap) ? gap / W : 0.0;
	finish_state(name, st, fit_intercept, xmean, ymean);

	pfree(colptr);
	pfree(rows);
	pfree(vals);
	pfree(sw);
	pfree(yc);
	pfree(q);
	pfree(xmean);
	pfree(norm2);
	return st;
}

/* Fit lasso or elastic net with the given L1 share. */
static void *
sparse_fit(const char *name, const TrainData *d, const HyperParams *hp, double l1_ratio,
		   const FitContext *ctx)
{
	int			p = d->n_features;
	int64		n = d->n_rows;
	double		alpha = hp->values[HP_ALPHA];
	int			max_iter = (int) hp->values[HP_MAX_ITER];
	double		tol = hp->values[HP_TOL];
	bool		fit_intercept = hp->values[HP_FIT_INTERCEPT] != 0.0;
	SparseLinState *st;
	double	   *Xc;
	double	   *yc;
	double	   *R;
	double	   *sw;
	double	   *xmean;
	double	   *norm2;
	double		W;
	double		ymean = 0.0;
	double		yy = 0.0;
	double		l1,
				l2,
				gap = get_float8_nan();
	int			iter;

	if (d->Xs)
		return sparse_input_fit(name, d, hp, l1_ratio, ctx);
	check_problem(name, d);

	/* the column-major copy of X and four row vectors */
	galaxy_check_training_memory(sizeof(double) * ((Size) n * p + 4 * (Size) n + 2 * (Size) p),
								 "the coordinate descent copy of the training matrix");

	sw = alloc_doubles(n);
	W = algo_sample_weights(name, d, sw);

	/* weighted means */
	xmean = alloc_doubles(p);
	if (fit_intercept)
	{
		for (int64 i = 0; i < n; i++)
		{
			const double *x = d->X + i * p;

			for (int j = 0; j < p; j++)
				xmean[j] += sw[i] * x[j];
			ymean += sw[i] * d->y[i];
		}
		for (int j = 0; j < p; j++)
			xmean[j] /= W;
		ymean /= W;
	}

	/* centred, sqrt(weight)-scaled copies: column-major X, then y */
	Xc = alloc_doubles((Size) n * p);
	yc = alloc_doubles(n);
	R = alloc_doubles(n);
	norm2 = alloc_doubles(p);
	for (int64 i = 0; i < n; i++)
	{
		const double *x = d->X + i * p;
		double		s = sqrt(sw[i]);

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < p; j++)
			Xc[(Size) j * n + i] = s * (x[j] - xmean[j]);
		yc[i] = s * (d->y[i] - ymean);
		R[i] = yc[i];
		yy += yc[i] * yc[i];
	}
	for (int j = 0; j < p; j++)
		norm2[j] = dot_product(Xc + (Size) j * n, Xc + (Size) j * n, (int) n);

	st = palloc0(sizeof(SparseLinState));
	st->n_features = p;
	st->coef = alloc_doubles(p);

	l1 = alpha * l1_ratio * W;
	l2 = alpha * (1.0 - l1_ratio) * W;

	for (iter = 1; iter <= max_iter; iter++)
	{
		double		w_max = 0.0;
		double		d_w_max = 0.0;
		double		loss = 0.0;

		CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < p; j++)
		{
			double	   *col = Xc + (Size) j * n;
			double		old = st->coef[j];
			double		rho;
			double		nw;

			if (norm2[j] == 0.0)
				continue;		/* a constant column stays at zero */
			rho = dot_product(col, R, (int) n) + norm2[j] * old;
			nw = soft_threshold(rho, l1) / (norm2[j] + l2);
			if (nw != old)
			{
				double		delta = old - nw;

				for (int64 i = 0; i < n; i++)
					R[i] += delta * col[i];
				st->coef[j] = nw;
			}
			d_w_max = Max(d_w_max, fabs(nw - old));
			w_max = Max(w_max, fabs(nw));
		}
		for (int64 i = 0; i < n; i++)
			loss += R[i] * R[i];

		fit_report_iteration(ctx, iter, max_iter, n, loss / W, get_float8_nan(),
							 get_float8_nan(), get_float8_nan());

		if (w_max == 0.0 || d_w_max / w_max < tol || iter == max_iter)
		{
			gap = duality_gap(Xc, yc, R, st->coef, n, p, l1, l2);
			if (gap < tol * yy)
				break;
		}
	}
	st->n_iter = Min(iter, max_iter);
	st->dual_gap = isfinite(gap) ? gap / W : 0.0;
	if (iter > max_iter)
		ereport(DEBUG1,
				(errmsg("%s: coordinate descent did not converge in %d sweeps (duality gap %g)",
						name, max_iter, gap / W)));

	finish_state(name, st, fit_intercept, xmean, ymean);

	pfree(Xc);
	pfree(yc);
	pfree(R);
	pfree(sw);
	pfree(xmean);
	pfree(norm2);
	return st;
}

/* Fit lasso (l1_ratio 1). */
static void *
lasso_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	return sparse_fit("lasso", d, hp, 1.0, ctx);
}

/* Fit elastic net. */
static void *
enet_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	return sparse_fit("elastic_net", d, hp, hp->values[HP_L1_RATIO], ctx);
}

/* Predicted values: intercept + x . coef. */
static void
sparse_predict(const void *state, const double *X, int64 n, double *out)
{
	const SparseLinState *st = state;
	int			p = st->n_features;

	for (int64 i = 0; i < n; i++)
		out[i] = st->intercept + dot_product(X + i * p, st->coef, p);
}

/* Predicted values of CSR rows. */
static void
sparse_predict_csr(const void *state, const SparseMatrix *X, double *out)
{
	const SparseLinState *st = state;

	for (int64 i = 0; i < X->n_rows; i++)
		out[i] = st->intercept + sparse_row_dot(X, i, st->coef);
}

/* Write the coefficients and the fit's statistics. */
static void
sparse_serialize(const void *state, ModelWriter *w)
{
	const SparseLinState *st = state;

	mw_tag(w, "SPLR");
	mw_u32(w, (uint32) st->n_features);
	mw_f64(w, st->intercept);
	mw_f64s(w, st->coef, st->n_features);
	mw_i32(w, st->n_iter);
	mw_f64(w, st->dual_gap);
}

/* Read and validate the coefficients. */
static void *
sparse_deserialize(ModelReader *r, int n_features, int n_classes, GalaxyTask task)
{
	SparseLinState *st;
	uint32		p;

	if (task != TASK_REGRESSION)
		mr_corrupt("lasso/elastic_net model with task %d", (int) task);
	if (n_features < 0 || n_features > MODEL_MAX_FEATURES)
		mr_corrupt("lasso/elastic_net feature count %d out of range", n_features);
	mr_tag(r, "SPLR");
	p = mr_count(r, MODEL_MAX_FEATURES, sizeof(double), "lasso/elastic_net coefficient");
	if ((int) p != n_features)
		mr_corrupt("lasso/elastic_net has %u coefficients for %d features", p, n_features);
	st = palloc0(sizeof(SparseLinState));
	st->n_features = (int) p;
	st->intercept = mr_f64_finite(r, "lasso/elastic_net intercept");
	st->coef = alloc_doubles(p);
	for (uint32 j = 0; j < p; j++)
		st->coef[j] = mr_f64_finite(r, "lasso/elastic_net coefficient");
	st->n_iter = mr_i32_range(r, 0, 1000000, "lasso/elastic_net sweep count");
	st->dual_gap = mr_f64_finite(r, "lasso/elastic_net duality gap");
	return st;
}

/* Importance of a feature: the absolute value of its coefficient (exactly 0 when dropped). */
static void
sparse_feature_importance(const void *state, double *out)
{
	const SparseLinState *st = state;

	for (int j = 0; j < st->n_features; j++)
		out[j] = fabs(st->coef[j]);
}

/* Metrics of the fit: sweeps run, features kept, final duality gap. */
static void
sparse_fit_metrics(const void *state, void (*add) (const char *name, double value, void *arg), void *arg)
{
	const SparseLinState *st = state;
	int			nz = 0;

	for (int j = 0; j < st->n_features; j++)
		if (st->coef[j] != 0.0)
			nz++;
	add("n_iter", st->n_iter, arg);
	add("nonzero_coefficients", nz, arg);
	add("dual_gap", st->dual_gap, arg);
}

const AlgorithmDef galaxy_algo_lasso = {
	.name = "lasso",
	.id = 9,
	.tasks = TASK_BIT(TASK_REGRESSION),
	.params = lasso_params,
	.n_params = lengthof(lasso_params),
	.default_scaling = true,
	.description = "L1-regularised least squares (lasso) by cyclic coordinate descent; exact zeros by soft thresholding",
	.fit = lasso_fit,
	.predict = sparse_predict,
	.predict_proba = NULL,
	.serialize = sparse_serialize,
	.deserialize = sparse_deserialize,
	.feature_importance = sparse_feature_importance,
	.fit_metrics = sparse_fit_metrics,
	.sparse_input = true,
	.predict_sparse = sparse_predict_csr,
};

const AlgorithmDef galaxy_algo_elastic_net = {
	.name = "elastic_net",
	.id = 13,
	.tasks = TASK_BIT(TASK_REGRESSION),
	.params = enet_params,
	.n_params = lengthof(enet_params),
	.default_scaling = true,
	.description = "Elastic net regression (L1 + L2, l1_ratio) by cyclic coordinate descent; exact zeros by soft thresholding",
	.fit = enet_fit,
	.predict = sparse_predict,
	.predict_proba = NULL,
	.serialize = sparse_serialize,
	.deserialize = sparse_deserialize,
	.feature_importance = sparse_feature_importance,
	.fit_metrics = sparse_fit_metrics,
	.sparse_input = true,
	.predict_sparse = sparse_predict_csr,
};
