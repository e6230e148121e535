/*
 * stream_logistic.c — logistic_regression's streaming fit: Newton (IRLS)
 * passes over the relation; binary (galaxy.newton) or multinomial (three
 * classes or more: galaxy_internal.softmax_pass, passes.c), then roc_auc
 * from one scoring pass.
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
 *
 * With k >= 3 classes the objective is the in-memory fit's multinomial one
 * (softmax over k outputs, each with its intercept and p coefficients,
 * D = k (p + 1) parameters), and each pass is
 * galaxy_internal.softmax_pass: the gradient and the D x D Hessian.  The
 * softmax is unchanged when every intercept moves by the same amount, so
 * the Hessian is singular along that direction: the step adds s 11'/k to
 * the intercepts' block (s their mean curvature), which leaves the step
 * orthogonal to that direction, so the intercepts keep summing to zero as
 * the in-memory L-BFGS's do (from zero, along gradients that sum to zero).
 * With "class_weight": "balanced" the first pass (at unit weights) counts
 * the training rows per class, and the fit starts again from there at the
 * balanced weights.
 *
 * roc_auc: one more query scores the held-out rows with the model
 * (galaxy_internal.logistic_proba: the model's own predict_proba) and
 * computes the Mann-Whitney statistic of each class's probability in SQL
 * (rows grouped by score, ranks from a window sum: the executor sorts and
 * spills, nothing per row is kept here): exactly metrics_classification's
 * definition — binary: the probability of class 1; more classes: one
 * against the rest, the mean over the classes with rows of both sides.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "algo/lapack.h"
#include "eval/metrics.h"
#include "registry/audit.h"
#include "scale/newton.h"
#include "scale/passes.h"
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

/* metrics_classification's largest confusion matrix. */
#define STREAM_CONFUSION_MAX_CLASSES 100

/* Once the classes are known: a multinomial Hessian within PASS_SM_MAX_PARAMS. */
const char *
stream_logistic_unsupported_labels(StreamJob *job)
{
	int			k = job->schema->n_classes;
	int			p = job->schema->n_inputs;

	if (k > 2 && (double) k * (p + 1) > PASS_SM_MAX_PARAMS)
		return psprintf("%d classes and %d features make %d parameters, and a streamed Newton pass takes at most %d (classes x (features + 1))",
						k, p, k * (p + 1), PASS_SM_MAX_PARAMS);
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
 * x = -H0^-1 g for a Newton step (H0 q x q, symmetric, row-major); a
 * singular H0 (a constant feature, C huge) gets a little ridge, more each
 * time, until it is positive definite.
 */
static void
newton_solve(const double *H0, const double *g, lapack_int q, double *x)
{
	lapack_int	one = 1;
	lapack_int	info;
	double	   *H = palloc(sizeof(double) * q * q);
	double		jitter = 0.0;

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		memcpy(H, H0, sizeof(double) * q * q);
		for (int a = 0; a < q; a++)
		{
			H[(Size) a * q + a] += jitter;
			x[a] = -g[a];
		}
		dposv_("L", &q, &one, H, &q, x, &q, &info, 1);
		if (info == 0)
			break;
		if (info < 0 || jitter > 1e6)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("logistic_regression: the Hessian of a Newton pass is not positive definite"),
					 errhint("Scale the features, drop constant ones, or lower \"C\".")));
		jitter = jitter == 0.0 ? 1e-10 * (1.0 + fabs(H0[0])) : jitter * 100.0;
	}
	pfree(H);
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
	NewtonPart pa;
	double	   *g = palloc(sizeof(double) * q);
	double	   *H0 = palloc(sizeof(double) * q * q);
	double		dec = 0.0;

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
	newton_solve(H0, g, q, dir + off);
	if (off)
		dir[0] = 0.0;
	for (int j = 0; j < q; j++)
		dec -= g[j] * dir[j + off];
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
 * roc_auc of a logistic model of k classes (theta: its o (p + 1)
 * parameters, each output's intercept then coefficients; transform: center,
 * scale and fill, p each), scored by galaxy_internal.logistic_proba
 * (stream_roc_auc).
 */
