/*
 * predict.c — galaxy.predict / predict_proba / predict_label and their
 * _values and _columns forms: resolve the model serving a call (by project,
 * routed, or by id) through the model cache (model/model_cache.h), or parse
 * the galaxy.model value it is given (galaxy.serving_model() ships one to
 * nodes without the registry, such as Citus workers), map the
 * call's input (array, values, whole row, columns or jsonb) to the model's
 * raw inputs, and answer.
 *
 * Per call site, PredictCall in fn_extra keeps the routes pinned for the
 * statement, the model and the input mapping, so a row costs no catalog
 * access and no allocation for array input.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "galaxy.h"
#include "api/predict.h"
#include "model/model_cache.h"
#include "monitor/inference_log.h"
#include "monitor/inference_stats.h"
#include "registry/access.h"
#include "registry/deploy.h"
#include "util/catalog.h"
#include "util/jsonb_build.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_predict);
PG_FUNCTION_INFO_V1(galaxy_predict_proba);
PG_FUNCTION_INFO_V1(galaxy_predict_label);
PG_FUNCTION_INFO_V1(galaxy_predict_text);
PG_FUNCTION_INFO_V1(galaxy_predict_proba_text);
PG_FUNCTION_INFO_V1(galaxy_predict_label_text);
PG_FUNCTION_INFO_V1(galaxy_route_fallbacks);
PG_FUNCTION_INFO_V1(galaxy_serving_model);

/* Per-call-site cache kept in fn_extra. */
typedef struct PredictCall
{
	uint64		generation;
	TimestampTz checked_at;		/* statement whose access was checked */
	int64		checked_project;
	char		project[NAMEDATALEN];
	bool		pinned;			/* routes holds this call site's pinned routes */
	TimestampTz pin_stmt;		/* statement that pinned them */
	uint64		pin_local;		/* this backend's deploy count then */
	SnapshotIdentity pin_snap;	/* and its active snapshot */
	ProjectRoutes routes;		/* a copy: never changes under the call site */
	int64		model_id;
	CachedModel *model;
	/* by value: the bytes of the value pc->model was parsed from (in its context) */
	char	   *value_bytes;
	Size		value_len;
	/* by project or by model id, and the kind of the features argument */
	int			target;			/* 0 unknown, else a PredictTarget */
	int			input_kind;		/* 0 unknown, else INPUT_IS_* */
	/* whole-row and columns input mapping */
	Oid			row_type;
	int32		row_typmod;
	CachedModel *row_model;
	uint64		row_generation;
	int			n_inputs;
	Datum	   *in_values;		/* per model input */
	bool	   *in_nulls;
	TupleDesc	row_desc;		/* copy of the row's descriptor */
	int		   *attnum;			/* model input i ← row attribute / column attnum[i] (0-based) */
	Oid		   *atttype;
	PrepDatumConv *conv;		/* how the inputs' Datums convert */
	Oid		   *value_types;	/* values form: the type of each value */
	Datum	   *values;
	bool	   *nulls;
} PredictCall;

#define INPUT_IS_ARRAY 1
#define INPUT_IS_ROW 2
#define INPUT_IS_COLUMNS 3		/* predict_columns(target, row_id, key, names, columns...) */
#define INPUT_IS_VALUES 4		/* predict_values(target, key, values...) */
#define INPUT_IS_JSON 5			/* jsonb: {"column": value, ...} or [x1, ...] */
#define INPUT_IS_TEXT 6			/* text: the document of a model whose one input is text, else JSON */

/* fn_extra state of this call site. */
static PredictCall *
call_state(FunctionCallInfo fcinfo)
{
	PredictCall *pc = (PredictCall *) fcinfo->flinfo->fn_extra;

	if (pc == NULL)
	{
		pc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(PredictCall));
		fcinfo->flinfo->fn_extra = pc;
	}
	return pc;
}

/*
 * The caller must hold the predict privilege on the project: checked once
 * per statement and call site (a revoked grant applies from the next statement).
 */
static void
check_predict_access(PredictCall *pc, int64 project_id, int64 model_id, TimestampTz stmt_start)
{
	if (pc->checked_at == stmt_start && pc->checked_project == project_id)
		return;
	if (model_id != 0)
		registry_check_model_access(project_id, model_id, "predict");
	else
		registry_check_project_access(project_id, "predict");
	pc->checked_at = stmt_start;
	pc->checked_project = project_id;
}


/*
 * The model of a galaxy.model argument, parsed once per call site and value
 * (a new value is compared byte for byte with the last one).  It needs no
 * catalog and no privilege beyond holding the value: on a Citus worker the
 * coordinator resolved and checked it (galaxy.serving_model()).
 */
static CachedModel *
value_model(FunctionCallInfo fcinfo, PredictCall *pc)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
	Size		len = VARSIZE_ANY_EXHDR(v);

	if (pc->model && pc->value_len == len &&
		memcmp(pc->value_bytes, VARDATA_ANY(v), len) == 0)
		return pc->model;

	/* another model: drop what the input mapping derived from the last one */
	if (pc->conv)
	{
		preprocess_datum_conv_free(pc->conv);
		pc->conv = NULL;
	}
	pc->row_model = NULL;
	if (pc->model)
	{
		MemoryContextDelete(pc->model->cxt);
		pc->model = NULL;
		pc->value_bytes = NULL;
		pc->value_len = 0;
	}
	pc->model = model_cache_parse_value(PointerGetDatum(v), fcinfo->flinfo->fn_mcxt);
	pc->value_bytes = MemoryContextAlloc(pc->model->cxt, Max(len, 1));
	memcpy(pc->value_bytes, VARDATA_ANY(v), len);
	pc->value_len = len;
	return pc->model;
}

