/*
 * options_api.c — the options form of galaxy.train() and galaxy.submit():
 * galaxy.train(project, options) for clients that can only call functions
 * positionally (ORMs such as SQLAlchemy and Django drop keyword arguments).
 *
 * The options are the named-argument form's arguments as one JSON object,
 * keyed by their parameter names.  They are read against that form's own
 * signature in pg_proc (names, types, defaults) and the form is then called
 * through fmgr with them, so both forms share one implementation, and a
 * parameter added to the named form is an option at once.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "optimizer/optimizer.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "galaxy.h"
#include "util/jsonb_build.h"

PG_FUNCTION_INFO_V1(galaxy_train_options);
PG_FUNCTION_INFO_V1(galaxy_submit_options);

/* Arguments a named form may have (train 15, submit 18). */
#define OPTIONS_MAX_ARGS 32

/* The named-argument form an options form stands for. */
typedef struct NamedForm
{
	const char *name;			/* e.g. "train" */
	Oid			oid;
	int			nargs;
	Oid		   *types;
	char	  **names;
	Datum		defaults[OPTIONS_MAX_ARGS];
	bool		default_null[OPTIONS_MAX_ARGS];
	bool		has_default[OPTIONS_MAX_ARGS];
} NamedForm;

/*
 * Find galaxy.<name>'s named-argument form: the overload with the most
 * arguments in the schema of the calling function, with its argument names,
 * types and constant defaults.
 */
static void
named_form_lookup(FunctionCallInfo fcinfo, const char *name, NamedForm *nf)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	CatCList   *list;
	HeapTuple	best = NULL;
	int			best_nargs = -1;
	char	   *argmodes;
	Datum		d;
	bool		isnull;

	memset(nf, 0, sizeof(*nf));
	nf->name = name;
	list = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum(name));
	for (int i = 0; i < list->n_members; i++)
	{
		HeapTuple	tup = &list->members[i]->tuple;
		Form_pg_proc p = (Form_pg_proc) GETSTRUCT(tup);

		if (p->pronamespace == nsp && p->pronargs > best_nargs)
		{
			best = tup;
			best_nargs = p->pronargs;
		}
	}
	if (best == NULL || best_nargs < 2 || best_nargs > OPTIONS_MAX_ARGS)
		elog(ERROR, "galaxy.%s has no named-argument form", name);
	nf->oid = ((Form_pg_proc) GETSTRUCT(best))->oid;
	nf->nargs = get_func_arg_info(best, &nf->types, &nf->names, &argmodes);
	if (nf->names == NULL)
		elog(ERROR, "galaxy.%s's named-argument form has no argument names", name);

	/* the trailing arguments' defaults, folded to constants */
	d = SysCacheGetAttr(PROCOID, best, Anum_pg_proc_proargdefaults, &isnull);
	if (!isnull)
	{
		List	   *defaults = castNode(List, stringToNode(TextDatumGetCString(d)));
		int			first = nf->nargs - list_length(defaults);
		ListCell   *lc;

		foreach(lc, defaults)
		{
			int			a = first + foreach_current_index(lc);
			Node	   *e = eval_const_expressions(NULL, (Node *) lfirst(lc));
			Const	   *c;

			if (!IsA(e, Const))
				elog(ERROR, "the default of argument \"%s\" of galaxy.%s is not a constant",
					 nf->names[a], name);
			c = (Const *) e;
			nf->has_default[a] = true;
			nf->default_null[a] = c->constisnull;
			nf->defaults[a] = c->constvalue;
		}
	}
	ReleaseSysCacheList(list);
}

/* The names of the options a form takes, for hints. */
static char *
option_names(const NamedForm *nf)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int a = 1; a < nf->nargs; a++)
		appendStringInfo(&s, "%s%s", a > 1 ? ", " : "", nf->names[a]);
	return s.data;
}

/* What a JSON value for an argument of this type must be, for messages. */
static const char *
option_expectation(Oid type)
{
	switch (type)
	{
		case TEXTOID:
			return "a JSON string";
		case REGCLASSOID:
			return "a JSON string naming a table or view";
		case FLOAT8OID:
			return "a JSON number";
		case INT4OID:
		case INT8OID:
			return "a JSON integer";
		case TEXTARRAYOID:
			return "a JSON array of strings";
		case INTERVALOID:
			return "a JSON string such as \"10 minutes\" or a number of seconds";
		case BOOLOID:
			return "a JSON boolean";
		default:
			return "JSON";
	}
}

/* ERROR: an option's JSON value does not fit its argument. */
static void option_mismatch(const NamedForm *nf, const char *key, Oid type,
							const JsonbValue *v) pg_attribute_noreturn();
static void
option_mismatch(const NamedForm *nf, const char *key, Oid type, const JsonbValue *v)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("option \"%s\" of galaxy.%s must be %s, got a JSON %s",
					key, nf->name, option_expectation(type), jb_type_name(v))));
}

