/*
 * search.h — hyperparameter search: the search space (parsed and checked
 * against an algorithm's hyperparameters), the proposals of grid, random and
 * bayesian (tree-structured Parzen estimator) search, the architecture keys
 * of neural architecture search (n_layers / units), the candidates of an
 * auto search (every suitable algorithm), the search objective, and the rows
 * of galaxy.searches and galaxy.trials.  The training pipeline (train.c)
 * runs the trials and refits the best configuration.
 */
#ifndef GALAXY_SEARCH_H
#define GALAXY_SEARCH_H

#include "algo/algo.h"
#include "utils/jsonb.h"

/* Most trials a search may plan (search_trials, or a grid's size). */
#define SEARCH_MAX_TRIALS 10000
/* Trials of a random or bayesian search without search_trials. */
#define SEARCH_DEFAULT_TRIALS 10

typedef struct Search Search;

/*
 * Parse and check a search: strategy ("grid", "random", "bayesian",
 * "halving"), the
 * space against the algorithm's hyperparameters (every list value and range
 * end resolved with the base hyperparameters), the budget (trials <= 0: the
 * default).  ERROR 22023 on anything malformed, 54000 on a grid too large.
 */
extern Search *search_prepare(const AlgorithmDef *algo, const char *strategy, Jsonb *space,
							  int trials, Jsonb *base_hp, int seed);

/* Trials per candidate algorithm of search => 'auto' (search_trials there): default and most. */
#define AUTO_DEFAULT_PER_ALGORITHM 2
#define AUTO_MAX_PER_ALGORITHM 50

/*
 * search => 'auto' (with algorithm => 'auto'): check its arguments up front
 * (ERROR 22023: another strategy without an algorithm, an explicit
 * algorithm, a search_space, too many trials), then, once the task is
 * known, plan it: each candidate algorithm of the task gets per_algo trials
 * (0: the default), its defaults first, then random draws from a small
 * built-in space.  ERROR 0A000 when the task has no candidate.
 */
extern void search_check_auto(const char *algorithm, const char *strategy, Jsonb *space, int trials);
extern Search *search_prepare_auto(GalaxyTask task, int per_algo, int seed);

/* The algorithm trial t fits (an auto search's candidate, or the search's). */
extern const AlgorithmDef *search_trial_algorithm(const Search *s, int t);

/* The space searched: as given, or an auto search's built-in spaces by algorithm. */
extern Jsonb *search_space(const Search *s);

/*
 * search_objective: check it (NULL, "accuracy" or "accuracy_per_ms"; ERROR
 * 22023 otherwise), and the value a scored trial is ranked by: its score, or
 * its score per millisecond of predict latency per row (ERROR 22023 for a
 * metric where lower is better; NaN without a latency).
 */
extern void search_check_objective(const char *objective);
extern double search_objective_value(const char *objective, const char *metric, bool higher_is_better,
									 double score, double predict_ms);

/* A neural trial's architecture hyperparameters as resolved, NULL for other algorithms. */
extern Jsonb *search_architecture(const AlgorithmDef *algo, const HyperParams *hp);

/* Number of trials the search runs. */
extern int	search_budget(const Search *s);

/* Whether a trial's proposal depends on earlier trials' results (bayesian, halving). */
extern bool search_is_sequential(const Search *s);

/*
 * Propose trial t (0-based, in order, after search_observe of every earlier
 * trial): *values gets the searched hyperparameters alone, and the result is
 * the base hyperparameters with them (what the fit resolves).
 */
extern Jsonb *search_propose(Search *s, int t, Jsonb **values);

/*
 * Successive halving (strategy "halving"): whether trial t fits with the
 * algorithm's full settings (always true for the other strategies), its
 * rung (-1 when not halving), the iterations it fits (its budget_param's
 * value; 0 when not halving), and what fitting every configuration in full
 * would take (0 when not halving).
 */
extern bool search_trial_final(const Search *s, int t);
extern int	search_trial_rung(const Search *s, int t);
extern int	search_trial_resource(const Search *s, int t);
extern int64 search_full_resource(const Search *s);

/* Record trial t's outcome: ok = it produced a finite score. */
extern void search_observe(Search *s, int t, bool ok, double score, bool higher_is_better);

/*
 * What a trial's row says beside its scores: the algorithm, a neural
 * architecture (or NULL), the parameter count (-1: not counted), the
 * predict latency per row in ms (NaN: not measured), the value the search
 * ranks it by (NaN: none), and whether it was skipped (over
 * max_parameters: not fitted; counted as skipped, not failed).
 */
typedef struct TrialCosts
{
	const char *algorithm;
	Jsonb	   *architecture;
	int64		parameters;
	double		predict_ms;
	double		objective;
	bool		skipped;
} TrialCosts;

/*
 * Catalog rows (as the extension owner).  A trial's rung is -1 outside a
 * halving search; only a candidate trial (scored with the full settings)
 * can become the search's best.
 */
extern int64 search_insert(const Search *s, int64 project_id, const char *algorithm,
						   const char *strategy, Jsonb *space, const char *metric,
						   bool higher_is_better, int folds, int seed, int64 job_id,
						   const char *objective, int64 max_parameters);
extern void search_record_trial(int64 search_id, int64 project_id, int trial, int rung, bool candidate,
								Jsonb *values,
								bool ok, double score, double score_std,
								const double *fold_scores, int n_folds, Jsonb *metrics,
								double seconds, const char *error_message, const char *sqlstate,
								const TrialCosts *costs);
extern void search_finish(int64 search_id, int64 model_id);

#endif							/* GALAXY_SEARCH_H */
