/*
 * fuzz_moments.c — libFuzzer target for galaxy.moments, the state of the
 * scale-out aggregates (src/scale/moments.c): a state is user input (its
 * text and binary forms can be cast or sent by anyone, and Citus ships
 * partial states between nodes as text).
 *
 * Each input is read twice: as the binary (external) form, moments_decode,
 * and as text, moments_from_text.  What an accepted state must hold:
 *   - encoding it again gives the same bytes, and its text form reads back
 *     to the same bytes;
 *   - every derived sum the solver uses (column statistics, the Gram
 *     matrix under a transform, the merge with itself) runs without a
 *     crash or a sanitizer report, and the merge's row count is twice the
 *     state's;
 *   - a row added to it (Welford's update, with and without NULLs) keeps it
 *     valid, and so does a row added to its sample of rows, when it has one
 *     (the merge with itself, above, merges the samples too).
 * The same input is also read as galaxy.newton, the state of
 * logistic_regression's Newton pass (src/scale/newton.c), in both forms: an
 * accepted state must encode to the same bytes again and read back from its
 * text form, its merge with itself must double its counts, and a row added
 * to it (with and without a NULL) must leave a valid state.
 * The same bytes, as native doubles, are also the float8[] state of the
 * streaming naive Bayes, k-means and multinomial logistic (softmax) passes
 * (src/scale/passes.c): an accepted state merged with itself must double
 * its rows (a softmax state's: summed and buffered, the merge summing the
 * other's buffered rows a BLAS block at a time) and its buffer must then
 * sum without a crash; and they are checked as the model of nb_score, the
 * centres of kmeans_pass, the point of softmax_pass and the model of
 * logistic_proba.
 * An ERROR with an unexpected SQLSTATE is a finding (fuzz_common.c).
 */
#include "postgres.h"

#include <math.h>

#include "fuzz_common.h"
#include "pg_shim.h"
#include "scale/moments.h"
#include "scale/newton.h"
#include "scale/passes.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup("fuzz_moments");
	return 0;
}

/* Use an accepted state the way the solver and the aggregates do. */
static void
use_state(MomentsData *m, const char *where)
{
	Size		len,
				len2;
	char	   *enc = moments_encode(m, &len);
	MomentsData *back = moments_decode(enc, len);
	char	   *enc2 = moments_encode(back, &len2);
	char	   *text;
	MomentsData *fromtext;
	int			d = m->d;
	MomentsColumn *cols = palloc(sizeof(MomentsColumn) * d);
	double	   *center = palloc(sizeof(double) * d);
	double	   *scale = palloc(sizeof(double) * d);
	double	   *U = palloc(sizeof(double) * d);
	double	   *R = palloc(sizeof(double) * d * d);
	MomentsTransform tf;
	MomentsData *twice;
	double	   *x = palloc0(sizeof(double) * d);
	bool	   *isnull = palloc0(sizeof(bool) * d);

	if (len != len2 || memcmp(enc, enc2, len) != 0)
		fuzz_finding("%s: encoding an accepted state twice gives different bytes", where);
	text = moments_to_text(m);
	fromtext = moments_from_text(text);
	pfree(enc2);
	enc2 = moments_encode(fromtext, &len2);
	if (len != len2 || memcmp(enc, enc2, len) != 0)
		fuzz_finding("%s: the text form does not read back to the same state", where);

	for (int q = 0; q < m->n_parts; q++)
	{
		moments_columns(m, q, cols);
		for (int j = 0; j < d; j++)
		{
			center[j] = isfinite(cols[j].mean) ? cols[j].mean : 0.0;
			scale[j] = (cols[j].sd > 0 && isfinite(cols[j].sd)) ? cols[j].sd : 1.0;
		}
		tf.center = center;
		tf.scale = scale;
		tf.fill = center;
		moments_gram(m, q, &tf, U, R);
	}

	/* the merge with itself doubles the rows */
	twice = palloc(VARSIZE(m));
	memcpy(twice, m, VARSIZE(m));
	twice = moments_merge(twice, m);
	for (int q = 0; q < m->n_parts; q++)
		if (moments_rows(twice, q) != 2 * moments_rows(m, q))
			fuzz_finding("%s: merging a state with itself did not double its rows", where);

	/* one more row, without and with a NULL: still a valid state */
	for (int j = 0; j < d - 1; j++)
		x[j] = (double) j;
	moments_add_row(twice, 0, x, isnull, 1.0);
	/* a sampled state: a row into its sample (key 0, below every bound) keeps it valid */
	if (twice->flags & MOMENTS_HAS_SAMPLE)
	{
		twice = moments_sample_row(twice, 0.0, x, isnull, 3.0);
		moments_check(twice, VARSIZE(twice));
	}
	if (d > 2)
	{
		MomentsData *withnulls = moments_with_nulls(twice);

		isnull[0] = true;
		moments_add_row(withnulls, m->n_parts - 1, x, isnull, 2.0);
		moments_check(withnulls, VARSIZE(withnulls));
	}
	moments_check(twice, VARSIZE(twice));
}