/*
 * Re-throw the current error; a missing project or model in a backend that
 * Citus opened to run a task (its connections name themselves
 * "citus_internal gpid=...") gets a hint: predict by project or id was pushed
 * down to a worker, which has no registry.
 */
static void
rethrow_with_citus_hint(MemoryContext cxt)
{
	ErrorData  *ed;
	const char *app = GetConfigOption("application_name", true, false);

	MemoryContextSwitchTo(cxt);
	ed = CopyErrorData();
	if (ed->sqlerrcode != ERRCODE_UNDEFINED_OBJECT || app == NULL ||
		strncmp(app, "citus_internal", strlen("citus_internal")) != 0)
		PG_RE_THROW();
	FlushErrorState();
	ed->detail = pstrdup("This is a Citus worker running a task of a distributed query; galaxy's registry is on the coordinator.");
	ed->hint = pstrdup("Ship the model with the query: WITH m AS MATERIALIZED "
					   "(SELECT galaxy.serving_model('project') AS model) "
					   "SELECT galaxy.predict(m.model, ...) FROM t, m.");
	ReThrowError(ed);
}

/* model_cache_get(), its "does not exist" error with the Citus hint. */
static CachedModel *
model_get_hinted(int64 id)
{
	MemoryContext cxt = CurrentMemoryContext;
	CachedModel *cm = NULL;

	PG_TRY();
	{
		cm = model_cache_get(id);
	}
	PG_CATCH();
	{
		rethrow_with_citus_hint(cxt);
	}
	PG_END_TRY();
	return cm;
}

/* model_cache_statement_routes() into *dst, its "does not exist" error with the Citus hint. */
static void
routes_hinted(ProjectRoutes *dst, const char *project, TimestampTz stmt_start)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		*dst = *model_cache_statement_routes(project, stmt_start);
	}
	PG_CATCH();
	{
		rethrow_with_citus_hint(cxt);
	}
	PG_END_TRY();
}

/* Resolve the model serving this call: by project (routed), by id or by value. */
static CachedModel *
resolve_model(FunctionCallInfo fcinfo, PredictTarget how, const text *key)
{
	PredictCall *pc = call_state(fcinfo);
	TimestampTz stmt_start;

	if (how == PREDICT_BY_VALUE)
		return value_model(fcinfo, pc);
	stmt_start = GetCurrentStatementStartTimestamp();
	/* take in deployments committed elsewhere, once per statement */
	model_cache_begin(stmt_start);
	if (how == PREDICT_BY_MODEL)
	{
		int64		id = PG_GETARG_INT64(0);

		if (!(pc->generation == model_cache_generation && pc->model && pc->model_id == id))
		{
			pc->model = model_get_hinted(id);
			pc->model_id = id;
			pc->generation = model_cache_generation;
		}
		check_predict_access(pc, pc->model->project_id, id, stmt_start);
		return pc->model;
	}
	else
	{
		text	   *proj = PG_GETARG_TEXT_PP(0);
		int			len = VARSIZE_ANY_EXHDR(proj);
		int			idx;

		if (len >= NAMEDATALEN)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("project \"%s\" does not exist", galaxy_short(text_to_cstring(proj)))));
		if (strncmp(pc->project, VARDATA_ANY(proj), len) != 0 || pc->project[len] != '\0')
		{
			memset(pc->project, 0, sizeof(pc->project));
			memcpy(pc->project, VARDATA_ANY(proj), len);
			pc->pinned = false;
		}

		/*
		 * One deployment snapshot per statement and per cursor: a call site
		 * keeps the routes it pinned for the rest of its statement, and for
		 * the FETCHes of its cursor (same active snapshot); otherwise it
		 * takes the statement's routes for the project.
		 */
		if (pc->pinned && pc->pin_local != registry_deployments_local_changes())
			pc->pinned = false;
		if (pc->pinned && pc->pin_stmt != stmt_start)
		{
			SnapshotIdentity now = model_cache_snapshot_identity();

			if (model_cache_same_snapshot(&pc->pin_snap, &now))
				pc->pin_stmt = stmt_start;
			else
				pc->pinned = false;
		}
		if (!pc->pinned)
		{
			routes_hinted(&pc->routes, pc->project, stmt_start);
			pc->pinned = true;
			pc->pin_stmt = stmt_start;
			pc->pin_local = registry_deployments_local_changes();
			pc->pin_snap = model_cache_snapshot_identity();
			pc->model = NULL;
		}
		if (pc->generation != model_cache_generation)
		{
			/* cached models may have been dropped: look them up again */
			pc->model = NULL;
			pc->generation = model_cache_generation;
		}
		check_predict_access(pc, pc->routes.project_id, 0, stmt_start);
		if (pc->routes.n == 1)
		{
			if (pc->model == NULL)
				pc->model = model_cache_get(pc->routes.model_id[0]);
			return pc->model;
		}
		idx = model_cache_choose_route(&pc->routes, key);
		return model_cache_route_model(&pc->routes, idx);
	}
}

