/*
 * audit.c — writes galaxy.audit_log rows in the caller's transaction.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "registry/audit.h"

/* Append one audit row through SPI (the table's defaults fill who/when/txid). */
void
galaxy_audit(const char *action, const char *object_type,
			 const char *object_id, Jsonb *details)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	int			rc;

	values[0] = CStringGetTextDatum(action);
	values[1] = CStringGetTextDatum(object_type);
	if (object_id)
		values[2] = CStringGetTextDatum(object_id);
	else
		nulls[2] = 'n';
	if (details)
		values[3] = JsonbPGetDatum(details);
	else
		nulls[3] = 'n';

	SPI_connect();
	rc = SPI_execute_with_args("INSERT INTO galaxy.audit_log (action, object_type, object_id, details) "
							   "VALUES ($1, $2, $3, coalesce($4, '{}'::jsonb))",
							   4, argtypes, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not write galaxy.audit_log: %s", SPI_result_code_string(rc));
	SPI_finish();
}
