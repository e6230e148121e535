/*
 * newton_sql.c — SQL functions of galaxy.newton: the type's I/O and the
 * transition and combine functions of galaxy_internal.logistic_pass (the
 * features as separate arguments) and logistic_pass_array (as an array).
 *
 * The point (class weights, intercept, coefficients, transform) is read
 * from its array argument on the first row only and kept in the state; the
 * combine function refuses states taken at different points.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "scale/moments.h"
#include "scale/newton.h"

PG_FUNCTION_INFO_V1(galaxy_newton_in);
PG_FUNCTION_INFO_V1(galaxy_newton_out);
PG_FUNCTION_INFO_V1(galaxy_newton_recv);
PG_FUNCTION_INFO_V1(galaxy_newton_send);
PG_FUNCTION_INFO_V1(galaxy_logistic_pass_accum);
PG_FUNCTION_INFO_V1(galaxy_logistic_pass_array_accum);
PG_FUNCTION_INFO_V1(galaxy_newton_combine);

/* galaxy_internal.newton_in(cstring): the text form, validated. */
Datum
galaxy_newton_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(newton_from_text(PG_GETARG_CSTRING(0)));
}

/* galaxy_internal.newton_out(galaxy.newton): "GNS1:" + hexadecimal. */
Datum
galaxy_newton_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(newton_to_text(newton_from_datum(PG_GETARG_DATUM(0))));
}

/* galaxy_internal.newton_recv(internal): the binary form, validated. */
Datum
galaxy_newton_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	NewtonData *s = newton_decode(buf->data + buf->cursor, len);

	buf->cursor = buf->len;
	PG_RETURN_POINTER(s);
}

/* galaxy_internal.newton_send(galaxy.newton): the binary form. */
Datum
galaxy_newton_send(PG_FUNCTION_ARGS)
{
	NewtonData *s = newton_from_datum(PG_GETARG_DATUM(0));
	Size		len;
	char	   *bin = newton_encode(s, &len);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, bin, len);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * The state to update: the aggregate's own (in place), or a validated copy
 * of the argument when called directly; NULL when there is none yet.
 */
static NewtonData *
newton_state_arg(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		return NULL;
	if (AggCheckCallContext(fcinfo, NULL) != 0)
		return (NewtonData *) PG_GETARG_POINTER(0);
	return scale_private_state(newton_from_datum(PG_GETARG_DATUM(0)), PG_GETARG_DATUM(0));
}

/*
 * The shared transition: one row (y = argument 1, features xs) into the
 * part its hash chooses; the first row makes the state at the point.
 */
static Datum
pass_row(FunctionCallInfo fcinfo, int seed_arg, int size_arg, int point_arg,
		 const double *xs, const bool *isnull, int p)
{
	NewtonData *s = newton_state_arg(fcinfo);
	uint64		seed;
	double		test_size;
	double		y;

	if (PG_ARGISNULL(seed_arg) || PG_ARGISNULL(size_arg) || PG_ARGISNULL(point_arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the seed, test_size and point of galaxy_internal.logistic_pass may not be NULL")));
	seed = (uint64) PG_GETARG_INT64(seed_arg);
	test_size = PG_GETARG_FLOAT8(size_arg);
	if (!(test_size >= 0.0 && test_size < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("test_size must be in [0, 1), not %g", test_size)));
	if (p > NEWTON_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("galaxy.newton takes 1 to %d features, not %d", NEWTON_MAX_FEATURES, p)));
	if (s == NULL)
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(point_arg);

		if (ARR_ELEMTYPE(arr) != FLOAT8OID || ARR_NDIM(arr) != 1 || ARR_HASNULL(arr) ||
			ARR_DIMS(arr)[0] != (int) newton_point_doubles(p))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the point of galaxy_internal.logistic_pass must be %d double precision values without NULLs for %d features",
							(int) newton_point_doubles(p), p)));
		newton_check_point(p, (const double *) ARR_DATA_PTR(arr));
		s = newton_create(p, seed, test_size, (const double *) ARR_DATA_PTR(arr));
	}
	else if (s->p != p)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("rows of different widths (%d and %d features) in one galaxy.newton", s->p, p)));
	else if (s->seed != seed || s->test_size != test_size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the seed and test_size of galaxy_internal.logistic_pass must be the same on every row")));

	if (PG_ARGISNULL(1))
	{
		s->n_skipped += 1.0;
		PG_RETURN_POINTER(s);
	}
	y = PG_GETARG_FLOAT8(1);
	if (y != 0.0 && y != 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the target of galaxy_internal.logistic_pass must be 0 or 1, not %g", y)));
	for (int j = 0; j < p; j++)
		if (!isnull[j] && !isfinite(xs[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("feature %d of galaxy_internal.logistic_pass contains %s", j + 1,
							isnan(xs[j]) ? "NaN" : (xs[j] > 0 ? "Infinity" : "-Infinity")),
					 errhint("Replace NaN/Infinity with NULL (imputed) or a finite value, or filter those rows out.")));
	newton_add_row(s, xs, isnull, y);
	PG_RETURN_POINTER(s);
}

/* galaxy_internal.logistic_pass_accum(state, y, seed, test_size, point, VARIADIC x "any") */
Datum
galaxy_logistic_pass_accum(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	int			p = scale_features_from_args(fcinfo, 5, "galaxy_internal.logistic_pass", xs, isnull, &any_null);

	return pass_row(fcinfo, 2, 3, 4, xs, isnull, p);
}

/* galaxy_internal.logistic_pass_array_accum(state, y, x[], seed, test_size, point) */
Datum
galaxy_logistic_pass_array_accum(PG_FUNCTION_ARGS)
{
	double		xs[MOMENTS_MAX_COLUMNS];
	bool		isnull[MOMENTS_MAX_COLUMNS];
	bool		any_null;
	int			p = scale_features_from_array(fcinfo, 2, xs, isnull, &any_null);

	return pass_row(fcinfo, 3, 4, 5, xs, isnull, p);
}

/* galaxy_internal.newton_combine(a, b): the sums of both. */
Datum
galaxy_newton_combine(PG_FUNCTION_ARGS)
{
	NewtonData *a = newton_state_arg(fcinfo);
	NewtonData *b;

	if (PG_ARGISNULL(1))
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	b = newton_from_datum(PG_GETARG_DATUM(1));
	if (a == NULL)
	{
		NewtonData *copy = palloc(VARSIZE(b));

		memcpy(copy, b, VARSIZE(b));
		PG_RETURN_POINTER(copy);
	}
	newton_merge(a, b);
	PG_RETURN_POINTER(a);
}
