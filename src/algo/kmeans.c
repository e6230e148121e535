/*
 * kmeans.c — k-means clustering: k-means++ initialisation, Lloyd iterations
 * and mini-batch k-means, as scikit-learn's KMeans and MiniBatchKMeans.
 *
 * Distances: for a block of rows X_b and centres C,
 * ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2 with the products X_b C' from one
 * dgemm (OpenBLAS) for many centres, and for up to KM_FUSED_MAX_CENTRES from
 * block_products, which keeps every row's products in registers (a dgemm
 * spends more on packing the rows than on so few products); the pass
 * kernels are also compiled for AVX2 and FMA, used when the CPU has them.
 * Blocks are a fixed number of rows, so memory stays bounded and the work is
 * split over threads (the trees' runner, tree_parallel) in fixed groups of
 * blocks (each thread runs its own single-threaded dgemm).  Everything
 * summed over rows (centre sums, inertia, k-means++ potentials) is added in
 * row order per group and the groups in order on the calling thread, so
 * results do not depend on the thread count.
 *
 *   - k-means++ (greedy, 2 + ln k candidates per centre, as scikit-learn);
 *     when the potential vanishes, or a chosen row equals a centre, the
 *     distinct training rows are counted: fewer than k is an ERROR.
 *   - Lloyd: assign every row, move each centre to its rows' mean, stop when
 *     the assignment no longer changes or the squared centre shift is at most
 *     tol times the mean feature variance; an empty cluster takes the row
 *     farthest from its centre.  n_init runs; the lowest inertia wins.  For
 *     few centres the iterations after the first are Hamerly's: the same
 *     assignment, but a row whose distance bounds show it keeps its centre
 *     is not read (late iterations read a tenth of the rows).
 *   - mini-batch (batch_size > 0): k-means++ on a sample of 3 x batch_size
 *     rows (best of n_init), then max_iter passes' worth of batches drawn with
 *     replacement, each centre moving by the running mean of the rows it got;
 *     stops early like scikit-learn: no improvement of the smoothed batch
 *     inertia for 10 batches, or (only when tol is given) a batch's squared
 *     centre shift at most tol x the mean feature variance.
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
/* Most centres of a pass whose products skip dgemm (block_products). */
#define KM_FUSED_MAX_CENTRES 32
/* Hamerly passes: candidates read ahead, and the bytes of a row prefetched. */
#define KM_PREFETCH_ROWS	8
#define KM_PREFETCH_BYTES	512
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
	{"solver", HP_ENUM, 0, 0, 0, false, "auto,in_memory,streaming",
	"in_memory: load the rows; streaming: k-means++ on a sample, then one parallel SQL aggregate pass over the relation per Lloyd iteration (numeric and boolean features, batch_size 0); auto: streaming when the rows would exceed galaxy.max_training_memory or the table is distributed"},
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
 * One pass over rows [0, n) of X against m centres C, split into G fixed
 * groups of consecutive rows (G depends on n, m and p only, never on the
 * thread count): worker w takes groups w, w + nw, ..., and within a group
 * blocks of rows in order, one dgemm each.  Everything summed is summed per
 * group, in row order; the caller adds the groups up in order.
 *
 * PASS_ASSIGN: labels (nearest centre, lowest index on ties), and when asked
 * mind (squared distance to it, clamped at 0), the groups' centre sums,
 * counts, inertia and the rows whose label differs from old.
 * PASS_POTENTIAL: for every centre c, the sum of min(pot, d(x, c)^2)
 * (k-means++ candidates), and with cpot set each row's min(pot, d(x, c)^2)
 * in cpot[c]; with update set (m = 1), pot = min(pot, d^2).
 */
typedef enum
{
	PASS_ASSIGN,
	PASS_POTENTIAL
} PassMode;

typedef struct KmPass
{
	PassMode	mode;
	const double *X;
	const double *xn;			/* n squared row norms, or NULL */
	int64		n;
	int			p;
	const double *C;
	const double *Ct;			/* C transposed (p x m), for the fused products */
	const double *cnorm;
	int			m;
	int			G;
	int			block;
	bool		fused;			/* products by block_products, not dgemm */
	double	   *scratch;		/* nw x block x max(m, KM_FUSED_MAX_CENTRES) */
	/* PASS_ASSIGN */
	int32	   *labels;
	double	   *mind;			/* or NULL */
	double	   *second;			/* or NULL: squared distance to the second nearest */
	const int32 *old;			/* or NULL */
	double	   *gsums;			/* G x m x p, or NULL */
	int64	   *gcounts;		/* G x m */
	double	   *ginertia;		/* G */
	int64	   *gchanged;		/* G */
	/* bounds_pass (labels, gsums, gcounts, gchanged as above; the sums are changes) */
	double	   *upper;			/* n: less drift[centre], at least the distance to the row's centre */
	double	   *lower;			/* n: plus drift_max, at most the distance to any other centre */
	const double *drift;		/* m: how far each centre moved since the bounds were first set */
	double		drift_max;		/* the sum of the largest move of each of those iterations */
	const double *half_gap;		/* m: half the distance to the nearest other centre */
	double	   *gather;			/* nw x block x p: the rows whose bounds fail */
	int32	   *gather_rows;	/* nw x block */
	/* PASS_POTENTIAL */
	double	   *pot;
	double	  **cpot;			/* m arrays of n, or NULL */
	double	   *gpot;			/* G x m */
	bool		update;
} KmPass;

/* Rows [*r0, *r1) of group g. */
static inline void
group_rows(const KmPass *a, int g, int64 *r0, int64 *r1)
{
	*r0 = a->n * g / a->G;
	*r1 = a->n * (g + 1) / a->G;
}

/* Four doubles, as GCC's vector extension (one AVX register), at any 8-byte address. */
typedef double KmVec4 __attribute__((vector_size(32), aligned(8)));

/*
 * Rows [i0, i0 + R) of D (x MP) = the same rows of X (x p) times C' from Ct
 * (C transposed, p x MP, the columns past m zero): R rows' products in one
 * sweep of their features, R x MP running sums side by side in registers
 * (R and MP constants, MP a multiple of 4); R rows at once keep R
 * independent chains of multiply-adds in flight.
 */
