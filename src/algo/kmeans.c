/*
 * kmeans.c — k-means clustering: k-means++ initialisation, Lloyd iterations
 * and mini-batch k-means, as scikit-learn's KMeans and MiniBatchKMeans.
 *
 * Distances come from OpenBLAS: for a block of rows X_b and centres C,
 * ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2 with the products X_b C' from one
 * dgemm; blocks are a fixed number of rows, so memory stays bounded and the
 * work is split over threads block by block (each thread runs its own
 * single-threaded dgemm).  Everything summed over rows (centre sums,
 * inertia, k-means++ potentials) is added in row order on the calling
 * thread, so results do not depend on the thread count.
 *
 *   - k-means++ (greedy, 2 + ln k candidates per centre, as scikit-learn);
 *     when the potential vanishes, or a chosen row equals a centre, the
 *     distinct training rows are counted: fewer than k is an ERROR.
 *   - Lloyd: assign every row, move each centre to its rows' mean, stop when
 *     the assignment no longer changes or the squared centre shift is at most
 *     tol times the mean feature variance; an empty cluster takes the row
 *     farthest from its centre.  n_init runs; the lowest inertia wins.
 *   - mini-batch (batch_size > 0): k-means++ on a sample of 3 x batch_size
 *     rows (best of n_init), then max_iter passes' worth of batches drawn with
 *     replacement, each centre moving by the running mean of the rows it got;
 *     stops early like scikit-learn (tol on the centre shift, or no
 *     improvement of the smoothed batch inertia for 10 batches).
 *
 * The state keeps the centres, the initial centres of the winning run, the
 * training inertia, iterations and cluster sizes.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include <cblas.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "algo/algo.h"
#include "algo/linalg.h"
#include "algo/tree_core.h"
#include "data/dataset.h"
#include "galaxy.h"
#include "model/model.h"
#include "util/jsonb_build.h"
#include "util/rng.h"

/* Rows per distance block, and the bound on a block's doubles. */
#define KM_BLOCK_ROWS		1024
#define KM_BLOCK_DOUBLES	(1 << 18)
/* Largest k stored in a model. */
#define KM_MAX_CLUSTERS		100000
/* mini-batch: batches without improvement of the smoothed inertia */
#define KM_MAX_NO_IMPROVEMENT 10

/* Hyperparameter indexes. */
enum
{
	HP_N_CLUSTERS = 0,
	HP_N_INIT,
	HP_MAX_ITER,
	HP_TOL,
	HP_BATCH_SIZE
};

static const HyperParamSpec kmeans_params[] = {
	{"n_clusters", HP_INT, 8, 1, 10000, false, NULL,
	"number of clusters k"},
	{"n_init", HP_INT, 1, 1, 1000, false, NULL,
	"k-means++ restarts; the run with the lowest inertia is kept"},
	{"max_iter", HP_INT, 300, 1, 100000, false, NULL,
	"maximum Lloyd iterations of a run (mini-batch: passes over the data)"},
	{"tol", HP_FLOAT, 1e-4, 0.0, 1.0, false, NULL,
	"stop when the squared centre shift is at most tol x the mean feature variance"},
	{"batch_size", HP_INT, 0, 0, 10000000, false, NULL,
	"0: full Lloyd iterations; > 0: mini-batch k-means with batches of this many rows"},
};

typedef struct KMeansState
{
	int			k;
	int			p;
	double	   *centers;		/* k x p */
	double	   *init_centers;	/* k x p: where the winning run started */
	double		inertia;		/* training rows to their centres */
	int32		n_iter;			/* iterations (mini-batch: batches) of the winning run */
	int64	   *sizes;			/* k training rows per cluster */
} KMeansState;

/* Rows of a block for k centres. */
static int
block_rows(int k)
{
	return (int) Max(16, Min(KM_BLOCK_ROWS, KM_BLOCK_DOUBLES / Max(k, 1)));
}

/* Squared norms of the m rows of C (m x p). */
static void
row_norms(const double *C, int m, int p, double *out)
{
	for (int c = 0; c < m; c++)
		out[c] = dot_product(C + (Size) c * p, C + (Size) c * p, p);
}

