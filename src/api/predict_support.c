/*
 * predict_support.c — planner support for whole-row predict.
 *
 * galaxy.predict(project, t) hands the function a whole-row value: for every
 * row the executor builds a composite datum of all columns (forming a new
 * tuple), and predict takes it apart again.  That costs about as much as
 * the scan itself.  When the row is the whole-row Var of a table (plain,
 * partitioned, or a materialized view), this support function rewrites the
 * call at plan time into
 *
 *     galaxy_internal.predict_columns(project, row_id, key, '{col1,col2,...}', t.col1, t.col2, ...)
 *
 * which receives the columns as ordinary arguments (the scan has them
 * deformed already) and matches them to the model's inputs by the names in
 * the array, exactly as the whole-row form does.  The row id tells a real
 * row from the NULL row of an outer join's null-extended side: when the
 * table sits on the nullable side of an outer join it is the ctid, NULL only
 * for such a row (and then the result is NULL, as the whole-row form's would
 * be); otherwise it is the constant '(0,0)', which costs nothing per row.
 *
 * Privileges are unchanged: the permission check uses the columns the query
 * named when it was parsed (all of them, for a whole-row reference).
 *
 * The array form gets the same treatment: galaxy.predict(project,
 * ARRAY[x1, x2, ...]) would build a float8[] for every row only for predict
 * to read it back, so an ARRAY[...] constructor of numbers becomes
 *
 *     galaxy_internal.predict_values(project, key, x1, x2, ...)
 *
 * with the same positional meaning, NULL handling and errors.
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "api/predict.h"
#include "util/catalog.h"

PG_FUNCTION_INFO_V1(galaxy_predict_support);

/*
 * The function of the same family as funcid with the given suffix and
 * argument types (predict → predict_columns, ...), among galaxy's internal
 * functions, or InvalidOid.  Looked up in the catalog, not by name: the
 * caller needs EXECUTE on it (the executor checks), not USAGE on the schema.
 */
static Oid
family_function(Oid funcid, const char *suffix, int nargs, Oid *argtypes)
{
	char	   *name = get_func_name(funcid);

	if (name == NULL)
		return InvalidOid;
	return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid,
						   CStringGetDatum(psprintf("%s_%s", name, suffix)),
						   PointerGetDatum(buildoidvector(argtypes, nargs)),
						   ObjectIdGetDatum(galaxy_internal_namespace_oid()));
}

/* The key argument of the call, or a NULL text constant (predict by model has none). */
static Node *
call_key(FuncExpr *fe)
{
	return list_length(fe->args) >= 3 ? (Node *) lthird(fe->args) :
		(Node *) makeNullConst(TEXTOID, -1, DEFAULT_COLLATION_OID);
}

/* predict*(target, ARRAY[x1, ...] [, key]) → predict*_values(target, key, x1, ...), or NULL. */
static Node *
rewrite_array(FuncExpr *fe, Node *target, ArrayExpr *arr)
{
	Oid			argtypes[PREDICT_VALUES_FIXED_ARGS + 1] = {exprType(target), TEXTOID, ANYOID};
	Oid			fn;
	FuncExpr   *out;

	if (arr->multidims || arr->elements == NIL ||
		list_length(arr->elements) + PREDICT_VALUES_FIXED_ARGS > FUNC_MAX_ARGS)
		return NULL;
	if (!predict_positional_type(arr->element_typeid))
		return NULL;
	fn = family_function(fe->funcid, "values", PREDICT_VALUES_FIXED_ARGS + 1, argtypes);
	if (!OidIsValid(fn))
		return NULL;
	out = makeFuncExpr(fn, fe->funcresulttype,
					   list_concat(list_make2(target, call_key(fe)), list_copy(arr->elements)),
					   fe->funccollid, fe->inputcollid, COERCE_EXPLICIT_CALL);
	out->location = fe->location;
	return (Node *) out;
}

/*
 * Can relation varno of this query level be on the nullable side of an outer
 * join?  A conservative look at the join tree as written (a join the planner
 * later reduces to an inner one still counts).
 */
static bool
rel_maybe_nulled(Node *jtnode, int varno, bool nullable)
{
	if (jtnode == NULL)
		return false;
	if (IsA(jtnode, RangeTblRef))
		return nullable && ((RangeTblRef *) jtnode)->rtindex == varno;
	if (IsA(jtnode, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) jtnode)->fromlist)
			if (rel_maybe_nulled((Node *) lfirst(lc), varno, nullable))
				return true;
		return false;
	}
	if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;
		bool		left_nulled = nullable || j->jointype == JOIN_RIGHT || j->jointype == JOIN_FULL;
		bool		right_nulled = nullable || j->jointype == JOIN_LEFT || j->jointype == JOIN_FULL;

		return rel_maybe_nulled(j->larg, varno, left_nulled) ||
			rel_maybe_nulled(j->rarg, varno, right_nulled);
	}
	return true;				/* unknown node: assume it may */
}

