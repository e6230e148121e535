/*
 * stream_logistic.c — logistic_regression's streaming fit: Newton (IRLS)
 * passes over the relation.
 *
 * It minimises the in-memory fit's objective (logistic_regression.c),
 *
 *     sum_i s_i * logloss_i(w, b)  +  ||w||^2 / (2 C)
 *
 * over the same training rows (those split_moments put in the training
 * part), in the same preprocessed space (the preprocessor fitted from the
 * first pass's moments, stream.c).  Each pass is one SQL aggregate,
 * galaxy_internal.logistic_pass, at the current point: it returns the
 * weighted log-loss, gradient and Hessian of the training rows and the
 * log-loss and confusion counts of the held-out rows.  The Newton step
 * solves (H + I/C) d = -g (the intercept unpenalised); a step that does not
 * lower the objective is halved (one more pass each time).  It stops when
 * the Newton decrement g'(H + I/C)^-1 g / 2 falls below 1e-12 of the
 * objective, and the model is the point of the last pass, so its metrics
 * are that pass's held-out counts.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "algo/lapack.h"
#include "eval/metrics.h"
#include "registry/audit.h"
#include "scale/newton.h"
#include "scale/stream.h"
#include "util/query.h"

/* Newton's relative stopping threshold on the decrement, and the halvings of a step. */
#define NEWTON_DECREMENT_TOL 1e-12
#define NEWTON_MAX_HALVINGS 30

/* What the Newton pass cannot take beyond stream.c's shared reasons. */
const char *
stream_logistic_unsupported(StreamJob *job)
{
	if (job->schema->n_inputs > NEWTON_MAX_FEATURES)
		return psprintf("it takes at most %d feature columns", NEWTON_MAX_FEATURES);
	return NULL;
}

/* One pass at the point; the state, validated. */
static NewtonData *
logistic_pass(StreamJob *job, const char *sql, const double *point, int np)
{
	return newton_from_datum(stream_run_pass(job, sql, point, np, "a Newton pass of logistic regression"));
}

/* The regularised objective of a pass's training part. */
static double
objective(const NewtonData *s, const double *coef, int p, double inv_c)
{
	NewtonPart pa;
	double		pen = 0.0;

	newton_part(s, 0, &pa);
	for (int j = 0; j < p; j++)
		pen += coef[j] * coef[j];
	return *pa.loss + 0.5 * inv_c * pen;
}

/*
 * The Newton direction at a pass's point into dir (p + 1: intercept, then
 * coefficients); returns the decrement g' dir (negated, >= 0).
 */
static double
newton_direction(const NewtonData *s, const double *coef, double inv_c, bool fit_intercept,
				 double *dir)
{
	int			p = s->p;
	int			d = p + 1;
	int			off = fit_intercept ? 0 : 1;
	lapack_int	q = d - off;
	lapack_int	one = 1;
	lapack_int	info;
	NewtonPart pa;
	double	   *H = palloc(sizeof(double) * q * q);
	double	   *g = palloc(sizeof(double) * q);
	double	   *H0 = palloc(sizeof(double) * q * q);
	double		dec = 0.0;
	double		jitter = 0.0;

	newton_part(s, 0, &pa);
	for (int j = off; j < d; j++)
	{
		g[j - off] = pa.grad[j] + (j > 0 ? inv_c * coef[j - 1] : 0.0);
		for (int k = off; k < d; k++)
		{
			double		h = pa.hess[moments_pidx(d, Min(j, k), Max(j, k))];

			if (j == k && j > 0)
				h += inv_c;
			H0[(j - off) * q + (k - off)] = h;
		}
	}
	/* a singular Hessian (a constant feature, C huge): a little ridge, more each time */
	for (;;)
	{
		memcpy(H, H0, sizeof(double) * q * q);
		for (int j = 0; j < q; j++)
		{
			H[j * q + j] += jitter;
			dir[j + off] = -g[j];
		}
		dposv_("L", &q, &one, H, &q, dir + off, &q, &info, 1);
		if (info == 0)
			break;
		if (info < 0 || jitter > 1e6)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("logistic_regression: the Hessian of a Newton pass is not positive definite"),
					 errhint("Scale the features, drop constant ones, or lower \"C\".")));
		jitter = jitter == 0.0 ? 1e-10 * (1.0 + H0[0]) : jitter * 100.0;
	}
	if (off)
		dir[0] = 0.0;
	for (int j = 0; j < q; j++)
		dec -= g[j] * dir[j + off];
	pfree(H);
	pfree(H0);
	pfree(g);
	return Max(dec, 0.0);
}

/* accuracy and the rest from a part's confusion counts; log_loss from its sum. */
static void
newton_metrics(const NewtonData *s, int part, MetricSet *ms)
{
	NewtonPart pa;
	int64		support[2],
				predicted[2],
				tp[2];
	int64	   *confusion = palloc(sizeof(int64) * 4);

	newton_part(s, part, &pa);
	confusion[0] = (int64) *pa.tn;
	confusion[1] = (int64) *pa.fp;
	confusion[2] = (int64) *pa.fn;
	confusion[3] = (int64) *pa.tp;
	support[0] = confusion[0] + confusion[1];
	support[1] = confusion[2] + confusion[3];
	predicted[0] = confusion[0] + confusion[2];
	predicted[1] = confusion[1] + confusion[3];
	tp[0] = confusion[0];
	tp[1] = confusion[3];
	metrics_classification_counts(support, predicted, tp, (int64) *pa.rows, 2, ms);
	if (*pa.rows > 0)
		metrics_add(ms, "log_loss", *pa.logloss / *pa.rows);
	ms->n_classes = 2;
	ms->confusion = confusion;
}