/* A JSON string value as a C string. */
static char *
json_cstring(const JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* A non-null option's value as a Datum of its argument's type. */
static Datum
option_datum(const NamedForm *nf, const char *key, Oid type, JsonbValue *v)
{
	double		num;

	switch (type)
	{
		case TEXTOID:
			if (v->type == jbvString)
				return PointerGetDatum(cstring_to_text_with_len(v->val.string.val, v->val.string.len));
			break;
		case REGCLASSOID:
			/* resolved as a relation argument is: the caller's search_path */
			if (v->type == jbvString)
				return DirectFunctionCall1(regclassin, CStringGetDatum(json_cstring(v)));
			break;
		case JSONBOID:
			return JsonbPGetDatum(JsonbValueToJsonb(v));
		case FLOAT8OID:
			if (v->type == jbvNumeric)
				return DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(v->val.numeric));
			break;
		case INT4OID:
			if (v->type == jbvNumeric)
			{
				num = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(v->val.numeric)));
				if (num != rint(num) || num < PG_INT32_MIN || num > PG_INT32_MAX)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("option \"%s\" of galaxy.%s must be an integer, got %g", key, nf->name, num)));
				return Int32GetDatum((int32) num);
			}
			break;
		case INT8OID:
			if (v->type == jbvNumeric)
			{
				/* through numeric: a bigint beyond 2^53 stays exact */
				num = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(v->val.numeric)));
				if (num != rint(num))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("option \"%s\" of galaxy.%s must be an integer, got %g", key, nf->name, num)));
				return DirectFunctionCall1(numeric_int8, NumericGetDatum(v->val.numeric));
			}
			break;
		case TEXTARRAYOID:
			if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data) &&
				!JsonContainerIsScalar(v->val.binary.data))
			{
				JsonbContainer *c = v->val.binary.data;
				int			n = JsonContainerSize(c);
				Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
				bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));
				int			dims[1] = {n};
				int			lbs[1] = {1};

				for (int k = 0; k < n; k++)
				{
					JsonbValue *e = getIthJsonbValueFromContainer(c, k);

					/* a null element is the named form's to refuse, as in a text[] */
					nulls[k] = e->type == jbvNull;
					if (nulls[k])
						continue;
					if (e->type != jbvString)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("element %d of option \"%s\" of galaxy.%s must be a JSON string, got a JSON %s",
										k + 1, key, nf->name, jb_type_name(e))));
					elems[k] = PointerGetDatum(cstring_to_text_with_len(e->val.string.val, e->val.string.len));
				}
				return PointerGetDatum(construct_md_array(elems, nulls, n > 0 ? 1 : 0, dims, lbs,
														  TEXTOID, -1, false, TYPALIGN_INT));
			}
			break;
		case INTERVALOID:
			if (v->type == jbvString)
				return DirectFunctionCall3(interval_in, CStringGetDatum(json_cstring(v)),
										   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
			if (v->type == jbvNumeric)
			{
				Interval   *iv = palloc0(sizeof(Interval));

				num = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(v->val.numeric)));
				if (!isfinite(num) || fabs(num) > (double) PG_INT64_MAX / USECS_PER_SEC)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("option \"%s\" of galaxy.%s is out of range: %g seconds", key, nf->name, num)));
				iv->time = (int64) rint(num * USECS_PER_SEC);
				return IntervalPGetDatum(iv);
			}
			break;
		case BOOLOID:
			if (v->type == jbvBool)
				return BoolGetDatum(v->val.boolean);
			break;
		default:
			elog(ERROR, "argument \"%s\" of galaxy.%s has type %s, which options cannot give",
				 key, nf->name, format_type_be(type));
	}
	option_mismatch(nf, key, type, v);
	pg_unreachable();
}

/* Error context while an options text is parsed as JSON. */
static void
options_parse_context(void *arg)
{
	errcontext("options of galaxy.%s, read as JSON", (const char *) arg);
}

/* Error context while an option's value is read. */
static void
option_context(void *arg)
{
	const char *const *what = (const char *const *) arg;

	if (what[1])
		errcontext("option \"%s\" of galaxy.%s", what[1], what[0]);
}

/*
 * The options argument as jsonb.  The text form parses JSON; a text that
 * starts with neither '{' nor '[' is the relation, which is what such a call
 * meant before this form existed (galaxy.train('p', 'iris') means relation =>
 * 'iris').
 */
