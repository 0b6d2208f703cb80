/* svg_chart.h - charts drawn by the server as inline SVG for the quarterly
 * report notes: "monthly dynamics, this year against last", one pair of
 * bars per month from January to the quarter's last month. The SVG is
 * self-contained and printable (170 mm wide, for an A4 page), uses
 * presentation attributes only (the pages' Content-Security-Policy forbids
 * inline styles) and carries its figures as text for screen readers and
 * for a text search of the printed page. Nothing here keeps state. */
#ifndef DALA_SVG_CHART_H
#define DALA_SVG_CHART_H

#include "dala_sync.h"

#include <stdint.h>

#define SVG_CHART_MAX_MONTHS 12

/* One chart; every text is UTF-8 and borrowed for the call only. */
typedef struct svg_chart {
    const char *title;       /* UTF-8, e.g. "Қылмыстар: айлар бойынша" (escaped by you) */
    const char *legend_this; /* "2026" */
    const char *legend_last; /* "2025" */
    const char *month_labels[SVG_CHART_MAX_MONTHS]; /* short labels, e.g. "қаң", "ақп" */
    int64_t this_year[SVG_CHART_MAX_MONTHS];
    int64_t last_year[SVG_CHART_MAX_MONTHS];
    int months; /* 1..12: the months shown (January up to the quarter's last month) */
} svg_chart;

/**
 * Appends a self-contained SVG of `chart`: for each month, last year's bar
 * (grey, #9aa5b1) beside this year's (dark blue, #1f4e79) with its count
 * written above it; a legend; a y axis with "nice" round ticks (steps of
 * 1, 2 or 5 x 10^n from svg_nice_step(), up to the first tick at or above
 * the largest count; 0..1 when every count is zero) and their gridlines;
 * the month labels under the bars. Bar heights are proportional to the
 * counts (to a tenth of a unit of the viewBox) and the tallest reaches the
 * top tick at most.
 *
 * The title is drawn above the legend, on two lines split at a space when
 * it looks too wide for one (a line still too wide is squeezed to fit).
 * The root element has xmlns, a viewBox, width="170mm" and a height in mm
 * to match, role="img", aria-label (the title) and font-family="sans-serif";
 * then a <title> (the title) and a <desc> listing every month's figures,
 * e.g. "қаң: 2025 — 3, 2026 — 5; ақп: 2025 — 4, 2026 — 6." (the legends
 * name the years; counts in plain digits there, grouped by no-break spaces
 * on the chart from 10 000 up, and written upwards when too wide for their
 * bars). No scripts, no <style>, no style attributes, no
 * external references. All text is XML-escaped (& < > " '), control
 * characters become '?'. Counts up to INT64_MAX are drawn correctly.
 *
 * @param out    the buffer appended to; on failure its length is set back
 *               to what it was, so the caller's bytes are as they were.
 * @param chart  the chart; its texts must be non-NULL, valid UTF-8, for the
 *               first `months` labels too. Borrowed.
 * @return DALA_OK; DALA_EINVAL (NULL `out` or `chart`, `months` outside
 *         1..SVG_CHART_MAX_MONTHS, a negative count, a NULL or invalid
 *         UTF-8 text; dala_errmsg() says which); DALA_ENOMEM or
 *         DALA_ELIMIT (the buffer's cap) from the buffer.
 */
int svg_month_chart(dala_buf *out, const svg_chart *chart);

/* The nice tick step for a maximum value (exposed for tests): the smallest
 * of 1, 2, 5 x 10^n such that max/step <= 5; 1 for max <= 5 (and for a
 * negative max). Never overflows: the step of INT64_MAX is 2 x 10^18. */
int64_t svg_nice_step(int64_t max);

#endif /* DALA_SVG_CHART_H */
