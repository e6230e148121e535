/*
 * gradient_boosting.c — histogram gradient boosting, second order, in the
 * style of XGBoost's "hist" tree method.
 *
 * Objectives follow the task: squared error (regression), binary logistic
 * (two classes) and softmax (one tree per class per round).  Trees grow
 * depth-wise on the binned features: at each level the histogram of the
 * smaller child is built and the larger one is the parent's minus it; split
 * gain is the XGBoost gain with L1/L2 regularisation, gamma and
 * min_child_weight; missing values learn their direction.  Each round reports
 * its training and validation loss; early stopping watches the validation
 * loss and keeps the best round.
 *
 * Threads split every level's work by feature (histograms, subtraction and
 * split search) and by fixed row chunks (gradients, partitions, margins), so
 * the model is bit-identical for any galaxy.threads.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "algo/tree_core.h"
#include "galaxy.h"
#include "model/model.h"
#include "util/rng.h"

/* Rows per chunk of the row-parallel kernels (fixed: sums do not depend on threads). */
#define GB_CHUNK 16384
/* Largest histogram pool kept for one level; beyond it, levels are built in batches. */
#define GB_POOL_BYTES ((Size) 64 * 1024 * 1024)

enum
{
	HP_N_ESTIMATORS,
	HP_LEARNING_RATE,
	HP_MAX_DEPTH,
	HP_MIN_CHILD_WEIGHT,
	HP_REG_LAMBDA,
	HP_REG_ALPHA,
	HP_GAMMA,
	HP_SUBSAMPLE,
	HP_COLSAMPLE,
	HP_EARLY_STOPPING,
	HP_MAX_BINS,
	HP_BASE_SCORE,
	GB_N_PARAMS
};

static const HyperParamSpec gb_params[GB_N_PARAMS] = {
	{"n_estimators", HP_INT, 100, 1, 10000, false, NULL,
	"Boosting rounds (trees per class for multiclass)."},
	{"learning_rate", HP_FLOAT, 0.3, 0, 1, true, NULL,
	"Shrinkage applied to every tree's leaf values (eta)."},
	{"max_depth", HP_INT, 6, 1, 16, false, NULL,
	"Maximum depth of each tree."},
	{"min_child_weight", HP_FLOAT, 1, 0, 1e12, false, NULL,
	"Minimum sum of hessians in a child."},
	{"reg_lambda", HP_FLOAT, 1, 0, 1e12, false, NULL,
	"L2 regularisation of leaf values."},
	{"reg_alpha", HP_FLOAT, 0, 0, 1e12, false, NULL,
	"L1 regularisation of leaf values."},
	{"gamma", HP_FLOAT, 0, 0, 1e12, false, NULL,
	"Minimum loss reduction to make a split (min_split_loss)."},
	{"subsample", HP_FLOAT, 1, 0, 1, true, NULL,
	"Fraction of rows sampled for each round."},
	{"colsample_bytree", HP_FLOAT, 1, 0, 1, true, NULL,
	"Fraction of features sampled for each tree."},
	{"early_stopping_rounds", HP_INT, 0, 0, 10000, false, NULL,
	"Stop when the validation loss has not improved for this many rounds (0 = off)."},
	{"max_bins", HP_INT, 256, 2, 256, false, NULL,
	"Histogram bins per feature."},
	{"base_score", HP_FLOAT, 0.5, -1e15, 1e15, false, NULL,
	"Initial prediction: a value (regression) or a probability in (0, 1) (classification), as in XGBoost 1.7."},
};

typedef double v2df __attribute__((vector_size(16), aligned(8)));
typedef long long v2di __attribute__((vector_size(16), aligned(8)));

/* Best split of one (node, feature). */
typedef struct GbSplit
{
	double		gain;
	int32		feature;		/* -1: none */
	int32		bin;
	bool		default_left;
	double		threshold;
	double		GL;				/* left totals (with missing when default left) */
	double		HL;
} GbSplit;

/* A node of the level being grown. */
typedef struct GbLevelNode
{
	int32		id;				/* build node */
	int32		start;
	int32		end;
	double		G;
	double		H;
	GHPair	   *hist;			/* its histogram (all features' slots) */
	GHPair	   *parent_hist;	/* subtract from this ... */
	int32		sibling;		/* ... the histogram of this level node; -1: build */
} GbLevelNode;

/* A piece of a node's rows for the parallel partition. */
typedef struct GbPartTask
{
	int32		node;			/* level index of the node being split */
	int32		s;
	int32		e;
	int32		nl;				/* rows going left (phase 1) */
	int32		dst_l;			/* where they go (phase 2) */
	int32		dst_r;
	int8		gather;			/* 1: left, 2: right, 3: both children get ordered pairs */
	double		vl;				/* last level: leaf values of the children */
	double		vr;
} GbPartTask;

typedef struct GbParams
{
	int			n_estimators;
	double		eta;
	int			max_depth;
	double		mcw;
	double		lambda;
	double		alpha;
	double		gamma;
	double		subsample;
	double		colsample;
	int			early_stopping;
	int			max_bins;
} GbParams;

/* Everything one tree's growth needs; shared read-mostly by the kernels. */
typedef struct GbGrow
{
	const TreeBins *tb;
	const GbParams *gp;
	int64		n;				/* rows in the codes */
	const GHPair *gh;			/* gradient pairs of this group, by row */
	int32	   *rows;			/* sampled rows, partitioned by node */
	int32		n_sel;
	int32	   *tmp_l;
	int32	   *tmp_r;
	GHPair	   *ordered;		/* ordered[pos] = gh[rows[pos]] where needed */
	int		   *feats;			/* features of this tree */
	int			n_feats;
	int			nw;

	/* level kernel */
	GbLevelNode *level;
	int			lv0;			/* batch [lv0, lv1) of the level */
	int			lv1;
	GbSplit    *cand;			/* (lv1 - lv0) x n_feats */

	/* root / gather kernel */
	double	   *chunk_g;
	double	   *chunk_h;

	/* partition kernel */
	GbPartTask *tasks;
	int			n_tasks;
	const GbSplit *splits;		/* chosen split of each level node */

	/* margins of this group: the last level adds its leaves directly */
	double	   *margin;
	int			G;
	int			k;

	/* output */
	TreeBuildNode *nodes;
	int			n_nodes;
	int			node_cap;
} GbGrow;

/* XGBoost's thresholded gradient for L1. */
static inline double
gb_thresh(double G, double alpha)
{
	if (G > alpha)
		return G - alpha;
	if (G < -alpha)
		return G + alpha;
	return 0.0;
}

/* Structure score of a node: T(G)^2 / (H + lambda). */
static inline double
gb_score(double G, double H, const GbParams *gp)
{
	double		t = gb_thresh(G, gp->alpha);

	return t * t / (H + gp->lambda);
}

/* Leaf value, shrunk by the learning rate. */
static inline double
gb_leaf(double G, double H, const GbParams *gp)
{
	double		den = H + gp->lambda;

	if (den <= 0)
		return 0.0;
	return -gb_thresh(G, gp->alpha) / den * gp->eta;
}

/* Add the ordered pairs of rows[s, e) to a feature's histogram. */
static void
gb_hist_add(GHPair *hist, const uint8 *col, const int32 *rows, const GHPair *ord,
			int32 s, int32 e)
{
	v2df	   *h = (v2df *) hist;
	const v2df *o = (const v2df *) ord;
	int32		i = s;

	for (; i + 4 <= e; i += 4)
	{
		int			b0 = col[rows[i]];
		int			b1 = col[rows[i + 1]];
		int			b2 = col[rows[i + 2]];
		int			b3 = col[rows[i + 3]];

		h[b0] += o[i];
		h[b1] += o[i + 1];
		h[b2] += o[i + 2];
		h[b3] += o[i + 3];
	}
	for (; i < e; i++)
		h[col[rows[i]]] += o[i];
}

