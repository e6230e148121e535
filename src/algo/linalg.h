/*
 * linalg.h — small dense kernels shared by the linear models.
 */
#ifndef GALAXY_LINALG_H
#define GALAXY_LINALG_H

/* Dot product with four partial sums (shorter dependency chains). */
static inline double
dot_product(const double *a, const double *b, int n)
{
	double		s0 = 0.0,
				s1 = 0.0,
				s2 = 0.0,
				s3 = 0.0;
	int			j = 0;

	for (; j + 4 <= n; j += 4)
	{
		s0 += a[j] * b[j];
		s1 += a[j + 1] * b[j + 1];
		s2 += a[j + 2] * b[j + 2];
		s3 += a[j + 3] * b[j + 3];
	}
	for (; j < n; j++)
		s0 += a[j] * b[j];
	return (s0 + s1) + (s2 + s3);
}

#endif							/* GALAXY_LINALG_H */
