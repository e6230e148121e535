/*
 * moments.c — the galaxy.moments value: layout, validation, the per-row
 * update, the merge, the portable encoding and the derived sums (see
 * moments.h).  No catalog access here; the SQL-callable functions are in
 * moments_sql.c.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "fmgr.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "scale/moments.h"

/* Doubles in one part: nc, nn, mean, m2, min, max [, s, t, c]. */
Size
moments_part_doubles(int d, int flags)
{
	Size		n = 2 + (Size) 3 * d + moments_packed(d);

	if (flags & MOMENTS_HAS_NULLS)
		n += 2 * moments_packed(d) + (Size) d * d;
	return n;
}

/*
 * Doubles of a sample with room for 'capacity' rows: level, count,
 * capacity, then the rows' single-precision values, d + 1 a row.
 */
static Size
sample_doubles(int d, Size capacity)
{
	return 3 + (capacity * (Size) (d + 1) + 1) / 2;
}

/* Bytes of a state (sample_capacity: rows of its sample, with MOMENTS_HAS_SAMPLE). */
Size
moments_size(int d, int n_parts, int flags, Size sample_capacity)
{
	Size		n = moments_part_doubles(d, flags) * n_parts;

	if (flags & MOMENTS_HAS_SAMPLE)
		n += sample_doubles(d, sample_capacity);
	return sizeof(MomentsData) + sizeof(double) * n;
}

/*
 * The most rows a sample of d columns keeps: 32,768, fewer for wide rows
 * (about 8 MB of them), never fewer than 1,024.
 */
Size
moments_sample_max(int d)
{
	Size		by_bytes = (Size) 8 * 1024 * 1024 / (sizeof(float) * (Size) (d + 1));

	return Max((Size) 1024, Min((Size) 32768, by_bytes));
}

/* An empty state, in CurrentMemoryContext. */
MomentsData *
moments_create(int d, int n_parts, int flags, uint64 seed, double test_size)
{
	Size		size;
	MomentsData *m;

	if (d < 2 || d > MOMENTS_MAX_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("galaxy.moments takes 1 to %d features, not %d", MOMENTS_MAX_COLUMNS - 1, d - 1)));
	Assert(!(flags & MOMENTS_HAS_SAMPLE));
	size = moments_size(d, n_parts, flags, 0);
	m = palloc0(size);
	SET_VARSIZE(m, size);
	m->magic = MOMENTS_MAGIC;
	m->d = d;
	m->n_parts = n_parts;
	m->flags = flags;
	m->seed = seed;
	m->test_size = test_size;
	for (int q = 0; q < n_parts; q++)
	{
		MomentsPart pt;

		moments_part(m, q, &pt);
		for (int j = 0; j < d; j++)
		{
			pt.min[j] = get_float8_infinity();
			pt.max[j] = -get_float8_infinity();
		}
	}
	return m;
}

/* Pointers to part q of m. */
void
moments_part(const MomentsData *m, int part, MomentsPart *out)
{
	int			d = m->d;
	double	   *base = (double *) ((char *) m + sizeof(MomentsData)) +
		moments_part_doubles(d, m->flags) * part;

	out->nc = base++;
	out->nn = base++;
	out->mean = base;
	base += d;
	out->m2 = base;
	base += moments_packed(d);
	out->min = base;
	base += d;
	out->max = base;
	base += d;
	if (m->flags & MOMENTS_HAS_NULLS)
	{
		out->s = base;
		base += moments_packed(d);
		out->t = base;
		base += (Size) d * d;
		out->c = base;
	}
	else
		out->s = out->t = out->c = NULL;
}

/* The first double of m's sample. */
static double *
sample_base(const MomentsData *m)
{
	return (double *) ((char *) m + sizeof(MomentsData)) + moments_part_doubles(m->d, m->flags) * m->n_parts;
}

/* Pointers to m's sample (MOMENTS_HAS_SAMPLE). */
void
moments_sample(const MomentsData *m, MomentsSample *out)
{
	double	   *base = sample_base(m);

	Assert(m->flags & MOMENTS_HAS_SAMPLE);
	out->level = base;
	out->count = base + 1;
	out->capacity = base + 2;
	out->rows = (float *) (base + 3);
	out->width = m->d + 1;
}

/*
 * A copy of m with 'flags' (m's and perhaps more: the NULL-row sums, zero,
 * or an empty sample at level 0) and room for 'capacity' sample rows (at
 * least m's count), in CurrentMemoryContext.
 */