/* Exact squared distance of two p-vectors. */
static inline double
sq_dist(const double *a, const double *b, int p)
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
 * The assignment kernel: for rows [0, n) of X, the nearest of the m centres
 * C (labels) and the squared distance to it (mind, clamped at 0); ties go to
 * the lowest index.  Worker w takes blocks w, w + nw, ...
 */
typedef struct AssignJob
{
	const double *X;
	int64		n;
	int			p;
	const double *C;
	const double *cnorm;
	int			m;
	int			block;
	double	   *scratch;		/* nw x block x m */
	int32	   *labels;
	double	   *mind;
} AssignJob;

static void
assign_kernel(void *arg, int w, int nw)
{
	AssignJob  *a = (AssignJob *) arg;
	int64		n_blocks = (a->n + a->block - 1) / a->block;
	double	   *D = a->scratch + (Size) w * a->block * a->m;

	for (int64 b = w; b < n_blocks; b += nw)
	{
		int64		start = b * a->block;
		int			nb = (int) Min((int64) a->block, a->n - start);
		const double *X = a->X + start * a->p;

		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, a->m, a->p,
					1.0, X, a->p, a->C, a->p, 0.0, D, a->m);
		for (int i = 0; i < nb; i++)
		{
			const double *di = D + (Size) i * a->m;
			double		best_v = a->cnorm[0] - 2.0 * di[0];
			int			best = 0;
			double		xn = dot_product(X + (Size) i * a->p, X + (Size) i * a->p, a->p);
			double		d;

			for (int c = 1; c < a->m; c++)
			{
				double		v = a->cnorm[c] - 2.0 * di[c];

				if (v < best_v)
				{
					best_v = v;
					best = c;
				}
			}
			d = xn + best_v;
			a->labels[start + i] = best;
			a->mind[start + i] = d > 0.0 ? d : 0.0;
		}
	}
}

/* Shared scratch and thread count of one fit (or one predict call). */
typedef struct KmWork
{
	int			threads;
	int			block;
	int			m_max;			/* most centres in one call */
	double	   *scratch;
} KmWork;

static void
work_init(KmWork *wk, int threads, int m_max)
{
	wk->threads = Max(1, Min(threads, TREE_MAX_THREADS));
	wk->m_max = m_max;
	wk->block = block_rows(m_max);
	wk->scratch = alloc_doubles((Size) wk->threads * wk->block * m_max);
}

/* labels/mind of n rows for m <= wk->m_max centres. */
static void
assign_rows(KmWork *wk, const double *X, int64 n, int p, const double *C, const double *cnorm,
			int m, int32 *labels, double *mind)
{
	AssignJob	a;
	int			nw;

	Assert(m <= wk->m_max);
	a.X = X;
	a.n = n;
	a.p = p;
	a.C = C;
	a.cnorm = cnorm;
	a.m = m;
	a.block = wk->block;
	a.scratch = wk->scratch;
	a.labels = labels;
	a.mind = mind;
	nw = tree_threads_for(wk->threads, (double) n * p * m);
	nw = (int) Min((int64) nw, (n + a.block - 1) / a.block);
	tree_parallel(Max(nw, 1), assign_kernel, &a);
}

/* Lexicographic order of two rows (qsort_arg comparator over row indexes). */
static int
cmp_rows(const void *a, const void *b, void *arg)
{
	const TrainData *d = (const TrainData *) arg;
	const double *x = d->X + *(const int64 *) a * d->n_features;
	const double *y = d->X + *(const int64 *) b * d->n_features;

	for (int j = 0; j < d->n_features; j++)
	{
		if (x[j] < y[j])
			return -1;
		if (x[j] > y[j])
			return 1;
	}
	return 0;
}

/* Number of distinct training rows (sorts an index: only on the error path). */
static int64
count_distinct_rows(const TrainData *d)
{
	int64	   *idx = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(d->n_rows, 1));
	int64		distinct = d->n_rows > 0 ? 1 : 0;

	for (int64 i = 0; i < d->n_rows; i++)
		idx[i] = i;
	qsort_arg(idx, d->n_rows, sizeof(int64), cmp_rows, (void *) d);
	for (int64 i = 1; i < d->n_rows; i++)
		if (cmp_rows(&idx[i - 1], &idx[i], (void *) d) != 0)
			distinct++;
	pfree(idx);
	return distinct;
}

