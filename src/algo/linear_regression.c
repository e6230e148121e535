/*
 * linear_regression.c — ordinary least squares and ridge regression.
 *
 * The fit makes one pass over the training matrix in row blocks.  Each block
 * is centred on its own (weighted) mean and its cross products X'X, X'y, y'y
 * are computed with BLAS (dsyrk, dgemv); the blocks are merged with the
 * pairwise update of Chan, Golub and LeVeque, so the sums stay accurate even
 * when the features are far from zero.  The normal equations
 * (X'X + alpha I) b = X'y are then solved with a Cholesky factorisation when
 * the matrix is well conditioned; otherwise (duplicated or constant columns,
 * near-collinearity) with the pseudo-inverse from the symmetric eigen
 * decomposition, which gives the minimum-norm least-squares solution.
 *
 * Sparse input (text features, TrainData.Xs): conjugate gradients on the
 * same normal equations with products by the CSR rows, never X'X
 * (linreg_fit_sparse).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include <cblas.h>

#include "miscadmin.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "algo/algo.h"
#include "algo/linalg.h"
#include "algo/sparse.h"
#include "algo/lapack.h"
#include "galaxy.h"
#include "model/model.h"

/* Target rows per block, and the bound on the block buffer (doubles). */
#define LINREG_BLOCK_ROWS	4096
#define LINREG_BLOCK_DOUBLES (1 << 20)

/* Cholesky is trusted when the reciprocal condition estimate is above this. */
#define LINREG_MIN_RCOND	1e-10

/* Eigenvalues below this fraction of the largest are treated as zero. */
#define LINREG_EIGEN_CUTOFF 1e-12

/* Hyperparameter indexes. */
enum
{
	HP_ALPHA = 0,
	HP_FIT_INTERCEPT,
	HP_SOLVER
};

static const HyperParamSpec linreg_params[] = {
	{"alpha", HP_FLOAT, 0.0, 0.0, 1e10, false, NULL,
	"L2 (ridge) penalty on the coefficients; 0 = ordinary least squares"},
	{"fit_intercept", HP_BOOL, 1.0, 0.0, 1.0, false, NULL,
	"fit an unpenalised intercept (the data are centred)"},
	{"solver", HP_ENUM, 0, 0, 0, false, "auto,in_memory,streaming",
	"in_memory: load the rows; streaming: one pass of parallel SQL aggregates over the relation (X'X); auto: streaming when the rows would exceed galaxy.max_training_memory or the table is distributed"},
};

typedef struct LinRegState
{
	int			n_features;
	double		intercept;
	double	   *coef;			/* n_features */
} LinRegState;

/*
 * Accumulate the moments of all rows, block by block.  With 'center' false
 * the products are taken about zero (no intercept).
 */
