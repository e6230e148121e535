/*
 * metrics.c — evaluation metrics for regression, classification and
 * clustering, and their jsonb form.
 *
 * Definitions follow scikit-learn (1.2) so that numbers can be compared with
 * it directly: macro averages run over the classes present in the true or
 * the predicted labels, zero divisions count as 0, log loss clips
 * probabilities at 1e-15 and renormalises each row, ROC AUC uses average
 * ranks for tied scores, and R² / explained variance of a constant target
 * are 1 for a perfect prediction and 0 otherwise.
 */
#include "postgres.h"

#include <math.h>

#include <cblas.h>

#include "miscadmin.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "algo/algo.h"
#include "algo/tree_core.h"
#include "eval/metrics.h"
#include "galaxy.h"
#include "util/rng.h"

/* Largest class count for which the k x k confusion matrix is kept. */
#define CONFUSION_MAX_CLASSES 100

/* Rows sampled for the silhouette coefficient. */
#define SILHOUETTE_SAMPLE 10000
/* Sample rows whose distances to the whole sample are computed at once. */
#define SILHOUETTE_BLOCK 64
/* Groups of blocks whose pairs are summed apart (and side by side). */
#define SILHOUETTE_GROUPS 4
/* Largest clusters x sample for computing each pair's distance once. */
#define SILHOUETTE_SUMS_MAX (INT64CONST(1) << 22)

/* Probability clipping for log loss. */
#define LOGLOSS_EPS 1e-15

/* A score and whether its row belongs to the positive class. */
typedef struct ScoredRow
{
	double		score;
	bool		positive;
} ScoredRow;

/* Reset a metric set. */
void
metrics_init(MetricSet *m)
{
	memset(m, 0, sizeof(*m));
}

/* Add (or replace) a named metric. */
void
metrics_add(MetricSet *m, const char *name, double value)
{
	for (int i = 0; i < m->n; i++)
	{
		if (strcmp(m->names[i], name) == 0)
		{
			m->values[i] = value;
			return;
		}
	}
	if (m->n >= GALAXY_MAX_METRICS)
		elog(ERROR, "too many metrics (limit %d) when adding \"%s\"",
			 GALAXY_MAX_METRICS, name);
	m->names[m->n] = name;
	m->values[m->n] = value;
	m->n++;
}

/* Value of a named metric, or NaN when absent. */
double
metrics_get(const MetricSet *m, const char *name)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->names[i], name) == 0)
			return m->values[i];
	return get_float8_nan();
}

/* Swap two doubles. */
static inline void
swap_double(double *a, double *b)
{
	double		t = *a;

	*a = *b;
	*b = t;
}

/*
 * Rearrange a[0..n) so that a[k] holds the value of rank k, everything before
 * it is <= a[k] and everything after it is >= a[k] (Hoare quickselect with a
 * median-of-three pivot; deterministic).
 */
