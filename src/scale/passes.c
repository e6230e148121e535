/*
 * passes.c — the states of the streaming solver's later passes and the
 * arrays they are given (see passes.h): their validation and their merge.
 * Plain C over doubles, no catalog or array access (passes_sql.c has the
 * SQL-callable functions), so the fuzzer reaches it (test/fuzz).
 */
#include "postgres.h"

#include <math.h>

#include <cblas.h>

#include "miscadmin.h"

#include "scale/moments.h"
#include "scale/passes.h"

static void
pass_corrupt(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid streaming pass state: %s", what)));
}

/* passes.h: the shape of a state of n doubles, checked against its tag's layout. */
void
pass_state_shape(const double *v, int n, int *k, int *third)
{
	double		tag,
				kd,
				td;
	Size		want;

	if (n < PASS_HEADER)
		pass_corrupt("too short");
	tag = v[0];
	kd = v[1];
	td = v[2];
	if (tag == PASS_NB_TAG)
	{
		if (!(kd >= 2 && kd <= PASS_MAX_CLASSES) || kd != floor(kd))
			pass_corrupt("class count out of range");
		if (!(td >= 0 && td <= 9e15) || td != floor(td))
			pass_corrupt("skipped-row count out of range");
		want = PASS_HEADER + 2 * pass_nb_part_doubles((int) kd);
	}
	else if (tag == PASS_KM_TAG)
	{
		if (!(kd >= 1 && kd <= PASS_MAX_CLUSTERS) || kd != floor(kd))
			pass_corrupt("cluster count out of range");
		if (!(td >= 1 && td <= MOMENTS_MAX_COLUMNS - 1) || td != floor(td))
			pass_corrupt("feature count out of range");
		want = PASS_HEADER + 2 * pass_km_part_doubles((int) kd, (int) td);
	}
	else if (tag == PASS_SM_TAG)
	{
		if (!(kd >= 3 && kd <= PASS_MAX_CLASSES) || kd != floor(kd))
			pass_corrupt("class count out of range");
		if (!(td >= 1 && td <= MOMENTS_MAX_COLUMNS - 1) || td != floor(td))
			pass_corrupt("feature count out of range");
		if (kd * (td + 1) > PASS_SM_MAX_PARAMS)
			pass_corrupt("too many parameters");
		want = pass_sm_doubles((int) kd, (int) td);
	}
	else
	{
		pass_corrupt("unknown tag");
		pg_unreachable();
	}
	if ((Size) n != want)
		pass_corrupt("length does not match its header");
	*k = (int) kd;
	/* nb_score's third field is a count of rows (up to 9e15), not a size: not returned */
	*third = tag == PASS_NB_TAG ? 0 : (int) td;
}

/* Whether v is a count: a whole number in [0, 9e15]. */
static bool
is_count(double v)
{
	return v >= 0.0 && v <= 9e15 && v == floor(v);
}

/* passes.h: pointers into a softmax_pass state (its shape checked). */
void
pass_sm_layout(double *state, SmPass *out)
{
	int			k = (int) state[1];
	int			p = (int) state[2];
	int			D = k * (p + 1);
	double	   *b = state + PASS_HEADER;

	out->k = k;
	out->p = p;
	out->D = D;
	out->rows = b++;
	out->wsum = b++;
	out->loss = b++;
	out->logloss = b++;
	out->confusion = b;
	b += (Size) k * k;
	out->grad = b;
	b += D;
	out->hess = b;
	b += (Size) D * D;
	out->held = b;
	b += 4 + (Size) k * k;
	out->point = b;
	out->class_w = b;
	b += k;
	out->theta = b;
	b += D;
	out->center = b;
	b += p;
	out->scale = b;
	b += p;
	out->fill = b;
	b += p;
	out->n_buf = b++;
	out->buf = b;
}

