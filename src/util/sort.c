/*
 * sort.c — sorting doubles for quantiles (sort.h): a radix sort on the
 * order-preserving integer keys of the values, and a three-way quicksort for
 * small inputs.  The tree models' bin edges and the drift baselines both sort
 * their samples here.
 */
#include "postgres.h"

#include "util/sort.h"

/* Sort doubles ascending (three-way quicksort; duplicates are common). */
static void
sort_doubles(double *a, int64 n)
{
	while (n > 16)
	{
		double		x = a[0],
					y = a[n / 2],
					z = a[n - 1];
		double		pivot;
		int64		lt = 0,
					i = 0,
					gt = n;

		/* median of three */
		if (x > y)
		{
			double		t = x;

			x = y;
			y = t;
		}
		pivot = (z < x) ? x : (z > y ? y : z);

		while (i < gt)
		{
			double		v = a[i];

			if (v < pivot)
			{
				a[i++] = a[lt];
				a[lt++] = v;
			}
			else if (v > pivot)
			{
				a[i] = a[--gt];
				a[gt] = v;
			}
			else
				i++;
		}
		/* recurse on the smaller side, loop on the larger */
		if (lt < n - gt)
		{
			sort_doubles(a, lt);
			a += gt;
			n -= gt;
		}
		else
		{
			sort_doubles(a + gt, n - gt);
			n = lt;
		}
	}
	for (int64 i = 1; i < n; i++)
	{
		double		v = a[i];
		int64		j = i;

		while (j > 0 && a[j - 1] > v)
		{
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

/* Order-preserving map of a (non-NaN) double onto an unsigned key. */
static inline uint64
double_key(double v)
{
	uint64		u;

	memcpy(&u, &v, sizeof(u));
	return (u >> 63) ? ~u : (u | (UINT64CONST(1) << 63));
}

/* Inverse of double_key. */
static inline double
key_double(uint64 u)
{
	double		v;

	u = (u >> 63) ? (u & ~(UINT64CONST(1) << 63)) : ~u;
	memcpy(&v, &u, sizeof(v));
	return v;
}

/*
 * Sort n doubles (no NaN) ascending (sort.h): LSD radix sort on 8-bit
 * digits, skipping the digits all keys share; 'tmp' holds 2 x n keys.  Small
 * inputs use the quicksort.  -0 sorts before +0 here, where a comparison sort
 * leaves them in any order: quantiles of the two are the same number.
 */
void
galaxy_sort_doubles(double *a, int64 n, uint64 *tmp)
{
	uint64	   *k = tmp;
	uint64	   *k2 = tmp + n;
	int64		count[8][256];

	if (n < 2048)
	{
		sort_doubles(a, n);
		return;
	}
	memset(count, 0, sizeof(count));
	for (int64 i = 0; i < n; i++)
	{
		uint64		u = double_key(a[i]);

		k[i] = u;
		for (int d = 0; d < 8; d++)
			count[d][(u >> (8 * d)) & 0xFF]++;
	}
	for (int d = 0; d < 8; d++)
	{
		int64		pos = 0;
		bool		one_bucket = false;

		for (int b = 0; b < 256; b++)
			if (count[d][b] == n)
				one_bucket = true;
		if (one_bucket)
			continue;
		for (int b = 0; b < 256; b++)
		{
			int64		c = count[d][b];

			count[d][b] = pos;
			pos += c;
		}
		for (int64 i = 0; i < n; i++)
		{
			uint64		u = k[i];

			k2[count[d][(u >> (8 * d)) & 0xFF]++] = u;
		}
		{
			uint64	   *t = k;

			k = k2;
			k2 = t;
		}
	}
	for (int64 i = 0; i < n; i++)
		a[i] = key_double(k[i]);
}
