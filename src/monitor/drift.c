/*
 * drift.c — data drift: galaxy.drift(project, relation [, baseline_relation]),
 * galaxy.set_drift_thresholds() and the training profile that training stores
 * with each model (drift.h).
 *
 * A numeric feature's baseline is its percentiles p0..p100, kept as distinct
 * bin edges e_0 < ... < e_m with the baseline's count in each bin: bin 0 is
 * (-inf, e_0], bin j is (e_{j-1}, e_j], bin m+1 is (e_m, inf).  New data is
 * binned on those edges in one pass (a lookup grid over the edges, then a
 * step or two, per value), and so are the training rows for the baseline's
 * counts, so a profile costs little more than reading the rows.  From the
 * two histograms:
 *  - PSI on the decile bins (the edges at p0, p10, ..., p100), the usual
 *    0.1 / 0.25 thresholds; proportions below 1e-4 count as 1e-4;
 *  - the Kolmogorov-Smirnov statistic, the largest difference of the two
 *    empirical distribution functions at the edges (exact for up to 101
 *    distinct values, otherwise within one percentile bin), and its
 *    asymptotic p-value;
 *  - the Jensen-Shannon distance (square root of the divergence, base 2, in
 *    [0, 1]) on the decile bins.
 * A categorical feature's baseline is the frequencies of its
 * DRIFT_MAX_CATEGORIES most frequent categories plus "other"; from them PSI,
 * the L-infinity distance (largest difference of a category's share) and
 * the Jensen-Shannon distance.  The status of a feature compares its PSI
 * with the thresholds: per call, else per project (galaxy.drift_thresholds),
 * else 0.1 and 0.25.
 *
 * The predictions drift too: the model's predictions on the relation are
 * compared with the target of the training rows (the training form) or with
 * its predictions on the baseline relation (the window form).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "galaxy.h"
#include "algo/tree_core.h"
#include "data/data_internal.h"
#include "data/dataset.h"
#include "data/profile.h"
#include "model/model.h"
#include "model/model_cache.h"
#include "monitor/drift.h"
#include "registry/access.h"
#include "registry/audit.h"
#include "registry/deploy.h"
#include "util/catalog.h"
#include "util/dict.h"
#include "util/jsonb_build.h"
#include "util/query.h"
#include "util/sort.h"

#define DRIFT_BATCH			10000
#define DRIFT_MIN_SHARE		1e-4	/* floor of a proportion in PSI */
#define DRIFT_EXACT_VALUES	65536	/* values whose quantiles are exact edges */
#define DRIFT_GATHER_SLOTS	16		/* training profile: slots whose strided values are read together */
#define DRIFT_COUNT_CHUNK	(INT64CONST(1) << 18)	/* training profile: rows counted between interrupt checks */
#define DRIFT_COUNT_MIN_ROWS 16384	/* training profile: fewest rows a thread counts */
#define DRIFT_DEFAULT_WARNING	0.1
#define DRIFT_DEFAULT_DRIFT		0.25
#define DRIFT_NATTS			13
#define DRIFT_PREDICTION	"(prediction)"
#define DRIFT_GRID			4096	/* cells of a numeric column's bin lookup */

PG_FUNCTION_INFO_V1(galaxy_drift);
PG_FUNCTION_INFO_V1(galaxy_set_drift_thresholds);

/* One compared column: its baseline, the new data's counts and how to read it. */
typedef struct DriftCol
{
	char	   *name;			/* feature name, or DRIFT_PREDICTION */
	bool		categorical;
	bool		prediction;

	/* baseline */
	int64		base_count;		/* non-NULL values */
	int64		base_nulls;
	int			n_edges;
	double	   *edges;
	double	   *base_fine;		/* n_edges + 1 bins */
	int			n_dec;
	double		dec[11];
	int			n_cats;
	char	  **cats;
	double	   *base_cat;		/* n_cats + 1: the last is "other" */
	Dict	   *index;			/* category → position in cats */

	/* new data */
	int64		new_count;
	int64		new_nulls;
	double	   *new_fine;
	double	   *new_cat;
	int		   *grid;			/* DRIFT_GRID cells over [e_0, e_m]: a bin at or near each */
	double		grid_scale;		/* cells per unit */

	/* reading the relation */
	ScalarConv	conv;
	CategoryConv cat;
	bool		collect;		/* baseline relation: keep the values */
	double	   *vals;
	int64		n_vals;
	int64		cap_vals;
	Dict	   *seen;
} DriftCol;

/* The metrics of one column. */
typedef struct DriftResult
{
	double		psi;
	double		ks;
	double		ks_p;
	double		js;
	double		linf;
	bool		has_ks;
	bool		has_linf;
} DriftResult;

/* ---------------------------------------------------------------------
 * Baselines
 * --------------------------------------------------------------------- */