/* ERROR when the training rows have fewer than k distinct values. */
static void
check_distinct(const TrainData *d, int k)
{
	int64		distinct = count_distinct_rows(d);

	if (distinct < k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("kmeans: n_clusters = %d is larger than the number of distinct training rows (" INT64_FORMAT ")",
						k, distinct),
				 errhint("Lower n_clusters to at most " INT64_FORMAT ".", distinct)));
}

/*
 * k-means++ on rows X[0..n) (greedy: of 2 + ln k candidates drawn in
 * proportion to the squared distance to the nearest centre so far, the one
 * that lowers the potential most).  Writes k centres into C.
 */
static void
kmeans_plusplus(KmWork *wk, const TrainData *d, const double *X, int64 n, int p, int k,
				GalaxyRng *rng, double *C)
{
	int			trials = 2 + (int) log((double) k);
	double	   *pot = alloc_doubles(n);
	double	   *cum = alloc_doubles(n);
	double	   *cand = alloc_doubles((Size) trials * p);
	double	   *cn = alloc_doubles(trials);
	int32	   *lab = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
	double	   *dist = alloc_doubles((Size) n);
	double	   *best_dist = alloc_doubles((Size) n);
	int64		first = (int64) galaxy_rng_below(rng, (uint64) n);
	double		total;

	Assert(trials <= wk->m_max);
	memcpy(C, X + first * p, sizeof(double) * p);
	row_norms(C, 1, p, cn);
	assign_rows(wk, X, n, p, C, cn, 1, lab, pot);
	total = 0.0;
	for (int64 i = 0; i < n; i++)
		total += pot[i];

	for (int c = 1; c < k; c++)
	{
		int64		chosen[64];
		double		best_total = INFINITY;
		int			best = 0;
		double		acc = 0.0;

		CHECK_FOR_INTERRUPTS();
		for (int64 i = 0; i < n; i++)
		{
			acc += pot[i];
			cum[i] = acc;
		}
		for (int t = 0; t < trials; t++)
		{
			double		r = galaxy_rng_uniform(rng) * acc;
			int64		lo = 0,
						hi = n - 1;

			/* first row whose cumulative potential exceeds r */
			while (lo < hi)
			{
				int64		mid = lo + (hi - lo) / 2;

				if (cum[mid] > r)
					hi = mid;
				else
					lo = mid + 1;
			}
			chosen[t] = lo;
			memcpy(cand + (Size) t * p, X + lo * p, sizeof(double) * p);
		}
		/* every candidate's new potential, one candidate at a time */
		row_norms(cand, trials, p, cn);
		for (int t = 0; t < trials; t++)
		{
			double		s = 0.0;

			assign_rows(wk, X, n, p, cand + (Size) t * p, cn + t, 1, lab, dist);
			for (int64 i = 0; i < n; i++)
				s += Min(pot[i], dist[i]);
			if (s < best_total)
			{
				best_total = s;
				best = t;
				memcpy(best_dist, dist, sizeof(double) * n);
			}
		}
		memcpy(C + (Size) c * p, X + chosen[best] * p, sizeof(double) * p);

		/* a centre equal to an earlier one: too few distinct rows? */
		for (int e = 0; e < c; e++)
			if (!(acc > 0.0) || sq_dist(C + (Size) e * p, C + (Size) c * p, p) == 0.0)
			{
				check_distinct(d, k);
				break;
			}
		for (int64 i = 0; i < n; i++)
			pot[i] = Min(pot[i], best_dist[i]);
		total = best_total;
	}
	(void) total;
	pfree(pot);
	pfree(cum);
	pfree(cand);
	pfree(cn);
	pfree(lab);
	pfree(dist);
	pfree(best_dist);
}

