/*
 * logistic_regression.c — L2-regularised logistic regression: a sigmoid
 * model for two classes, multinomial softmax for more.
 *
 * Like scikit-learn's lbfgs solver it minimises
 *
 *     sum_i s_i * logloss_i(W, b)  +  ||W||^2 / (2 C)
 *
 * (s_i = sample weight times class weight; the intercept b is not
 * penalised), with a limited-memory BFGS of our own (memory 10) and a line
 * search that enforces the Armijo condition and extrapolates while the slope
 * is still steep (weak Wolfe).  It stops when the largest gradient component
 * is at most tol, when the objective stops decreasing (relative change below
 * scipy's default factr * eps), or after max_iter iterations.
 *
 * Every evaluation of the loss and gradient is one pass over the training
 * matrix in row blocks: the scores of a block come from dgemv/dgemm, and
 * the gradient is accumulated with the transposed product while the block is
 * still in cache.  Memory beyond the data is O(block * classes).
 *
 * Sparse input (text features, TrainData.Xs): the same objective over CSR
 * rows; the weights are then kept feature-major (the outputs' weights of a
 * feature side by side, so a row's non-zeros each touch one short run) and
 * transposed into the stored class-major layout at the end.
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
#include "algo/quant.h"
#include "algo/sparse.h"
#include "galaxy.h"
#include "model/model.h"
#include "util/jsonb_build.h"

/* Rows per block, and the bound on block-buffer doubles. */
#define LOGREG_BLOCK_ROWS	2048
#define LOGREG_BLOCK_DOUBLES (1 << 19)

/* L-BFGS settings. */
#define LBFGS_MEMORY		10
#define LBFGS_MAX_LINESEARCH 20
#define LBFGS_ARMIJO		1e-4
#define LBFGS_WOLFE			0.9
/* scipy's L-BFGS-B default relative reduction threshold (factr 1e7 * eps) */
#define LBFGS_FTOL			(1e7 * DBL_EPSILON)

/* Hyperparameter indexes. */
enum
{
	HP_C = 0,
	HP_MAX_ITER,
	HP_TOL,
	HP_CLASS_WEIGHT,
	HP_FIT_INTERCEPT,
	HP_SOLVER
};

/* Choices of class_weight. */
enum
{
	CLASS_WEIGHT_NONE = 0,
	CLASS_WEIGHT_BALANCED = 1
};

static const HyperParamSpec logreg_params[] = {
	{"C", HP_FLOAT, 1.0, 0.0, 1e10, true, NULL,
	"inverse of the L2 regularisation strength (smaller = stronger)"},
	{"max_iter", HP_INT, 100, 1, 100000, false, NULL,
	"maximum number of L-BFGS iterations"},
	{"tol", HP_FLOAT, 1e-4, 0.0, 1.0, true, NULL,
	"stop when the largest gradient component is at most tol"},
	{"class_weight", HP_ENUM, CLASS_WEIGHT_NONE, 0, 0, false, "none,balanced",
	"balanced: weight classes by n / (n_classes * class count)"},
	{"fit_intercept", HP_BOOL, 1.0, 0.0, 1.0, false, NULL,
	"fit an unpenalised intercept per class"},
	{"solver", HP_ENUM, 0, 0, 0, false, "auto,in_memory,streaming",
	"in_memory: load the rows (L-BFGS); streaming: Newton passes of parallel SQL aggregates over the relation (two classes, numeric and boolean features); auto: streaming when the rows would exceed galaxy.max_training_memory or the table is distributed"},
};

typedef struct LogRegState
{
	int			n_features;
	int			n_classes;
	int			n_outputs;		/* 1 for binary (sigmoid), else n_classes */
	double	   *coef;			/* n_outputs x n_features, row-major (NULL when quantised) */
	double	   *intercept;		/* n_outputs */
	QuantMatrix *qcoef;			/* galaxy.compress int8: the coefficients in int8, or NULL */
	bool		pruned;			/* galaxy.compress prune: coef stored sparse */
} LogRegState;

/* The optimisation problem: data, weights and scratch space. */
typedef struct LogRegProblem
{
	const TrainData *d;
	const SparseMatrix *Xs;		/* CSR rows (d->Xs), or NULL: dense d->X */
	int			p;
	int			k;				/* classes */
	int			kk;				/* outputs: 1 or k */
	bool		fit_intercept;
	double		inv_c;			/* 1 / C */
	const double *sw;			/* n_rows sample weights (algo_sample_weights) */
	const double *class_w;		/* k class weights, or NULL */
	int			block;
	double	   *Z;				/* block x kk scores */
	double		wsum;			/* sum of the row weights */
	Size		n_params;
} LogRegProblem;

/*
 * log(1 + e) for e in [0, 1]: glibc's log1p is markedly slower than log,
 * and log(1 + e) is exact enough here except for tiny e (series instead).
 */
static inline double
log1p_unit(double e)
{
	if (e < 1e-5)
		return e * (1.0 - e * (0.5 - e / 3.0));
	return log(1.0 + e);
}

/*
 * Scores of rows X[0..b) into Z (b x kk): Z = X W' + intercept; with
 * sparse rows (Xs non-NULL), rows r0 .. r0 + b of Xs and W feature-major.
 */
