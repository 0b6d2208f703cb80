/* web_report_out.c - a report note leaving Dala: CSV and JSON downloads,
 * the printable A4 page for the department's operational meeting (Kazakh
 * or Russian, drawn on the server, charts inline), and the SVG charts of
 * monthly dynamics, this year against last (server/svg_chart.c). Charts
 * count the records as they are now; the figures are the note's. */
#include "markup.h"
#include "svg_chart.h"
#include "web_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The blocks with a chart, and the group whose values it adds up. */
static const struct {
    int block;
    const char *group, *kk, *ru;
} charts[] = {
    {1, "crimes", "Әйелдерге қатысты қылмыстар, айлар бойынша", "Преступления в отношении женщин по месяцам"},
    {2, "admin_offences", "Отбасы-тұрмыстық әкімшілік құқық бұзушылықтар, айлар бойынша",
     "Административные правонарушения в семейно-бытовой сфере по месяцам"},
    {3, "suicides", "Әйелдердің суицидтері, айлар бойынша", "Суициды женщин по месяцам"},
    {7, "aid", "Құқықтық және психологиялық көмек, айлар бойынша", "Правовая и психологическая помощь по месяцам"},
};
#define CHART_COUNT (sizeof charts / sizeof charts[0])

typedef struct monthly {
    int months;
    int64_t now[CHART_COUNT][12], last[CHART_COUNT][12];
} monthly;

/* Counts January to the quarter's last month, this year and last. */
static int count_months(monthly *out, web_request *r, const report_note *note)
{
    memset(out, 0, sizeof *out);
    out->months = note->quarter * 3;
    int rc = DALA_OK;
    for (int m = 1; !rc && m <= out->months; m++) {
        char first[2][11], last[2][11];
        for (int p = REPORT_NOW; p <= REPORT_LAST; p++) {
            unsigned year = (unsigned)(note->year - p) % 10000u;
            snprintf(first[p], 11, "%04u-%02u-01", year, (unsigned)m % 100u);
            snprintf(last[p], 11, "%04u-%02u-31", year, (unsigned)m % 100u); /* dates compare as text */
        }
        report_figures figures = REPORT_FIGURES_INIT;
        rc = report_count_days(&figures, r->conn->db, note->unit_id, first, last, REPORT_CHARTED_TYPES, NULL);
        for (size_t i = 0; !rc && i < figures.count; i++)
            for (size_t c = 0; c < CHART_COUNT; c++)
                if (strcmp(figures.items[i].group, charts[c].group) == 0) {
                    out->now[c][m - 1] += figures.items[i].count[REPORT_NOW];
                    out->last[c][m - 1] += figures.items[i].count[REPORT_LAST];
                }
        report_figures_free(&figures);
    }
    return rc;
}

static int draw_chart(dala_buf *out, const monthly *m, size_t c, const report_note *note, const char *lang)
{
    static const char *const kk[] = {"қаң", "ақп", "нау", "сәу", "мам", "мау", "шіл", "там", "қыр", "қаз", "қар", "жел"};
    static const char *const ru[] = {"янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"};
    char this_year[8], last_year[8];
    snprintf(this_year, sizeof this_year, "%d", note->year % 10000);
    snprintf(last_year, sizeof last_year, "%d", (note->year - 1) % 10000);
    svg_chart chart = {dala_label(charts[c].kk, charts[c].ru, lang), this_year, last_year, {0}, {0}, {0}, m->months};
    for (int i = 0; i < m->months; i++) {
        chart.month_labels[i] = strcmp(lang, "ru") == 0 ? ru[i] : kk[i];
        chart.this_year[i] = m->now[c][i];
        chart.last_year[i] = m->last[c][i];
    }
    return svg_month_chart(out, &chart);
}

int web_route_report_chart(web_request *r, const report_note *note)
{
    int64_t block;
    int rc = web_query_int(&block, r, "block", 1);
    size_t c = 0;
    while (c < CHART_COUNT && charts[c].block != block) c++;
    if (rc || c == CHART_COUNT) return web_send_error(r, 400, DALA_EINVAL, "chart: blocks 1, 2, 3 and 7 have charts");
    monthly m;
    dala_buf svg = DALA_BUF_INIT;
    rc = count_months(&m, r, note);
    if (!rc) rc = draw_chart(&svg, &m, c, note, r->lang);
    if (!rc) web_send(r, 200, "image/svg+xml; charset=utf-8", svg.data, svg.len);
    dala_buf_free(&svg);
    return rc ? web_send_failure(r, rc) : 200;
}

/* --- downloads -------------------------------------------------------------- */