/* Bin of x on the edges: 0 for x <= e_0, j for e_{j-1} < x <= e_j, m + 1 above. */
static int
drift_bin(const double *edges, int n_edges, double x)
{
	int			lo = 0,
				hi = n_edges;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (x <= edges[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * The cell of x in a column's lookup grid: values below e_0 in the first,
 * above e_m in the last, NaN in the first.  Monotone in x (a subtraction
 * and a multiplication by a positive number, rounded, then clamped): the
 * grid is built with this same function, so a value in a cell is above
 * every edge of an earlier cell and below every edge of a later one.
 */
static inline int
drift_cell(const DriftCol *c, double x)
{
	double		t = (x - c->edges[0]) * c->grid_scale;

	return t >= 0 ? (t < DRIFT_GRID ? (int) t : DRIFT_GRID - 1) : 0;
}

/*
 * Build the bin lookup of a numeric column: DRIFT_GRID equal cells over
 * [e_0, e_m].  A cell that holds at most one edge holds the bin of a value
 * below that edge, so a value's bin is that or the next, which one
 * comparison decides (no branch a processor must predict); a cell that
 * holds two or more edges holds -1, and its values take the binary search.
 */
static void
drift_grid_build(DriftCol *c)
{
	double		lo,
				hi;
	int		   *held;
	int			below = 0;

	c->grid = NULL;
	if (c->n_edges < 2)
		return;
	lo = c->edges[0];
	hi = c->edges[c->n_edges - 1];
	c->grid_scale = (double) DRIFT_GRID / (hi - lo);
	if (!isfinite(c->grid_scale))
		return;
	held = palloc0(sizeof(int) * DRIFT_GRID);
	for (int i = 0; i < c->n_edges; i++)
		held[drift_cell(c, c->edges[i])]++;
	c->grid = palloc(sizeof(int) * DRIFT_GRID);
	for (int k = 0; k < DRIFT_GRID; k++)
	{
		/* 'below' edges lie in earlier cells; above them all, compare with the last */
		c->grid[k] = held[k] >= 2 ? -1 : Min(below, c->n_edges - 1);
		below += held[k];
	}
	pfree(held);
}

/* Bin of x (as drift_bin), through the column's lookup grid when it has one. */
static inline int
drift_bin_fast(const DriftCol *c, double x)
{
	int			j;

	if (c->grid == NULL)
		return drift_bin(c->edges, c->n_edges, x);
	j = c->grid[drift_cell(c, x)];
	if (unlikely(j < 0))
		return drift_bin(c->edges, c->n_edges, x);
	return j + (x > c->edges[j]);
}

/* Percentile edges and deciles of the values q (sorted here). */
static void
drift_numeric_edges(DriftCol *c, double *q, int64 nq)
{
	uint64	   *tmp = palloc(sizeof(uint64) * 2 * Max(nq, 1));

	galaxy_sort_doubles(q, nq, tmp);
	pfree(tmp);
	for (int i = 0; i <= DRIFT_PERCENTILES; i++)
	{
		double		e = profile_quantile(q, nq, (double) i / DRIFT_PERCENTILES);

		if (c->n_edges == 0 || e > c->edges[c->n_edges - 1])
			c->edges[c->n_edges++] = e;
		if (i % (DRIFT_PERCENTILES / 10) == 0 && (c->n_dec == 0 || e > c->dec[c->n_dec - 1]))
			c->dec[c->n_dec++] = e;
	}
}

/* Start a numeric baseline of n values: no edges yet. */
static void
drift_numeric_begin(DriftCol *c, int64 n)
{
	c->categorical = false;
	c->base_count = n;
	c->edges = palloc(sizeof(double) * (DRIFT_PERCENTILES + 1));
	c->base_fine = palloc0(sizeof(double) * (DRIFT_PERCENTILES + 2));
	c->n_edges = 0;
	c->n_dec = 0;
}

/*
 * Numeric baseline of n values (v is scratch, reordered): percentile edges
 * and deciles, and the count of values in each bin between edges.  Up to
 * DRIFT_EXACT_VALUES values the edges are exact quantiles; beyond, they are
 * the quantiles of an even stride of DRIFT_EXACT_VALUES of them (sorting a
 * million values per column made the profile the slowest step of a
 * training), and every value is then counted into its bin through the
 * column's lookup grid, so the counts stay exact.
 */
static void
drift_numeric_baseline(DriftCol *c, double *v, int64 n)
{
	int64		j = 0;
	double	   *q = v;
	int64		nq = n;

	drift_numeric_begin(c, n);
	if (n == 0)
		return;
	if (n > DRIFT_EXACT_VALUES)
	{
		nq = DRIFT_EXACT_VALUES;
		q = palloc(sizeof(double) * nq);
		for (int64 i = 0; i < nq; i++)
			q[i] = v[(int64) ((double) i * n / nq)];
	}
	drift_numeric_edges(c, q, nq);
	if (q == v)
	{
		/* the values are sorted: count each bin by walking them once */
		for (int b = 0; b < c->n_edges; b++)
		{
			int64		start = j;

			while (j < n && v[j] <= c->edges[b])
				j++;
			c->base_fine[b] = (double) (j - start);
		}
		c->base_fine[c->n_edges] = (double) (n - j);
		return;
	}
	/* every value counted into its bin */
	{
		int64	   *count = palloc0(sizeof(int64) * (DRIFT_PERCENTILES + 2));

		drift_grid_build(c);
		for (int64 i = 0; i < n; i++)
		{
			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			count[drift_bin_fast(c, v[i])]++;
		}
		for (int b = 0; b <= c->n_edges; b++)
			c->base_fine[b] = (double) count[b];
		pfree(count);
	}
	pfree(q);
}

/* Order of categories: count descending, then name. */
typedef struct CatCount
{
	char	   *key;
	int64		count;
} CatCount;

static int
cmp_cat_count(const void *a, const void *b)
{
	const CatCount *x = a;
	const CatCount *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* Categorical baseline from (category, count) pairs: the most frequent kept. */
static void
drift_categorical_baseline(DriftCol *c, CatCount *cc, int n)
{
	double		other = 0;

	c->categorical = true;
	qsort(cc, n, sizeof(CatCount), cmp_cat_count);
	c->n_cats = Min(n, DRIFT_MAX_CATEGORIES);
	c->cats = palloc(sizeof(char *) * Max(c->n_cats, 1));
	c->base_cat = palloc0(sizeof(double) * (c->n_cats + 1));
	c->base_count = 0;
	for (int i = 0; i < n; i++)
	{
		if (i < c->n_cats)
		{
			c->cats[i] = pstrdup(cc[i].key);
			c->base_cat[i] = (double) cc[i].count;
		}
		else
			other += (double) cc[i].count;
		c->base_count += cc[i].count;
	}
	c->base_cat[c->n_cats] = other;
}

/* Push one column's baseline as a jsonb object. */
static void
drift_push_column(JsonbParseState **ps, const DriftCol *c)
{
	pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
	jb_kv_str(ps, "name", c->name);
	jb_kv_str(ps, "kind", c->categorical ? "categorical" : "numeric");
	jb_kv_int(ps, "count", c->base_count);
	jb_kv_int(ps, "nulls", c->base_nulls);
	if (c->categorical)
	{
		jb_key(ps, "categories");
		pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
		for (int i = 0; i < c->n_cats; i++)
			jb_str(ps, WJB_ELEM, c->cats[i]);
		pushJsonbValue(ps, WJB_END_ARRAY, NULL);
		jb_key(ps, "counts");
		pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
		for (int i = 0; i < c->n_cats; i++)
			jb_num(ps, WJB_ELEM, c->base_cat[i]);
		pushJsonbValue(ps, WJB_END_ARRAY, NULL);
		jb_kv_num(ps, "other", c->base_cat[c->n_cats]);
	}
	else
	{
		jb_key(ps, "edges");
		pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
		for (int i = 0; i < c->n_edges; i++)
			jb_num(ps, WJB_ELEM, c->edges[i]);
		pushJsonbValue(ps, WJB_END_ARRAY, NULL);
		jb_key(ps, "counts");
		pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
		for (int i = 0; i <= c->n_edges; i++)
			jb_num(ps, WJB_ELEM, c->base_fine[i]);
		pushJsonbValue(ps, WJB_END_ARRAY, NULL);
		jb_key(ps, "deciles");
		pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
		for (int i = 0; i < c->n_dec; i++)
			jb_num(ps, WJB_ELEM, c->dec[i]);
		pushJsonbValue(ps, WJB_END_ARRAY, NULL);
	}
	pushJsonbValue(ps, WJB_END_OBJECT, NULL);
}

/* Baseline of raw slot 'slot' of the given rows (NaN = NULL), numeric. */
static void
drift_dataset_numeric(DriftCol *c, const Dataset *ds, int slot, const int64 *rows, int64 n,
					  const double *y)
{
	double	   *v = palloc(sizeof(double) * Max(n, 1));
	int64		k = 0;

	for (int64 i = 0; i < n; i++)
	{
		double		x = y ? y[rows[i]] : dataset_raw_value(ds, rows[i], slot);

		if (isnan(x))
			c->base_nulls++;
		else
			v[k++] = x;
	}
	drift_numeric_baseline(c, v, k);
	pfree(v);
}

/* The counting pass of drift_dataset_numeric_rows over rows r0..r1, split over nw workers. */
typedef struct DriftCountPass
{
	const Dataset *ds;
	const int64 *rows;
	const int  *slots;
	int			m;
	const DriftCol *cols;		/* m columns with their edges and lookup grids */
	int			nw;
	int64		r0,
				r1;
	int64	   *count;			/* per worker: m x (DRIFT_PERCENTILES + 2) */
	int64	   *nulls;			/* per worker: m */
	double	   *buf;			/* per worker: a float32 row as doubles */
	int			n_raw;
} DriftCountPass;

/* Worker w's share of the rows: pure arithmetic, no PostgreSQL call. */
static void
drift_count_kernel(void *arg, int w, int nw)
{
	DriftCountPass *a = (DriftCountPass *) arg;
	const int	width = DRIFT_PERCENTILES + 2;
	int64		len = a->r1 - a->r0;
	int64		i0 = a->r0 + len * w / nw;
	int64		i1 = a->r0 + len * (w + 1) / nw;
	int64	   *count = a->count + (int64) w * width * a->m;
	int64	   *nulls = a->nulls + (int64) w * a->m;
	double	   *buf = a->buf + (int64) w * a->n_raw;

	for (int64 i = i0; i < i1; i++)
	{
		const double *r = dataset_raw_row(a->ds, a->rows[i], buf);

		for (int j = 0; j < a->m; j++)
		{
			double		x = r[a->slots[j]];

			if (unlikely(isnan(x)))
				nulls[j]++;
			else
				count[width * j + drift_bin_fast(&a->cols[j], x)]++;
		}
	}
}

/*
 * Numeric baselines of the raw slots slots[0..m) of the rows (ascending):
 * what drift_dataset_numeric gives each, but with one pass over the rows for
 * all of them instead of one gather per column (which reads every cache line
 * of the matrix for 8 bytes of it, once per column).  Beyond
 * DRIFT_EXACT_VALUES rows, each slot takes its edges from the even stride of
 * rows drift_numeric_baseline takes when the slot has no NULL, then the pass
 * counts every value into its bin and the NULLs; a slot that had NULLs after
 * all (its stride was not that of its values) is done again by
 * drift_dataset_numeric, as are all slots of fewer rows.
 */
static void
drift_dataset_numeric_rows(DriftCol *cols, const int *slots, int m, const Dataset *ds,
						   const int64 *rows, int64 n)
{
	double	   *buf;
	double	   *q;
	int64	   *count;
	int64	   *nulls;
	const int	width = DRIFT_PERCENTILES + 2;

	if (m == 0)
		return;
	if (n <= DRIFT_EXACT_VALUES)
	{
		for (int j = 0; j < m; j++)
			drift_dataset_numeric(&cols[j], ds, slots[j], rows, n, NULL);
		return;
	}
	buf = palloc(sizeof(double) * Max(ds->n_raw, 1));
	q = palloc(sizeof(double) * DRIFT_EXACT_VALUES * Min(m, DRIFT_GATHER_SLOTS));
	count = palloc0(sizeof(int64) * width * m);
	nulls = palloc0(sizeof(int64) * m);
	/* the strided rows' values, a group of slots per read of each row */
	for (int g = 0; g < m; g += DRIFT_GATHER_SLOTS)
	{
		int			gm = Min(DRIFT_GATHER_SLOTS, m - g);

		for (int64 i = 0; i < DRIFT_EXACT_VALUES; i++)
		{
			const double *r = dataset_raw_row(ds, rows[(int64) ((double) i * n / DRIFT_EXACT_VALUES)], buf);

			for (int j = 0; j < gm; j++)
				q[(int64) j * DRIFT_EXACT_VALUES + i] = r[slots[g + j]];
		}
		for (int j = 0; j < gm; j++)
		{
			drift_numeric_begin(&cols[g + j], n);
			drift_numeric_edges(&cols[g + j], q + (int64) j * DRIFT_EXACT_VALUES, DRIFT_EXACT_VALUES);
			drift_grid_build(&cols[g + j]);
		}
		CHECK_FOR_INTERRUPTS();
	}
	/* the counting pass: chunks of rows, each split over the threads (counts add up in any order) */
	{
		DriftCountPass a;

		a.ds = ds;
		a.rows = rows;
		a.slots = slots;
		a.m = m;
		a.cols = cols;
		a.nw = Max(1, Min(galaxy_threads, TREE_MAX_THREADS));
		a.count = palloc0(sizeof(int64) * width * m * a.nw);
		a.nulls = palloc0(sizeof(int64) * m * a.nw);
		a.buf = palloc(sizeof(double) * Max(ds->n_raw, 1) * a.nw);
		a.n_raw = Max(ds->n_raw, 1);
		for (int64 start = 0; start < n; start += DRIFT_COUNT_CHUNK)
		{
			a.r0 = start;
			a.r1 = Min(n, start + DRIFT_COUNT_CHUNK);
			tree_parallel(a.r1 - a.r0 >= 2 * DRIFT_COUNT_MIN_ROWS ? a.nw : 1, drift_count_kernel, &a);
			CHECK_FOR_INTERRUPTS();
		}
		for (int w = 0; w < a.nw; w++)
		{
			for (int k = 0; k < width * m; k++)
				count[k] += a.count[(int64) w * width * m + k];
			for (int j = 0; j < m; j++)
				nulls[j] += a.nulls[(int64) w * m + j];
		}
		pfree(a.count);
		pfree(a.nulls);
		pfree(a.buf);
	}
	for (int j = 0; j < m; j++)
	{
		DriftCol   *c = &cols[j];

		if (nulls[j] > 0)
		{
			/* the edges came from a stride of rows, not of values: start again */
			pfree(c->edges);
			pfree(c->base_fine);
			memset(c, 0, sizeof(DriftCol));
			drift_dataset_numeric(c, ds, slots[j], rows, n, NULL);
			continue;
		}
		for (int b = 0; b <= c->n_edges; b++)
			c->base_fine[b] = (double) count[width * j + b];
	}
	pfree(nulls);
	pfree(count);
	pfree(q);
	pfree(buf);
}

/* Baseline of coded categories (code = index into names), categorical. */
static void
drift_dataset_codes(DriftCol *c, const Dataset *ds, int slot, const int64 *rows, int64 n,
					const double *y, char **names, int n_names)
{
	CatCount   *cc = palloc0(sizeof(CatCount) * Max(n_names, 1));

	for (int i = 0; i < n_names; i++)
		cc[i].key = names[i];
	for (int64 i = 0; i < n; i++)
	{
		double		x = y ? y[rows[i]] : dataset_raw_value(ds, rows[i], slot);

		if (isnan(x) || x < 0 || x >= n_names)
			c->base_nulls++;
		else
			cc[(int) x].count++;
	}
	drift_categorical_baseline(c, cc, n_names);
	pfree(cc);
}

/* The training profile of a model's training rows, as jsonb (see drift.h). */
Jsonb *
drift_training_profile(const Dataset *ds, const int64 *rows, int64 n)
{
	JsonbParseState *ps = NULL;
	JsonbValue *res;
	DriftCol   *numeric;
	int		   *slots;
	int			n_numeric = 0;

	pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	jb_kv_int(&ps, "version", DRIFT_PROFILE_VERSION);
	jb_kv_int(&ps, "rows", n);
	jb_key(&ps, "features");
	pushJsonbValue(&ps, WJB_BEGIN_ARRAY, NULL);
	/* the numeric and boolean inputs together, in one pass over the rows */
	numeric = palloc0(sizeof(DriftCol) * Max(ds->n_inputs, 1));
	slots = palloc(sizeof(int) * Max(ds->n_inputs, 1));
	for (int i = 0; i < ds->n_inputs; i++)
		if (ds->inputs[i].kind == INPUT_NUMERIC || ds->inputs[i].kind == INPUT_BOOLEAN)
			slots[n_numeric++] = ds->inputs[i].raw_offset;
	drift_dataset_numeric_rows(numeric, slots, n_numeric, ds, rows, n);
	n_numeric = 0;
	for (int i = 0; i < ds->n_inputs; i++)
	{
		const InputColumn *in = &ds->inputs[i];
		DriftCol	c = {0};

		if (in->kind == INPUT_NUMERIC || in->kind == INPUT_BOOLEAN)
			c = numeric[n_numeric++];
		else if (in->kind == INPUT_CATEGORICAL)
			drift_dataset_codes(&c, ds, in->raw_offset, rows, n, NULL, in->categories, in->n_categories);
		else
			continue;			/* arrays and text: not profiled */
		c.name = in->name;
		drift_push_column(&ps, &c);
		CHECK_FOR_INTERRUPTS();
	}
	pushJsonbValue(&ps, WJB_END_ARRAY, NULL);
	if (ds->y && ds->task != TASK_CLUSTERING)
	{
		DriftCol	c = {0};

		c.name = DRIFT_PREDICTION;
		if (ds->task == TASK_CLASSIFICATION)
			drift_dataset_codes(&c, ds, 0, rows, n, ds->y, ds->class_labels, ds->n_classes);
		else
			drift_dataset_numeric(&c, ds, 0, rows, n, ds->y);
		jb_key(&ps, "prediction");
		drift_push_column(&ps, &c);
	}
	res = pushJsonbValue(&ps, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/* Whether galaxy.models has the training_profile column (see drift.h). */
bool
drift_profile_column_exists(void)
{
	Oid			models = get_relname_relid("models", get_namespace_oid("galaxy", false));

	/* a database still at 0.1.0 (one galaxy.so serves every version) has no such column */
	return OidIsValid(models) && get_attnum(models, "training_profile") != InvalidAttrNumber;
}

/* float8[] datum → palloc'd doubles. */
static double *
drift_float_array(Datum d, int *n)
{
	ArrayType  *a = DatumGetArrayTypeP(d);
	Datum	   *el;
	bool	   *nulls;
	double	   *out;

	deconstruct_array(a, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &el, &nulls, n);
	out = palloc(sizeof(double) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		out[i] = nulls[i] ? 0 : DatumGetFloat8(el[i]);
	return out;
}

/*
 * Read a stored training profile into columns.  ERROR when the model has
 * none, or one of a format this version cannot read.
 */
static DriftCol *
drift_read_profile(int64 model_id, const char *project, int *ncols)
{
	QueryResult *r;
	Datum		arg = Int64GetDatum(model_id);
	int64		version;
	DriftCol   *cols;

	r = catalog_query("SELECT (training_profile->>'version')::int8 FROM galaxy.models WHERE id = $1",
					  1, (Oid[]) {INT8OID}, &arg, NULL, true, 1, SPI_OK_SELECT, "read the training profile");
	version = r->nrows == 1 ? query_int64(r, 0, 1, 0) : 0;
	if (version == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model " INT64_FORMAT " of project \"%s\" has no training profile", model_id, galaxy_short(project)),
				 errdetail("Models trained before galaxy stored training profiles carry none."),
				 errhint("Retrain the model, or compare with a baseline relation: galaxy.drift(project, relation, baseline_relation).")));
	if (version > DRIFT_PROFILE_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the training profile of model " INT64_FORMAT " has format version " INT64_FORMAT ", this galaxy reads up to %d",
						model_id, version, DRIFT_PROFILE_VERSION)));

	r = catalog_query("SELECT f->>'name', f->>'kind', (f->>'count')::int8, (f->>'nulls')::int8,"
					  " ARRAY(SELECT x::float8 FROM jsonb_array_elements_text(f->'edges') WITH ORDINALITY e(x, i) ORDER BY i),"
					  " ARRAY(SELECT x::float8 FROM jsonb_array_elements_text(f->'counts') WITH ORDINALITY e(x, i) ORDER BY i),"
					  " ARRAY(SELECT x::float8 FROM jsonb_array_elements_text(f->'deciles') WITH ORDINALITY e(x, i) ORDER BY i),"
					  " ARRAY(SELECT x FROM jsonb_array_elements_text(f->'categories') WITH ORDINALITY e(x, i) ORDER BY i),"
					  " coalesce((f->>'other')::float8, 0), p.ord > jsonb_array_length(m.training_profile->'features')"
					  " FROM galaxy.models m,"
					  " jsonb_array_elements(m.training_profile->'features'"
					  "   || CASE WHEN m.training_profile ? 'prediction'"
					  "      THEN jsonb_build_array(m.training_profile->'prediction') ELSE '[]' END)"
					  "   WITH ORDINALITY p(f, ord)"
					  " WHERE m.id = $1 ORDER BY p.ord",
					  1, (Oid[]) {INT8OID}, &arg, NULL, true, 0, SPI_OK_SELECT, "read the training profile");
	cols = palloc0(sizeof(DriftCol) * Max(r->nrows, 1));
	for (uint64 i = 0; i < r->nrows; i++)
	{
		DriftCol   *c = &cols[i];
		char	   *kind = query_text(r, i, 2);
		bool		isnull;
		int			n;

		c->name = query_text(r, i, 1);
		c->categorical = strcmp(kind, "categorical") == 0;
		c->prediction = query_bool(r, i, 10, false);
		c->base_count = query_int64(r, i, 3, 0);
		c->base_nulls = query_int64(r, i, 4, 0);
		if (c->categorical)
		{
			ArrayType  *a = DatumGetArrayTypeP(query_datum(r, i, 8, &isnull));
			Datum	   *el;
			bool	   *nulls;
			double	   *cnt = drift_float_array(query_datum(r, i, 6, &isnull), &n);

			deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &el, &nulls, &c->n_cats);
			if (n != c->n_cats)
				elog(ERROR, "training profile of model " INT64_FORMAT ": %d categories, %d counts", model_id, c->n_cats, n);
			c->cats = palloc(sizeof(char *) * Max(c->n_cats, 1));
			c->base_cat = palloc0(sizeof(double) * (c->n_cats + 1));
			for (int k = 0; k < c->n_cats; k++)
			{
				c->cats[k] = TextDatumGetCString(el[k]);
				c->base_cat[k] = cnt[k];
			}
			c->base_cat[c->n_cats] = query_float8(r, i, 9, 0);
		}
		else
		{
			double	   *dec;

			c->edges = drift_float_array(query_datum(r, i, 5, &isnull), &c->n_edges);
			c->base_fine = drift_float_array(query_datum(r, i, 6, &isnull), &n);
			dec = drift_float_array(query_datum(r, i, 7, &isnull), &c->n_dec);
			if (n != c->n_edges + 1 || c->n_dec > 11)
				elog(ERROR, "training profile of model " INT64_FORMAT ": malformed bins of \"%s\"", model_id, c->name);
			memcpy(c->dec, dec, sizeof(double) * c->n_dec);
		}
	}
	*ncols = (int) r->nrows;
	return cols;
}

/* ---------------------------------------------------------------------
 * Reading a relation
 * --------------------------------------------------------------------- */

/* What the scan callback needs. */
typedef struct DriftScan
{
	DriftCol   *cols;
	int			ncols;
	int64		rows;
	Size		bytes;
	const char *relname;
	MemoryContext cxt;			/* where kept values live */
	Datum	   *values;
	bool	   *isnull;
	int		   *pos;			/* column i's value is values[pos[i]] */
} DriftScan;

/* Keep a value of a baseline relation's column (window form). */
static void
drift_keep(DriftScan *sc, DriftCol *c, double x)
{
	if (c->n_vals == c->cap_vals)
	{
		int64		newcap = Max(c->cap_vals * 2, 1024);

		sc->bytes += (Size) (newcap - c->cap_vals) * sizeof(double);
		galaxy_check_training_memory(sc->bytes, psprintf("profiling relation \"%s\"", sc->relname));
		if (c->vals == NULL)
			c->vals = MemoryContextAllocHuge(sc->cxt, sizeof(double) * newcap);
		else
			c->vals = repalloc_huge(c->vals, sizeof(double) * newcap);
		c->cap_vals = newcap;
	}
	c->vals[c->n_vals++] = x;
}

/* Count (or keep) the values of one row, column i's at values[sc->pos[i]]. */
static void
drift_count_row(DriftScan *sc, const Datum *values, const bool *isnull)
{
	sc->rows++;
	for (int i = 0; i < sc->ncols; i++)
	{
		DriftCol   *c = &sc->cols[i];
		Datum		d = values[sc->pos[i]];

		if (isnull[sc->pos[i]])
		{
			if (c->collect)
				c->base_nulls++;
			else
				c->new_nulls++;
			continue;
		}
		if (c->categorical)
		{
			char		buf[NAMEDATALEN];
			int			len;
			const char *s;
			bool		added;

			if (c->prediction)
			{
				s = VARDATA_ANY(DatumGetPointer(d));
				len = VARSIZE_ANY_EXHDR(DatumGetPointer(d));
			}
			else
				s = data_category_bytes(d, c->cat, buf, &len);
			if (c->collect)
				(void) dict_lookup(c->seen, s, len, &added);
			else
			{
				int			k = dict_find(c->index, s, len);

				c->new_cat[k < 0 ? c->n_cats : k] += 1;
				c->new_count++;
			}
		}
		else
		{
			double		x = c->prediction ? DatumGetFloat8(d) : data_scalar_to_double(d, c->conv);

			if (isnan(x))
			{
				if (c->collect)
					c->base_nulls++;
				else
					c->new_nulls++;
			}
			else if (c->collect)
				drift_keep(sc, c, x);
			else
			{
				c->new_fine[drift_bin_fast(c, x)] += 1;
				c->new_count++;
			}
		}
	}
}

/* One batch of the cursor path: every row's values. */
static void
drift_scan_batch(void *arg, HeapTuple *rows, uint64 nrows, TupleDesc td)
{
	DriftScan  *sc = (DriftScan *) arg;

	for (uint64 r = 0; r < nrows; r++)
	{
		heap_deform_tuple(rows[r], td, sc->values, sc->isnull);
		drift_count_row(sc, sc->values, sc->isnull);
	}
}

/*
 * The direct path: a table scan under the active snapshot, each row's
 * columns deformed in place (no tuple is formed or copied), per-row garbage
 * (detoasted text, numeric conversions) in a context reset every row.
 */
static void
drift_scan_direct(DriftScan *sc, Relation rel)
{
	Snapshot	snap = RegisterSnapshot(ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot());
	TableScanDesc scan = table_beginscan(rel, snap, 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "galaxy drift rows",
												 ALLOCSET_DEFAULT_SIZES);
	int			maxatt = 0;

	for (int i = 0; i < sc->ncols; i++)
		maxatt = Max(maxatt, sc->pos[i] + 1);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old;

		slot_getsomeattrs(slot, maxatt);
		old = MemoryContextSwitchTo(rowcxt);
		drift_count_row(sc, slot->tts_values, slot->tts_isnull);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
		if ((sc->rows & 0x3FFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	MemoryContextDelete(rowcxt);
}

/*
 * Scan a relation as the caller: the columns' values (and the model's
 * predictions when a column is the prediction) into their counts, or kept
 * for a baseline.  ERROR when a feature is missing or of another kind, or
 * when the relation is empty.
 */
static void
drift_scan(Oid relid, DriftCol *cols, int ncols, int64 model_id, const char *task, bool collect,
		   int64 *nrows)
{
	Relation	rel = data_open_relation(relid);
	const char *relname = RelationGetRelationName(rel);
	StringInfoData q;
	DriftScan	sc = {0};
	Datum		args[2] = {Int64GetDatum(model_id), (Datum) 0};
	Oid			argtypes[2] = {INT8OID, InvalidOid};
	bool		with_prediction = false;
	/* a Citus table: its workers have no registry, the model value goes with the query */
	bool		ship_model = dataset_is_distributed(relid);
	AttrNumber *attnums = palloc(sizeof(AttrNumber) * Max(ncols, 1));

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (int i = 0; i < ncols; i++)
	{
		DriftCol   *c = &cols[i];

		c->collect = collect;
		if (i > 0)
			appendStringInfoString(&q, ", ");
		if (c->prediction)
		{
			appendStringInfo(&q, "galaxy.%s(%s, galaxy_drift_row)",
							 strcmp(task, "classification") == 0 ? "predict_label" : "predict",
							 ship_model ? "$2::galaxy.model" : "$1::bigint");
			with_prediction = true;
		}
		else
		{
			AttrNumber	att = get_attnum(relid, c->name);
			Oid			typid;
			int			kind;

			if (att == InvalidAttrNumber || att < 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("relation \"%s\" has no column \"%s\"", relname, galaxy_short(c->name)),
						 errdetail("\"%s\" is a feature of model " INT64_FORMAT ".", galaxy_short(c->name), model_id)));
			typid = TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid;
			kind = data_classify_type(typid, &c->conv, &c->cat);
			if (c->categorical ? kind != INPUT_CATEGORICAL
				: (kind != INPUT_NUMERIC && kind != INPUT_BOOLEAN))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" of relation \"%s\" has type %s, the model's feature is %s",
								galaxy_short(c->name), relname, format_type_be(typid),
								c->categorical ? "categorical" : "numeric")));
			appendStringInfoString(&q, quote_identifier(c->name));
			attnums[i] = att;
		}
		if (collect && c->categorical)
			c->seen = dict_create(CurrentMemoryContext, false, MODEL_MAX_FEATURES, "distinct values in one column");
		if (!collect && c->categorical)
		{
			c->index = dict_create(CurrentMemoryContext, false, c->n_cats + 1, "categories of the baseline");
			for (int k = 0; k < c->n_cats; k++)
			{
				bool		added;

				(void) dict_lookup(c->index, c->cats[k], strlen(c->cats[k]), &added);
			}
			c->new_cat = palloc0(sizeof(double) * (c->n_cats + 1));
		}
		if (!collect && !c->categorical)
		{
			c->new_fine = palloc0(sizeof(double) * (c->n_edges + 1));
			drift_grid_build(c);
		}
	}
	appendStringInfo(&q, " FROM %s AS galaxy_drift_row",
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), relname));

	sc.cols = cols;
	sc.ncols = ncols;
	sc.relname = pstrdup(relname);
	sc.cxt = CurrentMemoryContext;
	sc.pos = palloc(sizeof(int) * Max(ncols, 1));

	/*
	 * Without predictions, a plain table is read directly (as the loader
	 * does), after the privilege check the executor would have made; the
	 * rest goes through a cursor over the SELECT above.
	 */
	if (!with_prediction && data_scan_directly(rel))
	{
		data_check_select_privilege(rel, attnums, ncols);
		for (int i = 0; i < ncols; i++)
			sc.pos[i] = attnums[i] - 1;
		drift_scan_direct(&sc, rel);
	}
	else
	{
		for (int i = 0; i < ncols; i++)
			sc.pos[i] = i;
		sc.values = palloc(sizeof(Datum) * Max(ncols, 1));
		sc.isnull = palloc(sizeof(bool) * Max(ncols, 1));
		if (with_prediction && ship_model)
		{
			args[1] = PointerGetDatum(PG_DETOAST_DATUM(model_cache_read_value(model_id, NULL)));
			argtypes[1] = galaxy_type_oid("model");
		}
		query_scan(q.data, with_prediction ? (ship_model ? 2 : 1) : 0, argtypes, args, NULL, DRIFT_BATCH,
				   NULL, drift_scan_batch, &sc);
	}
	if (sc.rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("relation \"%s\" has no rows", sc.relname),
				 errdetail("Drift compares the distribution of a relation's rows with a baseline.")));
	relation_close(rel, AccessShareLock);
	*nrows = sc.rows;

	/* a baseline relation: its values become the baseline */
	if (collect)
		for (int i = 0; i < ncols; i++)
		{
			DriftCol   *c = &cols[i];
			int64		nulls = c->base_nulls;

			if (c->categorical)
			{
				CatCount   *cc = palloc(sizeof(CatCount) * Max(c->seen->n, 1));

				for (int k = 0; k < c->seen->n; k++)
				{
					cc[k].key = c->seen->keys[k];
					cc[k].count = c->seen->counts[k];
				}
				drift_categorical_baseline(c, cc, c->seen->n);
			}
			else
				drift_numeric_baseline(c, c->vals, c->n_vals);
			c->base_nulls = nulls;
			c->collect = false;
		}
}