static inline __attribute__((always_inline)) void
rows_products(const double *X, int64 i0, int p, const double *Ct, double *D, const int MP, const int R)
{
	KmVec4		acc[8][KM_FUSED_MAX_CENTRES / 4];

	for (int r = 0; r < R; r++)
		for (int c = 0; c < MP / 4; c++)
			acc[r][c] = (KmVec4) {0.0, 0.0, 0.0, 0.0};
	for (int j = 0; j < p; j++)
	{
		const KmVec4 *ct = (const KmVec4 *) (Ct + (Size) j * MP);

		for (int r = 0; r < R; r++)
		{
			const double v = X[(i0 + r) * p + j];
			const KmVec4 xj = (KmVec4) {v, v, v, v};

			for (int c = 0; c < MP / 4; c++)
				acc[r][c] += xj * ct[c];
		}
	}
	for (int r = 0; r < R; r++)
	{
		KmVec4	   *di = (KmVec4 *) (D + (i0 + r) * MP);

		for (int c = 0; c < MP / 4; c++)
			di[c] = acc[r][c];
	}
}

/*
 * D (nb x MP) = X (nb x p) times C' (rows_products): for few centres this
 * beats a dgemm, whose packing of the rows costs more than the products.
 */
static inline __attribute__((always_inline)) void
block_products_mp(const double *X, int nb, int p, const double *Ct, double *D, const int MP)
{
	const int	R = MP <= 4 ? 8 : 32 / MP;	/* at most 8 registers of sums */
	int64		i = 0;

	for (; i + R <= nb; i += R)
		rows_products(X, i, p, Ct, D, MP, R);
	for (; i < nb; i++)
		rows_products(X, i, p, Ct, D, MP, 1);
}

/* Padded width of the fused products for m centres (a multiple of 4). */
static inline int
fused_width(int m)
{
	return m <= 4 ? 4 : m <= 8 ? 8 : m <= 16 ? 16 : KM_FUSED_MAX_CENTRES;
}

/* block_products_mp for the padded width MP of the pass's centres. */
static inline __attribute__((always_inline)) void
block_products(const double *X, int nb, int p, const double *Ct, int mp, double *D)
{
	if (mp == 4)
		block_products_mp(X, nb, p, Ct, D, 4);
	else if (mp == 8)
		block_products_mp(X, nb, p, Ct, D, 8);
	else if (mp == 16)
		block_products_mp(X, nb, p, Ct, D, 16);
	else
		block_products_mp(X, nb, p, Ct, D, KM_FUSED_MAX_CENTRES);
}

/*
 * The nearest of m centres to a row from its products di (cnorm[c] - 2 x.c,
 * the squared distance less ||x||^2): returns its index (the lowest on
 * ties) and sets *best_v and *second_v (the same for the second nearest,
 * INFINITY with one centre).
 */
static inline __attribute__((always_inline)) int
nearest_two(const double *cnorm, const double *di, int m, double *best_v, double *second_v)
{
	int			best = 0;
	double		bv = cnorm[0] - 2.0 * di[0];
	double		sv = INFINITY;

	/* selects, not branches: which centre is nearest is a coin toss for the CPU's predictor */
	for (int c = 1; c < m; c++)
	{
		double		v = cnorm[c] - 2.0 * di[c];
		bool		lt = v < bv;
		double		s2 = v < sv ? v : sv;

		sv = lt ? bv : s2;
		bv = lt ? v : bv;
		best = lt ? c : best;
	}
	*best_v = bv;
	*second_v = sv;
	return best;
}

/* Worker w of nw: its groups of one pass (a pure numeric kernel). */
static inline __attribute__((always_inline)) void
pass_body(KmPass *a, int w, int nw)
{
	int			m = a->m;
	int			ds = a->fused ? fused_width(m) : m;	/* D's row stride */
	double	   *D = a->scratch + (Size) w * a->block * Max(m, KM_FUSED_MAX_CENTRES);
	int			p = a->p;

	for (int g = w; g < a->G; g += nw)
	{
		int64		r0,
					r1;
		double		inertia = 0.0;
		int64		changed = 0;
		double	   *sums = a->gsums ? a->gsums + (Size) g * m * p : NULL;
		int64	   *counts = a->gcounts ? a->gcounts + (Size) g * m : NULL;
		double	   *gpot = a->gpot ? a->gpot + (Size) g * m : NULL;

		if (sums)
			memset(sums, 0, sizeof(double) * m * p);
		if (counts)
			memset(counts, 0, sizeof(int64) * m);
		if (gpot)
			memset(gpot, 0, sizeof(double) * m);
		group_rows(a, g, &r0, &r1);
		for (int64 start = r0; start < r1; start += a->block)
		{
			int			nb = (int) Min((int64) a->block, r1 - start);
			const double *X = a->X + start * p;

			if (a->fused)
				block_products(X, nb, p, a->Ct, ds, D);
			else
				cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, m, p,
							1.0, X, p, a->C, p, 0.0, D, m);
			for (int i = 0; i < nb; i++)
			{
				const double *di = D + (Size) i * ds;
				const double *x = X + (Size) i * p;
				int64		row = start + i;
				double		xn;

				if (a->mode == PASS_POTENTIAL)
				{
					double		pv = a->pot[row];

					xn = a->xn[row];
					for (int c = 0; c < m; c++)
					{
						double		d = xn + a->cnorm[c] - 2.0 * di[c];
						double		np;

						d = d > 0.0 ? d : 0.0;
						np = Min(pv, d);
						gpot[c] += np;
						if (a->cpot)
							a->cpot[c][row] = np;
						if (a->update && d < pv)
							a->pot[row] = d;
					}
				}
				else
				{
					double		best_v,
								second_v;
					int			best = nearest_two(a->cnorm, di, m, &best_v, &second_v);

					a->labels[row] = best;
					if (a->second)
					{
						double		d;

						xn = a->xn ? a->xn[row] : dot_product(x, x, p);
						d = xn + second_v;
						a->second[row] = d > 0.0 ? d : 0.0;
					}
					if (a->mind)
					{
						double		d;

						xn = a->xn ? a->xn[row] : dot_product(x, x, p);
						d = xn + best_v;
						d = d > 0.0 ? d : 0.0;
						a->mind[row] = d;
						inertia += d;
					}
					if (a->old && a->old[row] != best)
						changed++;
					if (sums)
					{
						double	   *s = sums + (Size) best * p;

						counts[best]++;
						for (int j = 0; j < p; j++)
							s[j] += x[j];
					}
				}
			}
		}
		if (a->ginertia)
			a->ginertia[g] = inertia;
		if (a->gchanged)
			a->gchanged[g] = changed;
	}
}