static MomentsData *
moments_reshape(const MomentsData *m, int flags, Size capacity)
{
	Size		size = moments_size(m->d, m->n_parts, flags, capacity);
	MomentsData *r = palloc0(size);

	Assert((flags & m->flags) == m->flags);
	memcpy(r, m, sizeof(MomentsData));
	SET_VARSIZE(r, size);
	r->flags = flags;
	for (int q = 0; q < m->n_parts; q++)
	{
		MomentsPart a,
					b;

		moments_part(m, q, &a);
		moments_part(r, q, &b);
		/* nc, nn, mean, m2, min, max are laid out the same, first */
		memcpy(b.nc, a.nc, sizeof(double) * (2 + (Size) 3 * m->d + moments_packed(m->d)));
		if (a.s != NULL)
			memcpy(b.s, a.s, sizeof(double) * (2 * moments_packed(m->d) + (Size) m->d * m->d));
	}
	if (flags & MOMENTS_HAS_SAMPLE)
	{
		MomentsSample to;

		moments_sample(r, &to);
		*to.capacity = (double) capacity;
		if (m->flags & MOMENTS_HAS_SAMPLE)
		{
			MomentsSample from;

			moments_sample(m, &from);
			Assert(*from.count <= (double) capacity);
			*to.level = *from.level;
			*to.count = *from.count;
			memcpy(to.rows, from.rows, sizeof(float) * (Size) *from.count * from.width);
		}
	}
	return r;
}

/* A copy of m that carries the NULL-row sums (zero), in CurrentMemoryContext. */
MomentsData *
moments_with_nulls(const MomentsData *m)
{
	Size		capacity = 0;

	if (m->flags & MOMENTS_HAS_SAMPLE)
	{
		MomentsSample s;

		moments_sample(m, &s);
		capacity = (Size) *s.capacity;
	}
	return moments_reshape(m, m->flags | MOMENTS_HAS_NULLS, capacity);
}

/* A copy of m (no sample yet) with an empty sample at 'level'. */
MomentsData *
moments_start_sample(const MomentsData *m, int level)
{
	MomentsData *r;
	MomentsSample s;

	Assert(!(m->flags & MOMENTS_HAS_SAMPLE));
	Assert(level >= 0 && level <= MOMENTS_SAMPLE_MAX_LEVEL);
	r = moments_reshape(m, m->flags | MOMENTS_HAS_SAMPLE, 0);
	moments_sample(r, &s);
	*s.level = level;
	return r;
}

/* 2^-level, the bound of a sample's keys at 'level' (0 .. MOMENTS_SAMPLE_MAX_LEVEL). */
static inline double
sample_bound(double level)
{
	union
	{
		uint64		u;
		double		d;
	}			b;

	/* the exponent field of 2^-level: 1023 - level, at least 959 */
	b.u = (uint64) (1023 - (int) level) << 52;
	return b.d;
}

/* Keep the sample rows whose key is below 2^-level. */
static void
sample_trim(MomentsSample *s)
{
	double		bound = sample_bound(*s->level);
	Size		n = (Size) *s->count;
	Size		kept = 0;

	for (Size i = 0; i < n; i++)
	{
		float	   *row = s->rows + i * s->width;

		if (row[0] < bound)
		{
			if (kept != i)
				memmove(s->rows + kept * s->width, row, sizeof(float) * s->width);
			kept++;
		}
	}
	*s->count = (double) kept;
}

/* A value in a sample row: single precision, clamped to its range (NaN stays NaN). */
static inline float
sample_value(double v)
{
	if (v > FLT_MAX)
		return FLT_MAX;
	if (v < -FLT_MAX)
		return -FLT_MAX;
	return (float) v;
}

/* A key in single precision, rounded towards 0: below 2^-level exactly when the key is. */
static inline float
sample_key(double key)
{
	float		f = (float) key;

	if ((double) f > key)
		f = nextafterf(f, 0.0f);
	return f;
}

/*
 * A row (its key, features and target) into m's sample when its key is
 * below the bound: room is made by doubling the capacity (a new state,
 * returned) up to moments_sample_max, then by raising the level.
 */
MomentsData *
moments_sample_row(MomentsData *m, double key, const double *x, const bool *isnull, double y)
{
	MomentsSample s;
	float	   *row;
	int			p = m->d - 1;

	moments_sample(m, &s);
	if (!(key < sample_bound(*s.level)))
		return m;
	if (*s.count >= *s.capacity)
	{
		Size		max = moments_sample_max(m->d);
		Size		cap = (Size) *s.capacity;

		if (cap < max)
		{
			m = moments_reshape(m, m->flags, Min(max, Max((Size) 64, 2 * cap)));
			moments_sample(m, &s);
		}
		else
		{
			while (*s.count >= *s.capacity && *s.level < MOMENTS_SAMPLE_MAX_LEVEL)
			{
				*s.level += 1.0;
				sample_trim(&s);
			}
			if (!(key < sample_bound(*s.level)) || *s.count >= *s.capacity)
				return m;
		}
	}
	row = s.rows + (Size) *s.count * s.width;
	row[0] = sample_key(key);
	for (int j = 0; j < p; j++)
		row[1 + j] = isnull[j] ? get_float4_nan() : sample_value(x[j]);
	row[1 + p] = sample_value(y);
	*s.count += 1.0;
	return m;
}

static void
moments_corrupt(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid galaxy.moments value: %s", what)));
}

