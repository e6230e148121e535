/*
 * sparse.h — CSR matrices (SparseMatrix, algo.h) for text features: the
 * row buffer the preprocessor fills, a builder that appends rows with the
 * memory checked against galaxy.max_training_memory, and the kernels the
 * models share (products with a feature-major weight matrix, densifying).
 */
#ifndef GALAXY_SPARSE_H
#define GALAXY_SPARSE_H

#include "algo/algo.h"

/* One row being built: nnz entries, column indices ascending. */
typedef struct SparseRow
{
	int			nnz;
	int			cap;
	int32	   *idx;
	double	   *val;
} SparseRow;

/* An empty row with room for cap entries (in CurrentMemoryContext). */
extern void sparse_row_init(SparseRow *r, int cap);

/* Make room for 'more' entries beyond nnz (grows the row's arrays in their context). */
extern void sparse_row_reserve(SparseRow *r, int64 more);

/* Append an entry (room reserved). */
static inline void
sparse_row_push(SparseRow *r, int32 j, double v)
{
	r->idx[r->nnz] = j;
	r->val[r->nnz] = v;
	r->nnz++;
}

/* A one-row matrix viewing r (indptr: two int64s of the caller's). */
static inline SparseMatrix
sparse_row_matrix(const SparseRow *r, int n_cols, int64 *indptr)
{
	SparseMatrix m;

	indptr[0] = 0;
	indptr[1] = r->nnz;
	m.n_rows = 1;
	m.n_cols = n_cols;
	m.indptr = indptr;
	m.indices = r->idx;
	m.values = r->val;
	return m;
}

/* Rows appended one at a time into growing CSR arrays. */
typedef struct SparseBuilder
{
	int64		n_rows;
	int64		cap_rows;
	int64		nnz;
	int64		cap_nnz;
	int			n_cols;
	int64	   *indptr;
	int32	   *indices;
	double	   *values;
	const char *what;			/* for galaxy.max_training_memory's message */
} SparseBuilder;

/* An empty matrix of n_cols columns, sized for the hints (memory checked). */
extern void sparse_builder_init(SparseBuilder *b, int n_cols, int64 rows_hint, int64 nnz_hint,
								const char *what);
/* Append a row (memory checked when the arrays grow). */
extern void sparse_builder_add(SparseBuilder *b, const SparseRow *row);
/* Rows [first, first + n) of the builder as a matrix (shares its arrays). */
extern SparseMatrix sparse_builder_rows(const SparseBuilder *b, int64 first, int64 n);
/* Forget the rows (the arrays are kept for the next ones). */
static inline void
sparse_builder_reset(SparseBuilder *b)
{
	b->n_rows = 0;
	b->nnz = 0;
}
/* Free the builder's arrays. */
extern void sparse_builder_free(SparseBuilder *b);

/* Bytes of a CSR matrix of n rows and nnz entries. */
static inline Size
sparse_bytes(int64 n, int64 nnz)
{
	return (Size) (n + 1) * sizeof(int64) + (Size) nnz * (sizeof(int32) + sizeof(double));
}

/* Row i of X times w (n_cols values). */
static inline double
sparse_row_dot(const SparseMatrix *X, int64 i, const double *w)
{
	double		s = 0.0;

	for (int64 k = X->indptr[i]; k < X->indptr[i + 1]; k++)
		s += X->values[k] * w[X->indices[k]];
	return s;
}

/*
 * Z (b x k) = rows [r0, r0 + b) of X times W, with W feature-major (n_cols
 * x k: the k weights of a feature side by side).
 */
extern void sparse_mul_dense(const SparseMatrix *X, int64 r0, int b, const double *W, int k, double *Z);

/* G (n_cols x k, feature-major) += rows [r0, r0 + b) of X transposed times R (b x k). */
extern void sparse_tmul_acc(const SparseMatrix *X, int64 r0, int b, const double *R, int k, double *G);

/* Rows [r0, r0 + b) of X as a dense b x n_cols row-major matrix D. */
extern void sparse_densify(const SparseMatrix *X, int64 r0, int64 b, double *D);

#endif							/* GALAXY_SPARSE_H */