/* A positional feature of a predict_positional_type() as a double. */
static inline double
positional_to_double(Datum d, Oid type)
{
	switch (type)
	{
		case FLOAT8OID:
			return DatumGetFloat8(d);
		case FLOAT4OID:
			return (double) DatumGetFloat4(d);
		case INT2OID:
			return (double) DatumGetInt16(d);
		case INT4OID:
			return (double) DatumGetInt32(d);
		case INT8OID:
			return (double) DatumGetInt64(d);
		default:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8, d));
	}
}

/* Convert an int/float4/numeric array to float8[] (NULLs kept). */
static ArrayType *
to_float8_array(ArrayType *arr)
{
	Oid			et = ARR_ELEMTYPE(arr);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			dims[1];
	int			lbs[1] = {1};

	if (!predict_positional_type(et))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("features must be a numeric array, got %s[]", format_type_be(et))));
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a one-dimensional array")));
	get_typlenbyvalalign(et, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, et, typlen, typbyval, typalign, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			elems[i] = Float8GetDatum(positional_to_double(elems[i], et));
	dims[0] = n;
	return construct_md_array(elems, nulls, n > 0 ? 1 : 0, dims, lbs, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/* A positional feature list must fit the model: numeric inputs only, n of them. */
static void
check_positional(CachedModel *cm, int n)
{
	int			n_raw = preprocess_n_raw(cm->m->prep);

	if (cm->has_text)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("this model has text inputs and cannot take a float8[]"),
				 errhint("Pass the whole row (galaxy.predict('project', t) FROM t), or the text itself when it is the model's only input.")));
	if (cm->has_categorical)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("this model has categorical inputs and cannot take a float8[]"),
				 errhint("Pass the whole row instead: galaxy.predict('project', t) FROM t.")));
	if (n != n_raw)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the model expects %d features, got %d", n_raw, n)));
}

/* Positional feature i (0-based) with value v: ERROR unless finite. */
static inline void
check_feature(int i, double v)
{
	if (unlikely(!isfinite(v)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature %d is %s", i + 1, isnan(v) ? "NaN" : "infinite"),
				 errhint("Features must be finite numbers; use NULL for a missing value.")));
}

/* Fill the model's raw row from a float8[] (numeric inputs only). */
static void
raw_from_array(CachedModel *cm, ArrayType *arr)
{
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a one-dimensional array")));
	check_positional(cm, ARR_NDIM(arr) == 0 ? 0 : ARR_DIMS(arr)[0]);
	if (ARR_ELEMTYPE(arr) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("features must be float8[]")));
	if (!ARR_HASNULL(arr))
	{
		const double *src = (const double *) ARR_DATA_PTR(arr);
		int			n = ARR_DIMS(arr)[0];

		for (int i = 0; i < n; i++)
		{
			check_feature(i, src[i]);
			cm->raw[i] = src[i];
		}
	}
	else
	{
		Datum	   *elems;
		bool	   *nulls;
		int			cnt;

		deconstruct_array(arr, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &cnt);
		for (int i = 0; i < cnt; i++)
		{
			if (!nulls[i])
				check_feature(i, DatumGetFloat8(elems[i]));
			cm->raw[i] = nulls[i] ? NAN : DatumGetFloat8(elems[i]);	/* NaN = missing: imputed */
		}
	}
}

/*
 * Fill the model's raw row from the values form (target, key, values...):
 * what predict(target, ARRAY[x1, ...]) is rewritten to (predict_support.c),
 * with the array form's meaning and errors.
 */
static void
raw_from_values(FunctionCallInfo fcinfo, CachedModel *cm)
{
	PredictCall *pc = call_state(fcinfo);
	int			n = PG_NARGS() - PREDICT_VALUES_FIXED_ARGS;

	check_positional(cm, n);
	if (pc->value_types == NULL)
	{
		Oid		   *types = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Oid) * Max(n, 1));

		for (int i = 0; i < n; i++)
		{
			types[i] = get_fn_expr_argtype(fcinfo->flinfo, PREDICT_VALUES_FIXED_ARGS + i);
			if (!predict_positional_type(types[i]))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("feature %d must be a number, got %s", i + 1,
								OidIsValid(types[i]) ? format_type_be(types[i]) : "an unknown type")));
		}
		pc->value_types = types;
	}
	for (int i = 0; i < n; i++)
	{
		int			a = PREDICT_VALUES_FIXED_ARGS + i;
		double		v;

		if (PG_ARGISNULL(a))
		{
			cm->raw[i] = NAN;	/* missing: imputed */
			continue;
		}
		v = positional_to_double(PG_GETARG_DATUM(a), pc->value_types[i]);
		check_feature(i, v);
		cm->raw[i] = v;
	}
}

/*
 * Map the model's inputs to the call's named columns (names[j] of type
 * types[j]; a NULL name is a dropped column): pc->attnum[i] is the column of
 * model input i.  Done once per call site (and model); ERROR naming the
 * inputs no column provides.
 */
