/*
 * profile.c — column profiles of a relation: counts, NULLs, distinct values,
 * min/max/mean/stddev, quantiles and an equal-frequency histogram for
 * numbers, top values for everything else.  The profile stored by
 * galaxy.create_dataset() is the baseline for data-quality checks and drift;
 * galaxy.profile() returns the same numbers as rows.
 *
 * The relation is read through SPI as the calling role (privileges and
 * row-level security apply), in batches, without text conversion for the
 * supported types.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "galaxy.h"
#include "data/data_internal.h"
#include "data/dataset.h"
#include "data/profile.h"
#include "model/model.h"
#include "util/jsonb_build.h"
#include "util/query.h"

#define PROFILE_BATCH		10000
#define PROFILE_TOP_VALUES	PROFILE_MAX_TOP
#define PROFILE_BINS		PROFILE_MAX_BINS

static const double profile_quantile_p[PROFILE_QUANTILES] = {0.05, 0.25, 0.50, 0.75, 0.95};

PG_FUNCTION_INFO_V1(galaxy_profile);

/* Kind names, as shown in profiles. */
static const char *
profile_kind_name(int kind)
{
	switch (kind)
	{
		case INPUT_NUMERIC:
			return "numeric";
		case INPUT_BOOLEAN:
			return "boolean";
		case INPUT_CATEGORICAL:
			return "categorical";
		case INPUT_ARRAY:
			return "array";
		default:
			return "other";
	}
}

/* Append a value to a column's number buffer, checking the memory limit. */
static void
push_value(ProfileState *st, ColumnProfile *c, double v)
{
	if (c->n_values == c->cap_values)
	{
		int64		newcap = Max(c->cap_values * 2, 1024);

		st->bytes += (Size) (newcap - c->cap_values) * sizeof(double);
		galaxy_check_training_memory(st->bytes,
									 psprintf("profiling relation \"%s\"", st->relname));
		if (c->values == NULL)
			c->values = MemoryContextAllocHuge(st->cxt, sizeof(double) * newcap);
		else
			c->values = repalloc_huge(c->values, sizeof(double) * newcap);
		c->cap_values = newcap;
	}
	c->values[c->n_values++] = v;
}

/* Account one non-NULL value of column c. */
static void
profile_value(ProfileState *st, ColumnProfile *c, Datum d)
{
	c->count++;
	switch (c->kind)
	{
		case INPUT_NUMERIC:
		case INPUT_BOOLEAN:
			{
				double		v = data_scalar_to_double(d, c->conv);

				if (!isfinite(v))
					c->non_finite++;
				else
					push_value(st, c, v);
				if (c->kind == INPUT_BOOLEAN)
				{
					bool		added;

					dict_lookup(c->dict, v != 0 ? "true" : "false", v != 0 ? 4 : 5, &added);
				}
				break;
			}
		case INPUT_ARRAY:
			{
				int			n = data_array_length(d);
				double	   *buf;
				int			nitems;

				if (n < 0)
				{
					c->ragged = true;	/* multidimensional */
					break;
				}
				if (c->width < 0)
					c->width = n;
				else if (c->width != n)
					c->ragged = true;
				buf = palloc(sizeof(double) * Max(n, 1));
				(void) data_array_fill(d, buf, n, &nitems);
				for (int i = 0; i < n; i++)
				{
					if (isnan(buf[i]) || isinf(buf[i]))
					{
						/* NULL elements and NaN both read as NaN; count as non-finite */
						c->non_finite++;
						continue;
					}
					push_value(st, c, buf[i]);
				}
				pfree(buf);
				break;
			}
		case INPUT_CATEGORICAL:
			{
				char		buf[NAMEDATALEN];
				int			len;
				const char *s = data_category_bytes(d, c->cat, buf, &len);
				bool		added;

				dict_lookup(c->dict, s, len, &added);
				break;
			}
		default:
			{
				char	   *s = OidOutputFunctionCall(c->outfunc, d);
				bool		added;

				dict_lookup(c->dict, s, strlen(s), &added);
				break;
			}
	}
}


