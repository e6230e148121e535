/*
 * tree_predict.c — prediction with the flat tree model: node-by-node walks,
 * eight perfect trees walked side by side, eight rows walked side by side
 * through a deep tree, and one tree added to many rows' margins (gradient
 * boosting's rounds).  See tree_core.h.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "algo/linalg.h"
#include "algo/tree_core.h"
#include "galaxy.h"

/*
 * Whether a row of p raw values holds a NaN (it then takes the node-by-node
 * walk).  Four independent flags: a single one made a chain of p steps,
 * which a small ensemble paid on every row.
 */
static inline bool
row_has_nan(const double *row, int p)
{
	bool		n0 = false,
				n1 = false,
				n2 = false,
				n3 = false;
	int			f = 0;

	for (; f + 4 <= p; f += 4)
	{
		n0 |= isnan(row[f]);
		n1 |= isnan(row[f + 1]);
		n2 |= isnan(row[f + 2]);
		n3 |= isnan(row[f + 3]);
	}
	for (; f < p; f++)
		n0 |= isnan(row[f]);
	return (n0 | n1) | (n2 | n3);
}

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
	if (m->fast_depth > 0 && !row_has_nan(row, m->n_features))
	{
		fast_accumulate(m, row, acc);
		return;
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
			/* the class needs only the margin's sign: no exp() per row */
			if (mode == PRED_VALUE)
				out[0] = acc[0] > 0.0 ? 1.0 : 0.0;
			else
			{
				double		p = 1.0 / (1.0 + exp(-acc[0]));

				out[0] = 1.0 - p;
				out[1] = p;
			}
			return;
		}
		/* softmax */
		{
			int			best = vec_argmax(acc, K);

			if (mode == PRED_VALUE)
				out[0] = best;
			else
				vec_exp_normalise(acc, K, acc[best], out);
			return;
		}
	}
	/* averaged leaf distributions (classification forests) */
	if (mode == PRED_VALUE)
	{
		out[0] = vec_argmax(acc, K);
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
	int64		r0,
				r1;
	double	   *acc = a->scratch + (Size) w * a->n_acc * a->block;
	int			width;

	tree_worker_rows(a->n, w, nw, &r0, &r1);
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

	/* one row (galaxy.predict): no kernel set-up */
	if (n == 1 && Max(m->n_groups, m->n_outputs) <= lengthof(local))
	{
		tree_accumulate(m, X, local);
		predict_finish_row(m, local, mode, out);
		return;
	}
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
		tree_fast_fill(m, m->nodes + m->tree_start[t], 0, 0, 0, D, fn, fv, NULL);
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

/*
 * margin[r * stride + offset] += value of tree t for the training rows
 * rows[0..n) of tb, walked on their codes: code c of feature f stands for
 * the upper edge of its bin (+inf for the last), which falls on the same
 * side of a threshold placed on a bin edge as every value of the bin.
 */
void
tree_model_add_tree_codes(const TreeModel *m, int t, const TreeBins *tb, const int32 *rows,
						  int64 n, double *margin, int stride, int offset)
{
	const TreeNode *base = m->nodes + m->tree_start[t];

	Assert(m->n_outputs == 1);
	for (int64 i = 0; i < n; i++)
	{
		int64		r = rows[i];
		const TreeNode *nd = base;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		while (nd->left != 0)
		{
			uint32		f = nd->feature & TREE_FEATURE_MASK;
			double		x = tb->edges[tb->offset[f] + tb->codes[(Size) f * tb->n_rows + r]];

			nd = base + nd->left + (x <= nd->threshold ? 0 : 1);
		}
		margin[r * stride + offset] += m->leaf_values[nd->feature];
	}
}