/* Exact inertia of rows X[0..n) with their labels. */
static double
exact_inertia(const double *X, int64 n, int p, const double *C, const int32 *labels)
{
	double		s = 0.0;

	for (int64 i = 0; i < n; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		s += sq_dist(X + i * p, C + (Size) labels[i] * p, p);
	}
	return s;
}

/* tol in squared distance units: tol x the mean variance of the features. */
static double
absolute_tol(const TrainData *d, double tol)
{
	int			p = d->n_features;
	int64		n = d->n_rows;
	double	   *mean = alloc_doubles(p);
	double	   *m2 = alloc_doubles(p);
	double		var = 0.0;

	if (tol == 0.0)
		return 0.0;
	/* Welford per feature, rows in order */
	for (int64 i = 0; i < n; i++)
	{
		const double *x = d->X + i * p;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < p; j++)
		{
			double		delta = x[j] - mean[j];

			mean[j] += delta / (double) (i + 1);
			m2[j] += delta * (x[j] - mean[j]);
		}
	}
	for (int j = 0; j < p; j++)
		var += m2[j] / (double) n;
	pfree(mean);
	pfree(m2);
	return tol * var / p;
}

/* One run of Lloyd from the centres in C (updated); returns the inertia. */
static double
lloyd_run(KmWork *wk, const TrainData *d, int k, int max_iter, double tol_abs,
		  const FitContext *ctx, double *C, int32 *labels, double *mind, int32 *n_iter)
{
	int64		n = d->n_rows;
	int			p = d->n_features;
	double	   *cn = alloc_doubles(k);
	double	   *sums = alloc_doubles((Size) k * p);
	int64	   *counts = palloc0(sizeof(int64) * k);
	int32	   *old = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
	bool		strict = false;
	int			it;

	for (it = 1; it <= max_iter; it++)
	{
		double		inertia = 0.0;
		double		shift = 0.0;
		bool		same = it > 1;

		CHECK_FOR_INTERRUPTS();
		row_norms(C, k, p, cn);
		assign_rows(wk, d->X, n, p, C, cn, k, labels, mind);

		/* new centres: the mean of each cluster's rows, in row order */
		memset(sums, 0, sizeof(double) * k * p);
		memset(counts, 0, sizeof(int64) * k);
		for (int64 i = 0; i < n; i++)
		{
			const double *x = d->X + i * p;
			double	   *s = sums + (Size) labels[i] * p;

			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			counts[labels[i]]++;
			for (int j = 0; j < p; j++)
				s[j] += x[j];
			inertia += mind[i];
			if (same && labels[i] != old[i])
				same = false;
		}
		/* an empty cluster takes the row farthest from its centre */
		for (int c = 0; c < k; c++)
		{
			int64		far = -1;
			int			from;

			if (counts[c] > 0)
				continue;
			for (int64 i = 0; i < n; i++)
				if (counts[labels[i]] > 1 && (far < 0 || mind[i] > mind[far]))
					far = i;
			if (far < 0)
				continue;
			from = labels[far];
			for (int j = 0; j < p; j++)
			{
				sums[(Size) from * p + j] -= d->X[far * p + j];
				sums[(Size) c * p + j] = d->X[far * p + j];
			}
			counts[from]--;
			counts[c] = 1;
			labels[far] = c;
			mind[far] = 0.0;
			same = false;
		}
		for (int c = 0; c < k; c++)
		{
			double	   *cc = C + (Size) c * p;

			if (counts[c] == 0)
				continue;
			for (int j = 0; j < p; j++)
			{
				double		v = sums[(Size) c * p + j] / (double) counts[c];
				double		delta = v - cc[j];

				shift += delta * delta;
				cc[j] = v;
			}
		}
		fit_report_iteration(ctx, it, max_iter, n, inertia, NAN, NAN, NAN);
		if (same)
		{
			strict = true;
			break;
		}
		if (shift <= tol_abs)
			break;
		memcpy(old, labels, sizeof(int32) * n);
	}
	*n_iter = Min(it, max_iter);
	/* the labels of the final centres */
	if (!strict)
	{
		row_norms(C, k, p, cn);
		assign_rows(wk, d->X, n, p, C, cn, k, labels, mind);
	}
	pfree(cn);
	pfree(sums);
	pfree(counts);
	pfree(old);
	return exact_inertia(d->X, n, p, C, labels);
}

