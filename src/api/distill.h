/*
 * distill.h — galaxy.compress 'distill' (distill.c): a smaller student
 * model trained, through the one training pipeline (train.h train_run), on a
 * teacher model's predictions over the teacher's training relation, and
 * registered as the teacher's next patch version.
 */
#ifndef GALAXY_DISTILL_H
#define GALAXY_DISTILL_H

#include "utils/jsonb.h"

/* What a distillation asks for (galaxy.compress options). */
typedef struct DistillOptions
{
	const char *student;		/* the student's algorithm; NULL: gradient_boosting */
	Jsonb	   *hyperparams;	/* the student's; NULL: its defaults (see distill.c) */
	double		test_size;		/* rows the student's own fit holds out, [0, 1) */
} DistillOptions;

/* The student's algorithm when none is named. */
#define DISTILL_DEFAULT_STUDENT "gradient_boosting"

/*
 * Its hyperparameters when none are given: eight trees of depth 8 are one
 * walk of eight perfect trees side by side per row (tree_predict.c), and
 * with so few rounds a learning rate of 1 fits the teacher's boundary
 * closest (on the benchmark's data, AUC 0.0072 below the 100-tree teacher,
 * against 0.0115 for ten trees at the usual 0.3).
 */
#define DISTILL_DEFAULT_HYPERPARAMS \
	"{\"n_estimators\": 8, \"max_depth\": 8, \"learning_rate\": 1.0}"

/*
 * Train the student of model parent_id (in project project_id) and register
 * it as the parent's next patch version (parent_id set, the parent's
 * relation recorded); returns its id.  The model is still 'training', with
 * the metrics of its own fit (agreement with the teacher on held-out rows):
 * the caller measures it and makes it ready.
 */
extern int64 distill_run(int64 parent_id, int64 project_id, const DistillOptions *opt);

#endif							/* GALAXY_DISTILL_H */
