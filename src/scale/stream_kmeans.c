/*
 * stream_kmeans.c — kmeans's streaming fit: initial centres from a sample,
 * then one aggregate pass over the relation per Lloyd iteration.
 *
 * After the first pass (stream.c: the moments, for the preprocessor and the
 * tolerance), a sample of the training rows (those split_moments puts in
 * the training part, chosen by a second hash of their values, so the same
 * seed gives the same sample) is read in the preprocessed space, and
 * kmeans_sample_centres (kmeans.c) runs k-means++ on it as the in-memory fit
 * does (n_init runs, the same seeds), each run refined by Lloyd iterations
 * on the sample.  From those centres, each Lloyd iteration is one pass of
 * galaxy_internal.kmeans_pass (passes_sql.c): per cluster the rows, the sum
 * of their values and of their squared norms, and the inertia, of the
 * training and the held-out rows.  The new centres are the clusters' means;
 * it stops as the in-memory fit does, when the squared shift of the centres
 * is at most tol x the mean feature variance (computed from the moments),
 * or when the centres do not move (the assignment did not change), or
 * after max_iter passes.  An empty cluster takes the row farthest from its
 * centre (one per pass).  The metrics: inertia (to each cluster's mean) and
 * the cluster sizes of the held-out rows from the last pass at the final
 * centres; silhouette and Davies-Bouldin from a sample of held-out rows.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

#include "galaxy.h"
#include "eval/metrics.h"
#include "registry/audit.h"
#include "scale/passes.h"
#include "scale/stream.h"
#include "util/query.h"

/* Rows of the k-means++ sample (at least 50 per cluster) and of the metrics' sample. */
#define KM_SAMPLE_ROWS		20000
#define KM_SAMPLE_PER_CLUSTER 50
#define KM_METRICS_SAMPLE	5000

/* What the Lloyd passes cannot take beyond stream.c's shared reasons. */
const char *
stream_kmeans_unsupported(StreamJob *job)
{
	if (stream_hp_value(job, "batch_size") > 0)
		return "mini-batch k-means (batch_size > 0) draws its batches from the rows in memory (full Lloyd iterations, batch_size 0, stream)";
	if (stream_hp_value(job, "n_clusters") > PASS_MAX_CLUSTERS)
		return psprintf("it takes at most %d clusters", PASS_MAX_CLUSTERS);
	return NULL;
}

/* The transform of the preprocessor: {center, scale, fill} of each feature (3 p). */
static double *
transform_of(const StreamJob *job)
{
	int			p = job->schema->n_inputs;
	double	   *tf = palloc(sizeof(double) * 3 * p);

	for (int j = 0; j < p; j++)
	{
		int			s = job->schema->inputs[j].raw_offset;

		tf[j] = job->prep->center[s];
		tf[p + j] = job->prep->scale[s] > 0.0 ? job->prep->scale[s] : 1.0;
		tf[2 * p + j] = job->prep->fill[s];
	}
	return tf;
}

/*
 * A sample of the rows of a part (about 'want' of its n rows, in the order
 * of their sampling key) in the preprocessed space, into a new array; its
 * rows into *n_out.
 */
