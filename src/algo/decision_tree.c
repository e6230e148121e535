/*
 * decision_tree.c — a single CART tree (gini / entropy for classification,
 * squared error for regression) grown on binned features by tree_cart.c.
 *
 * With at most 256 distinct values per feature the histogram tree finds the
 * same splits as exact CART; beyond that the candidate thresholds are the 256
 * quantile bins.  Thresholds sit halfway between the values on either side.
 */
#include "postgres.h"

#include "algo/tree_core.h"

enum
{
	DT_CRITERION,
	DT_MAX_DEPTH,
	DT_MIN_SAMPLES_SPLIT,
	DT_MIN_SAMPLES_LEAF,
	DT_MAX_LEAF_NODES,
	DT_MAX_BINS,
	DT_N_PARAMS
};

static const HyperParamSpec dt_params[DT_N_PARAMS] = {
	{"criterion", HP_ENUM, 0, 0, 0, false, "auto,gini,entropy,squared_error",
	"Split quality: auto = gini (classification) or squared_error (regression)."},
	{"max_depth", HP_INT, 0, 0, 1000, false, NULL,
	"Maximum depth of the tree (0 = unlimited)."},
	{"min_samples_split", HP_INT, 2, 2, 1e9, false, NULL,
	"Minimum rows in a node to split it."},
	{"min_samples_leaf", HP_INT, 1, 1, 1e9, false, NULL,
	"Minimum rows in each leaf."},
	{"max_leaf_nodes", HP_INT, 0, 0, 1e9, false, NULL,
	"Grow best-first up to this many leaves (0 = unlimited; else at least 2)."},
	{"max_bins", HP_INT, 256, 2, 256, false, NULL,
	"Histogram bins per feature."},
};

/* AlgorithmDef.fit for decision_tree. */
static void *
dt_fit(const TrainData *d, const HyperParams *hp, const FitContext *ctx)
{
	CartParams	cp;
	char		buf[64];

	memset(&cp, 0, sizeof(cp));
	cp.criterion = cart_criterion(algo_hp_choice(&galaxy_algo_decision_tree, hp, DT_CRITERION,
												 buf, sizeof(buf)), d->task);
	cp.max_depth = (int) hp->values[DT_MAX_DEPTH];
	cp.min_samples_split = (int) hp->values[DT_MIN_SAMPLES_SPLIT];
	cp.min_samples_leaf = (int) hp->values[DT_MIN_SAMPLES_LEAF];
	cp.max_leaf_nodes = (int) hp->values[DT_MAX_LEAF_NODES];
	cp.max_bins = (int) hp->values[DT_MAX_BINS];
	cp.max_features = d->n_features;
	cp.n_estimators = 1;
	cp.bootstrap = false;
	cp.oob_score = false;
	if (cp.max_leaf_nodes == 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hyperparameter \"max_leaf_nodes\" = 1 is out of range for decision_tree"),
				 errdetail("Allowed: 0 (unlimited) or [2, 1e+09].")));
	return cart_fit(TREE_ALGO_DECISION_TREE, d, &cp, ctx);
}

/* AlgorithmDef.deserialize for decision_tree. */
static void *
dt_deserialize(ModelReader *r, int n_features, int n_classes, GalaxyTask task)
{
	return tree_deserialize_kind(TREE_ALGO_DECISION_TREE, r, n_features, n_classes, task);
}

const AlgorithmDef galaxy_algo_decision_tree = {
	.name = "decision_tree",
	.id = TREE_ALGO_DECISION_TREE,
	.tasks = TASK_BIT(TASK_REGRESSION) | TASK_BIT(TASK_CLASSIFICATION),
	.params = dt_params,
	.n_params = DT_N_PARAMS,
	.default_scaling = false,
	.description = "CART decision tree (gini/entropy or squared error) on histogram bins.",
	.fit = dt_fit,
	.predict = tree_predict,
	.predict_proba = tree_predict_proba,
	.serialize = tree_serialize,
	.deserialize = dt_deserialize,
	.feature_importance = tree_feature_importance,
};
