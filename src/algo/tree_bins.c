/*
 * tree_bins.c — binning for the tree models: bin edges from a seeded sample
 * of the training rows (sorted by galaxy_sort_doubles), the uint8 codes of every
 * row, and the raw threshold of a split between two bins.  See tree_core.h.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "galaxy.h"
#include "algo/tree_core.h"
#include "util/sort.h"

/* Rows sampled to place the bin edges (like LightGBM's bin_construct_sample_cnt). */
#define TREE_BIN_SAMPLE		200000
/* Rows coded per block in the coding pass. */
#define TREE_CODE_BLOCK		4096

/* A cut between a < b: their midpoint, kept in [a, b). */
static inline double
midpoint(double a, double b)
{
	double		m = a + (b - a) / 2.0;

	if (!isfinite(m))
		m = a / 2.0 + b / 2.0;
	if (!(m >= a && m < b))
		m = a;
	return m;
}

typedef struct BinFitArg
{
	const double *X;
	int64		n;
	int			p;
	int			max_bins;
	/* edge placement */
	double	   *sample;			/* p x m column-major sample, or with rows nw x m */
	const double *rows;			/* or NULL: m x p row-major sample */
	uint64	   *sort_tmp;		/* nw x 2m radix keys */
	int64		m;
	int		   *n_edges;		/* p */
	double	   *edge_tab;		/* p x 256 padded edge tables */
	bool	   *has_nan;		/* p */
	/* coding */
	TreeBins   *tb;
	int		   *step;			/* p: first step of the binary search */
	double	   *lo;				/* nw x total_bins */
	double	   *hi;
	bool	   *nan_w;			/* nw x p */
} BinFitArg;

/* Kernel: find which features have NaN (rows split in blocks by worker). */
static void
bins_nan_kernel(void *argp, int w, int nw)
{
	BinFitArg  *a = (BinFitArg *) argp;
	bool	   *flag = a->nan_w + (Size) w * a->p;
	int64		r0,
				r1;

	tree_worker_rows(a->n, w, nw, &r0, &r1);
	for (int64 i = r0; i < r1; i++)
	{
		const double *row = a->X + i * a->p;

		for (int f = 0; f < a->p; f++)
			if (isnan(row[f]))
				flag[f] = true;
	}
}

/*
 * Place at most B - 1 edges among the m sorted, non-NaN values v into tab;
 * returns how many.  One bin per distinct value when they are few enough,
 * else cuts after the runs holding the k/B-th values; non-finite edges
 * (infinite inputs) are dropped.
 */
static int
place_edges(const double *v, int64 m, int B, double *tab)
{
	int			E = 0;
	int64		distinct = 0;

	for (int64 i = 0; i < m; i++)
		if (i == 0 || v[i] != v[i - 1])
			distinct++;

	if (distinct <= B)
	{
		/* one bin per distinct value */
		for (int64 i = 1; i < m; i++)
			if (v[i] != v[i - 1])
				tab[E++] = midpoint(v[i - 1], v[i]);
	}
	else
	{
		/* quantiles: cut after the run holding the k/B-th value */
		for (int k = 1; k < B && E < B - 1; k++)
		{
			int64		idx = (int64) ((double) k * (double) m / (double) B);
			double		q = v[idx];
			int64		lo = idx,
						hi = m;
			double		edge;

			/* first position holding a value > q */
			while (lo < hi)
			{
				int64		mid = lo + (hi - lo) / 2;

				if (v[mid] > q)
					hi = mid;
				else
					lo = mid + 1;
			}
			if (lo >= m)
				break;
			edge = midpoint(q, v[lo]);
			if (E > 0 && edge <= tab[E - 1])
				continue;
			tab[E++] = edge;
		}
	}
	/* drop non-finite edges (infinite inputs) */
	{
		int			k = 0;

		for (int i = 0; i < E; i++)
			if (isfinite(tab[i]))
				tab[k++] = tab[i];
		E = k;
	}
	return E;
}