static Jsonb *
options_arg(FunctionCallInfo fcinfo, const NamedForm *nf)
{
	Oid		   *argtypes;
	int			nargs;
	char	   *s;
	const char *p;
	ErrorContextCallback cb;
	Jsonb	   *jb;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("options of galaxy.%s must not be NULL", nf->name),
				 errhint("Pass a JSON object such as '{\"relation\": \"iris\", \"target\": \"species\"}'.")));
	(void) get_func_signature(fcinfo->flinfo->fn_oid, &argtypes, &nargs);
	if (nargs < 2)
		elog(ERROR, "galaxy.%s: the options form takes two arguments", nf->name);
	if (argtypes[1] == JSONBOID)
		return PG_GETARG_JSONB_P(1);

	s = text_to_cstring(PG_GETARG_TEXT_PP(1));
	for (p = s; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
		;
	if (*p != '{' && *p != '[')
	{
		JsonbParseState *state = NULL;
		JsonbValue	k,
					v;

		k.type = jbvString;
		k.val.string.val = nf->names[1];
		k.val.string.len = strlen(nf->names[1]);
		v.type = jbvString;
		v.val.string.val = s;
		v.val.string.len = strlen(s);
		(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		(void) pushJsonbValue(&state, WJB_KEY, &k);
		(void) pushJsonbValue(&state, WJB_VALUE, &v);
		return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
	}
	cb.callback = options_parse_context;
	cb.arg = (void *) nf->name;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s)));
	error_context_stack = cb.previous;
	return jb;
}

/*
 * Call the named-argument form with the first argument as it is and the rest
 * from the options: a key is a parameter name, a JSON null is SQL NULL (as
 * passing NULL by name), a key left out takes the parameter's default.
 */
static Datum
call_with_options(FunctionCallInfo fcinfo, const char *name, bool *result_isnull)
{
	NamedForm	nf;
	Jsonb	   *options;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	FmgrInfo	flinfo;
	LOCAL_FCINFO(call, OPTIONS_MAX_ARGS);
	bool		given[OPTIONS_MAX_ARGS] = {0};
	AclResult	aclresult;
	const char *what[2];
	ErrorContextCallback cb;
	Datum		result;

	named_form_lookup(fcinfo, name, &nf);

	/* the options form must not open a door the named form keeps shut */
	aclresult = pg_proc_aclcheck(nf.oid, GetUserId(), ACL_EXECUTE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FUNCTION, get_func_name(nf.oid));

	options = options_arg(fcinfo, &nf);
	if (!JB_ROOT_IS_OBJECT(options) || JB_ROOT_IS_SCALAR(options))
	{
		JsonbValue	s;

		if (JB_ROOT_IS_SCALAR(options))
			(void) JsonbExtractScalar(&options->root, &s);
		else
		{
			s.type = jbvBinary;
			s.val.binary.data = &options->root;
		}
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options of galaxy.%s must be a JSON object, got a JSON %s", nf.name, jb_type_name(&s)),
				 errhint("Valid options: %s.", option_names(&nf))));
	}

	fmgr_info(nf.oid, &flinfo);
	InitFunctionCallInfoData(*call, &flinfo, nf.nargs, InvalidOid, NULL, NULL);
	call->args[0].value = PG_GETARG_DATUM(0);
	call->args[0].isnull = PG_ARGISNULL(0);

	what[0] = nf.name;
	what[1] = NULL;
	cb.callback = option_context;
	cb.arg = (void *) what;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	it = JsonbIteratorInit(&options->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;
		int			a;

		if (tok != WJB_KEY)
			continue;
		key = json_cstring(&v);
		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_VALUE);
		for (a = 1; a < nf.nargs; a++)
			if (strcmp(nf.names[a], key) == 0)
				break;
		if (a == nf.nargs)
		{
			if (strcmp(nf.names[0], key) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s is galaxy.%s's first argument, not an option", key, nf.name)));
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown option \"%s\" for galaxy.%s", galaxy_short(key), nf.name),
					 errhint("Valid options: %s.", option_names(&nf))));
		}
		given[a] = true;
		what[1] = key;
		call->args[a].isnull = v.type == jbvNull;
		call->args[a].value = call->args[a].isnull ? (Datum) 0 : option_datum(&nf, key, nf.types[a], &v);
		what[1] = NULL;
	}
	error_context_stack = cb.previous;
	for (int a = 1; a < nf.nargs; a++)
	{
		if (given[a])
			continue;
		if (!nf.has_default[a])
			elog(ERROR, "argument \"%s\" of galaxy.%s has no default", nf.names[a], nf.name);
		call->args[a].value = nf.defaults[a];
		call->args[a].isnull = nf.default_null[a];
	}

	result = FunctionCallInvoke(call);
	*result_isnull = call->isnull;
	return result;
}

/* galaxy.train(project, options jsonb | text) → bigint: the new model's id. */
Datum
galaxy_train_options(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		row = call_with_options(fcinfo, "train", &isnull);
	Datum		id;

	if (isnull)
		PG_RETURN_NULL();
	id = GetAttributeByName(DatumGetHeapTupleHeader(row), "id", &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(id);
}

/* galaxy.submit(project, options jsonb | text) → bigint: the job's id. */
Datum
galaxy_submit_options(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		job = call_with_options(fcinfo, "submit", &isnull);

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(job);
}
