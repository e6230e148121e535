/*
 * quant.c — int8 weight matrices: quantisation per output channel, storage,
 * and the int8 x int8 → int32 kernels compressed models predict with; and
 * magnitude pruning with sparse storage.
 */
#include "postgres.h"

#include <math.h>

#include "algo/quant.h"
#include "port/pg_bitutils.h"
#include "utils/memutils.h"

/* Products summed in int32 at a time: 127 * 127 * 65536 < 2^31. */
#define QUANT_BLOCK 65536

/* palloc for a possibly large array. */
static void *
alloc_huge(Size bytes)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, Max(bytes, 1),
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

/* An empty matrix of rows x cols. */
static QuantMatrix *
quant_alloc(int rows, int cols)
{
	QuantMatrix *m = palloc0(sizeof(QuantMatrix));

	m->rows = rows;
	m->cols = cols;
	m->q = alloc_huge((Size) rows * cols);
	m->scale = alloc_huge(sizeof(float) * rows);
	return m;
}

/* A value divided by a scale, rounded to the nearest int8 in [-127, 127]. */
static inline int8
quant_round(double v, double inv)
{
	double		s = rint(v * inv);

	if (s > 127.0)
		s = 127.0;
	else if (s < -127.0)
		s = -127.0;
	return (int8) s;
}

/* Quantise row r of m from its weights in float64. */
static void
quant_row(QuantMatrix *m, int r, const double *row)
{
	double		amax = 0.0;
	double		inv;

	for (int c = 0; c < m->cols; c++)
		amax = Max(amax, fabs(row[c]));
	m->scale[r] = (float) (amax / 127.0);
	inv = m->scale[r] > 0.0f ? 1.0 / (double) m->scale[r] : 0.0;
	for (int c = 0; c < m->cols; c++)
		m->q[(Size) r * m->cols + c] = quant_round(row[c], inv);
}

/* Quantise float64 weights; see quant.h. */
QuantMatrix *
quant_from_f64(const double *w, int rows, int cols)
{
	QuantMatrix *m = quant_alloc(rows, cols);

	for (int r = 0; r < rows; r++)
		quant_row(m, r, w + (Size) r * cols);
	return m;
}

/* Quantise float32 weights (each row widened to float64 first); see quant.h. */
QuantMatrix *
quant_from_f32(const float *w, int rows, int cols)
{
	QuantMatrix *m = quant_alloc(rows, cols);
	double	   *row = MemoryContextAllocExtended(CurrentMemoryContext, sizeof(double) * Max(cols, 1),
												 MCXT_ALLOC_HUGE);

	for (int r = 0; r < rows; r++)
	{
		for (int c = 0; c < cols; c++)
			row[c] = w[(Size) r * cols + c];
		quant_row(m, r, row);
	}
	pfree(row);
	return m;
}

/* Bytes of quant_write's output. */
Size
quant_stored_bytes(int rows, int cols)
{
	return 4 + sizeof(float) * (Size) rows + (Size) rows * cols;
}

/* Write the scales then the int8 values. */
void
quant_write(const QuantMatrix *m, ModelWriter *w)
{
	mw_tag(w, "QNT8");
	mw_f32s(w, m->scale, m->rows);
	mw_bytes(w, m->q, (Size) m->rows * m->cols);
}

/* Read a rows x cols matrix written by quant_write, validating every value. */
QuantMatrix *
quant_read(ModelReader *r, int rows, int cols, const char *what)
{
	QuantMatrix *m;
	Size		n = (Size) rows * cols;

	mr_tag(r, "QNT8");
	if (rows < 1 || cols < 1 ||
		sizeof(float) * (Size) rows > mr_remaining(r) ||
		n > mr_remaining(r) - sizeof(float) * (Size) rows)
		mr_corrupt("%s: %d x %d int8 weights do not fit in the bytes left", what, rows, cols);
	m = quant_alloc(rows, cols);
	mr_f32s(r, m->scale, rows);
	for (int i = 0; i < rows; i++)
		if (!isfinite(m->scale[i]) || m->scale[i] < 0.0f)
			mr_corrupt("%s: scale %d is not a finite number >= 0", what, i);
	mr_bytes(r, m->q, n);
	for (Size i = 0; i < n; i++)
		if (m->q[i] == -128)
			mr_corrupt("%s: int8 weight -128 (weights lie in [-127, 127])", what);
	return m;
}

