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
#include <unistd.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "galaxy.h"
#include "data/data_internal.h"
#include "data/preprocessor.h"
#include "eval/metrics.h"
#include "registry/audit.h"
#include "scale/passes.h"
#include "scale/stream.h"
#include "util/query.h"
#include "util/sha256.h"
#include "util/shared_pages.h"

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

/* stream.h: per feature, the sum, the mean and the squared deviations of a part. */
double
stream_part_sums(const MomentsData *m, int part, const MomentsTransform *tf,
				 double *sum, double *mean, double *ss)
{
	int			d = m->d;
	int			p = d - 1;
	double		n = moments_rows(m, part);
	double	   *U,
			   *R,
			   *ctr;
	MomentsTransform t2;

	if (n == 0.0)
	{
		memset(sum, 0, sizeof(double) * p);
		memset(mean, 0, sizeof(double) * p);
		memset(ss, 0, sizeof(double) * p);
		return 0.0;
	}
	U = palloc(sizeof(double) * d);
	R = palloc(sizeof(double) * d * d);
	ctr = palloc(sizeof(double) * d);
	moments_gram(m, part, tf, U, R);
	/* again about the mean (centre_j + scale_j * mean_j), so the squares do not cancel */
	for (int j = 0; j < d; j++)
	{
		if (j < p)
		{
			sum[j] = U[j];
			mean[j] = U[j] / n;
		}
		ctr[j] = tf->center[j] + (j < p ? tf->scale[j] * U[j] / n : 0.0);
	}
	t2.center = ctr;
	t2.scale = tf->scale;
	t2.fill = tf->fill;
	moments_gram(m, part, &t2, U, R);
	for (int j = 0; j < p; j++)
	{
		mean[j] += U[j] / n;
		ss[j] = Max(R[j * d + j] - U[j] * U[j] / n, 0.0);
	}
	pfree(U);
	pfree(R);
	pfree(ctr);
	return n;
}

/* One algorithm's part of the streaming solver. */
typedef struct StreamAlgo
{
	GalaxyTask	task;			/* the task it fits */
	int			max_classes;	/* classification: the most classes it fits (2: binary) */
	bool		per_class;		/* the first pass per class (job->class_m) */
	/* why the request cannot be streamed beyond the shared reasons (NULL: it can) */
	const char *(*unsupported) (StreamJob *job);
	/* the same once the class labels are known (NULL: no such check) */
	const char *(*unsupported_labels) (StreamJob *job);
	/* the model, its metrics (o->ms), o->fit_seconds, job->score_seconds */
	void		(*fit) (StreamJob *job);
} StreamAlgo;

static void stream_gram_fit(StreamJob *job);

/* Algorithms with a fit_gram: one solve from the moments. */
static const StreamAlgo stream_gram = {TASK_REGRESSION, 0, false, NULL, NULL, stream_gram_fit};

/* The others, by name. */
static const struct
{
	const char *name;
	StreamAlgo	def;
}			stream_algos[] = {
	{"logistic_regression", {TASK_CLASSIFICATION, PASS_MAX_CLASSES, false, stream_logistic_unsupported,
	stream_logistic_unsupported_labels, stream_logistic_fit}},
	{"naive_bayes", {TASK_CLASSIFICATION, PASS_MAX_CLASSES, true, stream_nb_unsupported, NULL, stream_nb_fit}},
	{"kmeans", {TASK_CLUSTERING, 0, false, stream_kmeans_unsupported, NULL, stream_kmeans_fit}},
};

/* The streaming part of an algorithm, or NULL when it has none. */
static const StreamAlgo *
stream_algo_of(const AlgorithmDef *algo)
{
	if (algo->fit_gram != NULL)
		return &stream_gram;
	for (int i = 0; i < lengthof(stream_algos); i++)
		if (strcmp(stream_algos[i].name, algo->name) == 0)
			return &stream_algos[i].def;
	return NULL;
}