static void
map_inputs(FunctionCallInfo fcinfo, PredictCall *pc, CachedModel *cm, int ncols,
		   char *const *names, const Oid *types)
{
	int			n_in = preprocess_n_inputs(cm->m->prep);
	MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	StringInfoData missing;

	if (pc->attnum)
	{
		pfree(pc->attnum);
		pfree(pc->atttype);
		pfree(pc->in_values);
		pfree(pc->in_nulls);
		pc->attnum = NULL;
	}
	if (pc->conv)
	{
		preprocess_datum_conv_free(pc->conv);
		pc->conv = NULL;
	}
	pc->in_values = palloc(sizeof(Datum) * n_in);
	pc->in_nulls = palloc(sizeof(bool) * n_in);
	pc->atttype = palloc(sizeof(Oid) * n_in);
	pc->n_inputs = n_in;
	MemoryContextSwitchTo(old);

	initStringInfo(&missing);
	pc->attnum = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(int) * n_in);
	for (int i = 0; i < n_in; i++)
	{
		const char *name = preprocess_input(cm->m->prep, i)->name;

		pc->attnum[i] = -1;
		for (int j = 0; j < ncols; j++)
			if (names[j] && strcmp(names[j], name) == 0)
			{
				pc->attnum[i] = j;
				pc->atttype[i] = types[j];
				break;
			}
		if (pc->attnum[i] < 0)
			appendStringInfo(&missing, "%s%s", missing.len ? ", " : "", name);
	}
	if (missing.len > 0)
	{
		pfree(pc->attnum);
		pc->attnum = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("the row lacks input columns of the model: %s", missing.data)));
	}
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	pc->conv = preprocess_datum_conv(cm->m->prep, pc->atttype);
	MemoryContextSwitchTo(old);
	pc->row_model = cm;
	pc->row_generation = model_cache_generation;
}

/*
 * Fill the model's raw row from a composite (columns matched by name);
 * true when its features are filled too (preprocess_float8_apply()).
 */
static bool
raw_from_row(FunctionCallInfo fcinfo, CachedModel *cm, HeapTupleHeader rec)
{
	PredictCall *pc = call_state(fcinfo);
	Oid			tupType = HeapTupleHeaderGetTypeId(rec);
	int32		tupTypmod = HeapTupleHeaderGetTypMod(rec);
	HeapTupleData tuple;

	/*
	 * Map the model's inputs to the row's attributes once per call site (and
	 * row type, model), keeping a copy of the row descriptor so rows need no
	 * type-cache lookup.
	 */
	if (pc->attnum == NULL || pc->row_type != tupType || pc->row_typmod != tupTypmod ||
		pc->row_model != cm || pc->row_generation != model_cache_generation)
	{
		TupleDesc	td = lookup_rowtype_tupdesc(tupType, tupTypmod);
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		char	  **names;
		Oid		   *types;

		if (pc->row_desc)
		{
			pfree(pc->values);
			pfree(pc->nulls);
			FreeTupleDesc(pc->row_desc);
		}
		pc->row_desc = CreateTupleDescCopy(td);
		pc->values = palloc(sizeof(Datum) * Max(pc->row_desc->natts, 1));
		pc->nulls = palloc(sizeof(bool) * Max(pc->row_desc->natts, 1));
		MemoryContextSwitchTo(old);
		ReleaseTupleDesc(td);

		names = palloc(sizeof(char *) * Max(pc->row_desc->natts, 1));
		types = palloc(sizeof(Oid) * Max(pc->row_desc->natts, 1));
		for (int a = 0; a < pc->row_desc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(pc->row_desc, a);

			names[a] = att->attisdropped ? NULL : NameStr(att->attname);
			types[a] = att->atttypid;
		}
		map_inputs(fcinfo, pc, cm, pc->row_desc->natts, names, types);
		pc->row_type = tupType;
		pc->row_typmod = tupTypmod;
	}

	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;
	heap_deform_tuple(&tuple, pc->row_desc, pc->values, pc->nulls);
	if (preprocess_float8_apply(cm->m->prep, pc->conv, pc->values, pc->nulls, pc->attnum,
								cm->raw, cm->feat))
		return true;
	for (int i = 0; i < pc->n_inputs; i++)
	{
		pc->in_values[i] = pc->values[pc->attnum[i]];
		pc->in_nulls[i] = pc->nulls[pc->attnum[i]];
	}
	preprocess_datums_to_raw_conv(cm->m->prep, pc->conv, pc->in_values, pc->in_nulls, cm->raw);
	return false;
}

/*
 * Fill the model's raw row from the columns form (target, row_id, key,
 * names, columns...): what whole-row predict on a table is rewritten to
 * (predict_support.c).  The names array must be the same for every row of
 * the call site, so it must be a constant or a parameter.  True when the
 * features are filled too (float8 columns: preprocess_float8_apply_args()).
 */
