/*
 * stream.c — the streaming solver (see stream.h).
 *
 * One pass: galaxy_internal.split_moments over the relation, run as the
 * calling role through SQL, so PostgreSQL may run it with parallel workers
 * (partial states merged by the combine function) and Citus pushes it down
 * to its worker nodes (partial states shipped as text).  Everything after
 * the pass works on the moments, whose size depends on the number of
 * features only.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "galaxy.h"
#include "data/preprocessor.h"
#include "eval/metrics.h"
#include "registry/audit.h"
#include "scale/stream.h"
#include "util/query.h"
#include "util/sha256.h"

/* The hyperparameter's choices (linear_regression's "solver"). */
#define SOLVER_AUTO			0
#define SOLVER_IN_MEMORY	1
#define SOLVER_STREAMING	2

/* Seconds since t0. */
static double
seconds_since_instr(instr_time t0)
{
	instr_time	t1;

	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	return INSTR_TIME_GET_DOUBLE(t1);
}

void
stream_gram_moments(const MomentsData *m, int part, const MomentsTransform *tf,
					bool center, GramMoments *out)
{
	int			d = m->d;
	int			p = d - 1;
	double		n = moments_rows(m, part);
	double	   *U = palloc(sizeof(double) * d);
	double	   *R = palloc(sizeof(double) * d * d);
	MomentsTransform own;
	double	   *ctr = NULL,
			   *scl = NULL,
			   *fil = NULL;

	if (tf == NULL)
	{
		MomentsColumn *cols = palloc(sizeof(MomentsColumn) * d);

		moments_columns(m, part, cols);
		ctr = palloc(sizeof(double) * d);
		scl = palloc(sizeof(double) * d);
		fil = palloc(sizeof(double) * d);
		for (int j = 0; j < d; j++)
		{
			/* without an intercept, the regression is through the origin of the raw units */
			ctr[j] = center ? cols[j].mean : 0.0;
			scl[j] = 1.0;
			fil[j] = cols[j].mean;
		}
		own.center = ctr;
		own.scale = scl;
		own.fill = fil;
		tf = &own;
		pfree(cols);
	}
	moments_gram(m, part, tf, U, R);

	out->p = p;
	out->w = n;
	out->mean = palloc0(sizeof(double) * Max(p, 1));
	out->xx = palloc(sizeof(double) * Max(p * p, 1));
	out->xy = palloc(sizeof(double) * Max(p, 1));
	if (center && n > 0)
	{
		double		uy = U[p] / n;

		for (int j = 0; j < p; j++)
			out->mean[j] = U[j] / n;
		for (int j = 0; j < p; j++)
		{
			for (int k = 0; k < p; k++)
				out->xx[j * p + k] = R[j * d + k] - n * out->mean[j] * out->mean[k];
			out->xy[j] = R[j * d + p] - n * out->mean[j] * uy;
		}
		out->yy = R[p * d + p] - n * uy * uy;
		out->ymean = tf->center[p] + uy;
	}
	else
	{
		/* about zero: the target must not have been shifted */
		Assert(tf->center[p] == 0.0);
		for (int j = 0; j < p; j++)
		{
			for (int k = 0; k < p; k++)
				out->xx[j * p + k] = R[j * d + k];
			out->xy[j] = R[j * d + p];
		}
		out->yy = R[p * d + p];
		out->ymean = 0.0;
	}
	pfree(U);
	pfree(R);
	if (ctr)
	{
		pfree(ctr);
		pfree(scl);
		pfree(fil);
	}
}

/* Why the request cannot be streamed (NULL: it can). */
static const char *
stream_unsupported(const TrainRequest *req, const LoadOptions *lo, const Dataset *schema)
{
	if (req->search != NULL)
		return "a hyperparameter search fits many models on the rows in memory";
	if (req->folds >= 2)
		return "cross-validation needs the rows in memory";
	if (lo->n_text > 0)
		return "text features need the rows in memory";
	if (schema->task != TASK_REGRESSION)
		return psprintf("it fits regression, and the task is %s", galaxy_task_name(schema->task));
	for (int i = 0; i < schema->n_inputs; i++)
		if (schema->inputs[i].kind != INPUT_NUMERIC && schema->inputs[i].kind != INPUT_BOOLEAN)
			return psprintf("column \"%s\" (%s) is not a numeric or boolean column",
							schema->inputs[i].name, schema->inputs[i].typname);
	if (schema->n_inputs > MOMENTS_MAX_COLUMNS - 1)
		return psprintf("it takes at most %d feature columns", MOMENTS_MAX_COLUMNS - 1);
	return NULL;
}

