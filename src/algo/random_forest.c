/*
 * random_forest.c — bagged CART trees with per-split feature sampling
 * (Breiman), grown in parallel by tree_cart.c.  Classification averages the
 * trees' class distributions, regression their values; the out-of-bag score
 * (accuracy or R²) is computed while fitting.
 */
#include "postgres.h"

#include <math.h>

#include "algo/tree_core.h"

enum
{
	RF_N_ESTIMATORS,
	RF_CRITERION,
	RF_MAX_DEPTH,
	RF_MIN_SAMPLES_SPLIT,
	RF_MIN_SAMPLES_LEAF,
	RF_MAX_LEAF_NODES,
	RF_MAX_FEATURES,
	RF_MAX_FEATURES_FRACTION,
	RF_BOOTSTRAP,
	RF_OOB_SCORE,
	RF_MAX_BINS,
	RF_N_PARAMS
};

static const HyperParamSpec rf_params[RF_N_PARAMS] = {
	{"n_estimators", HP_INT, 100, 1, 10000, false, NULL,
	"Number of trees."},
	{"criterion", HP_ENUM, 0, 0, 0, false, "auto,gini,entropy,squared_error",
	"Split quality: auto = gini (classification) or squared_error (regression)."},
	{"max_depth", HP_INT, 0, 0, 1000, false, NULL,
	"Maximum depth of each tree (0 = unlimited)."},
	{"min_samples_split", HP_INT, 2, 2, 1e9, false, NULL,
	"Minimum rows in a node to split it."},
	{"min_samples_leaf", HP_INT, 1, 1, 1e9, false, NULL,
	"Minimum rows in each leaf."},
	{"max_leaf_nodes", HP_INT, 0, 0, 1e9, false, NULL,
	"Grow each tree best-first up to this many leaves (0 = unlimited; else at least 2)."},
	{"max_features", HP_ENUM, 0, 0, 0, false, "auto,sqrt,log2,all",
	"Features tried per split: auto = sqrt (classification) or all (regression)."},
	{"max_features_fraction", HP_FLOAT, 1, 0, 1, true, NULL,
	"Fraction of the features tried per split; overrides max_features when given."},
	{"bootstrap", HP_BOOL, 1, 0, 1, false, NULL,
	"Grow each tree on a bootstrap sample of the rows."},
	{"oob_score", HP_BOOL, 1, 0, 1, false, NULL,
	"Compute the out-of-bag score (needs bootstrap)."},
	{"max_bins", HP_INT, 256, 2, 256, false, NULL,
	"Histogram bins per feature."},
};

/* AlgorithmDef.fit for random_forest. */
static void *
rf_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	CartParams	cp;
	char		buf[64];
	const char *mf;
	int			p = d->n_features;

	memset(&cp, 0, sizeof(cp));
	cp.criterion = cart_criterion(algo_hp_choice(&galaxy_algo_random_forest, hp, RF_CRITERION,
												 buf, sizeof(buf)), d->task);
	cp.n_estimators = (int) hp->values[RF_N_ESTIMATORS];
	cp.max_depth = (int) hp->values[RF_MAX_DEPTH];
	cp.min_samples_split = (int) hp->values[RF_MIN_SAMPLES_SPLIT];
	cp.min_samples_leaf = (int) hp->values[RF_MIN_SAMPLES_LEAF];
	cp.max_leaf_nodes = (int) hp->values[RF_MAX_LEAF_NODES];
	cp.bootstrap = hp->values[RF_BOOTSTRAP] != 0;
	cp.oob_score = cp.bootstrap && hp->values[RF_OOB_SCORE] != 0;
	cp.max_bins = (int) hp->values[RF_MAX_BINS];
	if (cp.max_leaf_nodes == 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparameter \"max_leaf_nodes\" = 1 is out of range for random_forest"),
				 errdetail("Allowed: 0 (unlimited) or [2, 1e+09].")));
	if (hp->given[RF_OOB_SCORE] && hp->values[RF_OOB_SCORE] != 0 && !cp.bootstrap)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("oob_score needs bootstrap"),
				 errhint("Set \"bootstrap\": true, or drop \"oob_score\".")));

	/* features per split */
	if (hp->given[RF_MAX_FEATURES_FRACTION])
	{
		if (hp->given[RF_MAX_FEATURES])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("give either max_features or max_features_fraction, not both")));
		cp.max_features = (int) (hp->values[RF_MAX_FEATURES_FRACTION] * p);
	}
	else
	{
		mf = algo_hp_choice(&galaxy_algo_random_forest, hp, RF_MAX_FEATURES, buf, sizeof(buf));
		if (strcmp(mf, "auto") == 0)
			mf = (d->task == TASK_CLASSIFICATION) ? "sqrt" : "all";
		if (strcmp(mf, "sqrt") == 0)
			cp.max_features = (int) sqrt((double) p);
		else if (strcmp(mf, "log2") == 0)
			cp.max_features = (int) log2((double) p);
		else
			cp.max_features = p;
	}
	cp.max_features = Max(1, Min(cp.max_features, p));
	return cart_fit(TREE_ALGO_RANDOM_FOREST, d, &cp, ctx);
}

/* AlgorithmDef.deserialize for random_forest. */
static void *
rf_deserialize(ModelReader *r, int n_features, int n_classes, GalaxyTask task)
{
	return tree_deserialize_kind(TREE_ALGO_RANDOM_FOREST, r, n_features, n_classes, task);
}

/* The out-of-bag score, when the forest computed one. */
static void
rf_fit_metrics(const void *state, void (*add) (const char *name, double value, void *arg), void *arg)
{
	double		oob = tree_oob_score(state);

	if (!isnan(oob))
		add("oob_score", oob, arg);
}

const AlgorithmDef galaxy_algo_random_forest = {
	.name = "random_forest",
	.id = TREE_ALGO_RANDOM_FOREST,
	.tasks = TASK_BIT(TASK_REGRESSION) | TASK_BIT(TASK_CLASSIFICATION),
	.params = rf_params,
	.n_params = RF_N_PARAMS,
	.default_scaling = false,
	.binned_input = true,
	.description = "Random forest of CART trees (bootstrap, feature sampling, out-of-bag score).",
	.fit = rf_fit,
	.predict = tree_predict,
	.predict_proba = tree_predict_proba,
	.serialize = tree_serialize,
	.deserialize = rf_deserialize,
	.feature_importance = tree_feature_importance,
	.fit_metrics = rf_fit_metrics,
	.budget_param = "n_estimators",
};
