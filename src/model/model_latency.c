/*
 * model_latency.c — single-row predict latency of a registered model,
 * measured in this backend on a sample of its training relation (or on
 * synthetic rows): one timed execution of a prepared single-row predict
 * statement per row.  See model_latency.h.  A model the statements load into
 * this backend's predict cache is dropped from it afterwards, unless it was
 * there before.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "model/model.h"
#include "model/model_cache.h"
#include "model/model_latency.h"
#include "util/catalog.h"
#include "util/query.h"

/* Executions before the timed ones (the first loads the model into the cache). */
#define LATENCY_WARMUP 10

/* What a measurement times: the statement and the rows for its parameters. */
typedef struct LatencyPlan
{
	int64		model_id;
	int			n_inputs;
	char	  **names;			/* the model's inputs */
	Oid		   *types;			/* parameter type of each input */
	QueryResult *rows;			/* the relation's rows, or NULL: synthetic */
	Datum	   *synthetic;		/* the synthetic row's values */
	int			n_rows;
	bool	   *isnull;			/* scratch for deforming a row */
	Datum	   *values;
} LatencyPlan;

/* qsort comparator for doubles. */
static int
cmp_ms(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile q (0..1] of n sorted values. */
static double
percentile(const double *sorted, int n, double q)
{
	int			k = (int) ceil(q * n);

	return sorted[Min(Max(k, 1), n) - 1];
}

/*
 * The first sample rows of relid (the inputs in order, the target not NULL)
 * read as the calling role, their column types in lp->types; NULL when the
 * relation cannot be read as the model was trained on it.
 */
static QueryResult *
relation_rows(LatencyPlan *lp, Oid relid, const char *target, char **typnames)
{
	Oid			roleid = GetUserId();
	bool		whole = false;
	char	   *relname;
	char	   *nspname;
	StringInfoData sql;
	QueryResult *r;

	if (!OidIsValid(relid) || (relname = get_rel_name(relid)) == NULL ||
		(nspname = get_namespace_name(get_rel_namespace(relid))) == NULL)
		return NULL;
	whole = pg_class_aclcheck(relid, roleid, ACL_SELECT) == ACLCHECK_OK;
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < lp->n_inputs; i++)
	{
		AttrNumber	att = get_attnum(relid, lp->names[i]);
		int32		typmod;
		Oid			collid;

		if (att == InvalidAttrNumber)
			return NULL;
		get_atttypetypmodcoll(relid, att, &lp->types[i], &typmod, &collid);
		if (typnames[i] == NULL || strcmp(format_type_be(lp->types[i]), typnames[i]) != 0)
			return NULL;
		if (!whole && pg_attribute_aclcheck(relid, att, roleid, ACL_SELECT) != ACLCHECK_OK)
			return NULL;
		appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "", quote_identifier(lp->names[i]));
	}
	appendStringInfo(&sql, " FROM %s", quote_qualified_identifier(nspname, relname));
	if (target != NULL)
	{
		AttrNumber	att = get_attnum(relid, target);

		if (att != InvalidAttrNumber &&
			(whole || pg_attribute_aclcheck(relid, att, roleid, ACL_SELECT) == ACLCHECK_OK))
			appendStringInfo(&sql, " WHERE %s IS NOT NULL", quote_identifier(target));
	}
	appendStringInfo(&sql, " LIMIT %d", MODEL_LATENCY_SAMPLE_ROWS);
	r = user_query(sql.data, 0, NULL, NULL, NULL, true, MODEL_LATENCY_SAMPLE_ROWS,
				   SPI_OK_SELECT, "read rows to time predict on");
	return r->nrows > 0 ? r : NULL;
}

/*
 * A synthetic row from the model's fitted inputs: numeric and boolean
 * inputs 0 (float8), arrays zeros of their length (float8[]), categorical
 * inputs their first category (text).
 */