/* ---------------------------------------------------------------------
 * Metrics
 * --------------------------------------------------------------------- */

/* Kolmogorov's Q(lambda) = 2 sum (-1)^(k-1) exp(-2 k^2 lambda^2): the KS p-value. */
static double
drift_ks_q(double lambda)
{
	double		a2 = -2.0 * lambda * lambda;
	double		fac = 2.0,
				sum = 0.0,
				prev = 0.0;

	if (lambda < 1e-3)
		return 1.0;
	for (int k = 1; k <= 100; k++)
	{
		double		term = fac * exp(a2 * k * k);

		sum += term;
		if (fabs(term) <= 1e-3 * prev || fabs(term) <= 1e-8 * sum)
			return Min(Max(sum, 0.0), 1.0);
		fac = -fac;
		prev = fabs(term);
	}
	return 1.0;					/* did not converge: lambda is tiny */
}

/* PSI and Jensen-Shannon distance of two histograms with n bins. */
static void
drift_psi_js(const double *a, const double *b, int n, double *psi, double *js)
{
	double		ta = 0,
				tb = 0,
				p = 0,
				j = 0;

	for (int i = 0; i < n; i++)
	{
		ta += a[i];
		tb += b[i];
	}
	for (int i = 0; i < n; i++)
	{
		double		pa = ta > 0 ? a[i] / ta : 0;
		double		pb = tb > 0 ? b[i] / tb : 0;
		double		fa = Max(pa, DRIFT_MIN_SHARE);
		double		fb = Max(pb, DRIFT_MIN_SHARE);
		double		m = (pa + pb) / 2;

		p += (fb - fa) * log(fb / fa);
		if (pa > 0)
			j += 0.5 * pa * log2(pa / m);
		if (pb > 0)
			j += 0.5 * pb * log2(pb / m);
	}
	*psi = p;
	*js = sqrt(Max(j, 0.0));
}

