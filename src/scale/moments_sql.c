/*
 * moments_sql.c — SQL functions of galaxy.moments: the type's I/O, the
 * aggregates' transition and combine functions, galaxy.moments_ols and
 * galaxy.moments_summary.
 *
 * The transition function updates its state in place when called by an
 * aggregate (the state then belongs to the aggregate); a state that must
 * grow (the first row with a NULL feature) is returned as a new value, which
 * the executor copies into the aggregate's context, freeing the old one.
 * Called directly, it never modifies its argument.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"

#include "galaxy.h"
#include "algo/algo.h"
#include "scale/moments.h"
#include "scale/stream.h"
#include "util/jsonb_build.h"

PG_FUNCTION_INFO_V1(galaxy_moments_in);
PG_FUNCTION_INFO_V1(galaxy_moments_out);
PG_FUNCTION_INFO_V1(galaxy_moments_recv);
PG_FUNCTION_INFO_V1(galaxy_moments_send);
PG_FUNCTION_INFO_V1(galaxy_moments_accum);
PG_FUNCTION_INFO_V1(galaxy_moments_split_accum);
PG_FUNCTION_INFO_V1(galaxy_moments_split_values_accum);
PG_FUNCTION_INFO_V1(galaxy_moments_combine);
PG_FUNCTION_INFO_V1(galaxy_moments_ols);
PG_FUNCTION_INFO_V1(galaxy_moments_summary);

Datum
galaxy_moments_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(moments_from_text(PG_GETARG_CSTRING(0)));
}

Datum
galaxy_moments_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(moments_to_text(moments_from_datum(PG_GETARG_DATUM(0))));
}

Datum
galaxy_moments_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	MomentsData *m = moments_decode(buf->data + buf->cursor, len);

	buf->cursor = buf->len;
	PG_RETURN_POINTER(m);
}

Datum
galaxy_moments_send(PG_FUNCTION_ARGS)
{
	MomentsData *m = moments_from_datum(PG_GETARG_DATUM(0));
	Size		len;
	char	   *bin = moments_encode(m, &len);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, bin, len);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * The state to update: the aggregate's own (in place), or a validated copy
 * of the argument when called directly; NULL when there is none yet.
 */
static MomentsData *
state_arg(FunctionCallInfo fcinfo, bool *inagg)
{
	*inagg = AggCheckCallContext(fcinfo, NULL) != 0;
	if (PG_ARGISNULL(0))
		return NULL;
	if (*inagg)
		return (MomentsData *) PG_GETARG_POINTER(0);
	return scale_private_state(moments_from_datum(PG_GETARG_DATUM(0)), PG_GETARG_DATUM(0));
}

/*
 * A state a function called outside an aggregate may change: the validated
 * value of its argument, copied when validating did not already copy it
 * (the argument itself may be a table's value in a shared buffer).
 */
void *
scale_private_state(void *validated, Datum arg)
{
	void	   *copy;

	if ((Pointer) validated != DatumGetPointer(arg))
		return validated;
	copy = palloc(VARSIZE(validated));
	memcpy(copy, validated, VARSIZE(validated));
	return copy;
}

/* The features of a row from a float8[] argument; returns their number. */
int
scale_features_from_array(FunctionCallInfo fcinfo, int argno, double *xs, bool *isnull, bool *any_null)
{
	ArrayType  *arr;
	int			p;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the feature array of galaxy.moments may not be NULL"),
				 errhint("Pass ARRAY[x1, x2, ...]; NULL elements are allowed and imputed later.")));
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_ELEMTYPE(arr) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the feature array of galaxy.moments must be double precision[]")));
	if (ARR_NDIM(arr) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the feature array of galaxy.moments must have one dimension, not %d", ARR_NDIM(arr))));
	p = ARR_DIMS(arr)[0];
	if (p < 1 || p > MOMENTS_MAX_COLUMNS - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("galaxy.moments takes 1 to %d features, not %d", MOMENTS_MAX_COLUMNS - 1, p)));
	*any_null = false;
	if (!ARR_HASNULL(arr))
	{
		const double *v = (const double *) ARR_DATA_PTR(arr);

		for (int j = 0; j < p; j++)
		{
			xs[j] = v[j];
			isnull[j] = false;
		}
	}
	else
	{
		const bits8 *bitmap = ARR_NULLBITMAP(arr);
		const double *v = (const double *) ARR_DATA_PTR(arr);

		for (int j = 0; j < p; j++)
		{
			isnull[j] = !(bitmap[j / 8] & (1 << (j % 8)));
			if (isnull[j])
			{
				xs[j] = 0.0;
				*any_null = true;
			}
			else
				xs[j] = *v++;
		}
	}
	return p;
}

