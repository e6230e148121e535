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

#include "algo/algo.h"
#include "eval/metrics.h"

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
	char	   *search;			/* NULL, "grid", "random", "bayesian" */
	Jsonb	   *search_space;
	int			search_trials;	/* 0 = the strategy's default */
	char	   *search_metric;	/* NULL = the task's key metric */
	char	   *search_objective;	/* NULL = "accuracy", or "accuracy_per_ms" */
	int64		max_parameters; /* 0 = no limit on a trial's parameters */
	int			folds;			/* 0 = none */
	char	   *deploy;			/* "if_better", "always", "never" */
	int			seed;
	int64		job_id;			/* 0 for synchronous train() */
	int64		dataset_id;		/* resolved registered dataset, 0 if none */

	/*
	 * A model made from another one (galaxy.compress 'distill'): registered
	 * as the next patch version of parent_id, with relation_name recorded as
	 * its relation (the rows it was trained on are a temporary table of the
	 * parent's predictions); train_run leaves it 'training' for the caller to
	 * measure and make ready.  0 / NULL for an ordinary training.
	 */
	int64		parent_id;
	char	   *relation_name;
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
	TA_SEARCH_TRIALS,
	TA_SEARCH_METRIC,
	TA_SEARCH_OBJECTIVE,
	TA_MAX_PARAMETERS,
	TA_NARGS
} TrainArg;

/*
 * Build a request from galaxy.train()'s arguments (or submit()'s leading
 * ones): the first ntrain arguments of the call are train()'s (fewer than
 * TA_NARGS from a database not yet updated, whose train() lacks the later
 * ones; they take their defaults).
 */
extern TrainRequest *train_request_from_args(FunctionCallInfo fcinfo, int ntrain);

/* train()'s arguments in 0.1.0 (before search_trials and search_metric). */
#define TA_NARGS_0_1 TA_SEARCH_TRIALS

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
/*
 * What a fit hands to registration (train_run): the in-memory fit
 * (train.c) or the streaming one (scale/stream.c).  The state lives in
 * modelctx; training_profile may be NULL (none stored).
 */
typedef struct FitOutcome
{
	struct Dataset *ds;			/* the schema, task, labels (rows freed) */
	const struct AlgorithmDef *algo;
	HyperParams hp;
	struct Preprocessor *prep;
	void	   *state;
	MemoryContext modelctx;
	MetricSet	ms;
	Jsonb	   *metrics;
	int64		n_train;
	int64		n_test;
	double		fit_seconds;
	Jsonb	   *training_profile;
	int64		search_id;
} FitOutcome;

extern int64 train_run(TrainRequest *req, Datum *row);

/*
 * A trial worker of a parallel search (jobs/trials.c): load and split the
 * request's rows as the job's worker does, check they are the same data
 * (fingerprint, if known), then score trials claimed from the board until
 * none is left.
 */
struct TrialBoard;
extern void train_trials_run(TrainRequest *req, struct TrialBoard *board, int who,
							 const char *fingerprint);

#endif							/* GALAXY_TRAIN_H */