static void
accumulate_moments(const TrainData *d, bool center, GramMoments *m)
{
	int			p = d->n_features;
	int64		n = d->n_rows;
	int			block = LINREG_BLOCK_ROWS;
	double	   *buf;
	double	   *ybuf;
	double	   *wsqrt;
	double	   *bmean;
	double	   *delta;

	if (p > 0 && block > LINREG_BLOCK_DOUBLES / p)
		block = Max(LINREG_BLOCK_DOUBLES / p, 16);

	m->p = p;
	m->w = 0.0;
	m->ymean = 0.0;
	m->yy = 0.0;
	m->mean = alloc_doubles(p);
	m->xy = alloc_doubles(p);
	m->xx = alloc_doubles((Size) p * p);

	buf = alloc_doubles((Size) block * Max(p, 1));
	ybuf = alloc_doubles(block);
	wsqrt = alloc_doubles(block);
	bmean = alloc_doubles(p);
	delta = alloc_doubles(p);

	for (int64 start = 0; start < n; start += block)
	{
		int			b = (int) Min((int64) block, n - start);
		const double *X = d->X + start * p;
		const double *y = d->y + start;
		double		bw = 0.0,
					bymean = 0.0,
					byy = 0.0;

		CHECK_FOR_INTERRUPTS();

		/* block weights and weighted means */
		for (int i = 0; i < b; i++)
		{
			double		w = d->weight ? d->weight[start + i] : 1.0;

			if (!(w >= 0.0) || !isfinite(w))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("sample weight %g of row " INT64_FORMAT " is not a finite non-negative number",
								w, start + i + 1)));
			ybuf[i] = w;
			bw += w;
		}
		if (bw <= 0.0)
			continue;
		memset(bmean, 0, sizeof(double) * p);
		if (center)
		{
			if (p > 0)
				cblas_dgemv(CblasRowMajor, CblasTrans, b, p, 1.0 / bw, X, p,
							ybuf, 1, 0.0, bmean, 1);
			for (int i = 0; i < b; i++)
				bymean += ybuf[i] * y[i];
			bymean /= bw;
		}

		/* centred, sqrt(weight)-scaled copy of the block */
		for (int i = 0; i < b; i++)
		{
			double		s = sqrt(ybuf[i]);
			const double *x = X + (Size) i * p;
			double	   *o = buf + (Size) i * p;

			wsqrt[i] = s;
			for (int j = 0; j < p; j++)
				o[j] = s * (x[j] - bmean[j]);
		}
		for (int i = 0; i < b; i++)
		{
			ybuf[i] = wsqrt[i] * (y[i] - bymean);
			byy += ybuf[i] * ybuf[i];
		}

		if (p > 0)
		{
			cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, p, b,
						1.0, buf, p, 1.0, m->xx, p);
			cblas_dgemv(CblasRowMajor, CblasTrans, b, p, 1.0, buf, p,
						ybuf, 1, 1.0, m->xy, 1);
		}
		m->yy += byy;

		/* merge the block's means (pairwise update) */
		if (center)
		{
			double		tw = m->w + bw;
			double		f = m->w * bw / tw;
			double		dy = bymean - m->ymean;

			for (int j = 0; j < p; j++)
				delta[j] = bmean[j] - m->mean[j];
			if (m->w > 0.0)
			{
				if (p > 0)
					cblas_dsyr(CblasRowMajor, CblasUpper, p, f, delta, 1, m->xx, p);
				for (int j = 0; j < p; j++)
					m->xy[j] += f * delta[j] * dy;
				m->yy += f * dy * dy;
			}
			for (int j = 0; j < p; j++)
				m->mean[j] += delta[j] * (bw / tw);
			m->ymean += dy * (bw / tw);
		}
		m->w += bw;
	}

	/* mirror the upper triangle so the matrix is complete */
	for (int i = 0; i < p; i++)
		for (int j = 0; j < i; j++)
			m->xx[(Size) i * p + j] = m->xx[(Size) j * p + i];

	pfree(buf);
	pfree(ybuf);
	pfree(wsqrt);
	pfree(bmean);
	pfree(delta);
}

/*
 * Solve A x = b for symmetric positive semi-definite A (p x p, full).
 * Cholesky when well conditioned, else the eigen pseudo-inverse (minimum
 * norm).  A and b are left unchanged; returns true when the pseudo-inverse
 * was used, and the numerical rank in *rank.
 */