/* The metrics of one column from its two histograms. */
static void
drift_compare(const DriftCol *c, DriftResult *res)
{
	memset(res, 0, sizeof(DriftResult));
	if (c->categorical)
	{
		double		tb = 0,
					tn = 0;

		drift_psi_js(c->base_cat, c->new_cat, c->n_cats + 1, &res->psi, &res->js);
		for (int k = 0; k <= c->n_cats; k++)
		{
			tb += c->base_cat[k];
			tn += c->new_cat[k];
		}
		for (int k = 0; k <= c->n_cats; k++)
		{
			double		d = fabs((tb > 0 ? c->base_cat[k] / tb : 0) - (tn > 0 ? c->new_cat[k] / tn : 0));

			res->linf = Max(res->linf, d);
		}
		res->has_linf = true;
	}
	else
	{
		double		coarse_b[12] = {0},
					coarse_n[12] = {0};
		double		tb = 0,
					tn = 0,
					cb = 0,
					cn = 0;
		int			nc = Max(c->n_dec - 1, 1);

		/* fine bins into decile bins; below the first and above the last join the outer ones */
		for (int j = 0; j <= c->n_edges; j++)
		{
			int			k = 0;

			if (j < c->n_edges)
				while (k < nc - 1 && c->edges[j] > c->dec[k + 1])
					k++;
			else
				k = nc - 1;
			if (c->n_dec < 2)
				k = j < c->n_edges ? 0 : 1;	/* one value: at or below it, above it */
			coarse_b[k] += c->base_fine[j];
			coarse_n[k] += c->new_fine[j];
			tb += c->base_fine[j];
			tn += c->new_fine[j];
		}
		drift_psi_js(coarse_b, coarse_n, c->n_dec < 2 ? 2 : nc, &res->psi, &res->js);

		/* KS at the edges */
		for (int j = 0; j < c->n_edges; j++)
		{
			cb += c->base_fine[j];
			cn += c->new_fine[j];
			if (tb > 0 && tn > 0)
				res->ks = Max(res->ks, fabs(cb / tb - cn / tn));
		}
		if (tb > 0 && tn > 0)
		{
			double		en = sqrt(tb * tn / (tb + tn));

			res->ks_p = drift_ks_q((en + 0.12 + 0.11 / en) * res->ks);
			res->has_ks = true;
		}
	}
}