/*
 * The features of a row from the arguments first .. PG_NARGS() - 1 (a
 * VARIADIC "any" of float8 values: no array is built per row).  Their
 * types are checked on the first call.
 */
int
scale_features_from_args(FunctionCallInfo fcinfo, int first, const char *fname, double *xs, bool *isnull, bool *any_null)
{
	int			p = PG_NARGS() - first;

	if (fcinfo->flinfo->fn_extra == NULL)
	{
		if (get_fn_expr_variadic(fcinfo->flinfo))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s takes its features as separate arguments, not VARIADIC ARRAY", fname)));
		if (p < 1 || p > MOMENTS_MAX_COLUMNS - 1)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("galaxy.moments takes 1 to %d features, not %d", MOMENTS_MAX_COLUMNS - 1, p)));
		for (int j = 0; j < p; j++)
			if (get_fn_expr_argtype(fcinfo->flinfo, first + j) != FLOAT8OID)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("feature %d of %s is not double precision", j + 1, fname)));
		fcinfo->flinfo->fn_extra = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, 1);
	}
	*any_null = false;
	for (int j = 0; j < p; j++)
	{
		isnull[j] = PG_ARGISNULL(first + j);
		if (isnull[j])
		{
			xs[j] = 0.0;
			*any_null = true;
		}
		else
			xs[j] = PG_GETARG_FLOAT8(first + j);
	}
	return p;
}

/*
 * The shared transition: one row (y = argument 1, features xs) into part 0,
 * or, for a split state, the part its hash chooses, and into the sample
 * when sample_level is not negative (split states only).  xs has room for
 * MOMENTS_MAX_COLUMNS values: a row without NULLs gets its target after its
 * features.
 */
static Datum
accum_row(FunctionCallInfo fcinfo, bool split, uint64 seed, double test_size, int sample_level,
		  double *xs, const bool *isnull, int p, bool any_null)
{
	bool		inagg;
	MomentsData *m = state_arg(fcinfo, &inagg);
	double		y;
	int			part = 0;
	uint64		mix = 0;

	if (m != NULL && m->d != p + 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("feature arrays of different lengths (%d and %d) in one galaxy.moments", m->d - 1, p)));

	if (m == NULL)
	{
		m = moments_create(p + 1, split ? 2 : 1, 0, seed, test_size);
		if (sample_level >= 0)
		{
			/* the sample's growing copies reuse mapped pages (a parallel worker's first) */
			galaxy_prepare_memory(MOMENTS_SAMPLE_ARENA_MB);
			m = moments_start_sample(m, sample_level);
		}
	}
	else if (split && (m->seed != seed || m->test_size != test_size ||
					   (sample_level >= 0) != ((m->flags & MOMENTS_HAS_SAMPLE) != 0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the seed, test_size and sample_level of galaxy_internal.split_moments must be the same on every row")));

	if (PG_ARGISNULL(1))
	{
		m->n_skipped += 1.0;
		PG_RETURN_POINTER(m);
	}
	y = PG_GETARG_FLOAT8(1);
	if (!isfinite(y))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the target of galaxy.moments contains %s",
						isnan(y) ? "NaN" : (y > 0 ? "Infinity" : "-Infinity")),
				 errhint("Replace NaN/Infinity with NULL (the row is skipped) or filter those rows out.")));
	for (int j = 0; j < p; j++)
		if (!isnull[j] && !isfinite(xs[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("feature %d of galaxy.moments contains %s", j + 1,
							isnan(xs[j]) ? "NaN" : (xs[j] > 0 ? "Infinity" : "-Infinity")),
					 errhint("Replace NaN/Infinity with NULL (imputed) or a finite value, or filter those rows out.")));

	if (any_null && !(m->flags & MOMENTS_HAS_NULLS))
		m = moments_with_nulls(m);
	if (!any_null)
		xs[p] = y;				/* the target after the features (xs has room for it) */
	if (split)
	{
		mix = any_null ? moments_row_mix(xs, isnull, p, y) : moments_full_row_mix(xs, p);
		part = moments_part_of_mix(mix, seed, test_size);
	}
	if (any_null)
		moments_add_row(m, part, xs, isnull, y);
	else
		moments_add_full_row(m, part, xs);
	if (split && (m->flags & MOMENTS_HAS_SAMPLE))
		m = moments_sample_row(m, moments_hash_unit(mix, seed ^ MOMENTS_SAMPLE_SALT), xs, isnull, y);
	PG_RETURN_POINTER(m);
}

