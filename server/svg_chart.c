/* svg_chart.c - the grouped bar chart of the quarterly report notes
 * ("monthly dynamics, this year against last") as inline SVG: the layout
 * (a header with the title and legend, room for the values above the bars,
 * the plot, the month labels), the nice ticks of the y axis, and the
 * drawing. Coordinates are kept in tenths of a viewBox unit as integers and
 * printed without printf's %f, so no locale can turn a decimal point into
 * a comma. */
#include "svg_chart.h"
#include "markup.h"
#include "sync_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define COLOUR_LAST "#9aa5b1"
#define COLOUR_THIS "#1f4e79"
#define COLOUR_TEXT "#222"
#define COLOUR_GRID "#d5dae0"
#define COLOUR_AXIS "#5b6570"

/* The viewBox is 680 units wide, 4 to the millimetre: 170 mm on paper.
 * Positions below are in tenths of a unit unless they say otherwise. */
#define VIEW_WIDTH 680
#define UNITS_PER_MM 4
#define TITLE_X 40
#define TITLE_BASELINE 220
#define TITLE_WIDTH 6720    /* the widest a line of the title may be */
#define TITLE_LINE 200      /* a second line of the title pushes all below down */
#define LEGEND_TOP 400      /* the swatches' top; 12 units square */
#define LEGEND_SWATCH 120
#define LEGEND_BASELINE 510
#define HEADER_HEIGHT 620   /* title and legend, above the values' room */
#define PLOT_HEIGHT 2200    /* from the zero line to the top tick */
#define FOOTER_HEIGHT 300   /* the month labels under the plot */
#define MONTH_BASELINE 170  /* below the zero line */
#define RIGHT_MARGIN 80
#define BAR_GAP 20          /* between a month's two bars */
#define MAX_BAR_WIDTH 480   /* a wide bar, of one or two months */
#define TEXT_LIFT 40        /* from a bar's top or a tick to the text's baseline */

/* Font sizes in units, and their attributes. */
#define STRINGIFY(x) #x
#define FONT_SIZE(size) "font-size=\"" STRINGIFY(size) "\""
#define TITLE_SIZE 16
#define LEGEND_SIZE 12
#define AXIS_SIZE 11
#define VALUE_SIZE 10
#define TEXT_FILL "fill=\"" COLOUR_TEXT "\""
/* Estimates of a glyph's advance in sans-serif, in thousandths of an em:
 * wide enough for digits and Cyrillic in DejaVu Sans, the widest of the
 * usual sans-serif fonts, regular and bold. */
#define GLYPH_PER_MILLE 650
#define BOLD_GLYPH_PER_MILLE 720

/* Where everything goes; lengths and positions in tenths of a unit. */
typedef struct layout {
    uint64_t step, top;  /* the tick step and the top tick, step * ticks */
    int ticks;           /* tick intervals above zero, 1..5 */
    int64_t left;        /* the y axis */
    int64_t plot_width, plot_top, plot_bottom;
    int64_t group_width, bar_width;
    int is_rotated;      /* values written upwards: too wide for their bar */
    size_t title_break;  /* bytes of the title on its first line: all, or up to a space */
    int64_t shift;       /* TITLE_LINE when the title takes two lines, else 0 */
    int64_t height;      /* of the whole drawing */
} layout;

int64_t svg_nice_step(int64_t max)
{
    static const int64_t multipliers[3] = {1, 2, 5};
    if (max <= 5) return 1;
    /* max / step <= 5 without computing 5 * step, which could overflow.
     * 2 x 10^18 satisfies it for INT64_MAX, so the loop ends before the
     * power of ten could overflow. */
    for (int64_t power = 1;; power *= 10)
        for (int i = 0; i < 3; i++) {
            int64_t step = multipliers[i] * power, quotient = max / step;
            if (quotient < 5 || (quotient == 5 && max % step == 0)) return step;
        }
}

/* --- text ------------------------------------------------------------------- */

/* Characters (code points) in `len` bytes of valid UTF-8: the bytes that
 * start one. */
static int64_t utf8_chars(const char *text, size_t len)
{
    int64_t count = 0;
    for (size_t i = 0; i < len; i++) count += ((unsigned char)text[i] & 0xC0) != 0x80;
    return count;
}

