/*
 * tree_cart.c — the CART grower that decision_tree and random_forest share:
 * gini / entropy / squared error on the binned features, depth first or best
 * first, trees of a forest grown in parallel (one per thread), bootstrap and
 * the out-of-bag score.  See tree_core.h.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "algo/linalg.h"
#include "algo/tree_core.h"
#include "galaxy.h"
#include "model/model.h"

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
	const double *X;			/* raw rows (out-of-bag walks); NULL: walk the codes */
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
	if (wk->n_nodes >= wk->node_cap)
	{
		wk->overflow = true;
		return false;
	}
	*id = wk->n_nodes++;
	tree_build_node_init(&wk->nodes[*id], start, end, depth);
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
		wk->oob_leaf[j] = sh->X ?
			tree_build_leaf_raw(wk->nodes, sh->X + (int64) wk->oob_rows[j] * sh->p) :
			tree_build_leaf_codes(wk->nodes, sh->tb, wk->oob_rows[j]);
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

/*
 * Check that the memory the fit may need fits galaxy.max_training_memory:
 * the codes, per-worker scratch and the largest model the trees can make.
 */
static void
cart_check_memory(uint16 kind, const CartParams *cp, int64 n, int p, int O, int nw)
{
	double		distinct = cp->bootstrap ? 0.632 * n : (double) n;
	double		max_nodes = 2.0 * distinct / cp->min_samples_leaf;
	double		est;

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

/*
 * Validate the targets: class indices in [0, K) (returned as int32, palloc'd)
 * for classification, finite values for regression (returns NULL).
 */
static int32 *
cart_check_targets(const TrainData *d, int K)
{
	int64		n = d->n_rows;
	int32	   *cls;

	if (K == 0)
	{
		for (int64 i = 0; i < n; i++)
			if (!isfinite(d->y[i]))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("target of row " INT64_FORMAT " is not finite", i)));
		return NULL;
	}
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
	return cls;
}

/* Allocate every worker's scratch (before any thread starts). */
static void
cart_work_alloc(CartShared *sh, int nw)
{
	const CartParams *cp = sh->cp;
	int64		n = sh->n;
	int			S = sh->S;
	int			init_cap = (int) Min((int64) 2 * n + 1, Max((int64) 4096, n / 2));

	if (cp->max_leaf_nodes > 0)
		init_cap = Min(init_cap, 2 * cp->max_leaf_nodes + 1);
	sh->work = palloc0(sizeof(CartWork) * nw);
	for (int w = 0; w < nw; w++)
	{
		CartWork   *wk = &sh->work[w];

		wk->rows = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
		wk->tmp = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
		wk->w = palloc_extended(sizeof(double) * n, MCXT_ALLOC_HUGE);
		wk->hist = palloc(sizeof(double) * (TREE_MAX_BINS + 1) * S);
		wk->acc = palloc(sizeof(double) * S);
		wk->right = palloc(sizeof(double) * S);
		wk->perm = palloc(sizeof(int32) * sh->p);
		if (cp->bootstrap && cp->oob_score)
		{
			wk->oob_rows = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
			wk->oob_leaf = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
		}
		cart_work_nodes(wk, S, init_cap);
	}
}

