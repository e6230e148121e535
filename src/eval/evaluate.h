/*
 * evaluate.h — a model's predictions on the rows of a relation (evaluate.c):
 * what galaxy.evaluate computes its metrics from, and the model card its
 * curves.
 */
#ifndef GALAXY_EVALUATE_H
#define GALAXY_EVALUATE_H

#include "algo/algo.h"
#include "utils/jsonb.h"

/* The rows of a relation a model scored, in the caller's memory context. */
typedef struct EvaluatedRows
{
	int64		model_id;
	GalaxyTask	task;
	int			n_classes;
	int64		n;				/* rows scored */
	double	   *y;				/* target: its value, or its class index */
	double	   *pred;			/* prediction: a value, or a class index */
	double	   *proba;			/* n x n_classes; NULL when the algorithm gives none */
	int64		unknown;		/* rows skipped: a label the model does not know */
	int64		non_finite;		/* rows skipped: a NaN or infinite numeric target */
} EvaluatedRows;

/*
 * Score the rows of relid with a model: inputs are matched by name, the
 * target by the model's target column.  The relation is read as the calling
 * role, who needs read access to the model's project (ERROR 42501) and
 * SELECT on the columns; rows with a NULL target are skipped.  ERROR when no
 * row has a known target, or the model has no target (clustering).
 */
extern void evaluate_relation(int64 model_id, Oid relid, EvaluatedRows *out);

/*
 * galaxy.evaluate's metrics of a model on a relation (evaluate_relation's
 * rows): the task's metrics, "rows" and "model_id".
 */
extern Jsonb *evaluate_model_metrics(int64 model_id, Oid relid);

#endif							/* GALAXY_EVALUATE_H */
