/*
 * naive_bayes.c — naive Bayes classifiers: Gaussian (numeric features),
 * multinomial (counts) and Bernoulli (binary features), as scikit-learn's
 * GaussianNB, MultinomialNB and BernoulliNB compute them.
 *
 * Every fit is one pass over the training rows that sums, per class, the
 * (weighted) row count and per feature the values (and for the Gaussian
 * model the squares, about a running mean: Welford's update per class).
 *
 *   gaussian:    log P(x | c) = sum_j log N(x_j; mean_cj, var_cj), where
 *                var_cj gets var_smoothing times the largest feature variance
 *                added, so constant features do not divide by zero;
 *   multinomial: log P(x | c) = sum_j x_j log theta_cj,
 *                theta_cj = (count_cj + alpha) / (sum_j count_cj + alpha p);
 *                features must be non-negative (counts or frequencies);
 *   bernoulli:   x_j is binarised (x_j > binarize) and
 *                log P(x | c) = sum_j b_j log q_cj + (1 - b_j) log (1 - q_cj),
 *                q_cj = (count_cj + alpha) / (n_c + 2 alpha).
 *
 * Class priors are the class frequencies (fit_prior) or uniform.  The
 * preprocessor leaves the features unscaled by default for this algorithm
 * (AlgorithmDef.default_scaling = false): counts must stay counts.
 *
 * Sparse input (text features, TrainData.Xs): multinomial and Bernoulli
 * read only the non-zeros, for fitting and predicting; the Bernoulli
 * likelihood of an all-zero row is kept per class (base), so a row costs its
 * non-zeros.  The Gaussian model wants dense numeric features.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "algo/algo.h"
#include "algo/linalg.h"
#include "algo/sparse.h"
#include "galaxy.h"
#include "model/model.h"

/* Hyperparameter indexes. */
enum
{
	HP_DISTRIBUTION = 0,
	HP_VAR_SMOOTHING,
	HP_ALPHA,
	HP_BINARIZE,
	HP_FIT_PRIOR,
	HP_SOLVER
};

/* Choices of distribution. */
enum
{
	NB_GAUSSIAN = 0,
	NB_MULTINOMIAL = 1,
	NB_BERNOULLI = 2
};

static const HyperParamSpec nb_params[] = {
	{"distribution", HP_ENUM, NB_GAUSSIAN, 0, 0, false, "gaussian,multinomial,bernoulli",
	"likelihood of a feature given the class: gaussian (numeric), multinomial (counts), bernoulli (binary)"},
	{"var_smoothing", HP_FLOAT, 1e-9, 0.0, 1.0, false, NULL,
	"gaussian: share of the largest feature variance added to every variance"},
	{"alpha", HP_FLOAT, 1.0, 0.0, 1e10, false, NULL,
	"multinomial, bernoulli: additive (Laplace/Lidstone) smoothing of the counts (0 is taken as 1e-10)"},
	{"binarize", HP_FLOAT, 0.0, -1e300, 1e300, false, NULL,
	"bernoulli: a feature counts as present when its value is above this threshold"},
	{"fit_prior", HP_BOOL, 1.0, 0.0, 1.0, false, NULL,
	"learn the class priors from the class frequencies (false: uniform priors)"},
	{"solver", HP_ENUM, 0, 0, 0, false, "auto,in_memory,streaming",
	"in_memory: load the rows; streaming: per-class moments from one pass of a parallel SQL aggregate over the relation, then a scoring pass (gaussian and multinomial, numeric and boolean features); auto: streaming when the rows would exceed galaxy.max_training_memory or the table is distributed"},
};

/* The smallest alpha used (scikit-learn's floor). */
#define NB_MIN_ALPHA	1e-10
/* Log prior of a class that has no training row (its probability is 0). */
#define NB_ABSENT_LOG_PRIOR (-1e30)
/* The smallest variance of the Gaussian model. */
#define NB_MIN_VAR		1e-300
/* Class scores of up to this many classes live on the stack while predicting. */
#define NB_SCORE_STACK	64

