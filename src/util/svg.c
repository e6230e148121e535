/*
 * svg.c — HTML escaping and small inline-SVG charts for galaxy's HTML pages
 * (the model card).  Pure string building: no SQL, no catalog.
 *
 * Charts use presentation attributes only (no CSS classes, no ids, no
 * scripts), so each one renders the same wherever it is pasted.  Sizes are
 * in viewBox units; the page scales them to its width.
 */
#include "postgres.h"

#include <math.h>

#include "mb/pg_wchar.h"

#include "util/svg.h"

/* Colours of successive series (colour-blind-friendly, after Tableau 10). */
const char *const svg_palette[SVG_PALETTE_SIZE] = {
	"#2563eb", "#ea580c", "#16a34a", "#dc2626", "#7c3aed",
	"#0891b2", "#db2777", "#65a30d", "#a16207", "#475569"
};

#define INK "#1f2933"
#define MUTED "#616e7c"
#define GRID "#e4e7eb"
#define FONT " font-size=\"11\" fill=\"" MUTED "\""

/* Append s with & < > " ' escaped, and backslashes, tabs and line breaks as references. */
void
html_escape(StringInfo buf, const char *s)
{
	if (s == NULL)
		return;
	for (; *s; s++)
	{
		switch (*s)
		{
			case '&':
				appendStringInfoString(buf, "&amp;");
				break;
			case '<':
				appendStringInfoString(buf, "&lt;");
				break;
			case '>':
				appendStringInfoString(buf, "&gt;");
				break;
			case '"':
				appendStringInfoString(buf, "&quot;");
				break;
			case '\'':
				appendStringInfoString(buf, "&#39;");
				break;
				/* no backslash or line break: COPY ... TO STDOUT writes a page unchanged */
			case '\\':
				appendStringInfoString(buf, "&#92;");
				break;
			case '\n':
				appendStringInfoString(buf, "&#10;");
				break;
			case '\r':
				appendStringInfoString(buf, "&#13;");
				break;
			case '\t':
				appendStringInfoString(buf, "&#9;");
				break;
			default:
				appendStringInfoChar(buf, *s);
		}
	}
}

/* Append s escaped, cut to at most max_chars characters with an ellipsis. */
void
html_escape_cut(StringInfo buf, const char *s, int max_chars)
{
	int			chars = 0;
	const char *p;

	if (s == NULL)
		return;
	/* whole characters of the database encoding */
	for (p = s; *p && chars < max_chars; p += pg_mblen(p))
		chars++;
	if (*p == '\0')
	{
		html_escape(buf, s);
		return;
	}
	{
		char	   *cut = pnstrdup(s, p - s);

		html_escape(buf, cut);
		pfree(cut);
		appendStringInfoString(buf, "&hellip;");
	}
}

