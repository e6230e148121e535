/*
 * data_internal.h — helpers shared by the loader, the profiler and the
 * preprocessor (src/data only): which column types galaxy accepts as model
 * inputs and how one value of such a type becomes a double.
 */
#ifndef GALAXY_DATA_INTERNAL_H
#define GALAXY_DATA_INTERNAL_H

#include "data/dataset.h"
#include "util/dict.h"
#include "utils/relcache.h"

/* How a scalar Datum is turned into a double (precomputed per column). */
typedef enum ScalarConv
{
	CONV_NONE = 0,
	CONV_INT2,
	CONV_INT4,
	CONV_INT8,
	CONV_FLOAT4,
	CONV_FLOAT8,
	CONV_NUMERIC,
	CONV_BOOL
} ScalarConv;

/* How a categorical Datum is turned into bytes. */
typedef enum CategoryConv
{
	CAT_NONE = 0,
	CAT_TEXT,					/* text, varchar, bpchar (bytes as stored) */
	CAT_NAME,
	CAT_ENUM
} CategoryConv;

/* Result of data_array_fill(). */
typedef enum ArrayFillResult
{
	ARRAYFILL_OK = 0,
	ARRAYFILL_BAD_LENGTH,		/* element count differs from width */
	ARRAYFILL_MULTIDIM,			/* more than one dimension */
	ARRAYFILL_NONFINITE			/* a NaN or infinite element */
} ArrayFillResult;

/*
 * Classify a column type (domains are resolved to their base type).
 * Returns 0 when the type is not a supported input; otherwise the kind, and
 * the scalar conversion (numeric/boolean kinds, and the element conversion
 * for arrays) and the category conversion (categorical kind).
 */
extern int	data_classify_type(Oid typid, ScalarConv *conv, CategoryConv *cat);

/* attnum of a named column; ERROR if it does not exist or is a system column. */
extern AttrNumber data_column_attnum(Relation rel, const char *name, const char *role);
/* qsort comparator for doubles, ascending. */
static inline int
data_cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* qsort comparator for int32s, ascending. */
static inline int
data_cmp_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/* data_qsort_int32(a, n): PostgreSQL's quicksort specialised for int32s (no comparator calls). */
#define ST_SORT data_qsort_int32
#define ST_ELEMENT_TYPE int32
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_SCOPE static inline
#define ST_DECLARE
#define ST_DEFINE
#include "lib/sort_template.h"

/* Sort n int32s ascending (insertion sort for the few terms of a short text). */
static inline void
data_sort_int32(int32 *a, int n)
{
	if (n > 24)
	{
		data_qsort_int32(a, n);
		return;
	}
	for (int i = 1; i < n; i++)
	{
		int32		v = a[i];
		int			j = i - 1;

		while (j >= 0 && a[j] > v)
		{
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = v;
	}
}

/* Whether a column is a key (primary key, identity, serial): never a default feature. */
extern bool data_column_is_key(Relation rel, AttrNumber attnum);
/* NOTICE naming the key columns left out of the default features (none: nothing). */
extern void data_notice_keys_left_out(const char *relname, const char *keys);

/* Open a relation by OID with AccessShareLock; ERROR 42P01 if it does not exist. */
extern Relation data_open_relation(Oid relid);

/*
 * Whether a relation's rows can be read with a direct table scan rather than
 * through the executor: a plain table or materialised view without
 * inheritance children, row-level security or Citus distribution.
 */
extern bool data_scan_directly(Relation rel);

/* ERROR 42501 unless the current user may SELECT the columns (table or column privilege). */
extern void data_check_select_privilege(Relation rel, const AttrNumber *attnums, int n);

/* A scalar of the given conversion as a double (may be NaN/Inf for floats). */
extern double data_scalar_to_double(Datum d, ScalarConv conv);

/*
 * Bytes of a categorical value; 'buf' (NAMEDATALEN bytes) holds enum labels.
 * The result is not NUL-terminated; *len receives its length.
 */
extern const char *data_category_bytes(Datum d, CategoryConv cat, char *buf, int *len);

/*
 * Fill dst[0..width) from a one-dimensional numeric array; NULL elements
 * become NaN.  *nitems receives the element count.  dst is written only when
 * the result is ARRAYFILL_OK (or NONFINITE, partially).
 */
extern ArrayFillResult data_array_fill(Datum d, double *dst, int width, int *nitems);

/* Element count of a one-dimensional array datum (-1 if multidimensional). */
extern int	data_array_length(Datum d);

/* Hex SHA-256 of a schema: "name:type:width;" for each input, in order. */
extern char *data_schema_fingerprint(int n, const char *const *names,
									 const char *const *types, const int *widths);

#endif							/* GALAXY_DATA_INTERNAL_H */
