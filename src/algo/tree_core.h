/*
 * tree_core.h — machinery shared by the tree models (decision_tree,
 * random_forest, gradient_boosting).  This is the one internal header of the
 * trees: every tree_*.c file and the three algorithms include it, and
 * kmeans.c for its thread runner; nothing outside src/algo does.  Its parts
 * live in
 *
 *   tree_bins.c     binning: bin edges, the codes of every row, split thresholds
 *   tree_format.c   the flat model: appending trees, the perfect-tree layout,
 *                   importance, serialise / read and validate
 *   tree_predict.c  prediction: node walks, perfect trees side by side, blocks
 *                   of rows, one tree added to many rows' margins
 *   tree_threads.c  the thread runner
 *   tree_cart.c     the CART grower (decision_tree and random_forest)
 *
 * and gradient_boosting.c grows its own trees on the same bins and model.
 *
 *   - binning: every feature is cut into at most 256 bins by quantiles of the
 *     training rows; the codes are stored column-major as uint8 so histogram
 *     building walks one byte column per feature.  NaN gets its own bin when
 *     the feature had NaN in training, and every split learns the direction
 *     missing values take.
 *   - the model: a flat array of 16-byte nodes per tree (threshold on the raw
 *     value, feature with a default-left bit, left child; the right child is
 *     left + 1 and every child index is greater than its parent's), leaf values
 *     in one array, gain and split-count importances, the bin edges.
 *   - prediction: trees of depth <= TREE_FAST_MAX_DEPTH are also laid out as
 *     perfect binary trees so that several trees are walked at once without
 *     branches; deeper trees are walked node by node.
 *   - threads: pure numeric kernels run on up to galaxy.threads threads
 *     (signals blocked, no PostgreSQL calls); work is always divided so that
 *     results do not depend on the number of threads.
 */
#ifndef GALAXY_TREE_CORE_H
#define GALAXY_TREE_CORE_H

#include <math.h>

#include "algo/algo.h"
#include "util/rng.h"

/* Stable algorithm ids (stored in model values). */
#define TREE_ALGO_DECISION_TREE		10
#define TREE_ALGO_RANDOM_FOREST		11
#define TREE_ALGO_GRADIENT_BOOSTING	12

#define TREE_MAX_BINS			256
#define TREE_MAX_THREADS		64
#define TREE_DEFAULT_LEFT		0x80000000u
#define TREE_FEATURE_MASK		0x7FFFFFFFu
#define TREE_FAST_MAX_DEPTH		8
#define TREE_MAX_TREES			(1 << 24)

/* ---------------------------------------------------------------------
 * Binned training matrix
 * --------------------------------------------------------------------- */
typedef struct TreeBins
{
	int64		n_rows;
	int			n_features;
	int			max_bins;
	uint8	   *codes;			/* n_features x n_rows, column-major */
	int		   *n_bins;			/* value bins of each feature (>= 1) */
	int		   *missing_bin;	/* code of NaN (== n_bins[f]), or -1 if none */
	int		   *offset;			/* first histogram slot of each feature; [n_features] = total */
	int			total_bins;		/* histogram slots of all features */
	double	   *edges;			/* edges[offset[f] + b], b < n_bins[f] - 1: upper edge of bin b */
	double	   *bin_lo;			/* smallest training value in each slot (NaN: unknown) */
	double	   *bin_hi;			/* largest training value in each slot (NaN: unknown) */
} TreeBins;

/* Fit bin edges on the rows of X (row-major n x p) and code every row. */
extern TreeBins *tree_bins_fit(const double *X, int64 n, int p, int max_bins,
							   uint64 seed, int threads);

/* The bins of features loaded as codes (TrainData.Xb); the codes are shared. */
extern TreeBins *tree_bins_from_binned(const BinnedFeatures *bf);

/* Bytes tree_bins_fit needs (for memory checks before fitting). */
extern double tree_bins_memory(int64 n, int p);

/* Threshold of a split "codes <= b go left" whose next non-empty bin is b2. */
extern double tree_bins_threshold(const TreeBins *tb, int f, int b, int b2);

/* ---------------------------------------------------------------------
 * Trees while they are built
 * --------------------------------------------------------------------- */
typedef struct TreeBuildNode
{
	int32		feature;		/* split feature, or -1 for a leaf */
	int32		bin;			/* split: codes <= bin go left */
	int32		left;			/* build-node indices of the children */
	int32		right;
	int32		start;			/* rows[start, end) reached this node */
	int32		end;
	int32		depth;
	bool		default_left;	/* where missing values go */
	double		threshold;		/* raw-value threshold of the split */
	double		gain;			/* loss reduction of the split */
	double		value;			/* leaf value (gradient boosting) */
} TreeBuildNode;