/* The values of a softmax_pass state beyond their being finite. */
static void
sm_check_values(double *v)
{
	SmPass		s;
	double	   *parts[2];

	pass_sm_layout(v, &s);
	parts[0] = s.rows;
	parts[1] = s.held;
	for (int q = 0; q < 2; q++)
	{
		if (!is_count(parts[q][0]))
			pass_corrupt("row count out of range");
		for (int i = 0; i < s.k * s.k; i++)
			if (!is_count(parts[q][4 + i]))
				pass_corrupt("confusion count out of range");
	}
	for (int c = 0; c < s.k; c++)
		if (!(s.class_w[c] >= 0.0))
			pass_corrupt("negative class weight");
	for (int j = 0; j < s.p; j++)
		if (!(s.scale[j] > 0.0))
			pass_corrupt("scale not positive");
	if (!(*s.n_buf >= 0 && *s.n_buf <= PASS_SM_BUFFER_ROWS) || *s.n_buf != floor(*s.n_buf))
		pass_corrupt("buffered row count out of range");
	for (int i = 0; i < (int) *s.n_buf; i++)
	{
		double		c = s.buf[(Size) i * (s.p + 1)];

		if (!(c >= 0 && c < s.k) || c != floor(c))
			pass_corrupt("class of a buffered row out of range");
	}
}

/* passes.h: a whole state: its shape and every value finite. */
void
pass_state_check(const double *v, int n)
{
	int			k,
				third;

	pass_state_shape(v, n, &k, &third);
	for (int i = 0; i < n; i++)
		if (!isfinite(v[i]))
			pass_corrupt("non-finite value");
	if (v[0] == PASS_SM_TAG)
		sm_check_values((double *) v);
}

/* The clipping of probabilities in the log-loss (metrics.c's). */
#define SM_LOGLOSS_EPS 1e-15

/*
 * Rows A (b x (p + 1), each (1, t)) of classes cls into part 'part' of a
 * softmax_pass state: scores Z = A theta' (dgemm), probabilities, losses
 * and confusion; for the training part the gradient R' A (dgemm, R the
 * weighted probabilities minus the one-hot classes) and the Hessian
 *     sum_i w_i (diag(P_i) - P_i P_i') (x) a_i a_i'
 * as k dsyrk of the rows scaled by sqrt(w_i P_ic) (the diagonal blocks)
 * less one dsyrk of the rows sqrt(w_i) (P_i (x) a_i).
 */
static void
sm_block(SmPass *s, double *A, const int *cls, int b, int part)
{
	int			k = s->k;
	int			d = s->p + 1;
	int			D = s->D;
	double	   *Z = palloc(sizeof(double) * b * k);
	double	   *w = palloc(sizeof(double) * b);
	double	   *P = part == 0 ? Z : NULL;
	double	   *base = part == 0 ? s->rows : s->held;

	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, k, d, 1.0, A, d, s->theta, d, 0.0, Z, k);
	for (int i = 0; i < b; i++)
	{
		double	   *z = Z + (Size) i * k;
		int			y = cls[i];
		int			best = 0;
		double		m = z[0],
					sum = 0.0,
					lse,
					clip = 0.0,
					pt = 0.0;

		for (int c = 1; c < k; c++)
		{
			if (z[c] > z[best])
				best = c;
			m = Max(m, z[c]);
		}
		for (int c = 0; c < k; c++)
			sum += exp(z[c] - m);
		lse = m + log(sum);
		w[i] = s->class_w[y];
		base[0] += 1.0;
		base[1] += w[i];
		base[2] += w[i] * (lse - z[y]);
		/* the clipped, renormalised probability of the true class (metrics_classification's) */
		for (int c = 0; c < k; c++)
		{
			double		pr = exp(z[c] - lse);

			z[c] = pr;
			pr = Min(Max(pr, SM_LOGLOSS_EPS), 1.0 - SM_LOGLOSS_EPS);
			clip += pr;
			if (c == y)
				pt = pr;
		}
		base[3] -= log(pt / clip);
		base[4 + (Size) y * k + best] += 1.0;
	}
	if (P != NULL)
	{
		double	   *R = palloc(sizeof(double) * b * k);
		double	   *M = palloc(sizeof(double) * b * d);
		double	   *V = palloc(sizeof(double) * (Size) b * D);

		for (int i = 0; i < b; i++)
			for (int c = 0; c < k; c++)
				R[(Size) i * k + c] = w[i] * (P[(Size) i * k + c] - (c == cls[i] ? 1.0 : 0.0));
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, d, b, 1.0, R, k, A, d, 1.0, s->grad, d);
		for (int c = 0; c < k; c++)
		{
			for (int i = 0; i < b; i++)
			{
				double		f = sqrt(w[i] * P[(Size) i * k + c]);

				for (int j = 0; j < d; j++)
					M[(Size) i * d + j] = f * A[(Size) i * d + j];
			}
			cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, b, 1.0, M, d, 1.0,
						s->hess + (Size) c * d * D + (Size) c * d, D);
		}
		for (int i = 0; i < b; i++)
		{
			double		f = sqrt(w[i]);

			for (int c = 0; c < k; c++)
			{
				double		g = f * P[(Size) i * k + c];

				for (int j = 0; j < d; j++)
					V[(Size) i * D + (Size) c * d + j] = g * A[(Size) i * d + j];
			}
		}
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, D, b, -1.0, V, D, 1.0, s->hess, D);
		pfree(R);
		pfree(M);
		pfree(V);
	}
	pfree(Z);
	pfree(w);
}