/* "dala-<unit>-2026-Q3" as a file name. */
static void file_name(char *out, size_t size, const report_note *note, const char *ext)
{
    snprintf(out, size, "dala-report-%lld-%d-Q%d.%s", (long long)note->unit_id, note->year % 10000, note->quarter, ext);
}

int web_route_report_json(web_request *r, const report_note *note)
{
    char name[96];
    file_name(name, sizeof name, note, "json");
    json_out j = JSON_OUT_INIT;
    int rc = web_report_put(&j, r, note);
    if (rc) {
        json_out_free(&j);
        return web_send_failure(r, rc);
    }
    snprintf(r->headers, sizeof r->headers, "Content-Disposition: attachment; filename=\"%s\"\r\n", name);
    return web_send_json(r, &j);
}

int web_route_report_signed(web_request *r, const report_note *note)
{
    char name[96];
    dala_buf out = DALA_BUF_INIT;
    int rc = report_note_bundle(&out, r->conn->db, note);
    if (!rc) {
        file_name(name, sizeof name, note, "signed.json");
        snprintf(r->headers, sizeof r->headers, "Content-Disposition: attachment; filename=\"%s\"\r\n", name);
        web_send(r, 200, "application/json; charset=utf-8", out.data, out.len);
    }
    dala_buf_free(&out);
    return rc ? web_send_failure(r, rc) : 200;
}

static int csv_number(dala_buf *out, int64_t n, int is_last)
{
    char text[32];
    int len = snprintf(text, sizeof text, "%lld%s", (long long)n, is_last ? "\r\n" : ",");
    return dala_buf_append(out, text, (size_t)len);
}

int web_route_report_csv(web_request *r, const report_note *note)
{
    int is_ru = strcmp(r->lang, "ru") == 0, frozen = report_note_is_frozen(note);
    const char *header[] = {is_ru ? "Подразделение" : "Бөлініс", is_ru ? "Год" : "Жыл", is_ru ? "Квартал" : "Тоқсан",
                            is_ru ? "Статус" : "Мәртебесі", is_ru ? "С опозданием" : "Кешігіп",
                            is_ru ? "Блок" : "Блок", is_ru ? "Показатель" : "Көрсеткіш", "group", "value",
                            is_ru ? "АППГ" : "Өткен жылы", is_ru ? "Текущий период" : "Осы кезең",
                            is_ru ? "Изменение" : "Өзгеріс",
                            is_ru ? "По записям сейчас" : "Қазір жазбалар бойынша"};
    const size_t columns = sizeof header / sizeof header[0];
    char unit[256], year[8], quarter[4];
    web_unit_name(unit, sizeof unit, r, note->unit_id);
    snprintf(year, sizeof year, "%d", note->year % 10000);
    snprintf(quarter, sizeof quarter, "%d", note->quarter % 10);
    const char *state = report_state_label(note->state, r->lang);
    const char *late = note->late ? (is_ru ? "да" : "иә") : (is_ru ? "нет" : "жоқ");
    report_figures figures = REPORT_FIGURES_INIT, live = REPORT_FIGURES_INIT;
    dala_buf csv = DALA_BUF_INIT;
    report_labeler labels;
    report_labeler_init(&labels, r->conn->db, r->lang);
    int rc = report_note_figures(&figures, r->conn->db, note);
    if (!rc && frozen) rc = report_note_live(&live, r->conn->db, note);
    if (!rc) rc = dala_buf_append(&csv, "\xEF\xBB\xBF", 3);
    for (size_t i = 0; !rc && i < columns; i++) rc = web_csv_cell(&csv, header[i], strlen(header[i]), i + 1 == columns);
    for (size_t i = 0; !rc && i < figures.count; i++) {
        const report_figure *f = &figures.items[i];
        char label[512];
        report_label(label, sizeof label, &labels, f->group, f->value);
        const char *cells[] = {unit, year, quarter, state, late};
        for (size_t c = 0; !rc && c < 5; c++) rc = web_csv_cell(&csv, cells[c], strlen(cells[c]), 0);
        if (!rc) rc = csv_number(&csv, f->block, 0);
        if (!rc) rc = web_csv_cell(&csv, label, strlen(label), 0);
        if (!rc) rc = web_csv_cell(&csv, f->group, strlen(f->group), 0);
        if (!rc) rc = web_csv_cell(&csv, f->value, strlen(f->value), 0);
        if (!rc) rc = csv_number(&csv, f->count[REPORT_LAST], 0);
        if (!rc) rc = csv_number(&csv, f->count[REPORT_NOW], 0);
        if (!rc) rc = csv_number(&csv, f->count[REPORT_NOW] - f->count[REPORT_LAST], 0);
        /* A filed note: what the records give now, so corrections show. */
        const report_figure *l = frozen ? report_figures_find(&live, f->group, f->value) : NULL;
        if (!rc) rc = csv_number(&csv, frozen ? (l ? l->count[REPORT_NOW] : 0) : f->count[REPORT_NOW], 1);
    }
    report_figures_free(&figures);
    report_figures_free(&live);
    report_labeler_free(&labels);
    if (!rc) {
        char name[96];
        file_name(name, sizeof name, note, "csv");
        snprintf(r->headers, sizeof r->headers, "Content-Disposition: attachment; filename=\"%s\"\r\n", name);
        web_send(r, 200, "text/csv; charset=utf-8", csv.data, csv.len);
    }
    dala_buf_free(&csv);
    return rc ? web_send_failure(r, rc) : 200;
}