/* A fresh build node: a leaf over rows[start, end) at this depth, no children. */
static inline void
tree_build_node_init(TreeBuildNode *nd, int32 start, int32 end, int32 depth)
{
	memset(nd, 0, sizeof(*nd));
	nd->feature = -1;
	nd->left = nd->right = -1;
	nd->start = start;
	nd->end = end;
	nd->depth = depth;
}

/*
 * Leaf (build-node index) a row of raw values reaches: the same walk as the
 * finished model's, so out-of-sample rows agree with prediction.
 */
static inline int
tree_build_leaf_raw(const TreeBuildNode *bn, const double *row)
{
	int			i = 0;

	while (bn[i].feature >= 0)
	{
		double		x = row[bn[i].feature];
		bool		left = isnan(x) ? bn[i].default_left : (x <= bn[i].threshold);

		i = left ? bn[i].left : bn[i].right;
	}
	return i;
}

/*
 * Leaf (build-node index) training row r reaches, read from its bin codes
 * (column-major, n rows): the partition the tree was grown on.
 */
static inline int
tree_build_leaf_codes(const TreeBuildNode *bn, const TreeBins *tb, int64 r)
{
	int			i = 0;

	while (bn[i].feature >= 0)
	{
		int			f = bn[i].feature;
		int			c = tb->codes[(Size) f * tb->n_rows + r];
		bool		left = c == tb->missing_bin[f] ? bn[i].default_left : (c <= bn[i].bin);

		i = left ? bn[i].left : bn[i].right;
	}
	return i;
}

/* Gradient/hessian pair: one histogram slot of gradient boosting. */
typedef struct GHPair
{
	double		g;
	double		h;
} GHPair;

/* ---------------------------------------------------------------------
 * The model
 * --------------------------------------------------------------------- */
typedef struct TreeNode
{
	double		threshold;		/* split: x <= threshold goes left */
	uint32		feature;		/* split: feature | TREE_DEFAULT_LEFT; leaf: leaf index */
	int32		left;			/* split: left child (right = left + 1), within the tree; leaf: 0 */
} TreeNode;

/*
 * A node of the perfect-tree layout: x > threshold goes to child + 1, else to
 * child.  child is an absolute index into fast_nodes, or into fast_value /
 * fast_leaf for the last level.
 */
typedef struct TreeFastNode
{
	double		threshold;
	uint32		feature;
	uint32		child;
} TreeFastNode;

typedef struct TreeModel
{
	uint16		kind;			/* TREE_ALGO_* */
	GalaxyTask	task;
	int			n_features;
	int			n_classes;
	int			n_outputs;		/* values per leaf */
	int			n_groups;		/* gradient boosting: trees per round; else 1 */
	int			n_trees;
	int			n_nodes;
	int			n_leaves;
	int32	   *tree_start;		/* n_trees + 1 node offsets */
	TreeNode   *nodes;
	double	   *leaf_values;	/* n_leaves x n_outputs */
	double	   *base_score;		/* n_groups (gradient boosting margins) */
	double	   *importance_gain;	/* n_features */
	double	   *importance_split;	/* n_features */
	double		oob_score;		/* NaN when not computed */
	int			max_bins;
	int32	   *edge_start;		/* n_features + 1 */
	double	   *edges;			/* bin edges of the training data */

	/* building: capacities of the growing arrays */
	int			cap_trees;
	int			cap_nodes;
	int			cap_leaves;

	/* prediction layout, derived (not stored) */
	int			fast_depth;		/* 0: walk node by node */
	TreeFastNode *fast_nodes;	/* n_trees x (2^D - 1), heap order */
	double	   *fast_value;		/* n_trees x 2^D leaf values (n_outputs == 1) */
	int32	   *fast_leaf;		/* n_trees x 2^D leaf indices (n_outputs > 1) */
} TreeModel;

/* A new empty model; the caller appends trees. */
extern TreeModel *tree_model_new(uint16 kind, GalaxyTask task, int n_features,
								 int n_classes, int n_outputs, int n_groups);
/* Store the bin edges of the training data. */
extern void tree_model_set_bins(TreeModel *m, const TreeBins *tb);

/*
 * Append a built tree.  leaf_out[i * n_outputs ...] holds the value(s) of
 * build node i when it is a leaf.  Nodes are renumbered depth first over
 * sibling pairs: children follow their parent, the right child is left + 1.
 */
extern void tree_model_append(TreeModel *m, const TreeBuildNode *bn, int n_bn,
							  const double *leaf_out);
/*
 * Make room for 'nodes' nodes and 'leaves' leaves at once (a forest whose
 * size is known early; tree_cart.c).
 */
extern void tree_model_reserve(TreeModel *m, int64 nodes, int64 leaves);
/* Keep only the first n_trees trees. */
extern void tree_model_truncate(TreeModel *m, int n_trees);
/* Build the prediction layout; call once the model is complete. */
extern void tree_model_finish(TreeModel *m);
/* Bytes the model will take when serialised. */
extern Size tree_model_bytes(const TreeModel *m);