/*
 * Validate a state of 'size' bytes: header, size, and every number (counts
 * non-negative and integral, values finite, min <= max where present).
 * Nothing downstream relies on more than this.
 */
void
moments_check(const MomentsData *m, Size size)
{
	int			d;

	if (size < sizeof(MomentsData))
		moments_corrupt("too short");
	if (m->magic != MOMENTS_MAGIC)
		moments_corrupt("bad magic number");
	d = m->d;
	if (d < 2 || d > MOMENTS_MAX_COLUMNS)
		moments_corrupt("column count out of range");
	if (m->n_parts != 1 && m->n_parts != 2)
		moments_corrupt("part count must be 1 or 2");
	if ((m->flags & ~(MOMENTS_HAS_NULLS | MOMENTS_HAS_SAMPLE)) != 0 || m->pad != 0)
		moments_corrupt("unknown flags");
	if (!(m->test_size >= 0.0 && m->test_size < 1.0))
		moments_corrupt("test_size out of range");
	if (m->n_parts == 1 && (m->seed != 0 || m->test_size != 0.0))
		moments_corrupt("split parameters on an unsplit state");
	if (!(m->n_skipped >= 0.0 && m->n_skipped <= 9e15) || m->n_skipped != floor(m->n_skipped))
		moments_corrupt("skipped-row count out of range");
	if (m->flags & MOMENTS_HAS_SAMPLE)
	{
		MomentsSample s;
		double		cap;

		if (m->n_parts != 2)
			moments_corrupt("a sample on an unsplit state");
		if (size < moments_size(d, m->n_parts, m->flags, 0))
			moments_corrupt("size does not match its columns");
		moments_sample(m, &s);
		cap = *s.capacity;
		if (!(cap >= 0.0 && cap <= (double) moments_sample_max(d)) || cap != floor(cap))
			moments_corrupt("sample capacity out of range");
		if (size != moments_size(d, m->n_parts, m->flags, (Size) cap))
			moments_corrupt("size does not match its columns");
		if (!(*s.level >= 0.0 && *s.level <= MOMENTS_SAMPLE_MAX_LEVEL) || *s.level != floor(*s.level))
			moments_corrupt("sample level out of range");
		if (!(*s.count >= 0.0 && *s.count <= cap) || *s.count != floor(*s.count))
			moments_corrupt("sample row count out of range");
		for (Size i = 0; i < (Size) *s.count; i++)
		{
			const float *row = s.rows + i * s.width;

			if (!(row[0] >= 0.0f && row[0] < sample_bound(*s.level)))
				moments_corrupt("sample key out of range");
			/* features: finite, or NaN for NULL; the target finite */
			for (int j = 1; j < d; j++)
				if (isinf(row[j]))
					moments_corrupt("infinite sample value");
			if (!isfinite(row[d]))
				moments_corrupt("non-finite sample target");
		}
	}
	else if (size != moments_size(d, m->n_parts, m->flags, 0))
		moments_corrupt("size does not match its columns");

	for (int q = 0; q < m->n_parts; q++)
	{
		MomentsPart pt;
		Size		np = moments_packed(d);
		double		nn;

		moments_part(m, q, &pt);
		if (!(*pt.nc >= 0.0 && *pt.nc <= 9e15) || *pt.nc != floor(*pt.nc))
			moments_corrupt("row count out of range");
		nn = *pt.nn;
		if (!(nn >= 0.0 && nn <= 9e15) || nn != floor(nn))
			moments_corrupt("row count out of range");
		if (nn > 0.0 && pt.s == NULL)
			moments_corrupt("rows with NULLs but no sums for them");
		for (int j = 0; j < d; j++)
		{
			if (!isfinite(pt.mean[j]))
				moments_corrupt("non-finite mean");
			if (*pt.nc == 0.0 && pt.mean[j] != 0.0)
				moments_corrupt("mean of no rows");
			if (!(isinf(pt.min[j]) && isinf(pt.max[j]) && pt.min[j] > 0 && pt.max[j] < 0) &&
				!(isfinite(pt.min[j]) && isfinite(pt.max[j]) && pt.min[j] <= pt.max[j]))
				moments_corrupt("minimum above maximum");
		}
		for (Size i = 0; i < np; i++)
			if (!isfinite(pt.m2[i]))
				moments_corrupt("non-finite cross product");
		for (int j = 0; j < d; j++)
			if (pt.m2[moments_pidx(d, j, j)] < 0.0)
				moments_corrupt("negative sum of squares");
		if (pt.s != NULL)
		{
			for (Size i = 0; i < np; i++)
				if (!isfinite(pt.s[i]) || !(pt.c[i] >= 0.0 && pt.c[i] <= nn) || pt.c[i] != floor(pt.c[i]))
					moments_corrupt("NULL-row sums out of range");
			for (Size i = 0; i < (Size) d * d; i++)
				if (!isfinite(pt.t[i]))
					moments_corrupt("NULL-row sums out of range");
			/* the target is never NULL */
			if (pt.c[moments_pidx(d, d - 1, d - 1)] != nn)
				moments_corrupt("NULL-row target count differs from the row count");
		}
	}
}