/* --- the printable page ----------------------------------------------------- */

/* Appends literal markup and escaped text in turn: NULL ends the list;
 * odd arguments are markup, even ones text. */
static int page(dala_buf *out, const char *markup, const char *text)
{
    int rc = dala_buf_append(out, markup, strlen(markup));
    if (!rc && text) rc = markup_text(out, text);
    return rc;
}

static void day_of(char *out, size_t size, int64_t at)
{
    time_t t = (time_t)at;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M", &tm);
}

static int print_units(dala_buf *out, web_request *r, const report_note *note, int is_ru)
{
    report_unit_filing *units = NULL;
    size_t count = 0;
    int rc = report_note_units(&units, &count, r->conn->db, note);
    if (!rc) rc = page(out, "<h2>", is_ru ? "Подразделения и представленные записки" : "Бөліністер және ұсынылған жазбалар");
    if (!rc) rc = page(out, "</h2><table class=\"units\"><tr><th>", is_ru ? "Подразделение" : "Бөлініс");
    if (!rc) rc = page(out, "</th><th>", is_ru ? "Статус" : "Мәртебесі");
    if (!rc) rc = page(out, "</th><th>", is_ru ? "Представлена" : "Ұсынылды");
    if (!rc) rc = page(out, "</th></tr>", NULL);
    for (size_t i = 0; !rc && i < count; i++) {
        char name[256], when[32] = "—";
        web_unit_name(name, sizeof name, r, units[i].unit_id);
        if (units[i].submitted_at) day_of(when, sizeof when, units[i].submitted_at);
        rc = page(out, report_unit_is_filed(&units[i]) ? "<tr><td>" : "<tr class=\"not-filed\"><td>", name);
        if (!rc) rc = page(out, "</td><td>", report_filing_label(&units[i], r->lang));
        if (!rc) rc = page(out, "</td><td>", when);
        if (!rc && units[i].late) rc = page(out, " <strong class=\"late\">", is_ru ? "с опозданием" : "кешігіп");
        if (!rc && units[i].late) rc = page(out, "</strong>", NULL);
        if (!rc) rc = page(out, "</td></tr>", NULL);
    }
    /* The department's own records, a line apart, so the sum is explainable:
     * its totals that count something, this year (last year). */
    report_figures own = REPORT_FIGURES_INIT;
    if (!rc) rc = report_note_own(&own, r->conn->db, note);
    if (!rc) rc = page(out, "<tr class=\"own\"><td>", report_own_label(r->lang));
    if (!rc) rc = page(out, "</td><td colspan=\"2\">", NULL);
    report_labeler labels;
    report_labeler_init(&labels, r->conn->db, r->lang);
    int listed = 0;
    for (size_t i = 0; !rc && i < own.count; i++) {
        const report_figure *f = &own.items[i];
        if (f->value[0] || (!f->count[REPORT_NOW] && !f->count[REPORT_LAST])) continue;
        char label[512], counts[64];
        report_label(label, sizeof label, &labels, f->group, f->value);
        snprintf(counts, sizeof counts, ": %lld (%lld)", (long long)f->count[REPORT_NOW], (long long)f->count[REPORT_LAST]);
        rc = page(out, listed++ ? "; " : "", label);
        if (!rc) rc = page(out, "", counts);
    }
    if (!rc && !listed) rc = page(out, "", "—");
    report_labeler_free(&labels);
    report_figures_free(&own);
    if (!rc) rc = page(out, "</td></tr></table>", NULL);
    /* Units that filed after the consolidation, outside the note. */
    report_unit_filing *after = NULL;
    size_t after_count = 0;
    if (!rc) rc = report_note_filed_after(&after, &after_count, r->conn->db, note);
    for (size_t i = 0; !rc && i < after_count; i++) {
        char name[256];
        web_unit_name(name, sizeof name, r, after[i].unit_id);
        rc = page(out, i ? ", " : "<p class=\"filed-after\">", NULL);
        if (!rc && i == 0) rc = page(out, "", is_ru ? "Представили после сведения (в записку не вошли): "
                                                    : "Жинақталғаннан кейін ұсынды (жазбаға енбеді): ");
        if (!rc) rc = page(out, "", name);
    }
    if (!rc && after_count) rc = page(out, "</p>", NULL);
    free(after);
    free(units);
    return rc;
}

