/*
 * train.h — the one training pipeline: load → preprocess → fit → evaluate →
 * register.  galaxy.train() runs it in the caller's backend; a background
 * worker runs the same function for a queued job.
 */
#ifndef GALAXY_TRAIN_H
#define GALAXY_TRAIN_H

#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef struct TrainRequest
{
	char	   *project;
	Oid			relid;			/* relation to train on (resolved) */
	char	   *dataset;		/* or a registered dataset's name (NULL if relid given) */
	char	   *target;			/* NULL for clustering */
	List	   *features;		/* String nodes; NIL = all but target */
	char	   *algorithm;		/* "auto" or a name */
	char	   *task;			/* NULL = infer */
	Jsonb	   *hyperparams;
	Jsonb	   *preprocess;
	double		test_size;
	char	   *search;			/* NULL, "grid", "random" */
	Jsonb	   *search_space;
	int			folds;			/* 0 = none */
	char	   *deploy;			/* "if_better", "always", "never" */
	int			seed;
	int64		job_id;			/* 0 for synchronous train() */
	int64		dataset_id;		/* resolved registered dataset, 0 if none */
} TrainRequest;

/*
 * Argument positions of galaxy.train(); galaxy.submit() takes the same
 * arguments first and its own (priority, retries, timeout) after them.
 */
typedef enum TrainArg
{
	TA_PROJECT = 0,
	TA_RELATION,
	TA_TARGET,
	TA_ALGORITHM,
	TA_HYPERPARAMS,
	TA_TEST_SIZE,
	TA_SEARCH,
	TA_SEARCH_SPACE,
	TA_FOLDS,
	TA_DEPLOY,
	TA_SEED,
	TA_FEATURES,
	TA_PREPROCESS,
	TA_TASK,
	TA_DATASET,
	TA_NARGS
} TrainArg;

/* Build a request from galaxy.train()'s arguments (or submit()'s leading ones). */
extern TrainRequest *train_request_from_args(FunctionCallInfo fcinfo);

/* The galaxy.models row of a model, as a composite datum for a function result. */


/* Validate a request up front (names, ranges, relation access, algorithm, hyperparameters). */
extern void train_request_validate(TrainRequest *req);
/*
 * Resolve the request's relation, columns, types and privileges without
 * reading rows (and, for task 'nlp', make its text columns text in
 * req->preprocess).
 */
extern void train_request_check_inputs(TrainRequest *req);

/* Serialise a request for the job queue, and back. */
extern Jsonb *train_request_to_jsonb(const TrainRequest *req);
extern TrainRequest *train_request_from_jsonb(Jsonb *j);

/* Run the pipeline in the current transaction; returns the new model's id. */
extern int64 train_run(TrainRequest *req);

#endif							/* GALAXY_TRAIN_H */
