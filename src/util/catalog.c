/*
 * catalog.c — switching to the extension owner for catalog reads and writes.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "util/catalog.h"

/* The role that owns the galaxy extension in this database. */
Oid
galaxy_extension_owner(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("galaxy"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"galaxy\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION galaxy.")));
	return owner;
}

/* OID of the galaxy schema. */
Oid
galaxy_namespace_oid(void)
{
	return get_namespace_oid("galaxy", false);
}

/*
 * OID of the schema of galaxy's internal functions: galaxy_internal, or
 * galaxy in a database whose extension is still at version 0.1.0 (one
 * galaxy.so serves every version until ALTER EXTENSION galaxy UPDATE moves
 * them).
 */
Oid
galaxy_internal_namespace_oid(void)
{
	Oid			nsp = get_namespace_oid("galaxy_internal", true);

	return OidIsValid(nsp) ? nsp : galaxy_namespace_oid();
}

/* OID of a relation in the galaxy schema. */
Oid
galaxy_relation_oid(const char *relname)
{
	Oid			relid = get_relname_relid(relname, galaxy_namespace_oid());

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("galaxy catalog table \"%s\" is missing", relname)));
	return relid;
}

/* OID of a type in the galaxy schema. */
Oid
galaxy_type_oid(const char *typname)
{
	Oid			typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										CStringGetDatum(typname),
										ObjectIdGetDatum(galaxy_namespace_oid()));

	if (!OidIsValid(typid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("galaxy type \"%s\" is missing", typname)));
	return typid;
}

/* Act as the extension owner until catalog_access_end. */
void
catalog_access_begin(CatalogAccess *ca)
{
	Oid			owner = galaxy_extension_owner();

	GetUserIdAndSecContext(&ca->saved_userid, &ca->saved_sec_context);
	SetUserIdAndSecContext(owner, ca->saved_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	ca->active = true;
	/* like a SECURITY DEFINER function's SET search_path */
	ca->guc_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, galaxy, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

	/*
	 * Serial plans: the catalog's tables are small, and a parallel worker
	 * costs a process start (tens of milliseconds) for a statement that
	 * takes a fraction of one.  A session that makes parallel plans cheap
	 * (parallel_setup_cost = 0, to parallelise a training's pass) would
	 * otherwise start workers for galaxy's bookkeeping too.
	 */
	(void) set_config_option("max_parallel_workers_per_gather", "0",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
}

/* Return to the caller's identity. */
void
catalog_access_end(CatalogAccess *ca)
{
	if (ca->active)
	{
		AtEOXact_GUC(true, ca->guc_nestlevel);
		SetUserIdAndSecContext(ca->saved_userid, ca->saved_sec_context);
		ca->active = false;
	}
}
