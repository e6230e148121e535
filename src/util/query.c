/*
 * query.c — the only place in galaxy that opens SPI; see query.h for the rule.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "utils/memutils.h"

#include "util/catalog.h"
#include "util/query.h"

/* Copy SPI's result rows into 'into' (a context that outlives SPI_finish). */
static QueryResult *
copy_result(MemoryContext into)
{
	MemoryContext old = MemoryContextSwitchTo(into);
	QueryResult *r = palloc0(sizeof(QueryResult));

	r->nrows = SPI_processed;
	if (SPI_tuptable != NULL)
	{
		r->tupdesc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
		r->rows = palloc(sizeof(HeapTuple) * Max(r->nrows, 1));
		for (uint64 i = 0; i < r->nrows; i++)
			r->rows[i] = heap_copytuple(SPI_tuptable->vals[i]);
	}
	else
		r->nrows = 0;
	MemoryContextSwitchTo(old);
	return r;
}

/* Run one statement in its own SPI bracket, as the owner or as the caller. */
static QueryResult *
run_statement(const char *sql, int nargs, Oid *argtypes, Datum *values,
			  const char *nulls, bool read_only, long count, int expected,
			  const char *what, bool as_owner, bool want_rows, uint64 *processed)
{
	MemoryContext caller = CurrentMemoryContext;
	CatalogAccess ca = {0};
	QueryResult *r = NULL;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to SPI to %s", what);
	if (as_owner)
		catalog_access_begin(&ca);
	rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, read_only, count);
	if (as_owner)
		catalog_access_end(&ca);
	if (rc != expected)
		elog(ERROR, "could not %s: %s", what, SPI_result_code_string(rc));
	*processed = SPI_processed;
	if (want_rows)
		r = copy_result(caller);
	SPI_finish();
	return r;
}

/* One catalog statement as the extension owner; see query.h. */
QueryResult *
catalog_query(const char *sql, int nargs, Oid *argtypes, Datum *values,
			  const char *nulls, bool read_only, long count, int expected,
			  const char *what)
{
	uint64		n;

	return run_statement(sql, nargs, argtypes, values, nulls, read_only, count,
						 expected, what, true, true, &n);
}

/* One catalog statement as the extension owner, rows not needed. */
uint64
catalog_command(const char *sql, int nargs, Oid *argtypes, Datum *values,
				const char *nulls, int expected, const char *what)
{
	uint64		n;

	(void) run_statement(sql, nargs, argtypes, values, nulls, false, 0,
						 expected, what, true, false, &n);
	return n;
}

/* One statement as the calling role; see query.h. */
QueryResult *
user_query(const char *sql, int nargs, Oid *argtypes, Datum *values,
		   const char *nulls, bool read_only, long count, int expected,
		   const char *what)
{
	uint64		n;

	return run_statement(sql, nargs, argtypes, values, nulls, read_only, count,
						 expected, what, false, true, &n);
}

/* A read-only cursor as the calling role, handed over batch by batch. */
void
query_scan(const char *sql, int nargs, Oid *argtypes, Datum *values,
		   const char *nulls, int batch_rows,
		   QueryScanStart start, QueryScanBatch batch, void *arg)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext batchcxt;
	Portal		portal;

	Assert(batch_rows > 0);
	batchcxt = AllocSetContextCreate(caller, "galaxy scan batch", ALLOCSET_DEFAULT_SIZES);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to SPI to scan a relation");
	portal = SPI_cursor_open_with_args(NULL, sql, nargs, argtypes, values, nulls, true, 0);
	if (start)
	{
		MemoryContext old = MemoryContextSwitchTo(caller);

		start(arg, portal->tupDesc);
		MemoryContextSwitchTo(old);
	}
	for (;;)
	{
		MemoryContext old;

		SPI_cursor_fetch(portal, true, batch_rows);
		if (SPI_processed == 0)
			break;
		old = MemoryContextSwitchTo(batchcxt);
		batch(arg, SPI_tuptable->vals, SPI_processed, SPI_tuptable->tupdesc);
		MemoryContextSwitchTo(old);
		MemoryContextReset(batchcxt);
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	SPI_finish();
	MemoryContextDelete(batchcxt);
}