static void
select_kth(double *a, int64 n, int64 k)
{
	int64		lo = 0,
				hi = n - 1;

	while (hi > lo)
	{
		int64		mid = lo + (hi - lo) / 2;
		double		pivot;
		int64		i,
					j;

		if ((lo & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		/* median of three into a[mid] */
		if (a[mid] < a[lo])
			swap_double(&a[mid], &a[lo]);
		if (a[hi] < a[lo])
			swap_double(&a[hi], &a[lo]);
		if (a[hi] < a[mid])
			swap_double(&a[hi], &a[mid]);
		pivot = a[mid];

		i = lo;
		j = hi;
		while (i <= j)
		{
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j)
			{
				swap_double(&a[i], &a[j]);
				i++;
				j--;
			}
		}
		/* now a[lo..j] <= pivot <= a[i..hi], and j < i */
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;				/* a[j+1..i-1] all equal the pivot */
	}
}

/* Median of n values (n > 0); the array is reordered. */
static double
median_inplace(double *a, int64 n)
{
	int64		k = n / 2;
	double		upper;
	double		lower;

	select_kth(a, n, k);
	upper = a[k];
	if (n % 2 == 1)
		return upper;
	/* even count: the largest value left of k is the other middle one */
	lower = a[0];
	for (int64 i = 1; i < k; i++)
		if (a[i] > lower)
			lower = a[i];
	return 0.5 * (lower + upper);
}

/* 1 - num/den with scikit-learn's convention for a constant target. */
static double
one_minus_ratio(double num, double den)
{
	if (den == 0.0)
		return num == 0.0 ? 1.0 : 0.0;
	return 1.0 - num / den;
}

/* mae, mse, rmse, r2, explained_variance, median_absolute_error. */
void
metrics_regression(const double *y, const double *pred, int64 n, MetricSet *out)
{
	double		sum_y = 0.0,
				sum_d = 0.0;
	double		mean_y,
				mean_d;
	double		abs_sum = 0.0,
				sq_sum = 0.0,
				ss_tot = 0.0,
				ss_dev = 0.0;
	double	   *absdev;
	double		mse;

	if (n <= 0)
		return;

	for (int64 i = 0; i < n; i++)
	{
		sum_y += y[i];
		sum_d += y[i] - pred[i];
	}
	mean_y = sum_y / n;
	mean_d = sum_d / n;

	absdev = palloc(sizeof(double) * n);
	for (int64 i = 0; i < n; i++)
	{
		double		d = y[i] - pred[i];
		double		c = y[i] - mean_y;
		double		e = d - mean_d;

		absdev[i] = fabs(d);
		abs_sum += absdev[i];
		sq_sum += d * d;
		ss_tot += c * c;
		ss_dev += e * e;
	}
	mse = sq_sum / n;

	metrics_add(out, "mae", abs_sum / n);
	metrics_add(out, "mse", mse);
	metrics_add(out, "rmse", sqrt(mse));
	metrics_add(out, "r2", one_minus_ratio(sq_sum, ss_tot));
	metrics_add(out, "explained_variance", one_minus_ratio(ss_dev, ss_tot));
	metrics_add(out, "median_absolute_error", median_inplace(absdev, n));
	pfree(absdev);
}

/*
 * mse, rmse, r2 and explained_variance from sums over n rows: sse of the
 * residuals, their sum, and the total sum of squares of the target about
 * its mean (the streaming solver's held-out moments; no row-wise metric).
 */
void
metrics_regression_sums(double n, double sse, double sum_resid, double ss_tot, MetricSet *out)
{
	double		mse;
	double		ss_dev;

	if (n <= 0)
		return;
	sse = Max(sse, 0.0);
	mse = sse / n;
	ss_dev = Max(sse - sum_resid * sum_resid / n, 0.0);
	metrics_add(out, "mse", mse);
	metrics_add(out, "rmse", sqrt(mse));
	metrics_add(out, "r2", one_minus_ratio(sse, ss_tot));
	metrics_add(out, "explained_variance", one_minus_ratio(ss_dev, ss_tot));
}

/* Order ScoredRows by ascending score. */
static int
cmp_scored(const void *a, const void *b)
{
	double		sa = ((const ScoredRow *) a)->score;
	double		sb = ((const ScoredRow *) b)->score;

	/* NaN (a model that diverged) sorts below every number, and equals NaN */
	if (isnan(sa) || isnan(sb))
		return isnan(sa) ? (isnan(sb) ? 0 : -1) : 1;
	if (sa < sb)
		return -1;
	if (sa > sb)
		return 1;
	return 0;
}

/*
 * sort_scored: qsort's algorithm (sort_template.h, as pg_qsort) with
 * cmp_scored inlined: the same order as qsort(rows, n, sizeof(ScoredRow),
 * cmp_scored), without a call per comparison (the sort was most of
 * scoring a text classifier's training).
 */
#define ST_SORT sort_scored
#define ST_ELEMENT_TYPE ScoredRow
#define ST_COMPARE(a, b) cmp_scored(a, b)
#define ST_SCOPE static
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/* Scores that share a rank (NaN with NaN, as the sort puts them together). */
static inline bool
same_score(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

/*
 * Area under the ROC curve of scored rows (sorted in place), via the
 * Mann-Whitney statistic with average ranks for ties.  NaN when only one
 * class is present.
 */
static double
auc_scored(ScoredRow *rows, int64 n)
{
	double		n_pos = 0.0,
				n_neg;
	double		rank_sum = 0.0;
	int64		i = 0;

	sort_scored(rows, n);
	while (i < n)
	{
		int64		j = i;
		double		pos_in_group = 0.0;

		while (j < n && same_score(rows[j].score, rows[i].score))
		{
			if (rows[j].positive)
				pos_in_group += 1.0;
			j++;
		}
		/* ranks i+1 .. j share their average */
		rank_sum += pos_in_group * ((double) (i + 1 + j) / 2.0);
		n_pos += pos_in_group;
		i = j;
	}
	n_neg = (double) n - n_pos;
	if (n_pos == 0.0 || n_neg == 0.0)
		return get_float8_nan();
	return (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg);
}

/* Class index of a label value, with a clear error when it is not one. */
static inline int
class_index(double v, int k, const char *what)
{
	if (!(v >= 0.0 && v < (double) k) || v != floor(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s class index %g is not in 0..%d", what, v, k - 1)));
	return (int) v;
}

/*
 * accuracy, balanced_accuracy and precision/recall/f1 (macro and weighted)
 * from the counts per class: true rows (support), predicted rows and
 * correctly predicted rows, of n rows (also the streaming solver's).
 */
void
metrics_classification_counts(const int64 *support, const int64 *predicted, const int64 *tp,
							  int64 n, int k, MetricSet *out)
{
	int64		correct = 0;
	int			n_present = 0,
				n_supported = 0;
	double		p_macro = 0.0,
				r_macro = 0.0,
				f_macro = 0.0,
				p_weighted = 0.0,
				r_weighted = 0.0,
				f_weighted = 0.0,
				bal = 0.0;

	if (n <= 0 || k < 1)
		return;
	for (int c = 0; c < k; c++)
		correct += tp[c];
	for (int c = 0; c < k; c++)
	{
		double		prec,
					rec,
					f1;

		if (support[c] == 0 && predicted[c] == 0)
			continue;
		prec = predicted[c] > 0 ? (double) tp[c] / predicted[c] : 0.0;
		rec = support[c] > 0 ? (double) tp[c] / support[c] : 0.0;
		f1 = (prec + rec) > 0.0 ? 2.0 * prec * rec / (prec + rec) : 0.0;
		n_present++;
		p_macro += prec;
		r_macro += rec;
		f_macro += f1;
		p_weighted += prec * support[c];
		r_weighted += rec * support[c];
		f_weighted += f1 * support[c];
		if (support[c] > 0)
		{
			bal += rec;
			n_supported++;
		}
	}

	metrics_add(out, "accuracy", (double) correct / n);
	metrics_add(out, "balanced_accuracy", bal / n_supported);
	metrics_add(out, "precision_macro", p_macro / n_present);
	metrics_add(out, "recall_macro", r_macro / n_present);
	metrics_add(out, "f1_macro", f_macro / n_present);
	metrics_add(out, "precision_weighted", p_weighted / n);
	metrics_add(out, "recall_weighted", r_weighted / n);
	metrics_add(out, "f1_weighted", f_weighted / n);

}

/*
 * accuracy, balanced_accuracy, precision/recall/f1 (macro and weighted),
 * log_loss, roc_auc and the confusion matrix.
 */
void
metrics_classification(const double *y, const double *pred, const double *proba,
					   int64 n, int k, MetricSet *out)
{
	int64	   *support;		/* true count per class */
	int64	   *predicted;		/* predicted count per class */
	int64	   *tp;
	int64	   *confusion = NULL;

	if (n <= 0 || k < 1)
		return;

	support = palloc0(sizeof(int64) * k);
	predicted = palloc0(sizeof(int64) * k);
	tp = palloc0(sizeof(int64) * k);
	if (k <= CONFUSION_MAX_CLASSES)
		confusion = palloc0(sizeof(int64) * k * k);

	for (int64 i = 0; i < n; i++)
	{
		int			t = class_index(y[i], k, "true");
		int			p = class_index(pred[i], k, "predicted");

		support[t]++;
		predicted[p]++;
		if (t == p)
			tp[t]++;
		if (confusion)
			confusion[(int64) t * k + p]++;
	}

	metrics_classification_counts(support, predicted, tp, n, k, out);

	if (proba != NULL)
	{
		double		ll = 0.0;
		ScoredRow  *rows = palloc(sizeof(ScoredRow) * n);
		double		auc;

		/* log loss: clip, renormalise the row, take the true class */
		for (int64 i = 0; i < n; i++)
		{
			const double *row = proba + i * k;
			int			t = (int) y[i];
			double		s = 0.0,
						pt = 0.0;

			for (int c = 0; c < k; c++)
			{
				double		v = row[c];

				if (v < LOGLOSS_EPS)
					v = LOGLOSS_EPS;
				else if (v > 1.0 - LOGLOSS_EPS)
					v = 1.0 - LOGLOSS_EPS;
				s += v;
				if (c == t)
					pt = v;
			}
			ll -= log(pt / s);
		}
		metrics_add(out, "log_loss", ll / n);

		if (k == 2)
		{
			for (int64 i = 0; i < n; i++)
			{
				rows[i].score = proba[i * 2 + 1];
				rows[i].positive = ((int) y[i] == 1);
			}
			auc = auc_scored(rows, n);
		}
		else
		{
			/* one-vs-rest, macro over the classes that have both sides */
			double		sum = 0.0;
			int			used = 0;

			for (int c = 0; c < k; c++)
			{
				double		a;

				CHECK_FOR_INTERRUPTS();
				if (support[c] == 0 || support[c] == n)
					continue;
				for (int64 i = 0; i < n; i++)
				{
					rows[i].score = proba[i * k + c];
					rows[i].positive = ((int) y[i] == c);
				}
				a = auc_scored(rows, n);
				if (!isnan(a))
				{
					sum += a;
					used++;
				}
			}
			auc = used > 0 ? sum / used : get_float8_nan();
		}
		metrics_add(out, "roc_auc", auc);
		pfree(rows);
	}

	out->n_classes = confusion ? k : 0;
	out->confusion = confusion;
	pfree(support);
	pfree(predicted);
	pfree(tp);
}

/* Squared Euclidean distance of two p-vectors. */
static inline double
sqdist(const double *a, const double *b, int p)
{
	double		s = 0.0;

	for (int j = 0; j < p; j++)
	{
		double		d = a[j] - b[j];

		s += d * d;
	}
	return s;
}

/*
 * Davies-Bouldin index of a partition, given each cluster's mean and size
 * and the sum of its rows' distances to its mean (intra, turned into their
 * means here): the mean over clusters of the largest (s_a + s_b) / d(a, b),
 * s the mean distance of a cluster's rows to its mean (as scikit-learn:
 * clusters whose means coincide do not count; NaN with fewer than two
 * clusters).
 */
static double
davies_bouldin(int64 n, int p, int k, double *intra, const double *centroid, const int64 *count)
{
	double		sum = 0.0;
	int			present = 0;

	for (int c = 0; c < k; c++)
		if (count[c] > 0)
		{
			intra[c] /= count[c];
			present++;
		}
	if (present < 2 || present >= n)
		return get_float8_nan();
	for (int a = 0; a < k; a++)
	{
		double		worst = 0.0;

		if (count[a] == 0)
			continue;
		for (int b = 0; b < k; b++)
		{
			double		d;

			if (b == a || count[b] == 0)
				continue;
			d = sqrt(sqdist(centroid + (int64) a * p, centroid + (int64) b * p, p));
			if (d > 0.0)
				worst = Max(worst, (intra[a] + intra[b]) / d);
		}
		sum += worst;
	}
	return sum / present;
}

/*
 * The pairs of silhouette_pairs_once: group g of G takes the blocks of
 * SILHOUETTE_BLOCK rows numbered g, g + G, ..., and adds each distance to
 * its own sums (k x m), so groups run side by side.
 */
typedef struct SilhouettePass
{
	const double *S;
	const double *norm;
	int64		m;
	int			p;
	int			k;
	const int  *cluster;
	const int64 *start;			/* k + 1: where each cluster's run starts */
	int			G;
	double	   *gsums;			/* G x k x m, zeroed */
	double	   *gram;			/* threads x SILHOUETTE_BLOCK x m */
} SilhouettePass;

/* Worker w of nw: its groups (numeric only: no PostgreSQL call). */
static void
silhouette_kernel(void *arg, int w, int nw)
{
	SilhouettePass *a = (SilhouettePass *) arg;
	int64		m = a->m;
	int64		blocks = (m + SILHOUETTE_BLOCK - 1) / SILHOUETTE_BLOCK;
	double	   *G = a->gram + (Size) w * SILHOUETTE_BLOCK * m;

	for (int g = w; g < a->G; g += nw)
	{
		double	   *sums = a->gsums + (Size) g * a->k * m;

		for (int64 b = g; b < blocks; b += a->G)
		{
			int64		s0 = b * SILHOUETTE_BLOCK;
			int			nb = (int) Min((int64) SILHOUETTE_BLOCK, m - s0);
			int			width = (int) (m - s0);

			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, width, a->p,
						1.0, a->S + s0 * a->p, a->p, a->S + s0 * a->p, a->p, 0.0, G, width);
			for (int64 s = s0; s < s0 + nb; s++)
			{
				/* gs[t] = s.t for t >= s0 */
				const double *gs = G + (s - s0) * width - s0;
				double		ns = a->norm[s];
				double	   *to_cs = sums + (int64) a->cluster[s] * m;

				for (int64 t0 = s + 1; t0 < m;)
				{
					int			c = a->cluster[t0];
					int64		t1 = a->start[c + 1];
					double		run = 0.0;

					for (int64 t = t0; t < t1; t++)
					{
						double		d2 = ns + a->norm[t] - 2.0 * gs[t];
						double		d = d2 > 0.0 ? sqrt(d2) : 0.0;

						run += d;
						to_cs[t] += d;
					}
					sums[(int64) c * m + s] += run;
					t0 = t1;
				}
			}
		}
	}
}

/*
 * Sum of the silhouette coefficients of a sample ordered by cluster (S: m
 * rows of p, norm: their squared norms), every pair's distance computed
 * once: blocks of SILHOUETTE_BLOCK rows against the rows after them (a
 * dgemm each), each distance added to both rows' sums per cluster (k x m,
 * so only for k * m <= SILHOUETTE_SUMS_MAX).  The blocks are dealt to
 * SILHOUETTE_GROUPS groups (fewer when their sums would pass
 * SILHOUETTE_SUMS_MAX), each with its own sums, run on galaxy.threads
 * threads; the groups' sums are added in order, so the result does not
 * depend on the thread count.
 */
static double
silhouette_pairs_once(const double *S, const double *norm, int64 m, int p, int k,
					  const int *cluster, const int64 *count)
{
	SilhouettePass a;
	int64	   *start = palloc(sizeof(int64) * (k + 1));
	double	   *sums;
	double		total = 0.0;
	int			threads;

	start[0] = 0;
	for (int c = 0; c < k; c++)
		start[c + 1] = start[c] + count[c];
	a.S = S;
	a.norm = norm;
	a.m = m;
	a.p = p;
	a.k = k;
	a.cluster = cluster;
	a.start = start;
	a.G = (int) Max(1, Min((int64) SILHOUETTE_GROUPS, SILHOUETTE_SUMS_MAX / ((int64) k * m)));
	threads = Min(a.G, tree_threads_for(galaxy_threads, (double) m * m * p / 2));
	a.gsums = MemoryContextAllocExtended(CurrentMemoryContext, sizeof(double) * a.G * k * m,
										 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	a.gram = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * threads * SILHOUETTE_BLOCK * m);
	galaxy_set_blas_threads(1);
	tree_parallel(threads, silhouette_kernel, &a);
	CHECK_FOR_INTERRUPTS();
	/* the groups' sums into the first, in order */
	sums = a.gsums;
	for (int g = 1; g < a.G; g++)
	{
		const double *gs = a.gsums + (Size) g * k * m;

		for (int64 i = 0; i < (int64) k * m; i++)
			sums[i] += gs[i];
	}
	for (int64 s = 0; s < m; s++)
	{
		int			cs = cluster[s];
		double		a_s,
					b = INFINITY;

		if (count[cs] <= 1)
			continue;			/* singleton cluster: s = 0 */
		a_s = sums[(int64) cs * m + s] / (count[cs] - 1);
		for (int c = 0; c < k; c++)
			if (c != cs && count[c] > 0)
				b = Min(b, sums[(int64) c * m + s] / count[c]);
		if (Max(a_s, b) > 0.0)
			total += (b - a_s) / Max(a_s, b);
	}
	pfree(a.gsums);
	pfree(a.gram);
	pfree(start);
	return total;
}

/*
 * inertia (sum of squared distances to the mean of each point's cluster) and
 * the mean silhouette coefficient on a deterministic sample of at most
 * SILHOUETTE_SAMPLE rows.
 */
void
metrics_clustering(const double *X, int64 n, int p, const double *assign,
				   int k, uint64 seed, MetricSet *out)
{
	double	   *centroid;
	int64	   *count;
	double		inertia = 0.0;
	double	   *intra;
	int64		m;
	int64	   *sample;
	int		   *sample_cluster;
	int64	   *sample_count;
	double	   *dist_sum;
	double		sil_sum = 0.0;
	int			n_clusters_in_sample = 0;

	if (n <= 0 || k < 1 || p < 1)
		return;

	centroid = palloc0(sizeof(double) * k * p);
	count = palloc0(sizeof(int64) * k);
	for (int64 i = 0; i < n; i++)
	{
		int			c = class_index(assign[i], k, "cluster");
		const double *x = X + i * p;
		double	   *cen = centroid + (int64) c * p;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		count[c]++;
		for (int j = 0; j < p; j++)
			cen[j] += x[j];
	}
	for (int c = 0; c < k; c++)
		if (count[c] > 0)
			for (int j = 0; j < p; j++)
				centroid[(int64) c * p + j] /= count[c];
	/* one pass for the inertia and the Davies-Bouldin distances (the same sums as two) */
	intra = palloc0(sizeof(double) * k);
	for (int64 i = 0; i < n; i++)
	{
		int			c = (int) assign[i];
		double		d2 = sqdist(X + i * p, centroid + (int64) c * p, p);

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		inertia += d2;
		intra[c] += sqrt(d2);
	}
	metrics_add(out, "inertia", inertia);
	metrics_add(out, "davies_bouldin", davies_bouldin(n, p, k, intra, centroid, count));
	pfree(intra);
	out->n_clusters = k;
	out->cluster_sizes = palloc(sizeof(int64) * k);
	memcpy(out->cluster_sizes, count, sizeof(int64) * k);

	/* sample rows in order (selection sampling, Knuth's algorithm S) */
	m = Min(n, SILHOUETTE_SAMPLE);
	sample = palloc(sizeof(int64) * m);
	if (m == n)
	{
		for (int64 i = 0; i < n; i++)
			sample[i] = i;
	}
	else
	{
		GalaxyRng	rng;
		int64		chosen = 0;

		galaxy_rng_seed(&rng, seed, UINT64CONST(0x5111));
		for (int64 i = 0; i < n && chosen < m; i++)
		{
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			if (galaxy_rng_uniform(&rng) * (double) (n - i) < (double) (m - chosen))
				sample[chosen++] = i;
		}
		m = chosen;
	}

	sample_cluster = palloc(sizeof(int) * m);
	sample_count = palloc0(sizeof(int64) * k);
	dist_sum = palloc(sizeof(double) * k);
	for (int64 s = 0; s < m; s++)
	{
		if (sample_count[(int) assign[sample[s]]]++ == 0)
			n_clusters_in_sample++;
	}
	/* the sample ordered by cluster (rows in order within one): clusters are runs */
	{
		int64	   *start = palloc(sizeof(int64) * (k + 1));
		int64	   *by_cluster = palloc(sizeof(int64) * m);

		start[0] = 0;
		for (int c = 0; c < k; c++)
			start[c + 1] = start[c] + sample_count[c];
		for (int64 s = 0; s < m; s++)
		{
			int			c = (int) assign[sample[s]];

			by_cluster[start[c]++] = sample[s];
		}
		for (int64 s = 0; s < m; s++)
		{
			sample[s] = by_cluster[s];
			sample_cluster[s] = (int) assign[sample[s]];
		}
		pfree(start);
		pfree(by_cluster);
	}

	if (n_clusters_in_sample < 2 || n_clusters_in_sample >= m)
	{
		/* silhouette is defined for 2 <= clusters <= samples - 1 */
		metrics_add(out, "silhouette", get_float8_nan());
	}
	else
	{
		/*
		 * Pairwise distances of the sample from Gram blocks (dgemm of
		 * SILHOUETTE_BLOCK rows against the whole sample, so memory stays
		 * bounded), d(s,t)^2 = |s|^2 + |t|^2 - 2 s.t, as scikit-learn
		 * computes them.
		 */
		double	   *S = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * m * p);
		double	   *norm = palloc(sizeof(double) * m);

		for (int64 s = 0; s < m; s++)
		{
			memcpy(S + s * p, X + sample[s] * p, sizeof(double) * p);
			norm[s] = 0.0;
			for (int j = 0; j < p; j++)
				norm[s] += S[s * p + j] * S[s * p + j];
		}
		if ((int64) k * m <= SILHOUETTE_SUMS_MAX)
			sil_sum = silhouette_pairs_once(S, norm, m, p, k, sample_cluster, sample_count);
		else
		{
			double	   *G = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * SILHOUETTE_BLOCK * m);

			for (int64 s0 = 0; s0 < m; s0 += SILHOUETTE_BLOCK)
			{
				int			nb = (int) Min((int64) SILHOUETTE_BLOCK, m - s0);

				CHECK_FOR_INTERRUPTS();
				cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, (int) m, p,
							1.0, S + s0 * p, p, S, p, 0.0, G, (int) m);
				for (int64 s = s0; s < s0 + nb; s++)
				{
					const double *gs = G + (s - s0) * m;
					double		ns = norm[s];
					int			cs = sample_cluster[s];
					double		a,
								b = INFINITY;

					/* the sample is ordered by cluster: one plain sum per run */
					for (int64 t0 = 0; t0 < m;)
					{
						int			c = sample_cluster[t0];
						int64		t1 = t0 + sample_count[c];
						double		sum = 0.0;

						for (int64 t = t0; t < t1; t++)
						{
							double		d2 = ns + norm[t] - 2.0 * gs[t];

							sum += d2 > 0.0 ? sqrt(d2) : 0.0;
						}
						if (c == cs)
						{
							/* not its own distance */
							double		d2 = ns + norm[s] - 2.0 * gs[s];

							sum -= d2 > 0.0 ? sqrt(d2) : 0.0;
						}
						dist_sum[c] = sum;
						t0 = t1;
					}
					if (sample_count[cs] <= 1)
						continue;	/* singleton cluster: s = 0 */
					a = dist_sum[cs] / (sample_count[cs] - 1);
					for (int c = 0; c < k; c++)
						if (c != cs && sample_count[c] > 0)
							b = Min(b, dist_sum[c] / sample_count[c]);
					if (Max(a, b) > 0.0)
						sil_sum += (b - a) / Max(a, b);
				}
			}
			pfree(G);
		}
		pfree(norm);
		metrics_add(out, "silhouette", sil_sum / m);
		pfree(S);
	}

	pfree(centroid);
	pfree(count);
	pfree(sample);
	pfree(sample_cluster);
	pfree(sample_count);
	pfree(dist_sum);
}