/*
 * Welford's update of one part by a row without NULLs (xy: the d values,
 * the target last): the minimum and maximum, the packed upper triangle of
 * the co-moments plus f * delta delta' (row j, d - j values, gains
 * f * delta[j] * delta[j..d-1]), then the means — the per-row cost of a
 * streaming pass.  The part's arrays do not overlap, so every loop
 * vectorizes; GCC builds it twice, for AVX2 and for any x86-64, and the
 * loader picks the one the CPU runs.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx2", "default"), optimize("tree-vectorize", "vect-cost-model=dynamic")))
#endif
static void
moments_full_update(double *restrict mean, double *restrict m2, double *restrict mn, double *restrict mx,
					const double *restrict xy, int d, double n)
{
	double		delta[MOMENTS_MAX_COLUMNS];
	double		inv_n = 1.0 / n;
	double		f = (n - 1.0) * inv_n;
	double	   *row = m2;

	for (int j = 0; j < d; j++)
	{
		double		v = xy[j];

		delta[j] = v - mean[j];
		mn[j] = v < mn[j] ? v : mn[j];
		mx[j] = v > mx[j] ? v : mx[j];
	}
	for (int j = 0; j < d; j++)
	{
		double		a = f * delta[j];
		const double *dj = delta + j;
		int			len = d - j;

		for (int k = 0; k < len; k++)
			row[k] += a * dj[k];
		row += len;
	}
	/* the means after the products (which use the old ones) */
	for (int j = 0; j < d; j++)
		mean[j] += delta[j] * inv_n;
}

/* Welford's update of part 'part' by a row without NULLs (xy: d values, the target last). */
void
moments_add_full_row(MomentsData *m, int part, const double *xy)
{
	MomentsPart pt;
	double		n;

	moments_part(m, part, &pt);
	n = *pt.nc + 1.0;
	moments_full_update(pt.mean, pt.m2, pt.min, pt.max, xy, m->d, n);
	*pt.nc = n;
}

/* The update of part 'part' by one row (any feature may be NULL). */
void
moments_add_row(MomentsData *m, int part, const double *x, const bool *isnull, double y)
{
	int			d = m->d;
	int			p = d - 1;
	MomentsPart pt;
	bool		any_null = false;
	double		v[MOMENTS_MAX_COLUMNS];
	bool		present[MOMENTS_MAX_COLUMNS];

	for (int j = 0; j < p; j++)
		any_null |= isnull[j];
	if (!any_null)
	{
		memcpy(v, x, sizeof(double) * p);
		v[p] = y;
		moments_add_full_row(m, part, v);
		return;
	}

	moments_part(m, part, &pt);
	Assert(pt.s != NULL);
	for (int j = 0; j < p; j++)
	{
		present[j] = !isnull[j];
		v[j] = present[j] ? x[j] : 0.0;
		if (!present[j])
			continue;
		if (x[j] < pt.min[j])
			pt.min[j] = x[j];
		if (x[j] > pt.max[j])
			pt.max[j] = x[j];
	}
	if (y < pt.min[p])
		pt.min[p] = y;
	if (y > pt.max[p])
		pt.max[p] = y;
	present[p] = true;
	v[p] = y;
	for (int j = 0; j < d; j++)
	{
		if (!present[j])
			continue;
		for (int k = j; k < d; k++)
		{
			Size		i;

			if (!present[k])
				continue;
			i = moments_pidx(d, j, k);
			pt.s[i] += v[j] * v[k];
			pt.c[i] += 1.0;
			pt.t[(Size) j * d + k] += v[j];
			if (k != j)
				pt.t[(Size) k * d + j] += v[k];
		}
	}
	*pt.nn += 1.0;
}

/*
 * Chan, Golub and LeVeque's pairwise merge of b into a, and b's sample rows
 * into a's (at the higher of the two levels); returns a, or the larger copy
 * of it that took them.
 */