static bool
raw_from_columns(FunctionCallInfo fcinfo, CachedModel *cm)
{
	PredictCall *pc = call_state(fcinfo);
	int			ncols = PG_NARGS() - PREDICT_COLUMNS_FIXED_ARGS;

	if (pc->attnum == NULL || pc->row_model != cm || pc->row_generation != model_cache_generation)
	{
		ArrayType  *arr;
		Datum	   *elems;
		bool	   *enulls;
		int			nelems;
		char	  **names;
		Oid		   *types;

		if (PG_ARGISNULL(3) || !get_fn_expr_arg_stable(fcinfo->flinfo, 3))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the column names of galaxy.predict_columns must be a non-NULL constant")));
		arr = PG_GETARG_ARRAYTYPE_P(3);
		if (ARR_NDIM(arr) > 1 || ARR_ELEMTYPE(arr) != TEXTOID)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("the column names must be a one-dimensional text array")));
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &nelems);
		if (nelems != ncols)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%d column names given for %d columns", nelems, ncols)));
		names = palloc(sizeof(char *) * Max(ncols, 1));
		types = palloc(sizeof(Oid) * Max(ncols, 1));
		for (int j = 0; j < ncols; j++)
		{
			names[j] = enulls[j] ? NULL : TextDatumGetCString(elems[j]);
			types[j] = get_fn_expr_argtype(fcinfo->flinfo, PREDICT_COLUMNS_FIXED_ARGS + j);
			if (!OidIsValid(types[j]))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("could not determine the type of column \"%s\"", names[j] ? names[j] : "?")));
		}
		map_inputs(fcinfo, pc, cm, ncols, names, types);
	}
	/* float8 columns for numeric inputs: straight from the arguments to the features */
	if (preprocess_float8_apply_args(cm->m->prep, pc->conv, &fcinfo->args[PREDICT_COLUMNS_FIXED_ARGS],
									 pc->attnum, cm->raw, cm->feat))
		return true;
	{
		/* locals: stores into the arrays must not make the compiler reload pc */
		const NullableDatum *cols = &fcinfo->args[PREDICT_COLUMNS_FIXED_ARGS];
		const int  *attnum = pc->attnum;
		Datum	   *vals = pc->in_values;
		bool	   *nulls = pc->in_nulls;
		int			n_in = pc->n_inputs;

		for (int i = 0; i < n_in; i++)
		{
			nulls[i] = cols[attnum[i]].isnull;
			vals[i] = cols[attnum[i]].value;
		}
	}
	preprocess_datums_to_raw_conv(cm->m->prep, pc->conv, pc->in_values, pc->in_nulls, cm->raw);
	return false;
}

/* A JSON number as a double (±Infinity when out of range, refused later as non-finite). */
static inline double
json_number(const JsonbValue *v)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(v->val.numeric)));
}

/*
 * The type in which a model input is read from a JSON object: numbers for
 * numeric and boolean inputs, float8[] for array inputs, text for the rest.
 */
static Oid
json_input_type(const InputColumn *in)
{
	switch (in->kind)
	{
		case INPUT_NUMERIC:
		case INPUT_BOOLEAN:
			return FLOAT8OID;
		case INPUT_ARRAY:
			return FLOAT8ARRAYOID;
		default:
			return TEXTOID;
	}
}

/* ERROR: a JSON feature of the wrong type. */
static void json_feature_mismatch(const char *name, const char *expected,
								  const JsonbValue *v) pg_attribute_noreturn();
static void
json_feature_mismatch(const char *name, const char *expected, const JsonbValue *v)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("feature \"%s\" must be %s, got a JSON %s", name, expected, jb_type_name(v))));
}

/* The Datum of type 'type' (json_input_type) for a non-null JSON feature value. */
static Datum
json_feature_datum(const InputColumn *in, Oid type, const JsonbValue *v)
{
	if (type == FLOAT8OID)
	{
		if (v->type == jbvNumeric)
			return Float8GetDatum(json_number(v));
		if (v->type == jbvBool)
			return Float8GetDatum(v->val.boolean ? 1.0 : 0.0);
		json_feature_mismatch(in->name, "a JSON number or boolean", v);
	}
	else if (type == TEXTOID)
	{
		if (v->type == jbvString)
			return PointerGetDatum(cstring_to_text_with_len(v->val.string.val, v->val.string.len));
		if (v->type == jbvNumeric)
			return DirectFunctionCall1(textin, DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		json_feature_mismatch(in->name, "a JSON string", v);
	}
	else if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data) &&
			 !JsonContainerIsScalar(v->val.binary.data))
	{
		/* an array input: a JSON array of numbers (null: a missing element) */
		JsonbContainer *c = v->val.binary.data;
		int			n = JsonContainerSize(c);
		Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
		bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));
		int			dims[1] = {n};
		int			lbs[1] = {1};

		for (int k = 0; k < n; k++)
		{
			JsonbValue *e = getIthJsonbValueFromContainer(c, k);

			nulls[k] = e->type == jbvNull;
			if (nulls[k])
				continue;
			if (e->type != jbvNumeric)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("element %d of feature \"%s\" must be a JSON number, got a JSON %s",
								k + 1, in->name, jb_type_name(e))));
			elems[k] = Float8GetDatum(json_number(e));
		}
		return PointerGetDatum(construct_md_array(elems, nulls, n > 0 ? 1 : 0, dims, lbs, FLOAT8OID,
												  8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	}
	else
		json_feature_mismatch(in->name, "a JSON array of numbers", v);
	pg_unreachable();
}

/*
 * Fill the model's raw row from jsonb features, the form clients that call
 * functions positionally (ORMs) can send: an object maps the model's input
 * columns by name, with the whole-row form's meaning (keys the model does not
 * use are ignored, a missing one is an ERROR, null is a missing value); an
 * array holds the numbers in order, with the float8[] form's meaning.
 */