/* Linear-interpolated quantile of sorted values (like percentile_cont). */
double
profile_quantile(const double *v, int64 n, double p)
{
	double		pos = p * (double) (n - 1);
	int64		lo = (int64) floor(pos);
	double		frac = pos - (double) lo;

	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

/* Top values of a dictionary: counts descending, then value ascending. */
static int
cmp_top(const void *a, const void *b, void *arg)
{
	Dict	   *d = (Dict *) arg;
	int			x = *(const int *) a;
	int			y = *(const int *) b;

	if (d->counts[x] != d->counts[y])
		return d->counts[x] > d->counts[y] ? -1 : 1;
	return strcmp(d->keys[x], d->keys[y]);
}

/* Derive the statistics of one column once all rows are seen. */
static void
finish_column(ColumnProfile *c)
{
	c->min = c->max = c->mean = c->stddev = get_float8_nan();
	c->has_numbers = false;

	if (c->n_values > 0)
	{
		double	   *v = c->values;
		int64		n = c->n_values;
		double		sum = 0.0,
					ss = 0.0;
		int64		distinct = 0;

		qsort(v, n, sizeof(double), data_cmp_double);
		CHECK_FOR_INTERRUPTS();
		for (int64 i = 0; i < n; i++)
		{
			sum += v[i];
			if (i == 0 || v[i] != v[i - 1])
				distinct++;
		}
		c->has_numbers = true;
		c->min = v[0];
		c->max = v[n - 1];
		c->mean = sum / (double) n;
		for (int64 i = 0; i < n; i++)
			ss += (v[i] - c->mean) * (v[i] - c->mean);
		c->stddev = n > 1 ? sqrt(ss / (double) (n - 1)) : get_float8_nan();
		if (c->kind != INPUT_BOOLEAN)
			c->n_distinct = distinct;

		if (c->kind == INPUT_NUMERIC || c->kind == INPUT_ARRAY)
		{
			double		edges[PROFILE_BINS + 1];
			int			ne = 0;
			int64		j = 0;

			for (int q = 0; q < PROFILE_QUANTILES; q++)
				c->quantiles[q] = profile_quantile(v, n, profile_quantile_p[q]);
			c->has_quantiles = true;

			/* equal-frequency edges, duplicates removed */
			for (int b = 0; b <= PROFILE_BINS; b++)
			{
				double		e = profile_quantile(v, n, (double) b / PROFILE_BINS);

				if (ne == 0 || e > edges[ne - 1])
					edges[ne++] = e;
			}
			if (ne == 1)
				edges[ne++] = edges[0];	/* one constant value: one bin */
			c->n_bins = ne - 1;
			for (int b = 0; b < ne; b++)
				c->hist_edges[b] = edges[b];
			/* bin b holds edges[b] <= x < edges[b+1]; the last bin is closed */
			for (int b = 0; b < c->n_bins; b++)
			{
				int64		start = j;

				if (b == c->n_bins - 1)
					j = n;
				else
					while (j < n && v[j] < edges[b + 1])
						j++;
				c->hist_counts[b] = j - start;
			}
		}
	}

	if (c->dict)
	{
		int			n = c->dict->n;
		int		   *order = palloc(sizeof(int) * Max(n, 1));

		if (c->kind != INPUT_NUMERIC && c->kind != INPUT_ARRAY)
			c->n_distinct = n;
		for (int i = 0; i < n; i++)
			order[i] = i;
		qsort_arg(order, n, sizeof(int), cmp_top, c->dict);
		c->n_top = Min(n, PROFILE_TOP_VALUES);
		for (int i = 0; i < c->n_top; i++)
		{
			c->top_values[i] = c->dict->keys[order[i]];
			c->top_counts[i] = c->dict->counts[order[i]];
		}
		pfree(order);
	}
}

/* What the profile scan's batches need. */
typedef struct ProfileScan
{
	ProfileState *st;
	Datum	   *values;
	bool	   *isnull;
} ProfileScan;

/* One batch of the profile scan: every value into its column's profile. */
static void
profile_scan_batch(void *arg, HeapTuple *rows, uint64 nrows, TupleDesc td)
{
	ProfileScan *sc = (ProfileScan *) arg;
	ProfileState *st = sc->st;

	for (uint64 r = 0; r < nrows; r++)
	{
		heap_deform_tuple(rows[r], td, sc->values, sc->isnull);
		st->rows++;
		for (int i = 0; i < st->ncols; i++)
		{
			if (sc->isnull[i])
				st->cols[i].nulls++;
			else
				profile_value(st, &st->cols[i], sc->values[i]);
		}
	}
}

/* Compute the profile of the named columns (NIL = every column) of a relation. */
ProfileState *
profile_compute(Oid relid, List *columns)
{
	ProfileState *st = palloc0(sizeof(ProfileState));
	Relation	rel;
	TupleDesc	desc;
	StringInfoData q;
	ProfileScan sc;

	st->cxt = CurrentMemoryContext;
	rel = data_open_relation(relid);
	st->relname = pstrdup(RelationGetRelationName(rel));
	desc = RelationGetDescr(rel);
	if (rel->rd_rel->relkind != RELKIND_RELATION && rel->rd_rel->relkind != RELKIND_VIEW &&
		rel->rd_rel->relkind != RELKIND_MATVIEW && rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE &&
		rel->rd_rel->relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table, view, materialized view or foreign table", st->relname)));

	/* columns */
	st->cols = palloc0(sizeof(ColumnProfile) * Max(desc->natts, list_length(columns)) + 1);
	if (columns != NIL)
	{
		ListCell   *lc;

		foreach(lc, columns)
		{
			const char *name = strVal(lfirst(lc));
			AttrNumber	att = get_attnum(relid, name);

			if (att == InvalidAttrNumber || att < 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of relation \"%s\" does not exist", galaxy_short(name), st->relname)));
			st->cols[st->ncols].attnum = att;
			st->ncols++;
		}
	}
	else
		for (int i = 0; i < desc->natts; i++)
			if (!TupleDescAttr(desc, i)->attisdropped)
				st->cols[st->ncols++].attnum = TupleDescAttr(desc, i)->attnum;
	if (st->ncols == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation \"%s\" has no columns to profile", st->relname)));

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	for (int i = 0; i < st->ncols; i++)
	{
		ColumnProfile *c = &st->cols[i];
		Form_pg_attribute a = TupleDescAttr(desc, c->attnum - 1);
		bool		isvarlena;

		c->name = pstrdup(NameStr(a->attname));
		c->typid = a->atttypid;
		c->typname = format_type_be(a->atttypid);
		c->kind = data_classify_type(a->atttypid, &c->conv, &c->cat);
		c->width = -1;
		if (c->kind != INPUT_NUMERIC && c->kind != INPUT_ARRAY)
			c->dict = dict_create(st->cxt, false, MODEL_MAX_FEATURES, "distinct values in one column");
		getTypeOutputInfo(a->atttypid, &c->outfunc, &isvarlena);
		appendStringInfo(&q, "%s%s", i > 0 ? ", " : "", quote_identifier(c->name));
	}
	appendStringInfo(&q, " FROM %s",
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), st->relname));

	sc.st = st;
	sc.values = palloc(sizeof(Datum) * st->ncols);
	sc.isnull = palloc(sizeof(bool) * st->ncols);
	query_scan(q.data, 0, NULL, NULL, NULL, PROFILE_BATCH, NULL, profile_scan_batch, &sc);

	for (int i = 0; i < st->ncols; i++)
		finish_column(&st->cols[i]);
	relation_close(rel, AccessShareLock);
	return st;
}