static double *
read_sample(StreamJob *job, int part, double n, int want, const double *tf, int64 *n_out)
{
	int			p = job->schema->n_inputs;
	bool		values = stream_values_form(job);
	double		fraction = n > 0 ? Min(1.0, (double) want / n) : 1.0;
	char	   *key;
	char	   *sql;
	QueryResult *qr;
	double	   *X;
	int64		m = 0;

	if (values)
		key = psprintf("galaxy_internal.stream_sample_key(%d::int8, %.17g::float8, %d%s)",
					   job->req->seed, job->req->test_size, part, stream_feature_list(job, true));
	else
		key = psprintf("galaxy_internal.stream_sample_key_array(%s, %d::int8, %.17g::float8, %d)",
					   stream_feature_list(job, false), job->req->seed, job->req->test_size, part);
	sql = psprintf("SELECT x_ FROM (SELECT %s AS key_, %s AS x_ FROM %s) s WHERE key_ < %.17g ORDER BY key_",
				   key, stream_feature_list(job, false), job->relation, fraction);
	qr = user_query(sql, 0, NULL, NULL, NULL, true, 0, SPI_OK_SELECT, "read a sample for k-means");
	X = palloc(sizeof(double) * Max(qr->nrows, 1) * p);
	for (uint64 r = 0; r < qr->nrows; r++)
	{
		bool		isnull;
		Datum		v = heap_getattr(qr->rows[r], 1, qr->tupdesc, &isnull);
		ArrayType  *arr;
		Datum	   *elems;
		bool	   *nulls;
		int			ne;

		if (isnull)
			continue;
		arr = DatumGetArrayTypeP(v);
		deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &elems, &nulls, &ne);
		if (ne != p)
			elog(ERROR, "galaxy: the k-means sample has rows of %d values for %d features", ne, p);
		for (int j = 0; j < p; j++)
		{
			double		x = nulls[j] ? tf[2 * p + j] : DatumGetFloat8(elems[j]);

			if (!isfinite(x))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("feature \"%s\" contains %s", job->schema->inputs[j].name,
								isnan(x) ? "NaN" : (x > 0 ? "Infinity" : "-Infinity")),
						 errhint("Replace NaN/Infinity with NULL (imputed) or a finite value, or filter those rows out.")));
			X[m * p + j] = (x - tf[j]) / tf[p + j];
		}
		m++;
	}
	*n_out = m;
	return X;
}

/* One Lloyd pass at the centres C; the state, validated. */
static double *
lloyd_pass(StreamJob *job, const char *sql, const double *C, int k, const double *tf)
{
	int			p = job->schema->n_inputs;
	int			nc = (int) pass_km_centres_doubles(k, p);
	double	   *arg = palloc(sizeof(double) * nc);
	int			n;
	double	   *state;

	arg[0] = (double) k;
	arg[1] = (double) p;
	memcpy(arg + 2, C, sizeof(double) * k * p);
	memcpy(arg + 2 + (Size) k * p, tf, sizeof(double) * 3 * p);
	state = pass_state_from_datum(stream_run_pass(job, sql, arg, nc, "a Lloyd pass of k-means"), &n);
	pfree(arg);
	if (state[0] != PASS_KM_TAG || (int) state[1] != k || (int) state[2] != p)
		elog(ERROR, "galaxy: the Lloyd pass returned a state of the wrong shape");
	return state;
}

/*
 * The fit: centres from the sample, Lloyd passes, the model at the final
 * centres, the metrics of the held-out rows (the training rows when none
 * is held out).
 */
