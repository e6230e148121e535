/*
 * model_card.c — galaxy.model_card(): one self-contained HTML page about a
 * model, for people.
 *
 * The page holds the model's identity and lineage (project, version,
 * parent, dataset, fingerprints, job, approvals, deployments), its metrics
 * (and gate results when galaxy.gate_results exists), task-specific plots,
 * the training curve, feature importance, the data profile and the
 * hyperparameters.  Plots are inline SVG (util/svg.h); the CSS is inline;
 * there are no scripts and nothing that loads from anywhere, and a
 * Content-Security-Policy says so to the browser.  Every string that comes
 * from users (project, columns, labels, notes) is HTML-escaped.
 *
 * galaxy keeps no per-row predictions, so curves that need them (ROC,
 * precision-recall, calibration; predicted vs actual and residuals) are
 * drawn when the caller passes a relation to score: evaluate_relation
 * (eval/evaluate.h) reads it with the caller's privileges, as
 * galaxy.evaluate does.  The catalog is read as the extension owner after
 * the caller's read access to the project is checked.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "eval/evaluate.h"
#include "eval/metrics.h"
#include "model/model_cache.h"
#include "registry/access.h"
#include "registry/deploy.h"
#include "registry/versions.h"
#include "util/query.h"
#include "util/svg.h"

PG_FUNCTION_INFO_V1(galaxy_model_card);
PG_FUNCTION_INFO_V1(galaxy_model_card_project);

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

/* How timestamps are shown. */
#define TS(col) "to_char(" col ", 'YYYY-MM-DD HH24:MI:SSOF')"

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

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------
 */

/* Escaped text, or a dash for NULL. */
static void
put(StringInfo b, const char *s)
{
	if (s == NULL)
		appendStringInfoString(b, "&mdash;");
	else
		html_escape(b, s);
}

/* A definition-list row whose value is escaped text. */
static void
fact(StringInfo b, const char *label, const char *value)
{
	appendStringInfo(b, "<dt>%s</dt><dd>", label);
	put(b, value);
	appendStringInfoString(b, "</dd>");
}

/* A byte count for people. */
static char *
bytes_text(int64 n)
{
	if (n < 0)
		return NULL;
	if (n < 1024)
		return psprintf(INT64_FORMAT " B", n);
	if (n < 1024 * 1024)
		return psprintf("%.1f kB", n / 1024.0);
	return psprintf("%.1f MB", n / (1024.0 * 1024.0));
}

/* Elements of a float8[] column of a result row (NULL elements as NaN). */
static int
float8_array(QueryResult *r, uint64 row, int col, double **out)
{
	Datum	   *elems;
	bool	   *nulls;
	bool		isnull;
	Datum		d = query_datum(r, row, col, &isnull);
	int			n;

	*out = NULL;
	if (isnull)
		return 0;
	deconstruct_array(DatumGetArrayTypeP(d), FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &n);
	*out = palloc(sizeof(double) * Max(n, 1));
	for (int i = 0; i < n; i++)
		(*out)[i] = nulls[i] ? NAN : DatumGetFloat8(elems[i]);
	return n;
}

/* Elements of a text[] column of a result row (NULL elements as NULL). */
static int
text_array(QueryResult *r, uint64 row, int col, char ***out)
{
	Datum	   *elems;
	bool	   *nulls;
	bool		isnull;
	Datum		d = query_datum(r, row, col, &isnull);
	int			n;

	*out = NULL;
	if (isnull)
		return 0;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	*out = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		(*out)[i] = nulls[i] ? NULL : TextDatumGetCString(elems[i]);
	return n;
}

/* One read-only catalog statement with the model id as $1. */
static QueryResult *
card_query(const Card *c, const char *sql, const char *what)
{
	return catalog_query(sql, 1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(c->model_id)},
						 NULL, true, 0, SPI_OK_SELECT, what);
}

/* One read-only statement over the model's describe() jsonb as $1. */
static QueryResult *
describe_query(const Card *c, const char *sql)
{
	return catalog_query(sql, 1, (Oid[]) {JSONBOID}, (Datum[]) {c->describe},
						 NULL, true, 0, SPI_OK_SELECT, "read a model description");
}

/* A jsonb array at an expression, or an empty one (for jsonb_array_elements). */
#define JSONB_ARRAY(e) "CASE WHEN jsonb_typeof(" e ") = 'array' THEN " e " ELSE '[]' END"
/* A jsonb number at an expression as float8, else NULL. */
#define JSONB_NUM(e) "CASE WHEN jsonb_typeof(" e ") = 'number' THEN (" e ")::float8 END"

/* A note in place of a plot. */
static void
note(StringInfo b, const char *html)
{
	appendStringInfo(b, "<p class=\"note\">%s</p>", html);
}

/* Open a figure with a heading. */
static void
figure_open(StringInfo b, const char *id, const char *title)
{
	appendStringInfo(b, "<figure id=\"%s\"><figcaption class=\"fig-title\">%s</figcaption>", id, title);
}

/* The hint to pass a relation, for plots that need scored rows. */
static void
relation_hint(Card *c, const char *what)
{
	StringInfo	b = &c->html;

	appendStringInfo(b, "<p class=\"note\">galaxy keeps no per-row predictions: pass a relation with "
					 "the model's inputs and its target column <code>");
	put(b, c->target);
	appendStringInfo(b, "</code> to draw %s, e.g. <code>SELECT galaxy.model_card(" INT64_FORMAT
					 ", 'held_out_rows');</code></p>", what, c->model_id);
}

/* ------------------------------------------------------------------------
 * Reading the model
 * ------------------------------------------------------------------------
 */