static void
block_scores(const LogRegProblem *pr, const double *W, const double *icpt,
			 const double *X, const SparseMatrix *Xs, int64 r0, int b, double *Z)
{
	int			p = pr->p;
	int			kk = pr->kk;

	if (Xs)
		sparse_mul_dense(Xs, r0, b, W, kk, Z);
	else if (p > 0)
	{
		if (kk == 1)
			cblas_dgemv(CblasRowMajor, CblasNoTrans, b, p, 1.0, X, p, W, 1, 0.0, Z, 1);
		else
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, kk, p,
						1.0, X, p, W, p, 0.0, Z, kk);
	}
	else
		memset(Z, 0, sizeof(double) * b * kk);
	if (icpt)
		for (int i = 0; i < b; i++)
			for (int c = 0; c < kk; c++)
				Z[(Size) i * kk + c] += icpt[c];
}

/*
 * Log loss of one row from its scores; with 'resid' set, also store
 * d loss / d score (probabilities minus the one-hot target) there.
 */
static inline double
row_loss(const double *z, int kk, int cls, double *resid)
{
	if (kk == 1)
	{
		/* one exp serves both the loss and the probability */
		double		zz = z[0];
		double		e = exp(-fabs(zz));
		double		margin = (cls == 1) ? -zz : zz;
		double		loss = Max(margin, 0.0) + log1p_unit(e);

		if (resid)
		{
			double		prob = (zz >= 0.0) ? 1.0 / (1.0 + e) : e / (1.0 + e);

			resid[0] = prob - (cls == 1 ? 1.0 : 0.0);
		}
		return loss;
	}
	else
	{
		double		m = z[0];
		double		s = 0.0;
		double		lse;
		double		loss;

		for (int c = 1; c < kk; c++)
			m = Max(m, z[c]);
		for (int c = 0; c < kk; c++)
			s += exp(z[c] - m);
		lse = m + log(s);
		loss = lse - z[cls];
		/* resid may alias z: compute the loss first */
		if (resid)
		{
			for (int c = 0; c < kk; c++)
				resid[c] = exp(z[c] - lse);
			resid[cls] -= 1.0;
		}
		return loss;
	}
}

/* Weight of training row i. */
static inline double
row_weight(const LogRegProblem *pr, int64 i, int cls)
{
	double		w = pr->sw[i];

	if (pr->class_w)
		w *= pr->class_w[cls];
	return w;
}

/*
 * Objective and gradient at theta (W then intercepts).  Returns the
 * objective; *data_loss gets the weighted log-loss sum.
 */
static double
logreg_eval(LogRegProblem *pr, const double *theta, double *grad, double *data_loss)
{
	const TrainData *d = pr->d;
	int			p = pr->p;
	int			kk = pr->kk;
	const double *W = theta;
	const double *icpt = pr->fit_intercept ? theta + (Size) kk * p : NULL;
	double	   *gW = grad;
	double	   *gb = pr->fit_intercept ? grad + (Size) kk * p : NULL;
	double		loss = 0.0;
	double		pen = 0.0;

	memset(grad, 0, sizeof(double) * pr->n_params);
	for (int64 start = 0; start < d->n_rows; start += pr->block)
	{
		int			b = (int) Min((int64) pr->block, d->n_rows - start);
		const double *X = pr->Xs ? NULL : d->X + start * p;
		double	   *Z = pr->Z;

		CHECK_FOR_INTERRUPTS();
		block_scores(pr, W, icpt, X, pr->Xs, start, b, Z);
		for (int i = 0; i < b; i++)
		{
			int			cls = (int) d->y[start + i];
			double		w = row_weight(pr, start + i, cls);
			double	   *z = Z + (Size) i * kk;

			loss += w * row_loss(z, kk, cls, z);
			for (int c = 0; c < kk; c++)
				z[c] *= w;
			if (gb)
				for (int c = 0; c < kk; c++)
					gb[c] += z[c];
		}
		if (pr->Xs)
			sparse_tmul_acc(pr->Xs, start, b, Z, kk, gW);
		else if (p > 0)
		{
			if (kk == 1)
				cblas_dgemv(CblasRowMajor, CblasTrans, b, p, 1.0, X, p, Z, 1, 1.0, gW, 1);
			else
				cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kk, p, b,
							1.0, Z, kk, X, p, 1.0, gW, p);
		}
	}
	for (Size j = 0; j < (Size) kk * p; j++)
	{
		pen += W[j] * W[j];
		gW[j] += pr->inv_c * W[j];
	}
	*data_loss = loss;
	return loss + 0.5 * pr->inv_c * pen;
}

/* Mean (unweighted) log loss of theta on other rows (dense Xv or sparse Xsv), e.g. the validation split. */
static double
logreg_mean_loss(LogRegProblem *pr, const double *theta, const double *Xv, const SparseMatrix *Xsv,
				 const double *yv, int64 n)
{
	int			p = pr->p;
	int			kk = pr->kk;
	const double *icpt = pr->fit_intercept ? theta + (Size) kk * p : NULL;
	double		loss = 0.0;

	for (int64 start = 0; start < n; start += pr->block)
	{
		int			b = (int) Min((int64) pr->block, n - start);

		CHECK_FOR_INTERRUPTS();
		block_scores(pr, theta, icpt, Xsv ? NULL : Xv + start * p, Xsv, start, b, pr->Z);
		for (int i = 0; i < b; i++)
		{
			double		v = yv[start + i];

			/* a class the model does not know cannot be scored */
			if (!(v >= 0.0 && v < pr->k))
				return get_float8_nan();
			loss += row_loss(pr->Z + (Size) i * kk, kk, (int) v, NULL);
		}
	}
	return n > 0 ? loss / n : get_float8_nan();
}