/* Kernel: sort each feature's sample and place its edges (features by worker). */
static void
bins_edges_kernel(void *argp, int w, int nw)
{
	BinFitArg  *a = (BinFitArg *) argp;

	for (int f = w; f < a->p; f += nw)
	{
		double	   *v = a->sample + (Size) (a->rows ? w : f) * a->m;
		double	   *tab = a->edge_tab + (Size) f * TREE_MAX_BINS;
		int64		m = 0;
		int			B = a->max_bins;
		int			E;

		/* the column without NaN, sorted */
		if (a->rows)
		{
			for (int64 i = 0; i < a->m; i++)
			{
				double		x = a->rows[(Size) i * a->p + f];

				if (!isnan(x))
					v[m++] = x;
			}
		}
		else
		{
			for (int64 i = 0; i < a->m; i++)
				if (!isnan(v[i]))
					v[m++] = v[i];
		}
		galaxy_sort_doubles(v, m, a->sort_tmp + (Size) w * 2 * a->m);

		if (a->has_nan[f] && B > TREE_MAX_BINS - 1)
			B = TREE_MAX_BINS - 1;	/* one code stays free for NaN */

		E = place_edges(v, m, B, tab);
		/* pad with +inf */
		for (int i = E; i < TREE_MAX_BINS; i++)
			tab[i] = INFINITY;
		a->n_edges[f] = E;
	}
}

/* Place each column's bin edges among m rows (see algo.h). */
void
algo_bin_edges_rows(const double *rows, int64 m, int p, int max_bins,
					double *edges, int *n_edges, int threads)
{
	BinFitArg	a;
	int			nw;

	Assert(max_bins >= 2 && max_bins <= ALGO_MAX_BIN_EDGES + 1);
	memset(&a, 0, sizeof(a));
	a.p = p;
	a.m = m;
	a.max_bins = max_bins;
	a.has_nan = palloc0(sizeof(bool) * Max(p, 1));
	a.n_edges = n_edges;
	a.edge_tab = palloc(sizeof(double) * (Size) Max(p, 1) * TREE_MAX_BINS);
	a.rows = rows;
	nw = Max(Min(tree_threads_for(threads, (double) m * p * 20.0), p), 1);
	/* a column at a time per worker */
	a.sample = galaxy_alloc_filled(sizeof(double) * Max(m, 1) * nw);
	a.sort_tmp = galaxy_alloc_filled(sizeof(uint64) * 2 * Max(m, 1) * nw);
	tree_parallel(nw, bins_edges_kernel, &a);
	for (int f = 0; f < p; f++)
	{
		Assert(n_edges[f] < max_bins && n_edges[f] <= ALGO_MAX_BIN_EDGES);
		memcpy(edges + (Size) f * ALGO_MAX_BIN_EDGES, a.edge_tab + (Size) f * TREE_MAX_BINS,
			   sizeof(double) * n_edges[f]);
	}
	pfree(a.sort_tmp);
	pfree(a.sample);
	pfree(a.edge_tab);
	pfree(a.has_nan);
}

/* Kernel: code every row (rows split in blocks by worker). */
static void
bins_code_kernel(void *argp, int w, int nw)
{
	BinFitArg  *a = (BinFitArg *) argp;
	TreeBins   *tb = a->tb;
	int			p = a->p;
	int64		n = a->n;
	int64		nblocks = (n + TREE_CODE_BLOCK - 1) / TREE_CODE_BLOCK;
	double	   *lo = a->lo + (Size) w * tb->total_bins;
	double	   *hi = a->hi + (Size) w * tb->total_bins;

	for (int64 blk = w; blk < nblocks; blk += nw)
	{
		int64		r0 = blk * TREE_CODE_BLOCK;
		int64		r1 = Min(n, r0 + TREE_CODE_BLOCK);

		for (int f = 0; f < p; f++)
		{
			const double *tab = a->edge_tab + (Size) f * TREE_MAX_BINS;
			uint8	   *col = tb->codes + (Size) f * n;
			int			step0 = a->step[f];
			int			mb = tb->missing_bin[f];
			int			off = tb->offset[f];

			for (int64 i = r0; i < r1; i++)
			{
				double		x = a->X[i * p + f];
				int			pos = 0;
				int			slot;

				if (isnan(x))
					pos = mb;
				else
				{
					for (int s = step0; s > 0; s >>= 1)
						pos += (tab[pos + s - 1] < x) ? s : 0;
				}
				col[i] = (uint8) pos;
				slot = off + pos;
				if (!isnan(x))
				{
					if (x < lo[slot])
						lo[slot] = x;
					if (x > hi[slot])
						hi[slot] = x;
				}
			}
		}
	}
}

/* Bytes tree_bins_fit needs for n rows x p features (codes, sample, edge tables). */
double
tree_bins_memory(int64 n, int p)
{
	double		cap = Min((double) TREE_BIN_SAMPLE, Max(20000.0, 16000000.0 / Max(p, 1)));

	return (double) n * p + Min((double) n, cap) * p * sizeof(double) +
		(double) p * TREE_MAX_BINS * sizeof(double) * 2;
}