/* Quantise one float64 input row; see quant.h. */
float
quant_input_f64(const double *x, int n, int8 *qx)
{
	double		amax = 0.0;
	double		inv;

	for (int c = 0; c < n; c++)
		amax = Max(amax, fabs(x[c]));
	if (!(amax > 0.0) || !isfinite(amax))
	{
		/* zeros (or a non-finite input: its result is NaN, as the float model's) */
		memset(qx, 0, (Size) Max(n, 0));
		return amax > 0.0 ? NAN : 0.0f;
	}
	inv = 127.0 / amax;
	for (int c = 0; c < n; c++)
		qx[c] = quant_round(x[c], inv);
	return (float) (amax / 127.0);
}

/* Quantise one float32 input row; see quant.h. */
float
quant_input_f32(const float *x, int n, int8 *qx)
{
	float		amax = 0.0f;
	float		inv;

	for (int c = 0; c < n; c++)
		amax = Max(amax, fabsf(x[c]));
	if (!(amax > 0.0f) || !isfinite(amax))
	{
		memset(qx, 0, (Size) Max(n, 0));
		return amax > 0.0f ? NAN : 0.0f;
	}
	inv = 127.0f / amax;
	for (int c = 0; c < n; c++)
	{
		float		s = rintf(x[c] * inv);

		qx[c] = (int8) (s > 127.0f ? 127.0f : (s < -127.0f ? -127.0f : s));
	}
	return amax / 127.0f;
}

/*
 * The kernels are compiled twice with GCC, for AVX2 and for the baseline,
 * and the loader picks one for the CPU (an ifunc): the int8 products then
 * take 256-bit vectors where the CPU has them.  Results are the same
 * integers either way.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define QUANT_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define QUANT_KERNEL
#endif

/* int8 dot product of n values, accumulated in int32 (n <= QUANT_BLOCK). */
QUANT_KERNEL static int32
dot_i8(const int8 *restrict a, const int8 *restrict b, int n)
{
	int32		s = 0;

	for (int j = 0; j < n; j++)
		s += (int32) a[j] * (int32) b[j];
	return s;
}

/*
 * Four int8 dot products of one weight row with four input rows (n <=
 * QUANT_BLOCK): the weights are read once for all four.
 */
QUANT_KERNEL static void
dot4_i8(const int8 *restrict w, const int8 *restrict x0, const int8 *restrict x1,
		const int8 *restrict x2, const int8 *restrict x3, int n, int64 *acc)
{
	int32		s0 = 0,
				s1 = 0,
				s2 = 0,
				s3 = 0;

	for (int j = 0; j < n; j++)
	{
		int32		v = w[j];

		s0 += v * x0[j];
		s1 += v * x1[j];
		s2 += v * x2[j];
		s3 += v * x3[j];
	}
	acc[0] += s0;
	acc[1] += s1;
	acc[2] += s2;
	acc[3] += s3;
}

/* Output r of W x for a quantised row, before the scales: int32 blocks summed in int64. */
static inline int64
row_dot(const QuantMatrix *m, int r, const int8 *qx)
{
	const int8 *row = m->q + (Size) r * m->cols;
	int64		acc = 0;

	for (int c = 0; c < m->cols; c += QUANT_BLOCK)
		acc += dot_i8(row + c, qx + c, Min(QUANT_BLOCK, m->cols - c));
	return acc;
}

/* W x for a quantised input row; see quant.h. */
void
quant_gemv(const QuantMatrix *m, const int8 *qx, float x_scale, double *out)
{
	for (int r = 0; r < m->rows; r++)
		out[r] = (double) row_dot(m, r, qx) * (double) m->scale[r] * (double) x_scale;
}