/* Largest absolute component of a vector. */
static double
max_abs(const double *v, Size n)
{
	double		m = 0.0;

	for (Size i = 0; i < n; i++)
		m = Max(m, fabs(v[i]));
	return m;
}

/* L-BFGS state: the memory of (s, y) pairs and the work vectors, n doubles each. */
typedef struct Lbfgs
{
	Size		n;
	int			m;				/* pairs remembered */
	double	   *S;				/* m x n steps s */
	double	   *Y;				/* m x n gradient changes y */
	double	   *rho;			/* m: 1 / s'y */
	double	   *alpha;			/* m */
	int			n_pairs;
	int			head;			/* next memory slot to overwrite */
	double	   *g;				/* gradient at theta */
	double	   *dir;			/* search direction */
	double	   *x_new;			/* trial point and its gradient */
	double	   *g_new;
	double	   *x_best;			/* best steep point of the line search */
	double	   *g_best;
	int			n_evals;		/* loss evaluations */
} Lbfgs;

/*
 * dir = -H g by the two-loop recursion over the memory.  When that is not a
 * descent direction, forget the memory and go downhill.  Returns g'dir (< 0).
 */
static double
lbfgs_direction(Lbfgs *lb)
{
	Size		n = lb->n;
	int			m = lb->m;
	double	   *g = lb->g;
	double	   *dir = lb->dir;
	double		gd;

	for (Size j = 0; j < n; j++)
		dir[j] = -g[j];
	for (int t = 0; t < lb->n_pairs; t++)
	{
		int			s = (lb->head - 1 - t + m) % m;

		lb->alpha[s] = lb->rho[s] * cblas_ddot(n, lb->S + (Size) s * n, 1, dir, 1);
		cblas_daxpy(n, -lb->alpha[s], lb->Y + (Size) s * n, 1, dir, 1);
	}
	if (lb->n_pairs > 0)
	{
		int			s = (lb->head - 1 + m) % m;
		double		yy = cblas_ddot(n, lb->Y + (Size) s * n, 1, lb->Y + (Size) s * n, 1);

		cblas_dscal(n, 1.0 / (lb->rho[s] * yy), dir, 1);
	}
	for (int t = lb->n_pairs - 1; t >= 0; t--)
	{
		int			s = (lb->head - 1 - t + m) % m;
		double		beta = lb->rho[s] * cblas_ddot(n, lb->Y + (Size) s * n, 1, dir, 1);

		cblas_daxpy(n, lb->alpha[s] - beta, lb->S + (Size) s * n, 1, dir, 1);
	}

	gd = cblas_ddot(n, g, 1, dir, 1);
	if (!(gd < 0.0) || !isfinite(gd))
	{
		/* not a descent direction: forget the history, go downhill */
		lb->n_pairs = 0;
		for (Size j = 0; j < n; j++)
			dir[j] = -g[j];
		gd = -cblas_ddot(n, g, 1, g, 1);
	}
	return gd;
}

/*
 * Line search from theta (objective f, data loss data_loss) along lb->dir,
 * whose slope is gd < 0, starting at *step: Armijo, extrapolating while the
 * slope stays steep (weak Wolfe).  On success returns true with the point in
 * lb->x_new and lb->g_new, its objective in *f_new, its data loss in
 * *data_new and its step in *step; false when no step decreased f.
 */
static bool
lbfgs_line_search(LogRegProblem *pr, Lbfgs *lb, const double *theta, double f, double data_loss,
				  double gd, double *step_io, double *f_new_out, double *data_new_out)
{
	Size		n = lb->n;
	double		step = *step_io;
	double		lo = 0.0,
				hi = 0.0;
	double		f_new = f,
				data_new = data_loss;
	double		f_best = f,
				data_best = data_loss,
				step_best = 0.0;
	bool		accepted = false;
	bool		have_best = false;

	for (int ls = 0; ls < LBFGS_MAX_LINESEARCH; ls++)
	{
		double		gd_new;

		for (Size j = 0; j < n; j++)
			lb->x_new[j] = theta[j] + step * lb->dir[j];
		f_new = logreg_eval(pr, lb->x_new, lb->g_new, &data_new);
		lb->n_evals++;

		if (!isfinite(f_new) || f_new > f + LBFGS_ARMIJO * step * gd)
		{
			/* too far: shrink (quadratic interpolation, safeguarded) */
			hi = step;
			if (lo == 0.0)
			{
				double		q = -gd * step * step / (2.0 * (f_new - f - gd * step));

				if (!isfinite(q))
					q = 0.5 * hi;
				step = Min(Max(q, 0.1 * hi), 0.5 * hi);
			}
			else
				step = 0.5 * (lo + hi);
			continue;
		}
		gd_new = cblas_ddot(n, lb->g_new, 1, lb->dir, 1);
		if (gd_new >= LBFGS_WOLFE * gd)
		{
			accepted = true;
			break;
		}

		/* sufficient decrease but still steep: remember it, go further */
		if (!have_best || f_new < f_best)
		{
			memcpy(lb->x_best, lb->x_new, sizeof(double) * n);
			memcpy(lb->g_best, lb->g_new, sizeof(double) * n);
			f_best = f_new;
			data_best = data_new;
			step_best = step;
			have_best = true;
		}
		lo = step;
		step = (hi > 0.0) ? 0.5 * (lo + hi) : 4.0 * step;
	}
	if (!accepted && have_best)
	{
		memcpy(lb->x_new, lb->x_best, sizeof(double) * n);
		memcpy(lb->g_new, lb->g_best, sizeof(double) * n);
		f_new = f_best;
		data_new = data_best;
		step = step_best;
		accepted = true;
	}
	*step_io = step;
	*f_new_out = f_new;
	*data_new_out = data_new;
	return accepted;
}