/*
 * The pass's query: the features as separate arguments (no array per row)
 * on a local relation; as an array on a distributed one (the form Citus is
 * known to push down) or beyond the arguments a function takes.
 */
static char *
moments_query(const TrainRequest *req, const Dataset *schema, bool distributed)
{
	StringInfoData q;
	bool		values = !distributed && schema->n_inputs <= FUNC_MAX_ARGS - 8;

	initStringInfo(&q);
	if (values)
		appendStringInfo(&q, "SELECT galaxy_internal.split_moments_values((%s)::float8, %d::int8, %.17g::float8",
						 quote_identifier(schema->target), req->seed, req->test_size);
	else
		appendStringInfo(&q, "SELECT galaxy_internal.split_moments((%s)::float8, ARRAY[",
						 quote_identifier(schema->target));
	for (int i = 0; i < schema->n_inputs; i++)
	{
		const InputColumn *in = &schema->inputs[i];

		appendStringInfo(&q, "%s(%s)%s::float8", (i || values) ? ", " : "", quote_identifier(in->name),
						 in->kind == INPUT_BOOLEAN ? "::int" : "");
	}
	if (values)
		appendStringInfoString(&q, ")");
	else
		appendStringInfo(&q, "]::float8[], %d::int8, %.17g::float8)", req->seed, req->test_size);
	appendStringInfo(&q, " FROM %s",
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(req->relid)),
												get_rel_name(req->relid)));
	return q.data;
}

/*
 * The fitted linear model's intercept and coefficients (in the
 * preprocessed space), read off its predictions at 0 and at each unit
 * vector: fit_gram's models are linear.
 */
static void
linear_model_of(const AlgorithmDef *algo, void *state, int p, double *intercept, double *coef)
{
	double	   *X = palloc0(sizeof(double) * (Size) (p + 1) * p);
	double	   *out = palloc(sizeof(double) * (p + 1));

	for (int j = 0; j < p; j++)
		X[(Size) (j + 1) * p + j] = 1.0;
	algo->predict(state, X, p + 1, out);
	*intercept = out[0];
	for (int j = 0; j < p; j++)
		coef[j] = out[j + 1] - out[0];
	pfree(X);
	pfree(out);
}

/*
 * Metrics of the linear model on a part: with t the transformed features,
 * u = (t, y - c_y) and e = (-b, 1), the residual is e.u - c0, c0 = b0 - c_y.
 */
static void
score_part(const MomentsData *m, int part, const MomentsTransform *tf, double intercept,
		   const double *coef, MetricSet *ms)
{
	int			d = m->d;
	int			p = d - 1;
	double		n = moments_rows(m, part);
	double	   *U = palloc(sizeof(double) * d);
	double	   *R = palloc(sizeof(double) * d * d);
	double	   *e = palloc(sizeof(double) * d);
	double		c0 = intercept - tf->center[p];
	double		eRe = 0.0,
				eU = 0.0,
				sse,
				ss_tot;

	moments_gram(m, part, tf, U, R);
	for (int j = 0; j < p; j++)
		e[j] = -coef[j];
	e[p] = 1.0;
	for (int j = 0; j < d; j++)
	{
		double		rj = 0.0;

		for (int k = 0; k < d; k++)
			rj += R[j * d + k] * e[k];
		eRe += e[j] * rj;
		eU += e[j] * U[j];
	}
	sse = eRe - 2.0 * c0 * eU + n * c0 * c0;
	ss_tot = Max(R[p * d + p] - U[p] * U[p] / n, 0.0);
	metrics_regression_sums(n, sse, eU - n * c0, ss_tot, ms);
	pfree(U);
	pfree(R);
	pfree(e);
}