/* passes.h: sum the buffered training rows of a softmax_pass state. */
void
pass_sm_flush(double *state)
{
	SmPass		s;
	int			b,
				d;
	int		   *cls;
	double	   *A;

	pass_sm_layout(state, &s);
	/* a state may come from a hostile INITCOND: the buffer is checked before it is read */
	if (!(*s.n_buf >= 0 && *s.n_buf <= PASS_SM_BUFFER_ROWS) || *s.n_buf != floor(*s.n_buf))
		pass_corrupt("buffered row count out of range");
	b = (int) *s.n_buf;
	if (b == 0)
		return;
	d = s.p + 1;
	cls = palloc(sizeof(int) * b);
	A = palloc(sizeof(double) * b * d);
	memcpy(A, s.buf, sizeof(double) * b * d);
	for (int i = 0; i < b; i++)
	{
		double		c = A[(Size) i * d];

		if (!(c >= 0 && c < s.k) || c != floor(c))
			pass_corrupt("class of a buffered row out of range");
		cls[i] = (int) c;
		A[(Size) i * d] = 1.0;
	}
	sm_block(&s, A, cls, b, 0);
	/* an empty buffer is zeros: equal states compare equal */
	memset(s.buf, 0, sizeof(double) * b * d);
	*s.n_buf = 0.0;
	pfree(cls);
	pfree(A);
}

/* passes.h: one row into a softmax_pass state. */
void
pass_sm_add_row(double *state, int cls, const double *t, int part)
{
	SmPass		s;
	int			d;
	double	   *row;

	pass_sm_layout(state, &s);
	d = s.p + 1;
	if (part != 0)
	{
		double	   *A = palloc(sizeof(double) * d);

		A[0] = 1.0;
		memcpy(A + 1, t, sizeof(double) * s.p);
		sm_block(&s, A, &cls, 1, 1);
		pfree(A);
		return;
	}
	if (!(*s.n_buf >= 0 && *s.n_buf < PASS_SM_BUFFER_ROWS))
		pass_sm_flush(state);	/* full, or out of range: an ERROR */
	row = s.buf + (Size) (*s.n_buf) * d;
	row[0] = cls;
	memcpy(row + 1, t, sizeof(double) * s.p);
	*s.n_buf += 1.0;
	if (*s.n_buf >= PASS_SM_BUFFER_ROWS)
		pass_sm_flush(state);
}

/* passes.h: the training rows of a softmax_pass state, summed and buffered. */
double
pass_sm_rows(const double *state)
{
	SmPass		s;

	pass_sm_layout((double *) state, &s);
	return *s.rows + *s.n_buf;
}