/* The same for two features in one pass over the rows. */
static void
gb_hist_add2(GHPair *hist0, const uint8 *col0, GHPair *hist1, const uint8 *col1,
			 const int32 *rows, const GHPair *ord, int32 s, int32 e)
{
	v2df	   *h0 = (v2df *) hist0;
	v2df	   *h1 = (v2df *) hist1;
	const v2df *o = (const v2df *) ord;
	int32		i = s;

	for (; i + 2 <= e; i += 2)
	{
		int32		r0 = rows[i];
		int32		r1 = rows[i + 1];
		v2df		o0 = o[i];
		v2df		o1 = o[i + 1];

		h0[col0[r0]] += o0;
		h1[col1[r0]] += o0;
		h0[col0[r1]] += o1;
		h1[col1[r1]] += o1;
	}
	for (; i < e; i++)
	{
		h0[col0[rows[i]]] += o[i];
		h1[col1[rows[i]]] += o[i];
	}
}

static void gb_subtract_and_split(GbGrow *gg, int j);

/* Best split of feature f for a node with totals (G, H). */
static void
gb_feature_split(const GbGrow *gg, const GHPair *hist, int f, double G, double H, GbSplit *out)
{
	const GbParams *gp = gg->gp;
	const TreeBins *tb = gg->tb;
	int			nb = tb->n_bins[f];
	int			mb = tb->missing_bin[f];
	double		mg = 0,
				mh = 0;
	bool		have_miss;
	double		parent = gb_score(G, H, gp);
	double		best = 1e-6;	/* XGBoost's kRtEps */
	double		GL = 0,
				HL = 0;
	int			last = -1;

	out->feature = -1;
	out->gain = 0;
	if (mb >= 0)
	{
		mg = hist[mb].g;
		mh = hist[mb].h;
	}
	have_miss = (mh != 0 || mg != 0);
	for (int b = nb - 1; b >= 0; b--)
		if (hist[b].h != 0 || hist[b].g != 0)
		{
			last = b;
			break;
		}

	for (int b = 0; b < last; b++)
	{
		if (hist[b].h == 0 && hist[b].g == 0)
			continue;
		GL += hist[b].g;
		HL += hist[b].h;
		for (int dir = 0; dir < (have_miss ? 2 : 1); dir++)
		{
			double		gl = GL + (dir ? mg : 0);
			double		hl = HL + (dir ? mh : 0);
			double		gr = G - gl;
			double		hr = H - hl;
			double		gain;

			if (hl < gp->mcw || hr < gp->mcw || hl <= 0 || hr <= 0)
				continue;
			gain = gb_score(gl, hl, gp) + gb_score(gr, hr, gp) - parent;
			if (gain > best)
			{
				int			b2 = b + 1;

				while (hist[b2].h == 0 && hist[b2].g == 0)
					b2++;		/* 'last' is non-empty: stops there */
				best = gain;
				out->gain = gain;
				out->feature = f;
				out->bin = b;
				out->default_left = have_miss ? (dir == 1) : (hl >= hr);
				out->threshold = tree_bins_threshold(tb, f, b, b2);
				out->GL = gl;
				out->HL = hl;
			}
		}
	}
}

/* Kernel: histograms (built or subtracted) and split search, features by worker. */
static void
gb_level_kernel(void *argp, int w, int nw)
{
	GbGrow	   *gg = (GbGrow *) argp;
	const TreeBins *tb = gg->tb;

	/* features in pairs: pair q = features 2q, 2q+1 of this tree, pairs dealt round robin */
	for (int q = w; 2 * q < gg->n_feats; q += nw)
	{
		int			j0 = 2 * q;
		int			j1 = Min(j0 + 1, gg->n_feats - 1);

		for (int i = gg->lv0; i < gg->lv1; i++)
		{
			GbLevelNode *L = &gg->level[i];
			int			f0 = gg->feats[j0],
						f1 = gg->feats[j1];

			if (L->sibling >= 0)
				continue;
			memset(L->hist + tb->offset[f0], 0,
				   sizeof(GHPair) * (tb->offset[f0 + 1] - tb->offset[f0]));
			if (j1 == j0)
				gb_hist_add(L->hist + tb->offset[f0], tb->codes + (Size) f0 * gg->n,
							gg->rows, gg->ordered, L->start, L->end);
			else
			{
				memset(L->hist + tb->offset[f1], 0,
					   sizeof(GHPair) * (tb->offset[f1 + 1] - tb->offset[f1]));
				gb_hist_add2(L->hist + tb->offset[f0], tb->codes + (Size) f0 * gg->n,
							 L->hist + tb->offset[f1], tb->codes + (Size) f1 * gg->n,
							 gg->rows, gg->ordered, L->start, L->end);
			}
		}
		for (int j = j0; j <= j1; j++)
			gb_subtract_and_split(gg, j);
	}
}

/* Subtracted histograms and split candidates of feature j (its histograms are built). */
static void
gb_subtract_and_split(GbGrow *gg, int j)
{
	const TreeBins *tb = gg->tb;
	int			f = gg->feats[j];
	int			off = tb->offset[f];
	int			span = tb->offset[f + 1] - off;

	for (int i = gg->lv0; i < gg->lv1; i++)
	{
		GbLevelNode *L = &gg->level[i];
		v2df	   *h = (v2df *) (L->hist + off);
		const v2df *ph;
		const v2df *sh;

		if (L->sibling < 0)
			continue;
		ph = (const v2df *) (L->parent_hist + off);
		sh = (const v2df *) (gg->level[L->sibling].hist + off);
		for (int s = 0; s < span; s++)
			h[s] = ph[s] - sh[s];
	}
	for (int i = gg->lv0; i < gg->lv1; i++)
	{
		GbLevelNode *L = &gg->level[i];

		gb_feature_split(gg, L->hist + off, f, L->G, L->H,
						 &gg->cand[(Size) (i - gg->lv0) * gg->n_feats + j]);
	}
}

/* Kernel: ordered pairs and totals of the root, in fixed row chunks. */
static void
gb_root_kernel(void *argp, int w, int nw)
{
	GbGrow	   *gg = (GbGrow *) argp;
	int32		nchunks = (gg->n_sel + GB_CHUNK - 1) / GB_CHUNK;

	for (int32 c = w; c < nchunks; c += nw)
	{
		int32		s = c * GB_CHUNK;
		int32		e = Min(gg->n_sel, s + GB_CHUNK);
		double		G = 0,
					H = 0;

		for (int32 i = s; i < e; i++)
		{
			GHPair		pr = gg->gh[gg->rows[i]];

			gg->ordered[i] = pr;
			G += pr.g;
			H += pr.h;
		}
		gg->chunk_g[c] = G;
		gg->chunk_h[c] = H;
	}
}

