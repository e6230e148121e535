/*
 * passes.c — the states of the streaming solver's later passes and the
 * arrays they are given (see passes.h): their validation and their merge.
 * Plain C over doubles, no catalog or array access (passes_sql.c has the
 * SQL-callable functions), so the fuzzer reaches it (test/fuzz).
 */
#include "postgres.h"

#include <math.h>

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
	else
	{
		pass_corrupt("unknown tag");
		pg_unreachable();
	}
	if ((Size) n != want)
		pass_corrupt("length does not match its header");
	*k = (int) kd;
	*third = (int) td;
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
