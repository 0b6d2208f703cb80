/* test_svg_chart.c - the report notes' bar charts of server/svg_chart.c:
 * the nice tick steps against worked answers; the SVG well-formed by
 * xmllint (Debian package libxml2-utils) and self-contained; the bars read
 * back out of the SVG, proportional to their counts and under the top
 * tick; escaping, Cyrillic labels and the <desc> of the figures; bad
 * arguments, a buffer cap hit at every byte and failing allocations all
 * leave the caller's buffer exactly as it was. */
#include "svg_chart.h"
#include "sync_int.h"
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))
#define GREY "#9aa5b1"
#define BLUE "#1f4e79"

static const char *const kazakh_months[SVG_CHART_MAX_MONTHS] = {
    "қаң", "ақп", "нау", "сәу", "мам", "мау", "шіл", "там", "қыр", "қаз", "қар", "жел",
};

/* A chart of the first `months` months with the Kazakh labels; the counts
 * are the caller's. */
static svg_chart make_chart(int months)
{
    svg_chart chart;
    memset(&chart, 0, sizeof chart);
    chart.title = "Қылмыстар: айлар бойынша";
    chart.legend_this = "2026";
    chart.legend_last = "2025";
    for (int i = 0; i < SVG_CHART_MAX_MONTHS; i++) chart.month_labels[i] = kazakh_months[i];
    chart.months = months;
    return chart;
}

/* make_chart(months) with the counts of its months: last_year[i] and
 * this_year[i] from `last` and `now`, `months` items each. */
static svg_chart make_chart_with_counts(int months, const int64_t *last, const int64_t *now)
{
    svg_chart chart = make_chart(months);
    memcpy(chart.last_year, last, (size_t)months * sizeof *last);
    memcpy(chart.this_year, now, (size_t)months * sizeof *now);
    return chart;
}

/* The chart's SVG as a NUL-terminated string in `svg` (reset first). */
static const char *draw(dala_buf *svg, const svg_chart *chart)
{
    dala_buf_reset(svg);
    int rc = svg_month_chart(svg, chart);
    CHECK_OK(rc);
    if (rc || dala_buf_append(svg, "", 1)) return "";
    return (const char *)svg->data;
}

/* --- reading the SVG back ---------------------------------------------------- */

/* The value of attribute `name` of the element starting at `element`, in
 * `value` (size bytes); 0 if the element has no such attribute. */
static int get_attribute(const char *element, const char *name, char *value, size_t size)
{
    char key[64];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *end = strchr(element, '>'), *at = strstr(element, key);
    if (!end || !at || at > end) return 0;
    at += strlen(key);
    const char *quote = strchr(at, '"');
    size_t len = quote ? (size_t)(quote - at) : 0;
    if (!quote || len >= size) return 0;
    memcpy(value, at, len);
    value[len] = '\0';
    return 1;
}

static double number_attribute(const char *element, const char *name)
{
    char value[64];
    if (!get_attribute(element, name, value, sizeof value)) {
        test_fail(__FILE__, __LINE__, "no %s in %.60s", name, element);
        return -1;
    }
    return strtod(value, NULL);
}

typedef struct rect {
    double x, y, width, height;
    char fill[16];
} rect;

/* The <rect> elements in document order; returns how many (at most max). */
static int read_rects(const char *svg, rect *rects, int max)
{
    int n = 0;
    for (const char *p = strstr(svg, "<rect "); p && n < max; p = strstr(p + 1, "<rect "), n++) {
        rects[n].x = number_attribute(p, "x");
        rects[n].y = number_attribute(p, "y");
        rects[n].width = number_attribute(p, "width");
        rects[n].height = number_attribute(p, "height");
        if (!get_attribute(p, "fill", rects[n].fill, sizeof rects[n].fill)) rects[n].fill[0] = '\0';
    }
    return n;
}

/* The y of the horizontal <line>s: the top tick's gridline (the smallest y)
 * and the zero line (the largest). */