/* The estimated width, in tenths, of `len` bytes of text at font size
 * `size` (in units) and `per_mille` of an em a character. */
static int64_t text_width_n(const char *text, size_t len, int size, int per_mille)
{
    return utf8_chars(text, len) * size * per_mille / 100;
}

static int64_t text_width(const char *text, int size)
{
    return text_width_n(text, strlen(text), size, GLYPH_PER_MILLE);
}

/* Room for a count as text: 20 digits, 6 two-byte separators and a NUL. */
#define COUNT_TEXT_SIZE 33

/* `value` in decimal into `out` (COUNT_TEXT_SIZE bytes), from five digits
 * on in groups of three split by no-break spaces (U+00A0), as Kazakh and
 * Russian print "1 000 000"; the chart's labels, not the <desc>. */
static void format_count(char *out, uint64_t value)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)value), k = 0;
    assert(n > 0 && n < (int)sizeof digits);
    for (int i = 0; i < n; i++) {
        if (n >= 5 && i > 0 && (n - i) % 3 == 0) {
            out[k++] = (char)0xC2;
            out[k++] = (char)0xA0;
        }
        out[k++] = digits[i];
    }
    assert(k < COUNT_TEXT_SIZE);
    out[k] = '\0';
}

/* A length in tenths as viewBox text: "123", "123.4", "-0.5". */
static void format_tenths(char *out, int64_t tenths)
{
    const char *sign = tenths < 0 ? "-" : "";
    uint64_t magnitude = tenths < 0 ? 0 - (uint64_t)tenths : (uint64_t)tenths;
    if (magnitude % 10) snprintf(out, 32, "%s%llu.%u", sign, (unsigned long long)(magnitude / 10), (unsigned)(magnitude % 10));
    else snprintf(out, 32, "%s%llu", sign, (unsigned long long)(magnitude / 10));
}

/* <text x y attributes>escaped text</text>, at a position in tenths. */
static int append_text(dala_buf *out, int64_t x, int64_t y, const char *attributes, const char *text)
{
    char xs[32], ys[32];
    format_tenths(xs, x);
    format_tenths(ys, y);
    int rc = markup_format(out, "<text x=\"%s\" y=\"%s\" %s>", xs, ys, attributes);
    if (!rc) rc = markup_text(out, text);
    if (!rc) rc = markup_format(out, "</text>");
    return rc;
}

/* A filled rectangle, in tenths. */
static int append_rect(dala_buf *out, int64_t x, int64_t y, int64_t width, int64_t height, const char *fill)
{
    char xs[32], ys[32], ws[32], hs[32];
    format_tenths(xs, x);
    format_tenths(ys, y);
    format_tenths(ws, width);
    format_tenths(hs, height);
    return markup_format(out, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"/>", xs, ys, ws, hs, fill);
}

/* A horizontal or vertical line, in tenths. */
static int append_line(dala_buf *out, int64_t x1, int64_t y1, int64_t x2, int64_t y2, const char *stroke)
{
    char a[32], b[32], c[32], d[32];
    format_tenths(a, x1);
    format_tenths(b, y1);
    format_tenths(c, x2);
    format_tenths(d, y2);
    return markup_format(out, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" stroke-width=\"1\"/>",
                         a, b, c, d, stroke);
}

/* --- layout ----------------------------------------------------------------- */

/* A text of the chart must be there and be UTF-8, or the SVG is not XML. */
static int check_text(const char *text, const char *what)
{
    if (!text) return dala_error_set(DALA_EINVAL, "svg chart: no %s", what);
    if (!dala_utf8_is_valid((const uint8_t *)text, strlen(text)))
        return dala_error_set(DALA_EINVAL, "svg chart: the %s is not valid UTF-8", what);
    return DALA_OK;
}