/* Sample m of n row indexes without replacement, in order (Knuth's S). */
static int64 *
sample_rows(GalaxyRng *rng, int64 n, int64 m)
{
	int64	   *s = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * Max(m, 1));
	int64		chosen = 0;

	for (int64 i = 0; i < n && chosen < m; i++)
		if (galaxy_rng_uniform(rng) * (double) (n - i) < (double) (m - chosen))
			s[chosen++] = i;
	Assert(chosen == m);
	return s;
}

/*
 * Mini-batch k-means: initial centres from k-means++ on a sample (best of
 * n_init by the sample's inertia), then batches.  Returns the initial
 * centres in init and the final ones in C; *n_iter gets the batches run.
 */
static void
minibatch_run(KmWork *wk, const TrainData *d, int k, int n_init, int max_iter, double tol_abs,
			  int64 batch, const FitContext *ctx, double *init, double *C, int32 *n_iter)
{
	int64		n = d->n_rows;
	int			p = d->n_features;
	int64		m = Min(n, Max(3 * batch, 3 * (int64) k));
	GalaxyRng	rng;
	int64	   *idx;
	double	   *S;
	int32	   *lab;
	double	   *mind;
	double	   *cn = alloc_doubles(k);
	double	   *cand = alloc_doubles((Size) k * p);
	double		best = INFINITY;
	int64		steps_per_pass,
				steps;
	double	   *B;
	double	   *sums = alloc_doubles((Size) k * p);
	int64	   *nb = palloc0(sizeof(int64) * k);
	double	   *counts = alloc_doubles(k);
	double		ewa = NAN,
				ewa_min = INFINITY;
	int			no_improvement = 0;
	int64		step;

	batch = Min(batch, n);
	galaxy_rng_seed(&rng, ctx->seed, UINT64CONST(0x4B4D0000));
	idx = sample_rows(&rng, n, m);
	S = alloc_doubles((Size) m * p);
	for (int64 i = 0; i < m; i++)
		memcpy(S + i * p, d->X + idx[i] * p, sizeof(double) * p);
	lab = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(m, batch));
	mind = alloc_doubles(Max(m, batch));
	for (int r = 0; r < n_init; r++)
	{
		GalaxyRng	irng;
		double		s = 0.0;

		galaxy_rng_seed(&irng, ctx->seed, UINT64CONST(0x4B4D0100) + r);
		kmeans_plusplus(wk, d, S, m, p, k, &irng, cand);
		row_norms(cand, k, p, cn);
		assign_rows(wk, S, m, p, cand, cn, k, lab, mind);
		for (int64 i = 0; i < m; i++)
			s += mind[i];
		if (s < best)
		{
			best = s;
			memcpy(init, cand, sizeof(double) * k * p);
		}
	}
	memcpy(C, init, sizeof(double) * k * p);
	pfree(S);
	pfree(idx);

	B = alloc_doubles((Size) batch * p);
	steps_per_pass = (n + batch - 1) / batch;
	steps = steps_per_pass * max_iter;
	for (step = 1; step <= steps; step++)
	{
		double		binertia = 0.0;
		double		shift = 0.0;
		double		alpha = (double) batch * 2.0 / ((double) n + 1.0);

		CHECK_FOR_INTERRUPTS();
		for (int64 i = 0; i < batch; i++)
			memcpy(B + i * p, d->X + (int64) galaxy_rng_below(&rng, (uint64) n) * p, sizeof(double) * p);
		row_norms(C, k, p, cn);
		assign_rows(wk, B, batch, p, C, cn, k, lab, mind);
		memset(sums, 0, sizeof(double) * k * p);
		memset(nb, 0, sizeof(int64) * k);
		for (int64 i = 0; i < batch; i++)
		{
			double	   *s = sums + (Size) lab[i] * p;

			nb[lab[i]]++;
			for (int j = 0; j < p; j++)
				s[j] += B[i * p + j];
			binertia += mind[i];
		}
		/* each centre: the running mean of every row it has been given */
		for (int c = 0; c < k; c++)
		{
			double	   *cc = C + (Size) c * p;
			double		total;

			if (nb[c] == 0)
				continue;
			total = counts[c] + (double) nb[c];
			for (int j = 0; j < p; j++)
			{
				double		v = (cc[j] * counts[c] + sums[(Size) c * p + j]) / total;
				double		delta = v - cc[j];

				shift += delta * delta;
				cc[j] = v;
			}
			counts[c] = total;
		}
		binertia /= (double) batch;
		ewa = isnan(ewa) ? binertia : ewa * (1.0 - alpha) + binertia * alpha;
		if (step % steps_per_pass == 0)
			fit_report_iteration(ctx, (int) (step / steps_per_pass), max_iter, n,
								 ewa * (double) n, NAN, NAN, NAN);
		if (tol_abs > 0.0 && shift <= tol_abs)
			break;
		if (ewa < ewa_min)
		{
			ewa_min = ewa;
			no_improvement = 0;
		}
		else if (++no_improvement >= KM_MAX_NO_IMPROVEMENT)
			break;
	}
	*n_iter = (int32) Min(step, steps);
	pfree(B);
	pfree(lab);
	pfree(mind);
	pfree(cn);
	pfree(cand);
	pfree(sums);
	pfree(nb);
	pfree(counts);
}

