/*
 * moments.h — sufficient statistics of a regression problem, as a value.
 *
 * galaxy.moments is the state of the aggregates galaxy.regression_moments(y,
 * x[]) and galaxy_internal.split_moments(y, x[], seed, test_size): for the
 * d = p + 1 columns (the p features, then the target) of the rows it saw, the
 * count, the means and the centred cross products (Welford's update per row,
 * Chan's pairwise merge in the combine function), the minimum and maximum of
 * each column; and, for rows in which a feature is NULL, raw sums from which
 * any imputation (fill value per column) and any centring and scaling can be
 * applied afterwards, exactly.  It is a real type (varlena, double aligned)
 * with text and binary I/O, so PostgreSQL's parallel aggregation and Citus's
 * pushdown can ship partial states between processes and nodes.
 *
 * A state holds one part (all rows) or two (split_moments: the training rows
 * and the held-out rows, chosen per row by a hash of its values and the
 * seed, so the same row falls on the same side wherever it is read).
 *
 * A split_moments state may also carry a sample of the rows it saw (every
 * part), for the model's training profile (the drift baseline): the rows
 * whose sampling key (a second hash of the row and the seed, in [0, 1)) is
 * below 2^-level.  When the sample would pass moments_sample_max(d) rows,
 * the level goes up by one and the rows above the new bound leave, so the
 * sample of a set of rows is the same however the rows were read, ordered
 * or split between processes and nodes: every row whose key is below
 * 2^-L, for the smallest L (not below the starting level) that keeps it
 * within the limit.
 *
 * Every state that reaches a function from outside (text or binary input, a
 * column value) is validated first (moments_check): a hostile value gives an
 * ERROR, never a crash.
 */
#ifndef GALAXY_MOMENTS_H
#define GALAXY_MOMENTS_H

#include "fmgr.h"

#define MOMENTS_MAGIC		0x474D4F31	/* "GMO1" */
#define MOMENTS_MAX_COLUMNS 1025	/* d: 1024 features and the target */
#define MOMENTS_TEXT_PREFIX "GMO1:"

/* flags */
#define MOMENTS_HAS_NULLS	0x1			/* the parts carry the NULL-row sums */
#define MOMENTS_HAS_SAMPLE	0x2			/* a sample of the rows follows the parts */

/*
 * The heap a process maps in before its first sample, or before it merges
 * the parallel workers' states (galaxy_prepare_memory): room for the
 * sample's growing copies.
 */
#define MOMENTS_SAMPLE_ARENA_MB 4

/* The highest sampling level: bound 2^-64, below every key but 0 */
#define MOMENTS_SAMPLE_MAX_LEVEL 64

typedef struct MomentsData
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint32		magic;
	int32		d;				/* columns: features, then the target */
	int32		n_parts;		/* 1, or 2 (training, held out) */
	int32		flags;
	int32		pad;
	uint64		seed;			/* split_moments' parameters (0, 0 otherwise) */
	double		test_size;
	double		n_skipped;		/* rows skipped for a NULL target */
	/* then n_parts parts of moments_part_doubles(d, flags) doubles each */
	/* then, with MOMENTS_HAS_SAMPLE, the sample (MomentsSample) */
} MomentsData;

/*
 * The sample of a state, as pointers into it: the level, the count of rows
 * and the capacity (rows there is room for), then capacity rows of d + 1
 * single-precision values: the row's key (rounded towards 0), its d - 1
 * features (NaN for NULL), its target (values beyond single precision's
 * range clamped to it).  Only the first count rows are data; the binary
 * and text forms carry those alone.
 */
typedef struct MomentsSample
{
	double	   *level;
	double	   *count;
	double	   *capacity;
	float	   *rows;
	int			width;			/* d + 1 */
} MomentsSample;

/*
 * One part, as pointers into a state.  Rows without a NULL: count nc, mean,
 * m2 (packed upper triangle, d (d + 1) / 2, centred on mean).  Rows with a
 * NULL feature (only with MOMENTS_HAS_NULLS): count nn, s (packed: sum of
 * x_j x_k over rows where both are present), t (full d x d: t[j * d + k] =
 * sum of x_j over rows where j and k are both present), c (packed: count of
 * rows where both are present).  min/max over the present values of all rows.
 */
typedef struct MomentsPart
{
	double	   *nc;
	double	   *nn;
	double	   *mean;
	double	   *m2;
	double	   *min;
	double	   *max;
	double	   *s;				/* NULL without MOMENTS_HAS_NULLS */
	double	   *t;
	double	   *c;
} MomentsPart;

/* Per-column summary of one part (present values only). */
typedef struct MomentsColumn
{
	double		count;
	double		mean;
	double		sd;				/* population standard deviation */
	double		min;
	double		max;
} MomentsColumn;

/*
 * The transformed value of column j is (v - center[j]) / scale[j], where v is
 * the value, or fill[j] when it is NULL.  moments_gram gives, over the rows
 * of one part, the sums U[j] of transformed values and their cross products
 * R (full d x d, about zero).
 */