/* passes.h: a new softmax_pass state at a point argument (checked by pass_sm_arg_check). */
void
pass_sm_init(double *state, const double *point_arg)
{
	SmPass		s;
	int			k = (int) point_arg[0];
	int			p = (int) point_arg[1];

	state[0] = PASS_SM_TAG;
	state[1] = k;
	state[2] = p;
	pass_sm_layout(state, &s);
	memcpy(s.point, point_arg + 2, sizeof(double) * pass_sm_point_doubles(k, p));
}

/* passes.h: part 'part' of a k-means pass state. */
void
pass_km_part(double *state, int part, KmPassPart *out)
{
	int			k = (int) state[1];
	int			p = (int) state[2];
	double	   *b = state + PASS_HEADER + pass_km_part_doubles(k, p) * part;

	out->rows = b++;
	out->inertia = b++;
	out->far_d = b++;
	out->counts = b;
	b += k;
	out->sqn = b;
	b += k;
	out->sums = b;
	b += (Size) k * p;
	out->far_row = b;
}

/* passes.h: b (checked) added into a (checked): sums, and the farther row of a k-means part. */
void
pass_state_merge(double *a, int na, const double *b, int nb)
{
	/* the same pass and shape (nb_score's third field is a count, summed) */
	if (na != nb || a[0] != b[0] || a[1] != b[1] || (a[0] == PASS_KM_TAG && a[2] != b[2]))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot combine streaming pass states of different passes or shapes"),
				 errdetail("Partial states of one aggregate always agree.")));
	if (a[0] == PASS_NB_TAG)
	{
		for (int i = 2; i < na; i++)
			a[i] += b[i];
		return;
	}
	if (a[0] == PASS_SM_TAG)
	{
		SmPass		sa,
					sb;
		Size		nsum;

		if (a[2] != b[2])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("cannot combine streaming pass states of different passes or shapes"),
					 errdetail("Partial states of one aggregate always agree.")));
		pass_sm_layout(a, &sa);
		pass_sm_layout((double *) b, &sb);
		if (memcmp(sa.point, sb.point, sizeof(double) * pass_sm_point_doubles(sa.k, sa.p)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("cannot combine softmax pass states taken at different points")));
		/* the two parts are contiguous, before the point */
		nsum = sa.point - sa.rows;
		for (Size i = 0; i < nsum; i++)
			sa.rows[i] += sb.rows[i];
		/* b's buffered rows, a's buffer flushed as it fills */
		for (int i = 0; i < (int) *sb.n_buf; i++)
		{
			const double *row = sb.buf + (Size) i * (sb.p + 1);

			CHECK_FOR_INTERRUPTS();
			pass_sm_add_row(a, (int) row[0], row + 1, 0);
		}
		return;
	}
	for (int q = 0; q < 2; q++)
	{
		KmPassPart pa,
					pb;
		int			k = (int) a[1],
					p = (int) a[2];

		pass_km_part(a, q, &pa);
		pass_km_part((double *) b, q, &pb);
		*pa.rows += *pb.rows;
		*pa.inertia += *pb.inertia;
		for (int c = 0; c < k; c++)
		{
			pa.counts[c] += pb.counts[c];
			pa.sqn[c] += pb.sqn[c];
		}
		for (Size i = 0; i < (Size) k * p; i++)
			pa.sums[i] += pb.sums[i];
		if (*pb.far_d > *pa.far_d)
		{
			*pa.far_d = *pb.far_d;
			memcpy(pa.far_row, pb.far_row, sizeof(double) * p);
		}
	}
}