static void read_tick_lines(const char *svg, double *top_y, double *zero_y)
{
    *top_y = 1e9;
    *zero_y = -1;
    for (const char *p = strstr(svg, "<line "); p; p = strstr(p + 1, "<line ")) {
        double y1 = number_attribute(p, "y1");
        if (y1 != number_attribute(p, "y2")) continue; /* the y axis */
        if (y1 < *top_y) *top_y = y1;
        if (y1 > *zero_y) *zero_y = y1;
    }
}

/* The contents of the <text> elements whose start tag contains `marker`,
 * joined by '|' into `out`. */
static void read_texts(const char *svg, const char *marker, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = strstr(svg, "<text "); p; p = strstr(p + 1, "<text ")) {
        const char *end = strchr(p, '>'), *close = end ? strstr(end, "</text>") : NULL, *at = strstr(p, marker);
        if (!close || !at || at > end) continue;
        int n = snprintf(out + used, size - used, "%s%.*s", used ? "|" : "", (int)(close - end - 1), end + 1);
        if (n < 0 || (size_t)n >= size - used) return;
        used += (size_t)n;
    }
}

/* --- svg_nice_step ------------------------------------------------------------- */

static void test_svg_chart_nice_step_is_the_smallest_1_2_5_step_with_at_most_5_ticks(void)
{
    static const struct { int64_t max, step; } answers[] = {
        {-3, 1}, {0, 1}, {1, 1}, {5, 1}, {6, 2}, {7, 2}, {10, 2}, {11, 5}, {25, 5}, {26, 10},
        {49, 10}, {50, 10}, {51, 20}, {99, 20}, {100, 20}, {101, 50}, {250, 50}, {251, 100},
        {1000, 200}, {1000000000, 200000000}, {1000000007, 500000000},
        {INT64_C(1000000000000000000), INT64_C(200000000000000000)},
        {INT64_MAX, INT64_C(2000000000000000000)},
    };
    for (size_t i = 0; i < COUNT(answers); i++) {
        int64_t got = svg_nice_step(answers[i].max);
        if (got != answers[i].step)
            test_fail(__FILE__, __LINE__, "svg_nice_step(%" PRId64 ") == %" PRId64 ", expected %" PRId64,
                      answers[i].max, got, answers[i].step);
    }
}

/* --- well-formed and self-contained -------------------------------------------- */

/* Whether xmllint can be run; a failed check saying what to install if not. */
static int have_xmllint(void)
{
    if (system("command -v xmllint >/dev/null 2>&1") == 0) return 1;
    test_fail(__FILE__, __LINE__, "xmllint not found: install libxml2-utils (apt-get install libxml2-utils)");
    return 0;
}

/* Writes `svg` to a file in a fresh temporary folder, has xmllint parse
 * it, shows its complaints on failure, and removes file and folder. */
static void check_well_formed(const char *svg, const char *what)
{
    char dir[512], path[600], errors[600], command[1400];
    snprintf(dir, sizeof dir, "%s", test_tmpdir());
    snprintf(path, sizeof path, "%s/chart.svg", dir);
    snprintf(errors, sizeof errors, "%s/xmllint.err", dir);
    FILE *file = fopen(path, "wb");
    CHECK(file != NULL);
    if (!file) return;
    size_t len = strlen(svg);
    CHECK_EQ_U64(fwrite(svg, 1, len, file), len);
    CHECK_EQ_INT(fclose(file), 0);
    snprintf(command, sizeof command, "xmllint --noout '%s' 2>'%s'", path, errors);
    int status = system(command);
    if (status != 0) {
        char *complaints = test_read_file(errors);
        test_fail(__FILE__, __LINE__, "xmllint exited with %d on %s: %s", status, what, complaints ? complaints : "");
        free(complaints);
    }
    unlink(path);
    unlink(errors);
    rmdir(dir);
}