/* ---------------------------------------------------------------------
 * SQL
 * --------------------------------------------------------------------- */

/* ERROR unless 0 < warning <= drift, both finite. */
void
drift_check_thresholds(double warning, double drift)
{
	if (!isfinite(warning) || warning <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("psi_warning must be a positive number, not %g", warning)));
	if (!isfinite(drift) || drift < warning)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("psi_drift must be a number at least psi_warning (%g), not %g", warning, drift)));
}

/* The model a project's drift is measured for: the primary deployed one, else the newest ready one. */
static int64
drift_model(int64 project_id, const char *project, char **task, char ***features, int *nfeatures)
{
	int64		model_id = registry_primary_model(project_id);
	Datum		args[2];
	QueryResult *r;

	args[0] = Int64GetDatum(project_id);
	args[1] = Int64GetDatum(model_id);
	r = catalog_query("SELECT id, task, features FROM galaxy.models"
					  " WHERE project_id = $1 AND (id = $2 OR $2 = 0) AND status <> 'training'"
					  " ORDER BY id DESC LIMIT 1",
					  2, (Oid[]) {INT8OID, INT8OID}, args, NULL, true, 1, SPI_OK_SELECT, "find the project's model");
	if (r->nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("project \"%s\" has no model", galaxy_short(project))));
	{
		bool		isnull;
		ArrayType  *a = DatumGetArrayTypeP(query_datum(r, 0, 3, &isnull));
		Datum	   *el;
		bool	   *nulls;

		deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &el, &nulls, nfeatures);
		*features = palloc(sizeof(char *) * Max(*nfeatures, 1));
		for (int i = 0; i < *nfeatures; i++)
			(*features)[i] = TextDatumGetCString(el[i]);
	}
	*task = query_text(r, 0, 2);
	return query_int64(r, 0, 1, 0);
}