/* Kernel, phase 1 of the partition: split each task's rows into tmp_l / tmp_r. */
static void
gb_part1_kernel(void *argp, int w, int nw)
{
	GbGrow	   *gg = (GbGrow *) argp;
	const TreeBins *tb = gg->tb;

	for (int t = w; t < gg->n_tasks; t += nw)
	{
		GbPartTask *task = &gg->tasks[t];
		const GbSplit *sp = &gg->splits[task->node];
		const uint8 *col = tb->codes + (Size) sp->feature * gg->n;
		int			mb = tb->missing_bin[sp->feature];
		int			b = sp->bin;
		bool		dl = sp->default_left;
		int32		nl = 0,
					nr = 0;

		int32	   *tl = gg->tmp_l + task->s;
		int32	   *tr = gg->tmp_r + task->s;

		/* branch-free: write to both sides, advance the one it belongs to */
		for (int32 i = task->s; i < task->e; i++)
		{
			int32		r = gg->rows[i];
			int			c = col[r];
			int			left = (c == mb) ? dl : (c <= b);

			tl[nl] = r;
			tr[nr] = r;
			nl += left;
			nr += 1 - left;
		}
		task->nl = nl;
	}
}

/* Kernel, phase 2: copy rows to their children, gathering pairs where needed. */
static void
gb_part2_kernel(void *argp, int w, int nw)
{
	GbGrow	   *gg = (GbGrow *) argp;

	for (int t = w; t < gg->n_tasks; t += nw)
	{
		GbPartTask *task = &gg->tasks[t];
		int32		nl = task->nl;
		int32		nr = (task->e - task->s) - nl;

		memcpy(gg->rows + task->dst_l, gg->tmp_l + task->s, sizeof(int32) * nl);
		memcpy(gg->rows + task->dst_r, gg->tmp_r + task->s, sizeof(int32) * nr);
		if (task->gather & 1)
			for (int32 i = 0; i < nl; i++)
				gg->ordered[task->dst_l + i] = gg->gh[gg->tmp_l[task->s + i]];
		if (task->gather & 2)
			for (int32 i = 0; i < nr; i++)
				gg->ordered[task->dst_r + i] = gg->gh[gg->tmp_r[task->s + i]];
	}
}

/*
 * Kernel, last level: no child grows further, so instead of copying rows into
 * place add each child's leaf value to its rows' margins.
 */
static void
gb_part_margin_kernel(void *argp, int w, int nw)
{
	GbGrow	   *gg = (GbGrow *) argp;
	int			G = gg->G;
	int			k = gg->k;

	for (int t = w; t < gg->n_tasks; t += nw)
	{
		GbPartTask *task = &gg->tasks[t];
		int32		nl = task->nl;
		int32		nr = (task->e - task->s) - nl;

		for (int32 i = 0; i < nl; i++)
			gg->margin[(int64) gg->tmp_l[task->s + i] * G + k] += task->vl;
		for (int32 i = 0; i < nr; i++)
			gg->margin[(int64) gg->tmp_r[task->s + i] * G + k] += task->vr;
	}
}

/* A new build node of the tree being grown. */
static int32
gb_new_node(GbGrow *gg, int32 start, int32 end, int32 depth)
{
	if (gg->n_nodes >= gg->node_cap)
	{
		gg->node_cap *= 2;
		gg->nodes = repalloc_huge(gg->nodes, sizeof(TreeBuildNode) * (Size) gg->node_cap);
	}
	tree_build_node_init(&gg->nodes[gg->n_nodes], start, end, depth);
	return gg->n_nodes++;
}

/* Can a node with these totals and rows still split? */
static inline bool
gb_may_split(const GbGrow *gg, int32 rows, double H, int depth)
{
	return depth < gg->gp->max_depth && rows >= 2 && H >= 2 * gg->gp->mcw && H > 0;
}

/* The root's ordered pairs and totals (chunk sums added in order). */
static void
gb_root_totals(GbGrow *gg, double *G_out, double *H_out)
{
	int32		nchunks = (gg->n_sel + GB_CHUNK - 1) / GB_CHUNK;
	double		G = 0,
				H = 0;

	gg->chunk_g = palloc(sizeof(double) * Max(nchunks, 1));
	gg->chunk_h = palloc(sizeof(double) * Max(nchunks, 1));
	tree_parallel(tree_threads_for(gg->nw, (double) gg->n_sel * 4), gb_root_kernel, gg);
	for (int32 c = 0; c < nchunks; c++)
	{
		G += gg->chunk_g[c];
		H += gg->chunk_h[c];
	}
	pfree(gg->chunk_g);
	pfree(gg->chunk_h);
	*G_out = G;
	*H_out = H;
}

/*
 * Histograms and split candidates of the n_level nodes of a level, in batches
 * that fit the pool; chosen[i] gets node i's best split (feature -1: none).
 * Returns how many nodes split.
 */
static int
gb_level_splits(GbGrow *gg, GbLevelNode *level, int n_level, GHPair *pool, int pool_nodes,
				GbSplit *chosen)
{
	int			total_bins = gg->tb->total_bins;
	int			n_split = 0;

	gg->level = level;
	for (int b0 = 0; b0 < n_level; b0 += pool_nodes)
	{
		int			b1 = Min(n_level, b0 + pool_nodes);
		double		work = 0;

		for (int i = b0; i < b1; i++)
		{
			level[i].hist = pool + (Size) (i - b0) * total_bins;
			work += (level[i].sibling < 0) ? (double) (level[i].end - level[i].start) * gg->n_feats
				: (double) total_bins;
		}
		gg->lv0 = b0;
		gg->lv1 = b1;
		tree_parallel(Min(tree_threads_for(gg->nw, work), gg->n_feats), gb_level_kernel, gg);

		/* best feature of each node: lowest feature index wins ties */
		for (int i = b0; i < b1; i++)
		{
			GbSplit    *best = &chosen[i];

			best->feature = -1;
			best->gain = 0;
			for (int j = 0; j < gg->n_feats; j++)
			{
				const GbSplit *c = &gg->cand[(Size) (i - b0) * gg->n_feats + j];

				if (c->feature >= 0 && (best->feature < 0 || c->gain > best->gain))
					*best = *c;
			}
			if (best->feature >= 0 && best->gain < gg->gp->gamma)
				best->feature = -1;
			if (best->feature >= 0)
				n_split++;
		}
	}
	return n_split;
}

/* Children of this level's splits that may split again (an upper bound: rows unknown yet). */
static int
gb_count_growing(const GbGrow *gg, const GbLevelNode *level, int n_level, const GbSplit *chosen)
{
	int			n_grow = 0;

	for (int i = 0; i < n_level; i++)
	{
		const GbSplit *sp = &chosen[i];
		int			depth = gg->nodes[level[i].id].depth + 1;

		if (sp->feature < 0)
			continue;
		if (gb_may_split(gg, 2, sp->HL, depth))
			n_grow++;
		if (gb_may_split(gg, 2, level[i].H - sp->HL, depth))
			n_grow++;
	}
	return n_grow;
}

/*
 * Partition tasks: the rows of every splitting node in chunks of GB_CHUNK
 * (gg->tasks, in node order); phase 1 counts each chunk's left rows.
 */
static void
gb_partition_tasks(GbGrow *gg, const GbLevelNode *level, int n_level, const GbSplit *chosen)
{
	int			n_tasks = 0;
	int			cap = 0;

	for (int i = 0; i < n_level; i++)
		if (chosen[i].feature >= 0)
			cap += (level[i].end - level[i].start + GB_CHUNK - 1) / GB_CHUNK;
	gg->tasks = palloc(sizeof(GbPartTask) * Max(cap, 1));
	for (int i = 0; i < n_level; i++)
	{
		if (chosen[i].feature < 0)
			continue;
		for (int32 s = level[i].start; s < level[i].end; s += GB_CHUNK)
		{
			GbPartTask *t = &gg->tasks[n_tasks++];

			t->node = i;
			t->s = s;
			t->e = Min(level[i].end, s + GB_CHUNK);
		}
	}
	gg->n_tasks = n_tasks;
	gg->splits = chosen;
	tree_parallel(tree_threads_for(gg->nw, (double) gg->n_sel * 2), gb_part1_kernel, gg);
}

