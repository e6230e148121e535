/*
 * jsonb_shim.c — jsonb and numeric for the fuzz targets, without the server.
 *
 * galaxy's option parsers read jsonb through the backend's jsonb_util.c API
 * (iterators, key lookup, the container header macros of utils/jsonb.h) and
 * numbers through numeric_float8 and friends.  Those live in the server
 * binary, which cannot be linked into a fuzzer, so this file implements the
 * part galaxy uses, on the real on-disk layout of utils/jsonb.h (so the
 * header macros galaxy applies to containers read real bits):
 *
 *   jsonb_in           text → Jsonb: PostgreSQL's own JSON parser
 *                      (pg_parse_json from libpgcommon) building JsonbValues,
 *                      keys sorted and de-duplicated as the backend does
 *                      (shorter first, then bytewise; the last duplicate wins);
 *                      nesting deeper than the backend's stack allows fails
 *                      with 54001 as check_stack_depth() would
 *   pushJsonbValue, JsonbValueToJsonb
 *                      building (objects uniquified on WJB_END_OBJECT)
 *   JsonbIteratorInit/Next, findJsonbValueFromContainer,
 *   getKeyJsonValueFromContainer, getIthJsonbValueFromContainer
 *                      reading, with the backend's token sequence
 *   numeric            a Numeric here is a varlena holding the number's
 *                      decimal text; numeric_in rejects what would overflow
 *                      the numeric format, numeric_float8 fails like float8in
 *                      on overflow and underflow, numeric_float8_no_overflow
 *                      saturates, float8_numeric prints DBL_DIG digits.
 *
 * Anything else of the jsonb or numeric API stays a generated stub that
 * aborts naming itself (gen_stubs.sh).
 */
#include "postgres.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "common/jsonapi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

/* Nesting beyond this fails as the backend's stack depth check would. */
#define SHIM_JSON_MAX_DEPTH 1000

/* Decimal exponent range the numeric format can store (about). */
#define SHIM_NUMERIC_MAX_WEIGHT 131072
#define SHIM_NUMERIC_MAX_DSCALE 16383

/* ---------------------------------------------------------------------
 * numeric: a varlena holding the number's text
 * --------------------------------------------------------------------- */

/* The text of a shim Numeric. */
static const char *
num_text(Numeric n)
{
	return VARDATA((struct varlena *) n);
}

/* A Numeric holding a copy of the text. */
static Numeric
num_make(const char *s, Size len)
{
	struct varlena *v = palloc(VARHDRSZ + len + 1);

	SET_VARSIZE(v, VARHDRSZ + len + 1);
	memcpy(VARDATA(v), s, len);
	VARDATA(v)[len] = '\0';
	return (Numeric) v;
}

/*
 * Check a JSON number the way numeric_in would store it: ERROR 22003 when
 * its weight or display scale does not fit the numeric format.
 */
static void
num_check_range(const char *s)
{
	const char *p = s;
	long		int_digits = 0;
	long		frac_digits = 0;
	long		exponent = 0;
	bool		leading = true;

	if (*p == '-')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
	{
		if (leading && *p == '0')
			continue;
		leading = false;
		int_digits++;
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			frac_digits++;
	if (*p == 'e' || *p == 'E')
	{
		errno = 0;
		exponent = strtol(p + 1, NULL, 10);
		if (errno == ERANGE || exponent >= INT_MAX / 2 || exponent <= -(INT_MAX / 2))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value overflows numeric format")));
	}
	if (int_digits + exponent > SHIM_NUMERIC_MAX_WEIGHT ||
		frac_digits - exponent > SHIM_NUMERIC_MAX_DSCALE)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value overflows numeric format")));
}

/* numeric_in, for the numbers JSON lets through. */
Datum
numeric_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);

	if (!IsValidJsonNumber(s, strlen(s)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", "numeric", s)));
	num_check_range(s);
	PG_RETURN_NUMERIC(num_make(s, strlen(s)));
}

Datum
numeric_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(pstrdup(num_text(PG_GETARG_NUMERIC(0))));
}

