/*
 * svg.h — HTML escaping and small inline-SVG charts (svg.c), written into a
 * StringInfo: line and scatter charts with axes and a legend, horizontal
 * bars, histograms, a heat map and sparkline bars.  The model card draws
 * with them.
 *
 * Every text that reaches the output (titles, labels, legend entries) is
 * escaped here; callers pass plain strings.  Non-finite values are skipped.
 * Charts have a viewBox and no fixed size: the page's CSS sizes them.
 */
#ifndef GALAXY_SVG_H
#define GALAXY_SVG_H

#include "lib/stringinfo.h"

/*
 * Append s with & < > " ' escaped (safe in text and in quoted attributes);
 * backslashes, tabs and line breaks become character references too, so a
 * page built with it holds none (COPY ... TO STDOUT leaves it unchanged).
 */
extern void html_escape(StringInfo buf, const char *s);
/* The same, cut to at most max_chars characters (UTF-8) with an ellipsis. */
extern void html_escape_cut(StringInfo buf, const char *s, int max_chars);
/* A number for people: up to 4 significant digits ("—" when not finite). */
extern void html_number(StringInfo buf, double v);

/* Colours of successive series, and how many there are. */
#define SVG_PALETTE_SIZE 10
extern const char *const svg_palette[SVG_PALETTE_SIZE];

/* How a series is drawn. */
typedef enum SvgMark
{
	SVG_LINE,					/* a solid line through the points */
	SVG_DASHED,					/* a dashed line */
	SVG_POINTS,					/* a dot per point */
	SVG_LINE_POINTS				/* a line with a dot per point */
} SvgMark;

/* Where the legend sits inside the plot area. */
typedef enum SvgLegendPlace
{
	SVG_LEGEND_TOP_RIGHT,
	SVG_LEGEND_BOTTOM_RIGHT,
	SVG_LEGEND_BOTTOM_LEFT
} SvgLegendPlace;

/* One series of an x-y chart. */
typedef struct SvgSeries
{
	const char *label;			/* legend entry; NULL: none */
	const double *x;
	const double *y;
	int			n;
	const char *color;			/* a CSS colour */
	SvgMark		mark;
} SvgSeries;

/* An x-y chart: axes with ticks, optional y = x line, series, legend. */
typedef struct SvgChart
{
	const char *title;			/* aria-label of the chart */
	const char *x_label;
	const char *y_label;
	double		x_min,			/* axis ranges; NaN: from the data */
				x_max,
				y_min,
				y_max;
	bool		diagonal;		/* draw the dashed y = x reference line */
	bool		same_scale;		/* both axes over the range of all values */
	double		x_marker;		/* a dashed vertical line here (NaN: none) */
	const char *x_marker_label;
	SvgLegendPlace legend;
	int			n_series;
	const SvgSeries *series;
	int			n_bars;			/* light bars along the bottom, over equal */
	const double *bars;			/* parts of the x range (e.g. rows per bin) */
	int			width,			/* in viewBox units; 0: 480 x 340 */
				height;
} SvgChart;

/* Draw an x-y chart. */
extern void svg_xy_chart(StringInfo buf, const SvgChart *c);

/*
 * Horizontal bars, one per label in the given order, scaled to the largest
 * |value|; each bar carries its value.
 */
extern void svg_bar_chart(StringInfo buf, const char *title, const char *const *labels,
						  const double *values, int n, const char *color);

/*
 * A histogram: counts[i] rows in [edges[i], edges[i + 1]), n bins; a dashed
 * vertical line at marker when it is finite (e.g. 0 for residuals).
 */
extern void svg_histogram(StringInfo buf, const char *title, const double *edges,
						  const double *counts, int n, const char *x_label,
						  const char *color, double marker);

/*
 * A k x k heat map of counts (row-major, row = actual, column = predicted):
 * each cell shows its count and its share of the row; the diagonal is
 * shaded blue, the rest orange, by that share.
 */
extern void svg_heatmap(StringInfo buf, const char *title, const char *const *labels,
						int k, const int64 *counts, const char *row_axis,
						const char *col_axis);

/* Tiny bars (no axes) for a table cell: n heights scaled to their maximum. */
extern void svg_sparkbars(StringInfo buf, const double *heights, int n,
						  const char *color);
/*
 * A tiny histogram for a table cell over bins of any widths (edges[0..n]):
 * each bar as wide as its bin and as high as its density (count / width),
 * so equal-frequency bins still show the distribution's shape.
 */
extern void svg_sparkhist(StringInfo buf, const double *edges, const double *counts,
						  int n, const char *color);

#endif							/* GALAXY_SVG_H */