/* W x into float32 outputs; see quant.h. */
void
quant_gemv_f32(const QuantMatrix *m, const int8 *qx, float x_scale, float *out)
{
	for (int r = 0; r < m->rows; r++)
		out[r] = (float) ((double) row_dot(m, r, qx) * (double) m->scale[r] * (double) x_scale);
}

/* W x for up to QUANT_ROWS quantised input rows at once; see quant.h. */
void
quant_gemm_f32(const QuantMatrix *m, const int8 *qx, const float *x_scale, int n, float *out)
{
	int			k = m->cols;

	Assert(n >= 1 && n <= QUANT_ROWS);
	if (n < QUANT_ROWS)
	{
		for (int i = 0; i < n; i++)
			quant_gemv_f32(m, qx + (Size) i * k, x_scale[i], out + (Size) i * m->rows);
		return;
	}
	for (int r = 0; r < m->rows; r++)
	{
		const int8 *row = m->q + (Size) r * k;
		int64		acc[QUANT_ROWS] = {0};

		for (int c = 0; c < k; c += QUANT_BLOCK)
			dot4_i8(row + c, qx + c, qx + (Size) k + c, qx + (Size) 2 * k + c, qx + (Size) 3 * k + c,
					Min(QUANT_BLOCK, k - c), acc);
		for (int i = 0; i < QUANT_ROWS; i++)
			out[(Size) i * m->rows + r] = (float) ((double) acc[i] * (double) m->scale[r] * (double) x_scale[i]);
	}
}

/* ------------------------------------------------------------------------
 * Magnitude pruning and sparse storage
 * ------------------------------------------------------------------------
 */

/* qsort comparator of doubles, ascending. */
static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The magnitude below which round(sparsity * n) of n magnitudes lie (the
 * k-th smallest), or -1 when nothing is to be pruned.
 */
static double
prune_threshold(double *mag, Size n, double sparsity, Size *k)
{
	*k = (Size) rint(sparsity * (double) n);
	if (*k == 0 || n == 0)
		return -1.0;
	qsort(mag, n, sizeof(double), cmp_double);
	return mag[Min(*k, n) - 1];
}

/* Weight i of a float32 or float64 array, as a double. */
static inline double
weight_at(const void *w, bool f32, Size i)
{
	return f32 ? (double) ((const float *) w)[i] : ((const double *) w)[i];
}

/* Zero the smallest weights of a float32 or float64 array; returns the zeros. */
static Size
prune_magnitude(void *w, bool f32, Size n, double sparsity)
{
	double	   *mag = MemoryContextAllocExtended(CurrentMemoryContext, sizeof(double) * Max(n, 1),
												 MCXT_ALLOC_HUGE);
	Size		k,
				zeroed = 0,
				zeros = 0;
	double		t;

	for (Size i = 0; i < n; i++)
		mag[i] = fabs(weight_at(w, f32, i));
	t = prune_threshold(mag, n, sparsity, &k);
	/* ties at the threshold: zero them in order until k are zero */
	for (Size i = 0; i < n && t >= 0.0; i++)
	{
		double		a = fabs(weight_at(w, f32, i));

		if (a < t || (a == t && zeroed < k))
		{
			if (f32)
				((float *) w)[i] = 0.0f;
			else
				((double *) w)[i] = 0.0;
			zeroed++;
		}
	}
	for (Size i = 0; i < n; i++)
		zeros += weight_at(w, f32, i) == 0.0;
	pfree(mag);
	return zeros;
}

/* Zero the smallest weights of a float64 array; see quant.h. */
Size
prune_magnitude_f64(double *w, Size n, double sparsity)
{
	return prune_magnitude(w, false, n, sparsity);
}

/* Zero the smallest weights of a float32 array; see quant.h. */
Size
prune_magnitude_f32(float *w, Size n, double sparsity)
{
	return prune_magnitude(w, true, n, sparsity);
}

