/*
 * query.h — SQL from C without SPI brackets in the caller.
 *
 * The rule (CONTRIBUTING.md, "SPI lifetimes"): nothing allocated between
 * SPI_connect() and SPI_finish() is used after SPI_finish(), which frees it.
 * Results leave an SPI bracket only as by-value Datums, through
 * SPI_palloc/SPI_copytuple/SPI_returntuple/SPI_datumTransfer, or copied into
 * a context captured before SPI_connect().
 *
 * galaxy follows the rule by construction: the functions below open and close
 * SPI themselves, and hand results back as copies in the memory context that
 * was current when they were called.  Code outside src/util/query.c does not
 * call SPI_connect() (a test in the suite greps for it).
 *
 *  - catalog_query / catalog_command: one statement on galaxy's catalog as
 *    the extension owner (search_path pinned; see catalog.h).
 *  - user_query: one statement as the calling role (privileges apply).
 *  - query_scan: a read-only cursor as the calling role, handed to a callback
 *    batch by batch; the callback runs in a per-batch memory context that is
 *    reset after every batch, so buffers it fills across batches must be
 *    allocated before the scan (repalloc keeps a chunk in its own context).
 *  - query_time_executions: one prepared statement as the calling role,
 *    executed and timed n times (predict latency for the deployment gates).
 */
#ifndef GALAXY_QUERY_H
#define GALAXY_QUERY_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/spi.h"

/* Rows of a query, copied into the caller's memory context. */
typedef struct QueryResult
{
	uint64		nrows;
	TupleDesc	tupdesc;
	HeapTuple  *rows;
} QueryResult;

/*
 * One statement on galaxy's catalog as the extension owner.  'expected' is
 * the SPI result code that counts as success (SPI_OK_SELECT,
 * SPI_OK_INSERT_RETURNING, ...); anything else is an ERROR "could not
 * <what>: <SPI result>".  count limits the rows (0: all).
 */
extern QueryResult *catalog_query(const char *sql, int nargs, Oid *argtypes,
								  Datum *values, const char *nulls, bool read_only,
								  long count, int expected, const char *what);

/* The same for a statement whose rows are not needed; returns SPI_processed. */
extern uint64 catalog_command(const char *sql, int nargs, Oid *argtypes,
							  Datum *values, const char *nulls, int expected,
							  const char *what);

/* One statement as the calling role, rows copied as by catalog_query. */
extern QueryResult *user_query(const char *sql, int nargs, Oid *argtypes,
							   Datum *values, const char *nulls, bool read_only,
							   long count, int expected, const char *what);

/* Called once with the cursor's row type, in the caller's memory context. */
typedef void (*QueryScanStart) (void *arg, TupleDesc tupdesc);

/* Called per batch, in a per-batch memory context reset afterwards. */
typedef void (*QueryScanBatch) (void *arg, HeapTuple *rows, uint64 nrows,
								TupleDesc tupdesc);

/* A read-only cursor over sql as the calling role, batch by batch. */
extern void query_scan(const char *sql, int nargs, Oid *argtypes, Datum *values,
					   const char *nulls, int batch_rows,
					   QueryScanStart start, QueryScanBatch batch, void *arg);

/* Fills the parameters of execution i of a timed statement (nargs each). */
typedef void (*QueryParamsFill) (void *arg, int i, Datum *values, char *nulls);

/*
 * Prepare one statement as the calling role, then execute it n times, each
 * execution with the parameters fill gives and a fresh snapshot, its rows
 * discarded: ms[i] is the wall time of execution i alone (SPI_execute_plan,
 * not fill), in milliseconds.  What a client's prepared statement costs
 * inside the backend, per execution.
 */
extern void query_time_executions(const char *sql, int nargs, Oid *argtypes, int n,
								  QueryParamsFill fill, void *arg, double *ms);

/* Value of a column (1-based) of a result row. */
extern Datum query_datum(QueryResult *r, uint64 row, int col, bool *isnull);
/* Typed shorthands: the default when the value is NULL. */
extern int64 query_int64(QueryResult *r, uint64 row, int col, int64 dflt);
extern int32 query_int32(QueryResult *r, uint64 row, int col, int32 dflt);
extern double query_float8(QueryResult *r, uint64 row, int col, double dflt);
extern bool query_bool(QueryResult *r, uint64 row, int col, bool dflt);
/* A result row as a composite Datum (what SPI_returntuple gives). */
extern Datum query_row_datum(QueryResult *r, uint64 row);
/* Output-function text of a column, palloc'd in CurrentMemoryContext; NULL when NULL. */
extern char *query_text(QueryResult *r, uint64 row, int col);

#endif							/* GALAXY_QUERY_H */