/* A pass's kernel, compiled for any x86-64. */
static void
pass_kernel(void *arg, int w, int nw)
{
	pass_body((KmPass *) arg, w, nw);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define KM_HAVE_AVX2 1
/* The same kernel for CPUs with AVX2 and FMA (four products per instruction). */
__attribute__((target("avx2,fma")))
static void
pass_kernel_avx2(void *arg, int w, int nw)
{
	pass_body((KmPass *) arg, w, nw);
}
#endif

/*
 * Worker w of nw: its groups of one Hamerly pass.  Every row has an upper
 * bound on the distance to its centre and a lower bound on the distance to
 * any other; after the centres moved, the bounds move by as much.  They are
 * stored relative to the centres' drift (how far each moved since the
 * bounds were set, and the sum of the largest moves), so a row that stays
 * settled is only read, never written.  A row keeps its centre without being
 * read when its upper bound is at most the larger of its lower bound and
 * half the distance from its centre to the nearest other centre; otherwise the exact distance to its centre is taken,
 * and when that does not settle it either, the row's distances to every
 * centre (rows gathered per block, block_products).  A row that changes
 * centre moves its values from the old centre's sums to the new one's
 * (group sums of changes, in row order).  The labels are those of Lloyd's
 * full assignment.
 */
static inline __attribute__((always_inline)) void
bounds_body(KmPass *a, int w, int nw)
{
	int			m = a->m;
	int			p = a->p;
	int			mp = fused_width(m);
	double	   *D = a->scratch + (Size) w * a->block * KM_FUSED_MAX_CENTRES;
	double	   *Xg = a->gather + (Size) w * a->block * p;
	int32	   *rows = a->gather_rows + (Size) w * a->block;

	for (int g = w; g < a->G; g += nw)
	{
		int64		r0,
					r1;
		int64		changed = 0;
		double		bound_sum = 0.0;
		double	   *sums = a->gsums + (Size) g * m * p;
		int64	   *counts = a->gcounts + (Size) g * m;

		memset(sums, 0, sizeof(double) * m * p);
		memset(counts, 0, sizeof(int64) * m);
		group_rows(a, g, &r0, &r1);
		for (int64 start = r0; start < r1; start += a->block)
		{
			int			nb = (int) Min((int64) a->block, r1 - start);
			int			nc = 0;
			int			ng = 0;
			double	   *cb = D;		/* the candidates' bounds, until the products */

			/* the bounds alone (sequential): the rows they do not settle */
			for (int64 row = start; row < start + nb; row++)
			{
				int			c = a->labels[row];
				double		u = a->upper[row] + a->drift[c];
				double		bound = Max(a->lower[row] - a->drift_max, a->half_gap[c]);

				/* kept unless the row is unsettled (no branch: half the rows are, early on) */
				rows[nc] = (int32) (row - start);
				cb[nc] = bound;
				nc += u > bound;
			}

			/*
			 * Their exact distance to their centre, the rows a few
			 * candidates ahead prefetched (they are scattered: reading them
			 * one after the other waits for memory each time); the rows
			 * still unsettled are gathered (rows[] compacted in place).
			 */
			for (int i = 0; i < nc; i++)
			{
				int64		row = start + rows[i];
				const double *x = a->X + row * p;
				double		u;

				if (i + KM_PREFETCH_ROWS < nc)
				{
					const char *nx = (const char *) (a->X + (start + rows[i + KM_PREFETCH_ROWS]) * p);
					Size		bytes = Min(sizeof(double) * p, (Size) KM_PREFETCH_BYTES);

					for (Size o = 0; o < bytes; o += 64)
						__builtin_prefetch(nx + o);
					__builtin_prefetch(nx + bytes - 1);
				}
				u = sqrt(sq_dist(x, a->C + (Size) a->labels[row] * p, p));
				a->upper[row] = u - a->drift[a->labels[row]];
				memcpy(Xg + (Size) ng * p, x, sizeof(double) * p);
				rows[ng] = rows[i];
				ng += u > cb[i];
			}
			if (ng > 0)
				block_products(Xg, ng, p, a->Ct, mp, D);
			for (int i = 0; i < ng; i++)
			{
				int64		row = start + rows[i];
				const double *di = D + (Size) i * mp;
				const double *x = Xg + (Size) i * p;
				double		best_v,
							second_v;
				int			best = nearest_two(a->cnorm, di, m, &best_v, &second_v);
				int			old = a->labels[row];

				a->upper[row] = sqrt(Max(a->xn[row] + best_v, 0.0)) - a->drift[best];
				a->lower[row] = sqrt(Max(a->xn[row] + second_v, 0.0)) + a->drift_max;
				if (best != old)
				{
					double	   *so = sums + (Size) old * p;
					double	   *sn = sums + (Size) best * p;

					a->labels[row] = best;
					counts[old]--;
					counts[best]++;
					changed++;
					for (int j = 0; j < p; j++)
					{
						so[j] -= x[j];
						sn[j] += x[j];
					}
				}
			}
			/* the upper bounds squared, summed while the block is in cache */
			for (int64 row = start; row < start + nb; row++)
			{
				double		u = a->upper[row] + a->drift[a->labels[row]];

				bound_sum += u * u;
			}
		}
		a->gchanged[g] = changed;
		a->ginertia[g] = bound_sum;
	}
}

/* A Hamerly pass's kernel, compiled for any x86-64. */
static void
bounds_kernel(void *arg, int w, int nw)
{
	bounds_body((KmPass *) arg, w, nw);
}

#ifdef KM_HAVE_AVX2
/* The same kernel for CPUs with AVX2 and FMA. */
__attribute__((target("avx2,fma")))
static void
bounds_kernel_avx2(void *arg, int w, int nw)
{
	bounds_body((KmPass *) arg, w, nw);
}
#endif

/* Groups (and their buffers) of one fit, and its thread count. */
typedef struct KmWork
{
	int			threads;
	int			block;
	int			m_max;			/* most centres in one pass */
	int			k;				/* centres whose sums are kept */
	int			p;
	int			G;				/* most groups */
	double	   *scratch;
	double	   *Ct;				/* m_max x p: a pass's centres transposed */
	bool		bounds;			/* Lloyd runs Hamerly passes (bounds_pass) */
	double	   *gather;			/* with bounds: threads x block x p */
	int32	   *gather_rows;	/* with bounds: threads x block */
	double	   *gsums;
	int64	   *gcounts;
	double	   *ginertia;
	int64	   *gchanged;
	double	   *gpot;
} KmWork;

/* Groups for n rows, m centres of p features: a function of those only. */
static int
groups_for(int64 n, int m, int p)
{
	int64		g = Min((int64) 64, (n + KM_BLOCK_ROWS - 1) / KM_BLOCK_ROWS);

	g = Min(g, (int64) ((1 << 22) / Max((int64) m * p, 1)));
	return (int) Max(g, 1);
}

/*
 * Buffers for passes over at most max_rows rows and m_max centres, with the
 * centre sums of k of them (k = 0: no sums, as for predict).
 */
static void
work_init(KmWork *wk, int threads, int m_max, int k, int p, int64 max_rows)
{
	wk->threads = Max(1, Min(threads, TREE_MAX_THREADS));
	wk->m_max = m_max;
	wk->k = k;
	wk->p = p;
	wk->block = (int) Min((int64) block_rows(m_max), Max(max_rows, 1));
	wk->G = 64;
	wk->scratch = alloc_doubles((Size) wk->threads * wk->block * Max(m_max, KM_FUSED_MAX_CENTRES));
	wk->Ct = alloc_doubles((Size) Max(m_max, KM_FUSED_MAX_CENTRES) * p);
	wk->gsums = alloc_doubles(k > 0 ? (Size) groups_for(INT64CONST(1) << 40, k, p) * k * p : 1);
	wk->gcounts = palloc0(sizeof(int64) * wk->G * Max(k, 1));
	wk->ginertia = alloc_doubles(wk->G);
	wk->gchanged = palloc0(sizeof(int64) * wk->G);
	wk->gpot = alloc_doubles((Size) wk->G * m_max);
	/* Hamerly's bounds for a few centres, when a block of rows is small */
	wk->bounds = k >= 2 && k <= KM_FUSED_MAX_CENTRES && (Size) wk->block * p <= KM_BLOCK_DOUBLES;
	wk->gather = wk->bounds ? alloc_doubles((Size) wk->threads * wk->block * p) : NULL;
	wk->gather_rows = wk->bounds ? palloc(sizeof(int32) * wk->threads * wk->block) : NULL;
}

/* Free a work's buffers. */
static void
work_free(KmWork *wk)
{
	pfree(wk->scratch);
	pfree(wk->Ct);
	if (wk->gather)
		pfree(wk->gather);
	if (wk->gather_rows)
		pfree(wk->gather_rows);
	pfree(wk->gsums);
	pfree(wk->gcounts);
	pfree(wk->ginertia);
	pfree(wk->gchanged);
	pfree(wk->gpot);
}

/* The centres of a pass transposed into block_products' layout (p rows of mp, zero past m). */
static void
fuse_centres(KmWork *wk, KmPass *a)
{
	int			mp = fused_width(a->m);

	memset(wk->Ct, 0, sizeof(double) * mp * a->p);
	for (int c = 0; c < a->m; c++)
		for (int j = 0; j < a->p; j++)
			wk->Ct[(Size) j * mp + c] = a->C[(Size) c * a->p + j];
	a->Ct = wk->Ct;
}

/* Whether this CPU runs the AVX2 kernels. */
static inline bool
km_avx2(void)
{
#ifdef KM_HAVE_AVX2
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
	return false;
#endif
}

/* Run a pass on the work's threads. */
static void
run_pass(KmWork *wk, KmPass *a)
{
	int			nw;
	TreeKernel	kernel = pass_kernel;

	Assert(a->m <= wk->m_max);
	a->block = wk->block;
	a->scratch = wk->scratch;
	a->G = groups_for(a->n, a->m, a->p);
	a->fused = a->m <= KM_FUSED_MAX_CENTRES;
	if (a->fused)
		fuse_centres(wk, a);
	nw = tree_threads_for(wk->threads, (double) a->n * a->p * a->m);
	nw = Min(nw, a->G);
#ifdef KM_HAVE_AVX2
	if (km_avx2())
		kernel = pass_kernel_avx2;
#endif
	tree_parallel(Max(nw, 1), kernel, a);
}

/*
 * One Hamerly pass (bounds_body) over rows X[0..n) with squared norms xn
 * against the k centres C (k <= KM_FUSED_MAX_CENTRES) that drifted by drift
 * (and drift_max) since the bounds were set: updates labels, upper, lower,
 * and sums and counts (k x p and k) for the rows that changed centre;
 * returns how many did.  *bound_sum (when not NULL) gets the new upper bounds squared, summed
 * per group in row order (at least the inertia).
 */
static int64
bounds_pass(KmWork *wk, const double *X, const double *xn, int64 n, int p, const double *C,
			const double *cnorm, int k, const double *drift, double drift_max, const double *half_gap,
			int32 *labels, double *upper, double *lower, double *sums, int64 *counts,
			double *bound_sum)
{
	KmPass		a;
	int			nw;
	int64		changed = 0;
	TreeKernel	kernel = bounds_kernel;

	Assert(wk->bounds && k == wk->k);
	memset(&a, 0, sizeof(a));
	a.X = X;
	a.xn = xn;
	a.n = n;
	a.p = p;
	a.C = C;
	a.cnorm = cnorm;
	a.m = k;
	a.labels = labels;
	a.upper = upper;
	a.lower = lower;
	a.drift = drift;
	a.drift_max = drift_max;
	a.half_gap = half_gap;
	a.gsums = wk->gsums;
	a.gcounts = wk->gcounts;
	a.gchanged = wk->gchanged;
	a.ginertia = wk->ginertia;
	a.gather = wk->gather;
	a.gather_rows = wk->gather_rows;
	a.block = wk->block;
	a.scratch = wk->scratch;
	a.G = groups_for(n, k, p);
	fuse_centres(wk, &a);
	nw = Min(tree_threads_for(wk->threads, (double) n * p), a.G);
#ifdef KM_HAVE_AVX2
	if (km_avx2())
		kernel = bounds_kernel_avx2;
#endif
	tree_parallel(Max(nw, 1), kernel, &a);
	for (int g = 0; g < a.G; g++)
	{
		const double *gs = wk->gsums + (Size) g * k * p;

		changed += wk->gchanged[g];
		if (bound_sum)
			*bound_sum += wk->ginertia[g];
		for (Size j = 0; j < (Size) k * p; j++)
			sums[j] += gs[j];
		for (int c = 0; c < k; c++)
			counts[c] += wk->gcounts[(Size) g * k + c];
	}
	return changed;
}

/*
 * Assign n rows to the nearest of m centres: labels, and with mind set the
 * distances, with second the distances to the second nearest (squared, as
 * mind; needs xn), inertia (returned) and, with sums set, each centre's row sums
 * and counts (k x p and k, added up over the groups in order); *changed
 * gets the rows whose label differs from old (when old is given).
 */
static double
assign_rows(KmWork *wk, const double *X, const double *xn, int64 n, int p, const double *C,
			const double *cnorm, int m, int32 *labels, double *mind, double *second,
			const int32 *old, double *sums, int64 *counts, int64 *changed)
{
	KmPass		a;
	double		inertia = 0.0;

	memset(&a, 0, sizeof(a));
	a.mode = PASS_ASSIGN;
	a.X = X;
	a.xn = xn;
	a.n = n;
	a.p = p;
	a.C = C;
	a.cnorm = cnorm;
	a.m = m;
	a.labels = labels;
	a.mind = mind;
	a.second = second;
	a.old = old;
	if (sums)
	{
		Assert(m == wk->k && m > 0);
		a.gsums = wk->gsums;
		a.gcounts = wk->gcounts;
	}
	a.ginertia = wk->ginertia;
	a.gchanged = wk->gchanged;
	run_pass(wk, &a);
	if (sums)
	{
		memset(sums, 0, sizeof(double) * m * p);
		memset(counts, 0, sizeof(int64) * m);
	}
	if (changed)
		*changed = 0;
	for (int g = 0; g < a.G; g++)
	{
		inertia += wk->ginertia[g];
		if (changed)
			*changed += wk->gchanged[g];
		if (sums)
		{
			const double *gs = wk->gsums + (Size) g * m * p;

			for (Size j = 0; j < (Size) m * p; j++)
				sums[j] += gs[j];
			for (int c = 0; c < m; c++)
				counts[c] += wk->gcounts[(Size) g * m + c];
		}
	}
	return inertia;
}

/*
 * k-means++ potentials: the group sums (in *G groups, see group_rows) of
 * min(pot, d(x, C_c)^2) for m candidates, in wk->gpot (G x m); with cpot
 * (m arrays of n) each row's value too, with update (m = 1) pot itself is
 * lowered to it.
 */
static void
potential_pass(KmWork *wk, const double *X, const double *xn, int64 n, int p, const double *C,
			   const double *cnorm, int m, double *pot, double **cpot, bool update, int *G)
{
	KmPass		a;

	memset(&a, 0, sizeof(a));
	a.mode = PASS_POTENTIAL;
	a.X = X;
	a.xn = xn;
	a.n = n;
	a.p = p;
	a.C = C;
	a.cnorm = cnorm;
	a.m = m;
	a.pot = pot;
	a.cpot = cpot;
	a.gpot = wk->gpot;
	a.update = update;
	run_pass(wk, &a);
	*G = a.G;
}

/*
 * A row drawn with probability proportional to its potential: the first
 * row at which the running sum of pot passes r (0 <= r < the total), with
 * gsum[0..G) the sums of pot over group_rows' G groups, each summed in row
 * order as the pass summed them.  The group is found from the group sums,
 * then the row by summing the group's values in the same order, so the
 * sums compared are the very ones the groups' comparison used: the row has
 * a positive potential (a row with none leaves the sum unchanged).  When
 * rounding leaves r at or above every sum, the last row with a positive
 * potential.
 */
static int64
draw_row(const double *pot, int64 n, int G, const double *gsum, double r)
{
	double		before = 0.0;

	for (int g = 0; g < G; g++)
	{
		int64		r0 = n * g / G;
		int64		r1 = n * (g + 1) / G;
		double		s = 0.0;

		if (!(before + gsum[g] > r))
		{
			before += gsum[g];
			continue;
		}
		for (int64 i = r0; i < r1; i++)
		{
			s += pot[i];
			if (before + s > r)
				return i;
		}
		return r1 - 1;			/* not reached: the last row's sum is gsum[g] */
	}
	for (int64 i = n - 1; i > 0; i--)
		if (pot[i] > 0.0)
			return i;
	return 0;
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
 * k-means++ on rows X[0..n) (xn: their squared norms) (greedy: of 2 + ln k
 * candidates drawn in proportion to the squared distance to the nearest
 * centre so far, the one that lowers the potential most).  Writes k centres
 * into C.  One pass per centre: the candidates' pass keeps each one's new
 * potentials, and the winner's become the potential (no pass to update it),
 * with its group sums for drawing the next candidates (draw_row).
 */
static void
kmeans_plusplus(KmWork *wk, const TrainData *d, const double *X, const double *xn, int64 n,
				int p, int k, GalaxyRng *rng, double *C)
{
	int			trials = 2 + (int) log((double) k);
	double	   *pot = alloc_doubles(n);
	double	   *cpot[64];
	double	   *gsum = alloc_doubles(wk->G);
	double	   *cand = alloc_doubles((Size) trials * p);
	double	   *cn = alloc_doubles(trials);
	int64		first = (int64) galaxy_rng_below(rng, (uint64) n);
	int			G;

	Assert(trials <= wk->m_max && trials <= 64);
	for (int t = 0; t < trials; t++)
		cpot[t] = alloc_doubles(n);
	memcpy(C, X + first * p, sizeof(double) * p);
	row_norms(C, 1, p, cn);
	for (int64 i = 0; i < n; i++)
		pot[i] = INFINITY;
	potential_pass(wk, X, xn, n, p, C, cn, 1, pot, NULL, true, &G);
	memcpy(gsum, wk->gpot, sizeof(double) * G);

	for (int c = 1; c < k; c++)
	{
		int64		chosen[64];
		double		best_total = INFINITY;
		int			best = 0;
		double		total = 0.0;
		int			cG;
		double	   *swap;

		CHECK_FOR_INTERRUPTS();
		for (int g = 0; g < G; g++)
			total += gsum[g];
		for (int t = 0; t < trials; t++)
		{
			chosen[t] = total > 0.0 ? draw_row(pot, n, G, gsum, galaxy_rng_uniform(rng) * total) : 0;
			memcpy(cand + (Size) t * p, X + chosen[t] * p, sizeof(double) * p);
		}
		/* every candidate's new potential in one pass; the lowest total wins */
		row_norms(cand, trials, p, cn);
		potential_pass(wk, X, xn, n, p, cand, cn, trials, pot, cpot, false, &cG);
		for (int t = 0; t < trials; t++)
		{
			double		t_total = 0.0;

			for (int g = 0; g < cG; g++)
				t_total += wk->gpot[(Size) g * trials + t];
			if (t_total < best_total)
			{
				best_total = t_total;
				best = t;
			}
		}
		memcpy(C + (Size) c * p, X + chosen[best] * p, sizeof(double) * p);

		/* a centre equal to an earlier one: too few distinct rows? */
		for (int e = 0; e < c; e++)
			if (!(total > 0.0) || sq_dist(C + (Size) e * p, C + (Size) c * p, p) == 0.0)
			{
				check_distinct(d, k);
				break;
			}
		/* the winner's potentials are the potential now */
		swap = pot;
		pot = cpot[best];
		cpot[best] = swap;
		G = cG;
		for (int g = 0; g < G; g++)
			gsum[g] = wk->gpot[(Size) g * trials + best];
	}
	pfree(pot);
	for (int t = 0; t < trials; t++)
		pfree(cpot[t]);
	pfree(gsum);
	pfree(cand);
	pfree(cn);
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

/*
 * A pass over rows X[0..n) in fixed groups (as group_rows'), split over
 * threads: with mean NULL each group's feature sums and, with xn set, the
 * rows' squared norms; with mean set each group's sums of squared
 * deviations from it.  The groups depend on n only, so their sums, added in
 * order by the caller, do not depend on the thread count.
 */
typedef struct KmStats
{
	const double *X;
	int64		n;
	int			p;
	int			G;
	double	   *xn;
	const double *mean;
	double	   *gsum;			/* G x p */
} KmStats;

#define KM_STATS_GROUPS 64

/* Worker w of nw: its groups of a stats pass (a pure numeric kernel). */
static void
stats_kernel(void *arg, int w, int nw)
{
	KmStats    *a = (KmStats *) arg;
	int			p = a->p;

	for (int g = w; g < a->G; g += nw)
	{
		int64		r0 = a->n * g / a->G;
		int64		r1 = a->n * (g + 1) / a->G;
		double	   *gs = a->gsum + (Size) g * p;

		memset(gs, 0, sizeof(double) * p);
		for (int64 i = r0; i < r1; i++)
		{
			const double *x = a->X + i * p;

			if (a->mean == NULL)
			{
				for (int j = 0; j < p; j++)
					gs[j] += x[j];
				if (a->xn)
					a->xn[i] = dot_product(x, x, p);
			}
			else
				for (int j = 0; j < p; j++)
				{
					double		dv = x[j] - a->mean[j];

					gs[j] += dv * dv;
				}
		}
	}
}

/* Run a stats pass; out (p) gets the groups' sums added in order. */
static void
stats_pass(KmWork *wk, const double *X, int64 n, int p, double *xn, const double *mean, double *out)
{
	KmStats		a;

	a.X = X;
	a.n = n;
	a.p = p;
	a.G = (int) Max(1, Min((int64) KM_STATS_GROUPS, n / KM_BLOCK_ROWS));
	a.xn = xn;
	a.mean = mean;
	a.gsum = alloc_doubles((Size) a.G * p);
	tree_parallel(Max(1, Min(tree_threads_for(wk->threads, (double) n * p), a.G)), stats_kernel, &a);
	memset(out, 0, sizeof(double) * p);
	for (int g = 0; g < a.G; g++)
		for (int j = 0; j < p; j++)
			out[j] += a.gsum[(Size) g * p + j];
	pfree(a.gsum);
	CHECK_FOR_INTERRUPTS();
}

/* Squared norms of the n rows of X, in a new array. */
static double *
data_norms(KmWork *wk, const double *X, int64 n, int p)
{
	double	   *xn = alloc_doubles(n);
	double	   *sums = alloc_doubles(p);

	stats_pass(wk, X, n, p, xn, NULL, sums);
	pfree(sums);
	return xn;
}

/*
 * tol in squared distance units: tol x the mean variance of the features
 * (two passes: the means, then the squared deviations from them); with xn
 * set, the first pass also writes the rows' squared norms there (with tol 0
 * it is the only pass).
 */
static double
absolute_tol(KmWork *wk, const TrainData *d, double tol, double *xn)
{
	int			p = d->n_features;
	int64		n = d->n_rows;
	double	   *mean;
	double	   *m2;
	double		var = 0.0;

	if (n == 0 || (tol == 0.0 && xn == NULL))
		return 0.0;
	mean = alloc_doubles(p);
	stats_pass(wk, d->X, n, p, xn, NULL, mean);
	if (tol == 0.0)
	{
		pfree(mean);
		return 0.0;
	}
	m2 = alloc_doubles(p);
	for (int j = 0; j < p; j++)
		mean[j] /= (double) n;
	stats_pass(wk, d->X, n, p, NULL, mean, m2);
	for (int j = 0; j < p; j++)
		var += m2[j] / (double) n;
	pfree(mean);
	pfree(m2);
	return tol * var / p;
}

/*
 * Add each centre's move from prev to C to its drift, and the largest move
 * to *drift_max (what the Hamerly bounds are stored relative to).
 */
static void
add_drift(const double *C, const double *prev, int k, int p, double *drift, double *drift_max)
{
	double		most = 0.0;

	for (int c = 0; c < k; c++)
	{
		double		moved = sqrt(sq_dist(C + (Size) c * p, prev + (Size) c * p, p));

		drift[c] += moved;
		most = Max(most, moved);
	}
	*drift_max += most;
}

/* Half the distance from each of k centres to the nearest other one. */
static void
half_gaps(const double *C, int k, int p, double *out)
{
	for (int c = 0; c < k; c++)
		out[c] = INFINITY;
	for (int c = 0; c < k; c++)
		for (int e = c + 1; e < k; e++)
		{
			double		h = 0.5 * sqrt(sq_dist(C + (Size) c * p, C + (Size) e * p, p));

			out[c] = Min(out[c], h);
			out[e] = Min(out[e], h);
		}
}

/*
 * One run of Lloyd from the centres in C (updated), as scikit-learn's: stop
 * when no label changes (strict convergence) or the squared centre shift is
 * at most tol_abs; afterwards the labels of the final centres.  Returns the
 * exact inertia.
 *
 * With the work's bounds (few centres), every iteration after the first is a
 * Hamerly pass (bounds_pass): the same labels, but most rows are not read
 * once they have settled, and the centre sums change by the rows that moved.
 * The progress then shows the sum of the rows' upper bounds squared, at
 * least the inertia.  An empty cluster (rare) takes a full pass.
 */
static double
lloyd_run(KmWork *wk, const TrainData *d, const double *xn, int k, int max_iter, double tol_abs,
		  const FitContext *ctx, double *C, int32 *labels, double *mind, int32 *n_iter)
{
	int64		n = d->n_rows;
	int			p = d->n_features;
	bool		bounds = wk->bounds && xn != NULL;
	bool		need_full = true;
	double	   *cn = alloc_doubles(k);
	double	   *sums = alloc_doubles((Size) k * p);
	int64	   *counts = palloc0(sizeof(int64) * k);
	int32	   *old = bounds ? NULL : MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
	double	   *upper = bounds ? alloc_doubles(n) : NULL;
	double	   *lower = bounds ? alloc_doubles(n) : NULL;
	double	   *prev = alloc_doubles((Size) k * p);
	double	   *drift = alloc_doubles(k);
	double		drift_max = 0.0;
	double	   *half_gap = alloc_doubles(k);
	bool		strict = false;
	int			it;

	for (it = 1; it <= max_iter; it++)
	{
		double		inertia = 0.0;
		double		shift = 0.0;
		int64		changed;
		bool		empty = false;

		CHECK_FOR_INTERRUPTS();
		row_norms(C, k, p, cn);
		if (bounds && !need_full)
		{
			add_drift(C, prev, k, p, drift, &drift_max);
			half_gaps(C, k, p, half_gap);
			changed = bounds_pass(wk, d->X, xn, n, p, C, cn, k, drift, drift_max, half_gap, labels,
								  upper, lower, sums, counts, &inertia);
		}
		else if (bounds)
		{
			/* the first pass (or one after an empty cluster) sets the bounds */
			inertia = assign_rows(wk, d->X, xn, n, p, C, cn, k, labels, mind, lower, NULL,
								  sums, counts, NULL);
			for (int64 i = 0; i < n; i++)
			{
				upper[i] = sqrt(mind[i]);
				lower[i] = sqrt(lower[i]);
			}
			memset(drift, 0, sizeof(double) * k);
			drift_max = 0.0;
			changed = it > 1 ? 1 : 0;	/* not known: no strict convergence yet */
			need_full = false;
		}
		else
			inertia = assign_rows(wk, d->X, xn, n, p, C, cn, k, labels, mind, NULL, it > 1 ? old : NULL,
								  sums, counts, &changed);

		for (int c = 0; c < k; c++)
			empty |= counts[c] == 0;
		if (empty && bounds)
		{
			/* exact distances for the rule below, and sums afresh */
			inertia = assign_rows(wk, d->X, xn, n, p, C, cn, k, labels, mind, NULL, NULL,
								  sums, counts, NULL);
			need_full = true;
		}
		/* an empty cluster takes the row farthest from its centre */
		for (int c = 0; c < k && empty; c++)
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
			changed++;
		}
		/* new centres: the mean of each cluster's rows */
		memcpy(prev, C, sizeof(double) * k * p);
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
		if (it > 1 && changed == 0)
		{
			strict = true;
			break;
		}
		if (shift <= tol_abs)
			break;
		if (old)
			memcpy(old, labels, sizeof(int32) * n);
	}
	*n_iter = Min(it, max_iter);
	/* the labels of the final centres */
	if (!strict)
	{
		row_norms(C, k, p, cn);
		if (bounds && !need_full)
		{
			add_drift(C, prev, k, p, drift, &drift_max);
			half_gaps(C, k, p, half_gap);
			bounds_pass(wk, d->X, xn, n, p, C, cn, k, drift, drift_max, half_gap, labels, upper, lower,
						sums, counts, NULL);
		}
		else
			assign_rows(wk, d->X, xn, n, p, C, cn, k, labels, mind, NULL, NULL, NULL, NULL, NULL);
	}
	pfree(cn);
	pfree(sums);
	pfree(counts);
	if (old)
		pfree(old);
	if (upper)
	{
		pfree(upper);
		pfree(lower);
	}
	pfree(prev);
	pfree(drift);
	pfree(half_gap);
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
	double	   *Sn;
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
	Sn = data_norms(wk, S, m, p);
	lab = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(m, batch));
	mind = alloc_doubles(Max(m, batch));
	for (int r = 0; r < n_init; r++)
	{
		GalaxyRng	irng;
		double		s;

		galaxy_rng_seed(&irng, ctx->seed, UINT64CONST(0x4B4D0100) + r);
		kmeans_plusplus(wk, d, S, Sn, m, p, k, &irng, cand);
		row_norms(cand, k, p, cn);
		s = assign_rows(wk, S, Sn, m, p, cand, cn, k, lab, mind, NULL, NULL, NULL, NULL, NULL);
		if (s < best)
		{
			best = s;
			memcpy(init, cand, sizeof(double) * k * p);
		}
	}
	memcpy(C, init, sizeof(double) * k * p);
	pfree(S);
	pfree(Sn);
	pfree(idx);

	B = alloc_doubles((Size) batch * p);
	steps_per_pass = (n + batch - 1) / batch;
	steps = steps_per_pass * max_iter;
	for (step = 1; step <= steps; step++)
	{
		double		binertia;
		double		shift = 0.0;
		double		alpha = (double) batch * 2.0 / ((double) n + 1.0);

		CHECK_FOR_INTERRUPTS();
		for (int64 i = 0; i < batch; i++)
			memcpy(B + i * p, d->X + (int64) galaxy_rng_below(&rng, (uint64) n) * p, sizeof(double) * p);
		row_norms(C, k, p, cn);
		binertia = assign_rows(wk, B, NULL, batch, p, C, cn, k, lab, mind, NULL, NULL, sums, nb, NULL);
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

/*
 * The streaming solver's initial centres (algo.h): k-means++ on the sample
 * X, n_init runs seeded as kmeans_fit seeds them, each refined by Lloyd
 * iterations on the sample; C gets the refined centres of the run with the
 * lowest sample inertia.
 */
void
kmeans_sample_centres(const double *X, int64 n, int p, int k, int n_init, int max_iter,
					  uint64 seed, int threads, double *C)
{
	TrainData	d = {0};
	FitContext	ctx = {0};
	KmWork		wk;
	double	   *xn;
	double	   *run = alloc_doubles((Size) k * p);
	int32	   *labels = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
	double	   *mind = alloc_doubles(n);
	double		best = INFINITY;

	if (n < k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("kmeans: n_clusters = %d is larger than the number of sampled training rows (" INT64_FORMAT ")",
						k, n),
				 errhint("Lower n_clusters, or train on more rows.")));
	d.n_rows = n;
	d.n_features = p;
	d.X = X;
	d.task = TASK_CLUSTERING;
	ctx.seed = seed;
	ctx.threads = threads;
	galaxy_set_blas_threads(1);
	work_init(&wk, threads, Max(k, 2 + (int) log((double) k)), k, p, n);
	xn = data_norms(&wk, X, n, p);
	for (int r = 0; r < n_init; r++)
	{
		GalaxyRng	rng;
		int32		it;
		double		inertia;

		galaxy_rng_seed(&rng, seed, UINT64CONST(0x4B4D0100) + r);
		kmeans_plusplus(&wk, &d, X, xn, n, p, k, &rng, run);
		inertia = lloyd_run(&wk, &d, xn, k, max_iter, 0.0, &ctx, run, labels, mind, &it);
		if (r == 0 || inertia < best)
		{
			best = inertia;
			memcpy(C, run, sizeof(double) * k * p);
		}
	}
	work_free(&wk);
	pfree(xn);
	pfree(run);
	pfree(labels);
	pfree(mind);
}

/* A model from its centres (algo.h): the streaming solver's. */
void *
kmeans_state_from_centres(int k, int p, const double *centers, const double *init,
						  double inertia, int n_iter, const int64 *sizes)
{
	KMeansState *st = palloc0(sizeof(KMeansState));

	st->k = k;
	st->p = p;
	st->centers = alloc_doubles((Size) k * p);
	st->init_centers = alloc_doubles((Size) k * p);
	st->sizes = palloc0(sizeof(int64) * k);
	memcpy(st->centers, centers, sizeof(double) * k * p);
	memcpy(st->init_centers, init, sizeof(double) * k * p);
	memcpy(st->sizes, sizes, sizeof(int64) * k);
	st->inertia = isfinite(inertia) ? inertia : DBL_MAX;
	st->n_iter = n_iter;
	return st;
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
	double	   *cn;
	double	   *xn = NULL;
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
	/* k-means++ holds 1 + (2 + ln k) potentials beside the norms, distances and labels */
	galaxy_check_training_memory(sizeof(double) * ((Size) n * Max(7, 6 + (int) log((double) k)) +
												   (Size) 70 * k * p) +
								 sizeof(int32) * (Size) n * 2,
								 "kmeans assignments and centres");

	/* the threads run single-threaded dgemms side by side */
	galaxy_set_blas_threads(1);
	work_init(&wk, ctx->threads, Max(k, 2 + (int) log((double) k)), k, p, n);
	/* Lloyd's runs use the rows' squared norms: the tolerance's first pass takes them */
	if (batch <= 0)
		xn = alloc_doubles(n);
	tol_abs = absolute_tol(&wk, d, tol, xn);

	st = palloc0(sizeof(KMeansState));
	st->k = k;
	st->p = p;
	st->centers = alloc_doubles((Size) k * p);
	st->init_centers = alloc_doubles((Size) k * p);
	st->sizes = palloc0(sizeof(int64) * k);
	labels = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * Max(n, 1));
	mind = alloc_doubles(n);
	C = alloc_doubles((Size) k * p);
	cn = alloc_doubles(k);

	if (batch > 0)
		/* as scikit-learn's MiniBatchKMeans: tol only when asked for */
		minibatch_run(&wk, d, k, n_init, max_iter, hp->given[HP_TOL] ? tol_abs : 0.0, batch, ctx,
					  st->init_centers, st->centers, &st->n_iter);
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
			kmeans_plusplus(&wk, d, d->X, xn, n, p, k, &rng, C);
			memcpy(init, C, sizeof(double) * k * p);
			inertia = lloyd_run(&wk, d, xn, k, max_iter, tol_abs, ctx, C, labels, mind, &it);
			if (r == 0 || inertia < st->inertia)
			{
				st->inertia = inertia;
				st->n_iter = it;
				memcpy(st->centers, C, sizeof(double) * k * p);
				memcpy(st->init_centers, init, sizeof(double) * k * p);
			}
		}
		pfree(init);
	}
	/*
	 * The final assignment: cluster sizes and the exact inertia (a single
	 * Lloyd run left both: its labels are those of its final centres).
	 */
	if (batch > 0 || n_init > 1)
	{
		row_norms(st->centers, k, p, cn);
		assign_rows(&wk, d->X, xn, n, p, st->centers, cn, k, labels, NULL, NULL, NULL, NULL, NULL, NULL);
		st->inertia = exact_inertia(d->X, n, p, st->centers, labels);
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
	pfree(cn);
	if (xn)
		pfree(xn);
	work_free(&wk);
	return st;
}