/* ---------------------------------------------------------------------
 * jsonb form
 * --------------------------------------------------------------------- */

/* Push the top values as a jsonb array of {"value", "count"}. */
static JsonbValue *
push_top_values(JsonbParseState **ps, const ColumnProfile *c)
{
	pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < c->n_top; i++)
	{
		pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
		jb_key(ps, "value");
		jb_str(ps, WJB_VALUE, c->top_values[i]);
		jb_key(ps, "count");
		jb_int(ps, WJB_VALUE, c->top_counts[i]);
		pushJsonbValue(ps, WJB_END_OBJECT, NULL);
	}
	return pushJsonbValue(ps, WJB_END_ARRAY, NULL);
}

/* One column's profile as a jsonb object. */
static void
push_column(JsonbParseState **ps, const ColumnProfile *c)
{
	pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
	jb_key(ps, "type");
	jb_str(ps, WJB_VALUE, c->typname);
	jb_key(ps, "kind");
	jb_str(ps, WJB_VALUE, profile_kind_name(c->kind));
	jb_key(ps, "count");
	jb_int(ps, WJB_VALUE, c->count);
	jb_key(ps, "nulls");
	jb_int(ps, WJB_VALUE, c->nulls);
	jb_key(ps, "n_distinct");
	jb_int(ps, WJB_VALUE, c->n_distinct);
	if (c->non_finite > 0)
	{
		jb_key(ps, "non_finite");
		jb_int(ps, WJB_VALUE, c->non_finite);
	}
	if (c->kind == INPUT_ARRAY)
	{
		jb_key(ps, "width");
		jb_int(ps, WJB_VALUE, c->width);
		jb_key(ps, "ragged");
		{
			JsonbValue	b;

			b.type = jbvBool;
			b.val.boolean = c->ragged;
			pushJsonbValue(ps, WJB_VALUE, &b);
		}
	}
	if (c->has_numbers)
	{
		jb_key(ps, "min");
		jb_num(ps, WJB_VALUE, c->min);
		jb_key(ps, "max");
		jb_num(ps, WJB_VALUE, c->max);
		jb_key(ps, "mean");
		jb_num(ps, WJB_VALUE, c->mean);
		jb_key(ps, "stddev");
		jb_num(ps, WJB_VALUE, c->stddev);
	}
	if (c->has_quantiles)
	{
		jb_key(ps, "quantiles");
		pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
		for (int q = 0; q < PROFILE_QUANTILES; q++)
			jb_num(ps, WJB_ELEM, c->quantiles[q]);
		pushJsonbValue(ps, WJB_END_ARRAY, NULL);
		jb_key(ps, "histogram");
		pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
		jb_key(ps, "edges");
		pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
		for (int b = 0; b <= c->n_bins; b++)
			jb_num(ps, WJB_ELEM, c->hist_edges[b]);
		pushJsonbValue(ps, WJB_END_ARRAY, NULL);
		jb_key(ps, "counts");
		pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
		for (int b = 0; b < c->n_bins; b++)
			jb_int(ps, WJB_ELEM, c->hist_counts[b]);
		pushJsonbValue(ps, WJB_END_ARRAY, NULL);
		pushJsonbValue(ps, WJB_END_OBJECT, NULL);
	}
	if (c->dict)
	{
		jb_key(ps, "top_values");
		(void) push_top_values(ps, c);
	}
	pushJsonbValue(ps, WJB_END_OBJECT, NULL);
}