/*
 * Update the memory with s = x_new - theta, y = g_new - g, kept only when
 * the curvature s'y is clearly positive.
 */
static void
lbfgs_remember(Lbfgs *lb, const double *theta)
{
	Size		n = lb->n;
	double	   *s = lb->S + (Size) lb->head * n;
	double	   *y = lb->Y + (Size) lb->head * n;
	double		sy;

	for (Size j = 0; j < n; j++)
	{
		s[j] = lb->x_new[j] - theta[j];
		y[j] = lb->g_new[j] - lb->g[j];
	}
	sy = cblas_ddot(n, s, 1, y, 1);
	if (sy > DBL_EPSILON * cblas_ddot(n, y, 1, y, 1))
	{
		lb->rho[lb->head] = 1.0 / sy;
		lb->head = (lb->head + 1) % lb->m;
		lb->n_pairs = Min(lb->n_pairs + 1, lb->m);
	}
}

/*
 * Minimise the objective with L-BFGS from theta (updated in place).
 * Returns the number of iterations run.
 */
static int
lbfgs_minimize(LogRegProblem *pr, double *theta, int max_iter, double tol,
			   const FitContext *ctx)
{
	Size		n = pr->n_params;
	Lbfgs		lb;
	int			iter;
	const char *reason = "max_iter reached";
	double		data_loss;
	double		f;

	memset(&lb, 0, sizeof(lb));
	lb.n = n;
	lb.m = LBFGS_MEMORY;
	lb.S = alloc_doubles(n * lb.m);
	lb.Y = alloc_doubles(n * lb.m);
	lb.rho = palloc0(sizeof(double) * lb.m);
	lb.alpha = palloc0(sizeof(double) * lb.m);
	lb.g = alloc_doubles(n);
	lb.dir = alloc_doubles(n);
	lb.x_new = alloc_doubles(n);
	lb.g_new = alloc_doubles(n);
	lb.x_best = alloc_doubles(n);
	lb.g_best = alloc_doubles(n);
	lb.n_evals = 1;

	f = logreg_eval(pr, theta, lb.g, &data_loss);

	for (iter = 1; iter <= max_iter; iter++)
	{
		double		gd;
		double		step;
		double		f_new,
					data_new;
		double		f_old;

		CHECK_FOR_INTERRUPTS();
		if (max_abs(lb.g, n) <= tol)
		{
			reason = "gradient below tol";
			break;
		}

		gd = lbfgs_direction(&lb);
		/* first step (or after a reset): unit length, as L-BFGS-B does */
		step = (lb.n_pairs == 0) ? Min(1.0, 1.0 / sqrt(-gd)) : 1.0;
		if (!lbfgs_line_search(pr, &lb, theta, f, data_loss, gd, &step, &f_new, &data_new))
		{
			reason = "line search found no decrease";
			break;
		}
		lbfgs_remember(&lb, theta);

		f_old = f;
		memcpy(theta, lb.x_new, sizeof(double) * n);
		memcpy(lb.g, lb.g_new, sizeof(double) * n);
		f = f_new;
		data_loss = data_new;

		fit_report_iteration(ctx, iter, max_iter, pr->d->n_rows, data_loss / pr->wsum,
							 pr->d->n_val > 0 && (pr->Xs ? pr->d->Xs_val != NULL : pr->d->X_val != NULL) ?
							 logreg_mean_loss(pr, theta, pr->d->X_val, pr->Xs ? pr->d->Xs_val : NULL,
											  pr->d->y_val, pr->d->n_val) :
							 get_float8_nan(),
							 get_float8_nan(), step);

		/* the objective no longer moves (scipy's factr test) */
		if (f_old - f <= LBFGS_FTOL * Max(Max(fabs(f_old), fabs(f)), 1.0))
		{
			reason = "objective converged";
			break;
		}
	}
	ereport(DEBUG1,
			(errmsg("logistic_regression: L-BFGS stopped after %d iterations and %d loss evaluations: %s",
					Min(iter, max_iter), lb.n_evals, reason)));

	pfree(lb.S);
	pfree(lb.Y);
	pfree(lb.rho);
	pfree(lb.alpha);
	pfree(lb.g);
	pfree(lb.dir);
	pfree(lb.x_new);
	pfree(lb.g_new);
	pfree(lb.x_best);
	pfree(lb.g_best);
	return Min(iter, max_iter);
}

