/*
 * audit.c — writes galaxy.audit_log rows in the caller's transaction.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "miscadmin.h"
#include "utils/acl.h"

#include "registry/audit.h"
#include "util/catalog.h"

/*
 * Append one audit row through SPI as the extension owner; the acting role
 * is captured first (the table's defaults fill session user, time, txid).
 */
void
galaxy_audit(const char *action, const char *object_type,
			 const char *object_id, Jsonb *details)
{
	Oid			argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, NAMEOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	int			rc;
	CatalogAccess ca = {0};
	char	   *actor = GetUserNameFromId(GetUserId(), false);

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

	values[4] = CStringGetDatum(actor);

	SPI_connect();
	catalog_access_begin(&ca);
	rc = SPI_execute_with_args("INSERT INTO galaxy.audit_log "
							   "(action, object_type, object_id, details, current_user_name) "
							   "VALUES ($1, $2, $3, coalesce($4, '{}'::jsonb), $5)",
							   5, argtypes, values, nulls, false, 0);
	catalog_access_end(&ca);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not write galaxy.audit_log: %s", SPI_result_code_string(rc));
	SPI_finish();
}