/* Thresholds: the call's, else the project's, else the defaults. */
static void
drift_thresholds(FunctionCallInfo fcinfo, int arg, int64 project_id, double *warning, double *drift)
{
	Datum		pid = Int64GetDatum(project_id);
	QueryResult *r = catalog_query("SELECT psi_warning, psi_drift FROM galaxy.drift_thresholds WHERE project_id = $1",
								   1, (Oid[]) {INT8OID}, &pid, NULL, true, 1, SPI_OK_SELECT,
								   "read the drift thresholds");

	*warning = r->nrows ? query_float8(r, 0, 1, DRIFT_DEFAULT_WARNING) : DRIFT_DEFAULT_WARNING;
	*drift = r->nrows ? query_float8(r, 0, 2, DRIFT_DEFAULT_DRIFT) : DRIFT_DEFAULT_DRIFT;
	if (!PG_ARGISNULL(arg))
		*warning = PG_GETARG_FLOAT8(arg);
	if (!PG_ARGISNULL(arg + 1))
		*drift = PG_GETARG_FLOAT8(arg + 1);
	drift_check_thresholds(*warning, *drift);
}

/* A relation's name as text, schema-qualified. */
static char *
drift_relname(Oid relid)
{
	char	   *rel = get_rel_name(relid);

	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), rel);
}