/* Fit binary or multinomial logistic regression. */
static void *
logreg_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	LogRegProblem pr;
	LogRegState *st;
	int			p = d->n_features;
	int			k = d->n_classes;
	int			kk;
	double		C = hp->values[HP_C];
	int			max_iter = (int) hp->values[HP_MAX_ITER];
	double		tol = hp->values[HP_TOL];
	bool		balanced = (int) hp->values[HP_CLASS_WEIGHT] == CLASS_WEIGHT_BALANCED;
	int64	   *counts;
	double	   *class_w = NULL;
	double	   *theta;
	double	   *sw;
	double		wsum = 0.0;
	Size		work;

	if (d->task != TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logistic_regression supports only the classification task, not %s",
						galaxy_task_name(d->task))));
	if (k < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logistic_regression needs at least two classes, got %d", k)));
	if (d->n_rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logistic_regression needs at least one training row")));
	kk = (k == 2) ? 1 : k;

	/* check labels; count classes */
	counts = palloc0(sizeof(int64) * k);
	for (int64 i = 0; i < d->n_rows; i++)
	{
		double		v = d->y[i];

		if (!(v >= 0.0 && v < k) || v != floor(v))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("class index %g of training row " INT64_FORMAT " is not in 0..%d",
							v, i + 1, k - 1)));
		counts[(int) v]++;
	}
	/* the sample weights, checked once (as every algorithm does) */
	galaxy_check_training_memory(sizeof(double) * (Size) d->n_rows, "the sample weights of logistic_regression");
	sw = alloc_doubles(d->n_rows);
	algo_sample_weights("logistic_regression", d, sw);
	if (balanced)
	{
		int			present = 0;

		for (int c = 0; c < k; c++)
			if (counts[c] > 0)
				present++;
		class_w = palloc0(sizeof(double) * k);
		for (int c = 0; c < k; c++)
			class_w[c] = counts[c] > 0 ? (double) d->n_rows / ((double) present * counts[c]) : 0.0;
	}

	memset(&pr, 0, sizeof(pr));
	pr.d = d;
	pr.Xs = d->Xs;
	pr.p = p;
	pr.k = k;
	pr.kk = kk;
	pr.fit_intercept = hp->values[HP_FIT_INTERCEPT] != 0.0;
	pr.inv_c = 1.0 / C;
	pr.sw = sw;
	pr.class_w = class_w;
	pr.n_params = (Size) kk * p + (pr.fit_intercept ? kk : 0);
	pr.block = LOGREG_BLOCK_ROWS;
	if (pr.block > LOGREG_BLOCK_DOUBLES / kk)
		pr.block = Max(LOGREG_BLOCK_DOUBLES / kk, 1);

	for (int64 i = 0; i < d->n_rows; i++)
		wsum += row_weight(&pr, i, (int) d->y[i]);
	if (!(wsum > 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logistic_regression: the sample weights sum to zero")));
	pr.wsum = wsum;

	/* L-BFGS memory (2 x 10 vectors), six work vectors, the score block */
	work = sizeof(double) * (pr.n_params * (2 * LBFGS_MEMORY + 7) + (Size) pr.block * kk);
	galaxy_check_training_memory(work, "the L-BFGS state of logistic_regression");
	pr.Z = alloc_doubles((Size) pr.block * kk);

	/* by the largest product: a block of scores */
	galaxy_apply_blas_threads_for((double) pr.block * p * kk);
	theta = alloc_doubles(pr.n_params);
	lbfgs_minimize(&pr, theta, max_iter, tol, ctx);

	for (Size j = 0; j < pr.n_params; j++)
		if (!isfinite(theta[j]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("logistic_regression diverged (non-finite coefficient)"),
					 errhint("Scale the features or lower \"C\".")));

	st = palloc0(sizeof(LogRegState));
	st->n_features = p;
	st->n_classes = k;
	st->n_outputs = kk;
	st->coef = theta;
	if (pr.Xs && kk > 1)
	{
		/* sparse rows were fitted feature-major: store class-major */
		st->coef = alloc_doubles((Size) kk * p);
		for (int j = 0; j < p; j++)
			for (int c = 0; c < kk; c++)
				st->coef[(Size) c * p + j] = theta[(Size) j * kk + c];
	}
	st->intercept = alloc_doubles(kk);
	if (pr.fit_intercept)
		memcpy(st->intercept, theta + (Size) kk * p, sizeof(double) * kk);

	pfree(pr.Z);
	pfree(sw);
	pfree(counts);
	if (class_w)
		pfree(class_w);
	return st;
}

/*
 * A binary model from its coefficients (p, in the preprocessed space) and
 * intercept: the streaming solver's (scale/stream_logistic.c), in the
 * current memory context.
 */
void *
logreg_binary_state(int p, const double *coef, double intercept)
{
	LogRegState *st = palloc0(sizeof(LogRegState));

	st->n_features = p;
	st->n_classes = 2;
	st->n_outputs = 1;
	st->coef = alloc_doubles(Max(p, 1));
	memcpy(st->coef, coef, sizeof(double) * p);
	st->intercept = alloc_doubles(1);
	st->intercept[0] = intercept;
	return st;
}

/*
 * A model of k classes from its coefficients (o x p, class-major, in the
 * preprocessed space; o = 1 output for two classes, else k) and its o
 * intercepts: the streaming solver's multinomial fit and its scores
 * (scale/stream_logistic.c, scale/passes_sql.c), in the current memory
 * context.
 */
void *
logreg_state_from_coef(int p, int k, const double *coef, const double *intercept)
{
	int			kk = k == 2 ? 1 : k;
	LogRegState *st = palloc0(sizeof(LogRegState));

	st->n_features = p;
	st->n_classes = k;
	st->n_outputs = kk;
	st->coef = alloc_doubles(Max((Size) kk * p, 1));
	memcpy(st->coef, coef, sizeof(double) * kk * p);
	st->intercept = alloc_doubles(kk);
	memcpy(st->intercept, intercept, sizeof(double) * kk);
	return st;
}

/* Scores of up to this many outputs live on the stack while predicting. */
#define SCORE_STACK 64

/*
 * Scores of one row: z = W x + b.  A quantised model quantises the row into
 * qx (n_features bytes, the caller's) and runs the int8 kernel.
 */
static inline void
row_scores(const LogRegState *st, const double *x, double *z, int8 *qx)
{
	int			p = st->n_features;

	if (st->qcoef)
	{
		quant_gemv(st->qcoef, qx, quant_input_f64(x, p, qx), z);
		for (int c = 0; c < st->n_outputs; c++)
			z[c] += st->intercept[c];
		return;
	}
	for (int c = 0; c < st->n_outputs; c++)
		z[c] = st->intercept[c] + dot_product(st->coef + (Size) c * p, x, p);
}

/* Scratch for row_scores: a quantised row, or NULL for a float model. */
static int8 *
row_scratch(const LogRegState *st)
{
	return st->qcoef ? palloc(st->n_features) : NULL;
}

/* Coefficient j of output c, whether stored in float64 or int8. */
static inline double
coef_at(const LogRegState *st, int c, int j)
{
	return st->qcoef ? quant_value(st->qcoef, c, j) : st->coef[(Size) c * st->n_features + j];
}

/* Predicted class indexes. */
static void
logreg_predict(const void *state, const double *X, int64 n, double *out)
{
	const LogRegState *st = state;
	int			p = st->n_features;
	int			kk = st->n_outputs;
	double		zbuf[SCORE_STACK];
	double	   *z = kk <= SCORE_STACK ? zbuf : palloc(sizeof(double) * kk);
	int8	   *qx = row_scratch(st);

	for (int64 i = 0; i < n; i++)
	{
		row_scores(st, X + i * p, z, qx);
		if (kk == 1)
			out[i] = z[0] > 0.0 ? 1.0 : 0.0;
		else
			out[i] = vec_argmax(z, kk);
	}
	if (z != zbuf)
		pfree(z);
	if (qx)
		pfree(qx);
}

/* Class probabilities, n x n_classes. */
static void
logreg_predict_proba(const void *state, const double *X, int64 n, double *out)
{
	const LogRegState *st = state;
	int			p = st->n_features;
	int			k = st->n_classes;
	int			kk = st->n_outputs;
	double		zbuf[SCORE_STACK];
	double	   *z = kk <= SCORE_STACK ? zbuf : palloc(sizeof(double) * kk);
	int8	   *qx = row_scratch(st);

	for (int64 i = 0; i < n; i++)
	{
		double	   *o = out + i * k;

		row_scores(st, X + i * p, z, qx);
		if (kk == 1)
		{
			o[1] = logistic(z[0]);
			o[0] = logistic(-z[0]);
		}
		else
		{
			double		m = z[0];

			for (int c = 1; c < kk; c++)
				m = Max(m, z[c]);
			vec_exp_normalise(z, kk, m, o);
		}
	}
	if (z != zbuf)
		pfree(z);
	if (qx)
		pfree(qx);
}

/* Scores of CSR row i: z = W x + b. */
static inline void
row_scores_sparse(const LogRegState *st, const SparseMatrix *X, int64 i, double *z)
{
	int			p = st->n_features;

	for (int c = 0; c < st->n_outputs; c++)
		z[c] = st->intercept[c];
	if (st->qcoef)
	{
		/* int8 weights: each entry times its weight, then the output's scale */
		for (int c = 0; c < st->n_outputs; c++)
		{
			const int8 *w = st->qcoef->q + (Size) c * p;
			double		s = 0.0;

			for (int64 q = X->indptr[i]; q < X->indptr[i + 1]; q++)
				s += X->values[q] * (double) w[X->indices[q]];
			z[c] += s * (double) st->qcoef->scale[c];
		}
		return;
	}
	for (int64 q = X->indptr[i]; q < X->indptr[i + 1]; q++)
	{
		const double *w = st->coef + X->indices[q];
		double		v = X->values[q];

		for (int c = 0; c < st->n_outputs; c++)
			z[c] += v * w[(Size) c * p];
	}
}

/* Predicted class indexes of CSR rows. */
static void
logreg_predict_sparse(const void *state, const SparseMatrix *X, double *out)
{
	const LogRegState *st = state;
	int			kk = st->n_outputs;
	double		zbuf[SCORE_STACK];
	double	   *z = kk <= SCORE_STACK ? zbuf : palloc(sizeof(double) * kk);

	for (int64 i = 0; i < X->n_rows; i++)
	{
		row_scores_sparse(st, X, i, z);
		out[i] = kk == 1 ? (z[0] > 0.0 ? 1.0 : 0.0) : vec_argmax(z, kk);
	}
	if (z != zbuf)
		pfree(z);
}

/* Class probabilities of CSR rows, n x n_classes. */
static void
logreg_predict_proba_sparse(const void *state, const SparseMatrix *X, double *out)
{
	const LogRegState *st = state;
	int			k = st->n_classes;
	int			kk = st->n_outputs;
	double		zbuf[SCORE_STACK];
	double	   *z = kk <= SCORE_STACK ? zbuf : palloc(sizeof(double) * kk);

	for (int64 i = 0; i < X->n_rows; i++)
	{
		double	   *o = out + i * k;

		row_scores_sparse(st, X, i, z);
		if (kk == 1)
		{
			o[1] = logistic(z[0]);
			o[0] = logistic(-z[0]);
		}
		else
			vec_exp_normalise(z, kk, z[vec_argmax(z, kk)], o);
	}
	if (z != zbuf)
		pfree(z);
}

/* Write the coefficients. */
static void
logreg_serialize(const void *state, ModelWriter *w)
{
	const LogRegState *st = state;

	/* int8 or pruned sparse coefficients (format 2, galaxy.compress), or float64 ones */
	mw_tag(w, st->qcoef ? "LOGQ" : (st->pruned ? "LOGP" : "LOGR"));
	mw_u32(w, (uint32) st->n_classes);
	mw_u32(w, (uint32) st->n_features);
	mw_f64s(w, st->intercept, st->n_outputs);
	if (st->qcoef)
		quant_write(st->qcoef, w);
	else if (st->pruned)
		sparse_write_f64(st->coef, (Size) st->n_outputs * st->n_features, w);
	else
		mw_f64s(w, st->coef, (Size) st->n_outputs * st->n_features);
}

/* Read and validate the coefficients. */
static void *
logreg_deserialize(ModelReader *r, int n_features, int n_classes, GalaxyTask task)
{
	LogRegState *st;
	uint32		k,
				p;
	int			kk;
	uint64		total;
	bool		quantised = mr_peek_tag(r, "LOGQ");
	bool		pruned = mr_peek_tag(r, "LOGP");

	if (task != TASK_CLASSIFICATION)
		mr_corrupt("logistic_regression model with task %d", (int) task);
	if (n_classes < 2 || n_classes > MODEL_MAX_CLASSES)
		mr_corrupt("logistic_regression class count %d out of range", n_classes);
	if (n_features < 0 || n_features > MODEL_MAX_FEATURES)
		mr_corrupt("logistic_regression feature count %d out of range", n_features);
	if ((quantised || pruned) && r->format < MODEL_FORMAT_QUANT)
		mr_corrupt("logistic_regression compressed coefficients in a format %u model", r->format);
	mr_tag(r, quantised ? "LOGQ" : (pruned ? "LOGP" : "LOGR"));
	k = mr_count(r, MODEL_MAX_CLASSES, 0, "logistic_regression class");
	p = mr_count(r, MODEL_MAX_FEATURES, 0, "logistic_regression feature");
	if ((int) k != n_classes || (int) p != n_features)
		mr_corrupt("logistic_regression state for %u classes x %u features, header says %d x %d",
				   k, p, n_classes, n_features);
	kk = (k == 2) ? 1 : (int) k;
	total = (quantised || pruned) ? (uint64) kk : (uint64) kk * ((uint64) p + 1);
	if (total > mr_remaining(r) / sizeof(double))
		mr_corrupt("logistic_regression coefficients truncated");

	st = palloc0(sizeof(LogRegState));
	st->n_features = (int) p;
	st->n_classes = (int) k;
	st->n_outputs = kk;
	st->intercept = alloc_doubles(kk);
	for (int c = 0; c < kk; c++)
		st->intercept[c] = mr_f64_finite(r, "logistic_regression intercept");
	if (quantised)
	{
		st->qcoef = quant_read(r, kk, (int) p, "logistic_regression int8 coefficients");
		return st;
	}
	/* sparse coefficients: their bitmap must be present before they are allocated */
	if (pruned && SPARSE_MIN_BYTES((uint64) kk * p) > mr_remaining(r))
		mr_corrupt("logistic_regression pruned coefficients: %d x %u do not fit in the bytes left", kk, p);
	st->coef = alloc_doubles((Size) kk * p);
	if (pruned)
	{
		st->pruned = true;
		sparse_read_f64(r, st->coef, (Size) kk * p, "logistic_regression pruned coefficients");
		return st;
	}
	for (Size j = 0; j < (Size) kk * p; j++)
		st->coef[j] = mr_f64_finite(r, "logistic_regression coefficient");
	return st;
}

/* Importance of a feature: its mean absolute coefficient over the outputs. */
static void
logreg_feature_importance(const void *state, double *out)
{
	const LogRegState *st = state;
	double	   *coef = st->coef;

	if (st->qcoef)
	{
		coef = alloc_doubles((Size) st->n_outputs * st->n_features);
		for (int c = 0; c < st->n_outputs; c++)
			for (int j = 0; j < st->n_features; j++)
				coef[(Size) c * st->n_features + j] = coef_at(st, c, j);
	}
	coef_importance(coef, st->n_outputs, st->n_features, out);
	if (coef != st->coef)
		pfree(coef);
}

/*
 * galaxy.compress: a copy with the coefficients quantised per class
 * ('int8'), or with the smallest of them zero and stored sparse ('prune').
 */
static void *
logreg_compress(const void *state, const CompressOptions *opt, uint16 *format)
{
	const LogRegState *st = state;
	LogRegState *c = palloc0(sizeof(LogRegState));
	Size		n = (Size) st->n_outputs * st->n_features;

	if (st->qcoef || st->pruned)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the logistic_regression model is compressed already (%s)",
						st->qcoef ? "int8" : "pruned")));
	*c = *st;
	c->intercept = alloc_doubles(st->n_outputs);
	memcpy(c->intercept, st->intercept, sizeof(double) * st->n_outputs);
	if (strcmp(opt->method, "prune") == 0)
	{
		c->coef = alloc_doubles(n);
		memcpy(c->coef, st->coef, sizeof(double) * n);
		(void) prune_magnitude_f64(c->coef, n, opt->sparsity);
		c->pruned = true;
	}
	else
	{
		c->qcoef = quant_from_f64(st->coef, st->n_outputs, st->n_features);
		c->coef = NULL;
	}
	*format = MODEL_FORMAT_QUANT;
	return c;
}

