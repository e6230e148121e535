/*
 * catalog.h — access to galaxy's catalog tables from C.
 *
 * galaxy's SQL-callable C functions run as the calling role (so relations
 * are read with the caller's privileges).  The catalog tables are closed to
 * PUBLIC; C code reads and writes them with catalog_query/catalog_command
 * (util/query.h), which bracket each statement with catalog_access_begin/end:
 * the switch to the extension's owner with SECURITY_LOCAL_USERID_CHANGE
 * (restored automatically on error) and search_path pinned to pg_catalog,
 * galaxy, pg_temp, so SQL run meanwhile cannot pick up a caller's look-alike
 * functions or operators; and max_parallel_workers_per_gather pinned to 0
 * (the catalog is small: no statement on it is worth a worker's start).
 * Capture the caller's identity (GetUserId()) before switching.
 */
#ifndef GALAXY_CATALOG_H
#define GALAXY_CATALOG_H

typedef struct CatalogAccess
{
	Oid			saved_userid;
	int			saved_sec_context;
	bool		active;
	int			guc_nestlevel;	/* search_path and serial plans pinned while active */
} CatalogAccess;

/* The role that owns the galaxy extension in this database. */
extern Oid	galaxy_extension_owner(void);
/* OID of the galaxy schema / a catalog table in it (ERROR if missing). */
extern Oid	galaxy_namespace_oid(void);
extern Oid	galaxy_relation_oid(const char *relname);
/* OID of a type in the galaxy schema (ERROR if missing). */
extern Oid	galaxy_type_oid(const char *typname);
/* OID of the schema of galaxy's internal functions (galaxy_internal). */
extern Oid	galaxy_internal_namespace_oid(void);

extern void catalog_access_begin(CatalogAccess *ca);
extern void catalog_access_end(CatalogAccess *ca);

#endif							/* GALAXY_CATALOG_H */
