/*
 * stream_profile.c — the training profile (the drift baseline, see
 * monitor/drift.h) of a streamed model, from the sample of the rows its
 * first pass took.
 *
 * A streamed fit never holds the rows, but galaxy.drift() needs their
 * percentiles and category counts.  The moments pass carries a sample in
 * its state (scale/moments.h): the rows whose sampling key, a hash of the
 * row and the seed, is below 2^-level, for all rows of the relation
 * (held-out rows included).  The level is chosen here from the row
 * estimate (a Citus table's from its shards' sizes) so that the sample holds half of STREAM_PROFILE_ROWS to all
 * of them; when the estimate is low the state raises the level itself.
 * The sample is read where the pass reads the rows, by the parallel
 * workers or the Citus nodes, with no second read of the relation; the
 * same rows and seed give the same sample, serial or parallel.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"

#include "galaxy.h"
#include "monitor/drift.h"
#include "registry/audit.h"
#include "scale/moments.h"
#include "scale/stream.h"
#include "util/query.h"

/* Rows the sample aims at: enough for percentiles p0 ... p100 of every column */
#define STREAM_PROFILE_ROWS		8192

/*
 * A Citus table's rows, guessed from the size of its shards' main forks on
 * the workers (the coordinator's table is empty, so it has no estimate):
 * bytes over a row of the job's columns as float8 with its tuple header
 * and line pointer.  Wider rows make it a guess high, and the sample
 * smaller; without it every shard would keep up to moments_sample_max
 * rows and ship them to the coordinator.
 */
static double
distributed_rows(const StreamJob *job)
{
	QueryResult *qr = user_query("SELECT pg_catalog.citus_relation_size($1)", 1, (Oid[]) {REGCLASSOID},
								 (Datum[]) {ObjectIdGetDatum(job->req->relid)}, NULL, true, 1,
								 SPI_OK_SELECT, "size the distributed table");
	bool		isnull;
	Datum		bytes;

	if (qr->nrows != 1)
		return -1.0;
	bytes = query_datum(qr, 0, 1, &isnull);
	if (isnull)
		return -1.0;
	return (double) DatumGetInt64(bytes) / (28.0 + 8.0 * (job->schema->n_inputs + 1));
}

/*
 * The sampling level of the job's first pass: the smallest L with
 * estimated_rows / 2^L at most the sample's aim (STREAM_PROFILE_ROWS, or a
 * quarter of the most a sample of the job's width keeps), so the sample
 * expects half the aim to all of it; 0 (every row, until the state raises
 * the level) without an estimate.
 */
int
stream_profile_level(const StreamJob *job)
{
	double		est = job->distributed ? distributed_rows(job) : (double) job->schema->estimated_rows;
	double		aim = Min((double) STREAM_PROFILE_ROWS,
						  (double) moments_sample_max(job->schema->n_inputs + 1) / 4.0);
	int			level = 0;

	while (est > 0 && est / ldexp(1.0, level) > aim && level < MOMENTS_SAMPLE_MAX_LEVEL)
		level++;
	return level;
}

/* The training profile of the job's model, or NULL when the pass sampled no row. */
Jsonb *
stream_training_profile(StreamJob *job)
{
	Dataset    *schema = job->schema;
	const MomentsData *m = job->m;
	int			p = schema->n_inputs;
	bool		has_y = schema->target != NULL && schema->task != TASK_CLUSTERING;
	MomentsSample s;
	Dataset    *ds;
	int64	   *rows;
	int64		n;

	if (!(m->flags & MOMENTS_HAS_SAMPLE))
		return NULL;
	moments_sample(m, &s);
	n = (int64) *s.count;
	if (n == 0)
		return NULL;
	Assert(s.width == p + 2);

	/* the sample as a Dataset of raw values: the schema's columns, NaN for NULL */
	progress_phase(job->run, "profile");
	ds = palloc(sizeof(Dataset));
	*ds = *schema;
	ds->n_rows = n;
	ds->raw = galaxy_alloc_filled(sizeof(double) * (Size) n * Max(schema->n_raw, 1));
	ds->raw32 = NULL;
	ds->bins = NULL;
	ds->y = has_y ? palloc(sizeof(double) * n) : NULL;
	rows = palloc(sizeof(int64) * n);
	for (int64 r = 0; r < n; r++)
	{
		const float *row = s.rows + (Size) r * s.width;
		double	   *dst = ds->raw + (Size) r * schema->n_raw;

		for (int j = 0; j < p; j++)
			dst[schema->inputs[j].raw_offset] = row[1 + j];
		if (has_y)
			ds->y[r] = row[1 + p];
		rows[r] = r;
	}
	details_int(&job->extra, "profile_sample_rows", n);
	return drift_training_profile(ds, rows, n);
}