/* Fit bin edges on X and code every row. */
TreeBins *
tree_bins_fit(const double *X, int64 n, int p, int max_bins, uint64 seed, int threads)
{
	TreeBins   *tb = palloc0(sizeof(TreeBins));
	BinFitArg	a;
	int64		m;
	int64		cap;
	int			nw;

	memset(&a, 0, sizeof(a));
	a.X = X;
	a.n = n;
	a.p = p;
	a.max_bins = max_bins;

	tb->n_rows = n;
	tb->n_features = p;
	tb->max_bins = max_bins;
	tb->n_bins = palloc(sizeof(int) * p);
	tb->missing_bin = palloc(sizeof(int) * p);
	tb->offset = palloc(sizeof(int) * (p + 1));

	/* which features have NaN */
	nw = tree_threads_for(threads, (double) n * p);
	a.nan_w = palloc0(sizeof(bool) * p * nw);
	tree_parallel(nw, bins_nan_kernel, &a);
	a.has_nan = palloc0(sizeof(bool) * p);
	for (int w = 0; w < nw; w++)
		for (int f = 0; f < p; f++)
			a.has_nan[f] |= a.nan_w[(Size) w * p + f];
	CHECK_FOR_INTERRUPTS();

	/* sample rows for the edges: all of them when few, else a seeded subset */
	cap = Max((int64) 20000, (int64) 16000000 / Max(p, 1));
	cap = Min(cap, (int64) TREE_BIN_SAMPLE);
	m = Min(n, cap);
	a.m = m;
	a.sample = galaxy_alloc_filled(sizeof(double) * (Size) m * p);
	{
		GalaxyRng	rng;
		int64		taken = 0;

		galaxy_rng_seed(&rng, seed, UINT64CONST(0x42494E53));
		for (int64 i = 0; i < n && taken < m; i++)
		{
			/* selection sampling: keep row i with probability need / left */
			if (m == n || galaxy_rng_uniform(&rng) * (double) (n - i) < (double) (m - taken))
			{
				const double *row = X + i * p;

				for (int f = 0; f < p; f++)
					a.sample[(Size) f * m + taken] = row[f];
				taken++;
			}
		}
		a.m = m = taken;
	}
	CHECK_FOR_INTERRUPTS();

	a.n_edges = palloc(sizeof(int) * p);
	a.edge_tab = palloc(sizeof(double) * (Size) p * TREE_MAX_BINS);
	nw = Min(tree_threads_for(threads, (double) m * p * 20.0), p);
	a.sort_tmp = galaxy_alloc_filled(sizeof(uint64) * 2 * (Size) m * nw);
	tree_parallel(nw, bins_edges_kernel, &a);
	pfree(a.sort_tmp);
	pfree(a.sample);
	CHECK_FOR_INTERRUPTS();

	/* layout of the histogram slots */
	tb->total_bins = 0;
	for (int f = 0; f < p; f++)
	{
		tb->n_bins[f] = a.n_edges[f] + 1;
		tb->missing_bin[f] = a.has_nan[f] ? tb->n_bins[f] : -1;
		tb->offset[f] = tb->total_bins;
		tb->total_bins += tb->n_bins[f] + (a.has_nan[f] ? 1 : 0);
	}
	tb->offset[p] = tb->total_bins;
	tb->edges = palloc(sizeof(double) * tb->total_bins);
	for (int f = 0; f < p; f++)
	{
		int			span = tb->offset[f + 1] - tb->offset[f];

		for (int b = 0; b < span; b++)
			tb->edges[tb->offset[f] + b] = (b < a.n_edges[f]) ?
				a.edge_tab[(Size) f * TREE_MAX_BINS + b] : INFINITY;
	}

	/* first step of each feature's branch-free binary search */
	a.step = palloc(sizeof(int) * p);
	for (int f = 0; f < p; f++)
	{
		int			s = 0;

		if (a.n_edges[f] > 0)
		{
			s = 1;
			while (2 * s - 1 < a.n_edges[f])
				s <<= 1;
		}
		a.step[f] = s;
	}

	/* code all rows */
	tb->codes = galaxy_alloc_filled(sizeof(uint8) * (Size) n * p);
	a.tb = tb;
	nw = tree_threads_for(threads, (double) n * p * 4.0);
	a.lo = palloc_extended(sizeof(double) * (Size) tb->total_bins * nw, MCXT_ALLOC_HUGE);
	a.hi = palloc_extended(sizeof(double) * (Size) tb->total_bins * nw, MCXT_ALLOC_HUGE);
	for (Size i = 0; i < (Size) tb->total_bins * nw; i++)
	{
		a.lo[i] = INFINITY;
		a.hi[i] = -INFINITY;
	}
	tree_parallel(nw, bins_code_kernel, &a);
	tb->bin_lo = palloc(sizeof(double) * tb->total_bins);
	tb->bin_hi = palloc(sizeof(double) * tb->total_bins);
	for (int s = 0; s < tb->total_bins; s++)
	{
		double		l = INFINITY,
					h = -INFINITY;

		for (int w = 0; w < nw; w++)
		{
			l = Min(l, a.lo[(Size) w * tb->total_bins + s]);
			h = Max(h, a.hi[(Size) w * tb->total_bins + s]);
		}
		tb->bin_lo[s] = l;
		tb->bin_hi[s] = h;
	}
	pfree(a.lo);
	pfree(a.hi);
	pfree(a.edge_tab);
	pfree(a.step);
	pfree(a.n_edges);
	pfree(a.has_nan);
	pfree(a.nan_w);
	CHECK_FOR_INTERRUPTS();
	return tb;
}