/*
 * ROC curve of a binary score: points (fpr, tpr) at each distinct threshold,
 * from the highest score down, starting at (0, 0) with threshold +Infinity;
 * collinear intermediate points are dropped (scikit-learn's
 * drop_intermediate).  Returns the number of points.
 */
int
metrics_roc_curve(const double *y_is_pos, const double *score, int64 n,
				  double **fpr, double **tpr, double **thresholds)
{
	ScoredRow  *rows;
	double	   *fps,
			   *tps,
			   *thr;
	int64		n_pts = 0;
	int64		kept;
	double		tp = 0.0,
				fp = 0.0;
	int64		i;

	rows = palloc(sizeof(ScoredRow) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		rows[i].score = score[i];
		rows[i].positive = (y_is_pos[i] != 0.0);
	}
	sort_scored(rows, n);

	/* cumulative counts at each distinct threshold, descending */
	fps = palloc(sizeof(double) * (n + 1));
	tps = palloc(sizeof(double) * (n + 1));
	thr = palloc(sizeof(double) * (n + 1));
	fps[0] = 0.0;
	tps[0] = 0.0;
	thr[0] = INFINITY;
	n_pts = 1;
	i = n - 1;
	while (i >= 0)
	{
		double		s = rows[i].score;

		while (i >= 0 && same_score(rows[i].score, s))
		{
			if (rows[i].positive)
				tp += 1.0;
			else
				fp += 1.0;
			i--;
		}
		fps[n_pts] = fp;
		tps[n_pts] = tp;
		thr[n_pts] = s;
		n_pts++;
	}
	pfree(rows);

	/*
	 * Drop points collinear with their neighbours; like scikit-learn, the
	 * first and last thresholds are always kept, and so is the (0, 0) start.
	 */
	kept = 1;
	for (int64 j = 1; j < n_pts; j++)
	{
		bool		keep = (j == 1 || j == n_pts - 1);

		if (!keep)
			keep = (fps[j - 1] - 2.0 * fps[j] + fps[j + 1] != 0.0) ||
				(tps[j - 1] - 2.0 * tps[j] + tps[j + 1] != 0.0);
		if (keep)
		{
			fps[kept] = fps[j];
			tps[kept] = tps[j];
			thr[kept] = thr[j];
			kept++;
		}
	}

	for (int64 j = 0; j < kept; j++)
	{
		fps[j] = fp > 0.0 ? fps[j] / fp : get_float8_nan();
		tps[j] = tp > 0.0 ? tps[j] / tp : get_float8_nan();
	}
	*fpr = fps;
	*tpr = tps;
	*thresholds = thr;
	return (int) kept;
}

