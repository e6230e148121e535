/*
 * audit.h — one audit_log row per state-changing call, in the caller's
 * transaction, and the one way to build its details (audit.c).
 */
#ifndef GALAXY_AUDIT_H
#define GALAXY_AUDIT_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/*
 * Append an audit row (action e.g. "train", object_type e.g. "model",
 * object_id its id as text, details may be NULL).  Runs in the current
 * transaction, so a rolled-back change leaves no audit row.
 */
extern void galaxy_audit(const char *action, const char *object_type,
						 const char *object_id, Jsonb *details);

/*
 * Building an audit row's details jsonb: details_begin, then any number of
 * details_str/details_int/details_float/details_bool/details_json, then
 * details_end.  A NULL string (or JSON text) is a JSON null.
 */
extern void details_begin(StringInfo buf);
extern void details_str(StringInfo buf, const char *key, const char *val);
extern void details_int(StringInfo buf, const char *key, int64 val);
extern void details_float(StringInfo buf, const char *key, double val);
extern void details_bool(StringInfo buf, const char *key, bool val);
extern void details_json(StringInfo buf, const char *key, const char *json);
extern Jsonb *details_end(StringInfo buf);

#endif							/* GALAXY_AUDIT_H */