static void test_svg_chart_output_is_well_formed_xml_for_xmllint(void)
{
    if (!have_xmllint()) return;
    dala_buf svg = DALA_BUF_INIT;
    svg_chart chart = make_chart(12);
    for (int i = 0; i < 12; i++) {
        chart.this_year[i] = i * 7 % 13;
        chart.last_year[i] = i * 5 % 11;
    }
    check_well_formed(draw(&svg, &chart), "a year of small counts");
    chart.months = 1;
    check_well_formed(draw(&svg, &chart), "one month");
    chart.months = 3;
    chart.this_year[0] = chart.last_year[2] = INT64_MAX;
    chart.title = "<script>alert('x')</script> & \"co\" \x01\x1f";
    chart.legend_last = "2025 <ө>";
    chart.month_labels[1] = "a&b";
    check_well_formed(draw(&svg, &chart), "markup in every text and INT64_MAX");
    memset(chart.this_year, 0, sizeof chart.this_year);
    memset(chart.last_year, 0, sizeof chart.last_year);
    check_well_formed(draw(&svg, &chart), "all zero");
    dala_buf_free(&svg);
}

static void test_svg_chart_is_self_contained_printable_and_labelled(void)
{
    dala_buf svg = DALA_BUF_INIT;
    svg_chart chart = make_chart(6);
    for (int i = 0; i < 6; i++) chart.this_year[i] = chart.last_year[i] = 1000000000;
    CHECK_OK(dala_buf_append(&svg, "<p>", 3));
    CHECK_OK(svg_month_chart(&svg, &chart));
    CHECK_OK(dala_buf_append(&svg, "", 1));
    const char *text = (const char *)svg.data;
    static const char start[] = "<p><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ";
    CHECK(strncmp(text, start, sizeof start - 1) == 0);
    CHECK(strlen(text) > 6 && strcmp(text + strlen(text) - 6, "</svg>") == 0);
    text += 3;
    CHECK_CONTAINS(text, " width=\"170mm\"");
    CHECK_CONTAINS(text, " font-family=\"sans-serif\"");
    CHECK_CONTAINS(text, " role=\"img\" aria-label=\"Қылмыстар: айлар бойынша\"");
    CHECK_CONTAINS(text, "<title>Қылмыстар: айлар бойынша</title>");
    /* The height in mm is the viewBox's at 4 units to the mm, as the width. */
    int view_width = 0, view_height = 0, height_mm = 0;
    CHECK(sscanf(text, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"170mm\" height=\"%dmm\"",
                 &view_width, &view_height, &height_mm) == 3);
    CHECK_EQ_INT(view_width, 680);
    CHECK_EQ_INT(view_height, 4 * height_mm);
    /* Nothing a Content-Security-Policy without inline styles or scripts
     * would refuse, and nothing fetched from elsewhere. */
    CHECK(strstr(text, "<script") == NULL);
    CHECK(strstr(text, "<style") == NULL);
    CHECK(strstr(text, "style=") == NULL);
    CHECK(strstr(text, "href") == NULL);
    CHECK(strstr(text, "url(") == NULL);
    CHECK(strstr(text, "<image") == NULL);
    CHECK(strstr(text, " on") == NULL); /* no event handler attributes */
    /* 10^9 is written grouped by no-break spaces on the chart. */
    CHECK_CONTAINS(text, ">1\xC2\xA0" "000\xC2\xA0" "000\xC2\xA0" "000</text>");
    dala_buf_free(&svg);
}

/* --- the bars -------------------------------------------------------------------- */

/* The value of the top tick: the last label of the y axis, its digits
 * grouped by no-break spaces. */
static double read_top_tick(const char *svg)
{
    char ticks[512], digits[64];
    size_t n = 0;
    read_texts(svg, "text-anchor=\"end\"", ticks, sizeof ticks);
    const char *last = strrchr(ticks, '|');
    for (const char *p = last ? last + 1 : ticks; *p && n + 1 < sizeof digits; p++)
        if (*p >= '0' && *p <= '9') digits[n++] = *p;
    digits[n] = '\0';
    return strtod(digits, NULL);
}

/* Checks the bars of `chart` read back from its SVG: a legend swatch of
 * each colour first, then per month a grey bar left of a blue one, of one
 * width, standing on the zero line, as high as its count's share of the
 * top tick's height (to the tenth of a unit heights are rounded to), so
 * none above the top tick and a count of 0 not at all. */
