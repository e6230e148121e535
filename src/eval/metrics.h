/*
 * metrics.h — evaluation metrics (regression, classification, clustering).
 */
#ifndef GALAXY_METRICS_H
#define GALAXY_METRICS_H

#include "utils/jsonb.h"

#define GALAXY_MAX_METRICS 32

typedef struct MetricSet
{
	int			n;
	const char *names[GALAXY_MAX_METRICS];
	double		values[GALAXY_MAX_METRICS];
	/* classification: k x k confusion matrix (row = true class, col = predicted) */
	int			n_classes;
	int64	   *confusion;
	/* clustering: rows per cluster of the evaluated rows */
	int			n_clusters;
	int64	   *cluster_sizes;
} MetricSet;

extern void metrics_init(MetricSet *m);
extern void metrics_add(MetricSet *m, const char *name, double value);
/* Value of a named metric, or NaN. */
extern double metrics_get(const MetricSet *m, const char *name);

/* mae, mse, rmse, r2, explained_variance, median_absolute_error */
extern void metrics_regression(const double *y, const double *pred, int64 n, MetricSet *out);
/* mse, rmse, r2, explained_variance from sums (no row-wise metric). */
extern void metrics_regression_sums(double n, double sse, double sum_resid, double ss_tot,
									MetricSet *out);

/*
 * accuracy, balanced_accuracy, precision/recall/f1 (macro and weighted),
 * log_loss, roc_auc (binary; one-vs-rest macro for multiclass), confusion matrix.
 * y and pred hold class indexes; proba is n x k (may be NULL: no log_loss/auc).
 */
extern void metrics_classification(const double *y, const double *pred, const double *proba,
								   int64 n, int k, MetricSet *out);

/* The counted part of metrics_classification, from per-class counts. */
extern void metrics_classification_counts(const int64 *support, const int64 *predicted,
										  const int64 *tp, int64 n, int k, MetricSet *out);

/*
 * inertia (to each cluster's mean), silhouette on a sample, Davies-Bouldin
 * and the cluster sizes; assign holds cluster indexes 0..k-1.
 */
extern void metrics_clustering(const double *X, int64 n, int p, const double *assign,
							   int k, uint64 seed, MetricSet *out);

/* ROC curve points for a binary score: arrays of fpr, tpr, thresholds (palloc'd). */
extern int	metrics_roc_curve(const double *y_is_pos, const double *score, int64 n,
							  double **fpr, double **tpr, double **thresholds);

/* {"accuracy": 0.95, ..., "confusion_matrix": [[..],[..]]} */
extern Jsonb *metrics_to_jsonb(const MetricSet *m, Jsonb *extra);

/* The key metric of a task and whether larger is better. */
extern const char *metrics_key(int task, bool *higher_is_better);

/* Whether a smaller value of the named metric is better (errors, losses, inertia). */
extern bool metrics_lower_is_better(const char *name);

#endif							/* GALAXY_METRICS_H */
