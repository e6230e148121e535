/*
 * drop_guard.c — DROP EXTENSION galaxy (or DROP SCHEMA galaxy CASCADE) would
 * delete every model, deployment and the whole audit trail without a word.
 * An event trigger refuses it while galaxy holds models or audit rows, unless
 * galaxy.allow_drop_with_data is on.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "galaxy.h"
#include "util/query.h"

PG_FUNCTION_INFO_V1(galaxy_drop_guard);

/* Whether a DROP statement names galaxy's extension or schema. */
static bool
drops_galaxy(Node *parsetree)
{
	DropStmt   *stmt;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, DropStmt))
		return false;
	stmt = (DropStmt *) parsetree;
	if (stmt->removeType != OBJECT_EXTENSION && stmt->removeType != OBJECT_SCHEMA)
		return false;
	foreach(lc, stmt->objects)
	{
		Node	   *obj = lfirst(lc);

		if (IsA(obj, String) && strcmp(strVal(obj), "galaxy") == 0)
			return true;
	}
	return false;
}

/* Event trigger (ddl_command_start on DROP EXTENSION / DROP SCHEMA). */
Datum
galaxy_drop_guard(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	QueryResult *r;
	int64		models;
	int64		audit_rows;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "galaxy_drop_guard must be called as an event trigger");
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!drops_galaxy(trigdata->parsetree) || galaxy_allow_drop_with_data)
		PG_RETURN_VOID();

	r = catalog_query("SELECT (SELECT count(*) FROM galaxy.models),"
					  " (SELECT count(*) FROM galaxy.audit_log)",
					  0, NULL, NULL, NULL, true, 1, SPI_OK_SELECT,
					  "count galaxy's models and audit rows");
	models = query_int64(r, 0, 1, 0);
	audit_rows = query_int64(r, 0, 2, 0);
	if (models > 0 || audit_rows > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop galaxy while it holds " INT64_FORMAT " model%s and " INT64_FORMAT " audit row%s",
						models, models == 1 ? "" : "s", audit_rows, audit_rows == 1 ? "" : "s"),
				 errdetail("Dropping the extension deletes every model, deployment, job and the whole audit trail."),
				 errhint("Back them up first (pg_dump --schema=galaxy keeps galaxy's tables), then run SET galaxy.allow_drop_with_data = on and drop again.")));
	PG_RETURN_VOID();
}