/*
 * Split level node L by sp, whose partition tasks are gg->tasks[t, u): place
 * its rows (left rows of all chunks, then right rows, in order), make the two
 * build nodes with their leaf values, and append the children that grow on
 * to next[*n_next].  With retain_next the smaller child's histogram is built
 * and the larger one's subtracted from L's; with final the leaves' values go
 * to the margins instead (no rows are kept).
 */
static void
gb_split_node(GbGrow *gg, const GbLevelNode *L, const GbSplit *sp, int t, int u,
			  bool retain_next, bool final, GbLevelNode *next, int *n_next)
{
	const GbParams *gp = gg->gp;
	int32		nl_total = 0;
	int32		nr_total;
	int32		pl,
				pr;
	int			depth = gg->nodes[L->id].depth + 1;
	bool		grow_l,
				grow_r;
	int8		gather;
	int32		lid,
				rid;
	TreeBuildNode *pn;

	for (int v = t; v < u; v++)
		nl_total += gg->tasks[v].nl;
	nr_total = (L->end - L->start) - nl_total;
	grow_l = gb_may_split(gg, nl_total, sp->HL, depth);
	grow_r = gb_may_split(gg, nr_total, L->H - sp->HL, depth);

	/* the smaller child is built, the larger subtracted */
	if (!retain_next)
		gather = (grow_l ? 1 : 0) | (grow_r ? 2 : 0);
	else if (grow_l && grow_r)
		gather = (nl_total <= nr_total) ? 1 : 2;
	else
		gather = (grow_l ? 1 : 0) | (grow_r ? 2 : 0);

	pl = L->start;
	pr = L->start + nl_total;
	for (int v = t; v < u; v++)
	{
		GbPartTask *tk = &gg->tasks[v];

		tk->dst_l = pl;
		tk->dst_r = pr;
		tk->gather = gather;
		pl += tk->nl;
		pr += (tk->e - tk->s) - tk->nl;
	}

	/* the build nodes */
	lid = gb_new_node(gg, L->start, L->start + nl_total, depth);
	rid = gb_new_node(gg, L->start + nl_total, L->end, depth);
	pn = &gg->nodes[L->id];
	pn->feature = sp->feature;
	pn->bin = sp->bin;
	pn->default_left = sp->default_left;
	pn->threshold = sp->threshold;
	pn->gain = sp->gain;
	pn->left = lid;
	pn->right = rid;
	gg->nodes[lid].value = gb_leaf(sp->GL, sp->HL, gp);
	gg->nodes[rid].value = gb_leaf(L->G - sp->GL, L->H - sp->HL, gp);
	if (final)
	{
		/* the margins are updated here: the leaves keep no rows */
		for (int v = t; v < u; v++)
		{
			gg->tasks[v].vl = gg->nodes[lid].value;
			gg->tasks[v].vr = gg->nodes[rid].value;
		}
		gg->nodes[lid].start = gg->nodes[lid].end = 0;
		gg->nodes[rid].start = gg->nodes[rid].end = 0;
	}

	if (grow_l)
	{
		GbLevelNode *c = &next[(*n_next)++];

		c->id = lid;
		c->start = L->start;
		c->end = L->start + nl_total;
		c->G = sp->GL;
		c->H = sp->HL;
		c->sibling = -1;
		c->parent_hist = NULL;
	}
	if (grow_r)
	{
		GbLevelNode *c = &next[(*n_next)++];

		c->id = rid;
		c->start = L->start + nl_total;
		c->end = L->end;
		c->G = L->G - sp->GL;
		c->H = L->H - sp->HL;
		c->sibling = -1;
		c->parent_hist = NULL;
	}
	/* the larger child subtracts its built sibling from the parent */
	if (retain_next && grow_l && grow_r)
	{
		GbLevelNode *lc = &next[*n_next - 2];
		GbLevelNode *rc = &next[*n_next - 1];

		if (gather == 1)
		{
			rc->sibling = *n_next - 2;
			rc->parent_hist = L->hist;
		}
		else
		{
			lc->sibling = *n_next - 1;
			lc->parent_hist = L->hist;
		}
	}
}

/*
 * Grow one tree on the rows gg->rows[0, n_sel) with pairs gg->gh, level by
 * level.  Leaves get their (shrunk) values; the caller updates the margins
 * from the segments (the last level adds its leaves to gg->margin itself).
 */
static void
gb_grow_tree(GbGrow *gg, GHPair *pool_a, GHPair *pool_b, int pool_nodes)
{
	GbLevelNode *level;
	GbLevelNode *next;
	GbSplit    *chosen;
	int			n_level = 0;
	int			level_cap = 64;
	double		G,
				H;
	int32		root;
	GHPair	   *pool = pool_a;
	GHPair	   *other = pool_b;

	gg->n_nodes = 0;
	root = gb_new_node(gg, 0, gg->n_sel, 0);
	gb_root_totals(gg, &G, &H);

	level = palloc(sizeof(GbLevelNode) * level_cap);
	next = palloc(sizeof(GbLevelNode) * level_cap);
	chosen = palloc(sizeof(GbSplit) * level_cap);
	gg->cand = palloc(sizeof(GbSplit) * (Size) Min(level_cap, pool_nodes) * gg->n_feats);

	if (gb_may_split(gg, gg->n_sel, H, 0))
	{
		level[0].id = root;
		level[0].start = 0;
		level[0].end = gg->n_sel;
		level[0].G = G;
		level[0].H = H;
		level[0].sibling = -1;
		level[0].parent_hist = NULL;
		n_level = 1;
	}
	gg->nodes[root].value = gb_leaf(G, H, gg->gp);

	while (n_level > 0)
	{
		int			n_next = 0;
		int			n_split;
		int			n_grow;
		bool		retain_next;
		bool		final;			/* no child grows: margins instead of a partition */

		n_split = gb_level_splits(gg, level, n_level, pool, pool_nodes, chosen);
		CHECK_FOR_INTERRUPTS();
		if (n_split == 0)
			break;

		/* children; decide which get histograms at the next level */
		if (2 * n_split > level_cap)
		{
			while (2 * n_split > level_cap)
				level_cap *= 2;
			next = repalloc(next, sizeof(GbLevelNode) * level_cap);
		}
		n_grow = gb_count_growing(gg, level, n_level, chosen);
		/* subtraction needs this level in one batch and the next one too */
		retain_next = n_level <= pool_nodes && n_grow <= pool_nodes;
		final = (n_grow == 0);

		/* partition every splitting node's rows, node by node */
		gb_partition_tasks(gg, level, n_level, chosen);
		for (int t = 0; t < gg->n_tasks;)
		{
			int			i = gg->tasks[t].node;
			int			u = t;

			while (u < gg->n_tasks && gg->tasks[u].node == i)
				u++;
			gb_split_node(gg, &level[i], &chosen[i], t, u, retain_next, final, next, &n_next);
			t = u;
		}
		if (final)
			tree_parallel(tree_threads_for(gg->nw, (double) gg->n_sel * 2), gb_part_margin_kernel, gg);
		else
			tree_parallel(tree_threads_for(gg->nw, (double) gg->n_sel * 2), gb_part2_kernel, gg);
		pfree(gg->tasks);
		gg->tasks = NULL;
		CHECK_FOR_INTERRUPTS();

		/* the next level's histograms go to the other pool */
		{
			GbLevelNode *t = level;
			GHPair	   *tp = pool;

			level = next;
			next = t;
			pool = other;
			other = tp;
			if (level_cap > 0)
			{
				next = repalloc(next, sizeof(GbLevelNode) * level_cap);
				chosen = repalloc(chosen, sizeof(GbSplit) * level_cap);
			}
			pfree(gg->cand);
			gg->cand = palloc(sizeof(GbSplit) * (Size) Min(Max(n_next, 1), pool_nodes) * gg->n_feats);
		}
		n_level = n_next;
	}
	pfree(level);
	pfree(next);
	pfree(chosen);
	pfree(gg->cand);
	gg->cand = NULL;
}