static void check_bars(const svg_chart *chart, const char *svg)
{
    rect rects[2 + 2 * SVG_CHART_MAX_MONTHS + 1];
    int n = read_rects(svg, rects, (int)COUNT(rects));
    CHECK_EQ_INT(n, 2 + 2 * chart->months);
    if (n != 2 + 2 * chart->months) return;
    CHECK_EQ_STR(rects[0].fill, GREY);
    CHECK_EQ_STR(rects[1].fill, BLUE);
    double top_y, zero_y;
    read_tick_lines(svg, &top_y, &zero_y);
    CHECK(top_y < zero_y);
    double top_tick = read_top_tick(svg), per_count = (zero_y - top_y) / top_tick;
    CHECK(top_tick >= 1);
    for (int i = 0; i < chart->months; i++) {
        CHECK((double)chart->this_year[i] <= top_tick);
        CHECK((double)chart->last_year[i] <= top_tick);
    }
    for (int i = 0; i < chart->months; i++) {
        const rect *last = &rects[2 + 2 * i], *now = &rects[3 + 2 * i];
        CHECK_EQ_STR(last->fill, GREY);
        CHECK_EQ_STR(now->fill, BLUE);
        CHECK(last->x + last->width <= now->x);
        CHECK(last->width > 0 && last->width == now->width);
        int64_t counts[2] = {chart->last_year[i], chart->this_year[i]};
        for (int year = 0; year < 2; year++) {
            const rect *bar = year ? now : last;
            double want = (double)counts[year] * per_count;
            int is_on_zero_line = bar->y + bar->height > zero_y - 1e-6 && bar->y + bar->height < zero_y + 1e-6;
            if (bar->height < want - 0.051 || bar->height > want + 0.051 || !is_on_zero_line || bar->y < top_y)
                test_fail(__FILE__, __LINE__, "month %d, %s: %" PRId64 " drawn %g high from y %g, expected %g high down to %g",
                          i + 1, year ? "this year" : "last year", counts[year], bar->height, bar->y, want, zero_y);
            if (counts[year] == 0) CHECK(bar->height == 0);
        }
    }
}

static void test_svg_chart_bar_heights_are_proportional_to_the_counts(void)
{
    dala_buf svg = DALA_BUF_INIT;
    /* Twice, four times, nothing; the largest, 47, under a top tick of 50. */
    static const int64_t last[12] = {5, 10, 20, 0, 47, 1, 2, 3, 4, 6, 8, 9};
    static const int64_t now[12] = {10, 20, 40, 0, 0, 23, 46, 11, 13, 17, 19, 29};
    svg_chart chart = make_chart_with_counts(12, last, now);
    const char *text = draw(&svg, &chart);
    check_bars(&chart, text);
    rect rects[26];
    CHECK_EQ_INT(read_rects(text, rects, 26), 26);
    /* Exactly twice: 5 and 10, 10 and 20, 20 and 40, 23 and 46. */
    CHECK(rects[2].height > 0);
    CHECK(rects[3].height > rects[2].height * 2 - 0.15 && rects[3].height < rects[2].height * 2 + 0.15);
    CHECK(rects[5].height > rects[4].height * 2 - 0.15 && rects[5].height < rects[4].height * 2 + 0.15);
    CHECK(rects[7].height > rects[6].height * 2 - 0.15 && rects[7].height < rects[6].height * 2 + 0.15);
    CHECK(rects[15].height > rects[13].height * 2 - 0.15 && rects[15].height < rects[13].height * 2 + 0.15);
    CHECK(rects[8].height == 0 && rects[9].height == 0 && rects[11].height == 0);
    /* The ticks: steps of 10 up to 50, the first at or above 47. */
    char ticks[256];
    read_texts(text, "text-anchor=\"end\"", ticks, sizeof ticks);
    CHECK_EQ_STR(ticks, "0|10|20|30|40|50");
    double top_y, zero_y;
    read_tick_lines(text, &top_y, &zero_y);
    CHECK(rects[10].height < zero_y - top_y); /* 47 of 50 */
    /* The value above each bar, in the bars' order. */
    char values[512];
    read_texts(text, "font-size=\"10\"", values, sizeof values);
    CHECK_EQ_STR(values, "5|10|10|20|20|40|0|0|47|0|1|23|2|46|3|11|4|13|6|17|8|19|9|29");
    dala_buf_free(&svg);
}