/* Split parameters, checked. */
static double
split_test_size(FunctionCallInfo fcinfo, int seed_arg, int size_arg)
{
	double		test_size;

	if (PG_ARGISNULL(seed_arg) || PG_ARGISNULL(size_arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the seed and test_size of galaxy_internal.split_moments may not be NULL")));
	test_size = PG_GETARG_FLOAT8(size_arg);
	if (!(test_size >= 0.0 && test_size < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("test_size must be in [0, 1), not %g", test_size)));
	return test_size;
}

/* The sampling level of a split aggregate's argument: -1 for NULL (no sample). */
static int
split_sample_level(FunctionCallInfo fcinfo, int arg)
{
	int32		level;

	if (PG_ARGISNULL(arg))
		return -1;
	level = PG_GETARG_INT32(arg);
	if (level < 0 || level > MOMENTS_SAMPLE_MAX_LEVEL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample_level must be between 0 and %d, not %d", MOMENTS_SAMPLE_MAX_LEVEL, level)));
	return level;
}

/* galaxy_internal.moments_accum(state, y, x[]) */
Datum
galaxy_moments_accum(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	int			p = scale_features_from_array(fcinfo, 2, xs, isnull, &any_null);

	return accum_row(fcinfo, false, 0, 0.0, -1, xs, isnull, p, any_null);
}

/* galaxy_internal.split_moments_accum(state, y, x[], seed, test_size, sample_level) */
Datum
galaxy_moments_split_accum(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	double		test_size = split_test_size(fcinfo, 3, 4);
	int			level = split_sample_level(fcinfo, 5);
	int			p = scale_features_from_array(fcinfo, 2, xs, isnull, &any_null);

	return accum_row(fcinfo, true, (uint64) PG_GETARG_INT64(3), test_size, level, xs, isnull, p, any_null);
}

/* galaxy_internal.split_moments_values_accum(state, y, seed, test_size, sample_level, VARIADIC x "any") */
Datum
galaxy_moments_split_values_accum(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	double		test_size = split_test_size(fcinfo, 2, 3);
	int			level = split_sample_level(fcinfo, 4);
	int			p = scale_features_from_args(fcinfo, 5, "galaxy_internal.split_moments_values", xs, isnull, &any_null);

	return accum_row(fcinfo, true, (uint64) PG_GETARG_INT64(2), test_size, level, xs, isnull, p, any_null);
}

/* galaxy_internal.moments_combine(a, b): Chan's merge. */
Datum
galaxy_moments_combine(PG_FUNCTION_ARGS)
{
	bool		inagg;
	MomentsData *a = state_arg(fcinfo, &inagg);
	MomentsData *b;

	if (PG_ARGISNULL(1))
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	b = moments_from_datum(PG_GETARG_DATUM(1));
	if (a == NULL)
	{
		/* a copy of b, in the current context (the executor moves it) */
		MomentsData *copy = palloc(VARSIZE(b));

		memcpy(copy, b, VARSIZE(b));
		PG_RETURN_POINTER(copy);
	}
	PG_RETURN_POINTER(moments_merge(a, b));
}

/*
 * galaxy.moments_ols(m, alpha, fit_intercept): least-squares (ridge when
 * alpha > 0) coefficients of the target on the features, in their own units,
 * from the moments of all rows (part 1); NULL features are imputed with their
 * mean.  Returns {intercept, b1, ..., bp}.
 */
Datum
galaxy_moments_ols(PG_FUNCTION_ARGS)
{
	MomentsData *m = moments_from_datum(PG_GETARG_DATUM(0));
	double		alpha = PG_GETARG_FLOAT8(1);
	bool		fit_intercept = PG_GETARG_BOOL(2);
	int			p = m->d - 1;
	GramMoments gm;
	double	   *coef = palloc(sizeof(double) * p);
	double		intercept;
	Datum	   *out = palloc(sizeof(Datum) * (p + 1));

	if (!(alpha >= 0.0) || !isfinite(alpha))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha must be a finite number >= 0, not %g", alpha)));
	if (moments_rows(m, 0) < 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("galaxy.moments_ols needs at least one row")));
	stream_gram_moments(m, 0, NULL, fit_intercept, &gm);
	linreg_solve_moments(&gm, alpha, fit_intercept, coef, &intercept);
	if (fit_intercept)
	{
		/* the fit was on the features centred on their means: back to their units */
		MomentsColumn *cols = palloc(sizeof(MomentsColumn) * m->d);

		moments_columns(m, 0, cols);
		for (int j = 0; j < p; j++)
			intercept -= coef[j] * cols[j].mean;
		pfree(cols);
	}
	out[0] = Float8GetDatum(intercept);
	for (int j = 0; j < p; j++)
		out[j + 1] = Float8GetDatum(coef[j]);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, p + 1, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
										  TYPALIGN_DOUBLE));
}