/* The whole profile as jsonb: {"row_count": N, "columns": {"name": {...}}}. */
Jsonb *
profile_to_jsonb(const ProfileState *st)
{
	JsonbParseState *ps = NULL;
	JsonbValue *res;

	pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	jb_key(&ps, "row_count");
	jb_int(&ps, WJB_VALUE, st->rows);
	jb_key(&ps, "columns");
	pushJsonbValue(&ps, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < st->ncols; i++)
	{
		jb_key(&ps, st->cols[i].name);
		push_column(&ps, &st->cols[i]);
	}
	pushJsonbValue(&ps, WJB_END_OBJECT, NULL);
	res = pushJsonbValue(&ps, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/* Column profiles as jsonb (create_dataset, drift baseline). */
Jsonb *
dataset_profile_jsonb(Oid relid, List *columns)
{
	return profile_to_jsonb(profile_compute(relid, columns));
}

/* ---------------------------------------------------------------------
 * galaxy.profile(relation)
 * --------------------------------------------------------------------- */

/* A float8[] datum. */
static Datum
float8_array(const double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = Float8GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* galaxy.profile(relation regclass) → one row per column. */
Datum
galaxy_profile(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ProfileState *st;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation must not be NULL")));
	InitMaterializedSRF(fcinfo, 0);
	st = profile_compute(PG_GETARG_OID(0), NIL);

	for (int i = 0; i < st->ncols; i++)
	{
		const ColumnProfile *c = &st->cols[i];
		Datum		values[PROFILE_NATTS];
		bool		nulls[PROFILE_NATTS];

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(c->name);
		values[1] = CStringGetTextDatum(c->typname);
		values[2] = CStringGetTextDatum(profile_kind_name(c->kind));
		values[3] = Int64GetDatum(c->count);
		values[4] = Int64GetDatum(c->nulls);
		values[5] = Int64GetDatum(c->n_distinct);
		if (c->has_numbers)
		{
			values[6] = Float8GetDatum(c->min);
			values[7] = Float8GetDatum(c->max);
			values[8] = Float8GetDatum(c->mean);
			values[9] = Float8GetDatum(c->stddev);
			nulls[9] = isnan(c->stddev);
		}
		else
			nulls[6] = nulls[7] = nulls[8] = nulls[9] = true;
		if (c->has_quantiles)
		{
			Datum	   *cnt = palloc(sizeof(Datum) * Max(c->n_bins, 1));

			values[10] = float8_array(c->quantiles, PROFILE_QUANTILES);
			values[11] = float8_array(c->hist_edges, c->n_bins + 1);
			for (int b = 0; b < c->n_bins; b++)
				cnt[b] = Int64GetDatum(c->hist_counts[b]);
			values[12] = PointerGetDatum(construct_array(cnt, c->n_bins, INT8OID, sizeof(int64),
														 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		}
		else
			nulls[10] = nulls[11] = nulls[12] = true;
		if (c->dict)
		{
			JsonbParseState *ps = NULL;

			values[13] = JsonbPGetDatum(JsonbValueToJsonb(push_top_values(&ps, c)));
		}
		else
			nulls[13] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