typedef struct MomentsTransform
{
	const double *center;
	const double *scale;
	const double *fill;
} MomentsTransform;

static inline Size
moments_packed(int d)
{
	return (Size) d * (d + 1) / 2;
}

/* Index of (j, k), j <= k, in a packed upper triangle of order d. */
static inline Size
moments_pidx(int d, int j, int k)
{
	return (Size) j * d - (Size) j * (j - 1) / 2 + (k - j);
}

extern Size moments_part_doubles(int d, int flags);
extern Size moments_size(int d, int n_parts, int flags, Size sample_capacity);
extern MomentsData *moments_create(int d, int n_parts, int flags, uint64 seed, double test_size);
extern void moments_part(const MomentsData *m, int part, MomentsPart *out);
extern MomentsData *moments_with_nulls(const MomentsData *m);
extern void moments_check(const MomentsData *m, Size size);

/* Accumulate one row (x: d - 1 features, isnull per feature; y not NULL). */
extern void moments_add_row(MomentsData *m, int part, const double *x, const bool *isnull, double y);
/* The same for a row without NULLs (xy: the d - 1 features, then the target). */
extern void moments_add_full_row(MomentsData *m, int part, const double *xy);

/*
 * Merge b into a (same d, parts, split, and both with a sample or neither);
 * returns a, or its larger copy when a must gain b's NULL sums or room for
 * b's sample rows.
 */
extern MomentsData *moments_merge(MomentsData *a, const MomentsData *b);

/* The sample: its limit of rows for d columns, its pointers, a row's entry. */
extern Size moments_sample_max(int d);
extern void moments_sample(const MomentsData *m, MomentsSample *out);
extern MomentsData *moments_start_sample(const MomentsData *m, int level);
extern MomentsData *moments_sample_row(MomentsData *m, double key, const double *x, const bool *isnull,
									   double y);

/*
 * A row's hash with a seed, in [0, 1) (the split's, and the streaming
 * samples'): moments_row_mix of its values, then moments_hash_unit with the
 * seed (the mix is shared by hashes of one row with several seeds).
 */
extern uint64 moments_row_mix(const double *x, const bool *isnull, int p, double y);
/* The same mix for a row without NULLs (xy: the p features, then the target). */
extern uint64 moments_full_row_mix(const double *xy, int p);
extern double moments_hash_unit(uint64 mix, uint64 seed);
extern double moments_row_hash(uint64 seed, const double *x, const bool *isnull, int p, double y);

/* The salt of the sampling key's seed (independent of the split's hash). */
#define MOMENTS_SAMPLE_SALT		UINT64CONST(0x53414D504C450001)

/* Which part a row falls in (0 training, 1 held out) for split states: from its mix, or its values. */
extern int	moments_part_of_mix(uint64 mix, uint64 seed, double test_size);
extern int	moments_row_part(uint64 seed, double test_size, const double *x, const bool *isnull,
							 int p, double y);

extern double moments_rows(const MomentsData *m, int part);
extern void moments_columns(const MomentsData *m, int part, MomentsColumn *cols);
extern void moments_gram(const MomentsData *m, int part, const MomentsTransform *tf,
						 double *U, double *R);

/* Portable external form (network byte order), for text and binary I/O. */
extern char *moments_encode(const MomentsData *m, Size *len);
extern MomentsData *moments_decode(const char *buf, Size len);
extern char *moments_to_text(const MomentsData *m);
extern MomentsData *moments_from_text(const char *s);

/*
 * Shared by the scale-out states' external forms (moments.c): big-endian
 * fields, doubles by their bits, and "PREFIX:" + hexadecimal text.
 */
extern void scale_put32(char **p, uint32 v);
extern void scale_put64(char **p, uint64 v);
extern uint32 scale_get32(const char **p);
extern uint64 scale_get64(const char **p);
extern uint64 scale_double_bits(double v);
extern double scale_bits_double(uint64 u);
extern char *scale_hex_encode(const char *prefix, const char *bin, Size len);
extern char *scale_hex_decode(const char *s, const char *prefix, const char *typname, Size *len);

/*
 * A row's features for an aggregate's transition function (moments_sql.c):
 * from a float8[] argument, or from the float8 arguments first .. nargs - 1
 * (fname names the function in errors); returns their number.
 */
extern int	scale_features_from_array(FunctionCallInfo fcinfo, int argno, double *xs, bool *isnull,
									  bool *any_null);
extern int	scale_features_from_args(FunctionCallInfo fcinfo, int first, const char *fname,
									 double *xs, bool *isnull, bool *any_null);

/* A state Datum, detoasted and validated. */
extern MomentsData *moments_from_datum(Datum d);

/* A validated state a direct call may change (copied when it is the argument). */
extern void *scale_private_state(void *validated, Datum arg);

#endif							/* GALAXY_MOMENTS_H */