/*
 * The fit: Newton passes from zero coefficients at the preprocessor's
 * transform, the model at the last accepted point, the metrics from that
 * pass's held-out part (or its training part when nothing is held out).
 */
void
stream_logistic_fit(StreamJob *job)
{
	FitOutcome *o = job->o;
	Dataset    *schema = job->schema;
	int			p = job->m->d - 1;
	int			np = (int) newton_point_doubles(p);
	double		inv_c = 1.0 / stream_hp_value(job, "C");
	int			max_iter = (int) stream_hp_value(job, "max_iter");
	bool		balanced = stream_hp_value(job, "class_weight") != 0.0;
	bool		fit_intercept = stream_hp_value(job, "fit_intercept") != 0.0;
	double	   *point = palloc0(sizeof(double) * np);
	double	   *best = palloc(sizeof(double) * np);
	double	   *dir = palloc(sizeof(double) * (p + 1));
	double		n = job->n_train;
	double		n1 = round(job->cols[p].mean * job->cols[p].count);
	bool		values = stream_values_form(job);
	char	   *sql;
	NewtonData *cur = NULL;
	double		f_cur = 0.0;
	double		step = 1.0;
	int			passes = 0,
				halvings = 0;
	bool		converged = false;
	instr_time	t0,
				t1;

	/* the point: class weights, intercept 0, coefficients 0, the preprocessor's transform */
	point[0] = point[1] = 1.0;
	if (balanced)
	{
		int			present = (n1 > 0) + (n - n1 > 0);

		point[0] = n - n1 > 0 ? n / (present * (n - n1)) : 0.0;
		point[1] = n1 > 0 ? n / (present * n1) : 0.0;
	}
	for (int j = 0; j < p; j++)
	{
		int			s = schema->inputs[j].raw_offset;

		point[3 + p + j] = job->prep->center[s];
		point[3 + 2 * p + j] = job->prep->scale[s] > 0.0 ? job->prep->scale[s] : 1.0;
		point[3 + 3 * p + j] = job->prep->fill[s];
	}

	if (values)
		sql = psprintf("SELECT galaxy_internal.logistic_pass((%s)::float8, %d::int8, %.17g::float8, $1%s) FROM %s",
					   job->yexpr, job->req->seed, job->req->test_size,
					   stream_feature_list(job, true), job->relation);
	else
		sql = psprintf("SELECT galaxy_internal.logistic_pass_array((%s)::float8, %s, %d::int8, %.17g::float8, $1) FROM %s",
					   job->yexpr, stream_feature_list(job, false), job->req->seed, job->req->test_size,
					   job->relation);

	INSTR_TIME_SET_CURRENT(t0);
	while (passes < max_iter)
	{
		NewtonData *s;
		double		f;
		double		dec;

		CHECK_FOR_INTERRUPTS();
		progress_phase(job->run, psprintf("fit: Newton pass %d", passes + 1));
		s = logistic_pass(job, sql, point, np);
		passes++;
		f = objective(s, point + 3, p, inv_c);
		if (cur != NULL && !(f <= f_cur))
		{
			/* no descent: halve the step from the last accepted point */
			if (++halvings > NEWTON_MAX_HALVINGS)
				break;
			step *= 0.5;
			for (int j = 0; j <= p; j++)
				point[2 + j] = best[2 + j] + step * dir[j];
			continue;
		}
		cur = s;
		f_cur = f;
		memcpy(best, point, sizeof(double) * np);
		dec = newton_direction(s, point + 3, inv_c, fit_intercept, dir);
		if (dec * 0.5 <= NEWTON_DECREMENT_TOL * Max(1.0, fabs(f)))
		{
			converged = true;
			break;
		}
		step = 1.0;
		halvings = 0;
		for (int j = 0; j <= p; j++)
			point[2 + j] = best[2 + j] + dir[j];
	}
	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	o->fit_seconds = INSTR_TIME_GET_DOUBLE(t1);
	if (cur == NULL)
		elog(ERROR, "galaxy: logistic_regression made no Newton pass");
	for (int j = 0; j <= p; j++)
		if (!isfinite(best[2 + j]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("logistic_regression diverged (non-finite coefficient)"),
					 errhint("Scale the features or lower \"C\".")));

	MemoryContextSwitchTo(o->modelctx);
	o->state = logreg_binary_state(p, best + 3, best[2]);
	MemoryContextSwitchTo(job->trainctx);

	/* the metrics of the last accepted pass: the model's own point */
	progress_phase(job->run, "evaluate");
	newton_metrics(cur, job->n_test > 0 ? 1 : 0, &o->ms);
	job->score_seconds = 0.0;
	details_int(&job->extra, "newton_passes", passes);
	details_bool(&job->extra, "converged", converged);
	if (!converged)
		ereport(NOTICE,
				(errmsg("logistic_regression's Newton passes stopped after %d passes before converging", passes),
				 errhint("Raise \"max_iter\", or scale the features.")));
}