/* galaxy.drift(): see galaxy_drift. */
static Datum
drift_run(FunctionCallInfo fcinfo, bool window)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			targ = 3;		/* first threshold argument */
	char	   *project;
	Oid			relid,
				base_relid = InvalidOid;
	int64		project_id,
				model_id,
				rows;
	double		warning,
				drift;
	bool		predictions;
	char	   *task;
	char	  **features;
	int			nfeatures,
				ncols;
	DriftCol   *cols;
	const char *relname;
	const char *baseline;

	for (int i = 0; i < 2; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", i == 0 ? "project" : "relation")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	relid = PG_GETARG_OID(1);
	if (window)
		base_relid = PG_GETARG_OID(2);
	predictions = PG_ARGISNULL(targ + 2) ? true : PG_GETARG_BOOL(targ + 2);
	relname = drift_relname(relid);
	baseline = window ? drift_relname(base_relid) : "training";

	project_id = registry_check_project_access_by_name(project, "evaluate");
	drift_thresholds(fcinfo, targ, project_id, &warning, &drift);
	model_id = drift_model(project_id, project, &task, &features, &nfeatures);

	if (window)
	{
		/* the baseline relation's columns: the model's features, kinds from their types there */
		Relation	rel = data_open_relation(base_relid);
		int64		base_rows;

		cols = palloc0(sizeof(DriftCol) * (nfeatures + 1));
		ncols = 0;
		for (int i = 0; i < nfeatures; i++)
		{
			AttrNumber	att = get_attnum(base_relid, features[i]);
			ScalarConv	conv;
			CategoryConv cat;
			int			kind;

			if (att == InvalidAttrNumber || att < 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("relation \"%s\" has no column \"%s\"", RelationGetRelationName(rel), galaxy_short(features[i])),
						 errdetail("\"%s\" is a feature of model " INT64_FORMAT ".", galaxy_short(features[i]), model_id)));
			kind = data_classify_type(TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid, &conv, &cat);
			if (kind != INPUT_NUMERIC && kind != INPUT_BOOLEAN && kind != INPUT_CATEGORICAL)
				continue;
			cols[ncols].name = features[i];
			cols[ncols].categorical = kind == INPUT_CATEGORICAL;
			ncols++;
		}
		relation_close(rel, AccessShareLock);
		if (predictions && strcmp(task, "clustering") != 0)
		{
			cols[ncols].name = DRIFT_PREDICTION;
			cols[ncols].prediction = true;
			cols[ncols].categorical = strcmp(task, "classification") == 0;
			ncols++;
		}
		drift_scan(base_relid, cols, ncols, model_id, task, true, &base_rows);
	}
	else
	{
		cols = drift_read_profile(model_id, project, &ncols);
		if (!predictions && ncols > 0 && cols[ncols - 1].prediction)
			ncols--;
	}
	if (ncols == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model " INT64_FORMAT " has no numeric or categorical feature to compare", model_id)));

	drift_scan(relid, cols, ncols, model_id, task, false, &rows);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < ncols; i++)
	{
		DriftCol   *c = &cols[i];
		DriftResult res;
		Datum		v[DRIFT_NATTS];
		bool		n[DRIFT_NATTS];
		const char *status;
		const char *kind = c->prediction ? "prediction" : c->categorical ? "categorical" : "numeric";
		Datum		h[16];
		char		hn[16];

		drift_compare(c, &res);
		status = res.psi >= drift ? "drift" : res.psi >= warning ? "warning" : "ok";
		memset(n, 0, sizeof(n));
		v[0] = Int64GetDatum(model_id);
		v[1] = CStringGetTextDatum(c->name);
		v[2] = CStringGetTextDatum(kind);
		v[3] = Int64GetDatum(c->new_count + c->new_nulls);
		v[4] = Int64GetDatum(c->base_count + c->base_nulls);
		v[5] = Float8GetDatum(rows > 0 ? (double) c->new_nulls / (double) (c->new_count + c->new_nulls) : 0);
		v[6] = Float8GetDatum(c->base_count + c->base_nulls > 0
							  ? (double) c->base_nulls / (double) (c->base_count + c->base_nulls) : 0);
		v[7] = Float8GetDatum(res.psi);
		v[8] = Float8GetDatum(res.ks);
		n[8] = !res.has_ks;
		v[9] = Float8GetDatum(res.ks_p);
		n[9] = !res.has_ks;
		v[10] = Float8GetDatum(res.js);
		v[11] = Float8GetDatum(res.linf);
		n[11] = !res.has_linf;
		v[12] = CStringGetTextDatum(status);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);

		/* history */
		memset(hn, ' ', sizeof(hn));
		h[0] = Int64GetDatum(project_id);
		h[1] = Int64GetDatum(model_id);
		h[2] = CStringGetTextDatum(relname);
		h[3] = CStringGetTextDatum(baseline);
		for (int k = 1; k <= 12; k++)
		{
			h[k + 3] = v[k];
			hn[k + 3] = n[k] ? 'n' : ' ';
		}
		catalog_command("INSERT INTO galaxy.drift_history (project_id, model_id, relation, baseline, feature, kind,"
						" rows, baseline_rows, null_fraction, baseline_null_fraction, psi, ks_statistic, ks_p_value,"
						" js_distance, linf_distance, status)"
						" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
						16, (Oid[]) {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID,
							FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, FLOAT8OID, TEXTOID},
						h, hn, SPI_OK_INSERT, "record the drift");
	}
	return (Datum) 0;
}