static void
synthetic_row(LatencyPlan *lp, const Preprocessor *prep)
{
	lp->synthetic = palloc(sizeof(Datum) * Max(lp->n_inputs, 1));
	for (int i = 0; i < lp->n_inputs; i++)
	{
		const InputColumn *in = preprocess_input(prep, i);

		switch (in->kind)
		{
			case INPUT_CATEGORICAL:
				lp->types[i] = TEXTOID;
				lp->synthetic[i] = CStringGetTextDatum(in->n_categories > 0 ? in->categories[0] : "");
				break;
			case INPUT_ARRAY:
				{
					Datum	   *zeros = palloc(sizeof(Datum) * in->width);

					for (int j = 0; j < in->width; j++)
						zeros[j] = Float8GetDatum(0.0);
					lp->types[i] = FLOAT8ARRAYOID;
					lp->synthetic[i] = PointerGetDatum(construct_array(zeros, in->width, FLOAT8OID, 8,
																	   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
					break;
				}
			default:
				lp->types[i] = FLOAT8OID;
				lp->synthetic[i] = Float8GetDatum(0.0);
				break;
		}
	}
}

/* The parameters of execution i: a sample row (the warm-up repeats the first ones). */
static void
fill_row(void *arg, int i, Datum *values, char *nulls)
{
	LatencyPlan *lp = (LatencyPlan *) arg;
	int			row = (i < LATENCY_WARMUP ? i : i - LATENCY_WARMUP) % lp->n_rows;

	if (lp->rows == NULL)
	{
		memcpy(values, lp->synthetic, sizeof(Datum) * lp->n_inputs);
		return;
	}
	heap_deform_tuple(lp->rows->rows[row], lp->rows->tupdesc, lp->values, lp->isnull);
	for (int k = 0; k < lp->n_inputs; k++)
	{
		values[k] = lp->values[k];
		nulls[k] = lp->isnull[k] ? 'n' : ' ';
	}
}

/* The single-row predict statement of a model over parameters $1..$n. */
static char *
predict_sql(const LatencyPlan *lp)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s.predict_columns(" INT64_FORMAT "::pg_catalog.int8, "
					 "'(0,1)'::pg_catalog.tid, NULL::pg_catalog.text, ARRAY[",
					 quote_identifier(get_namespace_name(galaxy_internal_namespace_oid())), lp->model_id);
	for (int i = 0; i < lp->n_inputs; i++)
		appendStringInfo(&sql, "%s%s", i > 0 ? ", " : "", quote_literal_cstr(lp->names[i]));
	appendStringInfoString(&sql, "]::pg_catalog.text[]");
	for (int i = 0; i < lp->n_inputs; i++)
		appendStringInfo(&sql, ", $%d", i + 1);
	appendStringInfoChar(&sql, ')');
	return sql.data;
}

/* Time the statement over the plan's rows: the percentiles of the timed executions. */
static void
time_rows(LatencyPlan *lp, ModelLatency *out)
{
	int			n = LATENCY_WARMUP + lp->n_rows;
	double	   *ms = palloc(sizeof(double) * n);
	double	   *timed = ms + LATENCY_WARMUP;

	query_time_executions(predict_sql(lp), lp->n_inputs, lp->types, n, fill_row, lp, ms);
	qsort(timed, lp->n_rows, sizeof(double), cmp_ms);
	out->p50_ms = percentile(timed, lp->n_rows, 0.50);
	out->p99_ms = percentile(timed, lp->n_rows, 0.99);
	out->rows = lp->n_rows;
	out->synthetic = lp->rows == NULL;
}

/* Build the plan from the model's catalog row and time it. */
static void
measure(int64 model_id, ModelLatency *out)
{
	QueryResult *r;
	bool		isnull;
	Datum		d;
	Oid			relid;
	char	   *target;
	Datum	   *elems;
	bool	   *enulls;
	int			n;
	char	  **typnames;
	LatencyPlan lp = {0};

	r = catalog_query("SELECT model, to_regclass(relation)::oid, target, features, feature_types"
					  " FROM galaxy.models WHERE id = $1",
					  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(model_id)},
					  NULL, false, 1, SPI_OK_SELECT, "read galaxy.models");
	if (r->nrows != 1 || (query_datum(r, 0, 1, &isnull), isnull))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy model %lld has no trained value to time", (long long) model_id)));
	d = query_datum(r, 0, 2, &isnull);
	relid = isnull ? InvalidOid : DatumGetObjectId(d);
	target = query_text(r, 0, 3);

	lp.model_id = model_id;
	deconstruct_array(DatumGetArrayTypeP(query_datum(r, 0, 4, &isnull)), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &enulls, &n);
	lp.n_inputs = n;
	lp.names = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		lp.names[i] = TextDatumGetCString(elems[i]);
	deconstruct_array(DatumGetArrayTypeP(query_datum(r, 0, 5, &isnull)), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &enulls, &n);
	typnames = palloc0(sizeof(char *) * Max(lp.n_inputs, 1));
	for (int i = 0; i < n && i < lp.n_inputs; i++)
		typnames[i] = enulls[i] ? NULL : TextDatumGetCString(elems[i]);
	lp.types = palloc(sizeof(Oid) * Max(lp.n_inputs, 1));
	lp.values = palloc(sizeof(Datum) * Max(lp.n_inputs, 1));
	lp.isnull = palloc(sizeof(bool) * Max(lp.n_inputs, 1));

	lp.rows = relation_rows(&lp, relid, target, typnames);
	if (lp.rows != NULL)
		lp.n_rows = (int) lp.rows->nrows;
	else
	{
		GalaxyModel *m = model_from_datum(query_datum(r, 0, 1, &isnull));

		if (preprocess_n_inputs(m->prep) != lp.n_inputs)
			elog(ERROR, "galaxy model %lld has %d inputs in its value and %d in its row",
				 (long long) model_id, preprocess_n_inputs(m->prep), lp.n_inputs);
		for (int i = 0; i < lp.n_inputs; i++)
			lp.names[i] = pstrdup(preprocess_input(m->prep, i)->name);
		synthetic_row(&lp, m->prep);
		lp.n_rows = MODEL_LATENCY_SAMPLE_ROWS;
	}
	time_rows(&lp, out);
}

/* Measure in a subtransaction; false (after a NOTICE) when it fails. */
bool
model_latency_measure(int64 model_id, ModelLatency *out)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	MemoryContext cxt = AllocSetContextCreate(caller, "galaxy latency", ALLOCSET_DEFAULT_SIZES);
	bool		was_cached = model_cache_contains(model_id);
	volatile bool ok = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		measure(model_id, out);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		ereport(NOTICE,
				(errmsg("galaxy: could not measure the predict latency of model %lld: %s",
						(long long) model_id, edata->message),
				 errdetail("A gate on predict_p50_ms or predict_p99_ms fails for a model without a measurement; galaxy.check_gates(model) measures again.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	/* a model loaded only to be timed does not stay in this backend's cache */
	if (!was_cached)
		model_cache_forget(model_id);
	MemoryContextDelete(cxt);
	return ok;
}
