/*
 * linear_svm.c — linear support vector classification (binary, and
 * one-vs-rest for more classes) with probabilities by Platt scaling.
 *
 * Each binary problem (labels y_i = +1 / -1) minimises, as scikit-learn's
 * LinearSVC (liblinear) does,
 *
 *     ||w||^2 / 2 + C sum_i s_i loss(y_i (w x_i + b))
 *
 * with loss = max(0, 1 - m)^2 (squared hinge, the default) or max(0, 1 - m)
 * (hinge), s_i the sample weight.  The intercept b is the weight of a
 * constant feature of value 1 and so is penalised like the others (liblinear's
 * intercept_scaling = 1).
 *
 * Solver: dual coordinate descent (Hsieh et al., ICML 2008, liblinear's
 * solve_l2r_l1l2_svc without shrinking).  The dual variables alpha_i live in
 * [0, U_i] (U_i = C s_i for hinge, unbounded for squared hinge, which adds
 * alpha_i / (2 C s_i) to the gradient); each one is set to its exact
 * minimiser in turn, in an order shuffled every sweep by the request's seed,
 * while w = sum_i alpha_i y_i x_i is kept up to date.  A sweep ends the fit
 * when the spread of the projected gradients is at most tol.  There is no
 * step size and no line search, so the method cannot diverge.
 *
 * Sparse input (text features, TrainData.Xs): the same solver over CSR
 * rows, each update touching the row's non-zeros only.
 *
 * Probabilities: for every binary problem a sigmoid 1 / (1 + exp(A f + B)) of
 * its decision value f is fitted on the training rows by Newton's method with
 * backtracking (Platt 2000, in the form of Lin, Lin and Weng 2007, with
 * Platt's smoothed targets).  With more than two classes the one-vs-rest
 * sigmoids are normalised to sum to one.
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
#include "util/rng.h"

/* Hyperparameter indexes. */
enum
{
	HP_C = 0,
	HP_LOSS,
	HP_MAX_ITER,
	HP_TOL,
	HP_FIT_INTERCEPT
};

/* Choices of loss. */
enum
{
	SVM_LOSS_SQUARED_HINGE = 0,
	SVM_LOSS_HINGE = 1
};

static const HyperParamSpec svm_params[] = {
	{"C", HP_FLOAT, 1.0, 0.0, 1e10, true, NULL,
	"weight of the loss against the L2 penalty (smaller = stronger regularisation)"},
	{"loss", HP_ENUM, SVM_LOSS_SQUARED_HINGE, 0, 0, false, "squared_hinge,hinge",
	"squared_hinge: max(0, 1 - margin)^2 (as LinearSVC); hinge: max(0, 1 - margin)"},
	{"max_iter", HP_INT, 1000, 1, 1000000, false, NULL,
	"maximum number of dual coordinate descent sweeps per binary problem"},
	{"tol", HP_FLOAT, 1e-4, 0.0, 1.0, true, NULL,
	"stop when the projected gradients of a sweep spread by at most tol"},
	{"fit_intercept", HP_BOOL, 1.0, 0.0, 1.0, false, NULL,
	"fit an intercept (a constant feature of value 1, penalised like the others)"},
};

/* Platt's Newton iterations and step bounds. */
#define PLATT_MAX_ITER	100
#define PLATT_MIN_STEP	1e-10
#define PLATT_SIGMA		1e-12
#define PLATT_EPS		1e-5

typedef struct SvmState
{
	int			n_features;
	int			n_classes;
	int			n_outputs;		/* 1 for two classes, else n_classes */
	double	   *coef;			/* n_outputs x n_features */
	double	   *intercept;		/* n_outputs */
	double	   *platt_a;		/* n_outputs: P(positive) = 1 / (1 + exp(A f + B)) */
	double	   *platt_b;
} SvmState;


/* Platt's negative log likelihood of the sigmoid (A, B) on decision values f and targets t. */
static double
platt_nll(const double *f, const double *t, int64 n, double a, double b)
{
	double		v = 0.0;

	for (int64 i = 0; i < n; i++)
	{
		double		z = f[i] * a + b;

		if (z >= 0.0)
			v += t[i] * z + log1p(exp(-z));
		else
			v += (t[i] - 1.0) * z + log1p(exp(z));
	}
	return v;
}

/*
 * Fit Platt's sigmoid to decision values f (n rows, y_pos true for the
 * positive ones) into *a and *b.
 */
