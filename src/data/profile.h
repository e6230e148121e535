/*
 * profile.h — column profiles of a relation (src/data/profile.c), shared by
 * galaxy.profile(), galaxy.create_dataset() and the drift baseline.
 */
#ifndef GALAXY_PROFILE_H
#define GALAXY_PROFILE_H

#include "data/data_internal.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

#define PROFILE_QUANTILES	5	/* p5, p25, p50, p75, p95 */
#define PROFILE_MAX_BINS	10
#define PROFILE_MAX_TOP		10
#define PROFILE_NATTS		14	/* columns of galaxy.profile() */

/* The profile of one column. */
typedef struct ColumnProfile
{
	char	   *name;
	AttrNumber	attnum;
	Oid			typid;
	char	   *typname;
	int			kind;			/* InputKind, or 0 for other types */
	ScalarConv	conv;
	CategoryConv cat;
	Oid			outfunc;

	int64		count;			/* non-NULL values */
	int64		nulls;
	int64		non_finite;		/* NaN/Infinity (and NULL array elements) */
	int64		n_distinct;
	int			width;			/* arrays: length of the first one */
	bool		ragged;			/* arrays: lengths differ (or multidimensional) */

	/* numbers (numeric, boolean, array elements), sorted when finished */
	double	   *values;
	int64		n_values;
	int64		cap_values;
	bool		has_numbers;
	double		min,
				max,
				mean,
				stddev;
	bool		has_quantiles;
	double		quantiles[PROFILE_QUANTILES];
	int			n_bins;
	double		hist_edges[PROFILE_MAX_BINS + 1];
	int64		hist_counts[PROFILE_MAX_BINS];

	/* values of everything else, counted */
	Dict	   *dict;
	int			n_top;
	char	   *top_values[PROFILE_MAX_TOP];
	int64		top_counts[PROFILE_MAX_TOP];
} ColumnProfile;

typedef struct ProfileState
{
	const char *relname;
	int64		rows;
	int			ncols;
	ColumnProfile *cols;
	Size		bytes;			/* memory held for values */
	MemoryContext cxt;
} ProfileState;

/* Profile the named columns (NIL = all) of a relation, read as the caller. */
extern ProfileState *profile_compute(Oid relid, List *columns);

/* Linear-interpolated p-quantile of n sorted values (like percentile_cont). */
extern double profile_quantile(const double *v, int64 n, double p);

/* {"row_count": N, "columns": {"name": {...}, ...}} */
extern Jsonb *profile_to_jsonb(const ProfileState *st);

#endif							/* GALAXY_PROFILE_H */
