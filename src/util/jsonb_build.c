/*
 * jsonb_build.c — small helpers for building jsonb values.
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/numeric.h"

#include "util/jsonb_build.h"

/* Push an object key. */
void
jb_key(JsonbParseState **st, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(st, WJB_KEY, &k);
}

/* Push a string (NULL → JSON null). */
void
jb_str(JsonbParseState **st, JsonbIteratorToken tok, const char *s)
{
	JsonbValue	v;

	if (s == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) s;
		v.val.string.len = strlen(s);
	}
	pushJsonbValue(st, tok, &v);
}

/* Push a double (NaN/Infinity → JSON null: JSON has no such numbers). */
void
jb_num(JsonbParseState **st, JsonbIteratorToken tok, double d)
{
	JsonbValue	v;

	if (!isfinite(d))
		v.type = jbvNull;
	else
	{
		v.type = jbvNumeric;
		v.val.numeric = DatumGetNumeric(DirectFunctionCall1(float8_numeric, Float8GetDatum(d)));
	}
	pushJsonbValue(st, tok, &v);
}

/* Push an integer. */
void
jb_int(JsonbParseState **st, JsonbIteratorToken tok, int64 i)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(i);
	pushJsonbValue(st, tok, &v);
}

/* Push key: string. */
void
jb_kv_str(JsonbParseState **st, const char *key, const char *s)
{
	jb_key(st, key);
	jb_str(st, WJB_VALUE, s);
}

/* Push key: double. */
void
jb_kv_num(JsonbParseState **st, const char *key, double d)
{
	jb_key(st, key);
	jb_num(st, WJB_VALUE, d);
}

/* Push key: integer. */
void
jb_kv_int(JsonbParseState **st, const char *key, int64 i)
{
	jb_key(st, key);
	jb_int(st, WJB_VALUE, i);
}

/* Push key: true or false. */
void
jb_kv_bool(JsonbParseState **st, const char *key, bool b)
{
	JsonbValue	v;

	jb_key(st, key);
	v.type = jbvBool;
	v.val.boolean = b;
	pushJsonbValue(st, WJB_VALUE, &v);
}

/* Push key: a whole jsonb value. */
void
jb_kv_jsonb(JsonbParseState **st, const char *key, Jsonb *val)
{
	JsonbValue	v;

	jb_key(st, key);
	v.type = jbvBinary;
	v.val.binary.data = &val->root;
	v.val.binary.len = VARSIZE(val) - VARHDRSZ;
	pushJsonbValue(st, WJB_VALUE, &v);
}

/* The JSON type of a value, for messages. */
const char *
jb_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		case jbvArray:
			return "array";
		case jbvObject:
			return "object";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "array" : "object";
		default:
			return "value";
	}
}
