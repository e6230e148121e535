/*
 * pg_shim.h — what the fuzz harness uses from pg_shim.c.
 */
#ifndef GALAXY_PG_SHIM_H
#define GALAXY_PG_SHIM_H

#include "postgres.h"

/* Free every palloc'd chunk still live. */
extern void shim_free_all(void);
/* Bytes currently allocated through palloc. */
extern Size shim_allocated_bytes(void);
/* SQLSTATE (MAKE_SQLSTATE form) and message of the last ERROR. */
extern int	shim_last_sqlstate(void);
extern const char *shim_last_message(void);
/* Abort naming a backend function the shim does not provide. */
extern void shim_unreachable(const char *name) pg_attribute_noreturn();

#endif							/* GALAXY_PG_SHIM_H */