/* Parse one input in one form; use it when accepted. */
static void
parse_one(const uint8_t *data, size_t size, bool as_text)
{
	const char *where = as_text ? "text" : "binary";
	MomentsData *volatile m = NULL;

	PG_TRY();
	{
		if (as_text)
		{
			char	   *s = palloc(size + 1);

			memcpy(s, data, size);
			s[size] = '\0';
			m = moments_from_text(s);
		}
		else
			m = moments_decode((const char *) data, size);
	}
	PG_CATCH();
	{
		fuzz_check_error(where);
	}
	PG_END_TRY();
	if (m == NULL)
		return;
	PG_TRY();
	{
		use_state(m, where);
	}
	PG_CATCH();
	{
		fuzz_check_error(where);
	}
	PG_END_TRY();
}

/* Use an accepted galaxy.newton state the way the solver and the aggregates do. */
static void
use_newton(NewtonData *s, const char *where)
{
	Size		len,
				len2;
	char	   *enc = newton_encode(s, &len);
	NewtonData *back = newton_decode(enc, len);
	char	   *enc2 = newton_encode(back, &len2);
	NewtonData *twice;
	double	   *x = palloc0(sizeof(double) * s->p);
	bool	   *isnull = palloc0(sizeof(bool) * s->p);

	if (len != len2 || memcmp(enc, enc2, len) != 0)
		fuzz_finding("%s: encoding an accepted newton state twice gives different bytes", where);
	pfree(enc2);
	enc2 = newton_encode(newton_from_text(newton_to_text(s)), &len2);
	if (len != len2 || memcmp(enc, enc2, len) != 0)
		fuzz_finding("%s: the text form does not read back to the same newton state", where);

	twice = palloc(VARSIZE(s));
	memcpy(twice, s, VARSIZE(s));
	newton_merge(twice, s);
	for (int q = 0; q < s->n_parts; q++)
	{
		NewtonPart a,
					b;

		newton_part(s, q, &a);
		newton_part(twice, q, &b);
		if (*b.rows != 2 * *a.rows)
			fuzz_finding("%s: merging a newton state with itself did not double its rows", where);
	}
	for (int j = 0; j < s->p; j++)
		x[j] = (double) j;
	newton_add_row(twice, x, isnull, 1.0);
	isnull[0] = true;
	newton_add_row(twice, x, isnull, 0.0);
	newton_check(twice, VARSIZE(twice));
}