static void
platt_fit(const double *f, const bool *y_pos, const bool *use, int64 n, double *a_out, double *b_out)
{
	double		prior1 = 0.0,
				prior0 = 0.0;
	double		hi,
				lo;
	double	   *t;
	double	   *ff;
	int64		m = 0;
	double		a = 0.0,
				b;
	double		fval;

	t = alloc_doubles(n);
	ff = alloc_doubles(n);
	for (int64 i = 0; i < n; i++)
		if (use[i])
		{
			if (y_pos[i])
				prior1 += 1.0;
			else
				prior0 += 1.0;
		}
	hi = (prior1 + 1.0) / (prior1 + 2.0);
	lo = 1.0 / (prior0 + 2.0);
	for (int64 i = 0; i < n; i++)
		if (use[i])
		{
			ff[m] = f[i];
			t[m] = y_pos[i] ? hi : lo;
			m++;
		}
	b = log((prior0 + 1.0) / (prior1 + 1.0));
	fval = platt_nll(ff, t, m, a, b);

	for (int it = 0; it < PLATT_MAX_ITER; it++)
	{
		double		h11 = PLATT_SIGMA,
					h22 = PLATT_SIGMA,
					h21 = 0.0,
					g1 = 0.0,
					g2 = 0.0;
		double		det,
					da,
					db,
					gd,
					step;

		CHECK_FOR_INTERRUPTS();
		for (int64 i = 0; i < m; i++)
		{
			double		z = ff[i] * a + b;
			double		p,
						q,
						d2,
						d1;

			if (z >= 0.0)
			{
				double		e = exp(-z);

				p = e / (1.0 + e);
				q = 1.0 / (1.0 + e);
			}
			else
			{
				double		e = exp(z);

				p = 1.0 / (1.0 + e);
				q = e / (1.0 + e);
			}
			d2 = p * q;
			h11 += ff[i] * ff[i] * d2;
			h22 += d2;
			h21 += ff[i] * d2;
			d1 = t[i] - p;
			g1 += ff[i] * d1;
			g2 += d1;
		}
		if (fabs(g1) < PLATT_EPS && fabs(g2) < PLATT_EPS)
			break;
		det = h11 * h22 - h21 * h21;
		if (!(det > 0.0) || !isfinite(det))
			break;
		da = -(h22 * g1 - h21 * g2) / det;
		db = -(-h21 * g1 + h11 * g2) / det;
		gd = g1 * da + g2 * db;
		for (step = 1.0; step >= PLATT_MIN_STEP; step /= 2.0)
		{
			double		na = a + step * da;
			double		nb = b + step * db;
			double		nf = platt_nll(ff, t, m, na, nb);

			if (nf < fval + 1e-4 * step * gd)
			{
				a = na;
				b = nb;
				fval = nf;
				break;
			}
		}
		if (step < PLATT_MIN_STEP)
			break;
	}
	if (!isfinite(a) || !isfinite(b))
	{
		a = -1.0;
		b = 0.0;
	}
	*a_out = a;
	*b_out = b;
	pfree(t);
	pfree(ff);
}

/* Training row i times w: dense or sparse. */
static inline double
row_dot(const TrainData *d, int64 i, const double *w)
{
	if (d->Xs)
		return sparse_row_dot(d->Xs, i, w);
	return dot_product(w, d->X + i * d->n_features, d->n_features);
}

/* w += step times training row i: dense or sparse. */
static inline void
row_axpy(const TrainData *d, int64 i, double step, double *w)
{
	if (d->Xs)
	{
		for (int64 q = d->Xs->indptr[i]; q < d->Xs->indptr[i + 1]; q++)
			w[d->Xs->indices[q]] += step * d->Xs->values[q];
	}
	else
	{
		const double *x = d->X + i * d->n_features;

		for (int j = 0; j < d->n_features; j++)
			w[j] += step * x[j];
	}
}

/* Squared norm of training row i. */
static inline double
row_norm2(const TrainData *d, int64 i)
{
	double		s = 0.0;

	if (d->Xs)
	{
		for (int64 q = d->Xs->indptr[i]; q < d->Xs->indptr[i + 1]; q++)
			s += d->Xs->values[q] * d->Xs->values[q];
		return s;
	}
	return dot_product(d->X + i * d->n_features, d->X + i * d->n_features, d->n_features);
}

/*
 * Solve one binary problem (positive: class index 'pos') by dual coordinate
 * descent into w (p) and *bias, row i weighing sw[i] (rows of weight 0
 * are left out).  Reports each sweep as iteration
 * iter_base + sweep.
 */