bool
stream_fit(TrainRequest *req, LoadOptions *lo, ProgressRun *run, MemoryContext trainctx,
		   FitOutcome *o)
{
	const AlgorithmDef *algo;
	int			solver_hp,
				solver;
	Dataset    *schema = NULL;
	bool		distributed;
	const char *why_not;
	char	   *sql;
	QueryResult *qr;
	Datum		value;
	bool		isnull;
	MomentsData *m;
	double		n_train,
				n_test;
	int			d,
				p;
	MomentsColumn *cols;
	PrepSlotStats *stats;
	Preprocessor *prep;
	MomentsTransform tf;
	double	   *tcenter,
			   *tscale,
			   *tfill;
	int			fi_hp;
	bool		fit_intercept;
	GramMoments gm;
	FitContext	fctx = {0};
	instr_time	t0;
	double		pass_seconds,
				score_seconds;
	double		intercept;
	double	   *coef;
	StringInfoData extra;
	Size		enc_len;
	char	   *enc;
	uint8		digest[32];

	if (strcmp(req->algorithm, "auto") == 0)
		return false;
	algo = algo_by_name(req->algorithm);
	if (algo->fit_gram == NULL || (solver_hp = algo_param_index(algo, "solver")) < 0)
		return false;
	algo_resolve_hyperparams(algo, req->hyperparams, &o->hp);
	solver = (int) o->hp.values[solver_hp];
	if (solver == SOLVER_IN_MEMORY)
		return false;
	/* text features need the rows: decided before the relation is opened */
	if (lo->n_text > 0)
	{
		if (solver == SOLVER_AUTO)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot use the streaming solver here: text features need the rows in memory",
						algo->name),
				 errhint("Use \"solver\": \"in_memory\" (or \"auto\").")));
	}

	/* the relation's columns, types and task, no row read */
	lo->check_only = true;
	lo->schema = &schema;
	(void) dataset_load(lo);
	lo->check_only = false;
	lo->schema = NULL;
	Assert(schema != NULL);

	why_not = stream_unsupported(req, lo, schema);
	distributed = dataset_is_distributed(req->relid);
	if (solver == SOLVER_AUTO)
	{
		double		limit = (double) galaxy_max_training_memory_mb * 1024.0 * 1024.0;
		/* the raw rows and the training matrix, in float64 */
		double		need = schema->estimated_rows < 0 ? 0.0 :
			2.0 * sizeof(double) * (double) schema->estimated_rows * (schema->n_raw + 1);

		if (why_not != NULL || (!distributed && !(need > limit)))
			return false;
	}
	else if (why_not != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot use the streaming solver here: %s", algo->name, why_not),
				 errhint("Use \"solver\": \"in_memory\" (or \"auto\").")));

	/* the pass */
	INSTR_TIME_SET_CURRENT(t0);
	sql = moments_query(req, schema, distributed);
	qr = user_query(sql, 0, NULL, NULL, NULL, true, 0, SPI_OK_SELECT, "stream the training moments");
	if (qr->nrows != 1)
		elog(ERROR, "galaxy: the moments query returned " UINT64_FORMAT " rows", qr->nrows);
	value = heap_getattr(qr->rows[0], 1, qr->tupdesc, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("relation \"%s\" has no rows", get_rel_name(req->relid))));
	m = moments_from_datum(value);
	if (m->d != schema->n_inputs + 1 || m->n_parts != 2)
		elog(ERROR, "galaxy: the moments query returned a state of the wrong shape");
	pass_seconds = seconds_since_instr(t0);

	d = m->d;
	p = d - 1;
	n_train = moments_rows(m, 0);
	n_test = moments_rows(m, 1);
	progress_set_rows(run, (int64) (n_train + n_test));
	if (m->n_skipped > 0)
		ereport(NOTICE,
				(errmsg("skipped " INT64_FORMAT " rows with NULL target \"%s\"",
						(int64) m->n_skipped, schema->target)));
	if (n_train + n_test == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("relation \"%s\" has no rows with a non-NULL target \"%s\"",
						get_rel_name(req->relid), schema->target)));
	if (n_train < 2)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("only %.0f training row%s left (of %.0f usable rows); at least 2 are needed",
						n_train, n_train == 1 ? "" : "s", n_train + n_test),
				 errhint("Train on more rows, or lower test_size.")));

	/* the preprocessor, from the training part's column statistics */
	progress_phase(run, "preprocess");
	cols = palloc(sizeof(MomentsColumn) * d);
	moments_columns(m, 0, cols);
	stats = palloc(sizeof(PrepSlotStats) * Max(schema->n_raw, 1));
	for (int i = 0; i < schema->n_inputs; i++)
	{
		const MomentsColumn *c = &cols[i];
		PrepSlotStats *st = &stats[schema->inputs[i].raw_offset];

		st->count = c->count;
		st->mean = c->mean;
		st->sd = c->sd;
		st->min = c->min;
		st->max = c->max;
	}
	prep = preprocess_fit_stats(schema, stats, (int64) n_train, req->preprocess,
								algo_default_scaling(algo, &o->hp));
	if (preprocess_n_features(prep) != p)
		elog(ERROR, "galaxy: the streaming preprocessor has %d features for %d columns",
			 preprocess_n_features(prep), p);

	/* the transform of every column: the preprocessor's, and the target about its mean */
	fi_hp = algo_param_index(algo, "fit_intercept");
	fit_intercept = fi_hp < 0 || o->hp.values[fi_hp] != 0.0;
	tcenter = palloc(sizeof(double) * d);
	tscale = palloc(sizeof(double) * d);
	tfill = palloc(sizeof(double) * d);
	for (int i = 0; i < p; i++)
	{
		int			s = schema->inputs[i].raw_offset;

		tcenter[i] = prep->center[s];
		tscale[i] = prep->scale[s];
		tfill[i] = prep->fill[s];
	}
	tcenter[p] = fit_intercept ? cols[p].mean : 0.0;
	tscale[p] = 1.0;
	tfill[p] = 0.0;
	tf.center = tcenter;
	tf.scale = tscale;
	tf.fill = tfill;

	/* fit */
	progress_phase(run, "fit");
	stream_gram_moments(m, 0, &tf, fit_intercept, &gm);
	fctx.progress = progress_callback;
	fctx.progress_arg = run;
	fctx.seed = (uint64) req->seed;
	fctx.threads = galaxy_threads;
	o->modelctx = AllocSetContextCreate(trainctx, "galaxy model", ALLOCSET_DEFAULT_SIZES);
	INSTR_TIME_SET_CURRENT(t0);
	MemoryContextSwitchTo(o->modelctx);
	o->state = algo->fit_gram(&gm, &o->hp, &fctx);
	MemoryContextSwitchTo(trainctx);
	o->fit_seconds = seconds_since_instr(t0);

	/* score on the held-out part (or the training part when nothing is held out) */
	progress_phase(run, "evaluate");
	INSTR_TIME_SET_CURRENT(t0);
	coef = palloc(sizeof(double) * Max(p, 1));
	linear_model_of(algo, o->state, p, &intercept, coef);
	metrics_init(&o->ms);
	score_part(m, n_test > 0 ? 1 : 0, &tf, intercept, coef, &o->ms);
	score_seconds = seconds_since_instr(t0);

	initStringInfo(&extra);
	details_begin(&extra);
	details_str(&extra, "solver", "streaming");
	details_str(&extra, "evaluated_on", n_test > 0 ? "test" : "training");
	details_float(&extra, "training_rows", n_train);
	details_float(&extra, "test_rows", n_test);
	{
		MomentsPart pt;

		moments_part(m, 0, &pt);
		if (*pt.nn > 0)
			details_float(&extra, "training_rows_with_nulls", *pt.nn);
	}
	details_float(&extra, "load_seconds", pass_seconds);
	details_float(&extra, "fit_seconds", o->fit_seconds);
	details_float(&extra, "score_seconds", score_seconds);
	if (distributed)
		details_str(&extra, "distributed", "citus");
	if (m->n_skipped > 0)
		details_float(&extra, "skipped_null_labels", m->n_skipped);
	o->metrics = metrics_to_jsonb(&o->ms, details_end(&extra));

	/* the model's data fingerprint: the digest of its moments */
	enc = moments_encode(m, &enc_len);
	galaxy_sha256(enc, enc_len, digest);
	schema->data_fingerprint = galaxy_hex(digest, sizeof(digest));
	schema->n_rows = (int64) (n_train + n_test);
	schema->skipped_null_labels = (int64) m->n_skipped;

	o->ds = schema;
	o->algo = algo;
	o->prep = prep;
	o->n_train = (int64) n_train;
	o->n_test = (int64) n_test;
	o->training_profile = NULL;
	o->search_id = 0;
	return true;
}