/* Prepare once, execute n times as the calling role, time each execution; see query.h. */
void
query_time_executions(const char *sql, int nargs, Oid *argtypes, int n,
					  QueryParamsFill fill, void *arg, double *ms)
{
	SPIPlanPtr	plan;
	Datum	   *values;
	char	   *nulls;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to SPI to time a statement");
	plan = SPI_prepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare a statement to time: %s", SPI_result_code_string(SPI_result));
	values = palloc0(sizeof(Datum) * Max(nargs, 1));
	nulls = palloc(sizeof(char) * Max(nargs, 1));
	for (int i = 0; i < n; i++)
	{
		instr_time	start;
		instr_time	end;
		int			rc;

		memset(nulls, ' ', Max(nargs, 1));
		fill(arg, i, values, nulls);
		INSTR_TIME_SET_CURRENT(start);
		rc = SPI_execute_plan(plan, values, nulls, false, 0);
		INSTR_TIME_SET_CURRENT(end);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "could not execute a timed statement: %s", SPI_result_code_string(rc));
		SPI_freetuptable(SPI_tuptable);
		INSTR_TIME_SUBTRACT(end, start);
		ms[i] = INSTR_TIME_GET_MILLISEC(end);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_finish();
}

/* Value of a column (1-based) of a result row. */
Datum
query_datum(QueryResult *r, uint64 row, int col, bool *isnull)
{
	Assert(r != NULL && row < r->nrows);
	Assert(col >= 1 && col <= r->tupdesc->natts);
	return heap_getattr(r->rows[row], col, r->tupdesc, isnull);
}

/* A column of a known type (checked in assertion-enabled builds). */
static inline Datum
query_typed(QueryResult *r, uint64 row, int col, Oid type, bool *isnull)
{
	Assert(TupleDescAttr(r->tupdesc, col - 1)->atttypid == type);
	return query_datum(r, row, col, isnull);
}

/* int8 column, or dflt when NULL. */
int64
query_int64(QueryResult *r, uint64 row, int col, int64 dflt)
{
	bool		n;
	Datum		d = query_typed(r, row, col, INT8OID, &n);

	return n ? dflt : DatumGetInt64(d);
}

/* int4 column, or dflt when NULL. */
int32
query_int32(QueryResult *r, uint64 row, int col, int32 dflt)
{
	bool		n;
	Datum		d = query_typed(r, row, col, INT4OID, &n);

	return n ? dflt : DatumGetInt32(d);
}

/* float8 column, or dflt when NULL. */
double
query_float8(QueryResult *r, uint64 row, int col, double dflt)
{
	bool		n;
	Datum		d = query_typed(r, row, col, FLOAT8OID, &n);

	return n ? dflt : DatumGetFloat8(d);
}

/* bool column, or dflt when NULL. */
bool
query_bool(QueryResult *r, uint64 row, int col, bool dflt)
{
	bool		n;
	Datum		d = query_typed(r, row, col, BOOLOID, &n);

	return n ? dflt : DatumGetBool(d);
}

/* A result row as a composite Datum in CurrentMemoryContext. */
Datum
query_row_datum(QueryResult *r, uint64 row)
{
	Assert(r != NULL && row < r->nrows);
	if (r->tupdesc->tdtypeid == RECORDOID && r->tupdesc->tdtypmod < 0)
		assign_record_type_typmod(r->tupdesc);
	return heap_copy_tuple_as_datum(r->rows[row], r->tupdesc);
}

/* Text form of a column through its type's output function; NULL when NULL. */
char *
query_text(QueryResult *r, uint64 row, int col)
{
	bool		isnull;
	Datum		d = query_datum(r, row, col, &isnull);
	Oid			outfunc;
	bool		isvarlena;

	if (isnull)
		return NULL;
	getTypeOutputInfo(TupleDescAttr(r->tupdesc, col - 1)->atttypid, &outfunc, &isvarlena);
	return OidOutputFunctionCall(outfunc, d);
}