/* float8in's rules: overflow and underflow to zero are errors. */
Datum
numeric_float8(PG_FUNCTION_ARGS)
{
	const char *s = num_text(PG_GETARG_NUMERIC(0));
	char	   *end;
	double		d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", "double precision", s)));
	if (errno == ERANGE && (d == 0.0 || d >= HUGE_VAL || d <= -HUGE_VAL))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("\"%s\" is out of range for type double precision", s)));
	PG_RETURN_FLOAT8(d);
}

/* As the backend: out of range saturates to +-HUGE_VAL (or 0). */
Datum
numeric_float8_no_overflow(PG_FUNCTION_ARGS)
{
	const char *s = num_text(PG_GETARG_NUMERIC(0));
	char	   *end;
	double		d;

	d = strtod(s, &end);
	if (end == s || *end != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", "double precision", s)));
	PG_RETURN_FLOAT8(d);
}

/* float8_numeric: DBL_DIG significant digits, NaN/Inf as words. */
Datum
float8_numeric(PG_FUNCTION_ARGS)
{
	double		d = PG_GETARG_FLOAT8(0);
	char		buf[64];

	if (isnan(d))
		strcpy(buf, "NaN");
	else if (isinf(d))
		strcpy(buf, d > 0 ? "Infinity" : "-Infinity");
	else
		snprintf(buf, sizeof(buf), "%.*g", DBL_DIG, d);
	PG_RETURN_NUMERIC(num_make(buf, strlen(buf)));
}

Numeric
int64_to_numeric(int64 val)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), INT64_FORMAT, val);
	return num_make(buf, strlen(buf));
}

bool
numeric_is_nan(Numeric num)
{
	return strcmp(num_text(num), "NaN") == 0;
}

bool
numeric_is_inf(Numeric num)
{
	return strcmp(num_text(num), "Infinity") == 0 || strcmp(num_text(num), "-Infinity") == 0;
}

/* ---------------------------------------------------------------------
 * building: pushJsonbValue and serialisation
 * --------------------------------------------------------------------- */

/* Key order of the backend: shorter first, then bytewise. */
static int
key_cmp(const JsonbValue *a, const JsonbValue *b)
{
	if (a->val.string.len != b->val.string.len)
		return a->val.string.len > b->val.string.len ? 1 : -1;
	return memcmp(a->val.string.val, b->val.string.val, a->val.string.len);
}

/* qsort comparator for pairs: by key, later duplicates first. */
static int
pair_cmp(const void *a, const void *b)
{
	const JsonbPair *pa = a;
	const JsonbPair *pb = b;
	int			r = key_cmp(&pa->key, &pb->key);

	if (r != 0)
		return r;
	return pa->order > pb->order ? -1 : (pa->order < pb->order ? 1 : 0);
}

/* Sort an object's pairs and keep the last value of each key. */
static void
uniqueify(JsonbValue *obj)
{
	int			n = obj->val.object.nPairs;
	int			out = 0;

	if (n <= 1)
		return;
	qsort(obj->val.object.pairs, n, sizeof(JsonbPair), pair_cmp);
	for (int i = 0; i < n; i++)
		if (out == 0 || key_cmp(&obj->val.object.pairs[out - 1].key,
								&obj->val.object.pairs[i].key) != 0)
			obj->val.object.pairs[out++] = obj->val.object.pairs[i];
	obj->val.object.nPairs = out;
}

/* Append a value to the innermost container of a parse state. */
static void
append_value(JsonbParseState *st, JsonbValue *v)
{
	JsonbValue *c = &st->contVal;

	if (c->type == jbvArray)
	{
		if (c->val.array.nElems >= (int) st->size)
		{
			st->size *= 2;
			c->val.array.elems = repalloc(c->val.array.elems, sizeof(JsonbValue) * st->size);
		}
		c->val.array.elems[c->val.array.nElems++] = *v;
	}
	else
		c->val.object.pairs[c->val.object.nPairs - 1].value = *v;
}