static void
svm_solve_binary(const TrainData *d, const double *sw, int pos, double C, int loss, int max_iter,
				 double tol, double bias_x, const double *qd_x, GalaxyRng *rng, int64 *order,
				 double *alpha, double *w, double *bias, int iter_base, int iter_total,
				 const FitContext *ctx)
{
	int			p = d->n_features;
	int64		n = d->n_rows;
	int64		n_active = 0;
	int			sweep;

	memset(w, 0, sizeof(double) * p);
	*bias = 0.0;
	for (int64 i = 0; i < n; i++)
	{
		alpha[i] = 0.0;
		if (sw[i] > 0.0)
			order[n_active++] = i;
	}

	for (sweep = 1; sweep <= max_iter; sweep++)
	{
		double		pg_max = -DBL_MAX,
					pg_min = DBL_MAX;

		CHECK_FOR_INTERRUPTS();
		galaxy_rng_shuffle(rng, order, n_active);
		for (int64 k = 0; k < n_active; k++)
		{
			int64		i = order[k];
			double		yi = ((int) d->y[i] == pos) ? 1.0 : -1.0;
			double		ci = C * sw[i];
			double		diag = (loss == SVM_LOSS_SQUARED_HINGE) ? 0.5 / ci : 0.0;
			double		upper = (loss == SVM_LOSS_SQUARED_HINGE) ? DBL_MAX : ci;
			double		g,
						pg = 0.0,
						qd = qd_x[i] + diag;

			g = yi * (row_dot(d, i, w) + *bias * bias_x) - 1.0 + diag * alpha[i];
			if (alpha[i] == 0.0)
				pg = Min(g, 0.0);
			else if (alpha[i] >= upper)
				pg = Max(g, 0.0);
			else
				pg = g;
			pg_max = Max(pg_max, pg);
			pg_min = Min(pg_min, pg);
			if (fabs(pg) > 1e-12 && qd > 0.0)
			{
				double		old = alpha[i];
				double		step;

				alpha[i] = Min(Max(old - g / qd, 0.0), upper);
				step = (alpha[i] - old) * yi;
				if (step != 0.0)
				{
					row_axpy(d, i, step, w);
					*bias += step * bias_x;
				}
			}
		}
		fit_report_iteration(ctx, iter_base + sweep, iter_total, n_active,
							 get_float8_nan(), get_float8_nan(),
							 n_active > 0 ? pg_max - pg_min : 0.0, get_float8_nan());
		if (n_active == 0 || pg_max - pg_min <= tol)
			break;
	}
	if (sweep > max_iter)
		ereport(DEBUG1,
				(errmsg("linear_svm: dual coordinate descent for class %d did not converge in %d sweeps",
						pos, max_iter)));
	*bias *= bias_x;
}

/* Fit binary or one-vs-rest linear SVM with Platt scaling. */
static void *
svm_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	int			p = d->n_features;
	int64		n = d->n_rows;
	int			k = d->n_classes;
	int			kk;
	double		C = hp->values[HP_C];
	int			loss = (int) hp->values[HP_LOSS];
	int			max_iter = (int) hp->values[HP_MAX_ITER];
	double		tol = hp->values[HP_TOL];
	double		bias_x = hp->values[HP_FIT_INTERCEPT] != 0.0 ? 1.0 : 0.0;
	SvmState   *st;
	double	   *qd_x;
	double	   *alpha;
	double	   *sw;
	double	   *f;
	bool	   *y_pos;
	bool	   *use;
	int64	   *order;
	GalaxyRng	rng;

	if (d->task != TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("linear_svm supports only the classification task, not %s",
						galaxy_task_name(d->task))));
	if (k < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("linear_svm needs at least two classes, got %d", k)));
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("linear_svm needs at least one training row")));
	kk = (k == 2) ? 1 : k;

	galaxy_check_training_memory(sizeof(double) * (5 * (Size) n + (Size) kk * (p + 4)),
								 "the dual variables of linear_svm");

	for (int64 i = 0; i < n; i++)
	{
		double		v = d->y[i];

		if (!(v >= 0.0 && v < k) || v != floor(v))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("class index %g of training row " INT64_FORMAT " is not in 0..%d",
							v, i + 1, k - 1)));
	}
	/* the sample weights, checked once (as every algorithm does) */
	sw = alloc_doubles(n);
	algo_sample_weights("linear_svm", d, sw);

	st = palloc0(sizeof(SvmState));
	st->n_features = p;
	st->n_classes = k;
	st->n_outputs = kk;
	st->coef = alloc_doubles((Size) kk * p);
	st->intercept = alloc_doubles(kk);
	st->platt_a = alloc_doubles(kk);
	st->platt_b = alloc_doubles(kk);

	qd_x = alloc_doubles(n);
	alpha = alloc_doubles(n);
	f = alloc_doubles(n);
	y_pos = palloc0(sizeof(bool) * Max(n, 1));
	use = palloc0(sizeof(bool) * Max(n, 1));
	order = palloc0(sizeof(int64) * Max(n, 1));
	for (int64 i = 0; i < n; i++)
	{
		qd_x[i] = row_norm2(d, i) + bias_x * bias_x;
		use[i] = sw[i] > 0.0;
	}

	for (int c = 0; c < kk; c++)
	{
		int			pos = (kk == 1) ? 1 : c;
		double	   *w = st->coef + (Size) c * p;

		galaxy_rng_seed(&rng, ctx ? ctx->seed : 0, (uint64) c);
		svm_solve_binary(d, sw, pos, C, loss, max_iter, tol, bias_x, qd_x, &rng, order,
						 alpha, w, &st->intercept[c],
						 (int) Min((int64) c * max_iter, (int64) INT_MAX / 2),
						 (int) Min((int64) kk * max_iter, (int64) INT_MAX / 2), ctx);
		for (int j = 0; j < p; j++)
			if (!isfinite(w[j]))
				ereport(ERROR,
						(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
						 errmsg("linear_svm produced a non-finite coefficient"),
						 errhint("Scale the features or lower \"C\".")));
		for (int64 i = 0; i < n; i++)
		{
			f[i] = st->intercept[c] + row_dot(d, i, w);
			y_pos[i] = (int) d->y[i] == pos;
		}
		platt_fit(f, y_pos, use, n, &st->platt_a[c], &st->platt_b[c]);
	}

	pfree(qd_x);
	pfree(alpha);
	pfree(sw);
	pfree(f);
	pfree(y_pos);
	pfree(use);
	pfree(order);
	return st;
}