/*
 * Sparse storage: a tag, the count of non-zero weights, a bitmap of n bits
 * (bit i of byte i / 8 set: weight i is stored), then the non-zero values in
 * order.  At 80 % zeros a float32 weight takes 0.93 bytes instead of 4.
 */

/* Tag, count, bitmap of the non-zero weights, their values (float32 or float64). */
static void
sparse_write(const void *w, bool f32, Size n, ModelWriter *mw)
{
	uint8	   *bits = MemoryContextAllocExtended(CurrentMemoryContext, Max((n + 7) / 8, 1),
												  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	uint64		nnz = 0;

	for (Size i = 0; i < n; i++)
		if (weight_at(w, f32, i) != 0.0)
		{
			bits[i / 8] |= (uint8) (1 << (i % 8));
			nnz++;
		}
	mw_tag(mw, f32 ? "SPW4" : "SPW8");
	mw_u64(mw, nnz);
	mw_bytes(mw, bits, (n + 7) / 8);
	for (Size i = 0; i < n; i++)
		if (weight_at(w, f32, i) != 0.0)
		{
			if (f32)
				mw_f32s(mw, (const float *) w + i, 1);
			else
				mw_f64(mw, ((const double *) w)[i]);
		}
	pfree(bits);
}

/* Store float64 weights sparse; see quant.h. */
void
sparse_write_f64(const double *w, Size n, ModelWriter *mw)
{
	sparse_write(w, false, n, mw);
}

/* Store float32 weights sparse; see quant.h. */
void
sparse_write_f32(const float *w, Size n, ModelWriter *mw)
{
	sparse_write(w, true, n, mw);
}

/*
 * Read the count and bitmap of a sparse section, validated: the bitmap's set
 * bits are the count, none past n, and the values fit in the bytes left.
 */
static uint8 *
sparse_read_bitmap(ModelReader *r, Size n, Size value_size, const char *what)
{
	uint64		nnz = mr_u64(r);
	Size		nbytes = (n + 7) / 8;
	uint8	   *bits;
	uint64		set = 0;

	if (nbytes > mr_remaining(r) || nnz > n || nnz > (mr_remaining(r) - nbytes) / value_size)
		mr_corrupt("%s: " UINT64_FORMAT " non-zero weights of %zu do not fit in the bytes left", what, nnz, n);
	bits = MemoryContextAllocExtended(CurrentMemoryContext, Max(nbytes, 1), MCXT_ALLOC_HUGE);
	mr_bytes(r, bits, nbytes);
	for (Size i = 0; i < nbytes; i++)
		set += pg_popcount((const char *) &bits[i], 1);
	if (set != nnz || (n % 8 != 0 && (bits[nbytes - 1] >> (n % 8)) != 0))
		mr_corrupt("%s: the bitmap of non-zero weights does not match their count", what);
	return bits;
}

/* Read sparse weights (float32 or float64) into w, n zeroed values. */
static void
sparse_read(ModelReader *r, void *w, bool f32, Size n, const char *what)
{
	uint8	   *bits;

	mr_tag(r, f32 ? "SPW4" : "SPW8");
	bits = sparse_read_bitmap(r, n, f32 ? sizeof(float) : sizeof(double), what);
	for (Size i = 0; i < n; i++)
		if (bits[i / 8] & (1 << (i % 8)))
		{
			if (f32)
				mr_f32s(r, (float *) w + i, 1);
			else
				((double *) w)[i] = mr_f64(r);
			if (!isfinite(weight_at(w, f32, i)) || weight_at(w, f32, i) == 0.0)
				mr_corrupt("%s: a stored weight is zero or not finite", what);
		}
	pfree(bits);
}

/* Read float64 sparse weights; see quant.h. */
void
sparse_read_f64(ModelReader *r, double *w, Size n, const char *what)
{
	sparse_read(r, w, false, n, what);
}

/* Read float32 sparse weights; see quant.h. */
void
sparse_read_f32(ModelReader *r, float *w, Size n, const char *what)
{
	sparse_read(r, w, true, n, what);
}