/* The backend's builder: a stack of containers under construction. */
JsonbValue *
pushJsonbValue(JsonbParseState **pstate, JsonbIteratorToken seq, JsonbValue *jbval)
{
	JsonbParseState *st;
	JsonbValue *done;

	switch (seq)
	{
		case WJB_BEGIN_ARRAY:
		case WJB_BEGIN_OBJECT:
			st = palloc0(sizeof(JsonbParseState));
			st->next = *pstate;
			st->size = 4;
			if (seq == WJB_BEGIN_ARRAY)
			{
				st->contVal.type = jbvArray;
				st->contVal.val.array.rawScalar = jbval ? jbval->val.array.rawScalar : false;
				st->contVal.val.array.elems = palloc(sizeof(JsonbValue) * st->size);
			}
			else
			{
				st->contVal.type = jbvObject;
				st->contVal.val.object.pairs = palloc(sizeof(JsonbPair) * st->size);
			}
			*pstate = st;
			return NULL;
		case WJB_KEY:
			st = *pstate;
			if (st->contVal.val.object.nPairs >= (int) st->size)
			{
				st->size *= 2;
				st->contVal.val.object.pairs = repalloc(st->contVal.val.object.pairs,
														sizeof(JsonbPair) * st->size);
			}
			st->contVal.val.object.pairs[st->contVal.val.object.nPairs].key = *jbval;
			st->contVal.val.object.pairs[st->contVal.val.object.nPairs].order =
				st->contVal.val.object.nPairs;
			st->contVal.val.object.nPairs++;
			return NULL;
		case WJB_VALUE:
		case WJB_ELEM:
			append_value(*pstate, jbval);
			return NULL;
		case WJB_END_ARRAY:
		case WJB_END_OBJECT:
			st = *pstate;
			if (seq == WJB_END_OBJECT)
				uniqueify(&st->contVal);
			done = palloc(sizeof(JsonbValue));
			*done = st->contVal;
			*pstate = st->next;
			if (*pstate != NULL)
			{
				append_value(*pstate, done);
				return NULL;
			}
			return done;
		default:
			elog(ERROR, "unexpected jsonb token %d", (int) seq);
	}
	return NULL;
}

/* Pad the buffer to a 4-byte boundary; returns the padding. */
static int
pad_int(StringInfo buf)
{
	int			pad = INTALIGN(buf->len) - buf->len;

	for (int i = 0; i < pad; i++)
		appendStringInfoCharMacro(buf, '\0');
	return pad;
}

static void convert_value(StringInfo buf, JEntry *entry, const JsonbValue *v, int level);

/*
 * Serialise a container's children; the entries go at entries_at.  'total'
 * is the data length before the first of them (an object's values follow
 * its keys, and every JB_OFFSET_STRIDE-th entry stores the end offset from
 * the start of the data); returns the length after the last.
 */
static uint32
convert_children(StringInfo buf, int entries_at, const JsonbValue *items, int n, int first_index,
				 uint32 total)
{
	for (int i = 0; i < n; i++)
	{
		JEntry		meta;
		uint32		len;

		convert_value(buf, &meta, &items[i], 1);
		len = JBE_OFFLENFLD(meta);
		total += len;
		if (total > JENTRY_OFFLENMASK)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("total size of jsonb array elements exceeds the maximum of %u bytes",
							JENTRY_OFFLENMASK)));
		if (((i + first_index) % JB_OFFSET_STRIDE) == 0)
			meta = (meta & JENTRY_TYPEMASK) | total | JENTRY_HAS_OFF;
		memcpy(buf->data + entries_at + sizeof(JEntry) * i, &meta, sizeof(JEntry));
	}
	return total;
}