MomentsData *
moments_merge(MomentsData *a, const MomentsData *b)
{
	int			d = a->d;

	if ((a->flags & MOMENTS_HAS_SAMPLE) != (b->flags & MOMENTS_HAS_SAMPLE))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot combine a galaxy.moments with a sample of its rows and one without"),
				 errdetail("Partial states of one aggregate always agree; these come from different aggregates.")));
	if (b->d != a->d || b->n_parts != a->n_parts || b->seed != a->seed || b->test_size != a->test_size)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot combine galaxy.moments of %d columns and %d parts with one of %d columns and %d parts",
						a->d - 1, a->n_parts, b->d - 1, b->n_parts),
				 errdetail("Partial states of one aggregate always agree; these come from different aggregates or splits.")));
	if ((b->flags & MOMENTS_HAS_NULLS) && !(a->flags & MOMENTS_HAS_NULLS))
		a = moments_with_nulls(a);
	a->n_skipped += b->n_skipped;
	for (int q = 0; q < a->n_parts; q++)
	{
		MomentsPart pa,
					pb;
		double		na,
					nb,
					n;

		moments_part(a, q, &pa);
		moments_part(b, q, &pb);
		for (int j = 0; j < d; j++)
		{
			pa.min[j] = Min(pa.min[j], pb.min[j]);
			pa.max[j] = Max(pa.max[j], pb.max[j]);
		}
		na = *pa.nc;
		nb = *pb.nc;
		n = na + nb;
		if (nb > 0.0)
		{
			if (na == 0.0)
			{
				memcpy(pa.mean, pb.mean, sizeof(double) * d);
				memcpy(pa.m2, pb.m2, sizeof(double) * moments_packed(d));
			}
			else
			{
				double		delta[MOMENTS_MAX_COLUMNS];
				double		f = na * nb / n;
				Size		i = 0;

				for (int j = 0; j < d; j++)
					delta[j] = pb.mean[j] - pa.mean[j];
				for (int j = 0; j < d; j++)
					for (int k = j; k < d; k++, i++)
						pa.m2[i] += pb.m2[i] + f * delta[j] * delta[k];
				for (int j = 0; j < d; j++)
					pa.mean[j] += delta[j] * (nb / n);
			}
			*pa.nc = n;
		}
		if (pb.s != NULL)
		{
			Size		np = moments_packed(d);

			for (Size i = 0; i < np; i++)
			{
				pa.s[i] += pb.s[i];
				pa.c[i] += pb.c[i];
			}
			for (Size i = 0; i < (Size) d * d; i++)
				pa.t[i] += pb.t[i];
			*pa.nn += *pb.nn;
		}
	}

	if (b->flags & MOMENTS_HAS_SAMPLE)
	{
		MomentsSample sa,
					sb;
		int			p = d - 1;

		moments_sample(a, &sa);
		moments_sample(b, &sb);
		if (*sb.level > *sa.level)
		{
			*sa.level = *sb.level;
			sample_trim(&sa);
		}
		for (Size i = 0; i < (Size) *sb.count; i++)
		{
			const float *row = sb.rows + i * sb.width;
			double		x[MOMENTS_MAX_COLUMNS];
			bool		isnull[MOMENTS_MAX_COLUMNS];

			for (int j = 0; j < p; j++)
			{
				x[j] = row[1 + j];
				isnull[j] = isnan(row[1 + j]);
			}
			a = moments_sample_row(a, row[0], x, isnull, row[1 + p]);
		}
	}
	return a;
}