static int check_chart(const dala_buf *out, const svg_chart *chart)
{
    if (!out || !chart) return dala_error_set(DALA_EINVAL, "svg chart: no buffer or no chart");
    if (chart->months < 1 || chart->months > SVG_CHART_MAX_MONTHS)
        return dala_error_set(DALA_EINVAL, "svg chart: %d months, not 1 to %d", chart->months, SVG_CHART_MAX_MONTHS);
    int rc = check_text(chart->title, "title");
    if (!rc) rc = check_text(chart->legend_this, "legend of this year");
    if (!rc) rc = check_text(chart->legend_last, "legend of last year");
    for (int i = 0; i < chart->months && !rc; i++) {
        char what[40];
        snprintf(what, sizeof what, "label of month %d", i + 1);
        rc = check_text(chart->month_labels[i], what);
        if (!rc && (chart->this_year[i] < 0 || chart->last_year[i] < 0))
            rc = dala_error_set(DALA_EINVAL, "svg chart: a negative count in month %d (%lld this year, %lld last)", i + 1,
                                (long long)chart->this_year[i], (long long)chart->last_year[i]);
    }
    return rc;
}

/* The widest value written above a bar, in tenths. */
static int64_t widest_value(const svg_chart *chart)
{
    int64_t widest = 0;
    char text[COUNT_TEXT_SIZE];
    for (int i = 0; i < chart->months; i++)
        for (int year = 0; year < 2; year++) {
            format_count(text, (uint64_t)(year ? chart->this_year[i] : chart->last_year[i]));
            int64_t width = text_width(text, VALUE_SIZE);
            if (width > widest) widest = width;
        }
    return widest;
}

static int64_t title_width(const char *text, size_t len)
{
    return text_width_n(text, len, TITLE_SIZE, BOLD_GLYPH_PER_MILLE);
}

/* Where a title too wide for one line breaks: at the space that makes the
 * two lines most even, the first fitting. Its whole length if it fits, or
 * if no space will do (a line too wide is squeezed when drawn). */
static size_t break_title(const char *title)
{
    size_t len = strlen(title), at = len;
    int64_t total = utf8_chars(title, len), chars = 0, best = -1;
    if (title_width(title, len) <= TITLE_WIDTH) return len;
    for (size_t i = 0; i < len; i++) {
        int64_t longer = chars > total - chars - 1 ? chars : total - chars - 1;
        int is_fitting = chars * TITLE_SIZE * BOLD_GLYPH_PER_MILLE / 100 <= TITLE_WIDTH; /* title_width(title, i) */
        if (title[i] == ' ' && is_fitting && (best < 0 || longer < best)) {
            best = longer;
            at = i;
        }
        chars += ((unsigned char)title[i] & 0xC0) != 0x80;
    }
    return at;
}

static void plan_layout(layout *l, const svg_chart *chart)
{
    int64_t max = 0;
    for (int i = 0; i < chart->months; i++) {
        if (chart->this_year[i] > max) max = chart->this_year[i];
        if (chart->last_year[i] > max) max = chart->last_year[i];
    }
    l->step = (uint64_t)svg_nice_step(max);
    l->ticks = (int)((uint64_t)max / l->step + ((uint64_t)max % l->step != 0));
    if (l->ticks == 0) l->ticks = 1; /* all zero: a scale of 0..1 */
    l->top = l->step * (uint64_t)l->ticks; /* at most 5 x 2 x 10^18: fits */
    char top_text[COUNT_TEXT_SIZE];
    format_count(top_text, l->top);
    l->left = text_width(top_text, AXIS_SIZE) + 140; /* labels end 6 units left of the axis */
    if (l->left < 360) l->left = 360;
    l->plot_width = VIEW_WIDTH * 10 - l->left - RIGHT_MARGIN;
    l->group_width = l->plot_width / chart->months;
    l->bar_width = l->group_width * 40 / 100;
    if (l->bar_width > MAX_BAR_WIDTH) l->bar_width = MAX_BAR_WIDTH;
    /* The centres of a month's bars are a bar and a gap apart: a value
     * wider than that, less 2 units of air, would touch its neighbour. */
    int64_t widest = widest_value(chart);
    l->is_rotated = widest > l->bar_width + BAR_GAP - 20;
    int64_t value_room = (l->is_rotated ? widest : VALUE_SIZE * 10) + 2 * TEXT_LIFT;
    l->title_break = break_title(chart->title);
    l->shift = l->title_break < strlen(chart->title) ? TITLE_LINE : 0;
    l->plot_top = HEADER_HEIGHT + l->shift + value_room;
    l->plot_bottom = l->plot_top + PLOT_HEIGHT;
    l->height = l->plot_bottom + FOOTER_HEIGHT;
    /* A whole number of millimetres, for a clean viewBox and height. */
    int64_t tenths_per_mm = 10 * UNITS_PER_MM;
    l->height = (l->height + tenths_per_mm - 1) / tenths_per_mm * tenths_per_mm;
}

