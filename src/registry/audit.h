/*
 * audit.h — one audit_log row per state-changing call, in the caller's transaction.
 */
#ifndef GALAXY_AUDIT_H
#define GALAXY_AUDIT_H

#include "postgres.h"

#include "utils/jsonb.h"

/*
 * Append an audit row (action e.g. "train", object_type e.g. "model",
 * object_id its id as text, details may be NULL).  Runs in the current
 * transaction, so a rolled-back change leaves no audit row.
 */
extern void galaxy_audit(const char *action, const char *object_type,
						 const char *object_id, Jsonb *details);

#endif							/* GALAXY_AUDIT_H */
