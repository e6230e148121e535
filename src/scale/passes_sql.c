/*
 * passes_sql.c — the streaming solver's later passes (see passes.h): the
 * transition functions of galaxy_internal.nb_score, kmeans_pass and
 * softmax_pass (the features as separate arguments, or as an array), their
 * combine function, softmax_pass's final function,
 * galaxy_internal.stream_sample_key, the key of the k-means sample, and
 * galaxy_internal.logistic_proba and nb_proba, a logistic or naive Bayes
 * model's class probabilities of the rows of one part (the scores of the
 * streamed roc_auc).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/memutils.h"

#include "algo/algo.h"
#include "utils/builtins.h"
#include "scale/moments.h"
#include "scale/passes.h"

PG_FUNCTION_INFO_V1(galaxy_nb_score_accum);
PG_FUNCTION_INFO_V1(galaxy_nb_score_array_accum);
PG_FUNCTION_INFO_V1(galaxy_kmeans_pass_accum);
PG_FUNCTION_INFO_V1(galaxy_kmeans_pass_array_accum);
PG_FUNCTION_INFO_V1(galaxy_pass_combine);
PG_FUNCTION_INFO_V1(galaxy_stream_sample_key);
PG_FUNCTION_INFO_V1(galaxy_stream_sample_key_array);
PG_FUNCTION_INFO_V1(galaxy_softmax_pass_accum);
PG_FUNCTION_INFO_V1(galaxy_softmax_pass_array_accum);
PG_FUNCTION_INFO_V1(galaxy_softmax_pass_final);
PG_FUNCTION_INFO_V1(galaxy_logistic_proba);
PG_FUNCTION_INFO_V1(galaxy_logistic_proba_array);
PG_FUNCTION_INFO_V1(galaxy_nb_proba);
PG_FUNCTION_INFO_V1(galaxy_nb_proba_array);

/* The clipping of probabilities in the log-loss (metrics.c's). */
#define PASS_LOGLOSS_EPS 1e-15

/* The model or centres of a pass, read once per query (fn_extra). */
typedef struct PassCache
{
	Size		n;				/* doubles of the argument; 0: none read yet */
	double	   *arg;			/* its copy */
	int			k;
	int			p;
	const double *center;		/* into arg */
	const double *scale;
	const double *fill;
	const double *centres;		/* kmeans_pass */
	void	   *nb;				/* nb_score: the model */
	double	   *t;				/* p: a row, transformed */
	double	   *proba;			/* k */
} PassCache;