/* Serialise one value; its JEntry (type and length) goes to *entry. */
static void
convert_value(StringInfo buf, JEntry *entry, const JsonbValue *v, int level)
{
	int			base = buf->len;
	int			pad;
	uint32		header;
	int			entries_at;

	switch (v->type)
	{
		case jbvNull:
			*entry = JENTRY_ISNULL;
			return;
		case jbvBool:
			*entry = v->val.boolean ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
			return;
		case jbvString:
			appendBinaryStringInfo(buf, v->val.string.val, v->val.string.len);
			*entry = JENTRY_ISSTRING | v->val.string.len;
			return;
		case jbvNumeric:
			pad = pad_int(buf);
			appendBinaryStringInfo(buf, (char *) v->val.numeric, VARSIZE(v->val.numeric));
			*entry = JENTRY_ISNUMERIC | (pad + VARSIZE(v->val.numeric));
			return;
		case jbvBinary:
			pad = pad_int(buf);
			appendBinaryStringInfo(buf, (char *) v->val.binary.data, v->val.binary.len);
			*entry = JENTRY_ISCONTAINER | (pad + v->val.binary.len);
			return;
		case jbvArray:
			pad_int(buf);
			header = v->val.array.nElems | JB_FARRAY;
			if (v->val.array.rawScalar)
				header |= JB_FSCALAR;
			appendBinaryStringInfo(buf, (char *) &header, sizeof(uint32));
			entries_at = buf->len;
			for (int i = 0; i < v->val.array.nElems; i++)
				appendBinaryStringInfo(buf, "\0\0\0\0", sizeof(JEntry));
			convert_children(buf, entries_at, v->val.array.elems, v->val.array.nElems, 0, 0);
			break;
		case jbvObject:
			{
				int			n = v->val.object.nPairs;
				JsonbValue *keys = palloc(sizeof(JsonbValue) * Max(n, 1));
				JsonbValue *vals = palloc(sizeof(JsonbValue) * Max(n, 1));

				pad_int(buf);
				header = n | JB_FOBJECT;
				appendBinaryStringInfo(buf, (char *) &header, sizeof(uint32));
				entries_at = buf->len;
				for (int i = 0; i < 2 * n; i++)
					appendBinaryStringInfo(buf, "\0\0\0\0", sizeof(JEntry));
				for (int i = 0; i < n; i++)
				{
					keys[i] = v->val.object.pairs[i].key;
					vals[i] = v->val.object.pairs[i].value;
				}
				convert_children(buf, entries_at + sizeof(JEntry) * n, vals, n, n,
								 convert_children(buf, entries_at, keys, n, 0, 0));
				pfree(keys);
				pfree(vals);
			}
			break;
		default:
			elog(ERROR, "unknown type of jsonb container to convert");
	}
	*entry = JENTRY_ISCONTAINER | (buf->len - base);
}

/* A Jsonb from a JsonbValue (scalars become a raw-scalar array). */
Jsonb *
JsonbValueToJsonb(JsonbValue *val)
{
	StringInfoData buf;
	JEntry		entry;
	Jsonb	   *res;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, "\0\0\0\0", VARHDRSZ);
	if (val->type == jbvArray || val->type == jbvObject || val->type == jbvBinary)
		convert_value(&buf, &entry, val, 0);
	else
	{
		JsonbValue	wrap;

		wrap.type = jbvArray;
		wrap.val.array.nElems = 1;
		wrap.val.array.elems = val;
		wrap.val.array.rawScalar = true;
		convert_value(&buf, &entry, &wrap, 0);
	}
	res = (Jsonb *) buf.data;
	SET_VARSIZE(res, buf.len);
	return res;
}

/* ---------------------------------------------------------------------
 * jsonb_in: PostgreSQL's JSON parser, building with pushJsonbValue
 * --------------------------------------------------------------------- */

typedef struct ShimJsonState
{
	JsonbParseState *parse;
	JsonbValue *res;
	int			depth;
} ShimJsonState;

/* Fail as check_stack_depth() would on deep nesting. */
static void
shim_json_nest(ShimJsonState *s)
{
	if (++s->depth > SHIM_JSON_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
				 errmsg("stack depth limit exceeded")));
}

static void
shim_json_object_start(void *state)
{
	ShimJsonState *s = state;

	shim_json_nest(s);
	s->res = pushJsonbValue(&s->parse, WJB_BEGIN_OBJECT, NULL);
}

static void
shim_json_object_end(void *state)
{
	ShimJsonState *s = state;

	s->depth--;
	s->res = pushJsonbValue(&s->parse, WJB_END_OBJECT, NULL);
}