typedef struct NbState
{
	int			n_features;
	int			n_classes;
	int			distribution;	/* NB_* */
	double		binarize;		/* bernoulli threshold */
	double	   *log_prior;		/* n_classes */
	double	   *m1;				/* n_classes x n_features: mean / log theta / log q */
	double	   *m2;				/* gaussian: variance; bernoulli: log (1 - q); else NULL */
	double	   *base;			/* bernoulli: joint log likelihood of an all-zero row (derived) */
} NbState;

/* The Bernoulli likelihood of feature value x (present above the threshold). */
static inline double
nb_bernoulli(const NbState *st, Size o, double x)
{
	return x > st->binarize ? st->m1[o] : st->m2[o];
}

/* Bernoulli: each class's joint log likelihood of a row of zeros. */
static void
nb_bernoulli_base(NbState *st)
{
	int			p = st->n_features;

	st->base = alloc_doubles(st->n_classes);
	for (int c = 0; c < st->n_classes; c++)
	{
		double		s = st->log_prior[c];

		for (int j = 0; j < p; j++)
			s += nb_bernoulli(st, (Size) c * p + j, 0.0);
		st->base[c] = s;
	}
}

/* ERROR for a negative value given to the multinomial model. */
static void
nb_negative_error(double v, int64 row, int feature, const char *where)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("naive_bayes with distribution \"multinomial\" needs non-negative feature values, "
					"got %g for feature %d of %s row " INT64_FORMAT, v, feature + 1, where, row + 1),
			 errhint("Use counts or frequencies, preprocess => '{\"scale\": \"minmax\"}', or distribution \"gaussian\".")));
}

/*
 * The model from its per-class sums (algo.h): cw the class weights (k),
 * s1 per class and feature the mean (gaussian) or the sum (multinomial) or
 * the weight of rows above binarize (bernoulli), s2 (gaussian) the sums of
 * squared deviations from the class mean.  Takes s1 and s2 over (the model
 * keeps them, computed in place).  The in-memory fit (nb_fit) and the
 * streaming one (scale/stream_nb.c) both end here.
 */
void *
nb_state_from_sums(int p, int k, int dist, const double *cw, double *s1, double *s2,
				   double var_smoothing, double alpha, double thr, bool fit_prior)
{
	NbState    *st;
	double		total = 0.0;
	Size		kp = (Size) k * p;

	for (int c = 0; c < k; c++)
		total += cw[c];
	Assert(total > 0.0);
	Assert(dist != NB_GAUSSIAN || s2 != NULL);
	alpha = Max(alpha, NB_MIN_ALPHA);
	st = palloc0(sizeof(NbState));
	st->n_features = p;
	st->n_classes = k;
	st->distribution = dist;
	st->binarize = (dist == NB_BERNOULLI) ? thr : 0.0;
	st->log_prior = alloc_doubles(k);
	st->m1 = s1;				/* computed in place from the sums */
	st->m2 = (dist == NB_MULTINOMIAL) ? NULL : (dist == NB_GAUSSIAN ? s2 : alloc_doubles(kp));

	for (int c = 0; c < k; c++)
	{
		if (cw[c] <= 0.0)
			st->log_prior[c] = NB_ABSENT_LOG_PRIOR;
		else
			st->log_prior[c] = fit_prior ? log(cw[c] / total) : -log((double) k);
	}

	if (dist == NB_GAUSSIAN)
	{
		/* epsilon = var_smoothing times the largest variance of a feature over all rows */
		double		eps = 0.0;

		for (int j = 0; j < p; j++)
		{
			double		mean = 0.0,
						ss = 0.0;

			for (int c = 0; c < k; c++)
				mean += cw[c] * s1[(Size) c * p + j];
			mean /= total;
			for (int c = 0; c < k; c++)
			{
				double		dm = s1[(Size) c * p + j] - mean;

				ss += s2[(Size) c * p + j] + cw[c] * dm * dm;
			}
			eps = Max(eps, ss / total);
		}
		eps *= var_smoothing;
		for (int c = 0; c < k; c++)
			for (int j = 0; j < p; j++)
			{
				Size		o = (Size) c * p + j;

				/* m1 is s1, the means; m2 is s2, the squared deviations made variances */
				st->m2[o] = Max((cw[c] > 0.0 ? s2[o] / cw[c] : 0.0) + eps, NB_MIN_VAR);
			}
	}
	else if (dist == NB_MULTINOMIAL)
	{
		for (int c = 0; c < k; c++)
		{
			double		sum = 0.0;

			for (int j = 0; j < p; j++)
				sum += s1[(Size) c * p + j];
			for (int j = 0; j < p; j++)
				st->m1[(Size) c * p + j] = log(s1[(Size) c * p + j] + alpha) - log(sum + alpha * p);	/* in place */
		}
	}
	else
	{
		for (int c = 0; c < k; c++)
			for (int j = 0; j < p; j++)
			{
				Size		o = (Size) c * p + j;
				double		denom = cw[c] + 2.0 * alpha;

				st->m2[o] = log(cw[c] - s1[o] + alpha) - log(denom);
				st->m1[o] = log(s1[o] + alpha) - log(denom);	/* in place, after m2 read it */
			}
	}
	for (Size o = 0; o < kp; o++)
		if (!isfinite(st->m1[o]) || (st->m2 && !isfinite(st->m2[o])))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("naive_bayes produced a non-finite class statistic"),
					 errhint("The feature values are too large; scale them.")));

	if (dist == NB_BERNOULLI)
		nb_bernoulli_base(st);
	return st;
}