/* The doubles of a float8[] argument; ERROR (naming what) unless one-dimensional without NULLs. */
static double *
float8_array_values(ArrayType *arr, int *n, const char *what)
{
	if (ARR_ELEMTYPE(arr) != FLOAT8OID || ARR_NDIM(arr) != 1 || ARR_HASNULL(arr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional double precision[] without NULLs", what)));
	*n = ARR_DIMS(arr)[0];
	return (double *) ARR_DATA_PTR(arr);
}

/* passes.h: a validated state (a detoasted copy). */
double *
pass_state_from_datum(Datum d, int *n)
{
	ArrayType  *arr = DatumGetArrayTypePCopy(d);
	double	   *v = float8_array_values(arr, n, "a streaming pass state");

	pass_state_check(v, *n);
	return v;
}

/* A new state of n doubles (zero but the header), in CurrentMemoryContext. */
static ArrayType *
new_state(Size n, double tag, int k, int third)
{
	Size		bytes = ARR_OVERHEAD_NONULLS(1) + sizeof(double) * n;
	ArrayType  *a = palloc0(bytes);
	double	   *v;

	SET_VARSIZE(a, bytes);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = FLOAT8OID;
	ARR_DIMS(a)[0] = (int) n;
	ARR_LBOUND(a)[0] = 1;
	v = (double *) ARR_DATA_PTR(a);
	v[0] = tag;
	v[1] = k;
	v[2] = third;
	return a;
}

/*
 * The state to update (argument 0): the aggregate's own, changed in place,
 * or a copy when called directly; NULL when there is none yet.  Its shape
 * is checked (its values are the combine function's to check).
 */
static ArrayType *
state_arg(FunctionCallInfo fcinfo, double tag)
{
	ArrayType  *a;
	double	   *v;
	int			n,
				k,
				third;

	if (PG_ARGISNULL(0))
		return NULL;
	a = AggCheckCallContext(fcinfo, NULL) != 0 ? PG_GETARG_ARRAYTYPE_P(0) : PG_GETARG_ARRAYTYPE_P_COPY(0);
	v = float8_array_values(a, &n, "a streaming pass state");
	pass_state_shape(v, n, &k, &third);
	if (v[0] != tag)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid streaming pass state: a state of another pass")));
	return a;
}

/* The cache of this call site, made on its first row (after the features' checks). */
static PassCache *
pass_cache(FunctionCallInfo fcinfo, bool fresh)
{
	if (fresh || fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(PassCache));
	return (PassCache *) fcinfo->flinfo->fn_extra;
}

/*
 * Read the model (nb) or centres argument into the cache, unless it is the
 * one read last: validated, copied into the function's memory.
 */
static void
load_arg(FunctionCallInfo fcinfo, PassCache *c, int argno, bool nb, int p_row)
{
	const char *fname = nb ? "galaxy_internal.nb_score" : "galaxy_internal.kmeans_pass";
	ArrayType  *arr;
	double	   *v;
	int			n,
				k,
				p;
	MemoryContext old;
	double	   *copy;
	void	   *model = NULL;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the %s of %s may not be NULL", nb ? "model" : "centres", fname)));
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	v = float8_array_values(arr, &n, nb ? "the model of galaxy_internal.nb_score" :
							"the centres of galaxy_internal.kmeans_pass");
	if (c->n == (Size) n && memcmp(c->arg, v, sizeof(double) * n) == 0)
		return;
	pass_args_check(v, n, nb, p_row, &k, &p);

	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	copy = palloc(sizeof(double) * n);
	memcpy(copy, v, sizeof(double) * n);
	if (nb)
	{
		const double *h = copy + PASS_NB_MODEL_HEADER + 3 * (Size) p;	/* class weights */
		double	   *s1 = palloc(sizeof(double) * (Size) k * p);
		double	   *s2 = palloc(sizeof(double) * (Size) k * p);
		int			dist = (int) copy[2];

		memcpy(s1, h + k, sizeof(double) * k * p);
		memcpy(s2, h + k + (Size) k * p, sizeof(double) * k * p);
		model = nb_state_from_sums(p, k, dist, h, s1, s2, copy[3], copy[4], copy[5], copy[6] != 0.0);
		if (dist != 0)
			pfree(s2);
	}
	if (c->arg)
	{
		pfree(c->arg);
		pfree(c->t);
		pfree(c->proba);
	}
	c->arg = copy;
	c->n = n;
	c->k = k;
	c->p = p;
	c->nb = model;
	c->centres = nb ? NULL : copy + 2;
	c->center = nb ? copy + PASS_NB_MODEL_HEADER : copy + 2 + (Size) k * p;
	c->scale = c->center + p;
	c->fill = c->scale + p;
	c->t = palloc(sizeof(double) * p);
	c->proba = palloc(sizeof(double) * k);
	MemoryContextSwitchTo(old);
}

/* ERROR for a NaN or infinite feature value. */
static void
check_finite(const double *xs, const bool *isnull, int p, const char *fname)
{
	for (int j = 0; j < p; j++)
		if (!isnull[j] && !isfinite(xs[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("feature %d of %s contains %s", j + 1, fname,
							isnan(xs[j]) ? "NaN" : (xs[j] > 0 ? "Infinity" : "-Infinity")),
					 errhint("Replace NaN/Infinity with NULL (imputed) or a finite value, or filter those rows out.")));
}

/* The row in the preprocessed space: (x or fill - center) / scale. */
static void
transform_row(const PassCache *c, const double *xs, const bool *isnull)
{
	for (int j = 0; j < c->p; j++)
		c->t[j] = ((isnull[j] ? c->fill[j] : xs[j]) - c->center[j]) / c->scale[j];
}

/* The split arguments (seed, test_size) of a pass; ERROR when NULL or out of range. */
static void
split_args(FunctionCallInfo fcinfo, int seed_arg, int size_arg, const char *fname,
		   uint64 *seed, double *test_size)
{
	if (PG_ARGISNULL(seed_arg) || PG_ARGISNULL(size_arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the seed and test_size of %s may not be NULL", fname)));
	*seed = (uint64) PG_GETARG_INT64(seed_arg);
	*test_size = PG_GETARG_FLOAT8(size_arg);
	if (!(*test_size >= 0.0 && *test_size < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("test_size must be in [0, 1), not %g", *test_size)));
}

/* nb_score's row: its predicted class and log-loss into the confusion of its part. */
static Datum
nb_score_row(FunctionCallInfo fcinfo, PassCache *c, int seed_arg, int size_arg,
			 const double *xs, const bool *isnull, int p)
{
	const char *fname = "galaxy_internal.nb_score";
	ArrayType  *a;
	double	   *v;
	uint64		seed;
	double		test_size,
				y,
				s = 0.0,
				pt = 0.0;
	int			k,
				yc,
				q,
				best = 0;
	double	   *part;

	split_args(fcinfo, seed_arg, size_arg, fname, &seed, &test_size);
	load_arg(fcinfo, c, seed_arg + 2, true, p);
	k = c->k;
	a = state_arg(fcinfo, PASS_NB_TAG);
	if (a == NULL)
		a = new_state(PASS_HEADER + 2 * pass_nb_part_doubles(k), PASS_NB_TAG, k, 0);
	v = (double *) ARR_DATA_PTR(a);
	if ((int) v[1] != k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rows scored with models of %d and %d classes in one %s", (int) v[1], k, fname)));
	if (PG_ARGISNULL(1))
	{
		v[2] += 1.0;
		PG_RETURN_ARRAYTYPE_P(a);
	}
	y = PG_GETARG_FLOAT8(1);
	if (!(y >= 0.0 && y < k) || y != floor(y))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the target of %s must be a class index from 0 to %d, not %g", fname, k - 1, y)));
	yc = (int) y;
	check_finite(xs, isnull, p, fname);
	q = moments_row_part(seed, test_size, xs, isnull, p, y);
	part = v + PASS_HEADER + pass_nb_part_doubles(k) * q;
	if (q == 0 && c->arg[7] != 0.0)
	{
		/* held_out_only: a training row is counted, not scored */
		part[0] += 1.0;
		PG_RETURN_ARRAYTYPE_P(a);
	}
	transform_row(c, xs, isnull);
	galaxy_algo_naive_bayes.predict_proba(c->nb, c->t, 1, c->proba);
	for (int cl = 0; cl < k; cl++)
	{
		double		pr = c->proba[cl];

		if (pr > c->proba[best])
			best = cl;
		pr = Min(Max(pr, PASS_LOGLOSS_EPS), 1.0 - PASS_LOGLOSS_EPS);
		s += pr;
		if (cl == yc)
			pt = pr;
	}
	part[0] += 1.0;
	part[1] -= log(pt / s);
	part[2 + (Size) yc * k + best] += 1.0;
	PG_RETURN_ARRAYTYPE_P(a);
}

/* galaxy_internal.nb_score_accum(state, y, seed, test_size, model, VARIADIC x "any") */
Datum
galaxy_nb_score_accum(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	bool		fresh = fcinfo->flinfo->fn_extra == NULL;
	int			p = scale_features_from_args(fcinfo, 5, "galaxy_internal.nb_score", xs, isnull, &any_null);

	return nb_score_row(fcinfo, pass_cache(fcinfo, fresh), 2, 3, xs, isnull, p);
}

/* galaxy_internal.nb_score_array_accum(state, y, x[], seed, test_size, model) */
Datum
galaxy_nb_score_array_accum(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	int			p = scale_features_from_array(fcinfo, 2, xs, isnull, &any_null);

	return nb_score_row(fcinfo, pass_cache(fcinfo, false), 3, 4, xs, isnull, p);
}

/* kmeans_pass's row: its nearest centre's count, sums and distance in its part. */
static Datum
kmeans_row(FunctionCallInfo fcinfo, PassCache *c, int seed_arg, int size_arg,
		   const double *xs, const bool *isnull, int p)
{
	const char *fname = "galaxy_internal.kmeans_pass";
	ArrayType  *a;
	double	   *v;
	uint64		seed;
	double		test_size,
				best_d = INFINITY,
				norm = 0.0;
	int			k,
				best = 0;
	KmPassPart	pt;

	split_args(fcinfo, seed_arg, size_arg, fname, &seed, &test_size);
	load_arg(fcinfo, c, seed_arg + 2, false, p);
	k = c->k;
	a = state_arg(fcinfo, PASS_KM_TAG);
	if (a == NULL)
		a = new_state(PASS_HEADER + 2 * pass_km_part_doubles(k, p), PASS_KM_TAG, k, p);
	v = (double *) ARR_DATA_PTR(a);
	if ((int) v[1] != k || (int) v[2] != p)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rows of different widths or centre counts in one %s", fname)));
	check_finite(xs, isnull, p, fname);
	pass_km_part(v, moments_row_part(seed, test_size, xs, isnull, p, 0.0), &pt);
	transform_row(c, xs, isnull);
	for (int q = 0; q < k; q++)
	{
		const double *cc = c->centres + (Size) q * p;
		double		d = 0.0;

		for (int j = 0; j < p; j++)
		{
			double		e = c->t[j] - cc[j];

			d += e * e;
		}
		if (d < best_d)
		{
			best_d = d;
			best = q;
		}
	}
	for (int j = 0; j < p; j++)
	{
		pt.sums[(Size) best * p + j] += c->t[j];
		norm += c->t[j] * c->t[j];
	}
	*pt.rows += 1.0;
	*pt.inertia += best_d;
	pt.counts[best] += 1.0;
	pt.sqn[best] += norm;
	if (best_d > *pt.far_d)
	{
		*pt.far_d = best_d;
		memcpy(pt.far_row, c->t, sizeof(double) * p);
	}
	PG_RETURN_ARRAYTYPE_P(a);
}

/* galaxy_internal.kmeans_pass_accum(state, seed, test_size, centres, VARIADIC x "any") */
Datum
galaxy_kmeans_pass_accum(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	bool		fresh = fcinfo->flinfo->fn_extra == NULL;
	int			p = scale_features_from_args(fcinfo, 4, "galaxy_internal.kmeans_pass", xs, isnull, &any_null);

	return kmeans_row(fcinfo, pass_cache(fcinfo, fresh), 1, 2, xs, isnull, p);
}

/* galaxy_internal.kmeans_pass_array_accum(state, x[], seed, test_size, centres) */
Datum
galaxy_kmeans_pass_array_accum(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	int			p = scale_features_from_array(fcinfo, 1, xs, isnull, &any_null);

	return kmeans_row(fcinfo, pass_cache(fcinfo, false), 2, 3, xs, isnull, p);
}

/*
 * galaxy_internal.pass_combine(a, b): the sums of both (the farthest row of
 * a k-means part: the farther one).
 */
Datum
galaxy_pass_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a;
	double	   *va,
			   *vb;
	int			na,
				nb;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		(void) pass_state_from_datum(PG_GETARG_DATUM(0), &na);
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	vb = pass_state_from_datum(PG_GETARG_DATUM(1), &nb);
	if (PG_ARGISNULL(0))
		PG_RETURN_ARRAYTYPE_P(DatumGetArrayTypePCopy(PG_GETARG_DATUM(1)));
	(void) pass_state_from_datum(PG_GETARG_DATUM(0), &na);
	a = AggCheckCallContext(fcinfo, NULL) != 0 ? PG_GETARG_ARRAYTYPE_P(0) : PG_GETARG_ARRAYTYPE_P_COPY(0);
	va = (double *) ARR_DATA_PTR(a);
	pass_state_merge(va, na, vb, nb);
	PG_RETURN_ARRAYTYPE_P(a);
}

/* The sampling key of a row in the given part (NULL when it is in the other one). */
static Datum
sample_key(FunctionCallInfo fcinfo, int seed_arg, int size_arg, int part_arg,
		   const double *xs, const bool *isnull, int p)
{
	uint64		seed;
	double		test_size;
	int32		part;

	split_args(fcinfo, seed_arg, size_arg, "galaxy_internal.stream_sample_key", &seed, &test_size);
	if (PG_ARGISNULL(part_arg) || (part = PG_GETARG_INT32(part_arg)) < 0 || part > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the part of galaxy_internal.stream_sample_key must be 0 (training) or 1 (held out)")));
	if (moments_row_part(seed, test_size, xs, isnull, p, 0.0) != part)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(moments_row_hash(seed ^ MOMENTS_SAMPLE_SALT, xs, isnull, p, 0.0));
}

/* galaxy_internal.stream_sample_key(seed, test_size, part, VARIADIC x "any") */
Datum
galaxy_stream_sample_key(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	int			p = scale_features_from_args(fcinfo, 3, "galaxy_internal.stream_sample_key", xs, isnull, &any_null);

	return sample_key(fcinfo, 0, 1, 2, xs, isnull, p);
}

/* galaxy_internal.stream_sample_key_array(x[], seed, test_size, part) */
Datum
galaxy_stream_sample_key_array(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	int			p = scale_features_from_array(fcinfo, 0, xs, isnull, &any_null);

	return sample_key(fcinfo, 1, 2, 3, xs, isnull, p);
}

/*
 * softmax_pass's row: its class and transformed features into its part (a
 * training row into the buffer, summed a block at a time); the first row
 * makes the state at the point (argument point_arg), checked.
 */
static Datum
softmax_row(FunctionCallInfo fcinfo, int seed_arg, int size_arg, int point_arg,
			const double *xs, const bool *isnull, int p)
{
	const char *fname = "galaxy_internal.softmax_pass";
	ArrayType  *a;
	double	   *v;
	uint64		seed;
	double		test_size,
				y;
	SmPass		sp;
	double		t[MOMENTS_MAX_COLUMNS];

	split_args(fcinfo, seed_arg, size_arg, fname, &seed, &test_size);
	a = state_arg(fcinfo, PASS_SM_TAG);
	if (a == NULL)
	{
		ArrayType  *parr;
		double	   *pv;
		int			n,
					k;

		if (PG_ARGISNULL(point_arg))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the point of %s may not be NULL", fname)));
		parr = PG_GETARG_ARRAYTYPE_P(point_arg);
		pv = float8_array_values(parr, &n, "the point of galaxy_internal.softmax_pass");
		pass_sm_arg_check(pv, n, true, p, &k);
		a = new_state(pass_sm_doubles(k, p), PASS_SM_TAG, k, p);
		pass_sm_init((double *) ARR_DATA_PTR(a), pv);
	}
	v = (double *) ARR_DATA_PTR(a);
	if ((int) v[2] != p)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("rows of different widths (%d and %d features) in one %s", (int) v[2], p, fname)));
	pass_sm_layout(v, &sp);
	if (PG_ARGISNULL(1))
		PG_RETURN_ARRAYTYPE_P(a);
	y = PG_GETARG_FLOAT8(1);
	if (!(y >= 0.0 && y < sp.k) || y != floor(y))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the target of %s must be a class index from 0 to %d, not %g", fname, sp.k - 1, y)));
	check_finite(xs, isnull, p, fname);
	for (int j = 0; j < p; j++)
		t[j] = ((isnull[j] ? sp.fill[j] : xs[j]) - sp.center[j]) / sp.scale[j];
	pass_sm_add_row(v, (int) y, t, moments_row_part(seed, test_size, xs, isnull, p, y));
	PG_RETURN_ARRAYTYPE_P(a);
}

/* galaxy_internal.softmax_pass_accum(state, y, seed, test_size, point, VARIADIC x "any") */
Datum
galaxy_softmax_pass_accum(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	int			p = scale_features_from_args(fcinfo, 5, "galaxy_internal.softmax_pass", xs, isnull, &any_null);

	return softmax_row(fcinfo, 2, 3, 4, xs, isnull, p);
}

/* galaxy_internal.softmax_pass_array_accum(state, y, x[], seed, test_size, point) */
Datum
galaxy_softmax_pass_array_accum(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	int			p = scale_features_from_array(fcinfo, 2, xs, isnull, &any_null);

	return softmax_row(fcinfo, 3, 4, 5, xs, isnull, p);
}

/*
 * galaxy_internal.softmax_pass_final(state): a copy with its buffered rows
 * summed (the state itself is the executor's, not changed).
 */
Datum
galaxy_softmax_pass_final(PG_FUNCTION_ARGS)
{
	ArrayType  *a;
	int			n;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	(void) pass_state_from_datum(PG_GETARG_DATUM(0), &n);
	a = PG_GETARG_ARRAYTYPE_P_COPY(0);
	if (((double *) ARR_DATA_PTR(a))[0] != PASS_SM_TAG)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid streaming pass state: a state of another pass")));
	pass_sm_flush((double *) ARR_DATA_PTR(a));
	PG_RETURN_ARRAYTYPE_P(a);
}

/* logistic_proba's model, read once per query: a logistic_regression model and the transform. */
typedef struct ProbaCache
{
	int			n;				/* doubles of the argument; 0: none read yet */
	double	   *arg;
	int			k;
	int			p;
	void	   *model;
	const double *center;
	const double *scale;
	const double *fill;
} ProbaCache;

/*
 * The class probabilities (the model's predict_proba) of a row of part
 * 'part' (0 training, 1 held out, as split_moments splits them); NULL for
 * a row of the other part or a NULL target.
 */
static Datum
proba_row(FunctionCallInfo fcinfo, ProbaCache *c, int seed_arg, int size_arg,
		  const double *xs, const bool *isnull, int p)
{
	const char *fname = "galaxy_internal.logistic_proba";
	int			part_arg = size_arg + 1;
	int			model_arg = size_arg + 2;
	uint64		seed;
	double		test_size,
				y;
	int32		part;
	ArrayType  *arr;
	double	   *v;
	int			n;
	double		t[MOMENTS_MAX_COLUMNS];
	double	   *proba;
	Datum	   *elems;

	split_args(fcinfo, seed_arg, size_arg, fname, &seed, &test_size);
	if (PG_ARGISNULL(part_arg) || (part = PG_GETARG_INT32(part_arg)) < 0 || part > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the part of %s must be 0 (training) or 1 (held out)", fname)));
	if (PG_ARGISNULL(model_arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the model of %s may not be NULL", fname)));
	arr = PG_GETARG_ARRAYTYPE_P(model_arg);
	v = float8_array_values(arr, &n, "the model of galaxy_internal.logistic_proba");
	if (c->n != n || memcmp(c->arg, v, sizeof(double) * n) != 0)
	{
		int			k,
					kk;
		MemoryContext old;
		double	   *copy;
		double	   *icpt,
				   *coef;

		pass_sm_arg_check(v, n, false, p, &k);
		kk = k == 2 ? 1 : k;
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		copy = palloc(sizeof(double) * n);
		memcpy(copy, v, sizeof(double) * n);
		icpt = palloc(sizeof(double) * kk);
		coef = palloc(sizeof(double) * kk * p);
		for (int o = 0; o < kk; o++)
		{
			icpt[o] = copy[2 + (Size) o * (p + 1)];
			memcpy(coef + (Size) o * p, copy + 3 + (Size) o * (p + 1), sizeof(double) * p);
		}
		c->model = logreg_state_from_coef(p, k, coef, icpt);
		MemoryContextSwitchTo(old);
		c->arg = copy;
		c->n = n;
		c->k = k;
		c->p = p;
		c->center = copy + 2 + (Size) kk * (p + 1);
		c->scale = c->center + p;
		c->fill = c->scale + p;
	}
	/* the target is the first argument of both forms */
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	y = PG_GETARG_FLOAT8(0);
	check_finite(xs, isnull, p, fname);
	if (moments_row_part(seed, test_size, xs, isnull, p, y) != part)
		PG_RETURN_NULL();
	for (int j = 0; j < p; j++)
		t[j] = ((isnull[j] ? c->fill[j] : xs[j]) - c->center[j]) / c->scale[j];
	proba = palloc(sizeof(double) * c->k);
	elems = palloc(sizeof(Datum) * c->k);
	galaxy_algo_logistic_regression.predict_proba(c->model, t, 1, proba);
	for (int i = 0; i < c->k; i++)
		elems[i] = Float8GetDatum(proba[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, c->k, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
										  TYPALIGN_DOUBLE));
}

/* The cache of a logistic_proba call site. */
static ProbaCache *
proba_cache(FunctionCallInfo fcinfo, bool fresh)
{
	if (fresh || fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ProbaCache));
	return (ProbaCache *) fcinfo->flinfo->fn_extra;
}

/* galaxy_internal.logistic_proba(y, seed, test_size, part, model, VARIADIC x "any") */
Datum
galaxy_logistic_proba(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	bool		fresh = fcinfo->flinfo->fn_extra == NULL;
	int			p = scale_features_from_args(fcinfo, 5, "galaxy_internal.logistic_proba", xs, isnull, &any_null);

	return proba_row(fcinfo, proba_cache(fcinfo, fresh), 1, 2, xs, isnull, p);
}

/* galaxy_internal.logistic_proba_array(y, x[], seed, test_size, part, model) */
Datum
galaxy_logistic_proba_array(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	int			p = scale_features_from_array(fcinfo, 1, xs, isnull, &any_null);

	return proba_row(fcinfo, proba_cache(fcinfo, false), 2, 3, xs, isnull, p);
}

/*
 * nb_proba's row: the class probabilities of the naive Bayes model (the
 * model of nb_score) for a row of part 'part'; NULL for a row of the other
 * part or a NULL target.
 */
static Datum
nb_proba_row(FunctionCallInfo fcinfo, PassCache *c, int seed_arg, int size_arg,
			 const double *xs, const bool *isnull, int p)
{
	const char *fname = "galaxy_internal.nb_proba";
	int			part_arg = size_arg + 1;
	uint64		seed;
	double		test_size,
				y;
	int32		part;
	Datum	   *elems;

	split_args(fcinfo, seed_arg, size_arg, fname, &seed, &test_size);
	if (PG_ARGISNULL(part_arg) || (part = PG_GETARG_INT32(part_arg)) < 0 || part > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the part of %s must be 0 (training) or 1 (held out)", fname)));
	load_arg(fcinfo, c, size_arg + 2, true, p);
	/* the target is the first argument of both forms */
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	y = PG_GETARG_FLOAT8(0);
	check_finite(xs, isnull, p, fname);
	if (moments_row_part(seed, test_size, xs, isnull, p, y) != part)
		PG_RETURN_NULL();
	transform_row(c, xs, isnull);
	galaxy_algo_naive_bayes.predict_proba(c->nb, c->t, 1, c->proba);
	elems = palloc(sizeof(Datum) * c->k);
	for (int i = 0; i < c->k; i++)
		elems[i] = Float8GetDatum(c->proba[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, c->k, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
										  TYPALIGN_DOUBLE));
}

/* galaxy_internal.nb_proba(y, seed, test_size, part, model, VARIADIC x "any") */
Datum
galaxy_nb_proba(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	bool		fresh = fcinfo->flinfo->fn_extra == NULL;
	int			p = scale_features_from_args(fcinfo, 5, "galaxy_internal.nb_proba", xs, isnull, &any_null);

	return nb_proba_row(fcinfo, pass_cache(fcinfo, fresh), 1, 2, xs, isnull, p);
}

/* galaxy_internal.nb_proba_array(y, x[], seed, test_size, part, model) */
Datum
galaxy_nb_proba_array(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	int			p = scale_features_from_array(fcinfo, 1, xs, isnull, &any_null);

	return nb_proba_row(fcinfo, pass_cache(fcinfo, false), 2, 3, xs, isnull, p);
}
