/*
 * stream_nb.c — naive_bayes's streaming fit: the per-class moments of the
 * first pass, then one scoring pass for the held-out metrics.
 *
 * The first pass (stream.c) is galaxy_internal.split_moments grouped by
 * the class index, so each class has the moments of its training rows.  In
 * the preprocessed space (the preprocessor fitted from the merged moments,
 * as the in-memory fit's), a class's row count, per-feature sums (the
 * multinomial model) and mean and sum of squared deviations (the Gaussian
 * model) follow from them exactly, NULLs imputed as the preprocessor
 * imputes them; nb_state_from_sums (naive_bayes.c) makes the model from
 * those sums, as the in-memory fit does.  The Bernoulli model needs counts
 * of values above a threshold, which moments do not hold: it is refused.
 *
 * The scoring pass, galaxy_internal.nb_score, predicts the held-out rows
 * (every row when none is held out) with the model (its sums are the
 * pass's argument) and counts their confusion and log-loss (passes_sql.c).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

#include "eval/metrics.h"
#include "registry/audit.h"
#include "scale/passes.h"
#include "scale/stream.h"
#include "util/query.h"

/* naive_bayes's "distribution" values (naive_bayes.c's order). */
#define NB_DIST_GAUSSIAN	0
#define NB_DIST_MULTINOMIAL 1

/* What the naive Bayes passes cannot take beyond stream.c's shared reasons. */
const char *
stream_nb_unsupported(StreamJob *job)
{
	int			dist = (int) stream_hp_value(job, "distribution");

	if (dist != NB_DIST_GAUSSIAN && dist != NB_DIST_MULTINOMIAL)
		return "distribution \"bernoulli\" counts values above a threshold, which the moments do not hold (\"gaussian\" and \"multinomial\" stream)";
	return NULL;
}

/*
 * Class c's training rows in the transform tf: its weight, and per feature
 * the mean (gaussian) or the sum (multinomial) into s1 and the squared
 * deviations from the mean into s2.
 */
static double
class_sums(const StreamJob *job, int c, const MomentsTransform *tf, bool gaussian,
		   double *s1, double *s2)
{
	int			p = job->m->d - 1;
	double	   *other = palloc(sizeof(double) * p);
	double		n;

	if (job->class_m[c] == NULL)
	{
		memset(s1, 0, sizeof(double) * p);
		memset(s2, 0, sizeof(double) * p);
		return 0.0;
	}
	if (gaussian)
		n = stream_part_sums(job->class_m[c], 0, tf, other, s1, s2);
	else
		n = stream_part_sums(job->class_m[c], 0, tf, s1, other, s2);
	pfree(other);
	return n;
}

/* One scoring pass with the model array; the state, validated. */
static double *
score_pass(StreamJob *job, const double *model, int nm)
{
	bool		values = stream_values_form(job);
	char	   *sql;
	int			n;

	if (values)
		sql = psprintf("SELECT galaxy_internal.nb_score((%s)::float8, %d::int8, %.17g::float8, $1%s) FROM %s",
					   job->yexpr, job->req->seed, job->req->test_size,
					   stream_feature_list(job, true), job->relation);
	else
		sql = psprintf("SELECT galaxy_internal.nb_score_array((%s)::float8, %s, %d::int8, %.17g::float8, $1) FROM %s",
					   job->yexpr, stream_feature_list(job, false), job->req->seed, job->req->test_size,
					   job->relation);
	return pass_state_from_datum(stream_run_pass(job, sql, model, nm, "the scoring pass of naive Bayes"), &n);
}

/* Metrics of a part of the scoring state: the counted ones and the log-loss. */
static void
score_metrics(const double *state, int k, int part, MetricSet *ms)
{
	const double *pt = state + PASS_HEADER + pass_nb_part_doubles(k) * part;
	int64	   *support = palloc0(sizeof(int64) * k);
	int64	   *predicted = palloc0(sizeof(int64) * k);
	int64	   *tp = palloc0(sizeof(int64) * k);
	int64	   *confusion = palloc(sizeof(int64) * k * k);

	for (int t = 0; t < k; t++)
		for (int q = 0; q < k; q++)
		{
			int64		v = (int64) pt[2 + t * k + q];

			confusion[t * k + q] = v;
			support[t] += v;
			predicted[q] += v;
			if (t == q)
				tp[t] = v;
		}
	metrics_classification_counts(support, predicted, tp, (int64) pt[0], k, ms);
	if (pt[0] > 0)
		metrics_add(ms, "log_loss", pt[1] / pt[0]);
	ms->n_classes = k;
	ms->confusion = confusion;
}

/*
 * The fit: the classes' sums from their moments in the preprocessor's
 * space, the model from them, and the metrics from a scoring pass.
 */
