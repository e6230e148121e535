/*
 * tree_core.c — binning, the flat tree model (build, predict, serialise,
 * validate), feature importance, the thread runner and the CART grower that
 * decision_tree and random_forest share.  See tree_core.h.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "algo/tree_core.h"
#include "galaxy.h"
#include "model/model.h"

/* Rows sampled to place the bin edges (like LightGBM's bin_construct_sample_cnt). */
#define TREE_BIN_SAMPLE		200000
/* Rows coded per block in the coding pass. */
#define TREE_CODE_BLOCK		4096

/* ======================================================================
 * Threads
 * ====================================================================== */

typedef struct TreeThreadArg
{
	TreeKernel	kernel;
	void	   *arg;
	int			w;
	int			nw;
} TreeThreadArg;

/* Entry point of a worker thread: run its share of the kernel. */
static void *
tree_thread_main(void *p)
{
	TreeThreadArg *a = (TreeThreadArg *) p;

	a->kernel(a->arg, a->w, a->nw);
	return NULL;
}

/* Run a pure numeric kernel on nw workers (worker 0 is the calling thread). */
void
tree_parallel(int nw, TreeKernel kernel, void *arg)
{
	pthread_t	tids[TREE_MAX_THREADS];
	TreeThreadArg args[TREE_MAX_THREADS];
	bool		started[TREE_MAX_THREADS];
	sigset_t	all,
				old;

	if (nw <= 1)
	{
		kernel(arg, 0, 1);
		return;
	}
	if (nw > TREE_MAX_THREADS)
		nw = TREE_MAX_THREADS;

	/* threads inherit the mask: PostgreSQL's signals stay with this thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int w = 1; w < nw; w++)
	{
		args[w].kernel = kernel;
		args[w].arg = arg;
		args[w].w = w;
		args[w].nw = nw;
		started[w] = pthread_create(&tids[w], NULL, tree_thread_main, &args[w]) == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	kernel(arg, 0, nw);
	for (int w = 1; w < nw; w++)
	{
		if (started[w])
			pthread_join(tids[w], NULL);
		else
			kernel(arg, w, nw); /* could not start: do its share here */
	}
}

/* Threads worth starting for 'work' elementary operations. */
int
tree_threads_for(int threads, double work)
{
	if (threads <= 1 || work < 200000.0)
		return 1;
	if (threads > TREE_MAX_THREADS)
		threads = TREE_MAX_THREADS;
	return threads;
}

/* ======================================================================
 * Binning
 * ====================================================================== */