/* ---------------------------------------------------------------------
 * Objectives
 * --------------------------------------------------------------------- */

typedef enum GbObjective
{
	OBJ_SQUARED_ERROR,
	OBJ_LOGISTIC,
	OBJ_SOFTMAX
} GbObjective;

/*
 * Natural log for the reported losses only (relative error below 1e-8):
 * x = m * 2^e with m in [sqrt(1/2), sqrt(2)), log m by the atanh series.
 * Gradients never use it.
 */
static inline double
loss_log(double x)
{
	uint64		bits;
	int			e;
	double		m,
				s,
				s2;

	if (!(x > 0) || !isfinite(x))
		return log(x);
	memcpy(&bits, &x, sizeof(bits));
	e = (int) ((bits >> 52) & 0x7FF);
	if (e == 0)
		return log(x);			/* subnormal */
	e -= 1023;
	bits = (bits & UINT64CONST(0x000FFFFFFFFFFFFF)) | UINT64CONST(0x3FF0000000000000);
	memcpy(&m, &bits, sizeof(m));
	if (m > 1.4142135623730951)
	{
		m *= 0.5;
		e++;
	}
	s = (m - 1.0) / (m + 1.0);
	s2 = s * s;
	return e * 0.6931471805599453 +
		2.0 * s * (1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9)))));
}

/* Shared state of the row-parallel objective kernels. */
typedef struct GbObjArg
{
	GbObjective obj;
	int			G;				/* groups (margins per row) */
	int64		n;
	const double *margin;		/* n x G */
	const double *y;
	const double *weight;		/* or NULL */
	GHPair	   *gh;				/* G x n (NULL: loss only) */
	double	   *chunk_loss;
	double	   *chunk_w;
} GbObjArg;

/*
 * Logistic loss and gradients of rows [s, e): exp() for a block first, then a
 * call-free loop the CPU can overlap (one division per row).
 */
static void
gb_logistic_chunk(GbObjArg *a, int64 s, int64 e, double *loss_out, double *w_out)
{
	double		ez[256];
	double		l0 = 0,
				l1 = 0,
				wsum = 0;

	for (int64 b = s; b < e; b += 256)
	{
		int			nb = (int) Min((int64) 256, e - b);

		for (int j = 0; j < nb; j++)
			ez[j] = exp(-fabs(a->margin[b + j]));

		/* two rows at a time (even rows in lane 0, odd rows in lane 1) */
		for (int j = 0; j + 2 <= nb; j += 2)
		{
			int64		i = b + j;
			const v2df	one = {1.0, 1.0};
			const v2df	two = {2.0, 2.0};
			const v2df	zero = {0.0, 0.0};
			const v2df	tiny = {1e-16, 1e-16};
			v2df		x = {ez[j], ez[j + 1]};
			v2df		z = {a->margin[i], a->margin[i + 1]};
			v2df		y = {a->y[i], a->y[i + 1]};
			v2df		wt = {a->weight ? a->weight[i] : 1.0, a->weight ? a->weight[i + 1] : 1.0};
			v2df		q = one / ((one + x) * (two + x));
			v2df		r = (two + x) * q;
			v2df		xr = x * r;
			v2di		nonneg = (z >= zero);
			v2df		p = (v2df) (((v2di) r & nonneg) | ((v2di) xr & ~nonneg));
			v2df		t = x * (one + x) * q;
			v2df		t2 = t * t;
			v2df		c3 = {1.0 / 3, 1.0 / 3},
						c5 = {1.0 / 5, 1.0 / 5},
						c7 = {1.0 / 7, 1.0 / 7},
						c9 = {1.0 / 9, 1.0 / 9},
						c11 = {1.0 / 11, 1.0 / 11},
						c13 = {1.0 / 13, 1.0 / 13},
						c15 = {1.0 / 15, 1.0 / 15};

			/* log(1 + x) = 2 atanh(t), t in (0, 1/3]: series to t^15 */
			v2df		l1p = two * t * (one + t2 * (c3 + t2 * (c5 + t2 * (c7 + t2 * (c9 + t2 * (c11 + t2 * (c13 + t2 * c15)))))));
			v2df		zpos = (v2df) ((v2di) z & (z > zero));
			v2df		li = wt * (l1p + zpos - y * z);

			l0 += li[0];
			l1 += li[1];
			wsum += wt[0];
			wsum += wt[1];
			if (a->gh)
			{
				v2df		hh = p * (one - p);
				v2di		big = (hh > tiny);
				v2df		g = wt * (p - y);

				hh = wt * (v2df) (((v2di) hh & big) | ((v2di) tiny & ~big));
				a->gh[i].g = g[0];
				a->gh[i].h = hh[0];
				a->gh[i + 1].g = g[1];
				a->gh[i + 1].h = hh[1];
			}
		}
		if (nb & 1)
		{
			int64		i = b + nb - 1;
			double		wt = a->weight ? a->weight[i] : 1.0;
			double		z = a->margin[i];
			double		y = a->y[i];
			double		x = ez[nb - 1];
			double		q = 1.0 / ((1.0 + x) * (2.0 + x));
			double		r = (2.0 + x) * q;
			double		p = (z >= 0) ? r : x * r;
			double		t = x * (1.0 + x) * q;
			double		t2 = t * t;
			double		l1p = 2.0 * t * (1.0 + t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 * (1.0 / 7 + t2 * (1.0 / 9 + t2 * (1.0 / 11 + t2 * (1.0 / 13 + t2 * (1.0 / 15))))))));

			l0 += wt * (l1p + (z > 0 ? z : 0) - y * z);
			wsum += wt;
			if (a->gh)
			{
				a->gh[i].g = wt * (p - y);
				a->gh[i].h = wt * Max(p * (1.0 - p), 1e-16);
			}
		}
	}
	*loss_out = l0 + l1;
	*w_out = wsum;
}