/* Fit k-means. */
static void *
kmeans_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	int			k = (int) hp->values[HP_N_CLUSTERS];
	int			n_init = (int) hp->values[HP_N_INIT];
	int			max_iter = (int) hp->values[HP_MAX_ITER];
	double		tol = hp->values[HP_TOL];
	int64		batch = (int64) hp->values[HP_BATCH_SIZE];
	int64		n = d->n_rows;
	int			p = d->n_features;
	KMeansState *st;
	KmWork		wk;
	int32	   *labels;
	double	   *mind;
	double	   *C;
	double		tol_abs;

	if (p < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("kmeans needs at least one feature")));
	if (n < k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("kmeans: n_clusters = %d is larger than the number of training rows (" INT64_FORMAT ")",
						k, n),
				 errhint("Lower n_clusters, or train on more rows (test_size => 0 trains on all of them).")));
	galaxy_check_training_memory(sizeof(double) * ((Size) n * 2 + (Size) 4 * k * p) +
								 sizeof(int32) * (Size) n * 2,
								 "kmeans assignments and centres");

	/* the threads run single-threaded dgemms side by side */
	openblas_set_num_threads(1);
	work_init(&wk, ctx->threads, Max(k, 2 + (int) log((double) k)));
	tol_abs = absolute_tol(d, tol);

	st = palloc0(sizeof(KMeansState));
	st->k = k;
	st->p = p;
	st->centers = alloc_doubles((Size) k * p);
	st->init_centers = alloc_doubles((Size) k * p);
	st->sizes = palloc0(sizeof(int64) * k);
	labels = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
	mind = alloc_doubles(n);
	C = alloc_doubles((Size) k * p);

	if (batch > 0)
	{
		double	   *cn = alloc_doubles(k);

		minibatch_run(&wk, d, k, n_init, max_iter, tol_abs, batch, ctx,
					  st->init_centers, st->centers, &st->n_iter);
		row_norms(st->centers, k, p, cn);
		assign_rows(&wk, d->X, n, p, st->centers, cn, k, labels, mind);
		st->inertia = exact_inertia(d->X, n, p, st->centers, labels);
		pfree(cn);
	}
	else
	{
		double	   *init = alloc_doubles((Size) k * p);

		st->inertia = INFINITY;
		for (int r = 0; r < n_init; r++)
		{
			GalaxyRng	rng;
			int32		it;
			double		inertia;

			galaxy_rng_seed(&rng, ctx->seed, UINT64CONST(0x4B4D0100) + r);
			kmeans_plusplus(&wk, d, d->X, n, p, k, &rng, C);
			memcpy(init, C, sizeof(double) * k * p);
			inertia = lloyd_run(&wk, d, k, max_iter, tol_abs, ctx, C, labels, mind, &it);
			if (inertia < st->inertia)
			{
				st->inertia = inertia;
				st->n_iter = it;
				memcpy(st->centers, C, sizeof(double) * k * p);
				memcpy(st->init_centers, init, sizeof(double) * k * p);
			}
		}
		/* the winner's assignment, for the cluster sizes */
		row_norms(st->centers, k, p, C);
		assign_rows(&wk, d->X, n, p, st->centers, C, k, labels, mind);
		pfree(init);
	}
	for (int64 i = 0; i < n; i++)
		st->sizes[labels[i]]++;
	for (Size j = 0; j < (Size) k * p; j++)
		if (!isfinite(st->centers[j]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("kmeans produced a non-finite centre"),
					 errhint("Scale the features: preprocess => '{\"scale\": \"standard\"}'.")));
	if (!isfinite(st->inertia))
		st->inertia = DBL_MAX;
	pfree(labels);
	pfree(mind);
	pfree(C);
	pfree(wk.scratch);
	return st;
}

