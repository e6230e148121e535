/*
 * convert.c — the column types galaxy accepts as model inputs, and the
 * allocation-free conversion of one value of such a type into doubles.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/sysattr.h"
#include "access/tupmacs.h"
#include "catalog/dependency.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "galaxy.h"
#include "data/data_internal.h"
#include "data/dataset.h"
#include "model/model.h"
#include "util/sha256.h"

/* Scalar conversion of a (base) numeric type, or CONV_NONE. */
static ScalarConv
scalar_conv_of(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return CONV_INT2;
		case INT4OID:
			return CONV_INT4;
		case INT8OID:
			return CONV_INT8;
		case FLOAT4OID:
			return CONV_FLOAT4;
		case FLOAT8OID:
			return CONV_FLOAT8;
		case NUMERICOID:
			return CONV_NUMERIC;
		default:
			return CONV_NONE;
	}
}

/* Classify a column type as a model input kind (0 = unsupported). */
int
data_classify_type(Oid typid, ScalarConv *conv, CategoryConv *cat)
{
	Oid			base;
	ScalarConv	sc;
	Oid			elem;

	*conv = CONV_NONE;
	*cat = CAT_NONE;

	/* fast path for the common built-in types (no catalog lookups) */
	switch (typid)
	{
		case BOOLOID:
			*conv = CONV_BOOL;
			return INPUT_BOOLEAN;
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			*conv = scalar_conv_of(typid);
			return INPUT_NUMERIC;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			*cat = CAT_TEXT;
			return INPUT_CATEGORICAL;
		case FLOAT4ARRAYOID:
			*conv = CONV_FLOAT4;
			return INPUT_ARRAY;
		case FLOAT8ARRAYOID:
			*conv = CONV_FLOAT8;
			return INPUT_ARRAY;
		default:
			break;
	}

	base = getBaseType(typid);

	if (base == BOOLOID)
	{
		*conv = CONV_BOOL;
		return INPUT_BOOLEAN;
	}
	sc = scalar_conv_of(base);
	if (sc != CONV_NONE)
	{
		*conv = sc;
		return INPUT_NUMERIC;
	}
	switch (base)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			*cat = CAT_TEXT;
			return INPUT_CATEGORICAL;
		case NAMEOID:
			*cat = CAT_NAME;
			return INPUT_CATEGORICAL;
		default:
			break;
	}
	if (type_is_enum(base))
	{
		*cat = CAT_ENUM;
		return INPUT_CATEGORICAL;
	}
	elem = get_element_type(base);
	if (OidIsValid(elem))
	{
		sc = scalar_conv_of(getBaseType(elem));
		if (sc != CONV_NONE)
		{
			*conv = sc;
			return INPUT_ARRAY;
		}
	}
	return 0;
}

/* One scalar as a double. */
double
data_scalar_to_double(Datum d, ScalarConv conv)
{
	switch (conv)
	{
		case CONV_INT2:
			return (double) DatumGetInt16(d);
		case CONV_INT4:
			return (double) DatumGetInt32(d);
		case CONV_INT8:
			return (double) DatumGetInt64(d);
		case CONV_FLOAT4:
			return (double) DatumGetFloat4(d);
		case CONV_FLOAT8:
			return DatumGetFloat8(d);
		case CONV_NUMERIC:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
		case CONV_BOOL:
			return DatumGetBool(d) ? 1.0 : 0.0;
		case CONV_NONE:
			break;
	}
	elog(ERROR, "galaxy: unexpected scalar conversion %d", (int) conv);
	return 0.0;					/* keep compiler quiet */
}

/* Bytes of a categorical value (not NUL-terminated). */
const char *
data_category_bytes(Datum d, CategoryConv cat, char *buf, int *len)
{
	switch (cat)
	{
		case CAT_TEXT:
			{
				struct varlena *t = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));

				*len = VARSIZE_ANY_EXHDR(t);
				return VARDATA_ANY(t);
			}
		case CAT_NAME:
			{
				const char *s = NameStr(*DatumGetName(d));

				*len = strnlen(s, NAMEDATALEN);
				return s;
			}
		case CAT_ENUM:
			{
				HeapTuple	tup = SearchSysCache1(ENUMOID, d);
				Form_pg_enum en;

				if (!HeapTupleIsValid(tup))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
							 errmsg("invalid internal value for enum: %u", DatumGetObjectId(d))));
				en = (Form_pg_enum) GETSTRUCT(tup);
				*len = strnlen(NameStr(en->enumlabel), NAMEDATALEN);
				memcpy(buf, NameStr(en->enumlabel), *len);
				ReleaseSysCache(tup);
				return buf;
			}
		case CAT_NONE:
			break;
	}
	elog(ERROR, "galaxy: unexpected category conversion %d", (int) cat);
	return NULL;				/* keep compiler quiet */
}

/* Element count of a one-dimensional array (-1 if multidimensional). */
int
data_array_length(Datum d)
{
	ArrayType  *a = DatumGetArrayTypeP(d);

	if (ARR_NDIM(a) == 0)
		return 0;
	if (ARR_NDIM(a) != 1)
		return -1;
	return ARR_DIMS(a)[0];
}

