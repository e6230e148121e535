/*
 * model_card.h — what the two files of galaxy.model_card() share: the Card
 * (what the page knows about its model, and the page itself), the limits of
 * its plots, and the helpers both write with.
 *
 * model_card.c reads the model and the catalog, writes the page's frame and
 * its text sections (header, lineage, metrics, gates, data profile,
 * hyperparameters) and holds the SQL entry points; model_card_plots.c writes
 * the sections that are charts (evaluation, training curve, feature
 * importance).  Every string from users goes through card_put or the
 * util/svg.h functions, which escape it.
 */
#ifndef GALAXY_MODEL_CARD_H
#define GALAXY_MODEL_CARD_H

#include "lib/stringinfo.h"

#include "eval/evaluate.h"
#include "eval/metrics.h"
#include "util/query.h"

/* At most this many feature importances, ROC/PR classes, profile rows. */
#define CARD_TOP_FEATURES 20
#define CARD_MAX_CURVES 10
#define CARD_MAX_PROFILE_ROWS 100
/* Larger confusion matrices are listed, not drawn. */
#define CARD_MAX_HEATMAP_CLASSES 30
/* Points of a scatter plot, and bins of histograms and calibration. */
#define CARD_MAX_SCATTER 2000
#define CARD_RESIDUAL_BINS 30
#define CARD_CALIBRATION_BINS 10

/* What the card knows about its model. */
typedef struct Card
{
	StringInfoData html;
	int64		model_id;
	int64		project_id;
	char	   *project;
	char	   *project_description;
	char	   *version;
	char	   *status;
	char	   *algorithm;
	char	   *task_name;
	GalaxyTask	task;
	char	   *target;
	char	   *label_type;
	char	   *relation;
	int64		dataset_id;
	int64		training_rows;
	int64		test_rows;
	char	   *schema_fp;
	char	   *data_fp;
	char	   *seed;
	int64		size_bytes;
	char	   *trained_by;
	char	   *created_at;
	int64		job_id;
	int64		parent_id;
	char	   *parent_version;
	char	   *imported_from;
	char	   *key_metric;
	char	   *evaluated_on;
	Datum		describe;		/* galaxy.describe() of the model value (jsonb) */
	/* from the model value */
	int			n_classes;
	char	  **labels;
	bool		has_proba;
	int			n_importance;
	char	  **importance_names;
	double	   *importance;
	/* the stored metrics */
	int			n_metrics;
	char	  **metric_names;
	double	   *metric_values;
	/* the scored relation, when one was given */
	Oid			relid;
	char	   *relname;
	bool		scored;
	EvaluatedRows ev;
	MetricSet	ev_metrics;
} Card;

/* A jsonb array at an expression, or an empty one (for jsonb_array_elements). */
#define JSONB_ARRAY(e) "CASE WHEN jsonb_typeof(" e ") = 'array' THEN " e " ELSE '[]' END"
/* A jsonb number at an expression as float8, else NULL. */
#define JSONB_NUM(e) "CASE WHEN jsonb_typeof(" e ") = 'number' THEN (" e ")::float8 END"

/* Escaped text, or a dash for NULL. */
extern void card_put(StringInfo b, const char *s);
/* A note (already HTML) in place of a plot. */
extern void card_note(StringInfo b, const char *html);
/* Open a figure with an id and a caption (both HTML written by galaxy). */
extern void card_figure_open(StringInfo b, const char *id, const char *title);
/* The note that says which relation to pass for plots that need scored rows. */
extern void card_relation_hint(Card *c, const char *what);
/* One read-only catalog statement with the model's id as $1. */
extern QueryResult *card_query(const Card *c, const char *sql, const char *what);
/* One read-only statement over the model's describe() jsonb as $1. */
extern QueryResult *card_describe_query(const Card *c, const char *sql);

/* The chart sections (model_card_plots.c). */
extern void card_evaluation(Card *c);
extern void card_training_curve(Card *c);
extern void card_feature_importance(Card *c);

#endif							/* GALAXY_MODEL_CARD_H */
