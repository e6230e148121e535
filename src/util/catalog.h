/*
 * catalog.h — access to galaxy's catalog tables from C.
 *
 * galaxy's SQL-callable C functions run as the calling role (so relations
 * are read with the caller's privileges).  The catalog tables are closed to
 * PUBLIC; C code that must read or write them brackets that work with
 * catalog_access_begin/end, which switches to the extension's owner with
 * SECURITY_LOCAL_USERID_CHANGE (restored automatically on error), and pins
 * search_path to pg_catalog, galaxy, pg_temp so SQL run meanwhile cannot
 * pick up a caller's look-alike functions or operators.  Capture the
 * caller's identity (GetUserId()) before switching.
 */
#ifndef GALAXY_CATALOG_H
#define GALAXY_CATALOG_H

#include "postgres.h"

typedef struct CatalogAccess
{
	Oid			saved_userid;
	int			saved_sec_context;
	bool		active;
	int			guc_nestlevel;	/* search_path pinned while active */
} CatalogAccess;

/* The role that owns the galaxy extension in this database. */
extern Oid	galaxy_extension_owner(void);
/* OID of the galaxy schema / a catalog table in it (ERROR if missing). */
extern Oid	galaxy_namespace_oid(void);
extern Oid	galaxy_relation_oid(const char *relname);
/* OID of a type in the galaxy schema (ERROR if missing). */
extern Oid	galaxy_type_oid(const char *typname);

extern void catalog_access_begin(CatalogAccess *ca);
extern void catalog_access_end(CatalogAccess *ca);

/*
 * Run one statement on galaxy's catalog as the extension owner, inside the
 * caller's SPI connection; the switch covers the execution alone, so the
 * caller reads SPI_tuptable and raises its own errors as itself.  ERROR
 * "could not <what>: <SPI result>" unless SPI returns 'expected'.  Returns
 * SPI_processed.
 */
extern uint64 catalog_execute(const char *sql, int nargs, Oid *argtypes, Datum *values,
							  const char *nulls, bool read_only, long count,
							  int expected, const char *what);

#endif							/* GALAXY_CATALOG_H */