/* The model's catalog row and project; ERROR when it does not exist. */
static void
card_load_model(Card *c)
{
	QueryResult *r;
	bool		isnull;

	r = card_query(c,
				   "SELECT m.project_id, p.name, p.description, m.version, m.status, m.algorithm, m.task,"
				   "       m.target, m.label_type, m.relation, m.dataset_id, m.training_rows, m.test_rows,"
				   "       m.schema_fingerprint, m.data_fingerprint, m.seed::text, m.size_bytes, m.trained_by::text,"
				   "       " TS("m.created_at") ", m.job_id, m.parent_id, pm.version,"
				   "       m.imported_from::text, p.key_metric, m.metrics->>'evaluated_on', m.model IS NOT NULL"
				   "  FROM galaxy.models m JOIN galaxy.projects p ON p.id = m.project_id"
				   "  LEFT JOIN galaxy.models pm ON pm.id = m.parent_id"
				   " WHERE m.id = $1",
				   "read galaxy.models");
	if (r->nrows != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model " INT64_FORMAT " does not exist", c->model_id)));
	c->project_id = query_int64(r, 0, 1, 0);
	/* nothing about the model for a role that may not read its project */
	registry_check_model_access(c->project_id, c->model_id, "read");

	c->project = query_text(r, 0, 2);
	c->project_description = query_text(r, 0, 3);
	c->version = query_text(r, 0, 4);
	c->status = query_text(r, 0, 5);
	c->algorithm = query_text(r, 0, 6);
	c->task_name = query_text(r, 0, 7);
	c->task = strcmp(c->task_name, "regression") == 0 ? TASK_REGRESSION :
		strcmp(c->task_name, "classification") == 0 ? TASK_CLASSIFICATION : TASK_CLUSTERING;
	c->target = query_text(r, 0, 8);
	c->label_type = query_text(r, 0, 9);
	c->relation = query_text(r, 0, 10);
	c->dataset_id = query_int64(r, 0, 11, 0);
	c->training_rows = query_int64(r, 0, 12, -1);
	c->test_rows = query_int64(r, 0, 13, -1);
	c->schema_fp = query_text(r, 0, 14);
	c->data_fp = query_text(r, 0, 15);
	c->seed = query_text(r, 0, 16);
	c->size_bytes = query_int64(r, 0, 17, -1);
	c->trained_by = query_text(r, 0, 18);
	c->created_at = query_text(r, 0, 19);
	c->job_id = query_int64(r, 0, 20, 0);
	c->parent_id = query_int64(r, 0, 21, 0);
	c->parent_version = query_text(r, 0, 22);
	c->imported_from = query_text(r, 0, 23);
	c->key_metric = query_text(r, 0, 24);
	c->evaluated_on = query_text(r, 0, 25);
	if (!query_bool(r, 0, 26, false))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model " INT64_FORMAT " has no trained value yet", c->model_id)));

	r = card_query(c, "SELECT galaxy.describe(model) FROM galaxy.models WHERE id = $1",
				   "describe the model");
	c->describe = query_datum(r, 0, 1, &isnull);

	r = card_query(c,
				   "SELECT e.key, e.value::float8 FROM galaxy.models m, jsonb_each(m.metrics) e"
				   " WHERE m.id = $1 AND jsonb_typeof(e.value) = 'number' ORDER BY e.key",
				   "read the model's metrics");
	c->n_metrics = (int) r->nrows;
	c->metric_names = palloc(sizeof(char *) * Max(c->n_metrics, 1));
	c->metric_values = palloc(sizeof(double) * Max(c->n_metrics, 1));
	for (int i = 0; i < c->n_metrics; i++)
	{
		c->metric_names[i] = query_text(r, i, 1);
		c->metric_values[i] = query_float8(r, i, 2, NAN);
	}
	if (c->key_metric == NULL)
		c->key_metric = pstrdup(metrics_key(c->task, NULL));
}

/* Labels, probabilities and feature importance from the parsed model. */
static void
card_load_value(Card *c)
{
	CachedModel *cm;
	GalaxyModel *m;

	model_cache_ensure();
	cm = model_cache_get(c->model_id);
	m = cm->m;
	c->n_classes = m->n_classes;
	c->labels = palloc(sizeof(char *) * Max(m->n_classes, 1));
	for (int k = 0; k < m->n_classes; k++)
		c->labels[k] = pstrdup(m->labels[k]);
	c->has_proba = m->algo->predict_proba != NULL;
	if (m->algo->feature_importance)
	{
		c->n_importance = m->n_features;
		c->importance = palloc0(sizeof(double) * Max(m->n_features, 1));
		c->importance_names = palloc(sizeof(char *) * Max(m->n_features, 1));
		m->algo->feature_importance(m->state, c->importance);
		for (int j = 0; j < m->n_features; j++)
			c->importance_names[j] = pstrdup(preprocess_feature_name(m->prep, j));
	}
	else
		c->n_importance = -1;
}

/* Score the relation the caller passed (classification and regression). */
static void
card_score(Card *c)
{
	c->relname = get_rel_name(c->relid) ?
		quote_qualified_identifier(get_namespace_name(get_rel_namespace(c->relid)),
								   get_rel_name(c->relid)) : NULL;
	if (c->task == TASK_CLUSTERING)
		return;
	evaluate_relation(c->model_id, c->relid, &c->ev);
	metrics_init(&c->ev_metrics);
	if (c->ev.task == TASK_REGRESSION)
		metrics_regression(c->ev.y, c->ev.pred, c->ev.n, &c->ev_metrics);
	else
		metrics_classification(c->ev.y, c->ev.pred, c->ev.proba, c->ev.n, c->ev.n_classes,
							   &c->ev_metrics);
	c->scored = true;
}

/* The stored metric of that name, or NaN. */
static double
stored_metric(const Card *c, const char *name)
{
	for (int i = 0; i < c->n_metrics; i++)
		if (strcmp(c->metric_names[i], name) == 0)
			return c->metric_values[i];
	return NAN;
}

/* ------------------------------------------------------------------------
 * The page
 * ------------------------------------------------------------------------
 */

static const char card_css[] =
	":root{--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f3f5f8;--accent:#2563eb}"
	"*{box-sizing:border-box}"
	"body{margin:0;background:var(--bg);color:var(--ink);"
	"font:14px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}"
	"main{max-width:1140px;margin:0 auto;padding:24px}"
	".hero{background:linear-gradient(135deg,#1e3a8a 0%,#2563eb 55%,#0891b2 100%);color:#fff;"
	"border-radius:16px;padding:28px 32px;display:flex;flex-wrap:wrap;gap:24px;justify-content:space-between;"
	"box-shadow:0 6px 24px rgba(30,58,138,.25)}"
	".eyebrow{text-transform:uppercase;letter-spacing:.12em;font-size:11px;opacity:.8}"
	".hero h1{margin:4px 0 6px;font-size:32px;line-height:1.15;word-break:break-word}"
	".hero .ver{font-size:18px;font-weight:500;opacity:.85;margin-left:8px}"
	".hero p{margin:4px 0;opacity:.95}"
	".badges{margin-top:12px;display:flex;flex-wrap:wrap;gap:8px}"
	".badge{display:inline-block;padding:3px 12px;border-radius:999px;font-size:12px;font-weight:600;"
	"background:rgba(255,255,255,.18);color:#fff}"
	".badge.live{background:#22c55e;color:#052e16}.badge.canary{background:#fbbf24;color:#422006}"
	".badge.archived{background:#94a3b8;color:#0f172a}"
	".kpis{display:flex;gap:12px;flex-wrap:wrap;align-items:stretch}"
	".kpi{background:rgba(255,255,255,.14);border-radius:12px;padding:12px 16px;min-width:130px}"
	".kpi .v{font-size:26px;font-weight:700;line-height:1.2}.kpi .k{font-size:12px;opacity:.85}"
	".kpi.main{background:#fff;color:var(--ink)}.kpi.main .v{color:var(--accent)}"
	"nav.toc{margin:16px 0 0;display:flex;flex-wrap:wrap;gap:6px 14px;font-size:13px}"
	"nav.toc a{color:var(--accent);text-decoration:none}"
	"section{background:#fff;border:1px solid var(--line);border-radius:14px;padding:20px 24px;margin-top:18px}"
	"h2{font-size:18px;margin:0 0 4px}.lead{color:var(--muted);margin:0 0 14px}"
	"h3{font-size:14px;margin:14px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em}"
	".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:18px 28px}"
	".grid.two{grid-template-columns:repeat(auto-fit,minmax(420px,1fr))}"
	"dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}"
	"dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}"
	"table{border-collapse:collapse;width:100%;font-size:13px}"
	"th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}"
	"th{color:var(--muted);font-weight:600;font-size:12px;background:#f8fafc}"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
	"tr.main td{background:#eff6ff;font-weight:700}tr.main td:first-child{box-shadow:inset 3px 0 0 var(--accent)}"
	".pill{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;background:#e2e8f0}"
	".pill.passed{background:#dcfce7;color:#166534}.pill.failed,.pill.missing{background:#fee2e2;color:#991b1b}"
	".pill.not_measured,.pill.pending{background:#fef3c7;color:#92400e}.pill.approved,.pill.used{background:#dcfce7;color:#166534}"
	".pill.rejected,.pill.expired{background:#fee2e2;color:#991b1b}"
	"figure{margin:0}.fig-title{font-weight:600;margin:0 0 6px}"
	"svg{max-width:100%;height:auto;display:block}"
	".note{color:var(--muted);background:#f8fafc;border:1px dashed #cbd2d9;border-radius:10px;padding:10px 14px;margin:8px 0;align-self:start}"
	"code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;background:#f1f5f9;"
	"padding:1px 5px;border-radius:4px;overflow-wrap:anywhere}"
	".muted{color:var(--muted)}.small{font-size:12px}"
	"footer{color:var(--muted);font-size:12px;text-align:center;margin:22px 0 8px}"
	"@media print{body{background:#fff}section,.hero{break-inside:avoid;box-shadow:none}}";

/* Whether a stored metric describes the run (sizes and times), not quality. */
static bool
is_run_metric(const char *name)
{
	size_t		len = strlen(name);

	if ((len > 8 && strcmp(name + len - 8, "_seconds") == 0) ||
		(len > 3 && strcmp(name + len - 3, "_ms") == 0) ||
		(len > 5 && strcmp(name + len - 5, "_rows") == 0))
		return true;
	return strcmp(name, "epochs_trained") == 0 || strcmp(name, "best_epoch") == 0;
}

/* The header: who, what, how good, and whether it serves. */
static void
card_header(Card *c)
{
	StringInfo	b = &c->html;
	QueryResult *r;
	double		key = stored_metric(c, c->key_metric);
	char	   *size = bytes_text(c->size_bytes);
	double		fit = stored_metric(c, "fit_seconds");

	appendStringInfoString(b, "<header class=\"hero\"><div><div class=\"eyebrow\">galaxy model card</div><h1>");
	put(b, c->project);
	appendStringInfoString(b, "<span class=\"ver\">v");
	put(b, c->version);
	appendStringInfoString(b, "</span></h1><p>");
	put(b, c->algorithm);
	appendStringInfoString(b, " &middot; ");
	put(b, c->task_name);
	appendStringInfo(b, " &middot; model #" INT64_FORMAT, c->model_id);
	if (c->target)
	{
		appendStringInfoString(b, " &middot; predicts <b>");
		put(b, c->target);
		appendStringInfoString(b, "</b>");
	}
	appendStringInfoString(b, "</p>");
	if (c->project_description)
	{
		appendStringInfoString(b, "<p>");
		put(b, c->project_description);
		appendStringInfoString(b, "</p>");
	}

	/* serving now? */
	appendStringInfoString(b, "<div class=\"badges\">");
	r = card_query(c,
				   "SELECT traffic, " TS("deployed_at") " FROM galaxy.deployments"
				   " WHERE model_id = $1 AND retired_at IS NULL ORDER BY traffic DESC LIMIT 1",
				   "read galaxy.deployments");
	if (r->nrows == 1 && query_float8(r, 0, 1, 0) >= 1.0)
	{
		appendStringInfoString(b, "<span class=\"badge live\">deployed &middot; primary since ");
		put(b, query_text(r, 0, 2));
		appendStringInfoString(b, "</span>");
	}
	else if (r->nrows == 1)
	{
		appendStringInfo(b, "<span class=\"badge canary\">canary &middot; %.0f%% of traffic since ",
						 query_float8(r, 0, 1, 0) * 100);
		put(b, query_text(r, 0, 2));
		appendStringInfoString(b, "</span>");
	}
	else
	{
		appendStringInfo(b, "<span class=\"badge%s\">not deployed &middot; ",
						 strcmp(c->status, "archived") == 0 ? " archived" : "");
		put(b, c->status);
		appendStringInfoString(b, "</span>");
	}
	appendStringInfoString(b, "<span class=\"badge\">trained by ");
	put(b, c->trained_by);
	appendStringInfoString(b, " on ");
	put(b, c->created_at);
	appendStringInfoString(b, "</span></div></div>");

	/* key figures */
	appendStringInfoString(b, "<div class=\"kpis\"><div class=\"kpi main\"><div class=\"v\">");
	html_number(b, key);
	appendStringInfoString(b, "</div><div class=\"k\">");
	put(b, c->key_metric);
	appendStringInfo(b, " (%s)</div></div>",
					 c->evaluated_on && strcmp(c->evaluated_on, "training") == 0 ? "training rows" : "held-out");
	appendStringInfoString(b, "<div class=\"kpi\"><div class=\"v\">");
	html_number(b, c->training_rows >= 0 ? (double) c->training_rows : NAN);
	appendStringInfoString(b, "</div><div class=\"k\">training rows</div></div>");
	appendStringInfoString(b, "<div class=\"kpi\"><div class=\"v\">");
	html_number(b, c->test_rows >= 0 ? (double) c->test_rows : NAN);
	appendStringInfoString(b, "</div><div class=\"k\">held-out rows</div></div>");
	if (size)
		appendStringInfo(b, "<div class=\"kpi\"><div class=\"v\">%s</div><div class=\"k\">stored size</div></div>", size);
	if (isfinite(fit))
		appendStringInfo(b, "<div class=\"kpi\"><div class=\"v\">%.3g %s</div><div class=\"k\">fit time</div></div>",
						 fit < 1 ? fit * 1000 : fit, fit < 1 ? "ms" : "s");
	appendStringInfoString(b, "</div></header>");
}

/* Table of contents (in-page links only). */
static void
card_toc(Card *c)
{
	appendStringInfoString(&c->html,
						   "<nav class=\"toc\"><a href=\"#lineage\">Lineage</a><a href=\"#metrics\">Metrics</a>"
						   "<a href=\"#evaluation\">Evaluation</a><a href=\"#training-curve\">Training curve</a>"
						   "<a href=\"#feature-importance\">Feature importance</a><a href=\"#data-profile\">Data profile</a>"
						   "<a href=\"#hyperparameters\">Hyperparameters</a></nav>");
}

/* Training facts, lineage, deployments and approvals. */
static void
card_lineage(Card *c)
{
	StringInfo	b = &c->html;
	QueryResult *r;

	appendStringInfoString(b, "<section id=\"lineage\"><h2>Lineage</h2>"
						   "<p class=\"lead\">Where this model comes from and where it went.</p><div class=\"grid\">");

	/* training */
	appendStringInfoString(b, "<div><h3>Training</h3><dl>");
	fact(b, "algorithm", c->algorithm);
	fact(b, "task", c->task_name);
	if (c->target)
		fact(b, "target", c->target);
	if (c->label_type && c->target)
		fact(b, "target type", c->label_type);
	fact(b, "trained by", c->trained_by);
	fact(b, "trained at", c->created_at);
	fact(b, "seed", c->seed);
	fact(b, "evaluated on", c->evaluated_on == NULL ? NULL :
		 strcmp(c->evaluated_on, "test") == 0 ? "a held-out split" : c->evaluated_on);
	r = card_query(c, "SELECT cardinality(features) FROM galaxy.models WHERE id = $1", "read galaxy.models");
	fact(b, "inputs", psprintf(INT64_FORMAT " columns", query_int64(r, 0, 1, 0)));
	appendStringInfoString(b, "</dl></div>");

	/* provenance */
	appendStringInfoString(b, "<div><h3>Provenance</h3><dl>");
	appendStringInfo(b, "<dt>project</dt><dd>");
	put(b, c->project);
	appendStringInfo(b, " <span class=\"muted\">#" INT64_FORMAT "</span></dd>", c->project_id);
	appendStringInfoString(b, "<dt>parent model</dt><dd>");
	if (c->parent_id)
	{
		appendStringInfo(b, "#" INT64_FORMAT " v", c->parent_id);
		put(b, c->parent_version);
	}
	else
		appendStringInfoString(b, "none (first version)");
	appendStringInfoString(b, "</dd>");
	r = card_query(c, "SELECT id, version FROM galaxy.models WHERE parent_id = $1 ORDER BY id LIMIT 10",
				   "read galaxy.models");
	if (r->nrows > 0)
	{
		appendStringInfoString(b, "<dt>next versions</dt><dd>");
		for (uint64 i = 0; i < r->nrows; i++)
		{
			appendStringInfo(b, "%s#" INT64_FORMAT " v", i ? ", " : "", query_int64(r, i, 1, 0));
			put(b, query_text(r, i, 2));
		}
		appendStringInfoString(b, "</dd>");
	}
	if (c->dataset_id)
	{
		r = card_query(c, "SELECT d.name, d.row_count FROM galaxy.models m JOIN galaxy.datasets d ON d.id = m.dataset_id"
					   " WHERE m.id = $1", "read galaxy.datasets");
		appendStringInfoString(b, "<dt>dataset</dt><dd>");
		if (r->nrows == 1)
		{
			put(b, query_text(r, 0, 1));
			appendStringInfo(b, " <span class=\"muted\">#" INT64_FORMAT ", " INT64_FORMAT " rows</span>",
							 c->dataset_id, query_int64(r, 0, 2, 0));
		}
		else
			appendStringInfo(b, "#" INT64_FORMAT, c->dataset_id);
		appendStringInfoString(b, "</dd>");
	}
	fact(b, "relation", c->relation);
	appendStringInfoString(b, "<dt>schema fingerprint</dt><dd><code>");
	put(b, c->schema_fp);
	appendStringInfoString(b, "</code></dd><dt>data fingerprint</dt><dd><code>");
	put(b, c->data_fp);
	appendStringInfoString(b, "</code></dd><dt>job</dt><dd>");
	if (c->job_id)
	{
		r = card_query(c, "SELECT j.state, " TS("j.submitted_at") ", " TS("j.finished_at") ", j.attempts"
					   "  FROM galaxy.models m JOIN galaxy.jobs j ON j.id = m.job_id WHERE m.id = $1",
					   "read galaxy.jobs");
		appendStringInfo(b, "#" INT64_FORMAT, c->job_id);
		if (r->nrows == 1)
		{
			appendStringInfoString(b, " <span class=\"muted\">");
			put(b, query_text(r, 0, 1));
			appendStringInfoString(b, ", submitted ");
			put(b, query_text(r, 0, 2));
			appendStringInfoString(b, ", finished ");
			put(b, query_text(r, 0, 3));
			appendStringInfoString(b, "</span>");
		}
	}
	else
		appendStringInfoString(b, "none: trained in a session (galaxy.train)");
	appendStringInfoString(b, "</dd>");
	if (c->imported_from)
	{
		appendStringInfoString(b, "<dt>imported from</dt><dd><code>");
		put(b, c->imported_from);
		appendStringInfoString(b, "</code></dd>");
	}
	appendStringInfoString(b, "</dl></div></div>");

	/* deployments */
	appendStringInfoString(b, "<h3>Deployments</h3>");
	r = card_query(c,
				   "SELECT " TS("deployed_at") ", " TS("retired_at") ", traffic, strategy, deployed_by::text,"
				   "       retired_by::text, reason"
				   "  FROM galaxy.deployments WHERE model_id = $1 ORDER BY deployed_at, id",
				   "read galaxy.deployments");
	if (r->nrows == 0)
		note(b, "This model has never been deployed.");
	else
	{
		appendStringInfoString(b, "<table><tr><th>deployed</th><th>retired</th><th class=\"num\">traffic</th>"
							   "<th>strategy</th><th>by</th><th>reason</th></tr>");
		for (uint64 i = 0; i < r->nrows; i++)
		{
			char	   *retired = query_text(r, i, 2);

			appendStringInfoString(b, "<tr><td>");
			put(b, query_text(r, i, 1));
			appendStringInfoString(b, "</td><td>");
			if (retired)
			{
				put(b, retired);
				appendStringInfoString(b, " <span class=\"muted\">by ");
				put(b, query_text(r, i, 6));
				appendStringInfoString(b, "</span>");
			}
			else
				appendStringInfoString(b, "<span class=\"pill passed\">serving</span>");
			appendStringInfo(b, "</td><td class=\"num\">%.0f%%</td><td>", query_float8(r, i, 3, 0) * 100);
			put(b, query_text(r, i, 4));
			appendStringInfoString(b, "</td><td>");
			put(b, query_text(r, i, 5));
			appendStringInfoString(b, "</td><td>");
			put(b, query_text(r, i, 7));
			appendStringInfoString(b, "</td></tr>");
		}
		appendStringInfoString(b, "</table>");
	}

	/* approvals */
	r = card_query(c,
				   "SELECT id, requested_by::text, " TS("requested_at") ","
				   "       CASE WHEN state IN ('pending', 'approved') AND expires_at <= now() THEN 'expired' ELSE state END,"
				   "       decided_by::text, " TS("decided_at") ", note, decision_note"
				   "  FROM galaxy.approvals WHERE model_id = $1 ORDER BY id",
				   "read galaxy.approvals");
	if (r->nrows > 0)
	{
		appendStringInfoString(b, "<h3>Approvals</h3><table><tr><th>request</th><th>requested</th><th>state</th>"
							   "<th>decided</th><th>notes</th></tr>");
		for (uint64 i = 0; i < r->nrows; i++)
		{
			char	   *state = query_text(r, i, 4);

			appendStringInfo(b, "<tr><td>#" INT64_FORMAT "</td><td>", query_int64(r, i, 1, 0));
			put(b, query_text(r, i, 2));
			appendStringInfoString(b, " <span class=\"muted\">");
			put(b, query_text(r, i, 3));
			appendStringInfoString(b, "</span></td><td><span class=\"pill ");
			put(b, state);
			appendStringInfoString(b, "\">");
			put(b, state);
			appendStringInfoString(b, "</span></td><td>");
			if (query_text(r, i, 5))
			{
				put(b, query_text(r, i, 5));
				appendStringInfoString(b, " <span class=\"muted\">");
				put(b, query_text(r, i, 6));
				appendStringInfoString(b, "</span>");
			}
			appendStringInfoString(b, "</td><td>");
			if (query_text(r, i, 7))
				put(b, query_text(r, i, 7));
			if (query_text(r, i, 8))
			{
				appendStringInfoString(b, " &rarr; ");
				put(b, query_text(r, i, 8));
			}
			appendStringInfoString(b, "</td></tr>");
		}
		appendStringInfoString(b, "</table>");
	}
	appendStringInfoString(b, "</section>");
}

/* Whether galaxy.gate_results exists with the columns the card reads. */
static bool
gate_results_exist(void)
{
	QueryResult *r;

	r = catalog_query("SELECT count(*) = 7 FROM pg_catalog.pg_attribute"
					  " WHERE attrelid = pg_catalog.to_regclass('galaxy.gate_results')"
					  "   AND NOT attisdropped"
					  "   AND attname IN ('model', 'metric', 'op', 'threshold', 'value', 'status', 'margin')",
					  0, NULL, NULL, NULL, true, 1, SPI_OK_SELECT, "look for galaxy.gate_results");
	return query_bool(r, 0, 1, false);
}

/* Metric table (held-out, and on the relation when scored), run facts, gates. */
static void
card_metrics(Card *c)
{
	StringInfo	b = &c->html;
	const char **names = palloc(sizeof(char *) * (c->n_metrics + GALAXY_MAX_METRICS + 1));
	int			n = 0;
	bool		any_run = false;

	appendStringInfoString(b, "<section id=\"metrics\"><h2>Metrics</h2><p class=\"lead\">");
	if (c->evaluated_on && strcmp(c->evaluated_on, "training") == 0)
		appendStringInfoString(b, "Measured on the training rows (the model was trained without a held-out split).");
	else
		appendStringInfo(b, "Measured at training time on " INT64_FORMAT " held-out rows the model never saw.",
						 c->test_rows);
	if (c->scored)
	{
		appendStringInfoString(b, " The second column scores <code>");
		put(b, c->relname);
		appendStringInfo(b, "</code> now (" INT64_FORMAT " rows).", c->ev.n);
	}
	appendStringInfoString(b, " The project's key metric is highlighted.</p>");

	/* the key metric first, then the others by name */
	names[n++] = c->key_metric;
	for (int i = 0; i < c->n_metrics; i++)
		if (strcmp(c->metric_names[i], c->key_metric) != 0 && !is_run_metric(c->metric_names[i]))
			names[n++] = c->metric_names[i];
	if (c->scored)
		for (int i = 0; i < c->ev_metrics.n; i++)
		{
			bool		seen = false;

			for (int j = 0; j < n && !seen; j++)
				seen = strcmp(names[j], c->ev_metrics.names[i]) == 0;
			if (!seen)
				names[n++] = c->ev_metrics.names[i];
		}

	appendStringInfoString(b, "<div class=\"grid two\"><div><table><tr><th>metric</th><th class=\"num\">held-out</th>");
	if (c->scored)
	{
		appendStringInfoString(b, "<th class=\"num\">");
		put(b, c->relname);
		appendStringInfoString(b, "</th>");
	}
	appendStringInfoString(b, "</tr>");
	for (int i = 0; i < n; i++)
	{
		appendStringInfo(b, "<tr%s><td>", i == 0 ? " class=\"main\"" : "");
		put(b, names[i]);
		if (i == 0)
			appendStringInfoString(b, " &#9733;");
		appendStringInfoString(b, "</td><td class=\"num\">");
		html_number(b, stored_metric(c, names[i]));
		appendStringInfoString(b, "</td>");
		if (c->scored)
		{
			appendStringInfoString(b, "<td class=\"num\">");
			html_number(b, metrics_get(&c->ev_metrics, names[i]));
			appendStringInfoString(b, "</td>");
		}
		appendStringInfoString(b, "</tr>");
	}
	appendStringInfoString(b, "</table></div><div>");

	/* sizes and times of the run */
	for (int i = 0; i < c->n_metrics; i++)
	{
		if (!is_run_metric(c->metric_names[i]))
			continue;
		if (!any_run)
			appendStringInfoString(b, "<table><tr><th>training run</th><th class=\"num\">value</th></tr>");
		any_run = true;
		appendStringInfoString(b, "<tr><td>");
		put(b, c->metric_names[i]);
		appendStringInfoString(b, "</td><td class=\"num\">");
		html_number(b, c->metric_values[i]);
		appendStringInfoString(b, "</td></tr>");
	}
	if (any_run)
		appendStringInfoString(b, "</table>");
	appendStringInfoString(b, "</div></div>");

	/* deployment gates, when this galaxy has them */
	if (gate_results_exist())
	{
		QueryResult *r = card_query(c,
									"SELECT metric, op, threshold, value, status, margin, scope"
									"  FROM galaxy.gate_results WHERE model = $1 ORDER BY scope DESC, metric",
									"read galaxy.gate_results");

		appendStringInfoString(b, "<h3 id=\"gates\">Deployment gates</h3>");
		if (r->nrows == 0)
			note(b, "No deployment gate applies to this project.");
		else
		{
			appendStringInfoString(b, "<table><tr><th>gate</th><th>scope</th><th class=\"num\">value</th>"
								   "<th class=\"num\">margin</th><th>result</th></tr>");
			for (uint64 i = 0; i < r->nrows; i++)
			{
				char	   *status = query_text(r, i, 5);

				appendStringInfoString(b, "<tr><td><code>");
				put(b, query_text(r, i, 1));
				appendStringInfoString(b, " ");
				put(b, query_text(r, i, 2));
				appendStringInfoString(b, " ");
				html_number(b, query_float8(r, i, 3, NAN));
				appendStringInfoString(b, "</code></td><td>");
				put(b, query_text(r, i, 7));
				appendStringInfoString(b, "</td><td class=\"num\">");
				html_number(b, query_float8(r, i, 4, NAN));
				appendStringInfoString(b, "</td><td class=\"num\">");
				html_number(b, query_float8(r, i, 6, NAN));
				appendStringInfoString(b, "</td><td><span class=\"pill ");
				put(b, status);
				appendStringInfoString(b, "\">");
				put(b, status);
				appendStringInfoString(b, "</span></td></tr>");
			}
			appendStringInfoString(b, "</table>");
		}
	}
	appendStringInfoString(b, "</section>");
}

/* ------------------------------------------------------------------------
 * Classification plots
 * ------------------------------------------------------------------------
 */

/* A row's score and whether it is positive, for sorting. */
typedef struct ScoreRow
{
	double		score;
	bool		positive;
} ScoreRow;

/* Descending score. */
static int
cmp_score_desc(const void *a, const void *b)
{
	double		x = ((const ScoreRow *) a)->score;
	double		y = ((const ScoreRow *) b)->score;

	return x > y ? -1 : x < y ? 1 : 0;
}

/* Keep a point only when it moves visibly from the last kept one (and the last). */
static int
thin_curve(double *x, double *y, int n)
{
	int			kept = 0;

	for (int i = 0; i < n; i++)
	{
		if (kept > 0 && i < n - 1 &&
			fabs(x[i] - x[kept - 1]) < 0.002 && fabs(y[i] - y[kept - 1]) < 0.002)
			continue;
		x[kept] = x[i];
		y[kept] = y[i];
		kept++;
	}
	return kept;
}

/*
 * Precision-recall points of one class, from the highest score down (one
 * point per distinct score, starting at recall 0, precision 1), and the
 * average precision (the step-wise area).  Returns the point count.
 */
static int
pr_curve(const ScoreRow *rows, int64 n, double positives, double **rec, double **prec,
		 double *ap)
{
	double		tp = 0,
				fp = 0,
				last_recall = 0;
	int			k = 0;

	*rec = palloc(sizeof(double) * (n + 1));
	*prec = palloc(sizeof(double) * (n + 1));
	(*rec)[k] = 0;
	(*prec)[k] = 1;
	k++;
	*ap = 0;
	for (int64 i = 0; i < n;)
	{
		double		s = rows[i].score;

		for (; i < n && rows[i].score == s; i++)
		{
			if (rows[i].positive)
				tp += 1;
			else
				fp += 1;
		}
		(*rec)[k] = tp / positives;
		(*prec)[k] = tp / (tp + fp);
		*ap += ((*rec)[k] - last_recall) * (*prec)[k];
		last_recall = (*rec)[k];
		k++;
	}
	return k;
}

/* Classes to draw curves for: the binary positive class, else the most frequent ones. */
static int
curve_classes(const Card *c, int *classes, double *support)
{
	int			k = c->ev.n_classes;
	int			n = 0;

	for (int j = 0; j < k; j++)
		support[j] = 0;
	for (int64 i = 0; i < c->ev.n; i++)
		support[(int) c->ev.y[i]] += 1;
	if (k == 2)
	{
		classes[0] = 1;
		return 1;
	}
	for (int j = 0; j < k; j++)
		classes[n++] = j;
	/* by support, descending (selection: k is small) */
	for (int a = 0; a < n; a++)
		for (int b = a + 1; b < n; b++)
			if (support[classes[b]] > support[classes[a]])
			{
				int			t = classes[a];

				classes[a] = classes[b];
				classes[b] = t;
			}
	return Min(n, CARD_MAX_CURVES);
}

/* ROC and precision-recall curves, one-vs-rest per class. */
static void
card_roc_pr(Card *c)
{
	StringInfo	b = &c->html;
	int			k = c->ev.n_classes;
	int		   *classes = palloc(sizeof(int) * Max(k, 1));
	double	   *support = palloc(sizeof(double) * Max(k, 1));
	int			nc = curve_classes(c, classes, support);
	SvgSeries  *roc = palloc0(sizeof(SvgSeries) * nc);
	SvgSeries  *pr = palloc0(sizeof(SvgSeries) * (nc + 1));
	int			n_roc = 0,
				n_pr = 0;
	double	   *is_pos = palloc(sizeof(double) * Max(c->ev.n, 1));
	double	   *score = palloc(sizeof(double) * Max(c->ev.n, 1));
	ScoreRow   *rows = palloc(sizeof(ScoreRow) * Max(c->ev.n, 1));
	int			skipped = 0;
	double		base_x[2] = {0, 1},
				base_y[2];
	SvgChart	chart = {0};

	for (int ci = 0; ci < nc; ci++)
	{
		int			cls = classes[ci];
		double		positives = support[cls];
		double	   *fpr,
				   *tpr,
				   *thr,
				   *rec,
				   *prec,
					auc = 0,
					ap;
		int			n;
		const char *name = c->labels[cls];

		if (positives == 0 || positives == c->ev.n)
		{
			skipped++;			/* one-sided: no curve */
			continue;
		}
		for (int64 i = 0; i < c->ev.n; i++)
		{
			is_pos[i] = c->ev.y[i] == cls ? 1.0 : 0.0;
			score[i] = c->ev.proba[i * k + cls];
			rows[i].score = score[i];
			rows[i].positive = c->ev.y[i] == cls;
		}
		n = metrics_roc_curve(is_pos, score, c->ev.n, &fpr, &tpr, &thr);
		for (int i = 1; i < n; i++)
			auc += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
		n = thin_curve(fpr, tpr, n);
		roc[n_roc].x = fpr;
		roc[n_roc].y = tpr;
		roc[n_roc].n = n;
		roc[n_roc].color = svg_palette[ci % SVG_PALETTE_SIZE];
		roc[n_roc].mark = SVG_LINE;
		roc[n_roc].label = psprintf("%s  AUC %.3f", name, auc);
		n_roc++;

		qsort(rows, c->ev.n, sizeof(ScoreRow), cmp_score_desc);
		n = pr_curve(rows, c->ev.n, positives, &rec, &prec, &ap);
		n = thin_curve(rec, prec, n);
		pr[n_pr].x = rec;
		pr[n_pr].y = prec;
		pr[n_pr].n = n;
		pr[n_pr].color = svg_palette[ci % SVG_PALETTE_SIZE];
		pr[n_pr].mark = SVG_LINE;
		pr[n_pr].label = psprintf("%s  AP %.3f", name, ap);
		n_pr++;
	}

	appendStringInfoString(b, "<div class=\"grid two\">");
	figure_open(b, "roc-curve", k == 2 ? "ROC curve" : "ROC curves (one class against the rest)");
	if (n_roc == 0)
		note(b, "Every scored row has the same class: no ROC curve.");
	else
	{
		chart.title = "ROC curve";
		chart.x_label = "false positive rate";
		chart.y_label = "true positive rate";
		chart.x_min = chart.y_min = 0;
		chart.x_max = chart.y_max = 1;
		chart.diagonal = true;
		chart.x_marker = NAN;
		chart.legend = SVG_LEGEND_BOTTOM_RIGHT;
		chart.series = roc;
		chart.n_series = n_roc;
		svg_xy_chart(b, &chart);
	}
	appendStringInfoString(b, "</figure>");

	figure_open(b, "pr-curve", k == 2 ? "Precision&ndash;recall curve" : "Precision&ndash;recall curves");
	if (n_pr == 0)
		note(b, "Every scored row has the same class: no precision-recall curve.");
	else
	{
		/* for one positive class, the precision of guessing: its prevalence */
		if (k == 2)
		{
			base_y[0] = base_y[1] = support[1] / c->ev.n;
			pr[n_pr].x = base_x;
			pr[n_pr].y = base_y;
			pr[n_pr].n = 2;
			pr[n_pr].color = "#9aa5b1";
			pr[n_pr].mark = SVG_DASHED;
			pr[n_pr].label = psprintf("chance  %.3f", base_y[0]);
			n_pr++;
		}
		chart.title = "Precision-recall curve";
		chart.x_label = "recall";
		chart.y_label = "precision";
		chart.x_min = chart.y_min = 0;
		chart.x_max = chart.y_max = 1;
		chart.diagonal = false;
		chart.x_marker = NAN;
		chart.legend = SVG_LEGEND_BOTTOM_LEFT;
		chart.series = pr;
		chart.n_series = n_pr;
		svg_xy_chart(b, &chart);
	}
	appendStringInfoString(b, "</figure></div>");
	if (k > 2 && k > nc)
		appendStringInfo(b, "<p class=\"muted small\">The %d most frequent of %d classes are drawn.</p>", nc, k);
	if (skipped > 0)
		appendStringInfo(b, "<p class=\"muted small\">%d class(es) with no positive or no negative row are left out.</p>",
						 skipped);
}

/*
 * Reliability diagram: binary models by the positive class's probability,
 * multiclass models by the confidence of the predicted class (top label).
 */
static void
card_calibration(Card *c)
{
	StringInfo	b = &c->html;
	int			k = c->ev.n_classes;
	const int	nb = CARD_CALIBRATION_BINS;
	double		sum_p[CARD_CALIBRATION_BINS] = {0},
				sum_hit[CARD_CALIBRATION_BINS] = {0},
				count[CARD_CALIBRATION_BINS] = {0};
	double		mean_p[CARD_CALIBRATION_BINS],
				frac[CARD_CALIBRATION_BINS];
	double		ece = 0,
				brier = 0;
	int			used = 0;
	SvgSeries	s = {0};
	SvgChart	chart = {0};

	for (int64 i = 0; i < c->ev.n; i++)
	{
		const double *p = c->ev.proba + i * k;
		double		conf;
		bool		hit;
		int			bin;

		if (k == 2)
		{
			conf = p[1];
			hit = c->ev.y[i] == 1;
		}
		else
		{
			int			best = 0;

			for (int j = 1; j < k; j++)
				if (p[j] > p[best])
					best = j;
			conf = p[best];
			hit = c->ev.y[i] == best;
		}
		if (!isfinite(conf))
			continue;
		bin = Min(nb - 1, Max(0, (int) floor(conf * nb)));
		sum_p[bin] += conf;
		sum_hit[bin] += hit ? 1 : 0;
		count[bin] += 1;
		brier += (conf - (hit ? 1 : 0)) * (conf - (hit ? 1 : 0));
	}
	for (int j = 0; j < nb; j++)
	{
		if (count[j] == 0)
			continue;
		mean_p[used] = sum_p[j] / count[j];
		frac[used] = sum_hit[j] / count[j];
		ece += count[j] / c->ev.n * fabs(frac[used] - mean_p[used]);
		used++;
	}
	figure_open(b, "calibration", k == 2 ? "Calibration (reliability diagram)" :
				"Calibration of the predicted class (reliability diagram)");
	s.x = mean_p;
	s.y = frac;
	s.n = used;
	s.color = svg_palette[0];
	s.mark = SVG_LINE_POINTS;
	s.label = psprintf("model  ECE %.3f", ece);
	chart.title = "Calibration";
	chart.x_label = k == 2 ? psprintf("predicted probability of %s", c->labels[1]) :
		"confidence of the predicted class";
	chart.y_label = k == 2 ? "observed frequency" : "observed accuracy";
	chart.x_min = chart.y_min = 0;
	chart.x_max = chart.y_max = 1;
	chart.diagonal = true;
	chart.x_marker = NAN;
	chart.legend = SVG_LEGEND_BOTTOM_RIGHT;
	chart.series = &s;
	chart.n_series = 1;
	chart.bars = count;
	chart.n_bars = nb;
	svg_xy_chart(b, &chart);
	appendStringInfoString(b, "<p class=\"muted small\">A perfectly calibrated model follows the dashed diagonal; "
						   "the light bars are the rows in each tenth. Brier score ");
	html_number(b, brier / Max(c->ev.n, 1));
	appendStringInfoString(b, ".</p></figure>");
}

/* Confusion matrix as a heat map: from the scored relation, else the stored one. */
static void
card_confusion(Card *c)
{
	StringInfo	b = &c->html;
	int			k = c->n_classes;
	int64	   *counts = NULL;

	if (c->scored && c->ev_metrics.confusion && c->ev_metrics.n_classes == k)
		counts = c->ev_metrics.confusion;
	else
	{
		QueryResult *r = card_query(c,
									"SELECT (i.ord - 1)::int, (j.ord - 1)::int, j.v::float8"
									"  FROM galaxy.models m,"
									"       jsonb_array_elements(" JSONB_ARRAY("m.metrics->'confusion_matrix'") ") WITH ORDINALITY i(r, ord),"
									"       jsonb_array_elements_text(" JSONB_ARRAY("i.r") ") WITH ORDINALITY j(v, ord)"
									" WHERE m.id = $1",
									"read the confusion matrix");

		if (r->nrows > 0)
		{
			counts = palloc0(sizeof(int64) * k * k);
			for (uint64 i = 0; i < r->nrows; i++)
			{
				int			row = query_int32(r, i, 1, -1),
							col = query_int32(r, i, 2, -1);

				if (row >= 0 && row < k && col >= 0 && col < k)
					counts[row * k + col] = (int64) query_float8(r, i, 3, 0);
			}
		}
	}
	figure_open(b, "confusion-matrix", "Confusion matrix");
	if (counts == NULL)
		note(b, "galaxy stored no confusion matrix for this model.");
	else if (k > CARD_MAX_HEATMAP_CLASSES)
		appendStringInfo(b, "<p class=\"note\">%d classes are too many to draw; "
						 "<code>SELECT metrics-&gt;'confusion_matrix' FROM galaxy.models WHERE id = " INT64_FORMAT
						 "</code> has the counts.</p>", k, c->model_id);
	else
	{
		svg_heatmap(b, "Confusion matrix", (const char *const *) c->labels, k, counts,
					"actual", "predicted");
		appendStringInfo(b, "<p class=\"muted small\">Rows: the actual class; columns: the predicted one. "
						 "Each cell shows its rows and its share of the actual class; blue is right, orange wrong. "
						 "On %s.</p>", c->scored ? "the scored relation" : "the held-out split");
	}
	appendStringInfoString(b, "</figure>");
}

/* ------------------------------------------------------------------------
 * Regression and clustering plots
 * ------------------------------------------------------------------------
 */

/* Predicted against actual, and the residuals' histogram. */
static void
card_regression_plots(Card *c)
{
	StringInfo	b = &c->html;
	int64		n = c->ev.n;
	int64		step = Max(1, (n + CARD_MAX_SCATTER - 1) / CARD_MAX_SCATTER);
	int			m = 0;
	double	   *xs = palloc(sizeof(double) * Max(Min(n, CARD_MAX_SCATTER), 1));
	double	   *ys = palloc(sizeof(double) * Max(Min(n, CARD_MAX_SCATTER), 1));
	double		lo = INFINITY,
				hi = -INFINITY,
				mean = 0,
				var = 0;
	double		edges[CARD_RESIDUAL_BINS + 1],
				counts[CARD_RESIDUAL_BINS] = {0};
	SvgSeries	s = {0};
	SvgChart	chart = {0};

	/* every step-th row: deterministic */
	for (int64 i = 0; i < n && m < CARD_MAX_SCATTER; i += step)
	{
		xs[m] = c->ev.y[i];
		ys[m] = c->ev.pred[i];
		m++;
	}
	for (int64 i = 0; i < n; i++)
	{
		double		r = c->ev.y[i] - c->ev.pred[i];

		lo = Min(lo, r);
		hi = Max(hi, r);
		mean += r;
	}
	mean /= Max(n, 1);
	for (int64 i = 0; i < n; i++)
		var += (c->ev.y[i] - c->ev.pred[i] - mean) * (c->ev.y[i] - c->ev.pred[i] - mean);
	var /= Max(n - 1, 1);

	appendStringInfoString(b, "<div class=\"grid two\">");
	figure_open(b, "predicted-vs-actual", "Predicted against actual");
	s.x = xs;
	s.y = ys;
	s.n = m;
	s.color = svg_palette[0];
	s.mark = SVG_POINTS;
	s.label = psprintf("rows  R2 %.3f", metrics_get(&c->ev_metrics, "r2"));
	chart.title = "Predicted against actual";
	chart.x_label = psprintf("actual %s", c->target ? c->target : "");
	chart.y_label = "predicted";
	chart.x_min = chart.x_max = chart.y_min = chart.y_max = NAN;
	chart.diagonal = true;
	chart.same_scale = true;
	chart.x_marker = NAN;
	chart.legend = SVG_LEGEND_BOTTOM_RIGHT;
	chart.series = &s;
	chart.n_series = 1;
	svg_xy_chart(b, &chart);
	if (step > 1)
		appendStringInfo(b, "<p class=\"muted small\">Every " INT64_FORMAT "th of " INT64_FORMAT " rows.</p>", step, n);
	appendStringInfoString(b, "</figure>");

	figure_open(b, "residuals", "Residuals (actual &minus; predicted)");
	if (!(hi > lo))
	{
		lo -= 0.5;
		hi += 0.5;
	}
	for (int j = 0; j <= CARD_RESIDUAL_BINS; j++)
		edges[j] = lo + (hi - lo) * j / CARD_RESIDUAL_BINS;
	for (int64 i = 0; i < n; i++)
	{
		int			j = (int) floor((c->ev.y[i] - c->ev.pred[i] - lo) / (hi - lo) * CARD_RESIDUAL_BINS);

		counts[Min(CARD_RESIDUAL_BINS - 1, Max(0, j))] += 1;
	}
	svg_histogram(b, "Residuals", edges, counts, CARD_RESIDUAL_BINS, "residual", svg_palette[4], 0.0);
	appendStringInfoString(b, "<p class=\"muted small\">Mean ");
	html_number(b, mean);
	appendStringInfoString(b, ", standard deviation ");
	html_number(b, sqrt(var));
	appendStringInfoString(b, "; the dashed line is zero.</p></figure></div>");
}

/* Rows per cluster, from the stored metrics. */
static void
card_clusters(Card *c)
{
	StringInfo	b = &c->html;
	QueryResult *r = card_query(c,
								"SELECT (e.ord - 1)::text, e.v::float8 FROM galaxy.models m,"
								"       jsonb_array_elements_text(" JSONB_ARRAY("m.metrics->'cluster_sizes'") ") WITH ORDINALITY e(v, ord)"
								" WHERE m.id = $1 ORDER BY e.ord",
								"read the cluster sizes");
	int			n = (int) Min(r->nrows, 100);
	const char **labels = palloc(sizeof(char *) * Max(n, 1));
	double	   *sizes = palloc(sizeof(double) * Max(n, 1));

	figure_open(b, "cluster-sizes", "Rows per cluster");
	if (n == 0)
		note(b, "galaxy stored no cluster sizes for this model.");
	else
	{
		for (int i = 0; i < n; i++)
		{
			labels[i] = psprintf("cluster %s", query_text(r, i, 1));
			sizes[i] = query_float8(r, i, 2, 0);
		}
		svg_bar_chart(b, "Rows per cluster", labels, sizes, n, svg_palette[5]);
	}
	appendStringInfoString(b, "</figure>");
	if (OidIsValid(c->relid))
		note(b, "A clustering model has no target to score a relation against; the relation was not used.");
}

/* The task's evaluation plots. */
static void
card_evaluation(Card *c)
{
	StringInfo	b = &c->html;

	appendStringInfoString(b, "<section id=\"evaluation\"><h2>Evaluation</h2><p class=\"lead\">");
	if (c->scored)
	{
		appendStringInfoString(b, "Scored now on <code>");
		put(b, c->relname);
		appendStringInfo(b, "</code>: " INT64_FORMAT " rows", c->ev.n);
		if (c->ev.unknown > 0)
			appendStringInfo(b, " (" INT64_FORMAT " rows with a label the model does not know left out)", c->ev.unknown);
		if (c->ev.non_finite > 0)
			appendStringInfo(b, " (" INT64_FORMAT " rows with a non-finite target left out)", c->ev.non_finite);
		appendStringInfoString(b, ".");
	}
	else if (c->task == TASK_CLUSTERING)
		appendStringInfo(b, "How the %s rows fell into the clusters.",
						 c->evaluated_on && strcmp(c->evaluated_on, "training") == 0 ? "training" : "held-out");
	else
		appendStringInfoString(b, "From what galaxy stored at training time.");
	appendStringInfoString(b, "</p>");

	if (c->task == TASK_CLASSIFICATION)
	{
		appendStringInfoString(b, "<div class=\"grid two\">");
		card_confusion(c);
		if (c->scored && c->ev.proba)
			card_calibration(c);
		else if (c->scored)
			note(b, "This algorithm gives no class probabilities: no calibration, ROC or precision-recall curve.");
		else
			relation_hint(c, "ROC, precision-recall and calibration curves");
		appendStringInfoString(b, "</div>");
		if (c->scored && c->ev.proba)
			card_roc_pr(c);
	}
	else if (c->task == TASK_REGRESSION)
	{
		if (c->scored)
			card_regression_plots(c);
		else
			relation_hint(c, "predicted against actual values and the residuals");
	}
	else
		card_clusters(c);
	appendStringInfoString(b, "</section>");
}

/* ------------------------------------------------------------------------
 * Training curve, feature importance, data profile, hyperparameters
 * ------------------------------------------------------------------------
 */

/* Loss and validation loss per epoch (neural models) or per iteration (background jobs). */
static void
card_training_curve(Card *c)
{
	StringInfo	b = &c->html;
	QueryResult *r;
	const char *source;
	double		best = NAN;
	int			n;
	double	   *x,
			   *loss,
			   *val;
	bool		any_val = false;
	SvgSeries	s[2] = {{0}};
	SvgChart	chart = {0};

	r = describe_query(c,
					   "SELECT l.ord::float8, l.v::float8, v.v::float8,"
					   "       " JSONB_NUM("$1->'training_curve'->'best_epoch'")
					   "  FROM jsonb_array_elements_text(" JSONB_ARRAY("$1->'training_curve'->'loss'") ") WITH ORDINALITY l(v, ord)"
					   "  LEFT JOIN jsonb_array_elements_text(" JSONB_ARRAY("$1->'training_curve'->'val_loss'") ") WITH ORDINALITY v(v, ord)"
					   "    ON v.ord = l.ord"
					   " ORDER BY l.ord");
	source = "epoch";
	if (r->nrows > 0)
		best = query_float8(r, 0, 4, NAN);
	else if (c->job_id)
	{
		r = card_query(c,
					   "SELECT p.iteration::float8, p.loss, p.val_loss"
					   "  FROM galaxy.models m JOIN galaxy.job_progress p ON p.job_id = m.job_id"
					   " WHERE m.id = $1 AND (p.loss IS NOT NULL OR p.val_loss IS NOT NULL)"
					   " ORDER BY p.iteration",
					   "read galaxy.job_progress");
		source = "iteration";
	}

	appendStringInfoString(b, "<section id=\"training-curve\"><h2>Training curve</h2>");
	n = (int) r->nrows;
	if (n == 0)
	{
		appendStringInfoString(b, "<p class=\"lead\">Loss while the model learned.</p>");
		note(b, "No training curve: galaxy records one in the model for neural networks, and per iteration "
			 "for models trained by a background job (<code>galaxy.submit</code>); this model has neither.");
		appendStringInfoString(b, "</section>");
		return;
	}
	x = palloc(sizeof(double) * n);
	loss = palloc(sizeof(double) * n);
	val = palloc(sizeof(double) * n);
	for (int i = 0; i < n; i++)
	{
		x[i] = query_float8(r, i, 1, NAN);
		loss[i] = query_float8(r, i, 2, NAN);
		val[i] = query_float8(r, i, 3, NAN);
		any_val |= isfinite(val[i]);
	}
	appendStringInfo(b, "<p class=\"lead\">Training and validation loss per %s (%d %ss%s).</p>",
					 source, n, source, strcmp(source, "epoch") == 0 ? ", stored in the model" :
					 ", recorded by the background job");
	s[0].x = x;
	s[0].y = loss;
	s[0].n = n;
	s[0].color = svg_palette[0];
	s[0].mark = n <= 40 ? SVG_LINE_POINTS : SVG_LINE;
	s[0].label = "training loss";
	s[1].x = x;
	s[1].y = val;
	s[1].n = n;
	s[1].color = svg_palette[1];
	s[1].mark = n <= 40 ? SVG_LINE_POINTS : SVG_LINE;
	s[1].label = "validation loss";
	chart.title = "Training curve";
	chart.x_label = source;
	chart.y_label = "loss";
	chart.x_min = chart.x_max = chart.y_min = chart.y_max = NAN;
	chart.x_marker = best > 0 ? best : NAN;
	chart.x_marker_label = "best";
	chart.legend = SVG_LEGEND_TOP_RIGHT;
	chart.series = s;
	chart.n_series = any_val ? 2 : 1;
	chart.width = 900;
	chart.height = 340;
	appendStringInfoString(b, "<figure>");
	svg_xy_chart(b, &chart);
	appendStringInfoString(b, "</figure></section>");
}

/* Importance per feature comparison. */
static int
cmp_importance(const void *a, const void *b, void *arg)
{
	const double *v = arg;
	double		x = fabs(v[*(const int *) a]),
				y = fabs(v[*(const int *) b]);

	if (x != y)
		return x > y ? -1 : 1;
	return *(const int *) a - *(const int *) b;
}

/* The top features by importance as horizontal bars. */
static void
card_feature_importance(Card *c)
{
	StringInfo	b = &c->html;
	int			n = c->n_importance;
	int		   *order;
	int			top;
	const char **labels;
	double	   *values;

	appendStringInfoString(b, "<section id=\"feature-importance\"><h2>Feature importance</h2>");
	if (n < 0)
	{
		appendStringInfoString(b, "<p class=\"lead\">Which inputs the model leans on.</p>");
		appendStringInfo(b, "<p class=\"note\">The %s algorithm does not report feature importance.</p></section>",
						 c->algorithm);
		return;
	}
	order = palloc(sizeof(int) * Max(n, 1));
	for (int j = 0; j < n; j++)
		order[j] = j;
	qsort_arg(order, n, sizeof(int), cmp_importance, c->importance);
	top = Min(n, CARD_TOP_FEATURES);
	labels = palloc(sizeof(char *) * Max(top, 1));
	values = palloc(sizeof(double) * Max(top, 1));
	for (int i = 0; i < top; i++)
	{
		labels[i] = c->importance_names[order[i]];
		values[i] = c->importance[order[i]];
	}
	appendStringInfo(b, "<p class=\"lead\">%s features by importance (%s), after preprocessing.</p>",
					 n > top ? psprintf("The top %d of %d", top, n) : "All",
					 c->task == TASK_REGRESSION || strstr(c->algorithm, "linear") || strstr(c->algorithm, "logistic") ||
					 strstr(c->algorithm, "lasso") || strstr(c->algorithm, "elastic") ?
					 "absolute coefficient on the scaled feature" : "total gain of the splits on it");
	appendStringInfoString(b, "<figure>");
	svg_bar_chart(b, "Feature importance", labels, values, top, svg_palette[0]);
	appendStringInfoString(b, "</figure></section>");
}

/* The data profile from the dataset's stored profile. */
static bool
card_profile_dataset(Card *c)
{
	StringInfo	b = &c->html;
	QueryResult *r;
	char	   *owner;
	Oid			owner_id;
	char	   *name;

	r = card_query(c, "SELECT d.name, d.owner::text, d.row_count FROM galaxy.models m"
				   "  JOIN galaxy.datasets d ON d.id = m.dataset_id WHERE m.id = $1",
				   "read galaxy.datasets");
	if (r->nrows != 1)
		return false;
	name = query_text(r, 0, 1);
	owner = query_text(r, 0, 2);
	owner_id = get_role_oid(owner, true);
	/* a dataset's profile is for its owner's roles (as row-level security says) */
	if (!(OidIsValid(owner_id) && has_privs_of_role(GetUserId(), owner_id)) &&
		!registry_is_admin(GetUserId()))
		return false;
	appendStringInfoString(b, "<p class=\"lead\">Per column, from the profile of dataset <b>");
	put(b, name);
	appendStringInfo(b, "</b> (" INT64_FORMAT " rows, profiled when it was registered). The target comes last.</p>",
					 query_int64(r, 0, 3, 0));

	r = card_query(c,
				   "SELECT f.name, x.c->>'type', x.c->>'kind', (x.c->>'count')::float8, (x.c->>'nulls')::float8,"
				   "       " JSONB_NUM("x.c->'mean'") ", " JSONB_NUM("x.c->'stddev'") ","
				   "       " JSONB_NUM("x.c->'min'") ", " JSONB_NUM("x.c->'max'") ","
				   "       ARRAY(SELECT h.v::float8 FROM jsonb_array_elements_text(" JSONB_ARRAY("x.c->'histogram'->'counts'") ")"
				   "              WITH ORDINALITY h(v, o) ORDER BY h.o),"
				   "       ARRAY(SELECT t.v->>'value' FROM jsonb_array_elements(" JSONB_ARRAY("x.c->'top_values'") ")"
				   "              WITH ORDINALITY t(v, o) ORDER BY t.o LIMIT 5),"
				   "       ARRAY(SELECT (t.v->>'count')::float8 FROM jsonb_array_elements(" JSONB_ARRAY("x.c->'top_values'") ")"
				   "              WITH ORDINALITY t(v, o) ORDER BY t.o LIMIT 5),"
				   "       f.name = m.target, (x.c->>'n_distinct')::float8,"
				   "       ARRAY(SELECT h.v::float8 FROM jsonb_array_elements_text(" JSONB_ARRAY("x.c->'histogram'->'edges'") ")"
				   "              WITH ORDINALITY h(v, o) ORDER BY h.o)"
				   "  FROM galaxy.models m JOIN galaxy.datasets d ON d.id = m.dataset_id,"
				   "       unnest(m.features || m.target) WITH ORDINALITY f(name, ord),"
				   "       LATERAL (SELECT d.profile->'columns'->f.name AS c) x"
				   " WHERE m.id = $1 AND f.name IS NOT NULL"
				   " ORDER BY f.ord LIMIT " CppAsString2(CARD_MAX_PROFILE_ROWS),
				   "read the dataset profile");
	appendStringInfoString(b, "<table><tr><th>column</th><th>type</th><th class=\"num\">missing</th>"
						   "<th>summary</th><th>distribution</th></tr>");
	for (uint64 i = 0; i < r->nrows; i++)
	{
		double		count = query_float8(r, i, 4, NAN),
					nulls = query_float8(r, i, 5, NAN);
		double	   *hist,
				   *edges,
				   *top_counts;
		char	  **top;
		int			nh = float8_array(r, i, 10, &hist),
					nt = text_array(r, i, 11, &top),
					ne = float8_array(r, i, 15, &edges);
		char	   *kind = query_text(r, i, 3);

		(void) float8_array(r, i, 12, &top_counts);

		appendStringInfoString(b, "<tr><td><b>");
		put(b, query_text(r, i, 1));
		appendStringInfo(b, "</b>%s</td><td>", query_bool(r, i, 13, false) ? " <span class=\"pill\">target</span>" : "");
		put(b, query_text(r, i, 2));
		appendStringInfoString(b, " <span class=\"muted\">");
		if (kind)
			put(b, kind);
		appendStringInfoString(b, "</span></td><td class=\"num\">");
		if (count + nulls > 0)
			appendStringInfo(b, "%.1f%%", 100.0 * nulls / (count + nulls));
		else
			appendStringInfoString(b, "&mdash;");
		appendStringInfoString(b, "</td><td>");
		if (!isfinite(query_float8(r, i, 6, NAN)) && nt == 0)
			appendStringInfoString(b, "<span class=\"muted\">not profiled</span>");
		if (isfinite(query_float8(r, i, 6, NAN)))
		{
			appendStringInfoString(b, "mean ");
			html_number(b, query_float8(r, i, 6, NAN));
			appendStringInfoString(b, " &plusmn; ");
			html_number(b, query_float8(r, i, 7, NAN));
			appendStringInfoString(b, "<br><span class=\"muted small\">");
			html_number(b, query_float8(r, i, 8, NAN));
			appendStringInfoString(b, " &ndash; ");
			html_number(b, query_float8(r, i, 9, NAN));
			appendStringInfoString(b, "</span>");
		}
		else if (nt > 0)
		{
			double		distinct = query_float8(r, i, 14, NAN);

			for (int j = 0; j < nt; j++)
			{
				appendStringInfoString(b, j ? ", " : "");
				html_escape_cut(b, top[j] ? top[j] : "NULL", 24);
				appendStringInfoString(b, " <span class=\"muted\">");
				html_number(b, top_counts && j < nt ? top_counts[j] : NAN);
				appendStringInfoString(b, "</span>");
			}
			if (isfinite(distinct))
			{
				appendStringInfoString(b, "<br><span class=\"muted small\">");
				html_number(b, distinct);
				appendStringInfoString(b, " distinct</span>");
			}
		}
		appendStringInfoString(b, "</td><td>");
		if (nh > 0 && ne == nh + 1)
			svg_sparkhist(b, edges, hist, nh, "#60a5fa");
		else if (nh > 0)
			svg_sparkbars(b, hist, nh, "#60a5fa");
		else if (nt > 0 && top_counts)
			svg_sparkbars(b, top_counts, nt, "#f59e0b");
		appendStringInfoString(b, "</td></tr>");
	}
	appendStringInfoString(b, "</table>");
	return true;
}

/* The data profile from the preprocessor's statistics (fitted on the training split). */
static void
card_profile_preprocess(Card *c)
{
	StringInfo	b = &c->html;
	QueryResult *r;

	appendStringInfoString(b, "<p class=\"lead\">Per input, from the statistics the preprocessor fitted on the "
						   "training split and stored in the model");
	if (c->dataset_id)
		appendStringInfoString(b, " (the dataset's own profile is for its owner)");
	appendStringInfoString(b, ".</p>");
	r = describe_query(c,
					   "SELECT t.i->>'name', t.i->>'type', t.i->>'kind', t.i->>'impute', t.i->>'scale',"
					   "       t.i->>'encoding', t.i->>'most_frequent',"
					   "       " JSONB_NUM("t.i->'fill'") ", " JSONB_NUM("t.i->'center'") ", " JSONB_NUM("t.i->'scale_factor'") ","
					   "       " JSONB_NUM("t.i->'width'") ", " JSONB_NUM("t.i->'n_categories'") ", " JSONB_NUM("t.i->'hash_buckets'") ","
					   "       ARRAY(SELECT x.v FROM jsonb_array_elements_text(" JSONB_ARRAY("t.i->'categories'") ")"
					   "              WITH ORDINALITY x(v, o) ORDER BY x.o LIMIT 6)"
					   "  FROM jsonb_array_elements(" JSONB_ARRAY("$1->'preprocess'->'inputs'") ") WITH ORDINALITY t(i, ord)"
					   " ORDER BY t.ord LIMIT " CppAsString2(CARD_MAX_PROFILE_ROWS));
	appendStringInfoString(b, "<table><tr><th>input</th><th>type</th><th>missing values</th><th>summary</th></tr>");
	for (uint64 i = 0; i < r->nrows; i++)
	{
		char	   *kind = query_text(r, i, 3);
		char	   *scale = query_text(r, i, 5);
		double		width = query_float8(r, i, 11, 1);
		char	  **cats;
		int			nc = text_array(r, i, 14, &cats);

		appendStringInfoString(b, "<tr><td><b>");
		put(b, query_text(r, i, 1));
		appendStringInfoString(b, "</b></td><td>");
		put(b, query_text(r, i, 2));
		appendStringInfoString(b, " <span class=\"muted\">");
		if (kind)
			put(b, kind);
		if (width > 1)
			appendStringInfo(b, ", %.0f values", width);
		appendStringInfoString(b, "</span></td><td>imputed: ");
		put(b, query_text(r, i, 4));
		appendStringInfoString(b, "</td><td>");
		if (kind && strcmp(kind, "categorical") == 0)
		{
			double		ncat = query_float8(r, i, 12, NAN),
						buckets = query_float8(r, i, 13, NAN);

			if (isfinite(buckets))
				appendStringInfo(b, "hashed into %.0f buckets", buckets);
			else
			{
				html_number(b, ncat);
				appendStringInfoString(b, " categories: ");
				for (int j = 0; j < nc; j++)
				{
					appendStringInfoString(b, j ? ", " : "");
					html_escape_cut(b, cats[j] ? cats[j] : "NULL", 24);
				}
				if (isfinite(ncat) && ncat > nc)
					appendStringInfoString(b, ", &hellip;");
			}
			appendStringInfoString(b, "<br><span class=\"muted small\">most frequent: ");
			put(b, query_text(r, i, 7));
			appendStringInfoString(b, "</span>");
		}
		else if (isfinite(query_float8(r, i, 8, NAN)))
		{
			if (scale && strcmp(scale, "standard") == 0)
			{
				appendStringInfoString(b, "mean ");
				html_number(b, query_float8(r, i, 9, NAN));
				appendStringInfoString(b, " &plusmn; ");
				html_number(b, query_float8(r, i, 10, NAN));
			}
			else
			{
				appendStringInfoString(b, "fill value ");
				html_number(b, query_float8(r, i, 8, NAN));
			}
			appendStringInfoString(b, "<br><span class=\"muted small\">scaling: ");
			put(b, scale);
			appendStringInfoString(b, "</span>");
		}
		else
		{
			appendStringInfoString(b, "<span class=\"muted\">scaling: ");
			put(b, scale);
			appendStringInfoString(b, "</span>");
		}
		appendStringInfoString(b, "</td></tr>");
	}
	appendStringInfoString(b, "</table>");
}

/* The data profile section. */
static void
card_data_profile(Card *c)
{
	appendStringInfoString(&c->html, "<section id=\"data-profile\"><h2>Data profile</h2>");
	if (!(c->dataset_id && card_profile_dataset(c)))
		card_profile_preprocess(c);
	appendStringInfoString(&c->html, "</section>");
}

/* Hyperparameters (given or default) and, for neural models, the architecture. */
static void
card_hyperparameters(Card *c)
{
	StringInfo	b = &c->html;
	QueryResult *r;

	appendStringInfoString(b, "<section id=\"hyperparameters\"><h2>Hyperparameters</h2>"
						   "<p class=\"lead\">Every effective value; the ones set at training are marked.</p>");
	r = card_query(c,
				   "SELECT e.key, CASE jsonb_typeof(e.value) WHEN 'string' THEN e.value #>> '{}' ELSE e.value::text END,"
				   "       m.hyperparams_given ? e.key"
				   "  FROM galaxy.models m, jsonb_each(m.hyperparams) e WHERE m.id = $1 ORDER BY e.key",
				   "read the hyperparameters");
	if (r->nrows == 0)
		note(b, "This algorithm has no hyperparameters.");
	else
	{
		appendStringInfoString(b, "<table><tr><th>hyperparameter</th><th>value</th><th></th></tr>");
		for (uint64 i = 0; i < r->nrows; i++)
		{
			appendStringInfoString(b, "<tr><td>");
			put(b, query_text(r, i, 1));
			appendStringInfoString(b, "</td><td><code>");
			html_escape_cut(b, query_text(r, i, 2), 200);
			appendStringInfo(b, "</code></td><td>%s</td></tr>",
							 query_bool(r, i, 3, false) ? "<span class=\"pill passed\">set</span>" :
							 "<span class=\"muted small\">default</span>");
		}
		appendStringInfoString(b, "</table>");
	}

	r = describe_query(c,
					   "SELECT $1->'architecture'->>'parameters', $1->'architecture'->>'loss',"
					   "       l.v::text"
					   "  FROM jsonb_array_elements(" JSONB_ARRAY("$1->'architecture'->'layers'") ") WITH ORDINALITY l(v, o)"
					   " ORDER BY l.o LIMIT 100");
	if (r->nrows > 0)
	{
		appendStringInfoString(b, "<h3>Architecture</h3><p>");
		put(b, query_text(r, 0, 1));
		appendStringInfoString(b, " parameters, loss ");
		put(b, query_text(r, 0, 2));
		appendStringInfoString(b, "</p><ol class=\"small\">");
		for (uint64 i = 0; i < r->nrows; i++)
		{
			appendStringInfoString(b, "<li><code>");
			html_escape_cut(b, query_text(r, i, 3), 300);
			appendStringInfoString(b, "</code></li>");
		}
		appendStringInfoString(b, "</ol>");
	}
	appendStringInfoString(b, "</section>");
}

/* ------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------
 */

/* The whole page for a model; relid may be InvalidOid. */
static text *
model_card(int64 model_id, Oid relid)
{
	Card	   *c = palloc0(sizeof(Card));
	StringInfo	b = &c->html;
	QueryResult *r;

	c->model_id = model_id;
	c->relid = relid;
	card_load_model(c);			/* checks access first */
	if (OidIsValid(relid))
		card_score(c);
	card_load_value(c);

	initStringInfo(b);
	/* one line: no newline, tab or backslash anywhere (see html_escape) */
	appendStringInfoString(b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
						   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
						   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
						   "style-src 'unsafe-inline'\"><meta name=\"generator\" content=\"galaxy\"><title>");
	put(b, c->project);
	appendStringInfoString(b, " v");
	put(b, c->version);
	appendStringInfo(b, " &middot; galaxy model card</title><style>%s</style></head><body><main>", card_css);
	card_header(c);
	card_toc(c);
	card_lineage(c);
	card_metrics(c);
	card_evaluation(c);
	card_training_curve(c);
	card_feature_importance(c);
	card_data_profile(c);
	card_hyperparameters(c);

	r = catalog_query("SELECT extversion, " TS("clock_timestamp()") " FROM pg_catalog.pg_extension WHERE extname = 'galaxy'",
					  0, NULL, NULL, NULL, true, 1, SPI_OK_SELECT, "read pg_extension");
	appendStringInfoString(b, "<footer>galaxy ");
	put(b, r->nrows ? query_text(r, 0, 1) : NULL);
	appendStringInfo(b, " &middot; model #" INT64_FORMAT " &middot; generated ", model_id);
	put(b, r->nrows ? query_text(r, 0, 2) : NULL);
	appendStringInfoString(b, " &middot; one file: no scripts, nothing loaded from the network</footer>"
						   "</main></body></html>");
	return cstring_to_text_with_len(b->data, b->len);
}

/* galaxy.model_card(model bigint, relation regclass DEFAULT NULL) → text */
Datum
galaxy_model_card(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be NULL")));
	PG_RETURN_TEXT_P(model_card(PG_GETARG_INT64(0), PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1)));
}

/* galaxy.model_card(project text, relation regclass DEFAULT NULL) → text, for the deployed model */
Datum
galaxy_model_card_project(PG_FUNCTION_ARGS)
{
	char	   *project;
	int64		model_id;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("project must not be NULL")));
	project = text_to_cstring(PG_GETARG_TEXT_PP(0));
	/* as galaxy.evaluate(project, ...) finds its model */
	model_id = registry_primary_model(registry_project_id(project, false));
	if (model_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("project \"%s\" has no deployed model", project)));
	PG_RETURN_TEXT_P(model_card(model_id, PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1)));
}