static void
shim_json_array_start(void *state)
{
	ShimJsonState *s = state;

	shim_json_nest(s);
	s->res = pushJsonbValue(&s->parse, WJB_BEGIN_ARRAY, NULL);
}

static void
shim_json_array_end(void *state)
{
	ShimJsonState *s = state;

	s->depth--;
	s->res = pushJsonbValue(&s->parse, WJB_END_ARRAY, NULL);
}

static void
shim_json_object_field_start(void *state, char *fname, bool isnull)
{
	ShimJsonState *s = state;
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = fname;
	k.val.string.len = strlen(fname);
	s->res = pushJsonbValue(&s->parse, WJB_KEY, &k);
}

static void
shim_json_scalar(void *state, char *token, JsonTokenType tokentype)
{
	ShimJsonState *s = state;
	JsonbValue	v;

	switch (tokentype)
	{
		case JSON_TOKEN_STRING:
			v.type = jbvString;
			v.val.string.val = token;
			v.val.string.len = strlen(token);
			break;
		case JSON_TOKEN_NUMBER:
			v.type = jbvNumeric;
			v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(token),
																ObjectIdGetDatum(InvalidOid),
																Int32GetDatum(-1)));
			break;
		case JSON_TOKEN_TRUE:
		case JSON_TOKEN_FALSE:
			v.type = jbvBool;
			v.val.boolean = tokentype == JSON_TOKEN_TRUE;
			break;
		case JSON_TOKEN_NULL:
			v.type = jbvNull;
			break;
		default:
			elog(ERROR, "invalid json token type");
	}
	if (s->parse == NULL)
	{
		/* a scalar document: the backend's raw-scalar array */
		JsonbValue	va;

		va.type = jbvArray;
		va.val.array.rawScalar = true;
		va.val.array.nElems = 1;
		pushJsonbValue(&s->parse, WJB_BEGIN_ARRAY, &va);
		pushJsonbValue(&s->parse, WJB_ELEM, &v);
		s->res = pushJsonbValue(&s->parse, WJB_END_ARRAY, NULL);
	}
	else if (s->parse->contVal.type == jbvArray)
		pushJsonbValue(&s->parse, WJB_ELEM, &v);
	else
		pushJsonbValue(&s->parse, WJB_VALUE, &v);
}

