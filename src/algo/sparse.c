/*
 * sparse.c — CSR rows, matrices and kernels for text features (sparse.h).
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "algo/sparse.h"
#include "galaxy.h"

/* An empty row with room for cap entries. */
void
sparse_row_init(SparseRow *r, int cap)
{
	r->nnz = 0;
	r->cap = Max(cap, 16);
	r->idx = palloc(sizeof(int32) * r->cap);
	r->val = palloc(sizeof(double) * r->cap);
}

/* Room for 'more' entries beyond nnz. */
void
sparse_row_reserve(SparseRow *r, int64 more)
{
	int64		need = (int64) r->nnz + more;
	int64		cap = r->cap;

	if (need <= cap)
		return;
	if (need > (int64) (MaxAllocHugeSize / sizeof(double)) || need > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a row has more than %d features that are not zero", PG_INT32_MAX)));
	while (cap < need)
		cap *= 2;
	cap = Min(cap, (int64) PG_INT32_MAX);
	r->idx = repalloc_huge(r->idx, sizeof(int32) * cap);
	r->val = repalloc_huge(r->val, sizeof(double) * cap);
	r->cap = (int) cap;
}

/* An empty matrix sized for the hints. */
void
sparse_builder_init(SparseBuilder *b, int n_cols, int64 rows_hint, int64 nnz_hint, const char *what)
{
	memset(b, 0, sizeof(SparseBuilder));
	b->n_cols = n_cols;
	b->what = what;
	b->cap_rows = Max(rows_hint, 16);
	b->cap_nnz = Max(nnz_hint, 64);
	galaxy_check_training_memory(sparse_bytes(b->cap_rows, b->cap_nnz), what);
	b->indptr = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int64) * (b->cap_rows + 1));
	b->indices = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(int32) * b->cap_nnz);
	b->values = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * b->cap_nnz);
	b->indptr[0] = 0;
}

/* Append a row. */
void
sparse_builder_add(SparseBuilder *b, const SparseRow *row)
{
	if (b->n_rows == b->cap_rows)
	{
		b->cap_rows *= 2;
		galaxy_check_training_memory(sparse_bytes(b->cap_rows, b->cap_nnz), b->what);
		b->indptr = repalloc_huge(b->indptr, sizeof(int64) * (b->cap_rows + 1));
	}
	if (b->nnz + row->nnz > b->cap_nnz)
	{
		int64		cap = b->cap_nnz;

		while (cap < b->nnz + row->nnz)
			cap *= 2;
		galaxy_check_training_memory(sparse_bytes(b->cap_rows, cap), b->what);
		b->indices = repalloc_huge(b->indices, sizeof(int32) * cap);
		b->values = repalloc_huge(b->values, sizeof(double) * cap);
		b->cap_nnz = cap;
	}
	memcpy(b->indices + b->nnz, row->idx, sizeof(int32) * row->nnz);
	memcpy(b->values + b->nnz, row->val, sizeof(double) * row->nnz);
	b->nnz += row->nnz;
	b->indptr[++b->n_rows] = b->nnz;
}

/* Rows [first, first + n) as a matrix. */
SparseMatrix
sparse_builder_rows(const SparseBuilder *b, int64 first, int64 n)
{
	SparseMatrix m;

	Assert(first >= 0 && first + n <= b->n_rows);
	m.n_rows = n;
	m.n_cols = b->n_cols;
	m.indptr = b->indptr + first;
	m.indices = b->indices;
	m.values = b->values;
	return m;
}

/* Free the arrays. */
void
sparse_builder_free(SparseBuilder *b)
{
	if (b->indptr)
		pfree(b->indptr);
	if (b->indices)
		pfree(b->indices);
	if (b->values)
		pfree(b->values);
	b->indptr = NULL;
	b->indices = NULL;
	b->values = NULL;
}

/* Z = X[r0 .. r0 + b) W, W feature-major. */
void
sparse_mul_dense(const SparseMatrix *X, int64 r0, int b, const double *W, int k, double *Z)
{
	for (int i = 0; i < b; i++)
	{
		double	   *z = Z + (Size) i * k;
		int64		end = X->indptr[r0 + i + 1];

		memset(z, 0, sizeof(double) * k);
		if (k == 1)
		{
			double		s = 0.0;

			for (int64 p = X->indptr[r0 + i]; p < end; p++)
				s += X->values[p] * W[X->indices[p]];
			z[0] = s;
			continue;
		}
		for (int64 p = X->indptr[r0 + i]; p < end; p++)
		{
			const double *w = W + (Size) X->indices[p] * k;
			double		v = X->values[p];

			for (int c = 0; c < k; c++)
				z[c] += v * w[c];
		}
	}
}

/* G += X[r0 .. r0 + b)' R, G feature-major. */
void
sparse_tmul_acc(const SparseMatrix *X, int64 r0, int b, const double *R, int k, double *G)
{
	for (int i = 0; i < b; i++)
	{
		const double *r = R + (Size) i * k;
		int64		end = X->indptr[r0 + i + 1];

		if (k == 1)
		{
			double		r0v = r[0];

			for (int64 p = X->indptr[r0 + i]; p < end; p++)
				G[X->indices[p]] += X->values[p] * r0v;
			continue;
		}
		for (int64 p = X->indptr[r0 + i]; p < end; p++)
		{
			double	   *g = G + (Size) X->indices[p] * k;
			double		v = X->values[p];

			for (int c = 0; c < k; c++)
				g[c] += v * r[c];
		}
	}
}

/* Dense copy of some rows. */
void
sparse_densify(const SparseMatrix *X, int64 r0, int64 b, double *D)
{
	int			p = X->n_cols;

	memset(D, 0, sizeof(double) * (Size) b * p);
	for (int64 i = 0; i < b; i++)
	{
		double	   *d = D + (Size) i * p;

		for (int64 q = X->indptr[r0 + i]; q < X->indptr[r0 + i + 1]; q++)
			d[X->indices[q]] = X->values[q];
	}
}