/* Why the request cannot be streamed (NULL: it can). */
static const char *
stream_unsupported(const TrainRequest *req, const LoadOptions *lo, const Dataset *schema,
				   const StreamAlgo *sa)
{
	if (req->search != NULL)
		return "a hyperparameter search fits many models on the rows in memory";
	if (req->folds >= 2)
		return "cross-validation needs the rows in memory";
	if (lo->n_text > 0)
		return "text features need the rows in memory";
	if (schema->task != sa->task)
		return psprintf("it fits %s, and the task is %s", galaxy_task_name(sa->task),
						galaxy_task_name(schema->task));
	for (int i = 0; i < schema->n_inputs; i++)
		if (schema->inputs[i].kind != INPUT_NUMERIC && schema->inputs[i].kind != INPUT_BOOLEAN)
			return psprintf("column \"%s\" (%s) is not a numeric or boolean column",
							schema->inputs[i].name, schema->inputs[i].typname);
	if (schema->n_inputs > MOMENTS_MAX_COLUMNS - 1)
		return psprintf("it takes at most %d feature columns", MOMENTS_MAX_COLUMNS - 1);
	return NULL;
}

/*
 * A pass's query as the calling role.  When the session lets a Gather start
 * as many workers as the machine has CPUs, the leader only waits for them
 * and then merges their states (parallel_leader_participation off for the
 * query): scanning too, it would be one process more than there are CPUs,
 * and the three share two CPUs by switching.  With fewer workers than CPUs
 * (or none launched) the leader scans as usual.
 */
static QueryResult *
pass_query(const StreamJob *job, const char *sql, int nargs, Oid *argtypes, Datum *values,
		   const char *what)
{
	static long cpus = 0;
	QueryResult *qr;
	int			nest = -1;

	if (cpus == 0)
		cpus = Max(sysconf(_SC_NPROCESSORS_ONLN), 1);
	if (!job->distributed && max_parallel_workers_per_gather >= cpus && parallel_leader_participation)
	{
		nest = NewGUCNestLevel();
		(void) set_config_option("parallel_leader_participation", "off",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	}
	qr = user_query(sql, nargs, argtypes, values, NULL, true, 0, SPI_OK_SELECT, what);
	if (nest >= 0)
		AtEOXact_GUC(true, nest);
	return qr;
}

/* See stream.h. */
Datum
stream_run_pass(StreamJob *job, const char *sql, const double *arg, int n, const char *what)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	ArrayType  *arr;
	QueryResult *qr;
	Datum		value;
	bool		isnull;

	for (int i = 0; i < n; i++)
		elems[i] = Float8GetDatum(arg[i]);
	arr = construct_array(elems, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	qr = pass_query(job, sql, 1, (Oid[]) {FLOAT8ARRAYOID}, (Datum[]) {PointerGetDatum(arr)},
					psprintf("stream %s", what));
	if (qr->nrows != 1)
		elog(ERROR, "galaxy: %s returned " UINT64_FORMAT " rows", what, qr->nrows);
	value = heap_getattr(qr->rows[0], 1, qr->tupdesc, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("relation \"%s\" has no rows", get_rel_name(job->req->relid))));
	pfree(elems);
	return value;
}