static void
raw_from_json(FunctionCallInfo fcinfo, CachedModel *cm, Jsonb *jb)
{
	PredictCall *pc = call_state(fcinfo);
	const Preprocessor *prep = cm->m->prep;
	StringInfoData missing;

	if (JB_ROOT_IS_SCALAR(jb))
	{
		JsonbValue	v;

		(void) JsonbExtractScalar(&jb->root, &v);
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("features must be a JSON object or array, got a JSON %s", jb_type_name(&v)),
				 errhint("Pass {\"column\": value, ...} with the model's input columns, or [x1, x2, ...] for a model with numeric inputs.")));
	}
	if (JB_ROOT_IS_ARRAY(jb))
	{
		int			n = JB_ROOT_COUNT(jb);

		if (cm->has_categorical)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("this model has categorical inputs and cannot take a JSON array"),
					 errhint("Pass a JSON object instead: {\"column\": value, ...}.")));
		check_positional(cm, n);
		for (int i = 0; i < n; i++)
		{
			JsonbValue *v = getIthJsonbValueFromContainer(&jb->root, i);

			if (v->type == jbvNull)
			{
				cm->raw[i] = NAN;	/* missing: imputed */
				continue;
			}
			if (v->type != jbvNumeric)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("feature %d must be a JSON number, got a JSON %s", i + 1, jb_type_name(v))));
			cm->raw[i] = json_number(v);
			check_feature(i, cm->raw[i]);
		}
		return;
	}

	/* an object: map the model's inputs to their types once per call site and model */
	if (pc->attnum == NULL || pc->row_model != cm || pc->row_generation != model_cache_generation)
	{
		int			n_in = preprocess_n_inputs(prep);
		char	  **names = palloc(sizeof(char *) * Max(n_in, 1));
		Oid		   *types = palloc(sizeof(Oid) * Max(n_in, 1));

		for (int i = 0; i < n_in; i++)
		{
			names[i] = preprocess_input(prep, i)->name;
			types[i] = json_input_type(preprocess_input(prep, i));
		}
		map_inputs(fcinfo, pc, cm, n_in, names, types);
	}
	initStringInfo(&missing);
	for (int i = 0; i < pc->n_inputs; i++)
	{
		const InputColumn *in = preprocess_input(prep, i);
		JsonbValue	buf;
		JsonbValue *v = getKeyJsonValueFromContainer(&jb->root, in->name, strlen(in->name), &buf);

		if (v == NULL)
		{
			appendStringInfo(&missing, "%s%s", missing.len ? ", " : "", in->name);
			continue;
		}
		pc->in_nulls[i] = v->type == jbvNull;
		if (!pc->in_nulls[i])
			pc->in_values[i] = json_feature_datum(in, pc->atttype[i], v);
	}
	if (missing.len > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("the features lack input columns of the model: %s", missing.data),
				 errhint("Give every input column as a key; use null for a missing value.")));
	preprocess_datums_to_raw_conv(prep, pc->conv, pc->in_values, pc->in_nulls, cm->raw);
}

/*
 * Fill the model's raw row from a text argument: the document, for a model
 * whose one input is a text column (predict(target, document)); JSON
 * features otherwise (predict(target, '{"column": value}'), as ORMs send).
 */
static void
raw_from_text(FunctionCallInfo fcinfo, CachedModel *cm)
{
	PredictCall *pc = call_state(fcinfo);
	const Preprocessor *prep = cm->m->prep;
	Datum		doc = PG_GETARG_DATUM(1);
	bool		isnull = false;

	/* any other model reads a text argument as JSON features (the ORM form) */
	if (preprocess_n_inputs(prep) != 1 || preprocess_input(prep, 0)->kind != INPUT_TEXT)
	{
		char	   *json = TextDatumGetCString(doc);
		const char *p = json;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p != '{' && *p != '[')
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("a text argument needs a model whose only input is a text column"),
					 errdetail("Model " INT64_FORMAT " has %d input%s; the first, \"%s\", is %s. For any other model a text argument is JSON features.",
							   cm->id, preprocess_n_inputs(prep), preprocess_n_inputs(prep) == 1 ? "" : "s",
							   preprocess_input(prep, 0)->name,
							   preprocess_input(prep, 0)->kind == INPUT_TEXT ? "text" : "not text"),
					 errhint("Pass the whole row, galaxy.predict('project', t) FROM t, or the inputs as JSON: '{\"column\": value, ...}'.")));
		raw_from_json(fcinfo, cm, DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json))));
		return;
	}
	if (pc->conv == NULL || pc->row_model != cm || pc->row_generation != model_cache_generation)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		Oid			type = TEXTOID;

		if (pc->conv)
			preprocess_datum_conv_free(pc->conv);
		pc->conv = preprocess_datum_conv(prep, &type);
		MemoryContextSwitchTo(old);
		pc->row_model = cm;
		pc->row_generation = model_cache_generation;
	}
	preprocess_datums_to_raw_conv(prep, pc->conv, &doc, &isnull, cm->raw);
}

/*
 * The prepared row's features as the algorithm reads them: sparse (text)
 * features in cm->row for an algorithm with sparse input, else dense in
 * cm->feat (few text features are made dense for the others).
 */
static void
finish_features(PredictCall *pc, CachedModel *cm)
{
	const Preprocessor *prep = cm->m->prep;

	if (!cm->has_text)
	{
		preprocess_apply_raw(prep, cm->raw, cm->feat);
		return;
	}
	preprocess_apply_sparse(prep, cm->raw, pc->conv ? preprocess_datum_conv_terms(pc->conv) : NULL, &cm->row);
	if (!cm->m->algo->sparse_input)
	{
		memset(cm->feat, 0, sizeof(double) * cm->m->n_features);
		for (int k = 0; k < cm->row.nnz; k++)
			cm->feat[cm->row.idx[k]] = cm->row.val[k];
	}
}

