/*
 * stream_profile.c — the training profile (the drift baseline, see
 * monitor/drift.h) of a streamed model, from a sample of the relation's
 * blocks.
 *
 * A streamed fit never holds the rows, but galaxy.drift() needs their
 * percentiles and category counts.  As a large table loaded as bin codes
 * does (data/loader.c), the profile is fitted on a sample: here
 *     SELECT x1::float8, ..., target FROM relation
 *       TABLESAMPLE SYSTEM (pct) REPEATABLE (seed) WHERE target IS NOT NULL
 * read as the calling role, about STREAM_PROFILE_ROWS rows from whole
 * blocks chosen by the seed (reading only those blocks), held-out rows
 * included.  Relations that cannot be sampled so (views, foreign and
 * distributed tables) get no profile, as before: galaxy.drift() on such a
 * model takes a baseline relation.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

#include "galaxy.h"
#include "monitor/drift.h"
#include "registry/audit.h"
#include "scale/stream.h"
#include "util/query.h"

/* Rows the sample aims at: enough for percentiles p0 ... p100 of every column */
#define STREAM_PROFILE_ROWS		8000

/* The training profile of the job's model, or NULL when its relation cannot be sampled. */
Jsonb *
stream_training_profile(StreamJob *job)
{
	Dataset    *schema = job->schema;
	char		relkind = get_rel_relkind(job->req->relid);
	int			p = schema->n_inputs;
	bool		has_y = schema->target != NULL && schema->task != TASK_CLUSTERING;
	double		est = (double) schema->estimated_rows;
	double		pct;
	char	   *sql;
	QueryResult *qr;
	Dataset    *ds;
	int64	   *rows;
	int64		m = 0;

	if (job->distributed ||
		(relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW && relkind != RELKIND_PARTITIONED_TABLE))
		return NULL;
	/* a percentage of the blocks: every block of a small table, or of one without statistics */
	pct = est > 0 ? Min(100.0, 100.0 * 1.2 * STREAM_PROFILE_ROWS / est) : 100.0;
	sql = psprintf("SELECT 0%s%s FROM %s TABLESAMPLE SYSTEM (%.17g) REPEATABLE (%d)%s%s",
				   stream_feature_list(job, true),
				   has_y ? psprintf(", (%s)::float8", job->yexpr) : "",
				   job->relation, pct, job->req->seed,
				   has_y ? psprintf(" WHERE (%s) IS NOT NULL", job->yexpr) : "",
				   pct < 100.0 ? "" : psprintf(" LIMIT %d", 4 * STREAM_PROFILE_ROWS));
	progress_phase(job->run, "profile");
	qr = user_query(sql, 0, NULL, NULL, NULL, true, 0, SPI_OK_SELECT, "sample the relation for the drift profile");
	if (qr->nrows == 0)
		return NULL;

	/* the sample as a Dataset of raw values: the schema's columns, NaN for NULL */
	ds = palloc(sizeof(Dataset));
	*ds = *schema;
	ds->n_rows = (int64) qr->nrows;
	ds->raw = galaxy_alloc_filled(sizeof(double) * (Size) qr->nrows * Max(schema->n_raw, 1));
	ds->raw32 = NULL;
	ds->bins = NULL;
	ds->y = has_y ? palloc(sizeof(double) * qr->nrows) : NULL;
	rows = palloc(sizeof(int64) * qr->nrows);
	for (uint64 r = 0; r < qr->nrows; r++)
	{
		double	   *dst = ds->raw + (Size) m * schema->n_raw;
		bool		isnull;

		for (int j = 0; j < p; j++)
		{
			Datum		v = heap_getattr(qr->rows[r], j + 2, qr->tupdesc, &isnull);

			dst[schema->inputs[j].raw_offset] = isnull ? get_float8_nan() : DatumGetFloat8(v);
		}
		if (has_y)
		{
			Datum		v = heap_getattr(qr->rows[r], p + 2, qr->tupdesc, &isnull);

			if (isnull)
				continue;
			ds->y[m] = DatumGetFloat8(v);
		}
		rows[m] = m;
		m++;
	}
	if (m == 0)
		return NULL;
	details_int(&job->extra, "profile_sample_rows", m);
	return drift_training_profile(ds, rows, m);
}