void
stream_kmeans_fit(StreamJob *job)
{
	FitOutcome *o = job->o;
	int			p = job->schema->n_inputs;
	int			k = (int) stream_hp_value(job, "n_clusters");
	int			n_init = (int) stream_hp_value(job, "n_init");
	int			max_iter = (int) stream_hp_value(job, "max_iter");
	double		tol = stream_hp_value(job, "tol");
	double	   *tf = transform_of(job);
	double	   *C = palloc(sizeof(double) * k * p);
	double	   *init = palloc(sizeof(double) * k * p);
	double	   *sum = palloc(sizeof(double) * (p + 1));
	double	   *mean = palloc(sizeof(double) * (p + 1));
	double	   *ss = palloc(sizeof(double) * (p + 1));
	double	   *tc = palloc(sizeof(double) * (p + 1));
	double	   *tsc = palloc(sizeof(double) * (p + 1));
	double	   *tfl = palloc(sizeof(double) * (p + 1));
	MomentsTransform mt;
	double		tol_abs = 0.0;
	double		limit = (double) galaxy_max_training_memory_mb * 1024.0 * 1024.0;
	int			want;
	int64		n_sample;
	double	   *X;
	bool		values = stream_values_form(job);
	char	   *sql;
	double	   *state = NULL;
	double	   *at = palloc(sizeof(double) * k * p);	/* the centres of the last pass */
	int			passes = 0,
				it;
	bool		converged = false;
	int			metrics_part = job->n_test > 0 ? 1 : 0;
	KmPassPart	pt;
	int64	   *sizes = palloc0(sizeof(int64) * k);
	double		inertia;
	instr_time	t0,
				t1;

	if (job->n_train < k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("kmeans: n_clusters = %d is larger than the number of training rows (%.0f)",
						k, job->n_train),
				 errhint("Lower n_clusters, or train on more rows (test_size => 0 trains on all of them).")));
	INSTR_TIME_SET_CURRENT(t0);

	/* tol in squared distance units: tol x the mean variance of the features (the moments') */
	for (int j = 0; j < p; j++)
	{
		tc[j] = tf[j];
		tsc[j] = tf[p + j];
		tfl[j] = tf[2 * p + j];
	}
	tc[p] = 0.0;
	tsc[p] = 1.0;
	tfl[p] = 0.0;
	mt.center = tc;
	mt.scale = tsc;
	mt.fill = tfl;
	if (tol > 0.0)
	{
		double		n = stream_part_sums(job->m, 0, &mt, sum, mean, ss);

		for (int j = 0; j < p; j++)
			tol_abs += ss[j] / n;
		tol_abs = tol * tol_abs / p;
	}

	/* the initial centres: k-means++ on a sample of the training rows */
	progress_phase(job->run, "fit: sample");
	want = Max(KM_SAMPLE_ROWS, KM_SAMPLE_PER_CLUSTER * k);
	/* the sample and k-means++'s work on it: within galaxy.max_training_memory */
	want = (int) Min((double) want, limit / (sizeof(double) * (Size) (p + 8) * 4));
	want = Max(want, 4 * k);
	X = read_sample(job, 0, job->n_train, want, tf, &n_sample);
	kmeans_sample_centres(X, n_sample, p, k, n_init, max_iter, (uint64) job->req->seed,
						  galaxy_threads, C);
	memcpy(init, C, sizeof(double) * k * p);
	pfree(X);

	/* Lloyd passes */
	if (values)
		sql = psprintf("SELECT galaxy_internal.kmeans_pass(%d::int8, %.17g::float8, $1%s) FROM %s",
					   job->req->seed, job->req->test_size, stream_feature_list(job, true), job->relation);
	else
		sql = psprintf("SELECT galaxy_internal.kmeans_pass_array(%s, %d::int8, %.17g::float8, $1) FROM %s",
					   stream_feature_list(job, false), job->req->seed, job->req->test_size, job->relation);
	for (it = 1; it <= max_iter; it++)
	{
		double		shift = 0.0;
		bool		empty_done = false;

		CHECK_FOR_INTERRUPTS();
		progress_phase(job->run, psprintf("fit: Lloyd pass %d", it));
		state = lloyd_pass(job, sql, C, k, tf);
		memcpy(at, C, sizeof(double) * k * p);
		passes++;
		pass_km_part(state, 0, &pt);
		for (int c = 0; c < k; c++)
		{
			double	   *cc = C + (Size) c * p;

			if (pt.counts[c] == 0.0)
			{
				/* an empty cluster takes the farthest row (one per pass) */
				if (!empty_done && *pt.far_d > 0.0)
				{
					for (int j = 0; j < p; j++)
					{
						double		delta = pt.far_row[j] - cc[j];

						shift += delta * delta;
						cc[j] = pt.far_row[j];
					}
					empty_done = true;
				}
				continue;
			}
			for (int j = 0; j < p; j++)
			{
				double		v = pt.sums[(Size) c * p + j] / pt.counts[c];
				double		delta = v - cc[j];

				shift += delta * delta;
				cc[j] = v;
			}
		}
		progress_phase(job->run, psprintf("fit: Lloyd pass %d, inertia %.6g", it, *pt.inertia));
		if (shift == 0.0)
		{
			/* the centres did not move: the assignment did not change */
			converged = true;
			break;
		}
		if (shift <= tol_abs)
		{
			converged = true;
			break;
		}
	}
	it = Min(it, max_iter);
	for (Size i = 0; i < (Size) k * p; i++)
		if (!isfinite(C[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("kmeans produced a non-finite centre"),
					 errhint("Scale the features: preprocess => '{\"scale\": \"standard\"}'.")));
	/* the last pass at the final centres: the model's inertia and sizes, the metrics */
	if (memcmp(at, C, sizeof(double) * k * p) != 0)
	{
		progress_phase(job->run, "fit: final pass");
		state = lloyd_pass(job, sql, C, k, tf);
		passes++;
	}
	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	o->fit_seconds = INSTR_TIME_GET_DOUBLE(t1);
	pass_km_part(state, 0, &pt);
	for (int c = 0; c < k; c++)
		sizes[c] = (int64) pt.counts[c];
	inertia = *pt.inertia;
	MemoryContextSwitchTo(o->modelctx);
	o->state = kmeans_state_from_centres(k, p, C, init, inertia, it, sizes);
	MemoryContextSwitchTo(job->trainctx);

	/* the metrics: the last pass's counts, a sample's silhouette and Davies-Bouldin */
	progress_phase(job->run, "evaluate");
	INSTR_TIME_SET_CURRENT(t0);
	{
		MetricSet	sm;
		int64		ns;
		double	   *XS;
		double	   *assign;
		double		in_mean = 0.0;
		int64	   *csize = palloc(sizeof(int64) * k);

		pass_km_part(state, metrics_part, &pt);
		for (int c = 0; c < k; c++)
		{
			double		nrm = 0.0;

			for (int j = 0; j < p; j++)
				nrm += pt.sums[(Size) c * p + j] * pt.sums[(Size) c * p + j];
			if (pt.counts[c] > 0)
				in_mean += Max(pt.sqn[c] - nrm / pt.counts[c], 0.0);
			csize[c] = (int64) pt.counts[c];
		}
		metrics_add(&o->ms, "inertia", in_mean);
		XS = read_sample(job, metrics_part, *pt.rows, KM_METRICS_SAMPLE, tf, &ns);
		if (ns > 0)
		{
			int			kk = 0;

			assign = palloc(sizeof(double) * ns);
			galaxy_algo_kmeans.predict(o->state, XS, ns, assign);
			for (int64 i = 0; i < ns; i++)
				kk = Max(kk, (int) assign[i] + 1);
			metrics_init(&sm);
			metrics_clustering(XS, ns, p, assign, kk, (uint64) job->req->seed, &sm);
			for (int i = 0; i < sm.n; i++)
				if (strcmp(sm.names[i], "inertia") != 0)
					metrics_add(&o->ms, sm.names[i], sm.values[i]);
		}
		o->ms.n_clusters = k;
		o->ms.cluster_sizes = csize;
		details_float(&job->extra, "metrics_sample_rows", (double) ns);
	}
	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	job->score_seconds = INSTR_TIME_GET_DOUBLE(t1);
	details_int(&job->extra, "n_iter", it);
	details_int(&job->extra, "n_clusters", k);
	details_float(&job->extra, "train_inertia", inertia);
	details_int(&job->extra, "lloyd_passes", passes);
	details_float(&job->extra, "sample_rows", (double) n_sample);
	details_bool(&job->extra, "converged", converged);
	if (!converged)
		ereport(NOTICE,
				(errmsg("kmeans's Lloyd passes stopped after %d passes before converging", passes),
				 errhint("Raise \"max_iter\".")));
}