/*
 * SupportRequestSimplify: rewrite predict*(target, t [, key]) for a table's
 * whole-row t, and predict*(target, ARRAY[...] [, key]).
 */
Datum
galaxy_predict_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	FuncExpr   *fe;
	Node	   *target;
	Var		   *row;
	Oid			argtypes[PREDICT_COLUMNS_FIXED_ARGS + 1] = {InvalidOid, TIDOID, TEXTOID, TEXTARRAYOID, ANYOID};
	RangeTblEntry *rte;
	Relation	rel;
	TupleDesc	td;
	Oid			fn;
	List	   *cols = NIL;
	List	   *names = NIL;
	Datum	   *name_datums;
	int			n = 0;
	ListCell   *lc;
	List	   *args;
	Node	   *row_id;
	FuncExpr   *out;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	fe = req->fcall;
	if (req->root == NULL || req->root->parse == NULL || list_length(fe->args) < 2)
		PG_RETURN_POINTER(NULL);
	target = (Node *) linitial(fe->args);
	row = (Var *) lsecond(fe->args);
	if (IsA(row, ArrayExpr))
		PG_RETURN_POINTER(rewrite_array(fe, target, (ArrayExpr *) row));

	/* only a whole-row Var of this query level's table, partitioned table or matview */
	if (!IsA(row, Var) || row->varattno != 0 || row->varlevelsup != 0 ||
		row->varno < 1 || row->varno > list_length(req->root->parse->rtable))
		PG_RETURN_POINTER(NULL);
	rte = rt_fetch(row->varno, req->root->parse->rtable);
	if (rte->rtekind != RTE_RELATION ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_MATVIEW &&
		 rte->relkind != RELKIND_PARTITIONED_TABLE))
		PG_RETURN_POINTER(NULL);

	argtypes[0] = exprType(target);
	fn = family_function(fe->funcid, "columns", PREDICT_COLUMNS_FIXED_ARGS + 1, argtypes);
	if (!OidIsValid(fn))
		PG_RETURN_POINTER(NULL);

	/* the planner holds a lock on the relation already */
	rel = table_open(rte->relid, NoLock);
	td = RelationGetDescr(rel);
	for (int a = 0; a < td->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(td, a);

		if (att->attisdropped)
			continue;
		cols = lappend(cols, makeVar(row->varno, att->attnum, att->atttypid, att->atttypmod,
									 att->attcollation, 0));
		names = lappend(names, pstrdup(NameStr(att->attname)));
		n++;
	}
	table_close(rel, NoLock);

	/* a function takes at most FUNC_MAX_ARGS arguments: keep the whole row */
	if (n == 0 || n + PREDICT_COLUMNS_FIXED_ARGS > FUNC_MAX_ARGS)
		PG_RETURN_POINTER(NULL);

	/*
	 * The row id only has to tell a real row from an outer join's
	 * null-extended one: a rel no outer join can null gets a constant.
	 */
	if (rel_maybe_nulled((Node *) req->root->parse->jointree, row->varno, false))
		row_id = (Node *) makeVar(row->varno, SelfItemPointerAttributeNumber, TIDOID, -1, InvalidOid, 0);
	else
	{
		ItemPointer ip = palloc0(sizeof(ItemPointerData));

		row_id = (Node *) makeConst(TIDOID, -1, InvalidOid, sizeof(ItemPointerData),
									PointerGetDatum(ip), false, false);
	}

	name_datums = palloc(sizeof(Datum) * n);
	n = 0;
	foreach(lc, names)
		name_datums[n++] = CStringGetTextDatum((char *) lfirst(lc));

	args = list_make4(target,
					  row_id,
					  call_key(fe),
					  makeConst(TEXTARRAYOID, -1, InvalidOid, -1,
								PointerGetDatum(construct_array(name_datums, n, TEXTOID, -1, false,
																TYPALIGN_INT)),
								false, false));
	args = list_concat(args, cols);

	out = makeFuncExpr(fn, fe->funcresulttype, args, fe->funccollid, fe->inputcollid,
					   COERCE_EXPLICIT_CALL);
	out->location = fe->location;
	PG_RETURN_POINTER(out);
}