/* Kernel: gradients, hessians and loss of every row, in fixed chunks. */
static void
gb_obj_kernel(void *argp, int w, int nw)
{
	GbObjArg   *a = (GbObjArg *) argp;
	int64		nchunks = (a->n + GB_CHUNK - 1) / GB_CHUNK;
	int			G = a->G;

	for (int64 c = w; c < nchunks; c += nw)
	{
		int64		s = c * GB_CHUNK;
		int64		e = Min(a->n, s + GB_CHUNK);
		double		loss = 0,
					wsum = 0;

		if (a->obj == OBJ_LOGISTIC)
		{
			gb_logistic_chunk(a, s, e, &loss, &wsum);
			a->chunk_loss[c] = loss;
			a->chunk_w[c] = wsum;
			continue;
		}
		for (int64 i = s; i < e; i++)
		{
			double		wt = a->weight ? a->weight[i] : 1.0;
			const double *m = a->margin + i * G;
			double		y = a->y[i];

			wsum += wt;
			if (a->obj == OBJ_SQUARED_ERROR)
			{
				double		r = m[0] - y;

				loss += wt * r * r;
				if (a->gh)
				{
					a->gh[i].g = wt * r;
					a->gh[i].h = wt;
				}
			}
			else
			{
				double		mx = m[0],
							sum = 0;
				int			k_y = (int) y;

				for (int k = 1; k < G; k++)
					mx = Max(mx, m[k]);
				for (int k = 0; k < G; k++)
					sum += exp(m[k] - mx);
				loss += wt * (loss_log(sum) - (m[k_y] - mx));
				if (a->gh)
					for (int k = 0; k < G; k++)
					{
						double		p = exp(m[k] - mx) / sum;

						a->gh[(Size) k * a->n + i].g = wt * (p - (k == k_y ? 1.0 : 0.0));
						a->gh[(Size) k * a->n + i].h = wt * Max(2.0 * p * (1.0 - p), 1e-16);
					}
			}
		}
		a->chunk_loss[c] = loss;
		a->chunk_w[c] = wsum;
	}
}

/* Compute gradients (when gh != NULL) and return the mean loss at 'margin'. */
static double
gb_objective(GbObjective obj, int G, int64 n, const double *margin, const double *y,
			 const double *weight, GHPair *gh, int threads)
{
	GbObjArg	a;
	int64		nchunks = (n + GB_CHUNK - 1) / GB_CHUNK;
	double		loss = 0,
				wsum = 0;

	if (n == 0)
		return NAN;
	a.obj = obj;
	a.G = G;
	a.n = n;
	a.margin = margin;
	a.y = y;
	a.weight = weight;
	a.gh = gh;
	a.chunk_loss = palloc(sizeof(double) * nchunks);
	a.chunk_w = palloc(sizeof(double) * nchunks);
	tree_parallel(tree_threads_for(threads, (double) n * G * 20), gb_obj_kernel, &a);
	for (int64 c = 0; c < nchunks; c++)
	{
		loss += a.chunk_loss[c];
		wsum += a.chunk_w[c];
	}
	pfree(a.chunk_loss);
	pfree(a.chunk_w);
	return wsum > 0 ? loss / wsum : NAN;
}

/* Row-parallel margin update after a tree. */
typedef struct GbMarginArg
{
	const TreeBuildNode *bn;	/* the tree just grown */
	const int32 *rows;			/* rows, partitioned by leaf */
	int64		n;				/* build nodes */
	double	   *margin;
	int			G;
	int			k;
} GbMarginArg;

/* Kernel: margins of the sampled rows from the leaves' row segments. */
static void
gb_leaf_margin_kernel(void *argp, int w, int nw)
{
	GbMarginArg *a = (GbMarginArg *) argp;
	int			n_bn = (int) a->n;

	for (int i = w; i < n_bn; i += nw)
	{
		const TreeBuildNode *nd = &a->bn[i];

		if (nd->feature >= 0)
			continue;
		for (int32 pos = nd->start; pos < nd->end; pos++)
			a->margin[(int64) a->rows[pos] * a->G + a->k] += nd->value;
	}
}

/* ---------------------------------------------------------------------
 * fit
 * --------------------------------------------------------------------- */

/* The hyperparameters of a fit. */
static void
gb_read_params(const HyperParams *hp, GbParams *gp)
{
	gp->n_estimators = (int) hp->values[HP_N_ESTIMATORS];
	gp->eta = hp->values[HP_LEARNING_RATE];
	gp->max_depth = (int) hp->values[HP_MAX_DEPTH];
	gp->mcw = hp->values[HP_MIN_CHILD_WEIGHT];
	gp->lambda = hp->values[HP_REG_LAMBDA];
	gp->alpha = hp->values[HP_REG_ALPHA];
	gp->gamma = hp->values[HP_GAMMA];
	gp->subsample = hp->values[HP_SUBSAMPLE];
	gp->colsample = hp->values[HP_COLSAMPLE];
	gp->early_stopping = (int) hp->values[HP_EARLY_STOPPING];
	gp->max_bins = (int) hp->values[HP_MAX_BINS];
}

/* The objective of the task, and *G, the margins (trees) per row and round. */
static GbObjective
gb_choose_objective(const TrainData *d, int *G)
{
	if (d->task == TASK_REGRESSION)
	{
		*G = 1;
		return OBJ_SQUARED_ERROR;
	}
	if (d->task == TASK_CLASSIFICATION && d->n_classes == 2)
	{
		*G = 1;
		return OBJ_LOGISTIC;
	}
	if (d->task == TASK_CLASSIFICATION && d->n_classes > 2)
	{
		*G = d->n_classes;
		return OBJ_SOFTMAX;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("gradient_boosting supports regression and classification only")));
	pg_unreachable();
}

/* Check the row count, base_score, early stopping and every target. */
static void
gb_check_data(const TrainData *d, GbObjective obj, const GbParams *gp, double base_score,
			  bool has_val)
{
	int64		n = d->n_rows;
	int			K = d->n_classes;

	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("gradient_boosting needs at least one training row")));
	if (n >= INT32_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("gradient_boosting supports at most %d rows, got " INT64_FORMAT,
						INT32_MAX / 2 - 1, n)));
	if (obj != OBJ_SQUARED_ERROR && !(base_score > 0 && base_score < 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparameter \"base_score\" = %g is out of range for classification", base_score),
				 errdetail("Allowed range: (0, 1), a probability.")));
	if (gp->early_stopping > 0 && !has_val)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("early_stopping_rounds needs a validation split"),
				 errhint("Set test_size above 0, or set early_stopping_rounds to 0.")));
	for (int64 i = 0; i < n; i++)
	{
		double		y = d->y[i];

		if (!isfinite(y) || (obj != OBJ_SQUARED_ERROR && (y < 0 || y >= K || y != floor(y))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("target %g of row " INT64_FORMAT " is invalid for gradient_boosting", y, i)));
	}
}

/*
 * Check that the memory the fit may need fits galaxy.max_training_memory:
 * codes, per-row state, histogram pools and the largest possible model.
 */
static void
gb_check_memory(const GbParams *gp, int64 n, int p, int G)
{
	double		nodes_per_tree = Min(ldexp(1.0, gp->max_depth + 1), 2.0 * n);
	double		est = tree_bins_memory(n, p)
		+ (double) n * G * (sizeof(GHPair) + sizeof(double))	/* pairs, margins */
		+ (double) n * (sizeof(GHPair) + 3 * sizeof(int32))	/* ordered, rows */
		+ 2.0 * Min((double) GB_POOL_BYTES,
					ldexp(1.0, gp->max_depth - 1) * p * (TREE_MAX_BINS + 1) * sizeof(GHPair))
		+ (double) gp->n_estimators * G * nodes_per_tree * (sizeof(TreeNode) + sizeof(double));

	galaxy_check_training_memory((Size) Min(est, (double) PG_INT64_MAX / 2),
								 psprintf("gradient_boosting with n_estimators = %d, max_depth = %d on " INT64_FORMAT " rows",
										  gp->n_estimators, gp->max_depth, n));
}