/* See stream.h. */
double
stream_roc_auc(StreamJob *job, int k, const char *scorer, const double *model, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * n);
	bool		values = stream_values_form(job);
	int			part = job->n_test > 0 ? 1 : 0;
	char	   *scores;
	char	   *sql;
	QueryResult *qr;
	double		sum = 0.0;
	int			used = 0;
	instr_time	t0,
				t1;

	for (int i = 0; i < n; i++)
		elems[i] = Float8GetDatum(model[i]);
	if (values)
		scores = psprintf("%s((%s)::float8, %d::int8, %.17g::float8, %d, $1%s)", scorer,
						  job->yexpr, job->req->seed, job->req->test_size, part,
						  stream_feature_list(job, true));
	else
		scores = psprintf("%s_array((%s)::float8, %s, %d::int8, %.17g::float8, %d, $1)", scorer,
						  job->yexpr, stream_feature_list(job, false), job->req->seed,
						  job->req->test_size, part);
	/*
	 * Per class: the sum of the positive rows' average ranks, the positive
	 * rows, all rows.  Two classes: the second class's probability alone,
	 * grouped straight off the scan (the training rows, whose scores are
	 * NULL, fall in one group, left out before the ranks); more: each class's
	 * column of the held-out rows' probabilities.
	 */
	if (k == 2)
		sql = psprintf("SELECT 2, sum(np * (before + (n + 1) / 2))::float8, sum(np)::float8, sum(n)::float8"
					   " FROM (SELECT np, n, sum(n) OVER (ORDER BY score) - n AS before"
					   " FROM (SELECT (%s)[2] AS score, (count(*) FILTER (WHERE (%s)::float8 = 1))::float8 AS np,"
					   " count(*)::float8 AS n FROM %s GROUP BY 1) g WHERE score IS NOT NULL) r",
					   scores, job->yexpr, job->relation);
	else
		sql = psprintf("SELECT c::int4, sum(np * (before + (n + 1) / 2))::float8, sum(np)::float8, sum(n)::float8"
					   " FROM (SELECT c, np, n, sum(n) OVER (PARTITION BY c ORDER BY score) - n AS before"
					   " FROM (SELECT u.c, u.score, (count(*) FILTER (WHERE s.y = u.c - 1))::float8 AS np, count(*)::float8 AS n"
					   " FROM (SELECT (%s)::float8 AS y, %s AS pr FROM %s) s, unnest(s.pr) WITH ORDINALITY u(score, c)"
					   " GROUP BY u.c, u.score) g) r GROUP BY c ORDER BY c",
					   job->yexpr, scores, job->relation);
	progress_phase(job->run, "evaluate: roc_auc");

	INSTR_TIME_SET_CURRENT(t0);
	qr = user_query(sql, 1, (Oid[]) {FLOAT8ARRAYOID},
					(Datum[]) {PointerGetDatum(construct_array(elems, n, FLOAT8OID, sizeof(float8),
															   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE))},
					NULL, true, 0, SPI_OK_SELECT, "stream the roc_auc scores");
	for (uint64 r = 0; r < qr->nrows; r++)
	{
		bool		isnull[3];
		double		rank_sum = DatumGetFloat8(heap_getattr(qr->rows[r], 2, qr->tupdesc, &isnull[0]));
		double		npos = DatumGetFloat8(heap_getattr(qr->rows[r], 3, qr->tupdesc, &isnull[1]));
		double		rows = DatumGetFloat8(heap_getattr(qr->rows[r], 4, qr->tupdesc, &isnull[2]));

		if (isnull[0] || isnull[1] || isnull[2] || npos == 0.0 || npos == rows)
			continue;
		sum += (rank_sum - npos * (npos + 1.0) / 2.0) / (npos * (rows - npos));
		used++;
	}
	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	job->score_seconds += INSTR_TIME_GET_DOUBLE(t1);
	pfree(elems);
	return used > 0 ? sum / used : get_float8_nan();
}

/* See stream.h. */
double
stream_hp_value(const StreamJob *job, const char *name)
{
	int			i = algo_param_index(job->algo, name);

	if (i < 0)
		elog(ERROR, "galaxy: %s has no hyperparameter \"%s\"", job->algo->name, name);
	return job->o->hp.values[i];
}

/*
 * The passes take the features as separate arguments (no array per row) on
 * a local relation; as an array on a distributed one (the form Citus is
 * known to push down) or beyond the arguments a function takes.
 */
bool
stream_values_form(const StreamJob *job)
{
	return !job->distributed && job->schema->n_inputs <= FUNC_MAX_ARGS - 8;
}

/* The features of a pass as SQL (stream.h). */
char *
stream_feature_list(const StreamJob *job, bool values)
{
	StringInfoData q;

	initStringInfo(&q);
	if (!values)
		appendStringInfoString(&q, "ARRAY[");
	for (int i = 0; i < job->schema->n_inputs; i++)
	{
		const InputColumn *in = &job->schema->inputs[i];

		appendStringInfo(&q, "%s(%s)%s::float8", (i || values) ? ", " : "", quote_identifier(in->name),
						 in->kind == INPUT_BOOLEAN ? "::int" : "");
	}
	if (!values)
		appendStringInfoString(&q, "]::float8[]");
	return q.data;
}

/*
 * The first pass's query: the moments of the features and the target
 * expression, with the sample of the training profile; per class, one row
 * per class index (and one for a NULL target), when per_class.
 */
static char *
moments_query(const StreamJob *job, bool per_class)
{
	bool		values = stream_values_form(job);
	char	   *xs = stream_feature_list(job, values);
	char	   *agg;
	int			level = stream_profile_level(job);

	if (values)
		agg = psprintf("galaxy_internal.split_moments_values((%s)::float8, %d::int8, %.17g::float8, %d%s)",
					   job->yexpr, job->req->seed, job->req->test_size, level, xs);
	else
		agg = psprintf("galaxy_internal.split_moments((%s)::float8, %s, %d::int8, %.17g::float8, %d)",
					   job->yexpr, xs, job->req->seed, job->req->test_size, level);
	if (per_class)
		return psprintf("SELECT (%s)::int4, %s FROM %s GROUP BY 1", job->yexpr, agg, job->relation);
	return psprintf("SELECT %s FROM %s", agg, job->relation);
}

