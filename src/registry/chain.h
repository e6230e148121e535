/*
 * chain.h — the audit hash chain (chain.c): the canonical byte encoding of
 * an audit_log row, the chain hash, and the chain's anchor after a purge.
 */
#ifndef GALAXY_CHAIN_H
#define GALAXY_CHAIN_H

#include "access/tupdesc.h"
#include "lib/stringinfo.h"

#define AUDIT_HASH_LEN 32

/* Append the canonical encoding of an audit_log tuple to buf. */
extern void audit_canonical_row(TupleDesc tupdesc, Datum *values, bool *nulls,
								StringInfo buf);

/* hash = SHA-256(prev || canonical); out has AUDIT_HASH_LEN bytes. */
extern void audit_chain_hash(const uint8 *prev, const char *canonical,
							 Size len, uint8 *out);

/* Take the chain lock (transaction-level; not reachable from SQL). */
extern void audit_chain_lock(void);

/*
 * The hash the next row must chain to: the newest audit row's hash, else the
 * newest purge anchor, else 32 zero bytes (genesis).  Call under the lock.
 */
extern void audit_chain_head(uint8 *out);

/* true while galaxy.purge_audit() deletes rows (checked by the guard). */
extern bool audit_purge_active;

#endif							/* GALAXY_CHAIN_H */