/* Base score as XGBoost 1.7: a value, or a probability turned into a margin. */
static void
gb_set_base_score(TreeModel *m, GbObjective obj, double base_score)
{
	if (obj == OBJ_SQUARED_ERROR)
		m->base_score[0] = base_score;
	else if (obj == OBJ_LOGISTIC)
		m->base_score[0] = log(base_score / (1.0 - base_score));
	else
		for (int k = 0; k < m->n_groups; k++)
			m->base_score[k] = base_score;
}

/* Margins of n rows (n x n_groups), all at the model's base score. */
static double *
gb_base_margins(const TreeModel *m, int64 n)
{
	int			G = m->n_groups;
	double	   *margin = galaxy_alloc_filled(sizeof(double) * (Size) n * G);

	for (int64 i = 0; i < n; i++)
		for (int k = 0; k < G; k++)
			margin[i * G + k] = m->base_score[k];
	return margin;
}

/* The per-row scratch of tree growth for n rows and p features. */
static void
gb_grow_init(GbGrow *gg, const TreeBins *tb, const GbParams *gp, int64 n, int p, int threads)
{
	memset(gg, 0, sizeof(*gg));
	gg->tb = tb;
	gg->gp = gp;
	gg->n = n;
	gg->nw = threads;
	gg->rows = galaxy_alloc_filled(sizeof(int32) * n);
	gg->tmp_l = galaxy_alloc_filled(sizeof(int32) * n);
	gg->tmp_r = galaxy_alloc_filled(sizeof(int32) * n);
	gg->ordered = galaxy_alloc_filled(sizeof(GHPair) * n);
	gg->feats = palloc(sizeof(int) * p);
	gg->node_cap = 256;
	gg->nodes = palloc(sizeof(TreeBuildNode) * gg->node_cap);
}

/*
 * Histogram pools: as many nodes as a level can have, within GB_POOL_BYTES.
 * Returns the nodes each pool holds.
 */
static int
gb_alloc_pools(const TreeBins *tb, const GbParams *gp, int64 n, GHPair **pool_a, GHPair **pool_b)
{
	Size		hist_bytes = sizeof(GHPair) * (Size) tb->total_bins;
	int64		want = Min((int64) 1 << (gp->max_depth - 1), Max(n / 2, (int64) 1));
	int			pool_nodes = (int) Max((int64) 1, Min(want, (int64) (GB_POOL_BYTES / hist_bytes)));

	*pool_a = palloc_extended(hist_bytes * pool_nodes, MCXT_ALLOC_HUGE);
	*pool_b = palloc_extended(hist_bytes * pool_nodes, MCXT_ALLOC_HUGE);
	return pool_nodes;
}

/*
 * Rows of a round with subsample < 1: each of the n rows is drawn with
 * probability subsample (seeded by the round) into rows[], the others go to
 * unsampled[*n_uns].  Returns the number drawn.
 */
static int64
gb_sample_rows(uint64 seed, int round, double subsample, int64 n, int32 *rows,
			   int32 *unsampled, int64 *n_uns)
{
	GalaxyRng	rng;
	int64		n_sel = 0;

	galaxy_rng_seed(&rng, seed, UINT64CONST(0x53554200) + (uint64) round);
	*n_uns = 0;
	for (int64 i = 0; i < n; i++)
	{
		if (galaxy_rng_uniform(&rng) < subsample)
			rows[n_sel++] = (int32) i;
		else
			unsampled[(*n_uns)++] = (int32) i;
	}
	return n_sel;
}

/* Features of tree k of a round (of G per round) into gg->feats: all, or a seeded sample. */
static void
gb_sample_features(GbGrow *gg, double colsample, uint64 seed, int round, int G, int k, int p)
{
	GalaxyRng	rng;
	int		   *perm;
	int			take;
	bool	   *on;

	if (colsample >= 1.0)
	{
		for (int f = 0; f < p; f++)
			gg->feats[f] = f;
		gg->n_feats = p;
		return;
	}
	perm = palloc(sizeof(int) * p);
	take = Max(1, (int) floor(colsample * p));
	on = palloc0(sizeof(bool) * p);
	galaxy_rng_seed(&rng, seed, UINT64CONST(0x434F4C00) + (uint64) round * G + k);
	for (int f = 0; f < p; f++)
		perm[f] = f;
	for (int j = 0; j < take; j++)
	{
		int			r = j + (int) galaxy_rng_below(&rng, (uint64) (p - j));
		int			t = perm[j];

		perm[j] = perm[r];
		perm[r] = t;
		on[perm[j]] = true;
	}
	gg->n_feats = 0;
	for (int f = 0; f < p; f++)
		if (on[f])
			gg->feats[gg->n_feats++] = f;
	pfree(perm);
	pfree(on);
}

/*
 * After a tree: the training margins of the sampled rows (the leaves' row
 * segments; the last level already added its own), then the tree into the
 * model with its leaf values and importance.
 */
static void
gb_finish_tree(GbGrow *gg, TreeModel *m, int threads)
{
	GbMarginArg ma;
	double	   *leaf_out = palloc(sizeof(double) * gg->n_nodes);

	memset(&ma, 0, sizeof(ma));
	ma.bn = gg->nodes;
	ma.rows = gg->rows;
	ma.n = gg->n_nodes;
	ma.margin = gg->margin;
	ma.G = gg->G;
	ma.k = gg->k;
	tree_parallel(tree_threads_for(threads, (double) gg->n_sel * 2), gb_leaf_margin_kernel, &ma);

	for (int i = 0; i < gg->n_nodes; i++)
	{
		leaf_out[i] = gg->nodes[i].value;
		if (gg->nodes[i].feature >= 0)
		{
			m->importance_gain[gg->nodes[i].feature] += gg->nodes[i].gain;
			m->importance_split[gg->nodes[i].feature] += 1.0;
		}
	}
	tree_model_append(m, gg->nodes, gg->n_nodes, leaf_out);
	pfree(leaf_out);
}