/* --- drawing ------------------------------------------------------------------ */

/* The root element, <title> and the <desc> of every month's figures. */
static int put_head(dala_buf *out, const svg_chart *chart, const layout *l)
{
    int rc = markup_format(out,
                           "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %lld\" width=\"%dmm\" height=\"%lldmm\""
                           " font-family=\"sans-serif\" role=\"img\" aria-label=\"",
                           VIEW_WIDTH, (long long)(l->height / 10), VIEW_WIDTH / UNITS_PER_MM,
                           (long long)(l->height / 10 / UNITS_PER_MM));
    if (!rc) rc = markup_text(out, chart->title);
    if (!rc) rc = markup_format(out, "\"><title>");
    if (!rc) rc = markup_text(out, chart->title);
    if (!rc) rc = markup_format(out, "</title><desc>");
    for (int i = 0; i < chart->months && !rc; i++) {
        rc = markup_text(out, chart->month_labels[i]);
        if (!rc) rc = markup_format(out, ": ");
        if (!rc) rc = markup_text(out, chart->legend_last);
        if (!rc) rc = markup_format(out, " — %lld, ", (long long)chart->last_year[i]);
        if (!rc) rc = markup_text(out, chart->legend_this);
        if (!rc) rc = markup_format(out, " — %lld%s", (long long)chart->this_year[i], i + 1 < chart->months ? "; " : ".");
    }
    if (!rc) rc = markup_format(out, "</desc>");
    return rc;
}

/* One line of the title: `len` bytes of `text`, squeezed to the width
 * available if it looks too wide for it. */
static int put_title_line(dala_buf *out, int64_t baseline, const char *text, size_t len)
{
    char x[32], y[32], fit[80] = "";
    format_tenths(x, TITLE_X);
    format_tenths(y, baseline);
    if (title_width(text, len) > TITLE_WIDTH)
        snprintf(fit, sizeof fit, " textLength=\"%d\" lengthAdjust=\"spacingAndGlyphs\"", TITLE_WIDTH / 10);
    int rc = markup_format(out, "<text x=\"%s\" y=\"%s\" " FONT_SIZE(TITLE_SIZE) " font-weight=\"bold\" " TEXT_FILL "%s>",
                           x, y, fit);
    if (!rc) rc = markup_text_n(out, text, len);
    if (!rc) rc = markup_format(out, "</text>");
    return rc;
}

/* The title on one line or two, and a swatch and name for each year, last
 * year first as in the bars. */
static int put_title_and_legend(dala_buf *out, const svg_chart *chart, const layout *l)
{
    const char *title = chart->title, *rest = title + l->title_break;
    int rc = put_title_line(out, TITLE_BASELINE, title, l->title_break);
    if (!rc && *rest) rc = put_title_line(out, TITLE_BASELINE + TITLE_LINE, rest + 1, strlen(rest + 1));
    int64_t x = l->left, name_offset = LEGEND_SWATCH + 50, top = LEGEND_TOP + l->shift, baseline = LEGEND_BASELINE + l->shift;
    if (!rc) rc = append_rect(out, x, top, LEGEND_SWATCH, LEGEND_SWATCH, COLOUR_LAST);
    if (!rc) rc = append_text(out, x + name_offset, baseline, FONT_SIZE(LEGEND_SIZE) " " TEXT_FILL, chart->legend_last);
    x += name_offset + text_width(chart->legend_last, LEGEND_SIZE) + 200;
    if (!rc) rc = append_rect(out, x, top, LEGEND_SWATCH, LEGEND_SWATCH, COLOUR_THIS);
    if (!rc) rc = append_text(out, x + name_offset, baseline, FONT_SIZE(LEGEND_SIZE) " " TEXT_FILL, chart->legend_this);
    return rc;
}