void
stream_nb_fit(StreamJob *job)
{
	FitOutcome *o = job->o;
	Dataset    *schema = job->schema;
	int			d = job->m->d;
	int			p = d - 1;
	int			k = schema->n_classes;
	int			dist = (int) stream_hp_value(job, "distribution");
	bool		gaussian = dist == NB_DIST_GAUSSIAN;
	Size		kp = (Size) k * p;
	int			nm = (int) pass_nb_model_doubles(k, p);
	double	   *model = palloc0(sizeof(double) * nm);
	double	   *center = model + PASS_NB_MODEL_HEADER;
	double	   *scale = center + p;
	double	   *fill = scale + p;
	double	   *cw = fill + p;
	double	   *s1 = cw + k;
	double	   *s2 = s1 + kp;
	double	   *tc = palloc(sizeof(double) * d);
	double	   *ts = palloc(sizeof(double) * d);
	double	   *tfl = palloc(sizeof(double) * d);
	double	   *m1,
			   *m2;
	MomentsTransform tf;
	double	   *state;
	instr_time	t0,
				t1;

	INSTR_TIME_SET_CURRENT(t0);
	progress_phase(job->run, "fit: class moments");
	for (int j = 0; j < p; j++)
	{
		int			s = schema->inputs[j].raw_offset;

		center[j] = tc[j] = job->prep->center[s];
		scale[j] = ts[j] = job->prep->scale[s] > 0.0 ? job->prep->scale[s] : 1.0;
		fill[j] = tfl[j] = job->prep->fill[s];
	}
	tc[p] = 0.0;
	ts[p] = 1.0;
	tfl[p] = 0.0;
	tf.center = tc;
	tf.scale = ts;
	tf.fill = tfl;
	for (int c = 0; c < k; c++)
	{
		cw[c] = class_sums(job, c, &tf, gaussian, s1 + (Size) c * p, s2 + (Size) c * p);
		/* the multinomial model's counts: no value below zero (naive_bayes.c's rule) */
		if (!gaussian && cw[c] > 0.0)
		{
			MomentsColumn *cols = palloc(sizeof(MomentsColumn) * d);

			moments_columns(job->class_m[c], 0, cols);
			for (int j = 0; j < p; j++)
				if (cols[j].count > 0 && (cols[j].min - tc[j]) / ts[j] < 0.0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("naive_bayes with distribution \"multinomial\" needs non-negative feature values, "
									"got %g for feature \"%s\"", (cols[j].min - tc[j]) / ts[j], schema->inputs[j].name),
							 errhint("Use counts or frequencies, preprocess => '{\"scale\": \"minmax\"}', or distribution \"gaussian\".")));
			pfree(cols);
		}
	}
	model[0] = k;
	model[1] = p;
	model[2] = dist;
	model[3] = stream_hp_value(job, "var_smoothing");
	model[4] = stream_hp_value(job, "alpha");
	model[5] = stream_hp_value(job, "binarize");
	model[6] = stream_hp_value(job, "fit_prior");
	model[7] = job->n_test > 0 ? 1.0 : 0.0;	/* score the held-out rows only, when there are some */

	/* the model (nb_state_from_sums takes its sums over: copies) */
	m1 = palloc(sizeof(double) * Max(kp, 1));
	m2 = palloc(sizeof(double) * Max(kp, 1));
	memcpy(m1, s1, sizeof(double) * kp);
	memcpy(m2, s2, sizeof(double) * kp);
	MemoryContextSwitchTo(o->modelctx);
	o->state = nb_state_from_sums(p, k, dist, cw, m1, gaussian ? m2 : NULL, model[3], model[4],
								  model[5], model[6] != 0.0);
	MemoryContextSwitchTo(job->trainctx);
	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	o->fit_seconds = INSTR_TIME_GET_DOUBLE(t1);

	/* the scoring pass: the held-out metrics (the training ones when nothing is held out) */
	progress_phase(job->run, "evaluate: scoring pass");
	INSTR_TIME_SET_CURRENT(t0);
	state = score_pass(job, model, nm);
	if ((int) state[1] != k)
		elog(ERROR, "galaxy: the scoring pass returned a state of the wrong shape");
	score_metrics(state, k, job->n_test > 0 ? 1 : 0, &o->ms);
	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	job->score_seconds = INSTR_TIME_GET_DOUBLE(t1);
	/* roc_auc: one more query, the rows scored by the same model (stream_roc_auc) */
	progress_phase(job->run, "evaluate: roc_auc");
	metrics_add(&o->ms, "roc_auc", stream_roc_auc(job, k, "galaxy_internal.nb_proba", model, nm));
	details_int(&job->extra, "passes", 2);
	details_str(&job->extra, "distribution", gaussian ? "gaussian" : "multinomial");
}