/* Fit naive Bayes. */
static void *
nb_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	int			p = d->n_features;
	int			k = d->n_classes;
	int64		n = d->n_rows;
	int			dist = (int) hp->values[HP_DISTRIBUTION];
	double		alpha = Max(hp->values[HP_ALPHA], NB_MIN_ALPHA);
	double		thr = hp->values[HP_BINARIZE];
	bool		fit_prior = hp->values[HP_FIT_PRIOR] != 0.0;
	NbState    *st;
	double	   *cw;				/* class weights */
	double	   *s1;				/* per class and feature: sum or running mean */
	double	   *s2;				/* gaussian: sum of squared deviations */
	double	   *sw;				/* sample weights */
	double		total = 0.0;
	Size		kp = (Size) k * p;

	if (d->task != TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("naive_bayes supports only the classification task, not %s",
						galaxy_task_name(d->task))));
	if (k < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("naive_bayes needs at least two classes, got %d", k)));
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("naive_bayes needs at least one training row")));

	galaxy_check_training_memory(sizeof(double) * (2 * kp + 2 * (Size) k + (Size) n),
								 "the class statistics of naive_bayes");
	/* the sample weights, checked once (as every algorithm does) */
	sw = alloc_doubles(n);
	algo_sample_weights("naive_bayes", d, sw);

	cw = alloc_doubles(k);
	s1 = alloc_doubles(kp);		/* becomes the model's m1 */
	s2 = (dist == NB_GAUSSIAN) ? alloc_doubles(kp) : NULL;
	if (d->Xs && dist == NB_GAUSSIAN)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("naive_bayes with distribution \"gaussian\" does not take text features"),
				 errhint("Use hyperparams => '{\"distribution\": \"multinomial\"}' (counts, TF-IDF) or \"bernoulli\" (words present or not).")));
	for (int64 i = 0; d->Xs && i < n; i++)
	{
		/* sparse rows: only the non-zeros add to the sums */
		double		v = d->y[i];
		double		w = sw[i];
		double	   *a;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (!(v >= 0.0 && v < k) || v != floor(v))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("class index %g of training row " INT64_FORMAT " is not in 0..%d",
							v, i + 1, k - 1)));
		if (w == 0.0)
			continue;
		a = s1 + (Size) ((int) v) * p;
		cw[(int) v] += w;
		total += w;
		for (int64 q = d->Xs->indptr[i]; q < d->Xs->indptr[i + 1]; q++)
		{
			double		x = d->Xs->values[q];

			if (dist == NB_MULTINOMIAL)
			{
				if (x < 0.0)
					nb_negative_error(x, i, d->Xs->indices[q], "training");
				a[d->Xs->indices[q]] += w * x;
			}
			else if ((x > thr) != (0.0 > thr))
				a[d->Xs->indices[q]] += w;	/* bernoulli: differs from a zero */
		}
	}
	if (d->Xs && dist == NB_BERNOULLI && 0.0 > thr)
	{
		/* a zero counts as present: present = rows of the class - rows not present */
		for (int c = 0; c < k; c++)
			for (int j = 0; j < p; j++)
				s1[(Size) c * p + j] = cw[c] - s1[(Size) c * p + j];
	}
	for (int64 i = 0; d->Xs == NULL && i < n; i++)
	{
		double		v = d->y[i];
		double		w = sw[i];
		const double *x = d->X + i * p;
		int			c;
		double	   *a;
		double	   *b;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (!(v >= 0.0 && v < k) || v != floor(v))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("class index %g of training row " INT64_FORMAT " is not in 0..%d",
							v, i + 1, k - 1)));
		if (w == 0.0)
			continue;
		c = (int) v;
		a = s1 + (Size) c * p;
		b = s2 ? s2 + (Size) c * p : NULL;	/* gaussian only */
		cw[c] += w;
		total += w;
		switch (dist)
		{
			case NB_GAUSSIAN:
				{
					double		f = w / cw[c];

					/* weighted Welford update of the class mean and squared deviations */
					for (int j = 0; j < p; j++)
					{
						double		delta = x[j] - a[j];

						a[j] += f * delta;
						b[j] += w * delta * (x[j] - a[j]);
					}
				}
				break;
			case NB_MULTINOMIAL:
				for (int j = 0; j < p; j++)
				{
					if (x[j] < 0.0)
						nb_negative_error(x[j], i, j, "training");
					a[j] += w * x[j];
				}
				break;
			default:
				for (int j = 0; j < p; j++)
					if (x[j] > thr)
						a[j] += w;
				break;
		}
	}
	Assert(total > 0.0);
	pfree(sw);

	st = nb_state_from_sums(p, k, dist, cw, s1, s2, hp->values[HP_VAR_SMOOTHING], alpha, thr, fit_prior);
	fit_report_iteration(ctx, 1, 1, n, get_float8_nan(), get_float8_nan(),
						 get_float8_nan(), get_float8_nan());
	pfree(cw);
	return st;
}