/* a merged into the (possibly NULL) *acc, which may be replaced. */
static void
merge_into(MomentsData **acc, const MomentsData *a)
{
	if (*acc == NULL)
	{
		*acc = palloc(VARSIZE(a));
		memcpy(*acc, a, VARSIZE(a));
		return;
	}
	*acc = moments_merge(*acc, a);
}

/*
 * The class labels of a classification target, in the loader's order (by
 * value for numbers, else the type's order), and the target expression
 * that gives each row's class index; false when there are fewer than two
 * or more than max_labels.
 */
static bool
stream_class_labels(StreamJob *job, int max_labels)
{
	Dataset    *schema = job->schema;
	const char *t = quote_identifier(schema->target);
	ScalarConv	conv;
	CategoryConv cat;
	bool		number = data_classify_type(schema->target_type, &conv, &cat) == INPUT_NUMERIC;
	char	   *sql;
	QueryResult *qr;
	StringInfoData cases;
	int			k;

	if (number)
		sql = psprintf("SELECT DISTINCT (%s)::float8 FROM %s WHERE %s IS NOT NULL ORDER BY 1 LIMIT %d",
					   t, job->relation, t, max_labels + 1);
	else
		sql = psprintf("SELECT DISTINCT %s%s FROM %s WHERE %s IS NOT NULL ORDER BY 1 LIMIT %d", t,
					   type_is_collatable(schema->target_type) ? " COLLATE \"default\"" : "",
					   job->relation, t, max_labels + 1);
	progress_phase(job->run, "labels");
	qr = user_query(sql, 0, NULL, NULL, NULL, true, 0, SPI_OK_SELECT, "read the class labels");
	job->n_labels = (int) qr->nrows;
	if (qr->nrows < 2 || qr->nrows > max_labels)
		return false;
	k = (int) qr->nrows;
	schema->n_classes = k;
	schema->class_labels = palloc(sizeof(char *) * k);
	initStringInfo(&cases);
	appendStringInfo(&cases, "CASE %s", number ? psprintf("(%s)::float8", t) : t);
	for (int i = 0; i < k; i++)
	{
		bool		isnull;
		Datum		v = heap_getattr(qr->rows[i], 1, qr->tupdesc, &isnull);

		if (number)
		{
			double		x = DatumGetFloat8(v);

			schema->class_labels[i] = (x == floor(x) && fabs(x) <= 9e15) ?
				psprintf(INT64_FORMAT, (int64) x) : float8out_internal(x);
			if (i == 1)
				job->yexpr = psprintf("((%s)::float8 = %.17g::float8)::int", t, x);
			appendStringInfo(&cases, " WHEN %.17g::float8 THEN %d", x, i);
		}
		else
		{
			Oid			outfn;
			bool		isvarlena;

			getTypeOutputInfo(schema->target_type, &outfn, &isvarlena);
			schema->class_labels[i] = OidOutputFunctionCall(outfn, v);
			if (i == 1)
				job->yexpr = psprintf("(%s = %s::%s)::int", t, quote_literal_cstr(schema->class_labels[i]),
									  format_type_be_qualified(schema->target_type));
			appendStringInfo(&cases, " WHEN %s::%s THEN %d", quote_literal_cstr(schema->class_labels[i]),
							 format_type_be_qualified(schema->target_type), i);
		}
	}
	/* two classes: the comparison above; more: the CASE */
	if (k > 2)
	{
		appendStringInfoString(&cases, " END");
		job->yexpr = cases.data;
	}
	return true;
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

/* linear_regression (and any fit_gram): one solve from the moments, scored from them. */
static void
stream_gram_fit(StreamJob *job)
{
	FitOutcome *o = job->o;
	const AlgorithmDef *algo = job->algo;
	Dataset    *schema = job->schema;
	MomentsData *m = job->m;
	int			d = m->d;
	int			p = d - 1;
	MomentsTransform tf;
	double	   *tcenter,
			   *tscale,
			   *tfill;
	int			fi_hp;
	bool		fit_intercept;
	GramMoments gm;
	FitContext	fctx = {0};
	instr_time	t0;
	double		intercept;
	double	   *coef;

	/* the transform of every column: the preprocessor's, and the target about its mean */
	fi_hp = algo_param_index(algo, "fit_intercept");
	fit_intercept = fi_hp < 0 || o->hp.values[fi_hp] != 0.0;
	tcenter = palloc(sizeof(double) * d);
	tscale = palloc(sizeof(double) * d);
	tfill = palloc(sizeof(double) * d);
	for (int i = 0; i < p; i++)
	{
		int			s = schema->inputs[i].raw_offset;

		tcenter[i] = job->prep->center[s];
		tscale[i] = job->prep->scale[s];
		tfill[i] = job->prep->fill[s];
	}
	tcenter[p] = fit_intercept ? job->cols[p].mean : 0.0;
	tscale[p] = 1.0;
	tfill[p] = 0.0;
	tf.center = tcenter;
	tf.scale = tscale;
	tf.fill = tfill;

	/* fit */
	progress_phase(job->run, "fit");
	stream_gram_moments(m, 0, &tf, fit_intercept, &gm);
	fctx.progress = progress_callback;
	fctx.progress_arg = job->run;
	fctx.seed = (uint64) job->req->seed;
	fctx.threads = galaxy_threads;
	INSTR_TIME_SET_CURRENT(t0);
	MemoryContextSwitchTo(o->modelctx);
	o->state = algo->fit_gram(&gm, &o->hp, &fctx);
	MemoryContextSwitchTo(job->trainctx);
	o->fit_seconds = seconds_since_instr(t0);

	/* score on the held-out part (or the training part when nothing is held out) */
	progress_phase(job->run, "evaluate");
	INSTR_TIME_SET_CURRENT(t0);
	coef = palloc(sizeof(double) * Max(p, 1));
	linear_model_of(algo, o->state, p, &intercept, coef);
	score_part(m, job->n_test > 0 ? 1 : 0, &tf, intercept, coef, &o->ms);
	job->score_seconds = seconds_since_instr(t0);
}

/*
 * train_run's streaming fit (stream.h): the shared stages around the
 * algorithm's StreamAlgo; false when the request is for the in-memory fit.
 */
bool
stream_fit(TrainRequest *req, LoadOptions *lo, ProgressRun *run, MemoryContext trainctx,
		   FitOutcome *o)
{
	const AlgorithmDef *algo;
	const StreamAlgo *sa;
	StreamJob	job = {0};
	int			solver_hp,
				solver;
	Dataset    *schema = NULL;
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
	Jsonb	   *profile;
	instr_time	t0;
	double		pass_seconds;
	SharedPageMapper *mapper = NULL;
	StringInfoData extra;
	Size		enc_len;
	char	   *enc;
	uint8		digest[32];

	if (strcmp(req->algorithm, "auto") == 0)
		return false;
	algo = algo_by_name(req->algorithm);
	if ((sa = stream_algo_of(algo)) == NULL || (solver_hp = algo_param_index(algo, "solver")) < 0)
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
	/* a target's type alone may look like a value: a classifier's task is classification */
	if (sa->task == TASK_CLASSIFICATION && req->task == NULL && schema->task == TASK_REGRESSION)
		schema->task = TASK_CLASSIFICATION;

	job.req = req;
	job.run = run;
	job.trainctx = trainctx;
	job.o = o;
	job.algo = algo;
	job.schema = schema;
	job.distributed = dataset_is_distributed(req->relid);
	job.relation = quote_qualified_identifier(get_namespace_name(get_rel_namespace(req->relid)),
											  get_rel_name(req->relid));
	/* clustering: no target; every row's is 0 (the split hashes it) */
	job.yexpr = schema->target ? (char *) quote_identifier(schema->target) : "0";
	initStringInfo(&job.extra);
	details_begin(&job.extra);

	why_not = stream_unsupported(req, lo, schema, sa);
	if (why_not == NULL && sa->unsupported != NULL)
		why_not = sa->unsupported(&job);
	if (solver == SOLVER_AUTO)
	{
		double		limit = (double) galaxy_max_training_memory_mb * 1024.0 * 1024.0;
		/* the raw rows and the training matrix, in float64 */
		double		need = schema->estimated_rows < 0 ? 0.0 :
			2.0 * sizeof(double) * (double) schema->estimated_rows * (schema->n_raw + 1);

		if (why_not != NULL || (!job.distributed && !(need > limit)))
			return false;
	}
	else if (why_not != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot use the streaming solver here: %s", algo->name, why_not),
				 errhint("Use \"solver\": \"in_memory\" (or \"auto\").")));

	/* streaming: the columns' NOTICEs, which the schema-only look keeps for the load it may leave to */
	lo->check_only = true;
	(void) dataset_load(lo);
	lo->check_only = false;

	/*
	 * A serial pass reads every page of the relation in this process: a
	 * thread maps its shared-buffer pages in from the other end meanwhile
	 * (util/shared_pages.c).  Parallel workers are processes of their own,
	 * which this thread cannot help.
	 */
	if (max_parallel_workers_per_gather == 0 && !job.distributed)
		mapper = shared_pages_map_start_relid(req->relid);

	/* a classifier's labels: a pass of their own */
	if (sa->task == TASK_CLASSIFICATION && !stream_class_labels(&job, sa->max_classes))
	{
		shared_pages_map_stop(mapper);
		if (solver == SOLVER_AUTO)
			return false;
		if (sa->max_classes == 2)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s cannot use the streaming solver here: it fits two classes, and target \"%s\" has %s",
							algo->name, schema->target, job.n_labels > 2 ? "more than two" : "fewer than two"),
					 errhint("Use \"solver\": \"in_memory\" (or \"auto\").")));
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot use the streaming solver here: it fits 2 to %d classes, and target \"%s\" has %s",
						algo->name, sa->max_classes, schema->target,
						job.n_labels > 2 ? "more" : "fewer than two"),
				 errhint("Use \"solver\": \"in_memory\" (or \"auto\").")));
	}
	if (sa->unsupported_labels != NULL && (why_not = sa->unsupported_labels(&job)) != NULL)
	{
		shared_pages_map_stop(mapper);
		if (solver == SOLVER_AUTO)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot use the streaming solver here: %s", algo->name, why_not),
				 errhint("Use \"solver\": \"in_memory\" (or \"auto\").")));
	}

	/*
	 * The pass.  The heap its states grow, arrive and are merged in is mapped
	 * in first: a serial pass's first row would do it (the transition
	 * function), but the states of parallel workers or Citus shards (their
	 * samples: hundreds of kB each) are copied here before any row is.
	 */
	galaxy_prepare_memory(MOMENTS_SAMPLE_ARENA_MB);
	progress_phase(run, "load");
	INSTR_TIME_SET_CURRENT(t0);
	sql = moments_query(&job, sa->per_class);
	qr = pass_query(&job, sql, 0, NULL, NULL, "stream the training moments");
	shared_pages_map_stop(mapper);
	if (sa->per_class)
	{
		/* a state per class index: the classes' states, and their merge */
		m = NULL;
		job.class_m = palloc0(sizeof(MomentsData *) * schema->n_classes);
		for (uint64 r = 0; r < qr->nrows; r++)
		{
			bool		cnull;
			Datum		cv = heap_getattr(qr->rows[r], 1, qr->tupdesc, &cnull);
			MomentsData *cm;
			int32		c;

			value = heap_getattr(qr->rows[r], 2, qr->tupdesc, &isnull);
			if (isnull)
				continue;
			cm = moments_from_datum(value);
			if (!cnull)
			{
				c = DatumGetInt32(cv);
				if (c < 0 || c >= schema->n_classes || job.class_m[c] != NULL)
					elog(ERROR, "galaxy: the moments query returned class index %d", c);
				job.class_m[c] = cm;
			}
			merge_into(&m, cm);
		}
		if (m == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("relation \"%s\" has no rows", get_rel_name(req->relid))));
	}
	else
	{
		if (qr->nrows != 1)
			elog(ERROR, "galaxy: the moments query returned " UINT64_FORMAT " rows", qr->nrows);
		value = heap_getattr(qr->rows[0], 1, qr->tupdesc, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("relation \"%s\" has no rows", get_rel_name(req->relid))));
		m = moments_from_datum(value);
	}
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

	/* the algorithm's fit and scores */
	job.m = m;
	job.n_train = n_train;
	job.n_test = n_test;
	job.cols = cols;
	job.prep = prep;
	o->modelctx = AllocSetContextCreate(trainctx, "galaxy model", ALLOCSET_DEFAULT_SIZES);
	metrics_init(&o->ms);
	sa->fit(&job);
	/* the drift baseline, from the pass's sample of the rows */
	profile = stream_training_profile(&job);

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
	details_float(&extra, "score_seconds", job.score_seconds);
	if (job.distributed)
		details_str(&extra, "distributed", "citus");
	if (m->n_skipped > 0)
		details_float(&extra, "skipped_null_labels", m->n_skipped);
	if (job.extra.len > 1)
		appendStringInfo(&extra, ",%s", job.extra.data + 1);
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
	o->training_profile = profile;
	o->search_id = 0;
	return true;
}