/* Predict the prepared row: the value or class index into *out and/or the probabilities into proba. */
static void
predict_prepared(CachedModel *cm, double *out, double *proba)
{
	const AlgorithmDef *algo = cm->m->algo;

	if (cm->has_text && algo->sparse_input)
	{
		int64		indptr[2];
		SparseMatrix X = sparse_row_matrix(&cm->row, cm->m->n_features, indptr);

		if (out)
			algo->predict_sparse(cm->m->state, &X, out);
		if (proba)
			algo->predict_proba_sparse(cm->m->state, &X, proba);
		return;
	}
	if (out)
		algo->predict(cm->m->state, cm->feat, 1, out);
	if (proba)
		algo->predict_proba(cm->m->state, cm->feat, 1, proba);
}

/*
 * Prepare the model's features for the call's input (array, row, jsonb or text).  The
 * same C function serves predict by project (text) and by model id
 * (bigint): the first argument's type decides, once per call site.
 */
static CachedModel *
prepare_features(FunctionCallInfo fcinfo)
{
	text	   *key;
	int			key_arg;
	CachedModel *cm;
	PredictCall *pc;
	bool		features_done = false;

	if (PG_ARGISNULL(0))
		return NULL;
	pc = call_state(fcinfo);
	if (pc->target == 0)
	{
		Oid			target_type = get_fn_expr_argtype(fcinfo->flinfo, 0);

		if (target_type == INT8OID)
			pc->target = PREDICT_BY_MODEL;
		else if (target_type == TEXTOID)
			pc->target = PREDICT_BY_PROJECT;
		else if (target_type == galaxy_type_oid("model"))
			pc->target = PREDICT_BY_VALUE;
		else
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("galaxy.predict takes a project (text), a model id (bigint) or a galaxy.model, got %s",
							OidIsValid(target_type) ? format_type_be(target_type) : "an unknown type")));
	}
	if (pc->input_kind == 0)
	{
		Oid			argtype = get_fn_expr_argtype(fcinfo->flinfo, 1);

		if (fcinfo->flinfo->fn_addr == galaxy_predict_text ||
			fcinfo->flinfo->fn_addr == galaxy_predict_proba_text ||
			fcinfo->flinfo->fn_addr == galaxy_predict_label_text)
			pc->input_kind = INPUT_IS_TEXT;
		else if (argtype == TEXTOID && PG_NARGS() > PREDICT_VALUES_FIXED_ARGS)
			pc->input_kind = INPUT_IS_VALUES;
		else if (argtype == FLOAT8ARRAYOID || (OidIsValid(argtype) && type_is_array(argtype)))
			pc->input_kind = INPUT_IS_ARRAY;
		else if (OidIsValid(argtype) && type_is_rowtype(argtype))
			pc->input_kind = INPUT_IS_ROW;
		else if (argtype == TIDOID && PG_NARGS() > PREDICT_COLUMNS_FIXED_ARGS)
			pc->input_kind = INPUT_IS_COLUMNS;
		else if (argtype == JSONBOID)
			pc->input_kind = INPUT_IS_JSON;
		else
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("galaxy.predict takes a float8[], a row or jsonb, got %s",
							OidIsValid(argtype) ? format_type_be(argtype) : "an unknown type")));
	}
	/* a NULL array or row, or the NULL row_id of an outer join's missing row */
	if (pc->input_kind != INPUT_IS_VALUES && PG_ARGISNULL(1))
		return NULL;
	key_arg = pc->input_kind == INPUT_IS_VALUES ? 1 : 2;
	key = (PG_NARGS() > key_arg && !PG_ARGISNULL(key_arg)) ? PG_GETARG_TEXT_PP(key_arg) : NULL;
	cm = resolve_model(fcinfo, (PredictTarget) pc->target, key);
	/* a model value has no id: its predictions are not counted per model */
	if (pc->target != PREDICT_BY_VALUE)
		inference_stats_model(cm->id, cm->project_id);
	switch (pc->input_kind)
	{
		case INPUT_IS_ARRAY:
			{
				ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);

				if (ARR_ELEMTYPE(arr) != FLOAT8OID)
					arr = to_float8_array(arr);
				raw_from_array(cm, arr);
				break;
			}
		case INPUT_IS_VALUES:
			raw_from_values(fcinfo, cm);
			break;
		case INPUT_IS_COLUMNS:
			features_done = raw_from_columns(fcinfo, cm);
			break;
		case INPUT_IS_JSON:
			raw_from_json(fcinfo, cm, PG_GETARG_JSONB_P(1));
			break;
		case INPUT_IS_TEXT:
			raw_from_text(fcinfo, cm);
			break;
		default:
			features_done = raw_from_row(fcinfo, cm, PG_GETARG_HEAPTUPLEHEADER(1));
			break;
	}
	if (!features_done)
		finish_features(pc, cm);
	return cm;
}

/* ERROR for a row whose inputs overflow the model's arithmetic. */
static void
prediction_not_finite(CachedModel *cm)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 cm->id != 0 ?
			 errmsg("galaxy model " INT64_FORMAT " gives no finite prediction for this row", cm->id) :
			 errmsg("the galaxy model gives no finite prediction for this row"),
			 errdetail("An input value is too large in magnitude for the model's arithmetic."),
			 errhint("Check the row's values against the ranges the model was trained on.")));
}