/* Push a double as a jsonb number, or null when it is not finite. */
static void
push_number(JsonbParseState **state, JsonbIteratorToken tok, double v)
{
	JsonbValue	jv;

	if (isfinite(v))
	{
		jv.type = jbvNumeric;
		jv.val.numeric = DatumGetNumeric(DirectFunctionCall1(float8_numeric,
															 Float8GetDatum(v)));
	}
	else
		jv.type = jbvNull;
	pushJsonbValue(state, tok, &jv);
}

/* Push an object key. */
static void
push_key(JsonbParseState **state, const char *key)
{
	JsonbValue	jv;

	jv.type = jbvString;
	jv.val.string.val = (char *) key;
	jv.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &jv);
}

/* {"accuracy": 0.95, ..., "confusion_matrix": [[..],[..]]} merged with extra. */
Jsonb *
metrics_to_jsonb(const MetricSet *m, Jsonb *extra)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < m->n; i++)
	{
		push_key(&state, m->names[i]);
		push_number(&state, WJB_VALUE, m->values[i]);
	}

	if (m->confusion != NULL && m->n_classes > 0)
	{
		int			k = m->n_classes;

		push_key(&state, "confusion_matrix");
		pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		for (int r = 0; r < k; r++)
		{
			pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
			for (int c = 0; c < k; c++)
			{
				JsonbValue	jv;

				jv.type = jbvNumeric;
				jv.val.numeric = int64_to_numeric(m->confusion[(int64) r * k + c]);
				pushJsonbValue(&state, WJB_ELEM, &jv);
			}
			pushJsonbValue(&state, WJB_END_ARRAY, NULL);
		}
		pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	}

	if (m->cluster_sizes != NULL && m->n_clusters > 0)
	{
		push_key(&state, "cluster_sizes");
		pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		for (int c = 0; c < m->n_clusters; c++)
		{
			JsonbValue	jv;

			jv.type = jbvNumeric;
			jv.val.numeric = int64_to_numeric(m->cluster_sizes[c]);
			pushJsonbValue(&state, WJB_ELEM, &jv);
		}
		pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	}

	if (extra != NULL)
	{
		JsonbIterator *it;
		JsonbValue	v;
		JsonbIteratorToken tok;
		int			depth = 0;

		if (!JB_ROOT_IS_OBJECT(extra) || JB_ROOT_IS_SCALAR(extra))
			elog(ERROR, "extra metrics must be a jsonb object");

		/* copy every member of extra (later keys win over earlier ones) */
		it = JsonbIteratorInit(&extra->root);
		while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
		{
			switch (tok)
			{
				case WJB_BEGIN_OBJECT:
				case WJB_BEGIN_ARRAY:
					if (depth++ > 0)
						pushJsonbValue(&state, tok, NULL);
					break;
				case WJB_END_OBJECT:
				case WJB_END_ARRAY:
					if (--depth > 0)
						pushJsonbValue(&state, tok, NULL);
					break;
				default:
					pushJsonbValue(&state, tok, &v);
					break;
			}
		}
	}

	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/* The key metric of a task, and whether larger values are better. */
const char *
metrics_key(int task, bool *higher_is_better)
{
	if (higher_is_better)
		*higher_is_better = true;
	switch (task)
	{
		case TASK_REGRESSION:
			return "r2";
		case TASK_CLASSIFICATION:
			return "accuracy";
		case TASK_CLUSTERING:
			return "silhouette";
	}
	elog(ERROR, "unknown task %d", task);
	pg_unreachable();
}

/* Whether a smaller value of the named metric is better (errors, losses, inertia). */
bool
metrics_lower_is_better(const char *name)
{
	static const char *const lower[] = {
		"rmse", "mse", "mae", "median_absolute_error", "log_loss", "inertia", "davies_bouldin",
	};

	for (int i = 0; i < lengthof(lower); i++)
		if (strcmp(name, lower[i]) == 0)
			return true;
	return false;
}
