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
 *
 * This file reads the model, writes the page's frame and its text sections
 * and holds the SQL entry points; the charts are in model_card_plots.c
 * (model_card.h is what both share).
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

#include "eval/model_card.h"
#include "model/model_cache.h"
#include "registry/access.h"
#include "registry/deploy.h"
#include "registry/versions.h"
#include "util/svg.h"

PG_FUNCTION_INFO_V1(galaxy_model_card);
PG_FUNCTION_INFO_V1(galaxy_model_card_project);

/* How timestamps are shown. */
#define TS(col) "to_char(" col ", 'YYYY-MM-DD HH24:MI:SSOF')"

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------
 */

/* Escaped text, or a dash for NULL. */
void
card_put(StringInfo b, const char *s)
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
	card_put(b, value);
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
QueryResult *
card_query(const Card *c, const char *sql, const char *what)
{
	return catalog_query(sql, 1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(c->model_id)},
						 NULL, true, 0, SPI_OK_SELECT, what);
}

/* One read-only statement over the model's describe() jsonb as $1. */
QueryResult *
card_describe_query(const Card *c, const char *sql)
{
	return catalog_query(sql, 1, (Oid[]) {JSONBOID}, (Datum[]) {c->describe},
						 NULL, true, 0, SPI_OK_SELECT, "read a model description");
}

/* A note in place of a plot. */
void
card_note(StringInfo b, const char *html)
{
	appendStringInfo(b, "<p class=\"note\">%s</p>", html);
}

/* Open a figure with a heading. */
void
card_figure_open(StringInfo b, const char *id, const char *title)
{
	appendStringInfo(b, "<figure id=\"%s\"><figcaption class=\"fig-title\">%s</figcaption>", id, title);
}