/* Cluster index of each row: the nearest centre. */
static void
kmeans_predict(const void *state, const double *X, int64 n, double *out)
{
	const KMeansState *st = state;
	KmWork		wk;
	double	   *cn = alloc_doubles(st->k);
	int64		chunk = 65536;
	int32	   *lab;
	double	   *mind;

	if (n <= 0)
		return;
	chunk = Min(chunk, n);
	work_init(&wk, 1, st->k);
	lab = palloc(sizeof(int32) * chunk);
	mind = palloc(sizeof(double) * chunk);
	row_norms(st->centers, st->k, st->p, cn);
	for (int64 start = 0; start < n; start += chunk)
	{
		int64		m = Min(chunk, n - start);

		if (start > 0)
			CHECK_FOR_INTERRUPTS();
		assign_rows(&wk, X + start * st->p, m, st->p, st->centers, cn, st->k, lab, mind);
		for (int64 i = 0; i < m; i++)
			out[start + i] = lab[i];
	}
	pfree(lab);
	pfree(mind);
	pfree(cn);
	pfree(wk.scratch);
}

/* Write the centres. */
static void
kmeans_serialize(const void *state, ModelWriter *w)
{
	const KMeansState *st = state;

	mw_tag(w, "KMN1");
	mw_u32(w, (uint32) st->k);
	mw_u32(w, (uint32) st->p);
	mw_f64(w, st->inertia);
	mw_i32(w, st->n_iter);
	mw_f64s(w, st->centers, (Size) st->k * st->p);
	mw_f64s(w, st->init_centers, (Size) st->k * st->p);
	for (int c = 0; c < st->k; c++)
		mw_i64(w, st->sizes[c]);
}

/* Read and validate the centres. */
static void *
kmeans_deserialize(ModelReader *r, int n_features, int n_classes, GalaxyTask task)
{
	KMeansState *st;
	uint32		k,
				p;
	uint64		per_cluster;

	if (task != TASK_CLUSTERING)
		mr_corrupt("kmeans model with task %s", galaxy_task_name(task));
	if (n_classes != 0)
		mr_corrupt("kmeans model with %d classes", n_classes);
	if (n_features < 1 || n_features > MODEL_MAX_FEATURES)
		mr_corrupt("kmeans feature count %d out of range", n_features);
	mr_tag(r, "KMN1");
	k = mr_count(r, KM_MAX_CLUSTERS, 0, "kmeans cluster");
	p = mr_count(r, MODEL_MAX_FEATURES, 0, "kmeans feature");
	if (k < 1)
		mr_corrupt("kmeans model with no cluster");
	if ((int) p != n_features)
		mr_corrupt("kmeans centres of %u features, header says %d", p, n_features);
	per_cluster = 2 * (uint64) p * sizeof(double) + sizeof(int64);
	if ((uint64) k * per_cluster + sizeof(double) + sizeof(int32) > mr_remaining(r))
		mr_corrupt("kmeans state of %u clusters x %u features does not fit in the bytes left", k, p);

	st = palloc0(sizeof(KMeansState));
	st->k = (int) k;
	st->p = (int) p;
	st->inertia = mr_f64_finite(r, "kmeans inertia");
	if (st->inertia < 0)
		mr_corrupt("kmeans inertia %g", st->inertia);
	st->n_iter = mr_i32_range(r, 0, PG_INT32_MAX, "kmeans iterations");
	st->centers = alloc_doubles((Size) k * p);
	st->init_centers = alloc_doubles((Size) k * p);
	for (Size j = 0; j < (Size) k * p; j++)
		st->centers[j] = mr_f64_finite(r, "kmeans centre");
	for (Size j = 0; j < (Size) k * p; j++)
		st->init_centers[j] = mr_f64_finite(r, "kmeans initial centre");
	st->sizes = palloc(sizeof(int64) * k);
	for (uint32 c = 0; c < k; c++)
	{
		st->sizes[c] = mr_i64(r);
		if (st->sizes[c] < 0)
			mr_corrupt("kmeans cluster %u has " INT64_FORMAT " rows", c, st->sizes[c]);
	}
	return st;
}