/* splitmix64's finaliser. */
static inline uint64
mix64(uint64 z)
{
	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static inline uint64
value_bits(double v)
{
	union
	{
		double		d;
		uint64		u;
	}			c;

	c.d = v + 0.0;				/* -0 and +0 alike: -0 + 0 is +0 */
	return c.u;
}

/*
 * The side of a row: a hash of its values (NULL distinct from every value)
 * and the seed, mapped to [0, 1) and compared with test_size.  The same row
 * falls on the same side on any node, in any order.  Each value is mixed on
 * its own (a multiply of its bits and position, so the values do not wait
 * for each other), the mixes are summed, and the sum goes through splitmix's
 * finaliser with the seed; the result is mapped to [0, 1).
 */
/* One value's term of a row's mix (its bits at position j). */
static inline uint64
mix_term(uint64 v, int j)
{
	uint64		m = (v ^ ((uint64) (j + 1) * UINT64CONST(0x9E3779B97F4A7C15))) * UINT64CONST(0xBF58476D1CE4E5B9);

	return m ^ (m >> 31);
}

#define MIX_NULL_BITS	UINT64CONST(0x6E756C6C6E756C6C)
#define MIX_TARGET_MUL	UINT64CONST(0xD6E8FEB86659FD93)

uint64
moments_row_mix(const double *x, const bool *isnull, int p, double y)
{
	uint64		acc = value_bits(y) * MIX_TARGET_MUL;

	for (int j = 0; j < p; j++)
		acc += mix_term(isnull[j] ? MIX_NULL_BITS : value_bits(x[j]), j);
	return acc;
}

uint64
moments_full_row_mix(const double *xy, int p)
{
	uint64		acc = value_bits(xy[p]) * MIX_TARGET_MUL;

	for (int j = 0; j < p; j++)
		acc += mix_term(value_bits(xy[j]), j);
	return acc;
}

/* A row's mix (above) and a seed, through splitmix's finaliser, in [0, 1). */
double
moments_hash_unit(uint64 mix, uint64 seed)
{
	uint64		acc = mix64(mix ^ mix64(seed ^ UINT64CONST(0x9E3779B97F4A7C15)));

	return (double) (acc >> 11) * (1.0 / 9007199254740992.0);
}

double
moments_row_hash(uint64 seed, const double *x, const bool *isnull, int p, double y)
{
	return moments_hash_unit(moments_row_mix(x, isnull, p, y), seed);
}

/* The side of a row from its mix: its hash with the seed compared with test_size. */
int
moments_part_of_mix(uint64 mix, uint64 seed, double test_size)
{
	return moments_hash_unit(mix, seed) < test_size ? 1 : 0;
}

/* The side of a row (above). */
int
moments_row_part(uint64 seed, double test_size, const double *x, const bool *isnull, int p, double y)
{
	return moments_part_of_mix(moments_row_mix(x, isnull, p, y), seed, test_size);
}

/* Rows of a part. */
double
moments_rows(const MomentsData *m, int part)
{
	MomentsPart pt;

	moments_part(m, part, &pt);
	return *pt.nc + *pt.nn;
}

/* Count, mean, standard deviation, min and max of each column's present values. */
void
moments_columns(const MomentsData *m, int part, MomentsColumn *cols)
{
	int			d = m->d;
	MomentsPart pt;

	moments_part(m, part, &pt);
	for (int j = 0; j < d; j++)
	{
		double		nc = *pt.nc;
		double		cnt = nc;
		double		sum = nc * pt.mean[j];
		double		mean,
					ss;

		if (pt.s != NULL)
		{
			cnt += pt.c[moments_pidx(d, j, j)];
			sum += pt.t[(Size) j * d + j];
		}
		mean = cnt > 0.0 ? sum / cnt : 0.0;
		ss = pt.m2[moments_pidx(d, j, j)] + nc * (pt.mean[j] - mean) * (pt.mean[j] - mean);
		if (pt.s != NULL)
		{
			Size		i = moments_pidx(d, j, j);

			ss += pt.s[i] - 2.0 * mean * pt.t[(Size) j * d + j] + mean * mean * pt.c[i];
		}
		cols[j].count = cnt;
		cols[j].mean = mean;
		cols[j].sd = cnt > 0.0 ? sqrt(Max(ss, 0.0) / cnt) : 0.0;
		cols[j].min = pt.min[j];
		cols[j].max = pt.max[j];
	}
}

/*
 * Sums over the rows of a part of the transformed values (U, d) and of their
 * products (R, d x d full, about zero), for the transform tf.  The sums are
 * first taken about the present-value means m_j (centred, so that large
 * offsets do not cancel), then shifted: with v'_j = x_j - m_j when present
 * and a_j = fill_j - m_j when NULL, and o_j = m_j - center_j, the transformed
 * value is (v'_j + o_j) / scale_j.
 */
void
moments_gram(const MomentsData *m, int part, const MomentsTransform *tf, double *U, double *R)
{
	int			d = m->d;
	MomentsPart pt;
	MomentsColumn *col = palloc(sizeof(MomentsColumn) * d);
	double	   *ref = palloc(sizeof(double) * d);
	double	   *a = palloc(sizeof(double) * d);
	double	   *G = palloc0(sizeof(double) * d * d);
	double	   *V = palloc0(sizeof(double) * d);
	double		nc,
				nn,
				n;

	moments_part(m, part, &pt);
	moments_columns(m, part, col);
	nc = *pt.nc;
	nn = *pt.nn;
	n = nc + nn;
	for (int j = 0; j < d; j++)
	{
		ref[j] = col[j].mean;
		a[j] = tf->fill[j] - ref[j];
	}

	/* rows without NULLs: centred cross products, shifted to ref */
	for (int j = 0; j < d; j++)
	{
		double		dj = pt.mean[j] - ref[j];

		V[j] += nc * dj;
		for (int k = j; k < d; k++)
			G[(Size) j * d + k] += pt.m2[moments_pidx(d, j, k)] + nc * dj * (pt.mean[k] - ref[k]);
	}

	/* rows with a NULL: raw sums, then the fills */
	if (pt.s != NULL && nn > 0.0)
	{
		for (int j = 0; j < d; j++)
		{
			Size		jj = moments_pidx(d, j, j);

			V[j] += (pt.t[(Size) j * d + j] - ref[j] * pt.c[jj]) + a[j] * (nn - pt.c[jj]);
			for (int k = j; k < d; k++)
			{
				Size		jk = moments_pidx(d, j, k);
				Size		kk = moments_pidx(d, k, k);
				double		both = pt.s[jk] - ref[k] * pt.t[(Size) j * d + k] -
					ref[j] * pt.t[(Size) k * d + j] + ref[j] * ref[k] * pt.c[jk];
				/* j NULL, k present: sum of x_k - m_k; and the converse */
				double		q_jk = (pt.t[(Size) k * d + k] - pt.t[(Size) k * d + j]) -
					ref[k] * (pt.c[kk] - pt.c[jk]);
				double		q_kj = (pt.t[(Size) j * d + j] - pt.t[(Size) j * d + k]) -
					ref[j] * (pt.c[jj] - pt.c[jk]);
				double		both_null = nn - pt.c[jj] - pt.c[kk] + pt.c[jk];

				if (k == j)
				{
					q_jk = 0.0;
					q_kj = 0.0;
					both_null = nn - pt.c[jj];
				}
				G[(Size) j * d + k] += both + a[j] * q_jk + a[k] * q_kj + a[j] * a[k] * both_null;
			}
		}
	}

	/* shift by o = ref - center, divide by the scales */
	for (int j = 0; j < d; j++)
	{
		double		oj = ref[j] - tf->center[j];

		U[j] = (V[j] + n * oj) / tf->scale[j];
		for (int k = j; k < d; k++)
		{
			double		ok = ref[k] - tf->center[k];
			double		g = G[(Size) j * d + k] + oj * V[k] + ok * V[j] + n * oj * ok;

			g /= tf->scale[j] * tf->scale[k];
			R[(Size) j * d + k] = g;
			R[(Size) k * d + j] = g;
		}
	}
	pfree(col);
	pfree(ref);
	pfree(a);
	pfree(G);
	pfree(V);
}

/* ---- portable encoding: big-endian fields ---- */

void
scale_put32(char **p, uint32 v)
{
	unsigned char *q = (unsigned char *) *p;

	q[0] = v >> 24;
	q[1] = v >> 16;
	q[2] = v >> 8;
	q[3] = v;
	*p += 4;
}

void
scale_put64(char **p, uint64 v)
{
	scale_put32(p, (uint32) (v >> 32));
	scale_put32(p, (uint32) v);
}

uint32
scale_get32(const char **p)
{
	const unsigned char *q = (const unsigned char *) *p;

	*p += 4;
	return ((uint32) q[0] << 24) | ((uint32) q[1] << 16) | ((uint32) q[2] << 8) | q[3];
}

uint64
scale_get64(const char **p)
{
	uint64		hi = scale_get32(p);

	return (hi << 32) | scale_get32(p);
}

/* A float's bits, and back (the sample's values). */
static uint32
scale_float_bits(float v)
{
	union
	{
		float		f;
		uint32		u;
	}			c;

	c.f = v;
	return c.u;
}

static float
scale_bits_float(uint32 u)
{
	union
	{
		float		f;
		uint32		u;
	}			c;

	c.u = u;
	return c.f;
}

uint64
scale_double_bits(double v)
{
	union
	{
		double		d;
		uint64		u;
	}			c;

	c.d = v;
	return c.u;
}

double
scale_bits_double(uint64 u)
{
	union
	{
		double		d;
		uint64		u;
	}			c;

	c.u = u;
	return c.d;
}

/* Header fields in the external form: magic, d, parts, flags, seed, test_size, skipped. */
#define MOMENTS_EXT_HEADER (4 * 4 + 8 * 3)

/*
 * The external form of a state: header fields, then every double of its
 * parts; then, with a sample, its level, its count and its rows.
 */
char *
moments_encode(const MomentsData *m, Size *len)
{
	Size		nd = moments_part_doubles(m->d, m->flags) * m->n_parts;
	MomentsSample s = {0};
	char	   *buf;
	char	   *p;
	const double *v = (const double *) ((const char *) m + sizeof(MomentsData));

	if (m->flags & MOMENTS_HAS_SAMPLE)
	{
		moments_sample(m, &s);
		buf = palloc(MOMENTS_EXT_HEADER + nd * 8 + 16 + (Size) *s.count * s.width * 4);
	}
	else
		buf = palloc(MOMENTS_EXT_HEADER + nd * 8);
	p = buf;
	scale_put32(&p, m->magic);
	scale_put32(&p, (uint32) m->d);
	scale_put32(&p, (uint32) m->n_parts);
	scale_put32(&p, (uint32) m->flags);
	scale_put64(&p, m->seed);
	scale_put64(&p, scale_double_bits(m->test_size));
	scale_put64(&p, scale_double_bits(m->n_skipped));
	for (Size i = 0; i < nd; i++)
		scale_put64(&p, scale_double_bits(v[i]));
	if (m->flags & MOMENTS_HAS_SAMPLE)
	{
		Size		ns = (Size) *s.count * s.width;

		scale_put64(&p, scale_double_bits(*s.level));
		scale_put64(&p, scale_double_bits(*s.count));
		for (Size i = 0; i < ns; i++)
			scale_put32(&p, scale_float_bits(s.rows[i]));
	}
	*len = p - buf;
	return buf;
}

/* Decode and validate an external form. */
MomentsData *
moments_decode(const char *buf, Size len)
{
	const char *p = buf;
	uint32		magic,
				d,
				parts,
				flags;
	Size		size,
				nd,
				sample_rows = 0;
	double		level = 0.0;
	MomentsData *m;
	double	   *v;

	if (len < MOMENTS_EXT_HEADER)
		moments_corrupt("too short");
	magic = scale_get32(&p);
	d = scale_get32(&p);
	parts = scale_get32(&p);
	flags = scale_get32(&p);
	if (magic != MOMENTS_MAGIC)
		moments_corrupt("bad magic number");
	if (d < 2 || d > MOMENTS_MAX_COLUMNS || (parts != 1 && parts != 2) ||
		(flags & ~(MOMENTS_HAS_NULLS | MOMENTS_HAS_SAMPLE)) != 0)
		moments_corrupt("header out of range");
	nd = moments_part_doubles((int) d, (int) flags) * parts;
	if (flags & MOMENTS_HAS_SAMPLE)
	{
		/* the sample's level and count follow the parts */
		const char *q = buf + MOMENTS_EXT_HEADER + nd * 8;
		double		count;

		if (len < MOMENTS_EXT_HEADER + nd * 8 + 16)
			moments_corrupt("length does not match its columns");
		level = scale_bits_double(scale_get64(&q));
		count = scale_bits_double(scale_get64(&q));
		if (!(count >= 0.0 && count <= (double) moments_sample_max((int) d)) || count != floor(count))
			moments_corrupt("sample row count out of range");
		sample_rows = (Size) count;
		if (len != MOMENTS_EXT_HEADER + nd * 8 + 16 + sample_rows * (d + 1) * 4)
			moments_corrupt("length does not match its columns");
	}
	else if (len != MOMENTS_EXT_HEADER + nd * 8)
		moments_corrupt("length does not match its columns");
	size = moments_size((int) d, (int) parts, (int) flags, sample_rows);
	m = palloc0(size);
	SET_VARSIZE(m, size);
	m->magic = magic;
	m->d = (int32) d;
	m->n_parts = (int32) parts;
	m->flags = (int32) flags;
	m->seed = scale_get64(&p);
	m->test_size = scale_bits_double(scale_get64(&p));
	m->n_skipped = scale_bits_double(scale_get64(&p));
	v = (double *) ((char *) m + sizeof(MomentsData));
	for (Size i = 0; i < nd; i++)
		v[i] = scale_bits_double(scale_get64(&p));
	if (flags & MOMENTS_HAS_SAMPLE)
	{
		MomentsSample s;

		p += 16;				/* level and count, read above */
		moments_sample(m, &s);
		*s.level = level;
		*s.count = (double) sample_rows;
		*s.capacity = (double) sample_rows;
		for (Size i = 0; i < sample_rows * s.width; i++)
			s.rows[i] = scale_bits_float(scale_get32(&p));
	}
	moments_check(m, size);
	return m;
}

static const char hexdig[] = "0123456789abcdef";

/* prefix and bin[0 .. len) in hexadecimal, as a C string. */
char *
scale_hex_encode(const char *prefix, const char *bin, Size len)
{
	Size		pre = strlen(prefix);
	char	   *out = palloc(pre + 2 * len + 1);
	char	   *q = out + pre;

	memcpy(out, prefix, pre);
	for (Size i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) bin[i];

		*q++ = hexdig[c >> 4];
		*q++ = hexdig[c & 0xF];
	}
	*q = '\0';
	return out;
}

