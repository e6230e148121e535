/*
 * linalg.h — small dense vector kernels and helpers shared by the models
 * (the linear models and the trees), so each chore is written once.
 */
#ifndef GALAXY_LINALG_H
#define GALAXY_LINALG_H

#include <math.h>

#include "utils/memutils.h"

#include "galaxy.h"

/* Allocate a possibly large zeroed array of doubles (at least one; see galaxy_alloc_zeroed). */
static inline double *
alloc_doubles(Size n)
{
	return (double *) galaxy_alloc_zeroed(sizeof(double) * Max(n, 1));
}

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

/* Index of the largest of v[0..n) (n >= 1); the first one wins ties, NaN never wins. */
static inline int
vec_argmax(const double *v, int n)
{
	int			best = 0;

	for (int i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

/* The logistic function 1 / (1 + e^-z), never exp of a large positive number. */
static inline double
logistic(double z)
{
	if (z >= 0.0)
		return 1.0 / (1.0 + exp(-z));
	else
	{
		double		e = exp(z);

		return e / (1.0 + e);
	}
}

/*
 * Importance of each of p features from a linear model's coefficients
 * (n_outputs rows of p): the mean absolute coefficient over the outputs.
 */
static inline void
coef_importance(const double *coef, int n_outputs, int p, double *out)
{
	for (int j = 0; j < p; j++)
	{
		double		s = 0.0;

		for (int c = 0; c < n_outputs; c++)
			s += fabs(coef[(Size) c * p + j]);
		out[j] = s / n_outputs;
	}
}

/*
 * out[i] = exp(z[i] - shift) / sum of them, for i < n: softmax when shift is
 * the largest z (no overflow).  out may be z.
 */
static inline void
vec_exp_normalise(const double *z, int n, double shift, double *out)
{
	double		sum = 0.0;

	for (int i = 0; i < n; i++)
	{
		out[i] = exp(z[i] - shift);
		sum += out[i];
	}
	for (int i = 0; i < n; i++)
		out[i] /= sum;
}

#endif							/* GALAXY_LINALG_H */