static double
stream_auc(StreamJob *job, int k, const double *theta, const double *transform)
{
	int			p = job->schema->n_inputs;
	int			kk = k == 2 ? 1 : k;
	int			n = (int) pass_lp_model_doubles(k, p);
	double	   *model = palloc(sizeof(double) * n);
	double		auc;

	model[0] = k;
	model[1] = p;
	memcpy(model + 2, theta, sizeof(double) * kk * (p + 1));
	memcpy(model + 2 + (Size) kk * (p + 1), transform, sizeof(double) * 3 * p);
	auc = stream_roc_auc(job, k, "galaxy_internal.logistic_proba", model, n);
	pfree(model);
	return auc;
}

/* The regularised objective of a softmax pass's training part (theta: D, intercepts unpenalised). */
static double
softmax_objective(const SmPass *s, const double *theta, double inv_c)
{
	double		pen = 0.0;
	int			d = s->p + 1;

	for (int i = 0; i < s->D; i++)
		if (i % d != 0)
			pen += theta[i] * theta[i];
	return *s->loss + 0.5 * inv_c * pen;
}

/*
 * The Newton direction of a softmax pass at theta into dir (D); returns the
 * decrement -g' dir (>= 0).  Without an intercept only the coefficients
 * move; with one, s 11'/k is added to the intercepts' block (see above).
 */
static double
softmax_direction(const SmPass *s, const double *theta, double inv_c, bool fit_intercept, double *dir)
{
	int			D = s->D;
	int			d = s->p + 1;
	int		   *idx = palloc(sizeof(int) * D);
	lapack_int	q = 0;
	double	   *H0,
			   *g,
			   *x;
	double		dec = 0.0,
				icurv = 0.0;

	for (int i = 0; i < D; i++)
		if (fit_intercept || i % d != 0)
			idx[q++] = i;
	H0 = palloc(sizeof(double) * q * q);
	g = palloc(sizeof(double) * q);
	x = palloc(sizeof(double) * q);
	for (int c = 0; c < s->k; c++)
		icurv += s->hess[(Size) c * d * D + (Size) c * d] / s->k;
	if (!(icurv > 0.0))
		icurv = 1.0;
	for (int a = 0; a < q; a++)
	{
		int			i = idx[a];

		g[a] = s->grad[i] + (i % d != 0 ? inv_c * theta[i] : 0.0);
		for (int b = 0; b < q; b++)
		{
			int			j = idx[b];
			double		h = s->hess[(Size) Min(i, j) * D + Max(i, j)];

			if (i == j && i % d != 0)
				h += inv_c;
			if (i % d == 0 && j % d == 0)
				h += icurv / s->k;
			H0[(Size) a * q + b] = h;
		}
	}
	newton_solve(H0, g, q, x);
	memset(dir, 0, sizeof(double) * D);
	for (int a = 0; a < q; a++)
	{
		dir[idx[a]] = x[a];
		dec -= g[a] * x[a];
	}
	pfree(idx);
	pfree(H0);
	pfree(g);
	pfree(x);
	return Max(dec, 0.0);
}

/* The metrics of a softmax pass's part: the counted ones, log_loss and the confusion matrix. */
static void
softmax_metrics(const SmPass *s, int part, MetricSet *ms)
{
	int			k = s->k;
	const double *base = part == 0 ? s->rows : s->held;
	const double *conf = base + 4;
	int64	   *support = palloc0(sizeof(int64) * k);
	int64	   *predicted = palloc0(sizeof(int64) * k);
	int64	   *tp = palloc0(sizeof(int64) * k);
	int64	   *confusion = palloc(sizeof(int64) * k * k);

	for (int t = 0; t < k; t++)
		for (int c = 0; c < k; c++)
		{
			int64		v = (int64) conf[(Size) t * k + c];

			confusion[(Size) t * k + c] = v;
			support[t] += v;
			predicted[c] += v;
			if (t == c)
				tp[t] += v;
		}
	metrics_classification_counts(support, predicted, tp, (int64) base[0], k, ms);
	if (base[0] > 0)
		metrics_add(ms, "log_loss", base[3] / base[0]);
	if (k <= STREAM_CONFUSION_MAX_CLASSES)
	{
		ms->n_classes = k;
		ms->confusion = confusion;
	}
}

