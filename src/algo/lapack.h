/*
 * lapack.h — prototypes of the Fortran LAPACK routines galaxy calls from
 * OpenBLAS (Debian's libopenblas ships LAPACK with 32-bit integers).
 *
 * Matrices are column-major.  A symmetric matrix stored row-major with its
 * upper triangle filled is, to LAPACK, the same matrix with its lower
 * triangle filled ('L').  Character arguments carry the hidden length that
 * gfortran appends at the end of the argument list.
 */
#ifndef GALAXY_LAPACK_H
#define GALAXY_LAPACK_H

#include <stddef.h>

typedef int lapack_int;

/* Cholesky factorisation of a symmetric positive definite matrix. */
extern void dpotrf_(const char *uplo, const lapack_int *n, double *a,
					const lapack_int *lda, lapack_int *info, size_t uplo_len);

/* Solve A X = B with the Cholesky factor from dpotrf. */
extern void dpotrs_(const char *uplo, const lapack_int *n, const lapack_int *nrhs,
					const double *a, const lapack_int *lda, double *b,
					const lapack_int *ldb, lapack_int *info, size_t uplo_len);

/* Cholesky factorisation and solve in one call. */
extern void dposv_(const char *uplo, const lapack_int *n, const lapack_int *nrhs,
				   double *a, const lapack_int *lda, double *b, const lapack_int *ldb,
				   lapack_int *info, size_t uplo_len);

/* Reciprocal 1-norm condition number estimate from a Cholesky factor. */
extern void dpocon_(const char *uplo, const lapack_int *n, const double *a,
					const lapack_int *lda, const double *anorm, double *rcond,
					double *work, lapack_int *iwork, lapack_int *info, size_t uplo_len);

/* Eigenvalues (ascending) and eigenvectors of a symmetric matrix, divide and conquer. */
extern void dsyevd_(const char *jobz, const char *uplo, const lapack_int *n, double *a,
					const lapack_int *lda, double *w, double *work, const lapack_int *lwork,
					lapack_int *iwork, const lapack_int *liwork, lapack_int *info,
					size_t jobz_len, size_t uplo_len);

#endif							/* GALAXY_LAPACK_H */