/* AlgorithmDef.fit for gradient_boosting. */
static void *
gb_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	GbParams	gp;
	int64		n = d->n_rows;
	int			p = d->n_features;
	GbObjective obj;
	int			G;
	int			threads = ctx ? Max(ctx->threads, 1) : 1;
	uint64		seed = ctx ? ctx->seed : 0;
	TreeBins   *tb;
	TreeModel  *m;
	double	   *margin;
	double	   *val_margin = NULL;
	bool	   *val_nan = NULL;		/* rows of X_val with a NaN, found once */
	bool	   *x_nan = NULL;		/* the same for X (rows left out of a subsample) */
	GHPair	   *gh;
	GbGrow		gg;
	GHPair	   *pool_a,
			   *pool_b;
	int			pool_nodes;
	int32	   *all_rows;
	int32	   *unsampled = NULL;
	double		best_val = INFINITY;
	int			best_round = 0;
	int			rounds_done = 0;
	double		prev_val = NAN;
	double	   *best_gain = palloc0(sizeof(double) * p);
	double	   *best_split = palloc0(sizeof(double) * p);
	double		base_score = hp->values[HP_BASE_SCORE];
	bool		has_val = d->n_val > 0 && d->X_val != NULL && d->y_val != NULL;

	gb_read_params(hp, &gp);
	obj = gb_choose_objective(d, &G);
	gb_check_data(d, obj, &gp, base_score, has_val);
	gb_check_memory(&gp, n, p, G);

	/* rows loaded as bin codes are used as they are */
	tb = d->Xb ? tree_bins_from_binned(d->Xb) : tree_bins_fit(d->X, n, p, gp.max_bins, seed, threads);
	m = tree_model_new(TREE_ALGO_GRADIENT_BOOSTING, d->task, p, d->n_classes, 1, G);
	tree_model_set_bins(m, tb);
	gb_set_base_score(m, obj, base_score);

	margin = gb_base_margins(m, n);
	if (has_val)
		val_margin = gb_base_margins(m, d->n_val);
	gh = galaxy_alloc_filled(sizeof(GHPair) * (Size) n * G);

	gb_grow_init(&gg, tb, &gp, n, p, threads);
	all_rows = galaxy_alloc_filled(sizeof(int32) * n);
	for (int64 i = 0; i < n; i++)
		all_rows[i] = (int32) i;
	if (gp.subsample < 1.0)
	{
		unsampled = palloc_extended(sizeof(int32) * n, MCXT_ALLOC_HUGE);
		if (d->X)
			x_nan = tree_rows_with_nan(d->X, n, p);
	}
	if (has_val)
		val_nan = tree_rows_with_nan(d->X_val, d->n_val, p);
	pool_nodes = gb_alloc_pools(tb, &gp, n, &pool_a, &pool_b);

	for (int round = 0; round < gp.n_estimators; round++)
	{
		double		loss;
		int64		n_sel = n;
		int64		n_uns = 0;
		double		val_loss = NAN;

		/* gradients at the current margins; their loss belongs to the last round */
		loss = gb_objective(obj, G, n, margin, d->y, d->weight, gh, threads);
		if (round > 0)
			fit_report_iteration(ctx, round, gp.n_estimators, n, loss, prev_val, NAN, gp.eta);
		CHECK_FOR_INTERRUPTS();

		if (gp.subsample < 1.0)
			n_sel = gb_sample_rows(seed, round, gp.subsample, n, all_rows, unsampled, &n_uns);

		for (int k = 0; k < G; k++)
		{
			gb_sample_features(&gg, gp.colsample, seed, round, G, k, p);
			memcpy(gg.rows, all_rows, sizeof(int32) * n_sel);
			gg.n_sel = (int32) n_sel;
			gg.gh = gh + (Size) k * n;
			gg.margin = margin;
			gg.G = G;
			gg.k = k;
			gb_grow_tree(&gg, pool_a, pool_b, pool_nodes);
			gb_finish_tree(&gg, m, threads);

			/* rows left out of the sample, and the validation rows: walk the new tree */
			if (n_uns > 0 && d->X == NULL)
				tree_model_add_tree_codes(m, m->n_trees - 1, tb, unsampled, n_uns, margin, G, k);
			else if (n_uns > 0)
				tree_model_add_tree(m, m->n_trees - 1, d->X, unsampled, n_uns, x_nan, margin, G, k, threads);
			if (has_val)
				tree_model_add_tree(m, m->n_trees - 1, d->X_val, NULL, d->n_val, val_nan, val_margin, G, k, threads);
		}
		rounds_done = round + 1;

		if (has_val)
		{
			val_loss = gb_objective(obj, G, d->n_val, val_margin, d->y_val, NULL, NULL, threads);
			if (val_loss < best_val)
			{
				best_val = val_loss;
				best_round = rounds_done;
				memcpy(best_gain, m->importance_gain, sizeof(double) * p);
				memcpy(best_split, m->importance_split, sizeof(double) * p);
			}
		}
		prev_val = val_loss;
		if (gp.early_stopping > 0 && rounds_done - best_round >= gp.early_stopping)
			break;
	}

	/* the last round's report needs the loss at the final margins */
	fit_report_iteration(ctx, rounds_done, gp.n_estimators, n,
						 gb_objective(obj, G, n, margin, d->y, d->weight, NULL, threads),
						 prev_val, NAN, gp.eta);

	/* early stopping keeps the best round */
	if (gp.early_stopping > 0 && best_round > 0 && best_round < rounds_done)
	{
		tree_model_truncate(m, best_round * G);
		memcpy(m->importance_gain, best_gain, sizeof(double) * p);
		memcpy(m->importance_split, best_split, sizeof(double) * p);
	}
	pfree(best_gain);
	pfree(best_split);

	pfree(pool_a);
	pfree(pool_b);
	pfree(gh);
	pfree(margin);
	if (val_margin)
		pfree(val_margin);
	pfree(gg.rows);
	pfree(gg.tmp_l);
	pfree(gg.tmp_r);
	pfree(gg.ordered);
	pfree(all_rows);
	if (unsampled)
		pfree(unsampled);
	if (x_nan)
		pfree(x_nan);
	if (val_nan)
		pfree(val_nan);
	if (d->Xb == NULL)
		pfree(tb->codes);		/* codes loaded as such belong to the caller */

	tree_model_finish(m);
	return m;
}

/* AlgorithmDef.deserialize for gradient_boosting. */
static void *
gb_deserialize(ModelReader *r, int n_features, int n_classes, GalaxyTask task)
{
	return tree_deserialize_kind(TREE_ALGO_GRADIENT_BOOSTING, r, n_features, n_classes, task);
}

/*
 * galaxy.compress 'prune' for gradient boosting: a copy of the model (written
 * and read back) that keeps only its leading rounds, the share 1 - sparsity
 * of them (at least one).  Each round fits what the rounds before it left
 * over, so the leading rounds carry the most of the margin: dropping the
 * trailing ones is dropping the trees that contribute least, and what is
 * left is exactly the model an earlier stop of the boosting would have
 * given.  The accuracy guard measures the loss.  The copy is a format 1
 * model with fewer trees: every galaxy reads it.
 */
static void *
gb_compress(const void *state, const CompressOptions *opt, uint16 *format)
{
	const TreeModel *m = state;
	TreeModel  *c;
	ModelWriter w;
	ModelReader r;
	int			rounds = m->n_trees / Max(m->n_groups, 1);
	int			keep;

	if (strcmp(opt->method, "prune") != 0)
		elog(ERROR, "gradient_boosting does not compress with \"%s\"", opt->method);
	if (rounds < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the gradient_boosting model has %d round%s: there is no tree to prune",
						rounds, rounds == 1 ? "" : "s")));
	keep = (int) rint((double) rounds * (1.0 - opt->sparsity));
	keep = Max(keep, 1);
	mw_init(&w);
	tree_serialize(state, &w);
	mr_init(&r, w.buf.data, w.buf.len);
	r.format = MODEL_FORMAT_VERSION;
	c = gb_deserialize(&r, m->n_features, m->n_classes, m->task);
	pfree(w.buf.data);
	tree_model_truncate(c, keep * Max(c->n_groups, 1));
	tree_model_finish(c);
	*format = MODEL_FORMAT_VERSION;
	return c;
}

const AlgorithmDef galaxy_algo_gradient_boosting = {
	.name = "gradient_boosting",
	.id = TREE_ALGO_GRADIENT_BOOSTING,
	.tasks = TASK_BIT(TASK_REGRESSION) | TASK_BIT(TASK_CLASSIFICATION),
	.params = gb_params,
	.n_params = GB_N_PARAMS,
	.default_scaling = false,
	.binned_input = true,
	.description = "Histogram gradient boosting, second order (XGBoost-style): squared error, logistic or softmax.",
	.fit = gb_fit,
	.predict = tree_predict,
	.predict_proba = tree_predict_proba,
	.serialize = tree_serialize,
	.deserialize = gb_deserialize,
	.feature_importance = tree_feature_importance,
	.budget_param = "n_estimators",
	.compress_methods = "prune",
	.compress = gb_compress,
};