Datum
jsonb_in(PG_FUNCTION_ARGS)
{
	char	   *json = PG_GETARG_CSTRING(0);
	JsonLexContext *lex;
	JsonSemAction sem;
	ShimJsonState state;
	JsonParseErrorType err;

	memset(&state, 0, sizeof(state));
	memset(&sem, 0, sizeof(sem));
	lex = makeJsonLexContextCstringLen(json, strlen(json), PG_UTF8, true);
	sem.semstate = &state;
	sem.object_start = shim_json_object_start;
	sem.object_end = shim_json_object_end;
	sem.array_start = shim_json_array_start;
	sem.array_end = shim_json_array_end;
	sem.object_field_start = shim_json_object_field_start;
	sem.scalar = shim_json_scalar;
	err = pg_parse_json(lex, &sem);
	if (err != JSON_SUCCESS)
		ereport(ERROR,
				(errcode(err == JSON_UNICODE_CODE_POINT_ZERO || err == JSON_UNICODE_HIGH_ESCAPE ?
						 ERRCODE_UNTRANSLATABLE_CHARACTER : ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s", "json"),
				 errdetail("pg_parse_json error %d.", (int) err)));
	if (state.res == NULL)
		elog(ERROR, "jsonb_in: the parser produced no value");
	PG_RETURN_POINTER(JsonbValueToJsonb(state.res));
}

/* ---------------------------------------------------------------------
 * reading
 * --------------------------------------------------------------------- */

uint32
getJsonbOffset(const JsonbContainer *jc, int index)
{
	uint32		offset = 0;

	for (int i = index - 1; i >= 0; i--)
	{
		offset += JBE_OFFLENFLD(jc->children[i]);
		if (JBE_HAS_OFF(jc->children[i]))
			break;
	}
	return offset;
}

uint32
getJsonbLength(const JsonbContainer *jc, int index)
{
	uint32		off = JBE_OFFLENFLD(jc->children[index]);

	if (JBE_HAS_OFF(jc->children[index]))
		return off - getJsonbOffset(jc, index);
	return off;
}

/* Describe child 'index' of a container, whose data starts at base + offset. */
static void
fill_value(JsonbContainer *c, int index, char *base, uint32 offset, JsonbValue *out)
{
	JEntry		e = c->children[index];

	switch (e & JENTRY_TYPEMASK)
	{
		case JENTRY_ISSTRING:
			out->type = jbvString;
			out->val.string.val = base + offset;
			out->val.string.len = getJsonbLength(c, index);
			break;
		case JENTRY_ISNUMERIC:
			out->type = jbvNumeric;
			out->val.numeric = (Numeric) (base + INTALIGN(offset));
			break;
		case JENTRY_ISBOOL_TRUE:
		case JENTRY_ISBOOL_FALSE:
			out->type = jbvBool;
			out->val.boolean = (e & JENTRY_TYPEMASK) == JENTRY_ISBOOL_TRUE;
			break;
		case JENTRY_ISNULL:
			out->type = jbvNull;
			break;
		case JENTRY_ISCONTAINER:
			out->type = jbvBinary;
			out->val.binary.data = (JsonbContainer *) (base + INTALIGN(offset));
			out->val.binary.len = getJsonbLength(c, index) - (INTALIGN(offset) - offset);
			break;
		default:
			elog(ERROR, "jsonb_shim: bad JEntry type 0x%08x", e);
	}
}

/* Iterator over one container. */
static JsonbIterator *
iterator_for(JsonbContainer *c, JsonbIterator *parent)
{
	JsonbIterator *it = palloc0(sizeof(JsonbIterator));

	it->container = c;
	it->nElems = JsonContainerSize(c);
	it->children = c->children;
	it->parent = parent;
	if (JsonContainerIsArray(c))
	{
		it->dataProper = (char *) &c->children[it->nElems];
		it->isScalar = JsonContainerIsScalar(c);
		it->state = JBI_ARRAY_START;
	}
	else
	{
		it->dataProper = (char *) &c->children[it->nElems * 2];
		it->state = JBI_OBJECT_START;
	}
	return it;
}

JsonbIterator *
JsonbIteratorInit(JsonbContainer *container)
{
	return iterator_for(container, NULL);
}

/* Drop an exhausted iterator, returning its parent. */
static JsonbIterator *
iterator_pop(JsonbIterator *it)
{
	JsonbIterator *parent = it->parent;

	pfree(it);
	return parent;
}

JsonbIteratorToken
JsonbIteratorNext(JsonbIterator **it, JsonbValue *val, bool skipNested)
{
	JsonbIterator *i;

	for (;;)
	{
		i = *it;
		if (i == NULL)
			return WJB_DONE;
		switch (i->state)
		{
			case JBI_ARRAY_START:
				val->type = jbvArray;
				val->val.array.nElems = i->nElems;
				val->val.array.rawScalar = i->isScalar;
				i->curIndex = 0;
				i->curDataOffset = 0;
				i->curValueOffset = 0;
				i->state = JBI_ARRAY_ELEM;
				return WJB_BEGIN_ARRAY;
			case JBI_ARRAY_ELEM:
				if (i->curIndex >= (int) i->nElems)
				{
					*it = iterator_pop(i);
					return WJB_END_ARRAY;
				}
				fill_value(i->container, i->curIndex, i->dataProper, i->curDataOffset, val);
				JBE_ADVANCE_OFFSET(i->curDataOffset, i->children[i->curIndex]);
				i->curIndex++;
				if (!skipNested && val->type == jbvBinary)
				{
					*it = iterator_for(val->val.binary.data, i);
					continue;
				}
				return WJB_ELEM;
			case JBI_OBJECT_START:
				val->type = jbvObject;
				val->val.object.nPairs = i->nElems;
				i->curIndex = 0;
				i->curDataOffset = 0;
				i->curValueOffset = getJsonbOffset(i->container, i->nElems);
				i->state = JBI_OBJECT_KEY;
				return WJB_BEGIN_OBJECT;
			case JBI_OBJECT_KEY:
				if (i->curIndex >= (int) i->nElems)
				{
					*it = iterator_pop(i);
					return WJB_END_OBJECT;
				}
				fill_value(i->container, i->curIndex, i->dataProper, i->curDataOffset, val);
				if (val->type != jbvString)
					elog(ERROR, "unexpected jsonb type as object key");
				i->state = JBI_OBJECT_VALUE;
				return WJB_KEY;
			case JBI_OBJECT_VALUE:
				i->state = JBI_OBJECT_KEY;
				fill_value(i->container, i->curIndex + i->nElems, i->dataProper,
						   i->curValueOffset, val);
				JBE_ADVANCE_OFFSET(i->curDataOffset, i->children[i->curIndex]);
				JBE_ADVANCE_OFFSET(i->curValueOffset, i->children[i->curIndex + i->nElems]);
				i->curIndex++;
				if (!skipNested && val->type == jbvBinary)
				{
					*it = iterator_for(val->val.binary.data, i);
					continue;
				}
				return WJB_VALUE;
		}
	}
}

/* Value of a key in an object container (palloc'd), or NULL. */
JsonbValue *
getKeyJsonValueFromContainer(JsonbContainer *container, const char *keyVal, int keyLen,
							 JsonbValue *res)
{
	int			n = JsonContainerSize(container);
	char	   *base = (char *) &container->children[n * 2];
	int			lo = 0,
				hi = n;

	if (!JsonContainerIsObject(container) || n == 0)
		return NULL;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		uint32		off = getJsonbOffset(container, mid);
		uint32		len = getJsonbLength(container, mid);
		int			cmp;

		if ((int) len != keyLen)
			cmp = (int) len > keyLen ? 1 : -1;
		else
			cmp = memcmp(base + off, keyVal, keyLen);
		if (cmp == 0)
		{
			if (res == NULL)
				res = palloc(sizeof(JsonbValue));
			fill_value(container, mid + n, base, getJsonbOffset(container, mid + n), res);
			return res;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Scalar equality for array membership lookups. */
static bool
scalar_equal(const JsonbValue *a, const JsonbValue *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type)
	{
		case jbvNull:
			return true;
		case jbvBool:
			return a->val.boolean == b->val.boolean;
		case jbvString:
			return a->val.string.len == b->val.string.len &&
				memcmp(a->val.string.val, b->val.string.val, a->val.string.len) == 0;
		case jbvNumeric:
			return strtod(num_text(a->val.numeric), NULL) == strtod(num_text(b->val.numeric), NULL);
		default:
			return false;
	}
}

JsonbValue *
findJsonbValueFromContainer(JsonbContainer *container, uint32 flags, JsonbValue *key)
{
	int			n = JsonContainerSize(container);

	if ((flags & JB_FARRAY) && JsonContainerIsArray(container))
	{
		char	   *base = (char *) &container->children[n];
		uint32		off = 0;
		JsonbValue *r = palloc(sizeof(JsonbValue));

		for (int i = 0; i < n; i++)
		{
			fill_value(container, i, base, off, r);
			if (r->type == key->type && scalar_equal(r, key))
				return r;
			JBE_ADVANCE_OFFSET(off, container->children[i]);
		}
		pfree(r);
	}
	else if ((flags & JB_FOBJECT) && JsonContainerIsObject(container))
		return getKeyJsonValueFromContainer(container, key->val.string.val,
											key->val.string.len, NULL);
	return NULL;
}

JsonbValue *
getIthJsonbValueFromContainer(JsonbContainer *container, uint32 i)
{
	int			n = JsonContainerSize(container);
	JsonbValue *r;

	if (!JsonContainerIsArray(container))
		elog(ERROR, "not a jsonb array");
	if (i >= (uint32) n)
		return NULL;
	r = palloc(sizeof(JsonbValue));
	fill_value(container, i, (char *) &container->children[n], getJsonbOffset(container, i), r);
	return r;
}