/* Terms galaxy.describe() lists per class and text input. */
#define LOGREG_TOP_TERMS 10

/*
 * describe(): for every text input with a vocabulary, the terms that weigh
 * most for each class (largest coefficients; for two classes, class 0 gets
 * the most negative ones), in the order of the model's labels.
 */
static void
logreg_describe(const void *state, const Preprocessor *prep, JsonbParseState **st)
{
	const LogRegState *lr = state;
	bool		any = false;

	if (prep == NULL || !preprocess_is_sparse(prep))
		return;
	for (int i = 0; i < preprocess_n_inputs(prep); i++)
	{
		const InputColumn *in = preprocess_input(prep, i);
		int			first,
					n;
		int			prefix = strlen(in->name) + 1;

		preprocess_input_features(prep, i, &first, &n);
		/* a vocabulary's features are named input:term (hash buckets input#hN) */
		if (in->kind != INPUT_TEXT || n == 0 ||
			strncmp(preprocess_feature_name(prep, first), in->name, prefix - 1) != 0 ||
			preprocess_feature_name(prep, first)[prefix - 1] != ':')
			continue;
		if (!any)
		{
			jb_key(st, "top_terms");
			pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
			any = true;
		}
		jb_key(st, in->name);
		pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
		for (int c = 0; c < lr->n_classes; c++)
		{
			/* class c's weight of feature j: binary models have one output, for class 1 */
			int			out = lr->n_outputs == 1 ? 0 : c;
			double		sign = (lr->n_outputs == 1 && c == 0) ? -1.0 : 1.0;
			int			top[LOGREG_TOP_TERMS];
			int			ntop = 0;

			for (int j = first; j < first + n; j++)
			{
				double		w = sign * coef_at(lr, out, j);
				int			pos = ntop;

				if (!(w > 0.0))
					continue;
				/* keep the LOGREG_TOP_TERMS largest, in descending order */
				while (pos > 0 && w > sign * coef_at(lr, out, top[pos - 1]))
					pos--;
				if (pos >= LOGREG_TOP_TERMS)
					continue;
				if (ntop < LOGREG_TOP_TERMS)
					ntop++;
				memmove(top + pos + 1, top + pos, sizeof(int) * (ntop - 1 - pos));
				top[pos] = j;
			}
			pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
			for (int t = 0; t < ntop; t++)
				jb_str(st, WJB_ELEM, preprocess_feature_name(prep, top[t]) + prefix);
			pushJsonbValue(st, WJB_END_ARRAY, NULL);
		}
		pushJsonbValue(st, WJB_END_ARRAY, NULL);
	}
	if (any)
		pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

const AlgorithmDef galaxy_algo_logistic_regression = {
	.name = "logistic_regression",
	.id = 2,
	.tasks = TASK_BIT(TASK_CLASSIFICATION),
	.params = logreg_params,
	.n_params = lengthof(logreg_params),
	.default_scaling = true,
	.description = "L2-regularised logistic regression (sigmoid for two classes, multinomial softmax for more), L-BFGS",
	.fit = logreg_fit,
	.predict = logreg_predict,
	.predict_proba = logreg_predict_proba,
	.serialize = logreg_serialize,
	.deserialize = logreg_deserialize,
	.feature_importance = logreg_feature_importance,
	.describe = logreg_describe,
	.sparse_input = true,
	.predict_sparse = logreg_predict_sparse,
	.predict_proba_sparse = logreg_predict_proba_sparse,
	.compress_methods = "int8,prune",
	.compress = logreg_compress,
};