/* Joint log likelihood of every class for one row, into jll (n_classes). */
static void
nb_joint_log_likelihood(const NbState *st, const double *x, int64 row, double *jll)
{
	int			p = st->n_features;

	for (int c = 0; c < st->n_classes; c++)
	{
		const double *a = st->m1 + (Size) c * p;
		double		s = st->log_prior[c];

		switch (st->distribution)
		{
			case NB_GAUSSIAN:
				{
					const double *var = st->m2 + (Size) c * p;

					for (int j = 0; j < p; j++)
					{
						double		dx = x[j] - a[j];

						s -= 0.5 * (log(2.0 * M_PI * var[j]) + dx * dx / var[j]);
					}
				}
				break;
			case NB_MULTINOMIAL:
				for (int j = 0; j < p; j++)
				{
					if (x[j] < 0.0)
						nb_negative_error(x[j], row, j, "the");
					s += x[j] * a[j];
				}
				break;
			default:
				{
					const double *neg = st->m2 + (Size) c * p;

					for (int j = 0; j < p; j++)
						s += (x[j] > st->binarize) ? a[j] : neg[j];
				}
				break;
		}
		jll[c] = s;
	}
}

/* Joint log likelihood of every class for CSR row i, into jll (n_classes). */
static void
nb_joint_log_likelihood_sparse(const NbState *st, const SparseMatrix *X, int64 i, double *jll)
{
	int			p = st->n_features;

	for (int c = 0; c < st->n_classes; c++)
	{
		const double *a = st->m1 + (Size) c * p;
		double		s;

		if (st->distribution == NB_MULTINOMIAL)
		{
			s = st->log_prior[c];
			for (int64 q = X->indptr[i]; q < X->indptr[i + 1]; q++)
			{
				if (X->values[q] < 0.0)
					nb_negative_error(X->values[q], i, X->indices[q], "the");
				s += X->values[q] * a[X->indices[q]];
			}
		}
		else
		{
			/* bernoulli: the all-zero row's likelihood, corrected at the non-zeros */
			s = st->base[c];
			for (int64 q = X->indptr[i]; q < X->indptr[i + 1]; q++)
			{
				Size		o = (Size) c * p + X->indices[q];

				s += nb_bernoulli(st, o, X->values[q]) - nb_bernoulli(st, o, 0.0);
			}
		}
		jll[c] = s;
	}
}