/* Text form: "GMO1:" and the external form in hex. */
char *
moments_to_text(const MomentsData *m)
{
	Size		len;
	char	   *bin = moments_encode(m, &len);
	char	   *out = scale_hex_encode(MOMENTS_TEXT_PREFIX, bin, len);

	pfree(bin);
	return out;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The bytes of the text form of a value of type typname: prefix, then pairs
 * of hexadecimal digits (ERROR 22P02 on anything else); *len set.
 */
char *
scale_hex_decode(const char *s, const char *prefix, const char *typname, Size *len)
{
	Size		pre = strlen(prefix);
	Size		n;
	char	   *bin;

	if (strncmp(s, prefix, pre) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s", typname),
				 errdetail("A %s value starts with \"%s\".", typname, prefix)));
	s += pre;
	n = strlen(s);
	if (n % 2 != 0 || n / 2 > MaxAllocSize - 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s", typname),
				 errdetail("The hexadecimal digits come in pairs.")));
	bin = palloc(Max(n / 2, 1));
	for (Size i = 0; i < n / 2; i++)
	{
		int			hi = hexval(s[2 * i]);
		int			lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s", typname),
					 errdetail("\"%c\" is not a hexadecimal digit.", hi < 0 ? s[2 * i] : s[2 * i + 1])));
		bin[i] = (char) ((hi << 4) | lo);
	}
	*len = n / 2;
	return bin;
}

/* Parse the text form (ERROR 22P02 on anything else). */
MomentsData *
moments_from_text(const char *s)
{
	Size		n;
	char	   *bin = scale_hex_decode(s, MOMENTS_TEXT_PREFIX, "galaxy.moments", &n);
	MomentsData *m = moments_decode(bin, n);

	pfree(bin);
	return m;
}

/* A state argument: detoasted (aligned, a copy when it was packed) and validated. */
MomentsData *
moments_from_datum(Datum d)
{
	struct varlena *v = pg_detoast_datum((struct varlena *) DatumGetPointer(d));

	moments_check((MomentsData *) v, VARSIZE(v));
	return (MomentsData *) v;
}