static void test_svg_chart_all_zero_counts_give_a_scale_of_0_to_1(void)
{
    dala_buf svg = DALA_BUF_INIT;
    svg_chart chart = make_chart(3);
    const char *text = draw(&svg, &chart);
    check_bars(&chart, text);
    char ticks[64];
    read_texts(text, "text-anchor=\"end\"", ticks, sizeof ticks);
    CHECK_EQ_STR(ticks, "0|1");
    /* A single 1 reaches the top tick exactly. */
    chart.this_year[1] = 1;
    text = draw(&svg, &chart);
    check_bars(&chart, text);
    read_texts(text, "text-anchor=\"end\"", ticks, sizeof ticks);
    CHECK_EQ_STR(ticks, "0|1");
    double top_y, zero_y;
    read_tick_lines(text, &top_y, &zero_y);
    rect rects[8];
    CHECK_EQ_INT(read_rects(text, rects, 8), 8);
    CHECK(rects[5].y == top_y);
    dala_buf_free(&svg);
}

static void test_svg_chart_huge_counts_are_drawn_without_overflow(void)
{
    dala_buf svg = DALA_BUF_INIT;
    static const int64_t last[4] = {1000000000, 500000000, 250000000, 0};
    static const int64_t now[4] = {999999999, 1, 750000000, 100000000};
    svg_chart chart = make_chart_with_counts(4, last, now);
    const char *text = draw(&svg, &chart);
    check_bars(&chart, text);
    char ticks[256];
    read_texts(text, "text-anchor=\"end\"", ticks, sizeof ticks);
    CHECK_EQ_STR(ticks, "0|200\xC2\xA0" "000\xC2\xA0" "000|400\xC2\xA0" "000\xC2\xA0" "000|600\xC2\xA0" "000\xC2\xA0" "000|"
                        "800\xC2\xA0" "000\xC2\xA0" "000|1\xC2\xA0" "000\xC2\xA0" "000\xC2\xA0" "000");
    /* Too wide to sit side by side: the values are written upwards. */
    CHECK_CONTAINS(text, "transform=\"rotate(-90 ");
    /* The top tick of INT64_MAX is 5 x 2 x 10^18, past INT64_MAX. */
    chart.last_year[0] = INT64_MAX;
    text = draw(&svg, &chart);
    check_bars(&chart, text);
    read_texts(text, "text-anchor=\"end\"", ticks, sizeof ticks);
    CHECK_CONTAINS(ticks, "|10\xC2\xA0" "000\xC2\xA0" "000\xC2\xA0" "000\xC2\xA0" "000\xC2\xA0" "000\xC2\xA0" "000");
    CHECK_CONTAINS(text, "2025 — 9223372036854775807, 2026 — 999999999;");
    dala_buf_free(&svg);
}

/* --- text -------------------------------------------------------------------------- */

static void test_svg_chart_escapes_markup_in_every_text(void)
{
    dala_buf svg = DALA_BUF_INIT;
    svg_chart chart = make_chart(2);
    chart.title = "<b>Tom & \"Jerry\"'s</b>\x01";
    chart.legend_last = "<2025>";
    chart.legend_this = "2026 & co";
    chart.month_labels[1] = "\"q'&";
    const char *text = draw(&svg, &chart);
    CHECK_CONTAINS(text, "aria-label=\"&lt;b&gt;Tom &amp; &quot;Jerry&quot;&#39;s&lt;/b&gt;?\"");
    CHECK_CONTAINS(text, "<title>&lt;b&gt;Tom &amp; &quot;Jerry&quot;&#39;s&lt;/b&gt;?</title>");
    CHECK_CONTAINS(text, ">&lt;b&gt;Tom &amp; &quot;Jerry&quot;&#39;s&lt;/b&gt;?</text>");
    CHECK_CONTAINS(text, ">&lt;2025&gt;</text>");
    CHECK_CONTAINS(text, ">2026 &amp; co</text>");
    CHECK_CONTAINS(text, ">&quot;q&#39;&amp;</text>");
    CHECK_CONTAINS(text, "&quot;q&#39;&amp;: &lt;2025&gt; — 0, 2026 &amp; co — 0.");
    CHECK(strstr(text, "<b>") == NULL);
    CHECK(strstr(text, "<2025") == NULL);
    CHECK(strstr(text, "& co") == NULL);
    CHECK(strstr(text, "\"Jerry") == NULL);
    CHECK(strstr(text, "'s") == NULL);
    CHECK(strstr(text, "\x01") == NULL);
    /* Every '&' starts one of the entities written. */
    for (const char *p = strchr(text, '&'); p; p = strchr(p + 1, '&'))
        CHECK(strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&lt;", 4) == 0 || strncmp(p, "&gt;", 4) == 0 ||
              strncmp(p, "&quot;", 6) == 0 || strncmp(p, "&#39;", 5) == 0);
    dala_buf_free(&svg);
}