static bool
solve_spd(const double *A, const double *b, int p, double *x, int *rank)
{
	lapack_int	n = p;
	lapack_int	one = 1;
	lapack_int	info = 0;
	double	   *F = alloc_doubles((Size) p * p);
	double		anorm = 0.0;
	double		rcond = 0.0;
	bool		use_eigen = false;

	if (p == 0)
	{
		*rank = 0;
		return false;
	}

	memcpy(F, A, sizeof(double) * p * p);
	for (int j = 0; j < p; j++)
	{
		double		s = 0.0;

		for (int i = 0; i < p; i++)
			s += fabs(A[(Size) i * p + j]);
		anorm = Max(anorm, s);
	}

	dpotrf_("L", &n, F, &n, &info, 1);
	if (info != 0 || anorm == 0.0)
		use_eigen = true;
	else
	{
		double	   *work = alloc_doubles((Size) 3 * p);
		lapack_int *iwork = palloc(sizeof(lapack_int) * p);

		dpocon_("L", &n, F, &n, &anorm, &rcond, work, iwork, &info, 1);
		if (info != 0 || !(rcond >= LINREG_MIN_RCOND))
			use_eigen = true;
		pfree(work);
		pfree(iwork);
	}

	if (!use_eigen)
	{
		memcpy(x, b, sizeof(double) * p);
		dpotrs_("L", &n, &one, F, &n, x, &n, &info, 1);
		if (info != 0)
			elog(ERROR, "dpotrs failed with info %d", info);
		*rank = p;
	}
	else
	{
		double	   *ev = alloc_doubles(p);
		double		wq;
		lapack_int	iq;
		lapack_int	lwork = -1,
					liwork = -1;
		double	   *work;
		lapack_int *iwork;
		double		lmax,
					cut;
		int			r = 0;

		memcpy(F, A, sizeof(double) * p * p);
		dsyevd_("V", "L", &n, F, &n, ev, &wq, &lwork, &iq, &liwork, &info, 1, 1);
		if (info != 0)
			elog(ERROR, "dsyevd workspace query failed with info %d", info);
		lwork = (lapack_int) wq;
		liwork = iq;
		work = alloc_doubles(lwork);
		iwork = palloc(sizeof(lapack_int) * Max(liwork, 1));
		dsyevd_("V", "L", &n, F, &n, ev, work, &lwork, iwork, &liwork, &info, 1, 1);
		if (info != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("linear_regression: eigen decomposition of X'X did not converge (info %d)", info)));
		pfree(work);
		pfree(iwork);

		/* x = sum over kept eigenpairs of v (v'b) / lambda */
		memset(x, 0, sizeof(double) * p);
		lmax = ev[p - 1];
		cut = Max(lmax, 0.0) * LINREG_EIGEN_CUTOFF;
		for (int k = 0; k < p; k++)
		{
			const double *v = F + (Size) k * p;
			double		c;

			if (!(ev[k] > cut))
				continue;
			c = cblas_ddot(p, v, 1, b, 1) / ev[k];
			cblas_daxpy(p, c, v, 1, x, 1);
			r++;
		}
		*rank = r;
		pfree(ev);
	}
	pfree(F);
	return use_eigen;
}


/* Mean squared error of the model on n rows. */
static double
linreg_mse(const LinRegState *st, const double *X, const double *y, int64 n)
{
	double		sse = 0.0;
	int			p = st->n_features;

	for (int64 i = 0; i < n; i++)
	{
		double		v = st->intercept + dot_product(X + i * p, st->coef, p) - y[i];

		sse += v * v;
	}
	return n > 0 ? sse / n : get_float8_nan();
}

/* ERROR on a non-finite coefficient. */
static void
check_coefficients(const LinRegState *st)
{
	for (int j = 0; j < st->n_features; j++)
		if (!isfinite(st->coef[j]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("linear_regression produced a non-finite coefficient for feature %d", j + 1),
					 errhint("Scale the features or set a positive \"alpha\".")));
}

/* Rows per block of the sparse products. */
#define LINREG_SPARSE_BLOCK 65536

/* Most conjugate gradient steps of a sparse fit, and its relative tolerance. */
#define LINREG_CG_MAX_STEPS 2000
#define LINREG_CG_TOL		1e-10

/*
 * out (p) = M v for M = A' W A + alpha I, A = X - 1 m' the centred rows
 * (never formed), W the sample weights: out = X'(W (X v - m.v)) - m
 * sum(W (X v - m.v)) + alpha v.  Z is n scratch values.
 */
static void
sparse_normal_product(const SparseMatrix *X, const double *sw, const double *mean, double alpha,
					  const double *v, double *Z, double *out)
{
	int64		n = X->n_rows;
	int			p = X->n_cols;
	double		mv = 0.0;
	double		zs = 0.0;

	for (int j = 0; j < p; j++)
		mv += mean[j] * v[j];
	for (int64 r0 = 0; r0 < n; r0 += LINREG_SPARSE_BLOCK)
		sparse_mul_dense(X, r0, (int) Min((int64) LINREG_SPARSE_BLOCK, n - r0), v, 1, Z + r0);
	for (int64 i = 0; i < n; i++)
	{
		Z[i] = sw[i] * (Z[i] - mv);
		zs += Z[i];
	}
	for (int j = 0; j < p; j++)
		out[j] = alpha * v[j] - mean[j] * zs;
	for (int64 r0 = 0; r0 < n; r0 += LINREG_SPARSE_BLOCK)
		sparse_tmul_acc(X, r0, (int) Min((int64) LINREG_SPARSE_BLOCK, n - r0), Z + r0, 1, out);
}

