/*
 * model_latency.h — single-row predict latency of a registered model,
 * measured by galaxy itself in this backend (model_latency.c): what the
 * deployment gates on predict_p50_ms and predict_p99_ms compare.
 */
#ifndef GALAXY_MODEL_LATENCY_H
#define GALAXY_MODEL_LATENCY_H

/* Rows a measurement times (fewer when the relation has fewer). */
#define MODEL_LATENCY_SAMPLE_ROWS 200

typedef struct ModelLatency
{
	double		p50_ms;			/* median of the per-row times, milliseconds */
	double		p99_ms;			/* 99th percentile (nearest rank) */
	int			rows;			/* rows timed */
	bool		synthetic;		/* timed on synthetic rows, not the relation's */
} ModelLatency;

/*
 * Time single-row predicts with a registered model (any status, 'training'
 * included), as the calling role: each sample row is one execution of the
 * prepared statement galaxy.predict(model, row) becomes for a table row
 * (galaxy.predict_columns), timed alone — the executor, galaxy.predict's
 * per-call work, preprocessing and the algorithm; not parsing and planning
 * (once), the network or the client.  A few executions first warm the model
 * cache and are not counted.  The rows are the first
 * MODEL_LATENCY_SAMPLE_ROWS rows of the model's training relation whose
 * target is not NULL.  When that relation is gone, unreadable by the caller
 * or no longer has the model's input columns with their types (and for
 * imported models, which have none), the rows are synthetic: every numeric
 * and array input 0, every categorical input its first category.
 *
 * Returns false, after a NOTICE saying why, when the statement fails (e.g.
 * the caller may not predict with the model): the measurement runs in a
 * subtransaction, so a failure never aborts the caller.  A cancel is not
 * swallowed.
 */
extern bool model_latency_measure(int64 model_id, ModelLatency *out);

#endif							/* GALAXY_MODEL_LATENCY_H */