/*
 * Cluster index of each row: the nearest centre.  Many rows (scoring a
 * training run, a batch predict) are split over galaxy.threads threads, as
 * the trees' predict does, when the products need no dgemm.
 */
static void
kmeans_predict(const void *state, const double *X, int64 n, double *out)
{
	const KMeansState *st = state;
	KmWork		wk;
	double	   *cn;
	int64		chunk = 65536;
	int32	   *lab;
	int			threads = (n >= 4096 && st->k <= KM_FUSED_MAX_CENTRES) ? galaxy_threads : 1;

	if (n <= 0)
		return;
	cn = alloc_doubles(st->k);
	chunk = Min(chunk, n);
	work_init(&wk, threads, st->k, 0, st->p, chunk);
	lab = palloc(sizeof(int32) * chunk);
	row_norms(st->centers, st->k, st->p, cn);
	for (int64 start = 0; start < n; start += chunk)
	{
		int64		m = Min(chunk, n - start);

		if (start > 0)
			CHECK_FOR_INTERRUPTS();
		assign_rows(&wk, X + start * st->p, NULL, m, st->p, st->centers, cn, st->k, lab, NULL, NULL,
					NULL, NULL, NULL, NULL);
		for (int64 i = 0; i < m; i++)
			out[start + i] = lab[i];
	}
	pfree(lab);
	pfree(cn);
	work_free(&wk);
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