/*
 * Fit OLS / ridge on CSR rows (text features): the normal equations
 * (A'WA + alpha I) b = A'W yc of the centred problem (A = X - 1 m', the
 * weighted means m, yc = y - mean(y)) by conjugate gradients from b = 0,
 * each step one product with X and one with X' (O(nnz + n + p)), so the
 * p x p matrix X'X of the dense fit is never formed.  Starting from zero,
 * CG stays in the row space of A: with alpha = 0 and more features than
 * rows it reaches the minimum-norm least-squares solution, as the dense
 * fit's pseudo-inverse does.
 */
static void *
linreg_fit_sparse(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	const SparseMatrix *X = d->Xs;
	int64		n = d->n_rows;
	int			p = X->n_cols;
	double		alpha = hp->values[HP_ALPHA];
	bool		fit_intercept = hp->values[HP_FIT_INTERCEPT] != 0.0;
	LinRegState *st;
	double	   *sw,
			   *mean,
			   *yc,
			   *Z,
			   *r,
			   *z,
			   *Mz;
	double		W,
				ymean = 0.0,
				rr,
				rr0,
				sse = 0.0;
	int			step;

	galaxy_check_training_memory(sizeof(double) * (3 * (Size) n + 6 * (Size) p),
								 "the conjugate gradient vectors of linear_regression");
	sw = alloc_doubles(n);
	W = algo_sample_weights("linear_regression", d, sw);
	for (int64 i = 0; i < n && fit_intercept; i++)
		ymean += sw[i] * d->y[i];
	ymean /= W;

	/* weighted column means (X' w / W), and the right-hand side A'W yc */
	mean = alloc_doubles(p);
	yc = alloc_doubles(n);
	Z = alloc_doubles(n);
	r = alloc_doubles(p);
	z = alloc_doubles(p);
	Mz = alloc_doubles(p);
	if (fit_intercept)
	{
		for (int64 r0 = 0; r0 < n; r0 += LINREG_SPARSE_BLOCK)
			sparse_tmul_acc(X, r0, (int) Min((int64) LINREG_SPARSE_BLOCK, n - r0), sw + r0, 1, mean);
		for (int j = 0; j < p; j++)
			mean[j] /= W;
	}
	{
		double		s = 0.0;

		for (int64 i = 0; i < n; i++)
		{
			yc[i] = d->y[i] - ymean;
			Z[i] = sw[i] * yc[i];
			s += Z[i];
		}
		for (int j = 0; j < p; j++)
			r[j] = -mean[j] * s;
		for (int64 r0 = 0; r0 < n; r0 += LINREG_SPARSE_BLOCK)
			sparse_tmul_acc(X, r0, (int) Min((int64) LINREG_SPARSE_BLOCK, n - r0), Z + r0, 1, r);
	}

	st = palloc0(sizeof(LinRegState));
	st->n_features = p;
	st->coef = alloc_doubles(p);
	memcpy(z, r, sizeof(double) * p);
	rr0 = rr = p > 0 ? dot_product(r, r, p) : 0.0;
	for (step = 1; step <= LINREG_CG_MAX_STEPS && rr > LINREG_CG_TOL * LINREG_CG_TOL * rr0; step++)
	{
		double		zMz,
					a,
					rr_new;

		CHECK_FOR_INTERRUPTS();
		sparse_normal_product(X, sw, mean, alpha, z, Z, Mz);
		zMz = dot_product(z, Mz, p);
		if (!(zMz > 0.0))
			break;				/* z in the null space: nothing left to fit */
		a = rr / zMz;
		for (int j = 0; j < p; j++)
		{
			st->coef[j] += a * z[j];
			r[j] -= a * Mz[j];
		}
		rr_new = dot_product(r, r, p);
		for (int j = 0; j < p; j++)
			z[j] = r[j] + (rr_new / rr) * z[j];
		rr = rr_new;
	}
	if (step > LINREG_CG_MAX_STEPS)
		ereport(DEBUG1,
				(errmsg("linear_regression: conjugate gradients stopped after %d steps (relative residual %g)",
						LINREG_CG_MAX_STEPS, sqrt(rr / Max(rr0, DBL_MIN)))));

	check_coefficients(st);
	st->intercept = fit_intercept ? ymean - dot_product(mean, st->coef, p) : 0.0;
	if (!isfinite(st->intercept))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("linear_regression produced a non-finite intercept")));

	/* the training loss */
	for (int64 r0 = 0; r0 < n; r0 += LINREG_SPARSE_BLOCK)
		sparse_mul_dense(X, r0, (int) Min((int64) LINREG_SPARSE_BLOCK, n - r0), st->coef, 1, Z + r0);
	for (int64 i = 0; i < n; i++)
	{
		double		e = d->y[i] - st->intercept - Z[i];

		sse += sw[i] * e * e;
	}
	fit_report_iteration(ctx, 1, 1, n, sse / W, get_float8_nan(), get_float8_nan(), get_float8_nan());

	pfree(sw);
	pfree(mean);
	pfree(yc);
	pfree(Z);
	pfree(r);
	pfree(z);
	pfree(Mz);
	return st;
}