/* Training inertia and iterations, added to the model's metrics. */
static void
kmeans_fit_metrics(const void *state, void (*add) (const char *name, double value, void *arg), void *arg)
{
	const KMeansState *st = state;

	add("train_inertia", st->inertia, arg);
	add("n_iter", st->n_iter, arg);
	add("n_clusters", st->k, arg);
}

/* k rows of centres as a JSON array of arrays, in the input columns' units. */
static void
push_centres(JsonbParseState **st, const char *key, const KMeansState *km, const double *C,
			 const Preprocessor *prep)
{
	double	   *row = alloc_doubles(km->p);

	jb_key(st, key);
	pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
	for (int c = 0; c < km->k; c++)
	{
		if (prep)
			preprocess_inverse_features(prep, C + (Size) c * km->p, row);
		else
			memcpy(row, C + (Size) c * km->p, sizeof(double) * km->p);
		pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
		for (int j = 0; j < km->p; j++)
			jb_num(st, WJB_ELEM, row[j]);
		pushJsonbValue(st, WJB_END_ARRAY, NULL);
	}
	pushJsonbValue(st, WJB_END_ARRAY, NULL);
	pfree(row);
}

/* describe(): the centres in the original units, sizes, inertia. */
static void
kmeans_describe(const void *state, const Preprocessor *prep, JsonbParseState **st)
{
	const KMeansState *km = state;

	jb_key(st, "clusters");
	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	jb_kv_int(st, "n_clusters", km->k);
	jb_kv_num(st, "inertia", km->inertia);
	jb_kv_int(st, "n_iter", km->n_iter);
	jb_key(st, "features");
	pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
	for (int j = 0; j < km->p; j++)
		jb_str(st, WJB_ELEM, prep ? preprocess_feature_name(prep, j) : psprintf("f%d", j));
	pushJsonbValue(st, WJB_END_ARRAY, NULL);
	jb_key(st, "sizes");
	pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
	for (int c = 0; c < km->k; c++)
		jb_int(st, WJB_ELEM, km->sizes[c]);
	pushJsonbValue(st, WJB_END_ARRAY, NULL);
	push_centres(st, "centroids", km, km->centers, prep);
	push_centres(st, "initial_centroids", km, km->init_centers, prep);
	pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

const AlgorithmDef galaxy_algo_kmeans = {
	.name = "kmeans",
	.id = 7,
	.tasks = TASK_BIT(TASK_CLUSTERING),
	.params = kmeans_params,
	.n_params = lengthof(kmeans_params),
	.default_scaling = true,
	.description = "k-means clustering: k-means++ initialisation, Lloyd iterations on OpenBLAS, n_init restarts; mini-batch k-means with batch_size > 0",
	.fit = kmeans_fit,
	.predict = kmeans_predict,
	.predict_proba = NULL,
	.serialize = kmeans_serialize,
	.deserialize = kmeans_deserialize,
	.fit_metrics = kmeans_fit_metrics,
	.describe = kmeans_describe,
};