/* The hint to pass a relation, for plots that need scored rows. */
void
card_relation_hint(Card *c, const char *what)
{
	StringInfo	b = &c->html;

	appendStringInfo(b, "<p class=\"note\">galaxy keeps no per-row predictions: pass a relation with "
					 "the model's inputs and its target column <code>");
	card_put(b, c->target);
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
				   "       m.schema_fingerprint, m.data_fingerprint, m.seed::text, m.size_bytes::bigint, m.trained_by::text,"
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
	card_put(b, c->project);
	appendStringInfoString(b, "<span class=\"ver\">v");
	card_put(b, c->version);
	appendStringInfoString(b, "</span></h1><p>");
	card_put(b, c->algorithm);
	appendStringInfoString(b, " &middot; ");
	card_put(b, c->task_name);
	appendStringInfo(b, " &middot; model #" INT64_FORMAT, c->model_id);
	if (c->target)
	{
		appendStringInfoString(b, " &middot; predicts <b>");
		card_put(b, c->target);
		appendStringInfoString(b, "</b>");
	}
	appendStringInfoString(b, "</p>");
	if (c->project_description)
	{
		appendStringInfoString(b, "<p>");
		card_put(b, c->project_description);
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
		card_put(b, query_text(r, 0, 2));
		appendStringInfoString(b, "</span>");
	}
	else if (r->nrows == 1)
	{
		appendStringInfo(b, "<span class=\"badge canary\">canary &middot; %.0f%% of traffic since ",
						 query_float8(r, 0, 1, 0) * 100);
		card_put(b, query_text(r, 0, 2));
		appendStringInfoString(b, "</span>");
	}
	else
	{
		appendStringInfo(b, "<span class=\"badge%s\">not deployed &middot; ",
						 strcmp(c->status, "archived") == 0 ? " archived" : "");
		card_put(b, c->status);
		appendStringInfoString(b, "</span>");
	}
	appendStringInfoString(b, "<span class=\"badge\">trained by ");
	card_put(b, c->trained_by);
	appendStringInfoString(b, " on ");
	card_put(b, c->created_at);
	appendStringInfoString(b, "</span></div></div>");

	/* key figures */
	appendStringInfoString(b, "<div class=\"kpis\"><div class=\"kpi main\"><div class=\"v\">");
	html_number(b, key);
	appendStringInfoString(b, "</div><div class=\"k\">");
	card_put(b, c->key_metric);
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

/* Training facts and provenance. */
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
	r = card_query(c, "SELECT cardinality(features)::bigint FROM galaxy.models WHERE id = $1", "read galaxy.models");
	fact(b, "inputs", psprintf(INT64_FORMAT " columns", query_int64(r, 0, 1, 0)));
	appendStringInfoString(b, "</dl></div>");

	/* provenance */
	appendStringInfoString(b, "<div><h3>Provenance</h3><dl>");
	appendStringInfo(b, "<dt>project</dt><dd>");
	card_put(b, c->project);
	appendStringInfo(b, " <span class=\"muted\">#" INT64_FORMAT "</span></dd>", c->project_id);
	appendStringInfoString(b, "<dt>parent model</dt><dd>");
	if (c->parent_id)
	{
		appendStringInfo(b, "#" INT64_FORMAT " v", c->parent_id);
		card_put(b, c->parent_version);
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
			card_put(b, query_text(r, i, 2));
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
			card_put(b, query_text(r, 0, 1));
			appendStringInfo(b, " <span class=\"muted\">#" INT64_FORMAT ", " INT64_FORMAT " rows</span>",
							 c->dataset_id, query_int64(r, 0, 2, 0));
		}
		else
			appendStringInfo(b, "#" INT64_FORMAT, c->dataset_id);
		appendStringInfoString(b, "</dd>");
	}
	fact(b, "relation", c->relation);
	appendStringInfoString(b, "<dt>schema fingerprint</dt><dd><code>");
	card_put(b, c->schema_fp);
	appendStringInfoString(b, "</code></dd><dt>data fingerprint</dt><dd><code>");
	card_put(b, c->data_fp);
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
			card_put(b, query_text(r, 0, 1));
			appendStringInfoString(b, ", submitted ");
			card_put(b, query_text(r, 0, 2));
			appendStringInfoString(b, ", finished ");
			card_put(b, query_text(r, 0, 3));
			appendStringInfoString(b, "</span>");
		}
	}
	else
		appendStringInfoString(b, "none: trained in a session (galaxy.train)");
	appendStringInfoString(b, "</dd>");
	if (c->imported_from)
	{
		appendStringInfoString(b, "<dt>imported from</dt><dd><code>");
		card_put(b, c->imported_from);
		appendStringInfoString(b, "</code></dd>");
	}
	appendStringInfoString(b, "</dl></div></div>");
}