/*
 * Solve (X'X + alpha I) b = X'y from the moments (centred when fitting an
 * intercept); *sse receives the training sum of squared errors.
 */
static LinRegState *
linreg_from_moments(const GramMoments *m, double alpha, bool fit_intercept, double *sse)
{
	int			p = m->p;
	LinRegState *st;
	double	   *A;
	double	   *gb;
	int			rank = p;
	bool		pinv;

	if (m->w <= 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("linear_regression: the sample weights sum to zero")));

	A = alloc_doubles((Size) p * p);
	memcpy(A, m->xx, sizeof(double) * p * p);
	for (int j = 0; j < p; j++)
		A[(Size) j * p + j] += alpha;

	st = palloc0(sizeof(LinRegState));
	st->n_features = p;
	st->coef = alloc_doubles(p);
	pinv = solve_spd(A, m->xy, p, st->coef, &rank);
	check_coefficients(st);
	st->intercept = fit_intercept ? m->ymean - cblas_ddot(p, m->mean, 1, st->coef, 1) : 0.0;
	if (!isfinite(st->intercept))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("linear_regression produced a non-finite intercept")));
	if (pinv && rank < p)
		ereport(DEBUG1,
				(errmsg("linear_regression: X'X has rank %d of %d; using the minimum-norm solution",
						rank, p)));

	/* training loss from the moments: y'y - 2 b'X'y + b'X'X b */
	gb = alloc_doubles(p);
	if (p > 0)
		cblas_dsymv(CblasRowMajor, CblasUpper, p, 1.0, m->xx, p, st->coef, 1, 0.0, gb, 1);
	*sse = Max(m->yy - 2.0 * cblas_ddot(p, st->coef, 1, m->xy, 1) + cblas_ddot(p, st->coef, 1, gb, 1), 0.0);
	pfree(A);
	pfree(gb);
	return st;
}

/* Fit OLS / ridge on the training data. */
static void *
linreg_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	int			p = d->n_features;
	double		alpha = hp->values[HP_ALPHA];
	bool		fit_intercept = hp->values[HP_FIT_INTERCEPT] != 0.0;
	LinRegState *st;
	GramMoments m;
	double		sse;
	ProgressInfo info;

	if (d->task != TASK_REGRESSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("linear_regression supports only the regression task, not %s",
						galaxy_task_name(d->task))));
	if (d->n_rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("linear_regression needs at least one training row")));
	if (d->Xs)
		return linreg_fit_sparse(d, hp, ctx);

	/* X'X, its solve and the eigen fallback each hold a p x p matrix */
	galaxy_check_training_memory((Size) 3 * sizeof(double) * p * p,
								 "the X'X matrices of linear_regression");
	/* X'X of n rows */
	galaxy_apply_blas_threads_for((double) d->n_rows * p * p / 2);

	accumulate_moments(d, fit_intercept, &m);
	st = linreg_from_moments(&m, alpha, fit_intercept, &sse);

	memset(&info, 0, sizeof(info));
	info.phase = "fit";
	info.iteration = 1;
	info.total = 1;
	info.rows = d->n_rows;
	info.loss = sse / m.w;
	info.val_loss = d->n_val > 0 ? linreg_mse(st, d->X_val, d->y_val, d->n_val) : get_float8_nan();
	info.metric = get_float8_nan();
	info.learning_rate = get_float8_nan();
	fit_report(ctx, &info);

	pfree(m.mean);
	pfree(m.xx);
	pfree(m.xy);
	return st;
}

/*
 * Fit OLS / ridge from the moments of the (preprocessed) training rows,
 * computed elsewhere: the streaming solver's sufficient statistics
 * (src/scale/stream.c).
 */