static void
jb_array_of(JsonbParseState **st, const char *key, const MomentsColumn *cols, int n, int which)
{
	jb_key(st, key);
	pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
	for (int j = 0; j < n; j++)
	{
		double		v = which == 0 ? cols[j].mean : which == 1 ? cols[j].sd :
			which == 2 ? cols[j].min : which == 3 ? cols[j].max : cols[j].count;

		if (isfinite(v) && cols[j].count > 0)
			jb_num(st, WJB_ELEM, v);
		else
		{
			JsonbValue	nullv;

			nullv.type = jbvNull;
			pushJsonbValue(st, WJB_ELEM, &nullv);
		}
	}
	pushJsonbValue(st, WJB_END_ARRAY, NULL);
}

/* galaxy.moments_summary(m): rows, and per column (features, then the target) count, mean, sd, min, max. */
Datum
galaxy_moments_summary(PG_FUNCTION_ARGS)
{
	MomentsData *m = moments_from_datum(PG_GETARG_DATUM(0));
	JsonbParseState *st = NULL;
	MomentsColumn *cols = palloc(sizeof(MomentsColumn) * m->d);
	JsonbValue *res;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	jb_kv_int(&st, "features", m->d - 1);
	jb_kv_int(&st, "skipped_rows", (int64) m->n_skipped);
	jb_key(&st, "parts");
	pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int q = 0; q < m->n_parts; q++)
	{
		MomentsPart pt;

		moments_part(m, q, &pt);
		moments_columns(m, q, cols);
		pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		if (m->n_parts == 2)
			jb_kv_str(&st, "part", q == 0 ? "training" : "held_out");
		jb_kv_int(&st, "rows", (int64) (*pt.nc + *pt.nn));
		jb_kv_int(&st, "rows_with_nulls", (int64) *pt.nn);
		jb_array_of(&st, "count", cols, m->d, 4);
		jb_array_of(&st, "mean", cols, m->d, 0);
		jb_array_of(&st, "stddev", cols, m->d, 1);
		jb_array_of(&st, "min", cols, m->d, 2);
		jb_array_of(&st, "max", cols, m->d, 3);
		pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(res));
}