/* Release the large parts of every worker's scratch. */
static void
cart_work_free(CartShared *sh, int nw)
{
	for (int w = 0; w < nw; w++)
	{
		CartWork   *wk = &sh->work[w];

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
}

/*
 * Grow trees first .. first + batch - 1, one per worker.  Returns false when
 * an interrupt stopped the batch (the caller lets PostgreSQL act, then redoes
 * it).  A tree that outgrew its scratch is grown again here, on the
 * backend's own thread, with twice the room.
 */
static bool
cart_grow_batch(CartShared *sh, int first, int batch)
{
	int64		n = sh->n;

	sh->first_tree = first;
	sh->n_batch = batch;
	sh->abort_flag = 0;
	tree_parallel(batch, cart_kernel, sh);
	if (sh->abort_flag)
		return false;

	for (int w = 0; w < batch; w++)
	{
		CartWork   *wk = &sh->work[w];

		while (wk->overflow)
		{
			int64		cap = Min((int64) 2 * n + 1, (int64) wk->node_cap * 2);

			if (cap <= wk->node_cap)
				elog(ERROR, "random forest tree %d outgrew %d nodes", wk->tree, wk->node_cap);

			cart_work_nodes(wk, sh->S, (int) cap);
			sh->abort_flag = 0;
			wk->is_main = true;
			cart_grow(sh, w);
			if (sh->abort_flag)
			{
				CHECK_FOR_INTERRUPTS();
				wk->overflow = true;	/* grow it again */
				sh->abort_flag = 0;
			}
		}
	}
	return true;
}

/* What cart_fit gathers from the trees as they are appended, in tree order. */
typedef struct CartCollect
{
	TreeModel  *m;
	double	   *leaf_out;		/* leaf values of the tree being appended */
	int			leaf_cap;
	double	   *tree_gain;		/* p: split gains of the tree being appended */
	int			trees_with_gain;
	double	   *oob_sum;		/* n x O sums of out-of-bag leaf values, or NULL */
	int32	   *oob_cnt;		/* n: trees that left each row out */
} CartCollect;

/*
 * Append worker wk's tree to the model: leaf values from the node stats,
 * split counts and the tree's normalised gain, out-of-bag sums.
 */
static void
cart_collect_tree(const CartShared *sh, CartCollect *cc, const CartWork *wk)
{
	TreeModel  *m = cc->m;
	int			K = sh->K;
	int			O = K > 0 ? K : 1;
	int			S = sh->S;
	int			p = sh->p;
	double		gsum = 0.0;

	if (wk->n_nodes > cc->leaf_cap)
	{
		cc->leaf_cap = wk->node_cap;
		cc->leaf_out = cc->leaf_out ?
			repalloc_huge(cc->leaf_out, sizeof(double) * O * (Size) cc->leaf_cap) :
			palloc_extended(sizeof(double) * O * (Size) cc->leaf_cap, MCXT_ALLOC_HUGE);
	}
	memset(cc->tree_gain, 0, sizeof(double) * p);
	for (int i = 0; i < wk->n_nodes; i++)
	{
		const TreeBuildNode *nd = &wk->nodes[i];
		const double *st = wk->stats + (Size) i * S;
		double	   *lv = cc->leaf_out + (Size) i * O;

		if (nd->feature >= 0)
		{
			cc->tree_gain[nd->feature] += nd->gain;
			m->importance_split[nd->feature] += 1.0;
			continue;
		}
		if (K > 0)
		{
			double		W = cart_weight(sh, st);

			for (int k = 0; k < K; k++)
				lv[k] = W > 0 ? st[1 + k] / W : 1.0 / K;
		}
		else
			lv[0] = st[1] > 0 ? st[2] / st[1] : 0.0;
	}
	/* importance: each tree's normalised gain, averaged over trees */
	for (int f = 0; f < p; f++)
		gsum += cc->tree_gain[f];
	if (gsum > 0)
	{
		for (int f = 0; f < p; f++)
			m->importance_gain[f] += cc->tree_gain[f] / gsum;
		cc->trees_with_gain++;
	}
	tree_model_append(m, wk->nodes, wk->n_nodes, cc->leaf_out);

	if (cc->oob_sum)
		for (int64 j = 0; j < wk->n_oob; j++)
		{
			int32		r = wk->oob_rows[j];
			const double *lv = cc->leaf_out + (Size) wk->oob_leaf[j] * O;

			for (int o = 0; o < O; o++)
				cc->oob_sum[(Size) r * O + o] += lv[o];
			cc->oob_cnt[r]++;
		}
}

/*
 * Out-of-bag score of the complete forest: the accuracy of the summed class
 * distributions, or R² of the averaged values; NaN when too few rows were
 * ever left out.
 */
static double
cart_oob_score(const CartShared *sh, const CartCollect *cc)
{
	int64		n = sh->n;
	int			K = sh->K;
	int			O = K > 0 ? K : 1;
	const double *y = sh->y;
	int64		used = 0;
	double		correct = 0,
				ss_res = 0,
				ss_tot = 0,
				mean = 0;

	for (int64 i = 0; i < n; i++)
	{
		if (cc->oob_cnt[i] == 0)
			continue;
		used++;
		if (K > 0)
			correct += (vec_argmax(cc->oob_sum + (Size) i * O, K) == sh->cls[i]);
		else
			mean += y[i];
	}
	if (used > 0 && K > 0)
		return correct / used;
	if (used <= 1)
		return NAN;
	mean /= used;
	for (int64 i = 0; i < n; i++)
	{
		double		pred;

		if (cc->oob_cnt[i] == 0)
			continue;
		pred = cc->oob_sum[i] / cc->oob_cnt[i];
		ss_res += (y[i] - pred) * (y[i] - pred);
		ss_tot += (y[i] - mean) * (y[i] - mean);
	}
	return ss_tot > 0 ? 1.0 - ss_res / ss_tot : NAN;
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
	CartShared	sh;
	CartCollect cc;
	TreeModel  *m;
	TreeBins   *tb;
	int32	   *cls;

	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tree training needs at least one row")));
	if (n >= INT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tree training supports at most %d rows, got " INT64_FORMAT,
						INT32_MAX / 2 - 1, n)));
	cart_check_memory(kind, cp, n, p, O, nw);

	/* rows loaded as bin codes are used as they are */
	tb = d->Xb ? tree_bins_from_binned(d->Xb) :
		tree_bins_fit(d->X, n, p, cp->max_bins, ctx ? ctx->seed : 0, threads);

	m = tree_model_new(kind, d->task, p, d->n_classes, O, 1);
	tree_model_set_bins(m, tb);
	cls = cart_check_targets(d, K);

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
	cart_work_alloc(&sh, nw);

	memset(&cc, 0, sizeof(cc));
	cc.m = m;
	cc.tree_gain = palloc(sizeof(double) * p);
	if (cp->bootstrap && cp->oob_score)
	{
		cc.oob_sum = palloc_extended(sizeof(double) * (Size) n * O, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
		cc.oob_cnt = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	}

	for (int first = 0; first < cp->n_estimators;)
	{
		int			batch = Min(nw, cp->n_estimators - first);

		if (!cart_grow_batch(&sh, first, batch))
		{
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		for (int w = 0; w < batch; w++)
			cart_collect_tree(&sh, &cc, &sh.work[w]);
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

		if (first >= cp->n_estimators && cc.oob_sum)
			m->oob_score = cart_oob_score(&sh, &cc);

		fit_report_iteration(ctx, first, cp->n_estimators, n, NAN, NAN,
							 (first >= cp->n_estimators) ? m->oob_score : NAN, NAN);
		CHECK_FOR_INTERRUPTS();
	}

	if (cc.trees_with_gain > 0)
		for (int f = 0; f < p; f++)
			m->importance_gain[f] /= cc.trees_with_gain;

	/* release the scratch before the model is used */
	cart_work_free(&sh, nw);
	if (cc.oob_sum)
	{
		pfree(cc.oob_sum);
		pfree(cc.oob_cnt);
	}
	if (cc.leaf_out)
		pfree(cc.leaf_out);
	if (d->Xb == NULL)
		pfree(tb->codes);		/* codes loaded as such belong to the caller */

	tree_model_finish(m);
	return m;
}