static void test_svg_chart_keeps_cyrillic_labels_byte_for_byte(void)
{
    dala_buf svg = DALA_BUF_INIT;
    svg_chart chart = make_chart(12);
    chart.title = "Әйелдерге қатысты зорлық-зомбылық: ақпан–наурыз, «Өскемен» ҚПБ";
    chart.legend_last = "2025 ж.";
    chart.legend_this = "2026 ж.";
    const char *text = draw(&svg, &chart);
    char ticks[1024], want[1024] = "";
    read_texts(text, "font-size=\"11\" text-anchor=\"middle\"", ticks, sizeof ticks);
    for (int i = 0; i < 12; i++) {
        strcat(want, i ? "|" : "");
        strcat(want, kazakh_months[i]);
    }
    CHECK_EQ_STR(ticks, want);
    CHECK_CONTAINS(text, "<title>Әйелдерге қатысты зорлық-зомбылық: ақпан–наурыз, «Өскемен» ҚПБ</title>");
    CHECK_CONTAINS(text, ">2025 ж.</text>");
    CHECK_CONTAINS(text, ">2026 ж.</text>");
    CHECK_CONTAINS(text, "жел: 2025 ж. — 0, 2026 ж. — 0.");
    dala_buf_free(&svg);
}

static void test_svg_chart_desc_lists_every_months_figures(void)
{
    dala_buf svg = DALA_BUF_INIT;
    static const int64_t last[6] = {3, 4, 0, 12, 1000000000, 7};
    static const int64_t now[6] = {5, 6, 9, 0, 15000, 7};
    svg_chart chart = make_chart_with_counts(6, last, now);
    const char *text = draw(&svg, &chart);
    CHECK_CONTAINS(text, "<desc>қаң: 2025 — 3, 2026 — 5; ақп: 2025 — 4, 2026 — 6; нау: 2025 — 0, 2026 — 9; "
                         "сәу: 2025 — 12, 2026 — 0; мам: 2025 — 1000000000, 2026 — 15000; мау: 2025 — 7, 2026 — 7.</desc>");
    /* Only the months shown: July's label is not in it. */
    CHECK(strstr(text, "шіл") == NULL);
    chart.months = 1;
    text = draw(&svg, &chart);
    CHECK_CONTAINS(text, "<desc>қаң: 2025 — 3, 2026 — 5.</desc>");
    dala_buf_free(&svg);
}