/* Fill dst from a one-dimensional numeric array (NULL elements → NaN). */
ArrayFillResult
data_array_fill(Datum d, double *dst, int width, int *nitems)
{
	ArrayType  *a = DatumGetArrayTypeP(d);
	Oid			elem = ARR_ELEMTYPE(a);
	ScalarConv	conv = scalar_conv_of(elem);
	bits8	   *nulls = ARR_NULLBITMAP(a);
	const char *p = ARR_DATA_PTR(a);
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	int			n;
	bool		nonfinite = false;

	if (ARR_NDIM(a) == 0)
		n = 0;
	else if (ARR_NDIM(a) != 1)
	{
		*nitems = -1;
		return ARRAYFILL_MULTIDIM;
	}
	else
		n = ARR_DIMS(a)[0];
	*nitems = n;
	if (n != width)
		return ARRAYFILL_BAD_LENGTH;

	if (conv == CONV_NONE)
		conv = scalar_conv_of(getBaseType(elem));
	if (conv == CONV_NONE)
		elog(ERROR, "galaxy: unsupported array element type %u", elem);

	/* fast path: float8 without NULLs */
	if (conv == CONV_FLOAT8 && nulls == NULL)
	{
		memcpy(dst, p, sizeof(double) * n);
		for (int i = 0; i < n; i++)
			if (!isfinite(dst[i]))
				return ARRAYFILL_NONFINITE;
		return ARRAYFILL_OK;
	}

	get_typlenbyvalalign(elem, &elmlen, &elmbyval, &elmalign);
	for (int i = 0; i < n; i++)
	{
		double		v;

		if (nulls && !(nulls[i / 8] & (1 << (i % 8))))
		{
			dst[i] = NAN;
			continue;
		}
		v = data_scalar_to_double(fetch_att(p, elmbyval, elmlen), conv);
		p = att_addlength_pointer(p, elmlen, p);
		p = (const char *) att_align_nominal(p, elmalign);
		if (!isfinite(v))
			nonfinite = true;
		dst[i] = v;
	}
	return nonfinite ? ARRAYFILL_NONFINITE : ARRAYFILL_OK;
}

/* Hex SHA-256 of a schema: "name:type:width;" for each input, in order. */
char *
data_schema_fingerprint(int n, const char *const *names, const char *const *types, const int *widths)
{
	StringInfoData s;
	uint8		digest[GALAXY_SHA256_LEN];

	initStringInfo(&s);
	for (int i = 0; i < n; i++)
		appendStringInfo(&s, "%s:%s:%d;", names[i], types[i], widths[i]);
	galaxy_sha256(s.data, s.len, digest);
	pfree(s.data);
	return galaxy_hex(digest, GALAXY_SHA256_LEN);
}

/* attnum of a named column, ERROR if it does not exist or is a system column. */
AttrNumber
data_column_attnum(Relation rel, const char *name, const char *role)
{
	AttrNumber	att = get_attnum(RelationGetRelid(rel), name);

	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s column \"%s\" of relation \"%s\" does not exist",
						role, galaxy_short(name), RelationGetRelationName(rel))));
	if (att < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("system column \"%s\" cannot be used as a %s", name, role)));
	return att;
}

/* Open a relation by OID with AccessShareLock; ERROR 42P01 if it does not exist. */
Relation
data_open_relation(Oid relid)
{
	Relation	rel = OidIsValid(relid) ? try_relation_open(relid, AccessShareLock) : NULL;

	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return rel;
}

/* See data_internal.h. */
bool
data_scan_directly(Relation rel)
{
	char		relkind = rel->rd_rel->relkind;

	return (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW) &&
		!rel->rd_rel->relhassubclass &&
		check_enable_rls(RelationGetRelid(rel), InvalidOid, false) == RLS_NONE &&
		!dataset_is_distributed(RelationGetRelid(rel));
}

/* See data_internal.h. */
void
data_check_select_privilege(Relation rel, const AttrNumber *attnums, int n)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			user = GetUserId();

	if (pg_class_aclcheck(relid, user, ACL_SELECT) == ACLCHECK_OK)
		return;
	for (int i = 0; i < n; i++)
		if (pg_attribute_aclcheck(relid, attnums[i], user, ACL_SELECT) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(rel->rd_rel->relkind),
						   RelationGetRelationName(rel));
}

/*
 * Whether a column is a key rather than data: part of the primary key, an
 * identity column, or a serial column (its default draws from a sequence it
 * owns).  Such columns are never default features: an id predicts nothing
 * and only overfits.
 */
bool
data_column_is_key(Relation rel, AttrNumber attnum)
{
	Form_pg_attribute a = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	Bitmapset  *pk;
	List	   *seqs;
	ListCell   *lc;

	if (a->attidentity != '\0')
		return true;
	pk = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);
	if (bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, pk))
		return true;
	if (!a->atthasdef)
		return false;
	seqs = getOwnedSequences(RelationGetRelid(rel));
	foreach(lc, seqs)
	{
		Oid			table;
		int32		col;

		if (sequenceIsOwned(lfirst_oid(lc), DEPENDENCY_AUTO, &table, &col) &&
			table == RelationGetRelid(rel) && col == attnum)
			return true;
	}
	return false;
}

/*
 * Say which key columns were left out of the default features: one NOTICE
 * naming them (keys: a comma-separated list; nothing when empty), so that a
 * user who expected an id to be a feature learns why it is not.
 */
void
data_notice_keys_left_out(const char *relname, const char *keys)
{
	if (keys == NULL || keys[0] == '\0')
		return;
	ereport(NOTICE,
			(errmsg("key columns of \"%s\" are not used as features: %s", relname, keys),
			 errhint("Primary-key, identity and serial columns are never default features; "
					 "name one in features to use it.")));
}