/* Scores of up to this many outputs live on the stack while predicting. */
#define SVM_SCORE_STACK 64

/* Decision values of one row. */
static inline void
svm_scores(const SvmState *st, const double *x, double *z)
{
	int			p = st->n_features;

	for (int c = 0; c < st->n_outputs; c++)
		z[c] = st->intercept[c] + dot_product(st->coef + (Size) c * p, x, p);
}

/* Decision values of CSR row i. */
static inline void
svm_scores_sparse(const SvmState *st, const SparseMatrix *X, int64 i, double *z)
{
	int			p = st->n_features;

	for (int c = 0; c < st->n_outputs; c++)
		z[c] = st->intercept[c] + sparse_row_dot(X, i, st->coef + (Size) c * p);
}

/* The class of decision values z: the sign, or the largest one-vs-rest value. */
static inline double
svm_class(const SvmState *st, const double *z)
{
	return (st->n_outputs == 1) ? (z[0] > 0.0 ? 1.0 : 0.0) : vec_argmax(z, st->n_outputs);
}

/* Platt-calibrated probabilities o (n_classes) of decision values z. */
static void
svm_proba(const SvmState *st, const double *z, double *o)
{
	int			kk = st->n_outputs;

	if (kk == 1)
	{
		o[1] = logistic(-(st->platt_a[0] * z[0] + st->platt_b[0]));
		o[0] = 1.0 - o[1];
	}
	else
	{
		double		sum = 0.0;

		for (int c = 0; c < kk; c++)
		{
			o[c] = logistic(-(st->platt_a[c] * z[c] + st->platt_b[c]));
			sum += o[c];
		}
		for (int c = 0; c < kk; c++)
			o[c] = sum > 0.0 ? o[c] / sum : 1.0 / kk;
	}
}

/* Predicted classes (dense rows X, or CSR rows Xs), or probabilities when proba is set. */
static void
svm_predict_rows(const SvmState *st, const double *X, const SparseMatrix *Xs, int64 n,
				 double *out, double *proba)
{
	int			kk = st->n_outputs;
	double		zbuf[SVM_SCORE_STACK];
	double	   *z = kk <= SVM_SCORE_STACK ? zbuf : palloc(sizeof(double) * kk);

	for (int64 i = 0; i < n; i++)
	{
		if (Xs)
			svm_scores_sparse(st, Xs, i, z);
		else
			svm_scores(st, X + i * st->n_features, z);
		if (proba)
			svm_proba(st, z, proba + i * st->n_classes);
		else
			out[i] = svm_class(st, z);
	}
	if (z != zbuf)
		pfree(z);
}

/* Predicted class: the sign of the decision value, or the largest one-vs-rest value. */
static void
svm_predict(const void *state, const double *X, int64 n, double *out)
{
	svm_predict_rows(state, X, NULL, n, out, NULL);
}