/*
 * The multinomial fit (k >= 3): Newton passes of softmax_pass from zero,
 * halving a step that does not lower the objective, as the binary one.
 */
static void
softmax_fit(StreamJob *job)
{
	FitOutcome *o = job->o;
	Dataset    *schema = job->schema;
	int			p = job->m->d - 1;
	int			k = schema->n_classes;
	int			d = p + 1;
	int			D = k * d;
	int			np = 2 + (int) pass_sm_point_doubles(k, p);
	double		inv_c = 1.0 / stream_hp_value(job, "C");
	int			max_iter = (int) stream_hp_value(job, "max_iter");
	bool		balanced = stream_hp_value(job, "class_weight") != 0.0;
	bool		fit_intercept = stream_hp_value(job, "fit_intercept") != 0.0;
	double	   *point = palloc0(sizeof(double) * np);
	double	   *best = palloc(sizeof(double) * np);
	double	   *dir = palloc(sizeof(double) * D);
	double	   *theta = point + 2 + k;
	double	   *btheta = best + 2 + k;
	bool		values = stream_values_form(job);
	bool		weighted = !balanced;
	char	   *sql;
	double	   *cur = NULL;
	SmPass		cs;
	double		f_cur = 0.0;
	double		step = 1.0;
	int			passes = 0,
				halvings = 0;
	bool		converged = false;
	double	   *coef,
			   *icpt;
	MemoryContext passctx,
				keepctx;
	instr_time	t0,
				t1;

	point[0] = k;
	point[1] = p;
	for (int c = 0; c < k; c++)
		point[2 + c] = 1.0;
	for (int j = 0; j < p; j++)
	{
		int			s = schema->inputs[j].raw_offset;

		point[2 + k + D + j] = job->prep->center[s];
		point[2 + k + D + p + j] = job->prep->scale[s] > 0.0 ? job->prep->scale[s] : 1.0;
		point[2 + k + D + 2 * p + j] = job->prep->fill[s];
	}
	if (values)
		sql = psprintf("SELECT galaxy_internal.softmax_pass((%s)::float8, %d::int8, %.17g::float8, $1%s) FROM %s",
					   job->yexpr, job->req->seed, job->req->test_size,
					   stream_feature_list(job, true), job->relation);
	else
		sql = psprintf("SELECT galaxy_internal.softmax_pass_array((%s)::float8, %s, %d::int8, %.17g::float8, $1) FROM %s",
					   job->yexpr, stream_feature_list(job, false), job->req->seed, job->req->test_size,
					   job->relation);

	/* a pass's state (up to 8 MB) lives in passctx until the next pass; the accepted one in keepctx */
	passctx = AllocSetContextCreate(CurrentMemoryContext, "galaxy softmax pass", ALLOCSET_DEFAULT_SIZES);
	keepctx = AllocSetContextCreate(CurrentMemoryContext, "galaxy softmax point", ALLOCSET_DEFAULT_SIZES);
	INSTR_TIME_SET_CURRENT(t0);
	while (passes < max_iter + (balanced ? 1 : 0))
	{
		double	   *v;
		int			n;
		SmPass		s;
		double		f;
		double		dec;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		progress_phase(job->run, psprintf("fit: Newton pass %d", passes + 1));
		MemoryContextReset(passctx);
		old = MemoryContextSwitchTo(passctx);
		v = pass_state_from_datum(stream_run_pass(job, sql, point, np,
												  "a Newton pass of multinomial logistic regression"), &n);
		MemoryContextSwitchTo(old);
		if (v[0] != PASS_SM_TAG || (int) v[1] != k || (int) v[2] != p)
			elog(ERROR, "galaxy: the softmax pass returned a state of the wrong shape");
		passes++;
		pass_sm_layout(v, &s);
		if (!weighted)
		{
			/* balanced: the training rows per class, then the weights (a first pass of its own) */
			int			present = 0;
			double	   *cnt = palloc0(sizeof(double) * k);

			for (int t = 0; t < k; t++)
			{
				for (int c = 0; c < k; c++)
					cnt[t] += s.confusion[(Size) t * k + c];
				present += cnt[t] > 0;
			}
			for (int c = 0; c < k; c++)
				point[2 + c] = cnt[c] > 0 ? *s.rows / (present * cnt[c]) : 0.0;
			weighted = true;
			continue;
		}
		f = softmax_objective(&s, theta, inv_c);
		if (cur != NULL && !(f <= f_cur))
		{
			if (++halvings > NEWTON_MAX_HALVINGS)
				break;
			step *= 0.5;
			for (int i = 0; i < D; i++)
				theta[i] = btheta[i] + step * dir[i];
			continue;
		}
		MemoryContextReset(keepctx);
		cur = MemoryContextAlloc(keepctx, sizeof(double) * n);
		memcpy(cur, v, sizeof(double) * n);
		pass_sm_layout(cur, &cs);
		f_cur = f;
		memcpy(best, point, sizeof(double) * np);
		dec = softmax_direction(&s, theta, inv_c, fit_intercept, dir);
		if (dec * 0.5 <= NEWTON_DECREMENT_TOL * Max(1.0, fabs(f)))
		{
			converged = true;
			break;
		}
		step = 1.0;
		halvings = 0;
		for (int i = 0; i < D; i++)
			theta[i] = btheta[i] + dir[i];
	}
	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	o->fit_seconds = INSTR_TIME_GET_DOUBLE(t1);
	if (cur == NULL)
		elog(ERROR, "galaxy: logistic_regression made no Newton pass");
	for (int i = 0; i < D; i++)
		if (!isfinite(btheta[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("logistic_regression diverged (non-finite coefficient)"),
					 errhint("Scale the features or lower \"C\".")));

	coef = palloc(sizeof(double) * k * Max(p, 1));
	icpt = palloc(sizeof(double) * k);
	for (int c = 0; c < k; c++)
	{
		icpt[c] = btheta[(Size) c * d];
		memcpy(coef + (Size) c * p, btheta + (Size) c * d + 1, sizeof(double) * p);
	}
	MemoryContextSwitchTo(o->modelctx);
	o->state = logreg_state_from_coef(p, k, coef, icpt);
	MemoryContextSwitchTo(job->trainctx);

	progress_phase(job->run, "evaluate");
	softmax_metrics(&cs, job->n_test > 0 ? 1 : 0, &o->ms);
	metrics_add(&o->ms, "roc_auc", stream_auc(job, k, btheta, btheta + D));
	MemoryContextDelete(passctx);
	MemoryContextDelete(keepctx);
	details_int(&job->extra, "newton_passes", passes);
	details_bool(&job->extra, "converged", converged);
	if (!converged)
		ereport(NOTICE,
				(errmsg("logistic_regression's Newton passes stopped after %d passes before converging", passes),
				 errhint("Raise \"max_iter\", or scale the features.")));
}

/*
 * The fit: Newton passes from zero coefficients at the preprocessor's
 * transform, the model at the last accepted point, the metrics from that
 * pass's held-out part (or its training part when nothing is held out).
 * Three classes or more: softmax_fit.
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

	if (job->schema->n_classes > 2)
	{
		softmax_fit(job);
		return;
	}

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
	metrics_add(&o->ms, "roc_auc", stream_auc(job, 2, best + 2, best + 3 + p));
	details_int(&job->extra, "newton_passes", passes);
	details_bool(&job->extra, "converged", converged);
	if (!converged)
		ereport(NOTICE,
				(errmsg("logistic_regression's Newton passes stopped after %d passes before converging", passes),
				 errhint("Raise \"max_iter\", or scale the features.")));
}