static void *
linreg_fit_gram(const GramMoments *m, const HyperParams *hp, const FitContext *ctx)
{
	double		sse;
	LinRegState *st;

	galaxy_check_training_memory((Size) 3 * sizeof(double) * m->p * m->p,
								 "the X'X matrices of linear_regression");
	/* the solve of a p x p system (a streamed fit's only BLAS work) */
	galaxy_apply_blas_threads_for((double) m->p * m->p * m->p);
	st = linreg_from_moments(m, hp->values[HP_ALPHA], hp->values[HP_FIT_INTERCEPT] != 0.0, &sse);
	fit_report_iteration(ctx, 1, 1, (int64) m->w, sse / m->w, get_float8_nan(),
						 get_float8_nan(), get_float8_nan());
	return st;
}

/* Coefficients and intercept of OLS / ridge on given moments (galaxy.moments_ols). */
void
linreg_solve_moments(const GramMoments *m, double alpha, bool fit_intercept,
					 double *coef, double *intercept)
{
	double		sse;
	LinRegState *st = linreg_from_moments(m, alpha, fit_intercept, &sse);

	memcpy(coef, st->coef, sizeof(double) * m->p);
	*intercept = st->intercept;
	pfree(st->coef);
	pfree(st);
}

/* Predicted values: intercept + x . coef. */
static void
linreg_predict(const void *state, const double *X, int64 n, double *out)
{
	const LinRegState *st = state;
	int			p = st->n_features;

	for (int64 i = 0; i < n; i++)
		out[i] = st->intercept + dot_product(X + i * p, st->coef, p);
}

/* Predicted values of CSR rows. */
static void
linreg_predict_sparse(const void *state, const SparseMatrix *X, double *out)
{
	const LinRegState *st = state;

	for (int64 i = 0; i < X->n_rows; i++)
		out[i] = st->intercept + sparse_row_dot(X, i, st->coef);
}

/* Write the coefficients. */
static void
linreg_serialize(const void *state, ModelWriter *w)
{
	const LinRegState *st = state;

	mw_tag(w, "LINR");
	mw_u32(w, (uint32) st->n_features);
	mw_f64(w, st->intercept);
	mw_f64s(w, st->coef, st->n_features);
}

/* Read and validate the coefficients. */
static void *
linreg_deserialize(ModelReader *r, int n_features, int n_classes, GalaxyTask task)
{
	LinRegState *st;
	uint32		p;

	if (task != TASK_REGRESSION)
		mr_corrupt("linear_regression model with task %d", (int) task);
	if (n_features < 0 || n_features > MODEL_MAX_FEATURES)
		mr_corrupt("linear_regression feature count %d out of range", n_features);
	mr_tag(r, "LINR");
	p = mr_count(r, MODEL_MAX_FEATURES, sizeof(double), "linear_regression coefficient");
	if ((int) p != n_features)
		mr_corrupt("linear_regression has %u coefficients for %d features", p, n_features);
	st = palloc0(sizeof(LinRegState));
	st->n_features = (int) p;
	st->intercept = mr_f64_finite(r, "linear_regression intercept");
	st->coef = alloc_doubles(p);
	for (uint32 j = 0; j < p; j++)
		st->coef[j] = mr_f64_finite(r, "linear_regression coefficient");
	return st;
}

/* Importance of a feature: the absolute value of its coefficient. */
static void
linreg_feature_importance(const void *state, double *out)
{
	const LinRegState *st = state;

	for (int j = 0; j < st->n_features; j++)
		out[j] = fabs(st->coef[j]);
}

const AlgorithmDef galaxy_algo_linear_regression = {
	.name = "linear_regression",
	.id = 1,
	.tasks = TASK_BIT(TASK_REGRESSION),
	.params = linreg_params,
	.n_params = lengthof(linreg_params),
	.default_scaling = true,
	.description = "Ordinary least squares / ridge regression solved exactly from X'X (Cholesky, eigen pseudo-inverse when rank deficient)",
	.fit = linreg_fit,
	.predict = linreg_predict,
	.predict_proba = NULL,
	.serialize = linreg_serialize,
	.deserialize = linreg_deserialize,
	.feature_importance = linreg_feature_importance,
	.sparse_input = true,
	.predict_sparse = linreg_predict_sparse,
	.fit_gram = linreg_fit_gram,
};