/* Every deployment of the model, and its approval requests. */
static void
card_deployments(Card *c)
{
	StringInfo	b = &c->html;
	QueryResult *r;

	appendStringInfoString(b, "<h3>Deployments</h3>");
	r = card_query(c,
				   "SELECT " TS("deployed_at") ", " TS("retired_at") ", traffic, strategy, deployed_by::text,"
				   "       retired_by::text, reason"
				   "  FROM galaxy.deployments WHERE model_id = $1 ORDER BY deployed_at, id",
				   "read galaxy.deployments");
	if (r->nrows == 0)
		card_note(b, "This model has never been deployed.");
	else
	{
		appendStringInfoString(b, "<table><tr><th>deployed</th><th>retired</th><th class=\"num\">traffic</th>"
							   "<th>strategy</th><th>by</th><th>reason</th></tr>");
		for (uint64 i = 0; i < r->nrows; i++)
		{
			char	   *retired = query_text(r, i, 2);

			appendStringInfoString(b, "<tr><td>");
			card_put(b, query_text(r, i, 1));
			appendStringInfoString(b, "</td><td>");
			if (retired)
			{
				card_put(b, retired);
				appendStringInfoString(b, " <span class=\"muted\">by ");
				card_put(b, query_text(r, i, 6));
				appendStringInfoString(b, "</span>");
			}
			else
				appendStringInfoString(b, "<span class=\"pill passed\">serving</span>");
			appendStringInfo(b, "</td><td class=\"num\">%.0f%%</td><td>", query_float8(r, i, 3, 0) * 100);
			card_put(b, query_text(r, i, 4));
			appendStringInfoString(b, "</td><td>");
			card_put(b, query_text(r, i, 5));
			appendStringInfoString(b, "</td><td>");
			card_put(b, query_text(r, i, 7));
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
			card_put(b, query_text(r, i, 2));
			appendStringInfoString(b, " <span class=\"muted\">");
			card_put(b, query_text(r, i, 3));
			appendStringInfoString(b, "</span></td><td><span class=\"pill ");
			card_put(b, state);
			appendStringInfoString(b, "\">");
			card_put(b, state);
			appendStringInfoString(b, "</span></td><td>");
			if (query_text(r, i, 5))
			{
				card_put(b, query_text(r, i, 5));
				appendStringInfoString(b, " <span class=\"muted\">");
				card_put(b, query_text(r, i, 6));
				appendStringInfoString(b, "</span>");
			}
			appendStringInfoString(b, "</td><td>");
			if (query_text(r, i, 7))
				card_put(b, query_text(r, i, 7));
			if (query_text(r, i, 8))
			{
				appendStringInfoString(b, " &rarr; ");
				card_put(b, query_text(r, i, 8));
			}
			appendStringInfoString(b, "</td></tr>");
		}
		appendStringInfoString(b, "</table>");
	}
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

/* Metric table (held-out, and on the relation when scored) and run facts. */
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
		card_put(b, c->relname);
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
		card_put(b, c->relname);
		appendStringInfoString(b, "</th>");
	}
	appendStringInfoString(b, "</tr>");
	for (int i = 0; i < n; i++)
	{
		appendStringInfo(b, "<tr%s><td>", i == 0 ? " class=\"main\"" : "");
		card_put(b, names[i]);
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
		card_put(b, c->metric_names[i]);
		appendStringInfoString(b, "</td><td class=\"num\">");
		html_number(b, c->metric_values[i]);
		appendStringInfoString(b, "</td></tr>");
	}
	if (any_run)
		appendStringInfoString(b, "</table>");
	appendStringInfoString(b, "</div></div>");
}

/* The deployment gates of the model's project and its results, when this galaxy has gates. */
static void
card_gates(Card *c)
{
	StringInfo	b = &c->html;

	if (gate_results_exist())
	{
		QueryResult *r = card_query(c,
									"SELECT metric, op, threshold, value, status, margin, scope"
									"  FROM galaxy.gate_results WHERE model = $1 ORDER BY scope DESC, metric",
									"read galaxy.gate_results");

		appendStringInfoString(b, "<h3 id=\"gates\">Deployment gates</h3>");
		if (r->nrows == 0)
			card_note(b, "No deployment gate applies to this project.");
		else
		{
			appendStringInfoString(b, "<table><tr><th>gate</th><th>scope</th><th class=\"num\">value</th>"
								   "<th class=\"num\">margin</th><th>result</th></tr>");
			for (uint64 i = 0; i < r->nrows; i++)
			{
				char	   *status = query_text(r, i, 5);

				appendStringInfoString(b, "<tr><td><code>");
				card_put(b, query_text(r, i, 1));
				appendStringInfoString(b, " ");
				card_put(b, query_text(r, i, 2));
				appendStringInfoString(b, " ");
				html_number(b, query_float8(r, i, 3, NAN));
				appendStringInfoString(b, "</code></td><td>");
				card_put(b, query_text(r, i, 7));
				appendStringInfoString(b, "</td><td class=\"num\">");
				html_number(b, query_float8(r, i, 4, NAN));
				appendStringInfoString(b, "</td><td class=\"num\">");
				html_number(b, query_float8(r, i, 6, NAN));
				appendStringInfoString(b, "</td><td><span class=\"pill ");
				card_put(b, status);
				appendStringInfoString(b, "\">");
				card_put(b, status);
				appendStringInfoString(b, "</span></td></tr>");
			}
			appendStringInfoString(b, "</table>");
		}
	}
}