/* The units' own words under a department's block. */
typedef struct unit_texts {
    dala_buf *out;
    web_request *r;
    int is_ru;
} unit_texts;

static int print_unit_narrative(void *context, int64_t unit_id, const char *text)
{
    unit_texts *t = context;
    char unit[256];
    web_unit_name(unit, sizeof unit, t->r, unit_id);
    int rc = page(t->out, "<div class=\"unit-narrative\"><p class=\"from\">", unit);
    if (!rc) rc = page(t->out, "</p><p>", text);
    if (!rc) rc = page(t->out, "</p></div>", NULL);
    return rc;
}

static int print_block(dala_buf *out, web_request *r, report_labeler *labels, const report_note *note,
                       const report_figures *figures, const report_figures *live, const monthly *m, int block, int is_ru)
{
    char heading[16], this_year[8], last_year[8];
    snprintf(heading, sizeof heading, "%d. ", block);
    snprintf(this_year, sizeof this_year, "%d", note->year % 10000);
    snprintf(last_year, sizeof last_year, "%d", (note->year - 1) % 10000);
    int rc = page(out, "<section class=\"block\"><h2>", heading);
    if (!rc) rc = page(out, "", report_block_title(block, r->lang));
    if (!rc) rc = page(out, "</h2><table class=\"figures\"><tr><th>", is_ru ? "Показатель" : "Көрсеткіш");
    if (!rc) rc = page(out, "</th><th>", last_year);
    if (!rc) rc = page(out, "</th><th>", this_year);
    if (!rc) rc = page(out, "</th><th>", is_ru ? "+/−" : "+/−");
    if (!rc) rc = page(out, "</th><th>%</th></tr>", NULL);
    for (size_t i = 0; !rc && i < figures->count; i++) {
        const report_figure *f = &figures->items[i];
        if (f->block != block) continue;
        char label[512], now[32], last[32], change[32], percent[32] = "";
        int64_t n = f->count[REPORT_NOW], l = f->count[REPORT_LAST];
        report_label(label, sizeof label, labels, f->group, f->value);
        snprintf(now, sizeof now, "%lld", (long long)n);
        snprintf(last, sizeof last, "%lld", (long long)l);
        snprintf(change, sizeof change, "%+lld", (long long)(n - l));
        if (l) snprintf(percent, sizeof percent, "%+.1f", 100.0 * (double)(n - l) / (double)l);
        rc = page(out, f->value[0] ? "<tr><td class=\"sub\">" : "<tr><td>", label);
        if (!rc) rc = page(out, "</td><td>", last);
        if (!rc) rc = page(out, "</td><td>", now);
        const report_figure *lf = live ? report_figures_find(live, f->group, f->value) : NULL;
        int64_t live_now = lf ? lf->count[REPORT_NOW] : 0;
        if (!rc && live && live_now != n) {
            char corrected[96];
            snprintf(corrected, sizeof corrected, is_ru ? " (после подачи исправлено: %lld)" : " (ұсынылғаннан кейін түзетілді: %lld)",
                     (long long)live_now);
            rc = page(out, "<span class=\"corrected\">", corrected);
            if (!rc) rc = page(out, "</span>", NULL);
        }
        if (!rc) rc = page(out, "</td><td>", change);
        if (!rc) rc = page(out, "</td><td>", percent);
        if (!rc) rc = page(out, "</td></tr>", NULL);
    }
    if (!rc) rc = page(out, "</table>", NULL);
    for (size_t c = 0; !rc && c < CHART_COUNT; c++)
        if (charts[c].block == block) {
            rc = page(out, "<figure class=\"chart\">", NULL);
            if (!rc) rc = draw_chart(out, m, c, note, r->lang);
            if (!rc) rc = page(out, "</figure>", NULL);
        }
    const char *narrative = note->narrative[block - 1];
    if (!rc) rc = page(out, "<div class=\"narrative\">", narrative && narrative[0] ? narrative : "");
    if (!rc) rc = page(out, "</div>", NULL);
    if (!rc && strcmp(note->level, "department") == 0) {
        unit_texts texts = {out, r, is_ru};
        rc = report_note_unit_narratives(r->conn->db, note, block, print_unit_narrative, &texts);
    }
    if (!rc) rc = page(out, "</section>", NULL);
    return rc;
}

