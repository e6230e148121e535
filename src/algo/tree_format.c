/*
 * tree_format.c — the flat tree model: appending built trees, the perfect-tree
 * prediction layout, feature importance, and the byte format (serialise, read
 * and validate).  See tree_core.h for the layout.
 */
#include "postgres.h"

#include <math.h>

#include "utils/memutils.h"

#include "algo/tree_core.h"

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
void
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
int
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
void
tree_fast_fill(const TreeModel *m, const TreeNode *nd, int i, int t, int k, int D,
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
		tree_fast_fill(m, nd, nd[i].left, t, c, D, fn, fv, fl);
		tree_fast_fill(m, nd, nd[i].left + 1, t, c + 1, D, fn, fv, fl);
	}
	else
	{
		/* a leaf above the last level: always go left (no value exceeds +inf) */
		fn[(Size) t * n_inner + k].threshold = INFINITY;
		fn[(Size) t * n_inner + k].feature = 0;
		tree_fast_fill(m, nd, i, t, c, D, fn, fv, fl);
		tree_fast_fill(m, nd, i, t, c + 1, D, fn, fv, fl);
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
			tree_fast_fill(m, m->nodes + m->tree_start[t], 0, t, 0, D,
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

/*
 * Validate the nodes read into m: leaves index stored leaf values; splits
 * name a feature, have a finite threshold and children after them within
 * their tree (so every walk ends at a leaf).
 */
static void
tree_check_nodes(const TreeModel *m)
{
	uint32		n_leaves = (uint32) m->n_leaves;
	int			p = m->n_features;

	for (uint32 t = 0; t < (uint32) m->n_trees; t++)
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
}

/* Read and validate max_bins and the bin edges of every feature (increasing, finite). */
static void
tree_read_bins(ModelReader *r, TreeModel *m)
{
	int			p = m->n_features;

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
	tree_check_nodes(m);

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

	tree_read_bins(r, m);

	tree_model_finish(m);
	return m;
}