/* Normalise joint log likelihoods into probabilities (uniform when none is finite). */
static void
nb_normalise(double *o, int k)
{
	double		m = o[vec_argmax(o, k)];

	if (!isfinite(m))
	{
		/* every class infinitely unlikely (e.g. an infinite input): say nothing */
		for (int c = 0; c < k; c++)
			o[c] = 1.0 / k;
		return;
	}
	vec_exp_normalise(o, k, m, o);
}

/* Predicted classes of CSR rows: the first largest probability (predict_is_proba_argmax). */
static void
nb_predict_sparse(const void *state, const SparseMatrix *X, double *out)
{
	const NbState *st = state;
	int			k = st->n_classes;
	double		buf[NB_SCORE_STACK];
	double	   *jll = k <= NB_SCORE_STACK ? buf : palloc(sizeof(double) * k);

	for (int64 i = 0; i < X->n_rows; i++)
	{
		nb_joint_log_likelihood_sparse(st, X, i, jll);
		nb_normalise(jll, k);
		out[i] = vec_argmax(jll, k);
	}
	if (jll != buf)
		pfree(jll);
}

/* Class probabilities of CSR rows. */
static void
nb_predict_proba_sparse(const void *state, const SparseMatrix *X, double *out)
{
	const NbState *st = state;
	int			k = st->n_classes;

	for (int64 i = 0; i < X->n_rows; i++)
	{
		nb_joint_log_likelihood_sparse(st, X, i, out + i * k);
		nb_normalise(out + i * k, k);
	}
}

/* Predicted class: the first largest probability (the largest joint log likelihood). */
static void
nb_predict(const void *state, const double *X, int64 n, double *out)
{
	const NbState *st = state;
	int			k = st->n_classes;
	double		buf[NB_SCORE_STACK];
	double	   *jll = k <= NB_SCORE_STACK ? buf : palloc(sizeof(double) * k);

	for (int64 i = 0; i < n; i++)
	{
		nb_joint_log_likelihood(st, X + i * st->n_features, i, jll);
		nb_normalise(jll, k);
		out[i] = vec_argmax(jll, k);
	}
	if (jll != buf)
		pfree(jll);
}

/* Class probabilities: the normalised exponentials of the joint log likelihoods. */
static void
nb_predict_proba(const void *state, const double *X, int64 n, double *out)
{
	const NbState *st = state;
	int			k = st->n_classes;

	for (int64 i = 0; i < n; i++)
	{
		nb_joint_log_likelihood(st, X + i * st->n_features, i, out + i * k);
		nb_normalise(out + i * k, k);
	}
}

/* Write the priors and the per-class statistics. */
static void
nb_serialize(const void *state, ModelWriter *w)
{
	const NbState *st = state;
	Size		kp = (Size) st->n_classes * st->n_features;

	mw_tag(w, "NBAY");
	mw_u8(w, (uint8) st->distribution);
	mw_u32(w, (uint32) st->n_classes);
	mw_u32(w, (uint32) st->n_features);
	mw_f64(w, st->binarize);
	mw_f64s(w, st->log_prior, st->n_classes);
	mw_f64s(w, st->m1, kp);
	if (st->m2)
		mw_f64s(w, st->m2, kp);
}