int web_route_report_print(web_request *r, const report_note *note)
{
    int is_ru = strcmp(r->lang, "ru") == 0, frozen = report_note_is_frozen(note);
    char unit[256], title[160], due_line[160], printed[32];
    report_due due;
    report_note_due(&due, note->level, note->year, note->quarter, server_now(r->server));
    web_unit_name(unit, sizeof unit, r, note->unit_id);
    snprintf(title, sizeof title, is_ru ? "Докладная записка за %d квартал %d года" : "%d жылғы %d тоқсан бойынша баяндау жазба",
             is_ru ? note->quarter : note->year, is_ru ? note->year : note->quarter);
    snprintf(due_line, sizeof due_line, is_ru ? "Срок представления: %s" : "Ұсыну мерзімі: %s", due.day);
    day_of(printed, sizeof printed, server_now(r->server));
    report_figures figures = REPORT_FIGURES_INIT, live = REPORT_FIGURES_INIT;
    monthly m;
    dala_buf out = DALA_BUF_INIT;
    int rc = report_note_figures(&figures, r->conn->db, note);
    if (!rc && frozen) rc = report_note_live(&live, r->conn->db, note);
    if (!rc) rc = count_months(&m, r, note);
    if (!rc) rc = page(&out, "<!DOCTYPE html><html lang=\"", r->lang);
    if (!rc) rc = page(&out, "\"><head><meta charset=\"utf-8\"><title>", title);
    if (!rc) rc = page(&out, "</title><link rel=\"stylesheet\" href=\"/report.css\"></head><body><header><p class=\"unit\">", unit);
    if (!rc) rc = page(&out, "</p><h1>", title);
    if (!rc) rc = page(&out, "</h1><p class=\"state\">", report_state_label(note->state, r->lang));
    if (!rc) rc = page(&out, " · ", due_line);
    if (!rc && note->late) rc = page(&out, " · <strong class=\"late\">", is_ru ? "представлена с опозданием" : "кешігіп ұсынылды");
    if (!rc && note->late) rc = page(&out, "</strong>", NULL);
    if (!rc) rc = page(&out, "</p></header>", NULL);
    if (!rc && strcmp(note->level, "department") == 0) rc = print_units(&out, r, note, is_ru);
    report_labeler labels;
    report_labeler_init(&labels, r->conn->db, r->lang);
    for (int block = 1; !rc && block <= REPORT_BLOCKS; block++)
        rc = print_block(&out, r, &labels, note, &figures, frozen ? &live : NULL, &m, block, is_ru);
    report_labeler_free(&labels);
    if (!rc && note->signature_len) {
        char fingerprint[REPORT_FINGERPRINT_BYTES], signed_at[32];
        report_key_fingerprint(fingerprint, note->public_key);
        day_of(signed_at, sizeof signed_at, note->signed_at);
        int valid = report_note_verify(r->conn->db, note->id) == DALA_OK;
        rc = page(&out, "<footer class=\"signature\"><p>", is_ru ? "Подписано: " : "Қол қойған: ");
        if (!rc) rc = page(&out, "", note->signer_name);
        if (!rc) rc = page(&out, ", ", signed_at);
        if (!rc) rc = page(&out, "</p><p>ECDSA P-256 · ", fingerprint);
        if (!rc) rc = page(&out, " · ", valid ? (is_ru ? "подпись верна" : "қолтаңба дұрыс")
                                             : (is_ru ? "ПОДПИСЬ НЕ СХОДИТСЯ" : "ҚОЛТАҢБА СӘЙКЕС ЕМЕС"));
        if (!rc) rc = page(&out, "</p></footer>", NULL);
    }
    if (!rc) rc = page(&out, "<p class=\"printed\">Dala · ", printed);
    if (!rc) rc = page(&out, "</p></body></html>\n", NULL);
    report_figures_free(&figures);
    report_figures_free(&live);
    if (!rc) {
        snprintf(r->headers, sizeof r->headers,
                 "Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self' data:; "
                 "frame-ancestors 'none'; base-uri 'none'\r\n");
        web_send(r, 200, "text/html; charset=utf-8", out.data, out.len);
    }
    dala_buf_free(&out);
    return rc ? web_send_failure(r, rc) : 200;
}