/* ------------------------------------------------------------------------
 * Data profile and hyperparameters
 * ------------------------------------------------------------------------
 */

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
	card_put(b, name);
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
		card_put(b, query_text(r, i, 1));
		appendStringInfo(b, "</b>%s</td><td>", query_bool(r, i, 13, false) ? " <span class=\"pill\">target</span>" : "");
		card_put(b, query_text(r, i, 2));
		appendStringInfoString(b, " <span class=\"muted\">");
		if (kind)
			card_put(b, kind);
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
	r = card_describe_query(c,
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
		card_put(b, query_text(r, i, 1));
		appendStringInfoString(b, "</b></td><td>");
		card_put(b, query_text(r, i, 2));
		appendStringInfoString(b, " <span class=\"muted\">");
		if (kind)
			card_put(b, kind);
		if (width > 1)
			appendStringInfo(b, ", %.0f values", width);
		appendStringInfoString(b, "</span></td><td>imputed: ");
		card_put(b, query_text(r, i, 4));
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
			card_put(b, query_text(r, i, 7));
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
			card_put(b, scale);
			appendStringInfoString(b, "</span>");
		}
		else
		{
			appendStringInfoString(b, "<span class=\"muted\">scaling: ");
			card_put(b, scale);
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
		card_note(b, "This algorithm has no hyperparameters.");
	else
	{
		appendStringInfoString(b, "<table><tr><th>hyperparameter</th><th>value</th><th></th></tr>");
		for (uint64 i = 0; i < r->nrows; i++)
		{
			appendStringInfoString(b, "<tr><td>");
			card_put(b, query_text(r, i, 1));
			appendStringInfoString(b, "</td><td><code>");
			html_escape_cut(b, query_text(r, i, 2), 200);
			appendStringInfo(b, "</code></td><td>%s</td></tr>",
							 query_bool(r, i, 3, false) ? "<span class=\"pill passed\">set</span>" :
							 "<span class=\"muted small\">default</span>");
		}
		appendStringInfoString(b, "</table>");
	}

	r = card_describe_query(c,
					   "SELECT $1->'architecture'->>'parameters', $1->'architecture'->>'loss',"
					   "       l.v::text"
					   "  FROM jsonb_array_elements(" JSONB_ARRAY("$1->'architecture'->'layers'") ") WITH ORDINALITY l(v, o)"
					   " ORDER BY l.o LIMIT 100");
	if (r->nrows > 0)
	{
		appendStringInfoString(b, "<h3>Architecture</h3><p>");
		card_put(b, query_text(r, 0, 1));
		appendStringInfoString(b, " parameters, loss ");
		card_put(b, query_text(r, 0, 2));
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
	card_put(b, c->project);
	appendStringInfoString(b, " v");
	card_put(b, c->version);
	appendStringInfo(b, " &middot; galaxy model card</title><style>%s</style></head><body><main>", card_css);
	card_header(c);
	card_toc(c);
	card_lineage(c);
	card_deployments(c);
	appendStringInfoString(b, "</section>");
	card_metrics(c);
	card_gates(c);
	appendStringInfoString(b, "</section>");
	card_evaluation(c);
	card_training_curve(c);
	card_feature_importance(c);
	card_data_profile(c);
	card_hyperparameters(c);

	r = catalog_query("SELECT extversion, " TS("clock_timestamp()") " FROM pg_catalog.pg_extension WHERE extname = 'galaxy'",
					  0, NULL, NULL, NULL, true, 1, SPI_OK_SELECT, "read pg_extension");
	appendStringInfoString(b, "<footer>galaxy ");
	card_put(b, r->nrows ? query_text(r, 0, 1) : NULL);
	appendStringInfo(b, " &middot; model #" INT64_FORMAT " &middot; generated ", model_id);
	card_put(b, r->nrows ? query_text(r, 0, 2) : NULL);
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