/* Read and validate the priors and statistics. */
static void *
nb_deserialize(ModelReader *r, int n_features, int n_classes, GalaxyTask task)
{
	NbState    *st;
	uint8		dist;
	uint32		k,
				p;
	uint64		kp;
	int			n_mats;

	if (task != TASK_CLASSIFICATION)
		mr_corrupt("naive_bayes model with task %d", (int) task);
	if (n_classes < 2 || n_classes > MODEL_MAX_CLASSES)
		mr_corrupt("naive_bayes class count %d out of range", n_classes);
	if (n_features < 0 || n_features > MODEL_MAX_FEATURES)
		mr_corrupt("naive_bayes feature count %d out of range", n_features);
	mr_tag(r, "NBAY");
	dist = mr_u8(r);
	if (dist > NB_BERNOULLI)
		mr_corrupt("naive_bayes distribution %u is unknown", dist);
	k = mr_count(r, MODEL_MAX_CLASSES, 0, "naive_bayes class");
	p = mr_count(r, MODEL_MAX_FEATURES, 0, "naive_bayes feature");
	if ((int) k != n_classes || (int) p != n_features)
		mr_corrupt("naive_bayes state for %u classes x %u features, header says %d x %d",
				   k, p, n_classes, n_features);
	n_mats = (dist == NB_MULTINOMIAL) ? 1 : 2;
	kp = (uint64) k * p;
	if (1 + k + n_mats * kp > mr_remaining(r) / sizeof(double))
		mr_corrupt("naive_bayes statistics truncated");

	st = palloc0(sizeof(NbState));
	st->n_features = (int) p;
	st->n_classes = (int) k;
	st->distribution = dist;
	st->binarize = mr_f64_finite(r, "naive_bayes binarize threshold");
	st->log_prior = alloc_doubles(k);
	for (uint32 c = 0; c < k; c++)
	{
		st->log_prior[c] = mr_f64_finite(r, "naive_bayes log prior");
		if (st->log_prior[c] > 0.0)
			mr_corrupt("naive_bayes log prior %g is above 0", st->log_prior[c]);
	}
	/* the statistics are read as a block each (not zeroed first), then checked */
	st->m1 = palloc_extended(sizeof(double) * Max(kp, 1), MCXT_ALLOC_HUGE);
	mr_f64s(r, st->m1, kp);
	for (uint64 o = 0; o < kp; o++)
	{
		if (!isfinite(st->m1[o]))
			mr_corrupt("naive_bayes class statistic is not finite");
		if (dist != NB_GAUSSIAN && st->m1[o] > 0.0)
			mr_corrupt("naive_bayes log probability %g is above 0", st->m1[o]);
	}
	if (n_mats == 2)
	{
		st->m2 = palloc_extended(sizeof(double) * Max(kp, 1), MCXT_ALLOC_HUGE);
		mr_f64s(r, st->m2, kp);
		for (uint64 o = 0; o < kp; o++)
		{
			if (!isfinite(st->m2[o]))
				mr_corrupt("naive_bayes class statistic is not finite");
			if (dist == NB_GAUSSIAN && !(st->m2[o] >= NB_MIN_VAR))
				mr_corrupt("naive_bayes variance %g is not positive", st->m2[o]);
			if (dist == NB_BERNOULLI && st->m2[o] > 0.0)
				mr_corrupt("naive_bayes log probability %g is above 0", st->m2[o]);
		}
	}
	if (dist == NB_BERNOULLI)
		nb_bernoulli_base(st);
	return st;
}

const AlgorithmDef galaxy_algo_naive_bayes = {
	.name = "naive_bayes",
	.id = 8,
	.tasks = TASK_BIT(TASK_CLASSIFICATION),
	.params = nb_params,
	.n_params = lengthof(nb_params),
	.default_scaling = false,
	.description = "Naive Bayes: gaussian (numeric features), multinomial (counts) or bernoulli (binary features), class priors",
	.fit = nb_fit,
	.predict = nb_predict,
	.predict_proba = nb_predict_proba,
	.serialize = nb_serialize,
	.deserialize = nb_deserialize,
	.feature_importance = NULL,
	.sparse_input = true,
	.predict_sparse = nb_predict_sparse,
	.predict_proba_sparse = nb_predict_proba_sparse,
	.predict_is_proba_argmax = true,
};