static void test_svg_chart_long_titles_break_into_two_even_lines_that_fit(void)
{
    dala_buf svg = DALA_BUF_INIT;
    svg_chart chart = make_chart(3);
    const char *text = draw(&svg, &chart);
    char lines[512];
    read_texts(text, "font-weight=\"bold\"", lines, sizeof lines);
    CHECK_EQ_STR(lines, "Қылмыстар: айлар бойынша");
    double legend_y = -1;
    rect rects[8];
    if (read_rects(text, rects, 8) == 8) legend_y = rects[0].y;
    /* The server's longest chart title, in Russian: two lines split at the
     * space that evens them, the legend a line lower, the whole title
     * still in <title> and aria-label. */
    chart.title = "Административные правонарушения в семейно-бытовой сфере по месяцам";
    text = draw(&svg, &chart);
    read_texts(text, "font-weight=\"bold\"", lines, sizeof lines);
    CHECK_EQ_STR(lines, "Административные правонарушения в|семейно-бытовой сфере по месяцам");
    CHECK(strstr(text, "textLength") == NULL);
    CHECK_CONTAINS(text, "<title>Административные правонарушения в семейно-бытовой сфере по месяцам</title>");
    CHECK_CONTAINS(text, "aria-label=\"Административные правонарушения в семейно-бытовой сфере по месяцам\"");
    if (read_rects(text, rects, 8) == 8) CHECK(rects[0].y == legend_y + 20);
    check_bars(&chart, text);
    /* No space to break at: one line, squeezed to the width there is. */
    chart.title = "Әйелдерге_қатысты_қылмыстар_айлар_бойынша_Әйелдерге_қатысты_қылмыстар_айлар_бойынша";
    text = draw(&svg, &chart);
    read_texts(text, "font-weight=\"bold\"", lines, sizeof lines);
    CHECK_EQ_STR(lines, chart.title);
    CHECK_CONTAINS(text, " textLength=\"672\" lengthAdjust=\"spacingAndGlyphs\">Әйелдерге_");
    dala_buf_free(&svg);
}

/* --- failures ------------------------------------------------------------------------ */

/* The buffer still holds exactly "<p>". */
static void check_untouched(const dala_buf *svg, int rc, int want_rc, const char *what)
{
    if (rc != want_rc || svg->len != 3 || memcmp(svg->data, "<p>", 3) != 0)
        test_fail(__FILE__, __LINE__, "%s: returned %d (expected %d), buffer of %zu bytes", what, rc, want_rc, svg->len);
}

static void test_svg_chart_refuses_bad_arguments_leaving_the_buffer_as_it_was(void)
{
    dala_buf svg = DALA_BUF_INIT;
    CHECK_OK(dala_buf_append(&svg, "<p>", 3));
    svg_chart good = make_chart(3), chart;
    CHECK_EQ_INT(svg_month_chart(NULL, &good), DALA_EINVAL);
    check_untouched(&svg, svg_month_chart(&svg, NULL), DALA_EINVAL, "no chart");
    static const int bad_months[] = {0, -1, 13, 1000};
    for (size_t i = 0; i < COUNT(bad_months); i++) {
        chart = good;
        chart.months = bad_months[i];
        check_untouched(&svg, svg_month_chart(&svg, &chart), DALA_EINVAL, "months out of range");
    }
    chart = good;
    chart.this_year[2] = -1;
    check_untouched(&svg, svg_month_chart(&svg, &chart), DALA_EINVAL, "a negative count this year");
    CHECK_CONTAINS(dala_errmsg(), "month 3");
    chart = good;
    chart.last_year[0] = INT64_MIN;
    check_untouched(&svg, svg_month_chart(&svg, &chart), DALA_EINVAL, "a negative count last year");
    chart = good;
    chart.title = NULL;
    check_untouched(&svg, svg_month_chart(&svg, &chart), DALA_EINVAL, "no title");
    chart = good;
    chart.legend_this = NULL;
    check_untouched(&svg, svg_month_chart(&svg, &chart), DALA_EINVAL, "no legend");
    chart = good;
    chart.month_labels[2] = NULL;
    check_untouched(&svg, svg_month_chart(&svg, &chart), DALA_EINVAL, "no label");
    chart = good;
    chart.legend_last = "20\xD0"; /* a truncated two-byte sequence */
    check_untouched(&svg, svg_month_chart(&svg, &chart), DALA_EINVAL, "bad UTF-8");
    CHECK_CONTAINS(dala_errmsg(), "not valid UTF-8");
    /* Months past `months` are not looked at: a negative count or a NULL
     * label there is no error. */
    chart = good;
    chart.month_labels[3] = NULL;
    chart.this_year[3] = -5;
    CHECK_OK(svg_month_chart(&svg, &chart));
    CHECK(svg.len > 3 && memcmp(svg.data, "<p><svg ", 8) == 0);
    dala_buf_free(&svg);
}