/* Sort doubles ascending (three-way quicksort; duplicates are common). */
static void
sort_doubles(double *a, int64 n)
{
	while (n > 16)
	{
		double		x = a[0],
					y = a[n / 2],
					z = a[n - 1];
		double		pivot;
		int64		lt = 0,
					i = 0,
					gt = n;

		/* median of three */
		if (x > y)
		{
			double		t = x;

			x = y;
			y = t;
		}
		pivot = (z < x) ? x : (z > y ? y : z);

		while (i < gt)
		{
			double		v = a[i];

			if (v < pivot)
			{
				a[i++] = a[lt];
				a[lt++] = v;
			}
			else if (v > pivot)
			{
				a[i] = a[--gt];
				a[gt] = v;
			}
			else
				i++;
		}
		/* recurse on the smaller side, loop on the larger */
		if (lt < n - gt)
		{
			sort_doubles(a, lt);
			a += gt;
			n -= gt;
		}
		else
		{
			sort_doubles(a + gt, n - gt);
			n = lt;
		}
	}
	for (int64 i = 1; i < n; i++)
	{
		double		v = a[i];
		int64		j = i;

		while (j > 0 && a[j - 1] > v)
		{
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

/* Order-preserving map of a (non-NaN) double onto an unsigned key. */
static inline uint64
double_key(double v)
{
	uint64		u;

	memcpy(&u, &v, sizeof(u));
	return (u >> 63) ? ~u : (u | (UINT64CONST(1) << 63));
}

/* Inverse of double_key. */
static inline double
key_double(uint64 u)
{
	double		v;

	u = (u >> 63) ? (u & ~(UINT64CONST(1) << 63)) : ~u;
	memcpy(&v, &u, sizeof(v));
	return v;
}

/*
 * Sort n doubles (no NaN) ascending: LSD radix sort on 8-bit digits, skipping
 * the digits all keys share; 'tmp' holds 2 x n keys.  Small inputs use the
 * quicksort.
 */
static void
radix_sort_doubles(double *a, int64 n, uint64 *tmp)
{
	uint64	   *k = tmp;
	uint64	   *k2 = tmp + n;
	int64		count[8][256];

	if (n < 2048)
	{
		sort_doubles(a, n);
		return;
	}
	memset(count, 0, sizeof(count));
	for (int64 i = 0; i < n; i++)
	{
		uint64		u = double_key(a[i]);

		k[i] = u;
		for (int d = 0; d < 8; d++)
			count[d][(u >> (8 * d)) & 0xFF]++;
	}
	for (int d = 0; d < 8; d++)
	{
		int64		pos = 0;
		bool		one_bucket = false;

		for (int b = 0; b < 256; b++)
			if (count[d][b] == n)
				one_bucket = true;
		if (one_bucket)
			continue;
		for (int b = 0; b < 256; b++)
		{
			int64		c = count[d][b];

			count[d][b] = pos;
			pos += c;
		}
		for (int64 i = 0; i < n; i++)
		{
			uint64		u = k[i];

			k2[count[d][(u >> (8 * d)) & 0xFF]++] = u;
		}
		{
			uint64	   *t = k;

			k = k2;
			k2 = t;
		}
	}
	for (int64 i = 0; i < n; i++)
		a[i] = key_double(k[i]);
}

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
	double	   *sample;			/* p x m column-major sample */
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
	int64		per = (a->n + nw - 1) / nw;
	int64		r0 = (int64) w * per;
	int64		r1 = Min(a->n, r0 + per);

	for (int64 i = r0; i < r1; i++)
	{
		const double *row = a->X + i * a->p;

		for (int f = 0; f < a->p; f++)
			if (isnan(row[f]))
				flag[f] = true;
	}
}

/* Kernel: sort each feature's sample and place its edges (features by worker). */
static void
bins_edges_kernel(void *argp, int w, int nw)
{
	BinFitArg  *a = (BinFitArg *) argp;

	for (int f = w; f < a->p; f += nw)
	{
		double	   *v = a->sample + (Size) f * a->m;
		double	   *tab = a->edge_tab + (Size) f * TREE_MAX_BINS;
		int64		m = 0;
		int			B = a->max_bins;
		int			E = 0;
		int64		distinct = 0;

		/* drop NaN, sort */
		for (int64 i = 0; i < a->m; i++)
			if (!isnan(v[i]))
				v[m++] = v[i];
		radix_sort_doubles(v, m, a->sort_tmp + (Size) w * 2 * a->m);

		if (a->has_nan[f] && B > TREE_MAX_BINS - 1)
			B = TREE_MAX_BINS - 1;	/* one code stays free for NaN */

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
		/* drop non-finite edges (infinite inputs); pad with +inf */
		{
			int			k = 0;

			for (int i = 0; i < E; i++)
				if (isfinite(tab[i]))
					tab[k++] = tab[i];
			E = k;
		}
		for (int i = E; i < TREE_MAX_BINS; i++)
			tab[i] = INFINITY;
		a->n_edges[f] = E;
	}
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
	a.sample = palloc(sizeof(double) * (Size) m * p);
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
	a.sort_tmp = palloc_extended(sizeof(uint64) * 2 * (Size) m * nw, MCXT_ALLOC_HUGE);
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
	tb->codes = palloc_extended(sizeof(uint8) * (Size) n * p, MCXT_ALLOC_HUGE);
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

/* Raw threshold for "codes <= b left" when the next non-empty bin is b2 > b. */
double
tree_bins_threshold(const TreeBins *tb, int f, int b, int b2)
{
	int			off = tb->offset[f];
	double		lo = tb->edges[off + b];
	double		hi = tb->edges[off + b2 - 1];
	double		t;

	/* halfway between the values on either side, as exact CART does */
	t = tb->bin_hi[off + b] / 2.0 + tb->bin_lo[off + b2] / 2.0;
	if (!(t >= lo))
		t = lo;
	if (t > hi)
		t = hi;
	if (!isfinite(t))
		t = lo;					/* b < b2 <= last value bin: edge b is finite */
	return t;
}

/* ======================================================================
 * The model: building
 * ====================================================================== */

/* A new, empty ensemble. */
TreeModel *
tree_model_new(uint16 kind, GalaxyTask task, int n_features, int n_classes,
			   int n_outputs, int n_groups)
{
	TreeModel  *m = palloc0(sizeof(TreeModel));

	m->kind = kind;
	m->task = task;
	m->n_features = n_features;
	m->n_classes = n_classes;
	m->n_outputs = n_outputs;
	m->n_groups = n_groups;
	m->cap_trees = 16;
	m->cap_nodes = 1024;
	m->cap_leaves = 512;
	m->tree_start = palloc(sizeof(int32) * (m->cap_trees + 1));
	m->tree_start[0] = 0;
	m->nodes = palloc(sizeof(TreeNode) * m->cap_nodes);
	m->leaf_values = palloc(sizeof(double) * m->cap_leaves * n_outputs);
	m->base_score = palloc0(sizeof(double) * n_groups);
	m->importance_gain = palloc0(sizeof(double) * n_features);
	m->importance_split = palloc0(sizeof(double) * n_features);
	m->oob_score = NAN;
	m->max_bins = TREE_MAX_BINS;
	m->edge_start = palloc0(sizeof(int32) * (n_features + 1));
	m->edges = NULL;
	return m;
}

/* Copy the bin edges of the training data into the model. */
void
tree_model_set_bins(TreeModel *m, const TreeBins *tb)
{
	int			total = 0;

	m->max_bins = tb->max_bins;
	for (int f = 0; f < tb->n_features; f++)
	{
		m->edge_start[f] = total;
		total += tb->n_bins[f] - 1;
	}
	m->edge_start[tb->n_features] = total;
	m->edges = palloc(sizeof(double) * Max(total, 1));
	for (int f = 0; f < tb->n_features; f++)
		memcpy(m->edges + m->edge_start[f], tb->edges + tb->offset[f],
			   sizeof(double) * (tb->n_bins[f] - 1));
}

/* Grow an array to hold at least 'need' elements. */
static void *
grow_array(void *p, int *cap, int need, Size elem)
{
	int64		c = *cap;

	if (need <= c)
		return p;
	while (c < need)
		c *= 2;
	if (c > INT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tree model has too many nodes")));
	*cap = (int) c;
	return repalloc_huge(p, elem * (Size) c);
}

/*
 * Make room for at least 'nodes' nodes and 'leaves' leaves in one step.  A
 * forest whose size is known early reserves once instead of doubling: each
 * doubling of a large array may copy it, and for a moment hold both copies.
 */
static void
tree_model_reserve(TreeModel *m, int64 nodes, int64 leaves)
{
	if (nodes > m->cap_nodes && nodes <= INT32_MAX / 2)
	{
		m->nodes = repalloc_huge(m->nodes, sizeof(TreeNode) * (Size) nodes);
		m->cap_nodes = (int) nodes;
	}
	if (leaves > m->cap_leaves && leaves <= INT32_MAX / 2)
	{
		m->leaf_values = repalloc_huge(m->leaf_values, sizeof(double) * m->n_outputs * (Size) leaves);
		m->cap_leaves = (int) leaves;
	}
}

/*
 * Append a built tree.  Nodes are renumbered depth first over sibling pairs:
 * a node's two children take the next two free indices when the node is
 * visited, so children follow their parent, siblings are adjacent and a path
 * down the tree stays close in memory.
 */
void
tree_model_append(TreeModel *m, const TreeBuildNode *bn, int n_bn, const double *leaf_out)
{
	int32	   *stack_b = palloc(sizeof(int32) * (n_bn + 1));
	int32	   *stack_i = palloc(sizeof(int32) * (n_bn + 1));
	int			sp = 0;
	int			next = 1;
	int			base = m->n_nodes;
	int			n_leaves = 0;

	if (m->n_trees >= TREE_MAX_TREES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tree model has more than %d trees", TREE_MAX_TREES)));
	if ((int64) m->n_nodes + n_bn > INT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tree model has too many nodes")));
	m->nodes = grow_array(m->nodes, &m->cap_nodes, m->n_nodes + n_bn, sizeof(TreeNode));
	for (int i = 0; i < n_bn; i++)
		if (bn[i].feature < 0)
			n_leaves++;
	{
		int			cap = m->cap_leaves;

		m->leaf_values = grow_array(m->leaf_values, &cap, m->n_leaves + n_leaves,
									sizeof(double) * m->n_outputs);
		m->cap_leaves = cap;
	}
	if (m->n_trees + 1 > m->cap_trees)
	{
		m->cap_trees *= 2;
		m->tree_start = repalloc(m->tree_start, sizeof(int32) * (m->cap_trees + 1));
	}

	stack_b[sp] = 0;
	stack_i[sp++] = 0;
	while (sp > 0)
	{
		int32		b_id = stack_b[--sp];
		int32		idx = stack_i[sp];
		const TreeBuildNode *b = &bn[b_id];
		TreeNode   *out = &m->nodes[base + idx];

		if (b->feature >= 0)
		{
			out->threshold = b->threshold;
			out->feature = (uint32) b->feature | (b->default_left ? TREE_DEFAULT_LEFT : 0);
			out->left = next;
			/* right first on the stack: the left subtree is laid out first */
			stack_b[sp] = b->right;
			stack_i[sp++] = next + 1;
			stack_b[sp] = b->left;
			stack_i[sp++] = next;
			next += 2;
		}
		else
		{
			out->threshold = 0.0;
			out->feature = (uint32) m->n_leaves;
			out->left = 0;
			memcpy(m->leaf_values + (Size) m->n_leaves * m->n_outputs,
				   leaf_out + (Size) b_id * m->n_outputs,
				   sizeof(double) * m->n_outputs);
			m->n_leaves++;
		}
	}
	m->n_nodes += next;
	m->n_trees++;
	m->tree_start[m->n_trees] = m->n_nodes;
	pfree(stack_b);
	pfree(stack_i);
}

/* Keep the first n_trees trees (early stopping). */
void
tree_model_truncate(TreeModel *m, int n_trees)
{
	int			n_leaves = 0;

	if (n_trees >= m->n_trees)
		return;
	m->n_trees = n_trees;
	m->n_nodes = m->tree_start[n_trees];
	for (int i = 0; i < m->n_nodes; i++)
		if (m->nodes[i].left == 0)
			n_leaves = Max(n_leaves, (int) m->nodes[i].feature + 1);
	m->n_leaves = n_leaves;
}

/* Deepest path of tree t (children always follow parents: one forward pass). */
static int
tree_depth(const TreeModel *m, int t, int32 *depth)
{
	const TreeNode *nd = m->nodes + m->tree_start[t];
	int			sz = m->tree_start[t + 1] - m->tree_start[t];
	int			maxd = 0;

	for (int i = 0; i < sz; i++)
		depth[i] = -1;
	depth[0] = 0;
	for (int i = 0; i < sz; i++)
	{
		if (depth[i] < 0)
			continue;			/* unreachable */
		maxd = Max(maxd, depth[i]);
		if (nd[i].left != 0)
		{
			depth[nd[i].left] = Max(depth[nd[i].left], depth[i] + 1);
			depth[nd[i].left + 1] = Max(depth[nd[i].left + 1], depth[i] + 1);
		}
	}
	return maxd;
}

/* Fill heap position k of perfect tree t (depth D) from node i. */
static void
fast_fill(const TreeModel *m, const TreeNode *nd, int i, int t, int k, int D,
		  TreeFastNode *fn, double *fv, int32 *fl)
{
	int			n_inner = (1 << D) - 1;
	int			n_leaf = 1 << D;
	int			c = 2 * k + 1;

	if (k >= n_inner)
	{
		int32		leaf = (int32) nd[i].feature;	/* depth <= D: a leaf */
		Size		at = (Size) t * n_leaf + (k - n_inner);

		if (fv)
			fv[at] = m->leaf_values[(Size) leaf * m->n_outputs];
		else
			fl[at] = leaf;
		return;
	}
	fn[(Size) t * n_inner + k].child = (c < n_inner) ? (uint32) ((Size) t * n_inner + c)
		: (uint32) ((Size) t * n_leaf + (c - n_inner));
	if (nd[i].left != 0)
	{
		fn[(Size) t * n_inner + k].threshold = nd[i].threshold;
		/* rows with NaN walk the nodes instead, so the default bit is not needed */
		fn[(Size) t * n_inner + k].feature = nd[i].feature & TREE_FEATURE_MASK;
		fast_fill(m, nd, nd[i].left, t, c, D, fn, fv, fl);
		fast_fill(m, nd, nd[i].left + 1, t, c + 1, D, fn, fv, fl);
	}
	else
	{
		/* a leaf above the last level: always go left (no value exceeds +inf) */
		fn[(Size) t * n_inner + k].threshold = INFINITY;
		fn[(Size) t * n_inner + k].feature = 0;
		fast_fill(m, nd, i, t, c, D, fn, fv, fl);
		fast_fill(m, nd, i, t, c + 1, D, fn, fv, fl);
	}
}

/* Build the prediction layout (perfect trees when shallow enough). */
void
tree_model_finish(TreeModel *m)
{
	int32	   *depth;
	int			maxsz = 1;
	int			D = 0;
	Size		fast_bytes;

	m->fast_depth = 0;
	if (m->fast_nodes)
		pfree(m->fast_nodes);
	if (m->fast_value)
		pfree(m->fast_value);
	if (m->fast_leaf)
		pfree(m->fast_leaf);
	m->fast_nodes = NULL;
	m->fast_value = NULL;
	m->fast_leaf = NULL;

	for (int t = 0; t < m->n_trees; t++)
		maxsz = Max(maxsz, m->tree_start[t + 1] - m->tree_start[t]);
	depth = palloc(sizeof(int32) * maxsz);
	for (int t = 0; t < m->n_trees && D <= TREE_FAST_MAX_DEPTH; t++)
		D = Max(D, tree_depth(m, t, depth));
	pfree(depth);
	if (D > TREE_FAST_MAX_DEPTH || m->n_trees == 0)
		return;

	/* worth it only when it is not much larger than the trees themselves */
	fast_bytes = (Size) m->n_trees * (((Size) 1 << D) * (sizeof(TreeFastNode) + sizeof(double)));
	if (fast_bytes > 4 * (Size) m->n_nodes * sizeof(TreeNode) + 1024 * 1024)
		return;

	{
		int			n_inner = (1 << D) - 1;
		int			n_leaf = 1 << D;

		if ((Size) m->n_trees * n_leaf >= PG_UINT32_MAX)
			return;				/* indices would not fit: walk node by node */
		m->fast_nodes = palloc_extended(sizeof(TreeFastNode) * (Size) Max(n_inner, 1) * m->n_trees,
										MCXT_ALLOC_HUGE);
		if (m->n_outputs == 1)
			m->fast_value = palloc_extended(sizeof(double) * (Size) n_leaf * m->n_trees, MCXT_ALLOC_HUGE);
		else
			m->fast_leaf = palloc_extended(sizeof(int32) * (Size) n_leaf * m->n_trees, MCXT_ALLOC_HUGE);
		for (int t = 0; t < m->n_trees; t++)
			fast_fill(m, m->nodes + m->tree_start[t], 0, t, 0, D,
					  m->fast_nodes, m->fast_value, m->fast_leaf);
		m->fast_depth = D;
	}
}

/* Serialised size of the model. */
Size
tree_model_bytes(const TreeModel *m)
{
	return 64 + (Size) m->n_nodes * sizeof(TreeNode) +
		(Size) m->n_leaves * m->n_outputs * sizeof(double) +
		(Size) (m->n_trees + 1) * sizeof(int32) +
		(Size) m->n_features * (2 * sizeof(double) + sizeof(int32)) +
		(Size) m->edge_start[m->n_features] * sizeof(double);
}

/* ======================================================================
 * Prediction
 * ====================================================================== */

/* Leaf index of tree t for one row, walking node by node. */
static inline int32
tree_walk(const TreeModel *m, int t, const double *row)
{
	const TreeNode *base = m->nodes + m->tree_start[t];
	const TreeNode *nd = base;

	while (nd->left != 0)
	{
		uint32		f = nd->feature;
		double		x = row[f & TREE_FEATURE_MASK];
		int			right = !((x <= nd->threshold) | ((x != x) & (f >> 31)));

		nd = base + nd->left + right;
	}
	return (int32) nd->feature;
}

/* One step down the perfect trees for a row without NaN: x > threshold goes right. */
#define FAST_NEXT(fn, k, row) \
	((fn)[k].child + (uint32) ((row)[(fn)[k].feature] > (fn)[k].threshold))

/* Accumulate a row without NaN over perfect trees, eight walks at a time. */
static void
fast_accumulate(const TreeModel *m, const double *row, double *acc)
{
	const int	T = m->n_trees;
	const int	G = m->n_groups;
	const int	O = m->n_outputs;
	const int	D = m->fast_depth;
	const uint32 ni = ((uint32) 1 << D) - 1;
	const TreeFastNode *fn = m->fast_nodes;
	int			t = 0;

	if (O == 1 && G == 1)
	{
		const double *fv = m->fast_value;
		double		s0 = 0,
					s1 = 0,
					s2 = 0,
					s3 = 0,
					s4 = 0,
					s5 = 0,
					s6 = 0,
					s7 = 0;

		/* eight independent walks in registers keep the CPU busy */
		for (; D > 0 && t + 8 <= T; t += 8)
		{
			uint32		k0 = (uint32) t * ni,
						k1 = k0 + ni,
						k2 = k1 + ni,
						k3 = k2 + ni,
						k4 = k3 + ni,
						k5 = k4 + ni,
						k6 = k5 + ni,
						k7 = k6 + ni;

			for (int d = 0; d < D; d++)
			{
				k0 = FAST_NEXT(fn, k0, row);
				k1 = FAST_NEXT(fn, k1, row);
				k2 = FAST_NEXT(fn, k2, row);
				k3 = FAST_NEXT(fn, k3, row);
				k4 = FAST_NEXT(fn, k4, row);
				k5 = FAST_NEXT(fn, k5, row);
				k6 = FAST_NEXT(fn, k6, row);
				k7 = FAST_NEXT(fn, k7, row);
			}
			s0 += fv[k0];
			s1 += fv[k1];
			s2 += fv[k2];
			s3 += fv[k3];
			s4 += fv[k4];
			s5 += fv[k5];
			s6 += fv[k6];
			s7 += fv[k7];
		}
		for (; t < T; t++)
		{
			uint32		k0 = (uint32) t * ni;

			for (int d = 0; d < D; d++)
				k0 = FAST_NEXT(fn, k0, row);
			s0 += fv[D > 0 ? k0 : (uint32) t];
		}
		acc[0] += ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
		return;
	}

	/* several groups (softmax) or vector leaves: one tree at a time */
	{
		int			g = 0;

		for (; t < T; t++)
		{
			uint32		k0 = (uint32) t * ni;

			for (int d = 0; d < D; d++)
				k0 = FAST_NEXT(fn, k0, row);
			if (D == 0)
				k0 = (uint32) t;
			if (O == 1)
			{
				acc[g] += m->fast_value[k0];
				if (++g == G)
					g = 0;
			}
			else
			{
				const double *lv = m->leaf_values + (Size) m->fast_leaf[k0] * O;

				for (int o = 0; o < O; o++)
					acc[o] += lv[o];
			}
		}
	}
}

/*
 * Accumulate one row: acc[n_groups] margins (n_outputs == 1, including the
 * base score) or acc[n_outputs] sums of leaf vectors.
 */
static void
tree_accumulate(const TreeModel *m, const double *row, double *acc)
{
	int			T = m->n_trees;
	int			G = m->n_groups;
	int			O = m->n_outputs;

	if (O == 1)
	{
		for (int g = 0; g < G; g++)
			acc[g] = m->base_score[g];
	}
	else
		memset(acc, 0, sizeof(double) * O);

	/* perfect trees need a row without NaN (NaN rows walk node by node) */
	if (m->fast_depth > 0)
	{
		bool		has_nan = false;

		for (int f = 0; f < m->n_features; f++)
			has_nan |= isnan(row[f]);
		if (!has_nan)
		{
			fast_accumulate(m, row, acc);
			return;
		}
	}

	{
		int			g = 0;

		for (int t = 0; t < T; t++)
		{
			int32		leaf = tree_walk(m, t, row);
			const double *lv = m->leaf_values + (Size) leaf * O;

			if (O == 1)
			{
				acc[g] += lv[0];
				if (++g == G)
					g = 0;
			}
			else
				for (int o = 0; o < O; o++)
					acc[o] += lv[o];
		}
	}
}

typedef enum PredictMode
{
	PRED_VALUE,					/* value or class index */
	PRED_PROBA,					/* class probabilities */
	PRED_RAW					/* margins / leaf sums */
} PredictMode;

typedef struct PredictArg
{
	const TreeModel *m;
	const double *X;
	int64		n;
	double	   *out;
	PredictMode mode;
	double	   *scratch;		/* nw x block x n_acc */
	int			n_acc;
	int			block;			/* rows accumulated together (1: row by row) */
} PredictArg;

/* Turn one row's accumulators into the requested output. */
static void
predict_finish_row(const TreeModel *m, double *acc, PredictMode mode, double *out)
{
	int			K = m->n_classes;

	if (mode == PRED_RAW)
	{
		memcpy(out, acc, sizeof(double) * (m->n_outputs == 1 ? m->n_groups : m->n_outputs));
		return;
	}
	if (m->n_outputs == 1)
	{
		/* margins (gradient boosting) or a sum of scalar leaves (forest regression) */
		if (m->kind != TREE_ALGO_GRADIENT_BOOSTING)
		{
			out[0] = acc[0] / m->n_trees;
			return;
		}
		if (m->task == TASK_REGRESSION)
		{
			out[0] = acc[0];
			return;
		}
		if (m->n_groups == 1)
		{
			double		p = 1.0 / (1.0 + exp(-acc[0]));

			if (mode == PRED_VALUE)
				out[0] = acc[0] > 0.0 ? 1.0 : 0.0;
			else
			{
				out[0] = 1.0 - p;
				out[1] = p;
			}
			return;
		}
		/* softmax */
		{
			int			best = 0;
			double		mx = acc[0],
						sum = 0.0;

			for (int k = 1; k < K; k++)
				if (acc[k] > mx)
				{
					mx = acc[k];
					best = k;
				}
			if (mode == PRED_VALUE)
			{
				out[0] = best;
				return;
			}
			for (int k = 0; k < K; k++)
			{
				out[k] = exp(acc[k] - mx);
				sum += out[k];
			}
			for (int k = 0; k < K; k++)
				out[k] /= sum;
			return;
		}
	}
	/* averaged leaf distributions (classification forests) */
	if (mode == PRED_VALUE)
	{
		int			best = 0;

		for (int k = 1; k < K; k++)
			if (acc[k] > acc[best])
				best = k;
		out[0] = best;
		return;
	}
	for (int k = 0; k < K; k++)
		out[k] = acc[k] / m->n_trees;
}

#define PREDICT_BLOCK 64

/*
 * Accumulate a block of rows tree by tree (deep trees: a tree's upper nodes
 * stay in cache across the block).  acc holds nb x n_acc values.
 */
static void
tree_accumulate_block(const TreeModel *m, const double *X, int nb, double *acc, int n_acc)
{
	int			G = m->n_groups;
	int			O = m->n_outputs;
	int			g = 0;

	for (int r = 0; r < nb; r++)
	{
		double	   *ar = acc + (Size) r * n_acc;

		if (O == 1)
			for (int k = 0; k < G; k++)
				ar[k] = m->base_score[k];
		else
			memset(ar, 0, sizeof(double) * O);
	}
	for (int t = 0; t < m->n_trees; t++)
	{
		const TreeNode *base = m->nodes + m->tree_start[t];

		/* eight rows walk the tree side by side: their cache misses overlap */
		for (int r0 = 0; r0 < nb; r0 += 8)
		{
			int			cnt = Min(8, nb - r0);
			int32		idx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
			bool		moving = true;

			while (moving)
			{
				moving = false;
				for (int j = 0; j < cnt; j++)
				{
					const TreeNode *nd = base + idx[j];

					if (nd->left != 0)
					{
						uint32		f = nd->feature;
						double		x = X[(Size) (r0 + j) * m->n_features + (f & TREE_FEATURE_MASK)];
						int			right = !((x <= nd->threshold) | ((x != x) & (f >> 31)));

						idx[j] = nd->left + right;
						moving = true;
					}
				}
			}
			for (int j = 0; j < cnt; j++)
			{
				const double *lv = m->leaf_values + (Size) base[idx[j]].feature * O;
				double	   *ar = acc + (Size) (r0 + j) * n_acc;

				if (O == 1)
					ar[g] += lv[0];
				else
					for (int o = 0; o < O; o++)
						ar[o] += lv[o];
			}
		}
		if (O == 1 && ++g == G)
			g = 0;
	}
}

/* Kernel: predict a contiguous range of rows per worker. */
static void
predict_kernel(void *argp, int w, int nw)
{
	PredictArg *a = (PredictArg *) argp;
	const TreeModel *m = a->m;
	int64		per = (a->n + nw - 1) / nw;
	int64		r0 = (int64) w * per;
	int64		r1 = Min(a->n, r0 + per);
	double	   *acc = a->scratch + (Size) w * a->n_acc * a->block;
	int			width;

	if (a->mode == PRED_VALUE)
		width = 1;
	else if (a->mode == PRED_PROBA)
		width = m->n_classes;
	else
		width = a->n_acc;

	if (a->block > 1)
	{
		for (int64 i = r0; i < r1; i += a->block)
		{
			int			nb = (int) Min((int64) a->block, r1 - i);

			tree_accumulate_block(m, a->X + i * m->n_features, nb, acc, a->n_acc);
			for (int r = 0; r < nb; r++)
				predict_finish_row(m, acc + (Size) r * a->n_acc, a->mode, a->out + (i + r) * width);
		}
		return;
	}
	for (int64 i = r0; i < r1; i++)
	{
		tree_accumulate(m, a->X + i * m->n_features, acc);
		predict_finish_row(m, acc, a->mode, a->out + i * width);
	}
}

/* Predict n rows in the given mode, in parallel for large batches. */
static void
tree_predict_mode(const TreeModel *m, const double *X, int64 n, double *out, PredictMode mode)
{
	PredictArg	a;
	double		local[256];
	int			nw;

	a.m = m;
	a.X = X;
	a.n = n;
	a.out = out;
	a.mode = mode;
	a.n_acc = Max(m->n_groups, m->n_outputs);
	/* deep trees, many rows: tree by tree over blocks of rows */
	a.block = (m->fast_depth == 0 && n >= 16) ? PREDICT_BLOCK : 1;
	nw = (n >= 4096) ? tree_threads_for(galaxy_threads, (double) n * m->n_trees * 8.0) : 1;
	if ((Size) a.n_acc * nw * a.block <= lengthof(local))
		a.scratch = local;
	else
		a.scratch = palloc(sizeof(double) * a.n_acc * nw * a.block);
	tree_parallel(nw, predict_kernel, &a);
	if (a.scratch != local)
		pfree(a.scratch);
}

/* AlgorithmDef.predict: values or class indices. */
void
tree_predict(const void *state, const double *X, int64 n, double *out)
{
	tree_predict_mode((const TreeModel *) state, X, n, out, PRED_VALUE);
}

/* AlgorithmDef.predict_proba: n x n_classes probabilities. */
void
tree_predict_proba(const void *state, const double *X, int64 n, double *out)
{
	const TreeModel *m = (const TreeModel *) state;

	if (m->task != TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("probabilities are only defined for classification models")));
	tree_predict_mode(m, X, n, out, PRED_PROBA);
}

/* Raw margins (n x n_groups) or leaf sums (n x n_outputs). */
void
tree_model_raw(const TreeModel *m, const double *X, int64 n, double *out)
{
	tree_predict_mode(m, X, n, out, PRED_RAW);
}

typedef struct AddTreeArg
{
	const TreeModel *m;
	int			t;
	int			D;				/* depth of the perfect layout, -1: walk the nodes */
	const TreeFastNode *fn;
	const double *fv;
	const double *X;
	const int32 *rows;
	int64		n;
	const bool *nan_rows;		/* by row of X, or NULL */
	double	   *margin;
	int			stride;
	int			offset;
} AddTreeArg;

#define ADD_TREE_CHUNK 16384

/* Whether a row of p raw values holds a NaN (it then takes the node-by-node walk). */
static inline bool
row_has_nan(const double *row, int p)
{
	bool		has_nan = false;

	for (int f = 0; f < p; f++)
		has_nan |= isnan(row[f]);
	return has_nan;
}

/* Kernel: add one tree's leaf values to the margins of fixed chunks of rows. */
static void
add_tree_kernel(void *argp, int w, int nw)
{
	AddTreeArg *a = (AddTreeArg *) argp;
	const TreeModel *m = a->m;
	int			p = m->n_features;
	int64		nchunks = (a->n + ADD_TREE_CHUNK - 1) / ADD_TREE_CHUNK;

	for (int64 c = w; c < nchunks; c += nw)
	{
		int64		s = c * ADD_TREE_CHUNK;
		int64		e = Min(a->n, s + ADD_TREE_CHUNK);

		for (int64 i = s; i < e; i++)
		{
			int64		r = a->rows ? a->rows[i] : i;
			const double *row = a->X + r * p;
			double		v;

			if (a->D >= 0 && !(a->nan_rows ? a->nan_rows[r] : row_has_nan(row, p)))
			{
				uint32		k = 0;

				for (int d = 0; d < a->D; d++)
					k = FAST_NEXT(a->fn, k, row);
				v = a->fv[k];
			}
			else
				v = m->leaf_values[tree_walk(m, a->t, row)];
			a->margin[r * a->stride + a->offset] += v;
		}
	}
}

/* Which of the n rows of X hold a NaN. */
bool *
tree_rows_with_nan(const double *X, int64 n, int p)
{
	bool	   *out = palloc_extended(sizeof(bool) * Max(n, 1), MCXT_ALLOC_HUGE);

	for (int64 i = 0; i < n; i++)
		out[i] = row_has_nan(X + i * p, p);
	return out;
}

/*
 * margin[r * stride + offset] += value of tree t for the rows r of X (all n
 * rows, or rows[0..n)); scalar-leaf models only.  Shallow trees are walked
 * without branches.
 */
void
tree_model_add_tree(const TreeModel *m, int t, const double *X, const int32 *rows, int64 n,
					const bool *nan_rows, double *margin, int stride, int offset, int threads)
{
	AddTreeArg	a;
	int			sz = m->tree_start[t + 1] - m->tree_start[t];
	int32	   *depth = palloc(sizeof(int32) * sz);
	int			D = tree_depth(m, t, depth);
	TreeFastNode *fn = NULL;
	double	   *fv = NULL;

	Assert(m->n_outputs == 1);
	pfree(depth);
	a.D = -1;
	if (D <= 12)
	{
		fn = palloc(sizeof(TreeFastNode) * Max((1 << D) - 1, 1));
		fv = palloc(sizeof(double) * (1 << D));
		fast_fill(m, m->nodes + m->tree_start[t], 0, 0, 0, D, fn, fv, NULL);
		a.D = D;
	}
	a.m = m;
	a.t = t;
	a.fn = fn;
	a.fv = fv;
	a.X = X;
	a.rows = rows;
	a.n = n;
	a.nan_rows = nan_rows;
	a.margin = margin;
	a.stride = stride;
	a.offset = offset;
	tree_parallel(tree_threads_for(threads, (double) n * (D + m->n_features)), add_tree_kernel, &a);
	if (fn)
	{
		pfree(fn);
		pfree(fv);
	}
}

/* ======================================================================
 * Importance and out-of-bag score
 * ====================================================================== */

/* Normalise v[0..n) to sum 1 (zeros stay zeros). */
static void
normalise(const double *v, int n, double *out)
{
	double		s = 0.0;

	for (int i = 0; i < n; i++)
		s += v[i];
	for (int i = 0; i < n; i++)
		out[i] = s > 0.0 ? v[i] / s : 0.0;
}

/* AlgorithmDef.feature_importance: normalised total gain per feature. */
void
tree_feature_importance(const void *state, double *out)
{
	const TreeModel *m = (const TreeModel *) state;

	normalise(m->importance_gain, m->n_features, out);
}

/* Normalised number of splits per feature. */
void
tree_split_importance(const void *state, double *out)
{
	const TreeModel *m = (const TreeModel *) state;

	normalise(m->importance_split, m->n_features, out);
}

/* Out-of-bag score of a random forest, NaN when not computed. */
double
tree_oob_score(const void *state)
{
	const TreeModel *m = (const TreeModel *) state;

	return m ? m->oob_score : NAN;
}

/* ======================================================================
 * Serialisation
 * ====================================================================== */

/* AlgorithmDef.serialize. */
void
tree_serialize(const void *state, ModelWriter *w)
{
	const TreeModel *m = (const TreeModel *) state;
	int			p = m->n_features;

	mw_tag(w, "TREE");
	mw_u16(w, m->kind);
	mw_u32(w, (uint32) m->n_outputs);
	mw_u32(w, (uint32) m->n_groups);
	mw_u32(w, (uint32) m->n_trees);
	mw_u32(w, (uint32) m->n_nodes);
	mw_u32(w, (uint32) m->n_leaves);
	mw_f64(w, m->oob_score);
	mw_f64s(w, m->base_score, m->n_groups);
	mw_i32s(w, m->tree_start, m->n_trees + 1);
#ifdef WORDS_BIGENDIAN
	for (int i = 0; i < m->n_nodes; i++)
	{
		mw_f64(w, m->nodes[i].threshold);
		mw_u32(w, m->nodes[i].feature);
		mw_i32(w, m->nodes[i].left);
	}
#else
	StaticAssertStmt(sizeof(TreeNode) == 16, "TreeNode must be 16 packed bytes");
	mw_bytes(w, m->nodes, sizeof(TreeNode) * (Size) m->n_nodes);
#endif
	mw_f64s(w, m->leaf_values, (Size) m->n_leaves * m->n_outputs);
	mw_f64s(w, m->importance_gain, p);
	mw_f64s(w, m->importance_split, p);
	mw_u32(w, (uint32) m->max_bins);
	mw_i32s(w, m->edge_start, p + 1);
	mw_f64s(w, m->edges, m->edge_start[p]);
}

/* Read and validate a tree model of the given algorithm. */
void *
tree_deserialize_kind(uint16 kind, ModelReader *r, int n_features, int n_classes, GalaxyTask task)
{
	TreeModel  *m;
	uint16		stored_kind;
	uint32		n_outputs,
				n_groups,
				n_trees,
				n_nodes,
				n_leaves;
	uint32		exp_outputs,
				exp_groups;
	double		oob;
	int			p = n_features;

	mr_tag(r, "TREE");
	stored_kind = mr_u16(r);
	if (stored_kind != kind)
		mr_corrupt("tree model of kind %u stored for algorithm %u", stored_kind, kind);
	if (task != TASK_REGRESSION && task != TASK_CLASSIFICATION)
		mr_corrupt("tree models support regression and classification only");
	if (task == TASK_CLASSIFICATION && n_classes < 2)
		mr_corrupt("classification tree model with %d classes", n_classes);

	if (kind == TREE_ALGO_GRADIENT_BOOSTING)
	{
		exp_outputs = 1;
		exp_groups = (task == TASK_CLASSIFICATION && n_classes > 2) ? (uint32) n_classes : 1;
	}
	else
	{
		exp_outputs = (task == TASK_CLASSIFICATION) ? (uint32) n_classes : 1;
		exp_groups = 1;
	}
	n_outputs = mr_u32(r);
	n_groups = mr_u32(r);
	if (n_outputs != exp_outputs || n_groups != exp_groups)
		mr_corrupt("tree model has %u outputs and %u groups, expected %u and %u",
				   n_outputs, n_groups, exp_outputs, exp_groups);
	n_trees = mr_count(r, TREE_MAX_TREES, sizeof(int32), "tree");
	if (n_trees < 1 || n_trees % n_groups != 0)
		mr_corrupt("tree count %u is invalid", n_trees);
	n_nodes = mr_count(r, INT32_MAX / 2, sizeof(TreeNode), "tree node");
	n_leaves = mr_count(r, INT32_MAX / 2, sizeof(double) * n_outputs, "tree leaf");
	if (n_nodes < n_trees || n_leaves < n_trees || n_leaves > n_nodes)
		mr_corrupt("tree model has %u trees, %u nodes and %u leaves", n_trees, n_nodes, n_leaves);
	oob = mr_f64(r);
	if (isinf(oob))
		mr_corrupt("out-of-bag score is infinite");

	m = palloc0(sizeof(TreeModel));
	m->kind = kind;
	m->task = task;
	m->n_features = p;
	m->n_classes = n_classes;
	m->n_outputs = (int) n_outputs;
	m->n_groups = (int) n_groups;
	m->n_trees = (int) n_trees;
	m->n_nodes = (int) n_nodes;
	m->n_leaves = (int) n_leaves;
	m->oob_score = oob;
	m->cap_trees = (int) n_trees;
	m->cap_nodes = (int) n_nodes;
	m->cap_leaves = (int) n_leaves;

	m->base_score = palloc(sizeof(double) * n_groups);
	for (uint32 g = 0; g < n_groups; g++)
		m->base_score[g] = mr_f64_finite(r, "base score");

	m->tree_start = palloc(sizeof(int32) * (n_trees + 1));
	mr_i32s(r, m->tree_start, n_trees + 1);
	if (m->tree_start[0] != 0 || m->tree_start[n_trees] != (int32) n_nodes)
		mr_corrupt("tree offsets do not span the %u nodes", n_nodes);
	for (uint32 t = 0; t < n_trees; t++)
		if (m->tree_start[t + 1] <= m->tree_start[t])
			mr_corrupt("tree %u is empty or its offset goes backwards", t);

	m->nodes = palloc_extended(sizeof(TreeNode) * (Size) n_nodes, MCXT_ALLOC_HUGE);
#ifdef WORDS_BIGENDIAN
	for (uint32 i = 0; i < n_nodes; i++)
	{
		m->nodes[i].threshold = mr_f64(r);
		m->nodes[i].feature = mr_u32(r);
		m->nodes[i].left = mr_i32(r);
	}
#else
	mr_bytes(r, m->nodes, sizeof(TreeNode) * (Size) n_nodes);
#endif
	for (uint32 t = 0; t < n_trees; t++)
	{
		int32		base = m->tree_start[t];
		int32		sz = m->tree_start[t + 1] - base;

		for (int32 i = 0; i < sz; i++)
		{
			const TreeNode *nd = &m->nodes[base + i];

			if (nd->left == 0)
			{
				if (nd->feature >= n_leaves)
					mr_corrupt("leaf index %u of tree %u is outside [0, %u)", nd->feature, t, n_leaves);
			}
			else
			{
				/* children come after their parent and stay inside the tree */
				if (nd->left <= i || nd->left >= sz - 1)
					mr_corrupt("child index %d of node %d in tree %u is invalid", nd->left, i, t);
				if ((nd->feature & TREE_FEATURE_MASK) >= (uint32) p)
					mr_corrupt("split feature %u of tree %u is outside [0, %d)",
							   nd->feature & TREE_FEATURE_MASK, t, p);
				if (!isfinite(nd->threshold))
					mr_corrupt("split threshold of tree %u is not finite", t);
			}
		}
	}

	m->leaf_values = palloc_extended(sizeof(double) * (Size) n_leaves * n_outputs, MCXT_ALLOC_HUGE);
	mr_f64s(r, m->leaf_values, (Size) n_leaves * n_outputs);
	for (Size i = 0; i < (Size) n_leaves * n_outputs; i++)
		if (!isfinite(m->leaf_values[i]))
			mr_corrupt("leaf value is not finite");

	m->importance_gain = palloc(sizeof(double) * p);
	m->importance_split = palloc(sizeof(double) * p);
	mr_f64s(r, m->importance_gain, p);
	mr_f64s(r, m->importance_split, p);
	for (int f = 0; f < p; f++)
		if (!isfinite(m->importance_gain[f]) || m->importance_gain[f] < 0 ||
			!isfinite(m->importance_split[f]) || m->importance_split[f] < 0)
			mr_corrupt("feature importance is negative or not finite");

	m->max_bins = (int) mr_u32(r);
	if (m->max_bins < 2 || m->max_bins > TREE_MAX_BINS)
		mr_corrupt("max_bins %d is outside [2, %d]", m->max_bins, TREE_MAX_BINS);
	m->edge_start = palloc(sizeof(int32) * (p + 1));
	mr_i32s(r, m->edge_start, p + 1);
	if (m->edge_start[0] != 0)
		mr_corrupt("bin edges do not start at 0");
	for (int f = 0; f < p; f++)
		if (m->edge_start[f + 1] < m->edge_start[f] ||
			m->edge_start[f + 1] - m->edge_start[f] > TREE_MAX_BINS - 1)
			mr_corrupt("bin edge count of feature %d is invalid", f);
	if ((Size) m->edge_start[p] > mr_remaining(r) / sizeof(double))
		mr_corrupt("bin edges truncated");
	m->edges = palloc(sizeof(double) * Max(m->edge_start[p], 1));
	mr_f64s(r, m->edges, m->edge_start[p]);
	for (int f = 0; f < p; f++)
		for (int i = m->edge_start[f]; i < m->edge_start[f + 1]; i++)
			if (!isfinite(m->edges[i]) || (i > m->edge_start[f] && m->edges[i] <= m->edges[i - 1]))
				mr_corrupt("bin edges of feature %d are not finite and increasing", f);

	tree_model_finish(m);
	return m;
}

/* ======================================================================
 * CART trees: decision_tree and random_forest
 * ====================================================================== */

/* Criterion of a tree from its hyperparameter choice. */
CartCriterion
cart_criterion(const char *choice, GalaxyTask task)
{
	if (strcmp(choice, "auto") == 0)
		return task == TASK_CLASSIFICATION ? CART_GINI : CART_SQUARED_ERROR;
	if (strcmp(choice, "gini") == 0 || strcmp(choice, "entropy") == 0)
	{
		if (task != TASK_CLASSIFICATION)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("criterion \"%s\" applies to classification only", choice),
					 errhint("Use \"squared_error\" or \"auto\" for regression.")));
		return strcmp(choice, "gini") == 0 ? CART_GINI : CART_ENTROPY;
	}
	if (task != TASK_REGRESSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("criterion \"%s\" applies to regression only", choice),
				 errhint("Use \"gini\", \"entropy\" or \"auto\" for classification.")));
	return CART_SQUARED_ERROR;
}

typedef struct CartWork CartWork;

/* Read-only description of a forest fit, shared by every worker. */
typedef struct CartShared
{
	const TreeBins *tb;
	const CartParams *cp;
	int			S;				/* doubles per histogram slot */
	int			K;				/* classes (classification), else 0 */
	int64		n;
	int			p;
	const int32 *cls;			/* class of each row (classification) */
	const double *y;			/* target (regression) */
	const double *X;			/* raw rows (out-of-bag walks) */
	const double *weight;		/* sample weights or NULL */
	uint64		seed;
	int			first_tree;		/* tree built by worker 0 in this batch */
	int			n_batch;		/* trees in this batch */
	volatile int abort_flag;	/* set by worker 0 when an interrupt is pending */
	CartWork   *work;			/* one per worker */
} CartShared;

/* Per-worker scratch, allocated before the threads start. */
struct CartWork
{
	int32	   *rows;			/* rows of the tree, partitioned by node */
	int32	   *tmp;
	double	   *w;				/* weight of every row in this tree */
	double	   *hist;			/* one feature: (TREE_MAX_BINS + 1) x S */
	double	   *acc;			/* S */
	double	   *right;			/* S */
	int32	   *perm;			/* p */
	int			node_cap;
	int			n_nodes;
	TreeBuildNode *nodes;
	double	   *stats;			/* node_cap x S: totals of each node */
	double	   *lstats;			/* node_cap x S: left totals of its split */
	int32	   *pending;		/* node_cap: stack or heap of nodes */
	int32	   *oob_rows;		/* n */
	int32	   *oob_leaf;		/* n */
	int64		n_oob;
	int			tree;
	bool		is_main;		/* runs on the backend's own thread */
	bool		overflow;
	bool		aborted;
	GalaxyRng	rng;
};

/* Impurity proxy of a set of stats (larger is better; see cart_split). */
static inline double
cart_proxy(const CartShared *sh, const double *st)
{
	if (sh->K > 0)
	{
		double		W = 0.0,
					s = 0.0;

		for (int k = 0; k < sh->K; k++)
			W += st[1 + k];
		if (W <= 0.0)
			return 0.0;
		if (sh->cp->criterion == CART_GINI)
		{
			for (int k = 0; k < sh->K; k++)
				s += st[1 + k] * st[1 + k];
			return s / W;
		}
		for (int k = 0; k < sh->K; k++)
			if (st[1 + k] > 0.0)
				s += st[1 + k] * log(st[1 + k]);
		return s - W * log(W);
	}
	return st[1] > 0.0 ? st[2] * st[2] / st[1] : 0.0;
}

/* Weight of a set of stats. */
static inline double
cart_weight(const CartShared *sh, const double *st)
{
	double		W = 0.0;

	if (sh->K == 0)
		return st[1];
	for (int k = 0; k < sh->K; k++)
		W += st[1 + k];
	return W;
}

/* Is the node pure (nothing left to split)? */
static bool
cart_pure(const CartShared *sh, const double *st)
{
	if (sh->K > 0)
	{
		int			nonzero = 0;

		for (int k = 0; k < sh->K; k++)
			if (st[1 + k] > 0.0)
				nonzero++;
		return nonzero <= 1;
	}
	if (st[1] <= 0.0)
		return true;
	return st[3] / st[1] - (st[2] / st[1]) * (st[2] / st[1]) <= DBL_EPSILON;
}

/* Add row r (weight w) to a stats vector. */
static inline void
cart_add_row(const CartShared *sh, double *st, int64 r, double w)
{
	st[0] += 1.0;
	if (sh->K > 0)
		st[1 + sh->cls[r]] += w;
	else
	{
		double		y = sh->y[r];

		st[1] += w;
		st[2] += w * y;
		st[3] += w * y * y;
	}
}

/* Claim a new build node; false when the scratch is full. */
static bool
cart_new_node(CartWork *wk, int S, int32 start, int32 end, int32 depth, int32 *id)
{
	TreeBuildNode *nd;

	if (wk->n_nodes >= wk->node_cap)
	{
		wk->overflow = true;
		return false;
	}
	*id = wk->n_nodes++;
	nd = &wk->nodes[*id];
	memset(nd, 0, sizeof(*nd));
	nd->feature = -1;
	nd->left = nd->right = -1;
	nd->start = start;
	nd->end = end;
	nd->depth = depth;
	return true;
}

/*
 * Build feature f's histogram over the node's rows into wk->hist; returns the
 * range [*bmin, *bmax] of value bins seen and whether the feature can split.
 */
static bool
cart_feature_hist(const CartShared *sh, CartWork *wk, int f, int32 s, int32 e,
				  int *bmin_out, int *bmax_out)
{
	const TreeBins *tb = sh->tb;
	const uint8 *col = tb->codes + (Size) f * sh->n;
	int			S = sh->S;
	int			nb = tb->n_bins[f];
	int			mb = tb->missing_bin[f];
	int			bmin = 0,
				bmax = nb - 1;
	double	   *hist = wk->hist;
	int			nonempty = 0;

	if (nb < 2)
		return false;
	if ((int64) (e - s) * 4 < nb)
	{
		/* small node: only the bins it touches */
		bmin = TREE_MAX_BINS;
		bmax = -1;
		for (int32 i = s; i < e; i++)
		{
			int			c = col[wk->rows[i]];

			if (c == mb)
				continue;
			bmin = Min(bmin, c);
			bmax = Max(bmax, c);
		}
		if (bmax <= bmin)
			return false;
	}
	memset(hist + (Size) bmin * S, 0, sizeof(double) * S * (bmax - bmin + 1));
	if (mb >= 0)
		memset(hist + (Size) mb * S, 0, sizeof(double) * S);

	if (sh->K > 0)
	{
		for (int32 i = s; i < e; i++)
		{
			int32		r = wk->rows[i];
			double	   *h = hist + (Size) col[r] * S;

			h[0] += 1.0;
			h[1 + sh->cls[r]] += wk->w[r];
		}
	}
	else
	{
		for (int32 i = s; i < e; i++)
		{
			int32		r = wk->rows[i];
			double	   *h = hist + (Size) col[r] * S;
			double		w = wk->w[r];
			double		y = sh->y[r];

			h[0] += 1.0;
			h[1] += w;
			h[2] += w * y;
			h[3] += w * y * y;
		}
	}
	/* narrow to the first and last bins this node's rows fall in */
	while (bmin <= bmax && hist[(Size) bmin * S] <= 0)
		bmin++;
	while (bmax >= bmin && hist[(Size) bmax * S] <= 0)
		bmax--;
	for (int b = bmin; b <= bmax && nonempty < 2; b++)
		if (hist[(Size) b * S] > 0)
			nonempty++;
	*bmin_out = bmin;
	*bmax_out = bmax;
	return nonempty >= 2;
}

/* Best split of a node: fills the node's split fields; false if none. */
static bool
cart_find_split(const CartShared *sh, CartWork *wk, int32 id)
{
	TreeBuildNode *nd = &wk->nodes[id];
	const double *tot = wk->stats + (Size) id * sh->S;
	const CartParams *cp = sh->cp;
	int			S = sh->S;
	int			p = sh->p;
	int			msl = cp->min_samples_leaf;
	double		best = -INFINITY;
	int			visited = 0;
	bool		found = false;
	double		parent_proxy = cart_proxy(sh, tot);

	for (int j = 0; j < p; j++)
	{
		int			f,
					bmin,
					bmax,
					mb;
		double	   *acc = wk->acc;
		double	   *hist = wk->hist;
		double	   *right = wk->right;
		const double *miss;
		bool		have_miss;

		if (cp->max_features < p)
		{
			/* draw the next feature without replacement */
			int			k = j + (int) galaxy_rng_below(&wk->rng, (uint64) (p - j));
			int32		t = wk->perm[j];

			wk->perm[j] = wk->perm[k];
			wk->perm[k] = t;
			f = wk->perm[j];
		}
		else
			f = j;

		if (!cart_feature_hist(sh, wk, f, nd->start, nd->end, &bmin, &bmax))
			continue;			/* constant in this node: does not count */
		visited++;

		mb = sh->tb->missing_bin[f];
		miss = (mb >= 0) ? hist + (Size) mb * S : NULL;
		have_miss = miss != NULL && miss[0] > 0;
		memset(acc, 0, sizeof(double) * S);

		for (int b = bmin; b < bmax; b++)
		{
			const double *h = hist + (Size) b * S;

			if (h[0] <= 0)
				continue;
			for (int s = 0; s < S; s++)
				acc[s] += h[s];

			/* missing values right (0) or left (1) */
			for (int dir = 0; dir < (have_miss ? 2 : 1); dir++)
			{
				double		lprox,
							rprox,
							nl;

				if (dir == 1)
					for (int s = 0; s < S; s++)
						acc[s] += miss[s];
				for (int s = 0; s < S; s++)
					right[s] = tot[s] - acc[s];
				nl = acc[0];
				if (nl >= msl && right[0] >= msl &&
					cart_weight(sh, acc) > 0 && cart_weight(sh, right) > 0)
				{
					lprox = cart_proxy(sh, acc);
					rprox = cart_proxy(sh, right);
					if (lprox + rprox > best)
					{
						int			b2 = b + 1;

						while (hist[(Size) b2 * S] <= 0)
							b2++;	/* bmax is non-empty, so this stops */
						best = lprox + rprox;
						found = true;
						nd->feature = f;
						nd->bin = b;
						nd->default_left = have_miss ? (dir == 1) : (nl >= right[0]);
						nd->threshold = tree_bins_threshold(sh->tb, f, b, b2);
						nd->gain = Max(0.0, lprox + rprox - parent_proxy);
						memcpy(wk->lstats + (Size) id * S, acc, sizeof(double) * S);
					}
				}
				if (dir == 1)
					for (int s = 0; s < S; s++)
						acc[s] -= miss[s];
			}
		}
		if (cp->max_features < p && visited >= cp->max_features)
			break;
	}
	if (!found)
		nd->feature = -1;
	return found;
}

/* Decide whether node id may split at all (before searching). */
static bool
cart_may_split(const CartShared *sh, CartWork *wk, int32 id)
{
	const TreeBuildNode *nd = &wk->nodes[id];
	const double *st = wk->stats + (Size) id * sh->S;
	const CartParams *cp = sh->cp;

	if (cp->max_depth > 0 && nd->depth >= cp->max_depth)
		return false;
	if (st[0] < cp->min_samples_split || st[0] < 2.0 * cp->min_samples_leaf)
		return false;
	return !cart_pure(sh, st);
}

/* Partition a node's rows by its split and create the two children. */
static bool
cart_split(const CartShared *sh, CartWork *wk, int32 id)
{
	TreeBuildNode *nd = &wk->nodes[id];
	const uint8 *col = sh->tb->codes + (Size) nd->feature * sh->n;
	int			mb = sh->tb->missing_bin[nd->feature];
	int			b = nd->bin;
	bool		dl = nd->default_left;
	int32		s = nd->start,
				e = nd->end;
	int32		nl = s,
				nr = 0;
	int32		l,
				r;
	int			S = sh->S;

	for (int32 i = s; i < e; i++)
	{
		int32		row = wk->rows[i];
		int			c = col[row];
		bool		left = (c == mb) ? dl : (c <= b);

		if (left)
			wk->rows[nl++] = row;
		else
			wk->tmp[nr++] = row;
	}
	memcpy(wk->rows + nl, wk->tmp, sizeof(int32) * nr);

	if (!cart_new_node(wk, S, s, nl, nd->depth + 1, &l) ||
		!cart_new_node(wk, S, nl, e, nd->depth + 1, &r))
		return false;
	nd = &wk->nodes[id];
	nd->left = l;
	nd->right = r;
	memcpy(wk->stats + (Size) l * S, wk->lstats + (Size) id * S, sizeof(double) * S);
	for (int k = 0; k < S; k++)
		wk->stats[(Size) r * S + k] = wk->stats[(Size) id * S + k] - wk->lstats[(Size) id * S + k];
	return true;
}

/* Heap order for best-first growth: larger gain first, then older node. */
static inline bool
cart_heap_before(const CartWork *wk, int32 a, int32 b)
{
	double		ga = wk->nodes[a].gain,
				gb = wk->nodes[b].gain;

	return ga > gb || (ga == gb && a < b);
}

/* Push node id onto the best-first heap of size *n. */
static void
cart_heap_push(CartWork *wk, int *n, int32 id)
{
	int			i = (*n)++;

	wk->pending[i] = id;
	while (i > 0)
	{
		int			parent = (i - 1) / 2;

		if (!cart_heap_before(wk, wk->pending[i], wk->pending[parent]))
			break;
		{
			int32		t = wk->pending[i];

			wk->pending[i] = wk->pending[parent];
			wk->pending[parent] = t;
		}
		i = parent;
	}
}

/* Pop the best node of the heap. */
static int32
cart_heap_pop(CartWork *wk, int *n)
{
	int32		top = wk->pending[0];
	int			i = 0;

	wk->pending[0] = wk->pending[--(*n)];
	for (;;)
	{
		int			l = 2 * i + 1,
					r = l + 1,
					m = i;

		if (l < *n && cart_heap_before(wk, wk->pending[l], wk->pending[m]))
			m = l;
		if (r < *n && cart_heap_before(wk, wk->pending[r], wk->pending[m]))
			m = r;
		if (m == i)
			break;
		{
			int32		t = wk->pending[i];

			wk->pending[i] = wk->pending[m];
			wk->pending[m] = t;
		}
		i = m;
	}
	return top;
}

/* Should this worker stop?  The backend's own thread watches for interrupts. */
static inline bool
cart_should_stop(CartShared *sh, const CartWork *wk)
{
	if (wk->is_main && InterruptPending)
		sh->abort_flag = 1;
	return sh->abort_flag != 0;
}

/* Grow tree wk->tree on worker w (pure computation, no PostgreSQL calls). */
static void
cart_grow(CartShared *sh, int w)
{
	CartWork   *wk = &sh->work[w];
	const CartParams *cp = sh->cp;
	int64		n = sh->n;
	int			S = sh->S;
	int32		n_rows = 0;
	int32		root;
	int			n_pending = 0;
	int			leaves = 1;

	wk->overflow = false;
	wk->aborted = false;
	wk->n_nodes = 0;
	wk->n_oob = 0;
	galaxy_rng_seed(&wk->rng, sh->seed, UINT64CONST(0x52460000) + (uint64) wk->tree);

	/* weights of this tree: bootstrap multiplicities times sample weights */
	if (cp->bootstrap)
	{
		memset(wk->w, 0, sizeof(double) * n);
		for (int64 i = 0; i < n; i++)
			wk->w[galaxy_rng_below(&wk->rng, (uint64) n)] += 1.0;
	}
	else
		for (int64 i = 0; i < n; i++)
			wk->w[i] = 1.0;
	for (int64 i = 0; i < n; i++)
	{
		if (sh->weight)
			wk->w[i] *= sh->weight[i];
		if (wk->w[i] > 0)
			wk->rows[n_rows++] = (int32) i;
		else if (cp->bootstrap && cp->oob_score)
			wk->oob_rows[wk->n_oob++] = (int32) i;
	}
	for (int f = 0; f < sh->p; f++)
		wk->perm[f] = f;

	if (!cart_new_node(wk, S, 0, n_rows, 0, &root))
		return;
	memset(wk->stats, 0, sizeof(double) * S);
	for (int32 i = 0; i < n_rows; i++)
		cart_add_row(sh, wk->stats, wk->rows[i], wk->w[wk->rows[i]]);

	if (cp->max_leaf_nodes > 0)
	{
		/* best first: evaluate on creation, expand the largest gain */
		if (cart_may_split(sh, wk, root) && cart_find_split(sh, wk, root))
			cart_heap_push(wk, &n_pending, root);
		while (n_pending > 0 && leaves < cp->max_leaf_nodes)
		{
			int32		id = cart_heap_pop(wk, &n_pending);
			int32		kids[2];

			if (cart_should_stop(sh, wk))
			{
				wk->aborted = true;
				return;
			}
			if (!cart_split(sh, wk, id))
				return;
			leaves++;
			kids[0] = wk->nodes[id].left;
			kids[1] = wk->nodes[id].right;
			for (int c = 0; c < 2; c++)
				if (cart_may_split(sh, wk, kids[c]) && cart_find_split(sh, wk, kids[c]))
					cart_heap_push(wk, &n_pending, kids[c]);
		}
		/* what is left on the heap stays a leaf */
		for (int i = 0; i < n_pending; i++)
			wk->nodes[wk->pending[i]].feature = -1;
	}
	else
	{
		/* depth first */
		wk->pending[n_pending++] = root;
		while (n_pending > 0)
		{
			int32		id = wk->pending[--n_pending];

			if (cart_should_stop(sh, wk))
			{
				wk->aborted = true;
				return;
			}
			if (!cart_may_split(sh, wk, id) || !cart_find_split(sh, wk, id))
				continue;
			if (!cart_split(sh, wk, id))
				return;
			wk->pending[n_pending++] = wk->nodes[id].right;
			wk->pending[n_pending++] = wk->nodes[id].left;
		}
	}

	/* out-of-bag rows: the leaf each one reaches */
	for (int64 j = 0; j < wk->n_oob; j++)
		wk->oob_leaf[j] = tree_build_leaf_raw(wk->nodes, sh->X + (int64) wk->oob_rows[j] * sh->p);
}

/* Kernel: worker w grows tree first_tree + w of the batch. */
static void
cart_kernel(void *argp, int w, int nw)
{
	CartShared *sh = (CartShared *) argp;

	if (w >= sh->n_batch)
		return;
	sh->work[w].tree = sh->first_tree + w;
	sh->work[w].is_main = (w == 0);
	cart_grow(sh, w);
}

/* Allocate (or grow) a worker's node scratch. */
static void
cart_work_nodes(CartWork *wk, int S, int cap)
{
	if (wk->nodes == NULL)
	{
		wk->nodes = palloc_extended(sizeof(TreeBuildNode) * (Size) cap, MCXT_ALLOC_HUGE);
		wk->stats = palloc_extended(sizeof(double) * S * (Size) cap, MCXT_ALLOC_HUGE);
		wk->lstats = palloc_extended(sizeof(double) * S * (Size) cap, MCXT_ALLOC_HUGE);
		wk->pending = palloc_extended(sizeof(int32) * (Size) cap, MCXT_ALLOC_HUGE);
	}
	else
	{
		wk->nodes = repalloc_huge(wk->nodes, sizeof(TreeBuildNode) * (Size) cap);
		wk->stats = repalloc_huge(wk->stats, sizeof(double) * S * (Size) cap);
		wk->lstats = repalloc_huge(wk->lstats, sizeof(double) * S * (Size) cap);
		wk->pending = repalloc_huge(wk->pending, sizeof(int32) * (Size) cap);
	}
	wk->node_cap = cap;
}

/* Fit a forest of CART trees (or one decision tree). */
TreeModel *
cart_fit(uint16 kind, const TrainData *d, const CartParams *cp, const FitContext *ctx)
{
	int64		n = d->n_rows;
	int			p = d->n_features;
	int			K = (d->task == TASK_CLASSIFICATION) ? d->n_classes : 0;
	int			S = K > 0 ? K + 1 : 4;
	int			O = K > 0 ? K : 1;
	int			threads = ctx ? Max(ctx->threads, 1) : 1;
	int			nw = Min(Min(threads, cp->n_estimators), TREE_MAX_THREADS);
	int			init_cap;
	CartShared	sh;
	TreeModel  *m;
	TreeBins   *tb;
	int32	   *cls = NULL;
	double	   *oob_sum = NULL;
	int32	   *oob_cnt = NULL;
	double	   *leaf_out = NULL;
	int			leaf_cap = 0;
	double	   *tree_gain = palloc(sizeof(double) * p);
	int			trees_with_gain = 0;
	double		est;

	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tree training needs at least one row")));
	if (n >= INT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tree training supports at most %d rows, got " INT64_FORMAT,
						INT32_MAX / 2 - 1, n)));

	/* memory: codes, per-worker scratch, and the largest model the trees can make */
	{
		double		distinct = cp->bootstrap ? 0.632 * n : (double) n;
		double		max_nodes = 2.0 * distinct / cp->min_samples_leaf;

		if (cp->max_depth > 0 && cp->max_depth < 40)
			max_nodes = Min(max_nodes, ldexp(1.0, cp->max_depth + 1));
		if (cp->max_leaf_nodes > 0)
			max_nodes = Min(max_nodes, 2.0 * cp->max_leaf_nodes);
		est = tree_bins_memory(n, p) + (double) nw * n * 24.0 +
			(double) cp->n_estimators * max_nodes * (sizeof(TreeNode) + 4.0 * O);
		galaxy_check_training_memory((Size) Min(est, (double) PG_INT64_MAX / 2),
									 kind == TREE_ALGO_DECISION_TREE ?
									 psprintf("decision_tree on " INT64_FORMAT " rows", n) :
									 psprintf("random_forest with n_estimators = %d on " INT64_FORMAT " rows",
											  cp->n_estimators, n));
	}

	tb = tree_bins_fit(d->X, n, p, cp->max_bins, ctx ? ctx->seed : 0, threads);

	m = tree_model_new(kind, d->task, p, d->n_classes, O, 1);
	tree_model_set_bins(m, tb);

	if (K > 0)
	{
		cls = palloc(sizeof(int32) * n);
		for (int64 i = 0; i < n; i++)
		{
			double		c = d->y[i];

			if (!(c >= 0 && c < K) || c != floor(c))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("class index %g of row " INT64_FORMAT " is outside [0, %d)", c, i, K)));
			cls[i] = (int32) c;
		}
	}
	else
		for (int64 i = 0; i < n; i++)
			if (!isfinite(d->y[i]))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("target of row " INT64_FORMAT " is not finite", i)));

	memset(&sh, 0, sizeof(sh));
	sh.tb = tb;
	sh.cp = cp;
	sh.S = S;
	sh.K = K;
	sh.n = n;
	sh.p = p;
	sh.cls = cls;
	sh.y = d->y;
	sh.X = d->X;
	sh.weight = d->weight;
	sh.seed = ctx ? ctx->seed : 0;
	sh.work = palloc0(sizeof(CartWork) * nw);
	init_cap = (int) Min((int64) 2 * n + 1, Max((int64) 4096, n / 2));
	if (cp->max_leaf_nodes > 0)
		init_cap = Min(init_cap, 2 * cp->max_leaf_nodes + 1);
	for (int w = 0; w < nw; w++)
	{
		CartWork   *wk = &sh.work[w];

		wk->rows = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
		wk->tmp = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
		wk->w = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
		wk->hist = palloc(sizeof(double) * (TREE_MAX_BINS + 1) * S);
		wk->acc = palloc(sizeof(double) * S);
		wk->right = palloc(sizeof(double) * S);
		wk->perm = palloc(sizeof(int32) * p);
		if (cp->bootstrap && cp->oob_score)
		{
			wk->oob_rows = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
			wk->oob_leaf = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
		}
		cart_work_nodes(wk, S, init_cap);
	}
	if (cp->bootstrap && cp->oob_score)
	{
		oob_sum = palloc_extended(sizeof(double) * (Size) n * O, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		oob_cnt = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	}

	for (int first = 0; first < cp->n_estimators;)
	{
		int			batch = Min(nw, cp->n_estimators - first);

		sh.first_tree = first;
		sh.n_batch = batch;
		sh.abort_flag = 0;
		tree_parallel(batch, cart_kernel, &sh);

		/* an interrupt stopped the batch: let PostgreSQL act, then redo it */
		if (sh.abort_flag)
		{
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		/* a tree outgrew its scratch: enlarge and grow it again here */
		for (int w = 0; w < batch; w++)
		{
			CartWork   *wk = &sh.work[w];

			while (wk->overflow)
			{
				int64		cap = Min((int64) 2 * n + 1, (int64) wk->node_cap * 2);

				if (cap <= wk->node_cap)
					elog(ERROR, "random forest tree %d outgrew %d nodes", wk->tree, wk->node_cap);

				cart_work_nodes(wk, S, (int) cap);
				sh.abort_flag = 0;
				wk->is_main = true;
				cart_grow(&sh, w);
				if (sh.abort_flag)
				{
					CHECK_FOR_INTERRUPTS();
					wk->overflow = true;	/* grow it again */
					sh.abort_flag = 0;
				}
			}
		}

		/* collect the batch in tree order */
		for (int w = 0; w < batch; w++)
		{
			CartWork   *wk = &sh.work[w];
			double		gsum = 0.0;

			if (wk->n_nodes > leaf_cap)
			{
				leaf_cap = wk->node_cap;
				leaf_out = leaf_out ? repalloc_huge(leaf_out, sizeof(double) * O * (Size) leaf_cap)
					: palloc_extended(sizeof(double) * O * (Size) leaf_cap, MCXT_ALLOC_HUGE);
			}
			memset(tree_gain, 0, sizeof(double) * p);
			for (int i = 0; i < wk->n_nodes; i++)
			{
				const TreeBuildNode *nd = &wk->nodes[i];
				const double *st = wk->stats + (Size) i * S;
				double	   *lv = leaf_out + (Size) i * O;

				if (nd->feature >= 0)
				{
					tree_gain[nd->feature] += nd->gain;
					m->importance_split[nd->feature] += 1.0;
					continue;
				}
				if (K > 0)
				{
					double		W = cart_weight(&sh, st);

					for (int k = 0; k < K; k++)
						lv[k] = W > 0 ? st[1 + k] / W : 1.0 / K;
				}
				else
					lv[0] = st[1] > 0 ? st[2] / st[1] : 0.0;
			}
			/* importance: each tree's normalised gain, averaged over trees */
			for (int f = 0; f < p; f++)
				gsum += tree_gain[f];
			if (gsum > 0)
			{
				for (int f = 0; f < p; f++)
					m->importance_gain[f] += tree_gain[f] / gsum;
				trees_with_gain++;
			}
			tree_model_append(m, wk->nodes, wk->n_nodes, leaf_out);

			if (oob_sum)
				for (int64 j = 0; j < wk->n_oob; j++)
				{
					int32		r = wk->oob_rows[j];
					const double *lv = leaf_out + (Size) wk->oob_leaf[j] * O;

					for (int o = 0; o < O; o++)
						oob_sum[(Size) r * O + o] += lv[o];
					oob_cnt[r]++;
				}
		}
		first += batch;

		/*
		 * After the first batch the trees' size is known: reserve the whole
		 * forest (with 1/8 to spare) while the arrays are still small.
		 */
		if (first == batch && first < cp->n_estimators)
		{
			double		scale = (double) cp->n_estimators / first * 1.125;

			tree_model_reserve(m, (int64) (m->n_nodes * scale) + 1, (int64) (m->n_leaves * scale) + 1);
		}

		if (tree_model_bytes(m) > MODEL_MAX_PAYLOAD)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s model grew past %zu MB after %d trees",
							kind == TREE_ALGO_DECISION_TREE ? "decision tree" : "random forest",
							MODEL_MAX_PAYLOAD / (1024 * 1024), first),
					 errhint("Limit the trees with max_depth, min_samples_leaf or max_leaf_nodes, or use fewer n_estimators.")));

		/* out-of-bag score once the forest is complete */
		if (first >= cp->n_estimators && oob_sum)
		{
			int64		used = 0;
			double		correct = 0,
						ss_res = 0,
						ss_tot = 0,
						mean = 0;

			for (int64 i = 0; i < n; i++)
			{
				if (oob_cnt[i] == 0)
					continue;
				used++;
				if (K > 0)
				{
					const double *s = oob_sum + (Size) i * O;
					int			best = 0;

					for (int k = 1; k < K; k++)
						if (s[k] > s[best])
							best = k;
					correct += (best == cls[i]);
				}
				else
					mean += d->y[i];
			}
			if (used > 0 && K > 0)
				m->oob_score = correct / used;
			else if (used > 1)
			{
				mean /= used;
				for (int64 i = 0; i < n; i++)
				{
					double		pred;

					if (oob_cnt[i] == 0)
						continue;
					pred = oob_sum[i] / oob_cnt[i];
					ss_res += (d->y[i] - pred) * (d->y[i] - pred);
					ss_tot += (d->y[i] - mean) * (d->y[i] - mean);
				}
				m->oob_score = ss_tot > 0 ? 1.0 - ss_res / ss_tot : NAN;
			}
		}

		{
			ProgressInfo pi;

			pi.phase = "fit";
			pi.iteration = first;
			pi.total = cp->n_estimators;
			pi.rows = n;
			pi.loss = NAN;
			pi.val_loss = NAN;
			pi.metric = (first >= cp->n_estimators) ? m->oob_score : NAN;
			pi.learning_rate = NAN;
			fit_report(ctx, &pi);
		}
		CHECK_FOR_INTERRUPTS();
	}

	if (trees_with_gain > 0)
		for (int f = 0; f < p; f++)
			m->importance_gain[f] /= trees_with_gain;

	/* release the scratch before the model is used */
	for (int w = 0; w < nw; w++)
	{
		CartWork   *wk = &sh.work[w];

		pfree(wk->rows);
		pfree(wk->tmp);
		pfree(wk->w);
		pfree(wk->nodes);
		pfree(wk->stats);
		pfree(wk->lstats);
		pfree(wk->pending);
		if (wk->oob_rows)
		{
			pfree(wk->oob_rows);
			pfree(wk->oob_leaf);
		}
	}
	if (oob_sum)
	{
		pfree(oob_sum);
		pfree(oob_cnt);
	}
	if (leaf_out)
		pfree(leaf_out);
	pfree(tb->codes);

	tree_model_finish(m);
	return m;
}