/* Platt-calibrated probabilities, n x n_classes. */
static void
svm_predict_proba(const void *state, const double *X, int64 n, double *out)
{
	svm_predict_rows(state, X, NULL, n, NULL, out);
}

/* Predicted classes of CSR rows. */
static void
svm_predict_sparse(const void *state, const SparseMatrix *X, double *out)
{
	svm_predict_rows(state, NULL, X, X->n_rows, out, NULL);
}

/* Probabilities of CSR rows. */
static void
svm_predict_proba_sparse(const void *state, const SparseMatrix *X, double *out)
{
	svm_predict_rows(state, NULL, X, X->n_rows, NULL, out);
}

/* Write the coefficients and the sigmoids. */
static void
svm_serialize(const void *state, ModelWriter *w)
{
	const SvmState *st = state;

	mw_tag(w, "LSVM");
	mw_u32(w, (uint32) st->n_classes);
	mw_u32(w, (uint32) st->n_features);
	mw_f64s(w, st->intercept, st->n_outputs);
	mw_f64s(w, st->platt_a, st->n_outputs);
	mw_f64s(w, st->platt_b, st->n_outputs);
	mw_f64s(w, st->coef, (Size) st->n_outputs * st->n_features);
}

/* Read and validate the coefficients and the sigmoids. */
static void *
svm_deserialize(ModelReader *r, int n_features, int n_classes, GalaxyTask task)
{
	SvmState   *st;
	uint32		k,
				p;
	int			kk;

	if (task != TASK_CLASSIFICATION)
		mr_corrupt("linear_svm model with task %d", (int) task);
	if (n_classes < 2 || n_classes > MODEL_MAX_CLASSES)
		mr_corrupt("linear_svm class count %d out of range", n_classes);
	if (n_features < 0 || n_features > MODEL_MAX_FEATURES)
		mr_corrupt("linear_svm feature count %d out of range", n_features);
	mr_tag(r, "LSVM");
	k = mr_count(r, MODEL_MAX_CLASSES, 0, "linear_svm class");
	p = mr_count(r, MODEL_MAX_FEATURES, 0, "linear_svm feature");
	if ((int) k != n_classes || (int) p != n_features)
		mr_corrupt("linear_svm state for %u classes x %u features, header says %d x %d",
				   k, p, n_classes, n_features);
	kk = (k == 2) ? 1 : (int) k;
	if ((uint64) kk * ((uint64) p + 3) > mr_remaining(r) / sizeof(double))
		mr_corrupt("linear_svm coefficients truncated");

	st = palloc0(sizeof(SvmState));
	st->n_features = (int) p;
	st->n_classes = (int) k;
	st->n_outputs = kk;
	st->intercept = alloc_doubles(kk);
	st->platt_a = alloc_doubles(kk);
	st->platt_b = alloc_doubles(kk);
	st->coef = alloc_doubles((Size) kk * p);
	for (int c = 0; c < kk; c++)
		st->intercept[c] = mr_f64_finite(r, "linear_svm intercept");
	for (int c = 0; c < kk; c++)
		st->platt_a[c] = mr_f64_finite(r, "linear_svm Platt slope");
	for (int c = 0; c < kk; c++)
		st->platt_b[c] = mr_f64_finite(r, "linear_svm Platt offset");
	for (Size j = 0; j < (Size) kk * p; j++)
		st->coef[j] = mr_f64_finite(r, "linear_svm coefficient");
	return st;
}

/* Importance of a feature: its mean absolute coefficient over the outputs. */
static void
svm_feature_importance(const void *state, double *out)
{
	const SvmState *st = state;

	coef_importance(st->coef, st->n_outputs, st->n_features, out);
}

const AlgorithmDef galaxy_algo_linear_svm = {
	.name = "linear_svm",
	.id = 14,
	.tasks = TASK_BIT(TASK_CLASSIFICATION),
	.params = svm_params,
	.n_params = lengthof(svm_params),
	.default_scaling = true,
	.description = "Linear SVM (squared hinge or hinge, L2), dual coordinate descent, one-vs-rest; Platt-scaled probabilities",
	.fit = svm_fit,
	.predict = svm_predict,
	.predict_proba = svm_predict_proba,
	.serialize = svm_serialize,
	.deserialize = svm_deserialize,
	.feature_importance = svm_feature_importance,
	.sparse_input = true,
	.predict_sparse = svm_predict_sparse,
	.predict_proba_sparse = svm_predict_proba_sparse,
};