/* An integer count of an argument array in [lo, hi]. */
static int
arg_count(double v, int lo, int hi, const char *fname, const char *what)
{
	if (!(v >= lo && v <= hi) || v != floor(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the %s of %s must be an integer from %d to %d, not %g", what, fname, lo, hi, v)));
	return (int) v;
}

/*
 * passes.h: the model of nb_score (nb) or the centres of kmeans_pass, n
 * doubles, for rows of p_row features: its header, its length, every value
 * finite, positive scales; for the model, non-negative class weights (not
 * all zero), smoothing and sums of squares.  Its k and p into *k, *p.
 */
void
pass_args_check(const double *v, int n, bool nb, int p_row, int *k_out, int *p_out)
{
	const char *fname = nb ? "galaxy_internal.nb_score" : "galaxy_internal.kmeans_pass";
	const char *what = nb ? "model" : "centres";
	int			k,
				p;
	Size		want;
	const double *scale;

	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the %s of %s is too short", what, fname)));
	k = nb ? arg_count(v[0], 2, PASS_MAX_CLASSES, fname, "class count") :
		arg_count(v[0], 1, PASS_MAX_CLUSTERS, fname, "cluster count");
	p = arg_count(v[1], 1, MOMENTS_MAX_COLUMNS - 1, fname, "feature count");
	if (p != p_row)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the %s of %s are for %d features, the row has %d",
						nb ? "model statistics" : "centres", fname, p, p_row)));
	want = nb ? pass_nb_model_doubles(k, p) : pass_km_centres_doubles(k, p);
	if ((Size) n != want)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the %s of %s must be %zu values for %d %s and %d features, not %d",
						what, fname, want, k, nb ? "classes" : "clusters", p, n)));
	for (int i = 0; i < n; i++)
		if (!isfinite(v[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the %s of %s contains a non-finite value", what, fname)));
	scale = (nb ? v + PASS_NB_MODEL_HEADER : v + 2 + (Size) k * p) + p;
	for (int j = 0; j < p; j++)
		if (!(scale[j] > 0.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the scales of %s must be positive", fname)));
	if (nb)
	{
		const double *cw = v + PASS_NB_MODEL_HEADER + 3 * (Size) p;
		const double *s2 = cw + k + (Size) k * p;
		double		total = 0.0;

		(void) arg_count(v[2], 0, 2, fname, "distribution");
		(void) arg_count(v[7], 0, 1, fname, "held_out_only flag");
		for (int c = 0; c < k; c++)
		{
			if (cw[c] < 0.0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the class weights of %s must not be negative", fname)));
			total += cw[c];
		}
		if (!(total > 0.0) || !(v[3] >= 0.0) || !(v[4] >= 0.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the model of %s has no class weight, or a negative smoothing", fname)));
		for (Size i = 0; i < (Size) k * p; i++)
			if (s2[i] < 0.0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the sums of squares of %s must not be negative", fname)));
	}
	*k_out = k;
	*p_out = p;
}

/*
 * passes.h: softmax_pass's point (sm) or logistic_proba's model, n doubles,
 * for rows of p_row features: header, length, finite values, positive
 * scales, non-negative class weights; *k_out its classes.
 */
void
pass_sm_arg_check(const double *v, int n, bool sm, int p_row, int *k_out)
{
	const char *fname = sm ? "galaxy_internal.softmax_pass" : "galaxy_internal.logistic_proba";
	const char *what = sm ? "point" : "model";
	int			k,
				p;
	Size		want;
	const double *scale;

	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the %s of %s is too short", what, fname)));
	k = arg_count(v[0], sm ? 3 : 2, PASS_MAX_CLASSES, fname, "class count");
	p = arg_count(v[1], 1, MOMENTS_MAX_COLUMNS - 1, fname, "feature count");
	if (p != p_row)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the %s of %s is for %d features, the row has %d", what, fname, p, p_row)));
	if (sm && k * (p + 1) > PASS_SM_MAX_PARAMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s takes at most %d parameters (classes x (features + 1)), not %d",
						fname, PASS_SM_MAX_PARAMS, k * (p + 1))));
	want = sm ? 2 + pass_sm_point_doubles(k, p) : pass_lp_model_doubles(k, p);
	if ((Size) n != want)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the %s of %s must be %zu values for %d classes and %d features, not %d",
						what, fname, want, k, p, n)));
	for (int i = 0; i < n; i++)
		if (!isfinite(v[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the %s of %s contains a non-finite value", what, fname)));
	if (sm)
		for (int c = 0; c < k; c++)
			if (v[2 + c] < 0.0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the class weights of %s must not be negative", fname)));
	scale = v + n - 2 * (Size) p;
	for (int j = 0; j < p; j++)
		if (!(scale[j] > 0.0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the scales of %s must be positive", fname)));
	*k_out = k;
}