/*
 * The bins of features loaded as codes (TrainData.Xb; see algo.h): the codes
 * are shared, not copied.  The training values within each bin are not
 * known (bin_lo and bin_hi are NaN), so a split's threshold is the upper
 * edge of its left bin: a code then says on which side of every threshold
 * its row falls, whatever the row's value was.
 */
TreeBins *
tree_bins_from_binned(const BinnedFeatures *bf)
{
	TreeBins   *tb = palloc0(sizeof(TreeBins));
	int			p = bf->n_features;

	tb->n_rows = bf->n_rows;
	tb->n_features = p;
	tb->max_bins = bf->max_bins;
	tb->codes = bf->codes;
	tb->n_bins = palloc(sizeof(int) * Max(p, 1));
	tb->missing_bin = palloc(sizeof(int) * Max(p, 1));
	tb->offset = palloc(sizeof(int) * (p + 1));
	tb->total_bins = 0;
	for (int f = 0; f < p; f++)
	{
		if (bf->n_edges[f] < 0 || bf->n_edges[f] >= TREE_MAX_BINS)
			elog(ERROR, "galaxy: feature %d has %d bin edges", f, bf->n_edges[f]);
		tb->n_bins[f] = bf->n_edges[f] + 1;
		tb->missing_bin[f] = -1;
		tb->offset[f] = tb->total_bins;
		tb->total_bins += tb->n_bins[f];
	}
	tb->offset[p] = tb->total_bins;
	tb->edges = palloc(sizeof(double) * Max(tb->total_bins, 1));
	tb->bin_lo = palloc(sizeof(double) * Max(tb->total_bins, 1));
	tb->bin_hi = palloc(sizeof(double) * Max(tb->total_bins, 1));
	for (int f = 0; f < p; f++)
	{
		const double *e = bf->edges + (Size) f * ALGO_MAX_BIN_EDGES;

		for (int b = 0; b < tb->n_bins[f]; b++)
		{
			tb->edges[tb->offset[f] + b] = b < bf->n_edges[f] ? e[b] : INFINITY;
			tb->bin_lo[tb->offset[f] + b] = NAN;
			tb->bin_hi[tb->offset[f] + b] = NAN;
		}
	}
	return tb;
}

/*
 * Raw threshold for "codes <= b left" when the next non-empty bin is b2 > b:
 * halfway between the training values on either side, or, when they are
 * not known (tree_bins_from_binned), the upper edge of bin b.
 */
double
tree_bins_threshold(const TreeBins *tb, int f, int b, int b2)
{
	int			off = tb->offset[f];
	double		lo = tb->edges[off + b];
	double		hi = tb->edges[off + b2 - 1];
	double		t;

	/* halfway between the values on either side, as exact CART does (NaN: unknown) */
	t = tb->bin_hi[off + b] / 2.0 + tb->bin_lo[off + b2] / 2.0;
	if (!(t >= lo))
		t = lo;
	if (t > hi)
		t = hi;
	if (!isfinite(t))
		t = lo;					/* b < b2 <= last value bin: edge b is finite */
	return t;
}