static void test_svg_chart_rolls_back_when_the_buffer_cap_is_hit_at_any_byte(void)
{
    dala_buf svg = DALA_BUF_INIT;
    svg_chart chart = make_chart(12);
    for (int i = 0; i < 12; i++) chart.this_year[i] = chart.last_year[i] = 1000 * i;
    CHECK_OK(dala_buf_append(&svg, "<p>", 3));
    CHECK_OK(svg_month_chart(&svg, &chart));
    size_t full = svg.len;
    CHECK(full > 3000);
    long wrong = 0;
    for (size_t cap = 3; cap < full; cap++) {
        svg.len = 3;
        svg.cap_bytes = cap;
        int rc = svg_month_chart(&svg, &chart);
        if (rc != DALA_ELIMIT || svg.len != 3 || memcmp(svg.data, "<p>", 3) != 0) {
            if (wrong++ < 5) check_untouched(&svg, rc, DALA_ELIMIT, "a cap midway");
        }
    }
    CHECK_EQ_INT(wrong, 0);
    svg.len = 3;
    svg.cap_bytes = full; /* exactly enough */
    CHECK_OK(svg_month_chart(&svg, &chart));
    CHECK_EQ_U64(svg.len, full);
    dala_buf_free(&svg);
}

static void test_svg_chart_answers_enomem_when_an_allocation_fails(void)
{
    svg_chart chart = make_chart(12);
    for (int i = 0; i < 12; i++) chart.this_year[i] = chart.last_year[i] = 12345 * i;
    long failures = 0;
    for (long n = 1; n <= 100; n++) {
        dala_buf svg = DALA_BUF_INIT;
        CHECK_OK(dala_buf_append(&svg, "<p>", 3));
        dala_alloc_fail_after(n);
        int rc = svg_month_chart(&svg, &chart);
        dala_alloc_fail_after(0);
        if (rc == DALA_OK) {
            CHECK(failures > 0); /* the buffer grew, so some run failed */
            dala_buf_free(&svg);
            return;
        }
        check_untouched(&svg, rc, DALA_ENOMEM, "a failed allocation");
        failures++;
        dala_buf_free(&svg);
    }
    test_fail(__FILE__, __LINE__, "svg_month_chart never succeeded");
}

const dala_test svg_chart_tests[] = {
    {"svg_chart_nice_step_is_the_smallest_1_2_5_step_with_at_most_5_ticks", test_svg_chart_nice_step_is_the_smallest_1_2_5_step_with_at_most_5_ticks},
    {"svg_chart_output_is_well_formed_xml_for_xmllint", test_svg_chart_output_is_well_formed_xml_for_xmllint},
    {"svg_chart_is_self_contained_printable_and_labelled", test_svg_chart_is_self_contained_printable_and_labelled},
    {"svg_chart_bar_heights_are_proportional_to_the_counts", test_svg_chart_bar_heights_are_proportional_to_the_counts},
    {"svg_chart_all_zero_counts_give_a_scale_of_0_to_1", test_svg_chart_all_zero_counts_give_a_scale_of_0_to_1},
    {"svg_chart_huge_counts_are_drawn_without_overflow", test_svg_chart_huge_counts_are_drawn_without_overflow},
    {"svg_chart_escapes_markup_in_every_text", test_svg_chart_escapes_markup_in_every_text},
    {"svg_chart_keeps_cyrillic_labels_byte_for_byte", test_svg_chart_keeps_cyrillic_labels_byte_for_byte},
    {"svg_chart_desc_lists_every_months_figures", test_svg_chart_desc_lists_every_months_figures},
    {"svg_chart_long_titles_break_into_two_even_lines_that_fit", test_svg_chart_long_titles_break_into_two_even_lines_that_fit},
    {"svg_chart_refuses_bad_arguments_leaving_the_buffer_as_it_was", test_svg_chart_refuses_bad_arguments_leaving_the_buffer_as_it_was},
    {"svg_chart_rolls_back_when_the_buffer_cap_is_hit_at_any_byte", test_svg_chart_rolls_back_when_the_buffer_cap_is_hit_at_any_byte},
    {"svg_chart_answers_enomem_when_an_allocation_fails", test_svg_chart_answers_enomem_when_an_allocation_fails},
    {NULL, NULL},
};