/*
 * galaxy.drift(project, relation, baseline_relation, psi_warning, psi_drift,
 * predictions): against the training profile, or window against window when
 * baseline_relation is given.
 */
Datum
galaxy_drift(PG_FUNCTION_ARGS)
{
	return drift_run(fcinfo, !PG_ARGISNULL(2));
}

/* galaxy.set_drift_thresholds(project, psi_warning, psi_drift): the project's defaults (NULLs: remove them). */
Datum
galaxy_set_drift_thresholds(PG_FUNCTION_ARGS)
{
	char	   *project;
	int64		project_id;
	Datum		args[4];
	StringInfoData js;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project must not be NULL")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	project_id = registry_check_project_access_by_name(project, "set_gate");
	args[0] = Int64GetDatum(project_id);
	initStringInfo(&js);
	details_begin(&js);
	details_str(&js, "project", project);
	if (PG_ARGISNULL(1) && PG_ARGISNULL(2))
	{
		catalog_command("DELETE FROM galaxy.drift_thresholds WHERE project_id = $1",
						1, (Oid[]) {INT8OID}, args, NULL, SPI_OK_DELETE, "write galaxy.drift_thresholds");
	}
	else
	{
		double		warning = PG_ARGISNULL(1) ? DRIFT_DEFAULT_WARNING : PG_GETARG_FLOAT8(1);
		double		drift = PG_ARGISNULL(2) ? DRIFT_DEFAULT_DRIFT : PG_GETARG_FLOAT8(2);

		drift_check_thresholds(warning, drift);
		args[1] = Float8GetDatum(warning);
		args[2] = Float8GetDatum(drift);
		args[3] = CStringGetDatum(GetUserNameFromId(GetUserId(), false));
		catalog_command("INSERT INTO galaxy.drift_thresholds (project_id, psi_warning, psi_drift, set_by)"
						" VALUES ($1, $2, $3, $4)"
						" ON CONFLICT (project_id) DO UPDATE SET psi_warning = excluded.psi_warning,"
						" psi_drift = excluded.psi_drift, set_by = excluded.set_by, set_at = now()",
						4, (Oid[]) {INT8OID, FLOAT8OID, FLOAT8OID, NAMEOID}, args, NULL,
						SPI_OK_INSERT, "write galaxy.drift_thresholds");
		details_float(&js, "psi_warning", warning);
		details_float(&js, "psi_drift", drift);
	}
	galaxy_audit("set_drift_thresholds", "project", psprintf(INT64_FORMAT, project_id), details_end(&js));
	PG_RETURN_VOID();
}

/*
 * ERROR unless the calling role can read relid and it has a column for
 * every feature of the project's model (what galaxy.drift() will read):
 * checked when a drift check is scheduled.
 */
void
drift_check_relation(int64 project_id, const char *project, Oid relid)
{
	char	   *task;
	char	  **features;
	int			nfeatures;
	char	   *relname = drift_relname(relid);

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for relation %s", relname)));
	(void) drift_model(project_id, project, &task, &features, &nfeatures);
	for (int i = 0; i < nfeatures; i++)
		if (get_attnum(relid, features[i]) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("relation %s has no column \"%s\", a feature of project \"%s\"",
							relname, features[i], galaxy_short(project)),
					 errhint("A drift check reads every feature the project's model was trained on.")));
}
