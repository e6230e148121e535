/*
 * jsonb_build.h — small helpers for building jsonb values with
 * pushJsonbValue (describe(), profiles, preprocessing summaries), and the
 * name of a value's JSON type for messages about jsonb input.
 */
#ifndef GALAXY_JSONB_BUILD_H
#define GALAXY_JSONB_BUILD_H


#include "utils/jsonb.h"

/* Push an object key. */
extern void jb_key(JsonbParseState **st, const char *key);
/* Push a string (NULL → JSON null) as WJB_VALUE or WJB_ELEM. */
extern void jb_str(JsonbParseState **st, JsonbIteratorToken tok, const char *s);
/* Push a double (NaN/Infinity → JSON null). */
extern void jb_num(JsonbParseState **st, JsonbIteratorToken tok, double d);
/* Push an integer. */
extern void jb_int(JsonbParseState **st, JsonbIteratorToken tok, int64 i);
/* Push key: value pairs. */
extern void jb_kv_str(JsonbParseState **st, const char *key, const char *s);
extern void jb_kv_num(JsonbParseState **st, const char *key, double d);
extern void jb_kv_int(JsonbParseState **st, const char *key, int64 i);
extern void jb_kv_bool(JsonbParseState **st, const char *key, bool b);
extern void jb_kv_jsonb(JsonbParseState **st, const char *key, Jsonb *val);
/* "null", "string", "number", "boolean", "array" or "object". */
extern const char *jb_type_name(const JsonbValue *v);

#endif							/* GALAXY_JSONB_BUILD_H */
