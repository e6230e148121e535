/*
 * trials.h — the trials of a hyperparameter search run in parallel by a
 * background job: a board in dynamic shared memory that holds every trial's
 * hyperparameters and, once scored, its result, and trial workers (dynamic
 * background workers, each connected as the job's owner) that claim trials
 * from it.  The job's own worker claims trials too, then waits for the
 * others and records every trial in galaxy.trials (api/train.c).
 */
#ifndef GALAXY_TRIALS_H
#define GALAXY_TRIALS_H

#include "utils/jsonb.h"

typedef struct TrialBoard TrialBoard;

/* Most trials a board holds, and folds per trial. */
#define TRIALS_MAX_PARALLEL 2000
#define TRIALS_MAX_FOLDS 100

/* A scored (or failed) trial, as the board keeps it. */
typedef struct TrialOutcome
{
	bool		ok;
	double		score;
	double		score_std;
	double		seconds;
	int			n_folds;
	double		fold_scores[TRIALS_MAX_FOLDS];
	Jsonb	   *metrics;		/* NULL when failed */
	char	   *error_message;	/* NULL when ok */
	char	   *sqlstate;
	bool		skipped;		/* over max_parameters: not fitted (ok is false) */
	int64		parameters;		/* the model's parameter count, -1 when not counted */
	double		predict_ms;		/* predict latency per row in ms (mean over folds), NaN if not measured */
} TrialOutcome;

/*
 * Create a board for n_trials trials of a job's request (its
 * train_request_to_jsonb form) and the data fingerprint the trials must be
 * scored on; the caller puts every trial's hyperparameters with
 * trials_put() before launching.
 */
extern TrialBoard *trials_create(int n_trials, int n_folds, Jsonb *request,
								 const char *data_fingerprint, int64 job_id);
extern void trials_put(TrialBoard *b, int t, Jsonb *given);

/*
 * Start up to n trial workers as the current user; returns how many
 * started (0 when no background worker slot is free: the caller runs every
 * trial itself).
 */
extern int	trials_launch(TrialBoard *b, int n);

/* Claim the next unclaimed trial for worker 'who' (0 = the job's own); -1 when none is left. */
extern int	trials_claim(TrialBoard *b, int who);
extern Jsonb *trials_given(TrialBoard *b, int t);
extern void trials_set_result(TrialBoard *b, int t, const TrialOutcome *o);

/*
 * Wait until every trial is scored, or failed because the worker that
 * claimed it ended; reports the number done through progress(arg, done)
 * while it waits.  ERROR on a cancel (the trial workers are stopped).
 */
extern void trials_wait(TrialBoard *b, void (*progress) (void *arg, int done), void *arg);
extern void trials_get_result(TrialBoard *b, int t, TrialOutcome *o);

/* Stop the trial workers (on an error of the job) and forget the board. */
extern void trials_stop(TrialBoard *b);

#endif							/* GALAXY_TRIALS_H */