/* The float8 answer for one prepared row. */
static double
predict_value(CachedModel *cm)
{
	double		out;

	predict_prepared(cm, &out, NULL);
	if (!isfinite(out))
		prediction_not_finite(cm);
	if (cm->m->task == TASK_CLASSIFICATION)
	{
		int			k = (int) out;

		if (k >= 0 && k < cm->m->n_classes && !isnan(cm->label_value[k]))
			return cm->label_value[k];
	}
	return out;
}

/* galaxy.predict(project text | model bigint, float8[] | row [, key]) → float8 */
Datum
galaxy_predict(PG_FUNCTION_ARGS)
{
	CachedModel *cm;
	double		v;

	inference_stats_begin();
	cm = prepare_features(fcinfo);
	if (cm == NULL)
	{
		inference_stats_end();
		PG_RETURN_NULL();
	}
	v = predict_value(cm);
	inference_stats_end();
	/* served traffic (by project) is logged; by model id (drift, gates, tests) is not */
	if (call_state(fcinfo)->target == PREDICT_BY_PROJECT)
		inference_log_record(cm->id, cm->project_id, cm->raw, preprocess_n_raw(cm->m->prep), v);
	PG_RETURN_FLOAT8(v);
}

/* Probabilities of one prepared row as float8[]. */
static Datum
proba_datum(CachedModel *cm)
{
	Datum	   *d;

	if (cm->m->task != TASK_CLASSIFICATION || cm->m->algo->predict_proba == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("predict_proba needs a classification model; this one is %s (%s)",
						galaxy_task_name(cm->m->task), cm->m->algo->name)));
	predict_prepared(cm, NULL, cm->proba);
	d = palloc(sizeof(Datum) * cm->m->n_classes);
	for (int k = 0; k < cm->m->n_classes; k++)
	{
		if (!isfinite(cm->proba[k]))
			prediction_not_finite(cm);
		d[k] = Float8GetDatum(cm->proba[k]);
	}
	return PointerGetDatum(construct_array(d, cm->m->n_classes, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* galaxy.predict_proba(...) → float8[] class probabilities */
Datum
galaxy_predict_proba(PG_FUNCTION_ARGS)
{
	CachedModel *cm;
	Datum		d;

	inference_stats_begin();
	cm = prepare_features(fcinfo);
	if (cm == NULL)
	{
		inference_stats_end();
		PG_RETURN_NULL();
	}
	d = proba_datum(cm);
	inference_stats_end();
	PG_RETURN_DATUM(d);
}

/* The label text of one prepared row. */
static text *
label_text(CachedModel *cm)
{
	double		out;

	predict_prepared(cm, &out, NULL);
	if (!isfinite(out))
		prediction_not_finite(cm);
	if (cm->m->task == TASK_CLASSIFICATION)
	{
		int			k = (int) out;

		if (k < 0 || k >= cm->m->n_classes)
			elog(ERROR, "class index %d out of range", k);
		return cstring_to_text(cm->m->labels[k]);
	}
	if (cm->m->task == TASK_CLUSTERING)
		return cstring_to_text(psprintf("%d", (int) out));
	return cstring_to_text(float8out_internal(out));
}

/* galaxy.predict_label(...) → text label */
Datum
galaxy_predict_label(PG_FUNCTION_ARGS)
{
	CachedModel *cm;
	text	   *t;

	inference_stats_begin();
	cm = prepare_features(fcinfo);
	if (cm == NULL)
	{
		inference_stats_end();
		PG_RETURN_NULL();
	}
	t = label_text(cm);
	inference_stats_end();
	PG_RETURN_TEXT_P(t);
}

/* galaxy.predict(project text | model bigint, document text [, key]) → float8 */
Datum
galaxy_predict_text(PG_FUNCTION_ARGS)
{
	return galaxy_predict(fcinfo);
}

/* galaxy.predict_proba(project text | model bigint, document text [, key]) → float8[] */
Datum
galaxy_predict_proba_text(PG_FUNCTION_ARGS)
{
	return galaxy_predict_proba(fcinfo);
}

/* galaxy.predict_label(project text | model bigint, document text [, key]) → text */
Datum
galaxy_predict_label_text(PG_FUNCTION_ARGS)
{
	return galaxy_predict_label(fcinfo);
}

/* Number of canary loads that fell back to the primary in this backend. */
Datum
galaxy_route_fallbacks(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(model_cache_route_fallbacks());
}

/*
 * galaxy.serving_model(project text, key text) → galaxy.model: the value of
 * the model that serves the project now (routed by key among canaries, as
 * predict routes), for the caller holding the predict privilege.  Evaluated
 * once on a Citus coordinator, it ships the model to the workers with the
 * query, where predict on a galaxy.model needs no registry.
 */
Datum
galaxy_serving_model(PG_FUNCTION_ARGS)
{
	TimestampTz stmt_start = GetCurrentStatementStartTimestamp();
	const text *key = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	char	   *project;
	ProjectRoutes routes;
	int64		model_id;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	model_cache_begin(stmt_start);
	routes = *model_cache_statement_routes(project, stmt_start);
	registry_check_project_access(routes.project_id, "predict");
	model_id = routes.model_id[routes.n == 1 ? 0 : model_cache_choose_route(&routes, key)];
	PG_RETURN_DATUM(model_cache_read_value(model_id, NULL));
}