/* Parse one input as a galaxy.newton state in one form; use it when accepted. */
static void
parse_newton(const uint8_t *data, size_t size, bool as_text)
{
	const char *where = as_text ? "newton text" : "newton binary";
	NewtonData *volatile s = NULL;

	PG_TRY();
	{
		if (as_text)
		{
			char	   *str = palloc(size + 1);

			memcpy(str, data, size);
			str[size] = '\0';
			s = newton_from_text(str);
		}
		else
			s = newton_decode((const char *) data, size);
	}
	PG_CATCH();
	{
		fuzz_check_error(where);
	}
	PG_END_TRY();
	if (s == NULL)
		return;
	PG_TRY();
	{
		use_newton(s, where);
	}
	PG_CATCH();
	{
		fuzz_check_error(where);
	}
	PG_END_TRY();
}

/* The input as native doubles: a pass state, a model or centres array. */
static void
parse_pass(const uint8_t *data, size_t size)
{
	int			n = (int) Min(size / sizeof(double), (size_t) 1 << 20);
	double	   *volatile v = palloc(sizeof(double) * Max(n, 1));
	bool		volatile ok = false;

	memcpy(v, data, sizeof(double) * n);
	PG_TRY();
	{
		pass_state_check(v, n);
		ok = true;
	}
	PG_CATCH();
	{
		fuzz_check_error("pass state");
	}
	PG_END_TRY();
	if (ok)
	{
		PG_TRY();
		{
			double	   *twice = palloc(sizeof(double) * n);
			double		rows_a,
						rows_b;

			memcpy(twice, v, sizeof(double) * n);
			pass_state_merge(twice, n, v, n);
			if (v[0] == PASS_KM_TAG)
			{
				KmPassPart pa,
							pb;

				pass_km_part(v, 0, &pa);
				pass_km_part(twice, 0, &pb);
				rows_a = *pa.rows;
				rows_b = *pb.rows;
			}
			else if (v[0] == PASS_SM_TAG)
			{
				rows_a = pass_sm_rows(v);
				rows_b = pass_sm_rows(twice);
				pass_sm_flush(twice);
			}
			else
			{
				rows_a = v[PASS_HEADER];
				rows_b = twice[PASS_HEADER];
			}
			if (isfinite(rows_b) && rows_b != 2 * rows_a)
				fuzz_finding("pass state: merging a state with itself did not double its rows");
		}
		PG_CATCH();
		{
			fuzz_check_error("pass state merge");
		}
		PG_END_TRY();
	}
	for (int nb = 0; nb < 2; nb++)
	{
		PG_TRY();
		{
			int			k,
						p;

			if (n >= 2 && v[1] >= 1 && v[1] <= 1024)
				pass_args_check(v, n, nb == 1, (int) v[1], &k, &p);
		}
		PG_CATCH();
		{
			fuzz_check_error(nb ? "nb_score model" : "kmeans_pass centres");
		}
		PG_END_TRY();
		PG_TRY();
		{
			int			k;

			if (n >= 2 && v[1] >= 1 && v[1] <= 1024)
			{
				pass_sm_arg_check(v, n, nb == 1, (int) v[1], &k);
				if (nb == 1)
				{
					/* an accepted point makes a state that takes a row of each part */
					double	   *st = palloc0(sizeof(double) * pass_sm_doubles(k, (int) v[1]));
					double	   *t = palloc0(sizeof(double) * (int) v[1]);

					pass_sm_init(st, v);
					pass_sm_add_row(st, k - 1, t, 1);
					pass_sm_add_row(st, 0, t, 0);
					pass_sm_flush(st);
					pass_state_check(st, (int) pass_sm_doubles(k, (int) v[1]));
				}
			}
		}
		PG_CATCH();
		{
			fuzz_check_error(nb ? "softmax_pass point" : "logistic_proba model");
		}
		PG_END_TRY();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_pass(data, size);
	shim_free_all();
	parse_one(data, size, false);
	shim_free_all();
	parse_one(data, size, true);
	shim_free_all();
	parse_newton(data, size, false);
	shim_free_all();
	parse_newton(data, size, true);
	shim_free_all();
	return 0;
}