/* A number for people: integers as such, others with 4 significant digits. */
void
html_number(StringInfo buf, double v)
{
	if (!isfinite(v))
		appendStringInfoString(buf, "&mdash;");
	else if (v == floor(v) && fabs(v) < 1e15)
		appendStringInfo(buf, "%.0f", v);
	else
		appendStringInfo(buf, "%.4g", v);
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about target ticks. */
static double
nice_step(double range, int target)
{
	double		raw = range / target;
	double		mag = pow(10.0, floor(log10(raw)));
	double		f = raw / mag;

	return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * mag;
}

/*
 * Complete an axis range: NaN ends come from the data (lo, hi), widened to
 * whole tick steps; an empty range is widened around its value.
 */
static void
axis_range(double *amin, double *amax, double lo, double hi, double *step)
{
	bool		fixed_min = isfinite(*amin);
	bool		fixed_max = isfinite(*amax);
	double		a = fixed_min ? *amin : lo;
	double		b = fixed_max ? *amax : hi;

	if (!isfinite(a) || !isfinite(b))
	{
		a = 0.0;
		b = 1.0;
	}
	if (b <= a)
	{
		double		pad = Max(fabs(a) * 0.1, 0.5);

		a -= pad;
		b += pad;
	}
	*step = nice_step(b - a, 5);
	if (!fixed_min)
		a = floor(a / *step) * *step;
	if (!fixed_max)
		b = ceil(b / *step) * *step;
	*amin = a;
	*amax = b;
}

/* A tick label with as many decimals as the step needs. */
static void
tick_label(StringInfo buf, double v, double step)
{
	int			decimals = (int) Max(0.0, -floor(log10(step) + 1e-9));

	if (fabs(v) < step * 1e-6)
		v = 0.0;				/* no "-0" */
	if (fabs(v) >= 1e6 || decimals > 6)
		appendStringInfo(buf, "%.3g", v);
	else
		appendStringInfo(buf, "%.*f", decimals, v);
}

/* Plot geometry: the data ranges and where they land in the viewBox. */
typedef struct Frame
{
	double		x_min,
				x_max,
				y_min,
				y_max;
	double		x_step,
				y_step;
	double		left,
				top,
				width,
				height;
} Frame;

/* viewBox x of a data x. */
static double
fx(const Frame *f, double x)
{
	return f->left + (x - f->x_min) / (f->x_max - f->x_min) * f->width;
}

/* viewBox y of a data y. */
static double
fy(const Frame *f, double y)
{
	return f->top + f->height - (y - f->y_min) / (f->y_max - f->y_min) * f->height;
}

/* Open an svg element of the given size. */
static void
svg_open(StringInfo buf, const char *title, int w, int h)
{
	appendStringInfo(buf, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
					 w, h, w, h);
	html_escape(buf, title);
	appendStringInfoString(buf, "\" font-family=\"inherit\">");
}

/* Grid lines, ticks and tick labels of both axes, the axis titles and the frame. */
static void
draw_axes(StringInfo buf, const Frame *f, const char *x_label, const char *y_label,
		  bool x_ticks)
{
	double		right = f->left + f->width;
	double		bottom = f->top + f->height;

	double		y0 = ceil(f->y_min / f->y_step - 1e-6) * f->y_step;
	double		x0 = ceil(f->x_min / f->x_step - 1e-6) * f->x_step;

	appendStringInfo(buf, "<g stroke=\"%s\" stroke-width=\"1\">", GRID);
	for (double v = y0; v <= f->y_max + f->y_step * 1e-6; v += f->y_step)
		appendStringInfo(buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
						 f->left, fy(f, v), right, fy(f, v));
	if (x_ticks)
		for (double v = x0; v <= f->x_max + f->x_step * 1e-6; v += f->x_step)
			appendStringInfo(buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
							 fx(f, v), f->top, fx(f, v), bottom);
	appendStringInfoString(buf, "</g>");

	appendStringInfo(buf, "<g" FONT " text-anchor=\"end\">");
	for (double v = y0; v <= f->y_max + f->y_step * 1e-6; v += f->y_step)
	{
		appendStringInfo(buf, "<text x=\"%.1f\" y=\"%.1f\">", f->left - 6, fy(f, v) + 4);
		tick_label(buf, v, f->y_step);
		appendStringInfoString(buf, "</text>");
	}
	appendStringInfoString(buf, "</g>");
	if (x_ticks)
	{
		appendStringInfo(buf, "<g" FONT " text-anchor=\"middle\">");
		for (double v = x0; v <= f->x_max + f->x_step * 1e-6; v += f->x_step)
		{
			appendStringInfo(buf, "<text x=\"%.1f\" y=\"%.1f\">", fx(f, v), bottom + 16);
			tick_label(buf, v, f->x_step);
			appendStringInfoString(buf, "</text>");
		}
		appendStringInfoString(buf, "</g>");
	}
	appendStringInfo(buf, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#9aa5b1\"/>",
					 f->left, f->top, f->width, f->height);
	if (x_label)
	{
		appendStringInfo(buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" fill=\"%s\">",
						 f->left + f->width / 2, bottom + 34, INK);
		html_escape(buf, x_label);
		appendStringInfoString(buf, "</text>");
	}
	if (y_label)
	{
		appendStringInfo(buf, "<text transform=\"translate(14 %.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"%s\">",
						 f->top + f->height / 2, INK);
		html_escape(buf, y_label);
		appendStringInfoString(buf, "</text>");
	}
}

/* Clamp a viewBox coordinate into [lo, hi]. */
static double
clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* One series: a path through its finite points, or dots. */
static void
draw_series(StringInfo buf, const Frame *f, const SvgSeries *s)
{
	bool		line = s->mark != SVG_POINTS;
	bool		dots = s->mark == SVG_POINTS || s->mark == SVG_LINE_POINTS;
	double		x0 = f->left,
				x1 = f->left + f->width,
				y0 = f->top,
				y1 = f->top + f->height;

	if (line)
	{
		bool		pen_down = false;

		appendStringInfo(buf, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"%s d=\"",
						 s->color, s->mark == SVG_DASHED ? " stroke-dasharray=\"6 4\"" : "");
		for (int i = 0; i < s->n; i++)
		{
			if (!isfinite(s->x[i]) || !isfinite(s->y[i]))
			{
				pen_down = false;	/* a gap */
				continue;
			}
			appendStringInfo(buf, "%c%.1f %.1f", pen_down ? 'L' : 'M',
							 clampd(fx(f, s->x[i]), x0, x1), clampd(fy(f, s->y[i]), y0, y1));
			pen_down = true;
		}
		appendStringInfoString(buf, "\"/>");
	}
	if (dots)
	{
		/* zero-length segments with round caps: one short path for any number of dots */
		appendStringInfo(buf, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" stroke-linecap=\"round\" stroke-opacity=\"%s\" d=\"",
						 s->color, line ? "6" : "4.5", line ? "1" : "0.55");
		for (int i = 0; i < s->n; i++)
			if (isfinite(s->x[i]) && isfinite(s->y[i]))
				appendStringInfo(buf, "M%.1f %.1fh0", clampd(fx(f, s->x[i]), x0, x1),
								 clampd(fy(f, s->y[i]), y0, y1));
		appendStringInfoString(buf, "\"/>");
	}
}

/* The legend box: a swatch and a label per series that has one. */
static void
draw_legend(StringInfo buf, const Frame *f, const SvgChart *c)
{
	int			n = 0;
	int			longest = 0;
	double		w,
				h,
				x,
				y;
	int			row = 0;

	for (int i = 0; i < c->n_series; i++)
		if (c->series[i].label)
		{
			n++;
			longest = Max(longest, Min((int) pg_mbstrlen(c->series[i].label), 40));
		}
	if (n == 0)
		return;
	w = 36 + longest * 6.4;
	h = 8 + 17 * n;
	x = c->legend == SVG_LEGEND_BOTTOM_LEFT ? f->left + 8 : f->left + f->width - w - 8;
	y = c->legend == SVG_LEGEND_TOP_RIGHT ? f->top + 8 : f->top + f->height - h - 8;
	appendStringInfo(buf, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"4\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"%s\"/>",
					 x, y, w, h, GRID);
	for (int i = 0; i < c->n_series; i++)
	{
		const SvgSeries *s = &c->series[i];
		double		ly = y + 14 + 17 * row;

		if (s->label == NULL)
			continue;
		if (s->mark == SVG_POINTS)
			appendStringInfo(buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>",
							 x + 17, ly - 4, s->color);
		else
			appendStringInfo(buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"%s/>",
							 x + 8, ly - 4, x + 26, ly - 4, s->color,
							 s->mark == SVG_DASHED ? " stroke-dasharray=\"5 3\"" : "");
		appendStringInfo(buf, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\">", x + 31, ly, INK);
		html_escape_cut(buf, s->label, 40);
		appendStringInfoString(buf, "</text>");
		row++;
	}
}

/* Draw an x-y chart. */
void
svg_xy_chart(StringInfo buf, const SvgChart *c)
{
	Frame		f = {0};
	double		xlo = INFINITY,
				xhi = -INFINITY,
				ylo = INFINITY,
				yhi = -INFINITY;
	int			w = c->width > 0 ? c->width : 480,
				h = c->height > 0 ? c->height : 340;

	for (int i = 0; i < c->n_series; i++)
		for (int j = 0; j < c->series[i].n; j++)
		{
			double		x = c->series[i].x[j],
						y = c->series[i].y[j];

			if (!isfinite(x) || !isfinite(y))
				continue;
			xlo = Min(xlo, x);
			xhi = Max(xhi, x);
			ylo = Min(ylo, y);
			yhi = Max(yhi, y);
		}
	if (c->same_scale)
	{
		xlo = ylo = Min(xlo, ylo);
		xhi = yhi = Max(xhi, yhi);
	}
	f.x_min = c->x_min;
	f.x_max = c->x_max;
	f.y_min = c->y_min;
	f.y_max = c->y_max;
	axis_range(&f.x_min, &f.x_max, xlo, xhi, &f.x_step);
	axis_range(&f.y_min, &f.y_max, ylo, yhi, &f.y_step);
	f.left = 58;
	f.top = 12;
	f.width = w - 58 - 14;
	f.height = h - 12 - 46;

	svg_open(buf, c->title, w, h);
	draw_axes(buf, &f, c->x_label, c->y_label, true);
	if (c->n_bars > 0)
	{
		double		top = 0;

		/* light bars along the bottom, up to a quarter of the height */
		for (int i = 0; i < c->n_bars; i++)
			if (isfinite(c->bars[i]))
				top = Max(top, c->bars[i]);
		appendStringInfoString(buf, "<g fill=\"#93c5fd\" fill-opacity=\"0.6\">");
		for (int i = 0; i < c->n_bars && top > 0; i++)
		{
			double		bw = f.width / c->n_bars;
			double		bh = isfinite(c->bars[i]) ? c->bars[i] / top * f.height / 4 : 0;

			if (bh > 0)
				appendStringInfo(buf, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
								 f.left + i * bw + 1, f.top + f.height - bh, Max(bw - 2, 0.5), bh);
		}
		appendStringInfoString(buf, "</g>");
	}
	if (c->diagonal)
	{
		double		lo = Max(f.x_min, f.y_min),
					hi = Min(f.x_max, f.y_max);

		if (hi > lo)
			appendStringInfo(buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9aa5b1\" stroke-dasharray=\"4 4\"/>",
							 fx(&f, lo), fy(&f, lo), fx(&f, hi), fy(&f, hi));
	}
	if (isfinite(c->x_marker) && c->x_marker >= f.x_min && c->x_marker <= f.x_max)
	{
		appendStringInfo(buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"3 3\"/>",
						 fx(&f, c->x_marker), f.top, fx(&f, c->x_marker), f.top + f.height, MUTED);
		if (c->x_marker_label)
		{
			bool		right_half = fx(&f, c->x_marker) > f.left + f.width / 2;

			/* the label on the side with room */
			appendStringInfo(buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"" FONT ">",
							 fx(&f, c->x_marker) + (right_half ? -4 : 4), f.top + f.height / 2,
							 right_half ? "end" : "start");
			html_escape(buf, c->x_marker_label);
			appendStringInfoString(buf, "</text>");
		}
	}
	for (int i = 0; i < c->n_series; i++)
		draw_series(buf, &f, &c->series[i]);
	draw_legend(buf, &f, c);
	appendStringInfoString(buf, "</svg>");
}

/* Horizontal bars, one per label, scaled to the largest |value|. */
void
svg_bar_chart(StringInfo buf, const char *title, const char *const *labels,
			  const double *values, int n, const char *color)
{
	const int	row = 22,
				label_w = 220,
				value_w = 70,
				w = 900;
	double		top = 0;
	double		bar_w = w - label_w - value_w - 8;

	for (int i = 0; i < n; i++)
		if (isfinite(values[i]))
			top = Max(top, fabs(values[i]));
	svg_open(buf, title, w, n * row + 8);
	for (int i = 0; i < n; i++)
	{
		double		y = 4 + i * row;
		double		len = top > 0 && isfinite(values[i]) ? fabs(values[i]) / top * bar_w : 0;

		appendStringInfo(buf, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\" fill=\"%s\"><title>",
						 label_w - 8, y + 15, INK);
		html_escape(buf, labels[i]);
		appendStringInfoString(buf, "</title>");
		html_escape_cut(buf, labels[i], 32);
		appendStringInfo(buf, "</text><rect x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" rx=\"3\" fill=\"%s\"/>",
						 label_w, y + 3, Max(len, 1.0), row - 6, color);
		appendStringInfo(buf, "<text x=\"%.1f\" y=\"%.1f\"" FONT ">", label_w + Max(len, 1.0) + 6, y + 15);
		html_number(buf, values[i]);
		appendStringInfoString(buf, "</text>");
	}
	appendStringInfoString(buf, "</svg>");
}

/* A histogram of n bins over edges[0..n]. */
void
svg_histogram(StringInfo buf, const char *title, const double *edges,
			  const double *counts, int n, const char *x_label,
			  const char *color, double marker)
{
	Frame		f = {0};
	double		top = 0;

	for (int i = 0; i < n; i++)
		if (isfinite(counts[i]))
			top = Max(top, counts[i]);
	f.x_min = edges[0];
	f.x_max = edges[n];
	f.y_min = 0;
	f.y_max = NAN;
	axis_range(&f.x_min, &f.x_max, edges[0], edges[n], &f.x_step);
	axis_range(&f.y_min, &f.y_max, 0, Max(top, 1), &f.y_step);
	f.left = 58;
	f.top = 12;
	f.width = 480 - 58 - 14;
	f.height = 340 - 12 - 46;

	svg_open(buf, title, 480, 340);
	draw_axes(buf, &f, x_label, "rows", true);
	appendStringInfo(buf, "<g fill=\"%s\" fill-opacity=\"0.85\">", color);
	for (int i = 0; i < n; i++)
	{
		double		x0 = fx(&f, edges[i]),
					x1 = fx(&f, edges[i + 1]),
					y = fy(&f, isfinite(counts[i]) ? counts[i] : 0);

		if (counts[i] > 0)
			appendStringInfo(buf, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
							 x0 + 0.5, y, Max(x1 - x0 - 1, 0.5), f.top + f.height - y);
	}
	appendStringInfoString(buf, "</g>");
	if (isfinite(marker) && marker >= f.x_min && marker <= f.x_max)
		appendStringInfo(buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>",
						 fx(&f, marker), f.top, fx(&f, marker), f.top + f.height, INK);
	appendStringInfoString(buf, "</svg>");
}

/* Mix two colours given as 0xRRGGBB by t in [0, 1]. */
static void
mix_color(StringInfo buf, uint32 from, uint32 to, double t)
{
	int			rgb[3];

	t = clampd(t, 0, 1);
	for (int c = 0; c < 3; c++)
	{
		int			shift = 16 - 8 * c;
		double		a = (from >> shift) & 0xFF,
					b = (to >> shift) & 0xFF;

		rgb[c] = (int) (a + (b - a) * t + 0.5);
	}
	appendStringInfo(buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* A k x k heat map of counts, each cell shaded by its share of its row. */
void
svg_heatmap(StringInfo buf, const char *title, const char *const *labels,
			int k, const int64 *counts, const char *row_axis, const char *col_axis)
{
	int			cell = Max(18, Min(96, 440 / Max(k, 1)));
	int			left = 150,
				top = 10;
	bool		tilt = k > 5;
	int			bottom = tilt ? 96 : 50;
	int			w = left + k * cell + 12,
				h = top + k * cell + bottom;
	int			font = cell >= 44 ? 13 : cell >= 30 ? 11 : 9;

	svg_open(buf, title, w, h);
	for (int i = 0; i < k; i++)
	{
		int64		row_total = 0;

		for (int j = 0; j < k; j++)
			row_total += counts[i * k + j];
		for (int j = 0; j < k; j++)
		{
			int64		v = counts[i * k + j];
			double		share = row_total > 0 ? (double) v / row_total : 0;
			int			x = left + j * cell,
						y = top + i * cell;

			appendStringInfo(buf, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"", x, y, cell - 2, cell - 2);
			if (v == 0)
				appendStringInfoString(buf, "#f5f7fa");
			else if (i == j)
				mix_color(buf, 0xdbeafe, 0x1d4ed8, 0.15 + 0.85 * share);
			else
				mix_color(buf, 0xffedd5, 0xc2410c, 0.15 + 0.85 * share);
			appendStringInfo(buf, "\"><title>%lld of %lld (", (long long) v, (long long) row_total);
			html_number(buf, share * 100);
			appendStringInfoString(buf, "%)</title></rect>");
			appendStringInfo(buf, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"%d\" font-weight=\"600\" fill=\"%s\">%lld</text>",
							 x + (cell - 2) / 2, y + (cell - 2) / 2 + (cell >= 44 ? 0 : font / 2 - 1), font,
							 v > 0 && share > 0.5 ? "#ffffff" : INK, (long long) v);
			if (cell >= 44 && v > 0)
				appendStringInfo(buf, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\" fill=\"%s\">%.0f%%</text>",
								 x + (cell - 2) / 2, y + (cell - 2) / 2 + 14,
								 share > 0.5 ? "#dbeafe" : MUTED, share * 100);
		}
		/* the row's label */
		appendStringInfo(buf, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"12\" fill=\"%s\"><title>",
						 left - 8, top + i * cell + (cell - 2) / 2 + 4, INK);
		html_escape(buf, labels[i]);
		appendStringInfoString(buf, "</title>");
		html_escape_cut(buf, labels[i], 20);
		appendStringInfoString(buf, "</text>");
	}
	for (int j = 0; j < k; j++)
	{
		int			x = left + j * cell + (cell - 2) / 2,
					y = top + k * cell + 14;

		if (tilt)
			appendStringInfo(buf, "<text transform=\"translate(%d %d) rotate(-40)\" text-anchor=\"end\" font-size=\"12\" fill=\"%s\">",
							 x + 4, y - 4, INK);
		else
			appendStringInfo(buf, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\" fill=\"%s\">", x, y, INK);
		appendStringInfoString(buf, "<title>");
		html_escape(buf, labels[j]);
		appendStringInfoString(buf, "</title>");
		html_escape_cut(buf, labels[j], tilt ? 14 : Max(4, cell / 7));
		appendStringInfoString(buf, "</text>");
	}
	appendStringInfo(buf, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"600\" fill=\"%s\">",
					 left + k * cell / 2, h - 8, MUTED);
	html_escape(buf, col_axis);
	appendStringInfo(buf, "</text><text transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"600\" fill=\"%s\">",
					 top + k * cell / 2, MUTED);
	html_escape(buf, row_axis);
	appendStringInfoString(buf, "</text></svg>");
}

/* Tiny bars for a table cell, scaled to their maximum. */
void
svg_sparkbars(StringInfo buf, const double *heights, int n, const char *color)
{
	const int	w = 120,
				h = 28;
	double		top = 0;

	for (int i = 0; i < n; i++)
		if (isfinite(heights[i]))
			top = Max(top, heights[i]);
	appendStringInfo(buf, "<svg class=\"spark\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"distribution\"><g fill=\"%s\">",
					 w, h, w, h, color);
	for (int i = 0; i < n && top > 0; i++)
	{
		double		bw = (double) w / n;
		double		bh = isfinite(heights[i]) ? heights[i] / top * (h - 2) : 0;

		appendStringInfo(buf, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
						 i * bw + 0.5, h - bh, Max(bw - 1, 0.5), bh);
	}
	appendStringInfo(buf, "</g><line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"/></svg>", h, w, h, GRID);
}

/* A tiny histogram over bins of any widths, bars as high as their density. */
void
svg_sparkhist(StringInfo buf, const double *edges, const double *counts, int n,
			  const char *color)
{
	const int	w = 120,
				h = 28;
	double		lo = edges[0],
				hi = edges[n];
	double		min_width = (hi - lo) / 200;
	double		top = 0;
	double	   *density;

	if (!(hi > lo) || !isfinite(hi - lo))
	{
		svg_sparkbars(buf, counts, n, color);
		return;
	}
	density = palloc(sizeof(double) * n);
	/* a bin of one repeated value has no width: give it a sliver */
	for (int i = 0; i < n; i++)
	{
		density[i] = isfinite(counts[i]) ? counts[i] / Max(edges[i + 1] - edges[i], min_width) : 0;
		top = Max(top, density[i]);
	}
	appendStringInfo(buf, "<svg class=\"spark\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"distribution\"><g fill=\"%s\">",
					 w, h, w, h, color);
	for (int i = 0; i < n && top > 0; i++)
	{
		double		x0 = (edges[i] - lo) / (hi - lo) * w,
					x1 = (edges[i + 1] - lo) / (hi - lo) * w,
					bh = density[i] / top * (h - 2);

		appendStringInfo(buf, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
						 x0, h - bh, Max(x1 - x0 - 0.6, 0.8), bh);
	}
	appendStringInfo(buf, "</g><line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"/></svg>", h, w, h, GRID);
	pfree(density);
}