/* Deepest path of tree t; depth[] is scratch for its nodes (tree_format.c, tree_predict.c). */
extern int	tree_depth(const TreeModel *m, int t, int32 *depth);
/*
 * Lay tree t (nodes nd, depth <= D) out from node i at heap position k of
 * perfect tree slot t: nodes into fn, leaf values into fv (or leaf indices
 * into fl when fv is NULL).  tree_predict.c uses it for one tree at a time.
 */
extern void tree_fast_fill(const TreeModel *m, const TreeNode *nd, int i, int t, int k, int D,
						   TreeFastNode *fn, double *fv, int32 *fl);

/* AlgorithmDef callbacks shared by the three algorithms. */
extern void tree_predict(const void *state, const double *X, int64 n, double *out);
extern void tree_predict_proba(const void *state, const double *X, int64 n, double *out);
extern void tree_serialize(const void *state, ModelWriter *w);
extern void *tree_deserialize_kind(uint16 kind, ModelReader *r, int n_features,
								   int n_classes, GalaxyTask task);
extern void tree_feature_importance(const void *state, double *out);

/* Normalised split counts per feature (the second importance). */
extern void tree_split_importance(const void *state, double *out);

/* Out-of-bag score of a random forest (accuracy or R²), NaN if unavailable. */
extern double tree_oob_score(const void *state);

/*
 * margin[r * stride + offset] += tree t's value for rows r of X (rows == NULL:
 * 0..n-1).  nan_rows, when given, says which rows of X hold a NaN (from
 * tree_rows_with_nan(), for an X walked once per round); else each row is
 * scanned.
 */
extern void tree_model_add_tree(const TreeModel *m, int t, const double *X, const int32 *rows,
								int64 n, const bool *nan_rows, double *margin, int stride,
								int offset, int threads);
/*
 * margin[r * stride + offset] += tree t's value for the training rows
 * rows[0..n) of tb, read from their bin codes (a tree grown on
 * tree_bins_from_binned's bins, whose thresholds are bin edges).
 */
extern void tree_model_add_tree_codes(const TreeModel *m, int t, const TreeBins *tb,
									  const int32 *rows, int64 n, double *margin,
									  int stride, int offset);
/* Which of the n rows of X (row-major, p features) hold a NaN (palloc'd). */
extern bool *tree_rows_with_nan(const double *X, int64 n, int p);

/* Raw margins of the ensemble: n x n_groups (gradient boosting) / n x n_outputs sums. */
extern void tree_model_raw(const TreeModel *m, const double *X, int64 n, double *out);

/* ---------------------------------------------------------------------
 * Threads
 * --------------------------------------------------------------------- */

/* A kernel run by worker 'w' of 'nw'; it must not call PostgreSQL. */
typedef void (*TreeKernel) (void *arg, int w, int nw);

/*
 * Run kernel(arg, w, nw) for w = 0..nw-1, worker 0 on the calling thread,
 * the others on threads with every signal blocked; returns when all are done.
 */
extern void tree_parallel(int nw, TreeKernel kernel, void *arg);

/* Threads to use for 'work' units of work (1 when the work is small). */
extern int	tree_threads_for(int threads, double work);

/* Rows [*r0, *r1) of n that worker w of nw takes as one contiguous block. */
static inline void
tree_worker_rows(int64 n, int w, int nw, int64 *r0, int64 *r1)
{
	int64		per = (n + nw - 1) / nw;

	*r0 = (int64) w * per;
	*r1 = Min(n, *r0 + per);
}

/* ---------------------------------------------------------------------
 * CART trees (decision_tree and random_forest)
 * --------------------------------------------------------------------- */
typedef enum CartCriterion
{
	CART_GINI = 0,
	CART_ENTROPY = 1,
	CART_SQUARED_ERROR = 2
} CartCriterion;

typedef struct CartParams
{
	CartCriterion criterion;
	int			max_depth;		/* 0 = unlimited */
	int			min_samples_split;
	int			min_samples_leaf;
	int			max_leaf_nodes; /* 0 = unlimited (depth first), else best first */
	int			max_features;	/* features tried per split */
	int			n_estimators;
	bool		bootstrap;
	bool		oob_score;
	int			max_bins;
} CartParams;

/* Fit a forest of CART trees (one tree without bootstrap = a decision tree). */
extern TreeModel *cart_fit(uint16 kind, const TrainData *d, const CartParams *cp,
						   const FitContext *ctx);

/* Parse a criterion choice against the task (ERROR when it does not fit). */
extern CartCriterion cart_criterion(const char *choice, GalaxyTask task);

#endif							/* GALAXY_TREE_CORE_H */
