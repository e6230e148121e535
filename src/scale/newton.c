/*
 * newton.c — the state of a Newton pass of logistic regression (see
 * newton.h): layout, validation, the per-row update, the merge and the
 * external forms (shared with galaxy.moments, moments.c).
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "scale/moments.h"
#include "scale/newton.h"

/* Header fields in the external form: magic, p, parts, seed, test_size, skipped. */
#define NEWTON_EXT_HEADER (4 * 3 + 8 * 3)

/* The clipping of metrics_classification's log loss. */
#define NEWTON_LOGLOSS_EPS 1e-15

/* Bytes of a state of p features and n_parts parts. */
Size
newton_size(int p, int n_parts)
{
	return sizeof(NewtonData) + sizeof(double) * (newton_point_doubles(p) + n_parts * newton_part_doubles(p));
}

/* Reject a point that is not finite or has a scale that is not positive. */
void
newton_check_point(int p, const double *point)
{
	for (Size i = 0; i < newton_point_doubles(p); i++)
		if (!isfinite(point[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the point of galaxy.newton has a non-finite value")));
	if (!(point[0] >= 0.0 && point[1] >= 0.0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the class weights of galaxy.newton must not be negative")));
	for (int j = 0; j < p; j++)
		if (!(point[3 + 2 * p + j] > 0.0))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the scale of feature %d of galaxy.newton must be positive", j + 1)));
}

/* A new empty state at a point (4 p + 3 doubles, see NewtonPoint). */
NewtonData *
newton_create(int p, uint64 seed, double test_size, const double *point)
{
	Size		size = newton_size(p, 2);
	NewtonData *s = palloc0(size);

	SET_VARSIZE(s, size);
	s->magic = NEWTON_MAGIC;
	s->p = p;
	s->n_parts = 2;
	s->seed = seed;
	s->test_size = test_size;
	memcpy((char *) s + sizeof(NewtonData), point, sizeof(double) * newton_point_doubles(p));
	return s;
}

/* Pointers to the point a state carries. */
void
newton_point(const NewtonData *s, NewtonPoint *out)
{
	double	   *v = (double *) ((char *) s + sizeof(NewtonData));
	int			p = s->p;

	out->class_w = v;
	out->intercept = v + 2;
	out->coef = v + 3;
	out->center = v + 3 + p;
	out->scale = v + 3 + 2 * p;
	out->fill = v + 3 + 3 * p;
}

/* Pointers to one part of a state (0 training, 1 held out). */
void
newton_part(const NewtonData *s, int part, NewtonPart *out)
{
	int			p = s->p;
	double	   *v = (double *) ((char *) s + sizeof(NewtonData)) + newton_point_doubles(p) +
		(Size) part * newton_part_doubles(p);

	out->rows = v;
	out->wsum = v + 1;
	out->loss = v + 2;
	out->logloss = v + 3;
	out->tp = v + 4;
	out->fp = v + 5;
	out->fn = v + 6;
	out->tn = v + 7;
	out->grad = v + NEWTON_PART_FIXED;
	out->hess = v + NEWTON_PART_FIXED + p + 1;
}

/* ERROR 22P03 for a value that is not a valid state. */
static void
newton_corrupt(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid galaxy.newton value: %s", what)));
}

/* Whether v is a count: a whole number in [0, 9e15]. */
static bool
is_count(double v)
{
	return v >= 0.0 && v <= 9e15 && v == floor(v);
}

/* Validate a whole state of size bytes (ERROR 22P03 when it is not one). */
void
newton_check(const NewtonData *s, Size size)
{
	int			p;
	NewtonPoint pt;

	if (size < sizeof(NewtonData))
		newton_corrupt("too short");
	if (s->magic != NEWTON_MAGIC)
		newton_corrupt("bad magic number");
	p = s->p;
	if (p < 1 || p > NEWTON_MAX_FEATURES)
		newton_corrupt("feature count out of range");
	if (s->n_parts != 2)
		newton_corrupt("part count must be 2");
	if (!(s->test_size >= 0.0 && s->test_size < 1.0))
		newton_corrupt("test_size out of range");
	if (!is_count(s->n_skipped))
		newton_corrupt("skipped-row count out of range");
	if (size != newton_size(p, s->n_parts))
		newton_corrupt("size does not match its features");
	newton_point(s, &pt);
	for (Size i = 0; i < newton_point_doubles(p); i++)
		if (!isfinite(pt.class_w[i]))
			newton_corrupt("non-finite point");
	if (!(pt.class_w[0] >= 0.0 && pt.class_w[1] >= 0.0))
		newton_corrupt("negative class weight");
	for (int j = 0; j < p; j++)
		if (!(pt.scale[j] > 0.0))
			newton_corrupt("scale not positive");
	for (int q = 0; q < s->n_parts; q++)
	{
		NewtonPart pa;

		newton_part(s, q, &pa);
		if (!is_count(*pa.rows) || !is_count(*pa.tp) || !is_count(*pa.fp) ||
			!is_count(*pa.fn) || !is_count(*pa.tn))
			newton_corrupt("count out of range");
		if (*pa.tp + *pa.fp + *pa.fn + *pa.tn != *pa.rows)
			newton_corrupt("confusion counts do not add up to the rows");
		if (!(*pa.wsum >= 0.0 && isfinite(*pa.wsum)) || !(*pa.loss >= 0.0 && isfinite(*pa.loss)) ||
			!(*pa.logloss >= 0.0 && isfinite(*pa.logloss)))
			newton_corrupt("weight or loss out of range");
		for (Size i = 0; i < (Size) (p + 1) + (Size) (p + 1) * (p + 2) / 2; i++)
			if (!isfinite(pa.grad[i]))
				newton_corrupt("non-finite gradient or Hessian");
		for (int j = 0; j <= p; j++)
			if (pa.hess[moments_pidx(p + 1, j, j)] < 0.0)
				newton_corrupt("negative Hessian diagonal");
	}
}

/* log(1 + exp(z)), without overflow. */
static inline double
softplus(double z)
{
	return z > 0.0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/*
 * One row: its part by the split's hash (as split_moments), its transformed
 * features at the point, its loss and confusion count, and in the training
 * part its gradient and Hessian terms (weighted by its class's weight).
 */
void
newton_add_row(NewtonData *s, const double *x, const bool *isnull, double y)
{
	int			p = s->p;
	int			d = p + 1;
	int			part = moments_row_part(s->seed, s->test_size, x, isnull, p, y);
	int			cls = y != 0.0 ? 1 : 0;
	NewtonPoint pt;
	NewtonPart pa;
	double		a[NEWTON_MAX_FEATURES + 1];
	double		z,
				prob,
				w,
				p_true,
				p_other;

	newton_point(s, &pt);
	newton_part(s, part, &pa);
	a[0] = 1.0;
	z = *pt.intercept;
	for (int j = 0; j < p; j++)
	{
		double		t = ((isnull[j] ? pt.fill[j] : x[j]) - pt.center[j]) / pt.scale[j];

		a[j + 1] = t;
		z += pt.coef[j] * t;
	}
	prob = 1.0 / (1.0 + exp(-z));
	w = pt.class_w[cls];

	*pa.rows += 1.0;
	*pa.wsum += w;
	*pa.loss += w * (cls ? softplus(-z) : softplus(z));
	/* the clipped, renormalised probability of the true class */
	p_true = cls ? prob : 1.0 - prob;
	p_other = 1.0 - p_true;
	p_true = Min(Max(p_true, NEWTON_LOGLOSS_EPS), 1.0 - NEWTON_LOGLOSS_EPS);
	p_other = Min(Max(p_other, NEWTON_LOGLOSS_EPS), 1.0 - NEWTON_LOGLOSS_EPS);
	*pa.logloss -= log(p_true / (p_true + p_other));
	/* logistic_regression predicts class 1 when the score is above 0 */
	if (z > 0.0)
		*(cls ? pa.tp : pa.fp) += 1.0;
	else
		*(cls ? pa.fn : pa.tn) += 1.0;

	if (part == 0 && w > 0.0)
	{
		double		r = w * (prob - (double) cls);
		double		h = w * prob * (1.0 - prob);
		double	   *H = pa.hess;

		for (int j = 0; j < d; j++)
		{
			double		hj = h * a[j];

			pa.grad[j] += r * a[j];
			for (int k = j; k < d; k++)
				*H++ += hj * a[k];
		}
	}
}

/* The combine function's work: every sum of b added to a's. */
void
newton_merge(NewtonData *a, const NewtonData *b)
{
	int			p = a->p;
	Size		np = newton_point_doubles(p);
	const double *pa = (const double *) ((const char *) a + sizeof(NewtonData));
	const double *pb = (const double *) ((const char *) b + sizeof(NewtonData));
	Size		nd = (Size) a->n_parts * newton_part_doubles(p);
	double	   *va;
	const double *vb;

	if (b->p != p || b->n_parts != a->n_parts)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot merge galaxy.newton states of %d and %d features", p, b->p)));
	if (b->seed != a->seed || b->test_size != a->test_size)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot merge galaxy.newton states of different splits")));
	if (memcmp(pa, pb, sizeof(double) * np) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot merge galaxy.newton states taken at different points")));
	va = (double *) pa + np;
	vb = pb + np;
	for (Size i = 0; i < nd; i++)
		va[i] += vb[i];
	a->n_skipped += b->n_skipped;
}

/* The external form of a state: header fields, then every double. */
char *
newton_encode(const NewtonData *s, Size *len)
{
	Size		nd = (VARSIZE(s) - sizeof(NewtonData)) / sizeof(double);
	char	   *buf = palloc(NEWTON_EXT_HEADER + nd * 8);
	char	   *q = buf;
	const double *v = (const double *) ((const char *) s + sizeof(NewtonData));

	scale_put32(&q, s->magic);
	scale_put32(&q, (uint32) s->p);
	scale_put32(&q, (uint32) s->n_parts);
	scale_put64(&q, s->seed);
	scale_put64(&q, scale_double_bits(s->test_size));
	scale_put64(&q, scale_double_bits(s->n_skipped));
	for (Size i = 0; i < nd; i++)
		scale_put64(&q, scale_double_bits(v[i]));
	*len = q - buf;
	return buf;
}

/* Parse and validate the external form. */
NewtonData *
newton_decode(const char *buf, Size len)
{
	const char *q = buf;
	uint32		magic,
				p,
				parts;
	Size		size,
				nd;
	NewtonData *s;
	double	   *v;

	if (len < NEWTON_EXT_HEADER)
		newton_corrupt("too short");
	magic = scale_get32(&q);
	p = scale_get32(&q);
	parts = scale_get32(&q);
	if (magic != NEWTON_MAGIC)
		newton_corrupt("bad magic number");
	if (p < 1 || p > NEWTON_MAX_FEATURES || parts != 2)
		newton_corrupt("header out of range");
	size = newton_size((int) p, (int) parts);
	nd = (size - sizeof(NewtonData)) / sizeof(double);
	if (len != NEWTON_EXT_HEADER + nd * 8)
		newton_corrupt("length does not match its features");
	s = palloc0(size);
	SET_VARSIZE(s, size);
	s->magic = magic;
	s->p = (int32) p;
	s->n_parts = (int32) parts;
	s->seed = scale_get64(&q);
	s->test_size = scale_bits_double(scale_get64(&q));
	s->n_skipped = scale_bits_double(scale_get64(&q));
	v = (double *) ((char *) s + sizeof(NewtonData));
	for (Size i = 0; i < nd; i++)
		v[i] = scale_bits_double(scale_get64(&q));
	newton_check(s, size);
	return s;
}

/* Text form: "GNS1:" and the external form in hex. */
char *
newton_to_text(const NewtonData *s)
{
	Size		len;
	char	   *bin = newton_encode(s, &len);
	char	   *out = scale_hex_encode(NEWTON_TEXT_PREFIX, bin, len);

	pfree(bin);
	return out;
}

/* Parse the text form (ERROR 22P02 on anything else, 22P03 on a bad state). */
NewtonData *
newton_from_text(const char *str)
{
	Size		n;
	char	   *bin = scale_hex_decode(str, NEWTON_TEXT_PREFIX, "galaxy.newton", &n);
	NewtonData *s = newton_decode(bin, n);

	pfree(bin);
	return s;
}

/* A state argument: detoasted and validated. */
NewtonData *
newton_from_datum(Datum d)
{
	struct varlena *v = pg_detoast_datum((struct varlena *) DatumGetPointer(d));

	newton_check((NewtonData *) v, VARSIZE(v));
	return (NewtonData *) v;
}
