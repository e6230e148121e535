/*
 * model_card_plots.c — the chart sections of galaxy.model_card() (see
 * model_card.h): the evaluation (confusion matrix; ROC, precision-recall
 * and calibration curves of a classifier, predicted against actual values
 * and residuals of a regression, each on the relation the caller passed;
 * rows per cluster), the training curve and feature importance.
 *
 * The curves are computed here from the rows evaluate_relation scored: ROC
 * points by metrics_roc_curve, precision-recall points and the average
 * precision by a sort of the scores, calibration over ten bins of the
 * predicted probability.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "eval/model_card.h"
#include "util/svg.h"

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
		double		positives = 0;
		int64		m = 0;
		double	   *fpr,
				   *tpr,
				   *thr,
				   *rec,
				   *prec,
					auc = 0,
					ap;
		int			n;
		const char *name = c->labels[cls];

		CHECK_FOR_INTERRUPTS();
		/* the rows with a probability (a NaN would not sort) */
		for (int64 i = 0; i < c->ev.n; i++)
		{
			double		p = c->ev.proba[i * k + cls];

			if (!isfinite(p))
				continue;
			is_pos[m] = c->ev.y[i] == cls ? 1.0 : 0.0;
			score[m] = p;
			rows[m].score = p;
			rows[m].positive = c->ev.y[i] == cls;
			positives += is_pos[m];
			m++;
		}
		if (positives == 0 || positives == m)
		{
			skipped++;			/* one-sided: no curve */
			continue;
		}
		n = metrics_roc_curve(is_pos, score, m, &fpr, &tpr, &thr);
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

		qsort(rows, m, sizeof(ScoreRow), cmp_score_desc);
		n = pr_curve(rows, m, positives, &rec, &prec, &ap);
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
	card_figure_open(b, "roc-curve", k == 2 ? "ROC curve" : "ROC curves (one class against the rest)");
	if (n_roc == 0)
		card_note(b, "Every scored row has the same class: no ROC curve.");
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

	card_figure_open(b, "pr-curve", k == 2 ? "Precision&ndash;recall curve" : "Precision&ndash;recall curves");
	if (n_pr == 0)
		card_note(b, "Every scored row has the same class: no precision-recall curve.");
	else
	{
		/* for one positive class, the precision of guessing: its prevalence */
		if (k == 2)
		{
			base_y[0] = base_y[1] = support[1] / Max(c->ev.n, 1);
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
				brier = 0,
				total = 0;
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
		total += 1;
	}
	for (int j = 0; j < nb; j++)
	{
		if (count[j] == 0)
			continue;
		mean_p[used] = sum_p[j] / count[j];
		frac[used] = sum_hit[j] / count[j];
		ece += count[j] * fabs(frac[used] - mean_p[used]);
		used++;
	}
	card_figure_open(b, "calibration", k == 2 ? "Calibration (reliability diagram)" :
				"Calibration of the predicted class (reliability diagram)");
	s.x = mean_p;
	s.y = frac;
	s.n = used;
	s.color = svg_palette[0];
	s.mark = SVG_LINE_POINTS;
	ece /= Max(total, 1);
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
	html_number(b, brier / Max(total, 1));
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
	card_figure_open(b, "confusion-matrix", "Confusion matrix");
	if (counts == NULL)
		card_note(b, "galaxy stored no confusion matrix for this model.");
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
	int64		finite = 0;
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
	/* residuals of the rows with a finite prediction (the targets are finite) */
	for (int64 i = 0; i < n; i++)
	{
		double		r = c->ev.y[i] - c->ev.pred[i];

		if (!isfinite(r))
			continue;
		lo = Min(lo, r);
		hi = Max(hi, r);
		mean += r;
		finite++;
	}
	mean /= Max(finite, 1);
	for (int64 i = 0; i < n; i++)
	{
		double		r = c->ev.y[i] - c->ev.pred[i];

		if (isfinite(r))
			var += (r - mean) * (r - mean);
	}
	var /= Max(finite - 1, 1);

	appendStringInfoString(b, "<div class=\"grid two\">");
	card_figure_open(b, "predicted-vs-actual", "Predicted against actual");
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

	card_figure_open(b, "residuals", "Residuals (actual &minus; predicted)");
	if (finite == 0)
		lo = hi = 0;
	if (!(hi > lo))
	{
		lo -= 0.5;
		hi += 0.5;
	}
	for (int j = 0; j <= CARD_RESIDUAL_BINS; j++)
		edges[j] = lo + (hi - lo) * j / CARD_RESIDUAL_BINS;
	for (int64 i = 0; i < n; i++)
	{
		double		r = c->ev.y[i] - c->ev.pred[i];
		int			j;

		if (!isfinite(r))
			continue;
		j = (int) floor((r - lo) / (hi - lo) * CARD_RESIDUAL_BINS);
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

	card_figure_open(b, "cluster-sizes", "Rows per cluster");
	if (n == 0)
		card_note(b, "galaxy stored no cluster sizes for this model.");
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
		card_note(b, "A clustering model has no target to score a relation against; the relation was not used.");
}

/* The task's evaluation plots. */
void
card_evaluation(Card *c)
{
	StringInfo	b = &c->html;

	appendStringInfoString(b, "<section id=\"evaluation\"><h2>Evaluation</h2><p class=\"lead\">");
	if (c->scored)
	{
		appendStringInfoString(b, "Scored now on <code>");
		card_put(b, c->relname);
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
			card_note(b, "This algorithm gives no class probabilities: no calibration, ROC or precision-recall curve.");
		else
			card_relation_hint(c, "ROC, precision-recall and calibration curves");
		appendStringInfoString(b, "</div>");
		if (c->scored && c->ev.proba)
			card_roc_pr(c);
	}
	else if (c->task == TASK_REGRESSION)
	{
		if (c->scored)
			card_regression_plots(c);
		else
			card_relation_hint(c, "predicted against actual values and the residuals");
	}
	else
		card_clusters(c);
	appendStringInfoString(b, "</section>");
}

/* ------------------------------------------------------------------------
 * Training curve and feature importance
 * ------------------------------------------------------------------------
 */

/* Loss and validation loss per epoch (neural models) or per iteration (background jobs). */
void
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

	r = card_describe_query(c,
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
		card_note(b, "No training curve: galaxy records one in the model for neural networks, and per iteration "
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

/* What an algorithm's importances measure (galaxy.feature_importance's comment says the same). */
static const char *
importance_meaning(const char *algorithm)
{
	if (strcmp(algorithm, "decision_tree") == 0 || strcmp(algorithm, "random_forest") == 0 ||
		strcmp(algorithm, "gradient_boosting") == 0)
		return "the gain of the splits on each";
	if (strcmp(algorithm, "linear_regression") == 0 || strcmp(algorithm, "logistic_regression") == 0 ||
		strcmp(algorithm, "lasso") == 0 || strcmp(algorithm, "elastic_net") == 0 ||
		strcmp(algorithm, "linear_svm") == 0)
		return "the absolute coefficient of each, on the scaled features";
	return "as the algorithm reports it";
}

/* The top features by importance as horizontal bars. */
void
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
					 importance_meaning(c->algorithm));
	appendStringInfoString(b, "<figure>");
	svg_bar_chart(b, "Feature importance", labels, values, top, svg_palette[0]);
	appendStringInfoString(b, "</figure></section>");
}