/* Gridlines and labels at each tick, the y axis and the zero line. */
static int put_axis(dala_buf *out, const layout *l)
{
    int rc = DALA_OK;
    char label[COUNT_TEXT_SIZE];
    for (int i = 0; i <= l->ticks && !rc; i++) {
        int64_t y = l->plot_bottom - (int64_t)i * PLOT_HEIGHT / l->ticks;
        if (i > 0) rc = append_line(out, l->left, y, l->left + l->plot_width, y, COLOUR_GRID);
        format_count(label, l->step * (uint64_t)i);
        if (!rc) rc = append_text(out, l->left - 60, y + TEXT_LIFT, FONT_SIZE(AXIS_SIZE) " text-anchor=\"end\" " TEXT_FILL, label);
    }
    if (!rc) rc = append_line(out, l->left, l->plot_top, l->left, l->plot_bottom, COLOUR_AXIS);
    if (!rc) rc = append_line(out, l->left, l->plot_bottom, l->left + l->plot_width, l->plot_bottom, COLOUR_AXIS);
    return rc;
}

/* One bar with its count above it; `x` is its left edge. */
static int put_bar(dala_buf *out, const layout *l, int64_t x, int64_t count, const char *fill)
{
    /* In double: the ratio of two counts up to 10^19 needs no more. */
    int64_t height = (int64_t)((double)count / (double)l->top * PLOT_HEIGHT + 0.5);
    if (height > PLOT_HEIGHT) height = PLOT_HEIGHT;
    int64_t y = l->plot_bottom - height, centre = x + l->bar_width / 2;
    char text[COUNT_TEXT_SIZE];
    format_count(text, (uint64_t)count);
    int rc = append_rect(out, x, y, l->bar_width, height, fill);
    if (rc) return rc;
    if (!l->is_rotated)
        return append_text(out, centre, y - TEXT_LIFT, FONT_SIZE(VALUE_SIZE) " text-anchor=\"middle\" " TEXT_FILL, text);
    /* Upwards from just above the bar; the baseline a third of an em right
     * of the centre, so the glyphs sit over the bar. */
    int64_t baseline_x = centre + VALUE_SIZE * 10 / 3, baseline_y = y - TEXT_LIFT;
    char attributes[160], xs[32], ys[32];
    format_tenths(xs, baseline_x);
    format_tenths(ys, baseline_y);
    snprintf(attributes, sizeof attributes, FONT_SIZE(VALUE_SIZE) " transform=\"rotate(-90 %s %s)\" " TEXT_FILL, xs, ys);
    return append_text(out, baseline_x, baseline_y, attributes, text);
}

/* Month `i`: last year's bar left of this year's, the label under both. */
static int put_month(dala_buf *out, const svg_chart *chart, const layout *l, int i)
{
    int64_t centre = l->left + (int64_t)i * l->group_width + l->group_width / 2;
    int rc = put_bar(out, l, centre - BAR_GAP / 2 - l->bar_width, chart->last_year[i], COLOUR_LAST);
    if (!rc) rc = put_bar(out, l, centre + BAR_GAP / 2, chart->this_year[i], COLOUR_THIS);
    if (!rc)
        rc = append_text(out, centre, l->plot_bottom + MONTH_BASELINE, FONT_SIZE(AXIS_SIZE) " text-anchor=\"middle\" " TEXT_FILL,
                         chart->month_labels[i]);
    return rc;
}

int svg_month_chart(dala_buf *out, const svg_chart *chart)
{
    int rc = check_chart(out, chart);
    if (rc) return rc;
    layout l;
    plan_layout(&l, chart);
    size_t start = out->len;
    rc = put_head(out, chart, &l);
    if (!rc) rc = put_title_and_legend(out, chart, &l);
    if (!rc) rc = put_axis(out, &l);
    for (int i = 0; i < chart->months && !rc; i++) rc = put_month(out, chart, &l, i);
    if (!rc) rc = markup_format(out, "</svg>");
    if (rc) out->len = start;
    return rc;
}
