/* bench_report.c - prints what the quarterly report notes (docs/reports.md)
 * cost on a department of realistic size, beside the goal of the issue:
 * "Computing a department's quarter over 100,000 records takes under a
 * second."
 *
 * A fresh central database in a temporary folder ($TMPDIR or /tmp) gets,
 * under the seeded department pd-astana, 10 bodies with one unit each, and
 * --records records (100,000) written through server_record_write, which
 * checks every one by the domain rules (a refusal ends the bench with
 * dala_errmsg: nothing is dropped quietly), in transactions of 2,000. The
 * records are spread over the units and over the days from 2025-01-01 to
 * 2026-09-30, in the proportions of a unit's year:
 *
 *   35% field visits (tests/records_gen.h: the findings of an inspector,
 *       about 1 KB each; 60% name their victim)
 *   15% persons (60% victims, 6% of them men; 40% offenders), written
 *       first: the other records name them, within their unit
 *   15% offences (30% criminal, 70% administrative; mostly
 *       family_domestic; several articles of the Criminal Code and the
 *       Code of Administrative Offences; a victim, and an offender in 92%)
 *   12% protective measures (every kind; 20% of the orders and special
 *       requirements breached within their validity; half tied to an
 *       offence of the unit and issued after it)
 *   12% legal aid, 8% interactions (every kind), 3% suicide checks.
 *
 * No survey responses: server_record_write checks answers against a
 * published form it cannot read (its env has no form_definition), so
 * block 8 counts nothing here.
 *
 * Values come from the bench's own PRNG (splitmix64, --seed), so the same
 * seed writes the same records; only the ids (UUIDv7, random) differ.
 *
 * Then, each a median of --runs runs (7):
 *   1. report_count of pd-astana for 2026 Q3 against 2025 Q3   goal < 1 s
 *   2. report_count of one unit                                information
 *   3. every unit's note drafted and submitted, the department's drafted
 *      and consolidated (the notes are deleted again between runs)
 *                                                              information
 *   4. the real dala-server (127.0.0.1:0, quiet) started on the file;
 *      once its text indexer has read every unit's log (so it does not
 *      run beside the requests), a deputy of pd-astana signs in over HTTP
 *      (tests/web_client.h) and asks for GET /v1/reports/{id} (the
 *      consolidated note, its units counted again to show corrections) and
 *      GET /v1/reports/{id}/print (the same, and the monthly charts)
 *                                                              information
 *
 * Beside each median: the smallest and largest run, and the CPU time (of
 * this thread for 1-3; of the process, whose workers answer 4), which
 * shows what a run costs when other work shares the machine; the header
 * gives the load average. For context: the rows the scans read (the
 * records whose date falls in either quarter, and the measures the breach
 * rule reaches, from a year before the earlier quarter to the end of the
 * later), the unit's share of them, and SQLite's plan for a scan (the
 * query of report_count.c, copied). The bench also checks that
 * the department's count equals its consolidated note (the sum of its
 * units' filed notes) and that the visits it counts are those SQL finds.
 * No timing is ever asserted: the bench prints, and exits 1 only when it
 * could not measure.
 *
 * usage: bench_report [--records N] [--runs N] [--seed N] [--keep]
 * (--keep leaves the temporary folder and its database for a look.)
 */
#include "report_note.h"

#include "bench/bench_common.h"
#include "records_gen.h"
#include "web_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GOAL_SECONDS 1.0
#define UNITS 10
#define TXN_RECORDS 2000
#define YEAR 2026
#define QUARTER 3
#define FIRST_DATE "2025-01-01"
#define LAST_DATE "2026-09-30"
#define ID_BYTES (DALA_UUID_TEXT_LEN + 1)
#define MAX_FIELDS 32
#define FIELD_TEXT_BYTES 16384
#define PASSWORD "bench-deputy-2026"
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

typedef struct options {
    size_t records;
    size_t runs;
    uint64_t seed;
    int keep;
} options;

/* ------------------------------------------------------------ helpers */

/* What the exit handler cleans up. */
static char temp_root[256];
static dala_admin *live_admin;
static dala_server *live_server;
static int keep_files;

/* The median, smallest and largest of `n` timings (sorted in place). */
typedef struct spread {
    double median, min, max;
    double cpu; /* the median CPU time, if measured */
} spread;

static spread spread_of(double *values, size_t n)
{
    spread s;
    s.median = median(values, n); /* sorts */
    s.min = values[0];
    s.max = values[n - 1];
    s.cpu = 0;
    return s;
}

/* Seconds of CPU time on `clock` (CLOCK_THREAD_CPUTIME_ID: this thread's;
 * CLOCK_PROCESS_CPUTIME_ID: the process's, the server's workers included).
 * Beside the wall clock, it shows what a run costs on a busy machine. */
static double cpu_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The load average over the last minute, or -1. */
static double load_average(void)
{
    double load = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f && fscanf(f, "%lf", &load) != 1) load = -1;
    if (f) fclose(f);
    return load;
}

/* At exit, also after a failure: stop the server, close, remove the files. */
static void clean_up(void)
{
    dala_server_stop(live_server);
    live_server = NULL;
    dala_admin_close(live_admin);
    live_admin = NULL;
    if (!temp_root[0]) return;
    if (keep_files) note("files kept in %s", temp_root);
    else remove_tree(temp_root);
}

/* ---------------------------------------------------------- randomness */

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t next_u64(rng *g)
{
    uint64_t z = (g->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* 0 .. n-1. */
static size_t below(rng *g, size_t n)
{
    return n ? (size_t)(next_u64(g) % n) : 0;
}

/* lo .. hi, inclusive. */
static int64_t between(rng *g, int64_t lo, int64_t hi)
{
    return lo + (int64_t)below(g, (size_t)(hi - lo + 1));
}

/* 1 with `percent` % odds. */
static int chance(rng *g, unsigned percent)
{
    return below(g, 100) < percent;
}

#define PICK(g, array) ((array)[below((g), COUNT(array))])

/* A value with its weight. */
typedef struct weighted {
    const char *value;
    unsigned weight;
} weighted;

static const char *pick_weighted(rng *g, const weighted *choices, size_t n)
{
    unsigned total = 0;
    for (size_t i = 0; i < n; i++) total += choices[i].weight;
    size_t r = below(g, total);
    for (size_t i = 0; i < n; i++) {
        if (r < choices[i].weight) return choices[i].value;
        r -= choices[i].weight;
    }
    return choices[n - 1].value;
}

#define PICK_WEIGHTED(g, array) pick_weighted((g), (array), COUNT(array))

/* --------------------------------------------------------------- dates */

/* Days since 1970-01-01 of "YYYY-MM-DD". */
static int64_t day_of(const char *date)
{
    struct tm tm = {0};
    if (sscanf(date, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) fail("bad date %s", date);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) / 86400;
}

static void date_of(char out[11], int64_t day)
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static int64_t first_day, last_day;

/* A day of the records' span. */
static int64_t any_day(rng *g)
{
    return between(g, first_day, last_day);
}

/* `day` + lo..hi days, no later than the span's last day. */
static int64_t later_day(rng *g, int64_t day, int64_t lo, int64_t hi)
{
    int64_t d = day + between(g, lo, hi);
    return d > last_day ? (day > last_day ? day : last_day) : d;
}

/* ------------------------------------------------------------- fields */

/* The fields of one record, their text in `text`. */
typedef struct field_set {
    dala_field items[MAX_FIELDS];
    size_t count;
    char text[FIELD_TEXT_BYTES];
    size_t used;
} field_set;

static void fields_reset(field_set *f)
{
    f->count = 0;
    f->used = 0;
}

static dala_field *field_add(field_set *f, const char *name)
{
    if (f->count == MAX_FIELDS) fail("more than %d fields", MAX_FIELDS);
    dala_field *field = &f->items[f->count++];
    memset(field, 0, sizeof *field);
    field->name = name;
    return field;
}

__attribute__((format(printf, 3, 4))) static void put_textf(field_set *f, const char *name, const char *format, ...)
{
    size_t room = sizeof f->text - f->used;
    va_list args;
    va_start(args, format);
    int n = vsnprintf(f->text + f->used, room, format, args);
    va_end(args);
    if (n < 0 || (size_t)n >= room) fail("the text of a record passes %d bytes", FIELD_TEXT_BYTES);
    dala_field *field = field_add(f, name);
    field->value.type = DALA_VALUE_TEXT;
    field->value.bytes = (const uint8_t *)(f->text + f->used);
    field->value.len = (size_t)n;
    f->used += (size_t)n + 1;
}

static void put_text(field_set *f, const char *name, const char *text)
{
    put_textf(f, name, "%s", text);
}

static void put_int(field_set *f, const char *name, int64_t value)
{
    dala_field *field = field_add(f, name);
    field->value.type = DALA_VALUE_INT;
    field->value.integer = value;
}

static void put_date(field_set *f, const char *name, int64_t day)
{
    char date[11];
    date_of(date, day);
    put_text(f, name, date);
}

/* A set field: 1..`most` distinct weighted values joined by ','. */
static void put_set(field_set *f, rng *g, const char *name, const weighted *choices, size_t n, size_t most)
{
    const char *chosen[8];
    size_t count = 0, want = 1 + below(g, most);
    char text[256] = "";
    for (size_t tries = 0; count < want && count < COUNT(chosen) && tries < 20; tries++) {
        const char *value = pick_weighted(g, choices, n);
        int seen = 0;
        for (size_t i = 0; i < count; i++) seen |= strcmp(chosen[i], value) == 0;
        if (seen) continue;
        chosen[count++] = value;
        if (text[0]) strcat(text, ",");
        strcat(text, value);
    }
    put_text(f, name, text);
}

/* 1..`most` sentences drawn from `list`, joined by spaces. */
static void put_sentences(field_set *f, rng *g, const char *name, const char *const *list, size_t n, size_t most)
{
    char text[4000] = "";
    size_t len = 0, want = 1 + below(g, most);
    for (size_t i = 0; i < want; i++) {
        const char *s = list[below(g, n)];
        int w = snprintf(text + len, sizeof text - len, "%s%s", len ? " " : "", s);
        if (w < 0 || (size_t)w >= sizeof text - len) break;
        len += (size_t)w;
    }
    put_text(f, name, text);
}

/* ------------------------------------------------------------ vocabulary */

static const char *const surname_stems[] = {
    "Нұрлан", "Сейіт", "Әбен", "Құдайберген", "Ермек", "Төлеу", "Оспан", "Мұхтар", "Байжан",
    "Ахмет", "Қасым", "Тұрсын", "Бекболат", "Омар", "Жақып", "Иван", "Смирн", "Кузнец", "Сыздық", "Мамыт",
};
static const char *const names_female[] = {
    "Айгүл", "Дана", "Гүлнар", "Марина", "Әсел", "Жанар", "Динара", "Сәуле", "Айжан", "Елена", "Мадина", "Әлия",
};
static const char *const names_male[] = {
    "Ерлан", "Нұрлан", "Серік", "Асхат", "Бауыржан", "Дәурен", "Марат", "Алексей", "Ержан", "Қанат", "Руслан",
};
static const char *const patronymics_female[] = {"Серікқызы", "Маратовна", "Ерланқызы", "Сергеевна", "Қанатқызы"};
static const char *const patronymics_male[] = {"Серікұлы", "Маратович", "Ерланұлы", "Сергеевич", "Қанатұлы"};
static const char *const streets[] = {
    "Қабанбай батыр даңғылы", "Кенесары көшесі", "Сарыарқа даңғылы", "Бейбітшілік көшесі",
    "ул. Сейфуллина", "ул. Ауэзова", "пр. Республики", "Тәуелсіздік даңғылы", "ул. Жубанова",
};
static const char *const districts[] = {"Есиль", "Сарыарка", "Алматы", "Байконур", "Нура"};

static const weighted victim_categories[] = {
    {"minor", 8}, {"pregnant", 5}, {"disabled", 4}, {"elderly", 7}, {"dependent", 10},
    {"large_family", 10}, {"single_mother", 8}, {"unemployed", 20}, {"migrant", 3}, {"other", 5},
};
static const weighted employments[] = {
    {"employed", 40}, {"unemployed", 35}, {"student", 5}, {"pensioner", 8}, {"self_employed", 9}, {"other", 3},
};
static const weighted articles_criminal[] = {
    {"uk.109-1", 30}, {"uk.108-1", 15}, {"uk.115", 20}, {"uk.106", 6}, {"uk.107", 8},
    {"uk.110", 8},    {"uk.120", 3},    {"uk.121", 2},  {"uk.125", 1},
};
static const weighted articles_admin[] = {
    {"koap.73", 82}, {"koap.434", 12}, {"koap.461", 6},
};
static const weighted relationships[] = {
    {"spouse", 35}, {"former_spouse", 10}, {"cohabitant", 12}, {"former_cohabitant", 5}, {"parent", 4},
    {"child", 8},   {"sibling", 5},        {"other_relative", 5}, {"in_law", 6}, {"acquaintance", 7},
    {"stranger", 3},
};
static const weighted causes[] = {
    {"alcohol", 35}, {"jealousy", 15}, {"household_conflict", 30}, {"financial_dispute", 12}, {"drugs", 3},
    {"mental_disorder", 2}, {"unemployment", 6}, {"other", 4},
};
static const weighted outcomes_criminal[] = {
    {"under_investigation", 30}, {"sent_to_court", 25}, {"convicted", 15}, {"closed_reconciliation", 20},
    {"closed_other", 10},
};
static const weighted outcomes_admin[] = {
    {"admin_fine", 40}, {"admin_arrest", 25}, {"admin_warning", 25}, {"pending", 10},
};
static const char *const circumstances[] = {
    "В ходе ссоры на бытовой почве нанёс потерпевшей несколько ударов рукой по лицу.",
    "Находясь в состоянии алкогольного опьянения, выражался нецензурной бранью и угрожал расправой.",
    "На почве ревности схватил потерпевшую за волосы и толкнул, отчего она ударилась о дверной косяк.",
    "Отказался покинуть жилище после вынесения защитного предписания, устроил скандал в присутствии детей.",
    "Ұрыс кезінде жәбірленушіні бірнеше рет ұрып, телефонын сындырған.",
    "Мас күйінде үйге келіп, жұбайына және балаларына қорқытып, балағат сөздер айтқан.",
    "Со слов соседей, скандалы в семье происходят регулярно, полиция вызывалась ранее.",
    "Потерпевшая обратилась в травмпункт, зафиксированы кровоподтёки на руках и лице.",
};
static const weighted measure_kinds[] = {
    {"protective_order", 45}, {"special_requirements", 15}, {"preventive_registration", 15},
    {"administrative_detention", 10}, {"referral", 8}, {"preventive_talk", 7},
};
static const weighted referrals_to[] = {
    {"crisis_centre", 35}, {"lawyer", 15}, {"psychologist", 25}, {"ngo", 10}, {"healthcare", 8},
    {"social_services", 7},
};
static const char *const requirements[] = {
    "Запрет приближаться к потерпевшей ближе 100 метров.",
    "Запрет на телефонные звонки и переписку с потерпевшей.",
    "Обязанность пройти психокоррекционную программу.",
    "Запрет на посещение места жительства потерпевшей.",
    "Жәбірленушіге жақындауға тыйым салынады.",
};
static const weighted channels[] = {{"in_person", 50}, {"phone", 35}, {"online", 15}};
static const weighted aid_topics[] = {
    {"domestic_violence", 40}, {"divorce_alimony", 20}, {"property_housing", 10}, {"child_custody", 10},
    {"protective_order", 10},  {"employment", 4},       {"other", 6},
};
static const weighted aid_kinds[] = {{"legal", 50}, {"psychological", 30}, {"both", 20}};
static const weighted aid_referrals[] = {
    {"none", 50}, {"crisis_centre", 15}, {"lawyer", 15}, {"psychologist", 12}, {"ngo", 8},
};
static const char *const aid_outcomes[] = {
    "Разъяснены права и порядок обращения в суд, выдана памятка.",
    "Оказана консультация психолога, назначена повторная встреча.",
    "Помощь в составлении искового заявления о взыскании алиментов.",
    "Құқықтары түсіндірілді, дағдарыс орталығының телефоны берілді.",
};
static const weighted suicide_outcomes[] = {{"under_check", 30}, {"case_opened", 20}, {"case_refused", 50}};
static const char *const suicide_findings[] = {
    "Со слов родственников, в последнее время находилась в подавленном состоянии.",
    "Предсмертная записка не обнаружена, следов борьбы не выявлено.",
    "Установлены факты систематических конфликтов с супругом.",
    "Назначена судебно-медицинская экспертиза.",
};
static const weighted interaction_kinds[] = {
    {"state_body", 15}, {"ngo", 12}, {"public_association", 8}, {"crisis_centre", 10}, {"police_unit", 10},
    {"cause_removal", 10}, {"media_response", 8}, {"training", 7}, {"public_talk", 10}, {"info_campaign", 7},
    {"legislative_proposal", 3},
};
static const char *const interaction_topics[] = {
    "Профилактика бытового насилия в семьях группы риска",
    "Совместный рейд по неблагополучным семьям",
    "Отбасылық-тұрмыстық зорлық-зомбылықтың алдын алу",
    "Обмен сведениями о лицах, состоящих на профилактическом учёте",
    "Выступление в школе перед родителями",
    "Публикация в городской газете о защитных предписаниях",
};
static const char *const partners[] = {
    "Кризисный центр «Шаңырақ»", "Акимат района", "Управление образования", "ОО «Не молчи»",
    "Городская поликлиника №4", "Ювенальная полиция", "Центр занятости населения",
};

/* -------------------------------------------------------- the organisation */

typedef struct id_list {
    char (*ids)[ID_BYTES];
    size_t count, alloc;
} id_list;

/* An offence a later measure may be tied to. */
typedef struct offence_ref {
    char id[ID_BYTES];
    int64_t day;
    long offender; /* index into the unit's offenders; -1: none */
} offence_ref;

typedef struct unit_pool {
    int64_t id;
    id_list victims, offenders;
    offence_ref *offences;
    size_t offence_count, offence_alloc;
} unit_pool;

static void *grow(void *items, size_t *alloc, size_t size)
{
    *alloc = *alloc ? *alloc * 2 : 64;
    void *grown = realloc(items, *alloc * size);
    if (!grown) fail("out of memory");
    return grown;
}

static void id_list_add(id_list *list, const char *id)
{
    if (list->count == list->alloc) list->ids = grow(list->ids, &list->alloc, sizeof *list->ids);
    memcpy(list->ids[list->count++], id, ID_BYTES);
}

static void offence_add(unit_pool *u, const char *id, int64_t day, long offender)
{
    if (u->offence_count == u->offence_alloc) u->offences = grow(u->offences, &u->offence_alloc, sizeof *u->offences);
    offence_ref *o = &u->offences[u->offence_count++];
    memcpy(o->id, id, ID_BYTES);
    o->day = day;
    o->offender = offender;
}

/* ------------------------------------------------------------- writing */

/* Writes records in transactions of TXN_RECORDS. */
typedef struct writer {
    sqlite3 *db;
    size_t in_transaction, written;
} writer;

static void write_record(writer *w, const unit_pool *u, const char *table, field_set *f, char id_out[ID_BYTES])
{
    char id[ID_BYTES];
    if (w->in_transaction == 0) must(server_db_begin(w->db), "begin a transaction");
    int rc = server_record_write(id, w->db, u->id, table, f->items, f->count);
    if (rc) {
        fprintf(stderr, "bench_report: record %zu (%s) of unit %lld refused: %s (%s)\n", w->written + 1, table,
                (long long)u->id, dala_errmsg(), dala_strerror(rc));
        server_db_rollback(w->db);
        exit(1);
    }
    if (id_out) memcpy(id_out, id, ID_BYTES);
    w->written++;
    if (++w->in_transaction == TXN_RECORDS) {
        must(server_db_commit(w->db), "commit records");
        w->in_transaction = 0;
    }
}

static void writer_finish(writer *w)
{
    if (w->in_transaction) must(server_db_commit(w->db), "commit records");
    w->in_transaction = 0;
}

/* ------------------------------------------------------------- records */

static void make_person(field_set *f, rng *g, int is_victim)
{
    int female = is_victim ? chance(g, 94) : chance(g, 10);
    put_text(f, "role", is_victim ? "victim" : "offender");
    put_textf(f, "last_name", "%s%s", PICK(g, surname_stems), female ? "ова" : "ов");
    put_text(f, "first_name", female ? PICK(g, names_female) : PICK(g, names_male));
    if (chance(g, 85)) put_text(f, "patronymic", female ? PICK(g, patronymics_female) : PICK(g, patronymics_male));
    put_text(f, "sex", female ? "female" : "male");
    if (chance(g, 90)) {
        int64_t age = is_victim ? between(g, 15, 75) : between(g, 16, 70);
        put_date(f, "birth_date", day_of("2026-01-01") - age * 365 - between(g, 0, 364));
    }
    if (chance(g, 70))
        put_textf(f, "phone", "+7 7%02u %03u %04u", (unsigned)between(g, 0, 78), (unsigned)between(g, 100, 999),
                  (unsigned)between(g, 0, 9999));
    if (chance(g, 80))
        put_textf(f, "address", "г. Астана, район %s, %s, д. %u, кв. %u", PICK(g, districts), PICK(g, streets),
                  (unsigned)between(g, 1, 120), (unsigned)between(g, 1, 300));
    if (is_victim && chance(g, 60)) put_set(f, g, "victim_categories", victim_categories, COUNT(victim_categories), 2);
    if (chance(g, 80)) put_text(f, "employment", PICK_WEIGHTED(g, employments));
    if (chance(g, 70)) put_int(f, "alcohol_abuse", chance(g, is_victim ? 5 : 45));
    if (chance(g, 70)) put_int(f, "prior_record", chance(g, is_victim ? 3 : 30));
    if (chance(g, 20)) put_text(f, "notes", "Состоит на профилактическом учёте, ранее обращалась в полицию.");
}

static void make_offence(field_set *f, rng *g, const unit_pool *u, int64_t day, long *offender_out)
{
    int criminal = chance(g, 30);
    put_text(f, "kind", criminal ? "criminal" : "administrative");
    put_text(f, "sphere", chance(g, criminal ? 80 : 90) ? "family_domestic" : "other");
    put_text(f, "article", criminal ? PICK_WEIGHTED(g, articles_criminal) : PICK_WEIGHTED(g, articles_admin));
    put_date(f, "committed_on", day);
    if (chance(g, 70))
        put_textf(f, "place", "г. Астана, район %s, %s, д. %u", PICK(g, districts), PICK(g, streets),
                  (unsigned)between(g, 1, 120));
    put_text(f, "victim_id", u->victims.ids[below(g, u->victims.count)]);
    *offender_out = chance(g, 92) ? (long)below(g, u->offenders.count) : -1;
    if (*offender_out >= 0) put_text(f, "offender_id", u->offenders.ids[*offender_out]);
    if (chance(g, 90)) put_text(f, "relationship", PICK_WEIGHTED(g, relationships));
    if (chance(g, 80)) put_sentences(f, g, "circumstances", circumstances, COUNT(circumstances), 3);
    if (chance(g, 85)) put_set(f, g, "causes", causes, COUNT(causes), 3);
    if (chance(g, 90)) put_int(f, "offender_alcohol", chance(g, 45));
    if (chance(g, 70)) put_int(f, "offender_prior_record", chance(g, 25));
    if (chance(g, 75)) put_text(f, "offender_employment", PICK_WEIGHTED(g, employments));
    if (chance(g, 80)) {
        if (criminal) put_textf(f, "registration_no", "2571000310%05u", (unsigned)between(g, 0, 99999));
        else put_textf(f, "registration_no", "АП-%06u", (unsigned)between(g, 0, 999999));
        put_date(f, "registered_on", day + between(g, 0, 3));
    }
    if (chance(g, 90))
        put_text(f, "outcome", criminal ? PICK_WEIGHTED(g, outcomes_criminal) : PICK_WEIGHTED(g, outcomes_admin));
}

static void make_measure(field_set *f, rng *g, const unit_pool *u)
{
    const char *kind = PICK_WEIGHTED(g, measure_kinds);
    int is_order = strcmp(kind, "protective_order") == 0, is_special = strcmp(kind, "special_requirements") == 0;
    int64_t issued = any_day(g);
    long offender = (long)below(g, u->offenders.count);
    put_text(f, "kind", kind);
    if (u->offence_count && chance(g, 50)) { /* issued after the offence it answers */
        const offence_ref *o = &u->offences[below(g, u->offence_count)];
        put_text(f, "offence_id", o->id);
        issued = later_day(g, o->day, 0, 10);
        if (o->offender >= 0) offender = o->offender;
    }
    if (strcmp(kind, "referral") == 0) put_text(f, "person_id", u->victims.ids[below(g, u->victims.count)]);
    else put_text(f, "person_id", u->offenders.ids[offender]);
    put_date(f, "issued_on", issued);
    int64_t valid_until = 0;
    if (is_order) valid_until = issued + 30;
    else if (is_special) valid_until = issued + between(g, 30, 365);
    else if (strcmp(kind, "preventive_registration") == 0 && chance(g, 50)) valid_until = issued + 365;
    if (valid_until) put_date(f, "valid_until", valid_until);
    if (chance(g, 90)) put_textf(f, "issued_by", "Начальник УП района %s", PICK(g, districts));
    if (chance(g, 80)) put_textf(f, "decision_no", "ЗП-%06u", (unsigned)between(g, 0, 999999));
    if (is_special) {
        put_sentences(f, g, "requirements", requirements, COUNT(requirements), 3);
        put_textf(f, "court", "Специализированный межрайонный суд района %s", PICK(g, districts));
        put_date(f, "act_date", issued);
        put_int(f, "term_months", (int64_t)between(g, 1, 12));
    }
    if (strcmp(kind, "preventive_registration") == 0) put_text(f, "grounds", "Неоднократное применение бытового насилия");
    if (strcmp(kind, "administrative_detention") == 0) put_int(f, "detention_hours", (int64_t)between(g, 1, 48));
    if (is_order && chance(g, 70)) put_date(f, "served_on", issued + between(g, 0, 1));
    if (is_order && chance(g, 10)) put_date(f, "extended_until", valid_until + 30);
    if ((is_order || is_special) && chance(g, 20)) {
        put_int(f, "breached", 1);
        int64_t span = valid_until - issued;
        put_date(f, "breached_on", later_day(g, issued, 1, span > 1 ? span : 1));
    } else if (chance(g, 60)) {
        put_int(f, "breached", 0);
    }
    if (strcmp(kind, "referral") == 0) put_text(f, "referral_to", PICK_WEIGHTED(g, referrals_to));
    if (chance(g, 20)) put_text(f, "notes", "Копия предписания вручена под подпись.");
}

static void make_aid(field_set *f, rng *g, const unit_pool *u, int64_t day)
{
    int anonymous = chance(g, 25);
    put_date(f, "given_on", day);
    put_text(f, "channel", PICK_WEIGHTED(g, channels));
    put_text(f, "topic", PICK_WEIGHTED(g, aid_topics));
    put_text(f, "aid_kind", PICK_WEIGHTED(g, aid_kinds));
    if (chance(g, 70)) put_text(f, "referral", PICK_WEIGHTED(g, aid_referrals));
    if (chance(g, 60)) put_text(f, "outcome", PICK(g, aid_outcomes));
    put_int(f, "is_anonymous", anonymous);
    if (!anonymous && chance(g, 70)) put_text(f, "person_id", u->victims.ids[below(g, u->victims.count)]);
}

static void make_suicide(field_set *f, rng *g, const unit_pool *u, int64_t day)
{
    put_text(f, "kind", chance(g, 75) ? "attempt" : "completed");
    put_date(f, "event_date", day);
    if (chance(g, 90)) put_date(f, "checked_on", day + between(g, 0, 10));
    if (chance(g, 40)) put_text(f, "person_id", u->victims.ids[below(g, u->victims.count)]);
    if (chance(g, 85)) put_int(f, "age", between(g, 14, 80));
    put_int(f, "signs_of_violence", chance(g, 15));
    if (chance(g, 80)) put_int(f, "incitement_found", chance(g, 10));
    if (chance(g, 70)) put_sentences(f, g, "findings", suicide_findings, COUNT(suicide_findings), 3);
    if (chance(g, 90)) put_text(f, "outcome", PICK_WEIGHTED(g, suicide_outcomes));
    if (chance(g, 70)) put_textf(f, "registration_no", "КУИ-%06u", (unsigned)between(g, 0, 999999));
}

static void make_interaction(field_set *f, rng *g, int64_t day)
{
    put_date(f, "held_on", day);
    put_text(f, "kind", PICK_WEIGHTED(g, interaction_kinds));
    if (chance(g, 80)) put_text(f, "partner", PICK(g, partners));
    put_text(f, "topic", PICK(g, interaction_topics));
    if (chance(g, 70)) put_int(f, "participants", between(g, 2, 200));
    if (chance(g, 50)) put_text(f, "outcome", "Достигнута договорённость о совместных профилактических мероприятиях.");
}

/* A home visit of records_gen, on `day`, without the unit and officer it
 * names (the server knows them), naming a victim of the unit in 60%. */
static void make_visit(field_set *f, rng *g, records_gen *gen, const unit_pool *u, int64_t day)
{
    gen_record rec;
    must(records_gen_next(gen, &rec), "generate a visit");
    for (size_t i = 0; i < rec.field_count; i++) {
        const dala_field *from = &rec.fields[i];
        if (strcmp(from->name, "unit_id") == 0 || strcmp(from->name, "officer_id") == 0) continue;
        if (strcmp(from->name, "visit_date") == 0) put_date(f, "visit_date", day);
        else if (strcmp(from->name, "follow_up_date") == 0) put_date(f, "follow_up_date", day + between(g, 7, 45));
        else if (from->value.type == DALA_VALUE_TEXT)
            put_textf(f, from->name, "%.*s", (int)from->value.len, (const char *)from->value.bytes);
        else *field_add(f, from->name) = *from; /* INT or REAL: no memory of its own */
    }
    if (chance(g, 60)) put_text(f, "victim_id", u->victims.ids[below(g, u->victims.count)]);
    gen_record_free(&rec);
}

/* The record types after the persons, in their proportions (percent). */
enum { T_VISIT, T_OFFENCE, T_MEASURE, T_AID, T_INTERACTION, T_SUICIDE, T_COUNT };
static const unsigned type_percent[T_COUNT] = {35, 15, 12, 12, 8, 3};
static const char *const type_table[T_COUNT] = {
    "field_visit", "offence", "protective_measure", "legal_aid", "interaction", "suicide_check",
};

typedef struct load_figures {
    size_t persons, by_type[T_COUNT];
    double seconds;
} load_figures;

/* Writes the organisation's records: the persons first, then the rest in
 * a shuffled order, each in a unit drawn at random. */
static void load(load_figures *out, sqlite3 *db, unit_pool *units, const options *opt)
{
    rng g = {opt->seed};
    records_gen gen;
    records_gen_init(&gen, opt->seed ^ UINT64_C(0x5eed));
    field_set *f = must_alloc(1, sizeof *f);
    writer w = {db, 0, 0};
    size_t others = 0;
    memset(out, 0, sizeof *out);
    for (int t = 0; t < T_COUNT; t++) others += out->by_type[t] = opt->records * type_percent[t] / 100;
    out->persons = opt->records - others;
    double start = now_seconds();

    for (size_t i = 0; i < out->persons; i++) {
        unit_pool *u = &units[i % UNITS];
        int is_victim = (i / UNITS) % 5 < 3;
        char id[ID_BYTES];
        fields_reset(f);
        make_person(f, &g, is_victim);
        write_record(&w, u, "person", f, id);
        id_list_add(is_victim ? &u->victims : &u->offenders, id);
    }
    unsigned char *order = must_alloc(others, 1);
    size_t at = 0;
    for (int t = 0; t < T_COUNT; t++)
        for (size_t k = 0; k < out->by_type[t]; k++) order[at++] = (unsigned char)t;
    for (size_t i = others; i > 1; i--) { /* Fisher-Yates */
        size_t j = below(&g, i);
        unsigned char swap = order[i - 1];
        order[i - 1] = order[j];
        order[j] = swap;
    }
    for (size_t i = 0; i < others; i++) {
        unit_pool *u = &units[below(&g, UNITS)];
        int64_t day = any_day(&g);
        char id[ID_BYTES];
        long offender = -1;
        fields_reset(f);
        switch (order[i]) {
        case T_VISIT: make_visit(f, &g, &gen, u, day); break;
        case T_OFFENCE: make_offence(f, &g, u, day, &offender); break;
        case T_MEASURE: make_measure(f, &g, u); break;
        case T_AID: make_aid(f, &g, u, day); break;
        case T_INTERACTION: make_interaction(f, &g, day); break;
        default: make_suicide(f, &g, u, day); break;
        }
        write_record(&w, u, type_table[order[i]], f, id);
        if (order[i] == T_OFFENCE) offence_add(u, id, day, offender);
        if (w.written % 20000 == 0) note("%zu records written", w.written);
    }
    writer_finish(&w);
    out->seconds = now_seconds() - start;
    free(order);
    free(f);
}

/* ------------------------------------------------------------- context */

/* Counts of `sql` with ?1 the department, ?2 and ?3 two days. */
static long long count_rows(sqlite3 *db, int64_t department, const char *sql, const char *from, const char *to)
{
    sqlite3_stmt *stmt;
    long long n = -1;
    char full[512];
    snprintf(full, sizeof full,
             "WITH RECURSIVE scope(id) AS (SELECT ?1 UNION ALL "
             "SELECT o.id FROM org_unit o JOIN scope ON o.parent_id = scope.id) %s",
             sql);
    if (sqlite3_prepare_v2(db, full, -1, &stmt, NULL) != SQLITE_OK) fail("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_bind_int64(stmt, 1, department);
    sqlite3_bind_text(stmt, 2, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, to, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
}

/* How SQLite reads the records of one scan of report_count.c (its query,
 * copied here: keep the two alike): the plan's line about `record`. */
static void scan_plan(char *out, size_t size, sqlite3 *db)
{
    sqlite3_stmt *stmt;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db,
                           "EXPLAIN QUERY PLAN WITH RECURSIVE scope(id) AS (SELECT ?1 UNION ALL "
                           "SELECT o.id FROM org_unit o JOIN scope ON o.parent_id = scope.id) "
                           "SELECT id, data FROM record WHERE tbl = ?2 AND occurred_on BETWEEN ?3 AND ?4 "
                           "AND unit_id IN (SELECT id FROM scope)",
                           -1, &stmt, NULL) != SQLITE_OK)
        fail("explain the scan: %s", sqlite3_errmsg(db));
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(stmt, 3);
        if (detail && strstr(detail, " record ")) snprintf(out, size, "%s", detail);
    }
    sqlite3_finalize(stmt);
}

static void exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) fail("%s: %s", sql, sqlite3_errmsg(db));
}

/* How many figures of `a` differ from `b`'s (absent counts as zero). */
static size_t differences(const report_figures *a, const report_figures *b)
{
    size_t n = 0;
    for (size_t i = 0; i < a->count; i++) {
        const report_figure *x = &a->items[i], *y = report_figures_find(b, x->group, x->value);
        for (int p = REPORT_NOW; p <= REPORT_LAST; p++) n += (y ? y->count[p] : 0) != x->count[p];
    }
    for (size_t i = 0; i < b->count; i++) {
        const report_figure *y = &b->items[i];
        if (!report_figures_find(a, y->group, y->value)) n += y->count[REPORT_NOW] != 0 || y->count[REPORT_LAST] != 0;
    }
    return n;
}

/* ----------------------------------------------------------------- HTTP */

/* The ms of `runs` GETs of `path`, each answered 200, and the median CPU
 * ms the process spent on one (the server runs in it). */
static spread timed_get(int port, const web_login *login, const char *path, size_t runs,
                        size_t *bytes)
{
    web_answer answer = WEB_ANSWER_INIT;
    double *ms = must_alloc(runs, sizeof *ms), *cpu = must_alloc(runs, sizeof *cpu);
    for (size_t i = 0; i < runs; i++) {
        double start = now_seconds(), cpu_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
        int status = web_get(&answer, port, path, login);
        ms[i] = (now_seconds() - start) * 1e3;
        cpu[i] = (cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start) * 1e3;
        if (status != 200) fail("GET %s: %d %.300s", path, status, answer.body ? answer.body : "");
        *bytes = answer.body_len;
    }
    web_answer_free(&answer);
    spread s = spread_of(ms, runs);
    s.cpu = median(cpu, runs);
    free(ms);
    free(cpu);
    return s;
}

/* ----------------------------------------------------------- the steps */

/* The organisation, the database and what the steps hand on. */
typedef struct world {
    char db_path[400];
    sqlite3 *db; /* the administration's connection; NULL once the server runs */
    int64_t department, deputy, department_note;
    unit_pool units[UNITS];
    report_figures figures; /* the department's, from the last run of 1 */
    size_t unit_figures;    /* how many one unit's count gave */
    size_t runs;
} world;

/* pd-astana > 10 bodies > one unit each, and the department's deputy. */
static void build_organisation(world *w)
{
    must(dala_admin_open(&live_admin, w->db_path), "open the central database");
    w->db = live_admin->db;
    must(dala_admin_unit_find(&w->department, live_admin, "pd-astana"), "find pd-astana");
    for (int i = 0; i < UNITS; i++) {
        char name[160];
        int64_t body;
        snprintf(name, sizeof name, "УП района %s, отдел %d", districts[i % 5], i / 5 + 1);
        must(dala_admin_unit_add(&body, live_admin, w->department, "body", name), "add a body");
        snprintf(name, sizeof name, "ОЗЖН УП района %s, отдел %d", districts[i % 5], i / 5 + 1);
        must(dala_admin_unit_add(&w->units[i].id, live_admin, body, "unit", name), "add a unit");
    }
    must(dala_admin_user_add(&w->deputy, live_admin, "bench.deputy", "Bench Deputy", "deputy", w->department),
         "add the deputy");
    must(dala_admin_user_password(live_admin, w->deputy, PASSWORD), "set the deputy's password");
}

/* What the scans read, counted by SQL for the table. */
typedef struct context {
    char first[2][11], last[2][11], since[11];
    long long rows_now, rows_last, rows_measures, unit_rows, offences_now, visits_now;
    char plan[200];
} context;

/* The rows of the quarters (all types but measures) and the measures
 * issued up to the quarter's end (their lifecycle and stock) under `unit_id`. */
static long long rows_under(const context *c, sqlite3 *db, int64_t unit_id, int period)
{
    const char *in_window = "SELECT count(*) FROM record WHERE occurred_on BETWEEN ?2 AND ?3 "
                            "AND tbl <> 'protective_measure' AND unit_id IN scope";
    if (period >= 0) return count_rows(db, unit_id, in_window, c->first[period], c->last[period]);
    return count_rows(db, unit_id, "SELECT count(*) FROM record WHERE tbl = 'protective_measure' AND "
                                   "occurred_on BETWEEN ?2 AND ?3 AND unit_id IN scope",
                      c->since, c->last[REPORT_NOW]);
}

static void count_context(context *c, const world *w)
{
    report_quarter_days(c->first[REPORT_NOW], c->last[REPORT_NOW], YEAR, QUARTER);
    report_quarter_days(c->first[REPORT_LAST], c->last[REPORT_LAST], YEAR - 1, QUARTER);
    snprintf(c->since, sizeof c->since, "%s", "0000-00-00"); /* every measure: a registration may stand for years */
    c->rows_now = rows_under(c, w->db, w->department, REPORT_NOW);
    c->rows_last = rows_under(c, w->db, w->department, REPORT_LAST);
    c->rows_measures = rows_under(c, w->db, w->department, -1);
    c->unit_rows = rows_under(c, w->db, w->units[0].id, REPORT_NOW) +
                   rows_under(c, w->db, w->units[0].id, REPORT_LAST) + rows_under(c, w->db, w->units[0].id, -1);
    c->offences_now = count_rows(w->db, w->department,
                                 "SELECT count(*) FROM record WHERE tbl = 'offence' AND occurred_on "
                                 "BETWEEN ?2 AND ?3 AND unit_id IN scope",
                                 c->first[REPORT_NOW], c->last[REPORT_NOW]);
    c->visits_now = count_rows(w->db, w->department,
                               "SELECT count(*) FROM record WHERE tbl = 'field_visit' AND occurred_on "
                               "BETWEEN ?2 AND ?3 AND unit_id IN scope",
                               c->first[REPORT_NOW], c->last[REPORT_NOW]);
    scan_plan(c->plan, sizeof c->plan, w->db);
}

/* Runs `step` w->runs times, each after `before` (untimed; may be NULL):
 * wall and CPU time (this thread's). */
static spread timed(world *w, void (*before)(world *w), void (*step)(world *w))
{
    double *seconds = must_alloc(w->runs, sizeof *seconds), *cpu = must_alloc(w->runs, sizeof *cpu);
    for (size_t r = 0; r < w->runs; r++) {
        if (before) before(w);
        double start = now_seconds(), cpu_start = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
        step(w);
        seconds[r] = now_seconds() - start;
        cpu[r] = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
    }
    spread s = spread_of(seconds, w->runs);
    s.cpu = median(cpu, w->runs);
    free(seconds);
    free(cpu);
    return s;
}

static void count_department(world *w)
{
    report_figures_free(&w->figures);
    w->figures = (report_figures)REPORT_FIGURES_INIT;
    must(report_count(&w->figures, w->db, w->department, YEAR, QUARTER, NULL), "count the department's quarter");
}

static void count_unit(world *w)
{
    report_figures figures = REPORT_FIGURES_INIT;
    must(report_count(&figures, w->db, w->units[0].id, YEAR, QUARTER, NULL), "count a unit's quarter");
    w->unit_figures = figures.count;
    report_figures_free(&figures);
}

/* The notes of the run before: a quarter has one note per unit. */
static void delete_notes(world *w)
{
    exec(w->db, "DELETE FROM report_filing; DELETE FROM report_figure; DELETE FROM report_narrative; "
                "DELETE FROM report_note;");
}

/* Every unit drafts and files its note; the department drafts and
 * consolidates its own. */
static void file_notes(world *w)
{
    int64_t now = (int64_t)time(NULL);
    for (int i = 0; i < UNITS; i++) {
        int64_t id;
        must(report_note_draft(&id, w->db, w->units[i].id, YEAR, QUARTER, w->deputy, now), "draft a unit's note");
        must(report_note_submit(w->db, id, w->deputy, now), "submit a unit's note");
    }
    must(report_note_draft(&w->department_note, w->db, w->department, YEAR, QUARTER, w->deputy, now),
         "draft the department's note");
    must(report_note_consolidate(w->db, w->department_note, w->deputy, now), "consolidate the department's note");
}

/* 1 and 2: the department's quarter, and one unit's. */
static void bench_counts(world *w, const context *c)
{
    char measured[24], notes[200], a[32], b[32], d[32];
    spread s = timed(w, NULL, count_department);
    const report_figure *crimes = report_figures_find(&w->figures, "crimes", "");
    fill(measured, sizeof measured, "%.3f s", s.median);
    fill(notes, sizeof notes, "report_count(pd-astana, %d, Q%d), %d units: %zu figures; cpu %.3f s; min %.3f, max %.3f s",
         YEAR, QUARTER, UNITS, w->figures.count, s.cpu, s.min, s.max);
    add_row("1. department's quarter", measured, "< 1 s", pass_or_miss(s.median < GOAL_SECONDS), notes);
    fill(measured, sizeof measured, "%s", grouped(a, sizeof a, (size_t)(c->rows_now + c->rows_last + c->rows_measures)));
    fill(notes, sizeof notes, "by occurred_on: %s in %d-Q%d, %s in %d-Q%d, %s measures up to %.0s%s (lifecycle and stock)",
         grouped(a, sizeof a, (size_t)c->rows_now), YEAR, QUARTER, grouped(b, sizeof b, (size_t)c->rows_last),
         YEAR - 1, QUARTER, grouped(d, sizeof d, (size_t)c->rows_measures), c->since, c->last[REPORT_NOW]);
    add_row("   rows read", measured, "-", "", notes);
    add_row("   scan plan", "", "-", "", c->plan);
    fill(measured, sizeof measured, "%lld", crimes ? (long long)crimes->count[REPORT_NOW] : 0);
    fill(notes, sizeof notes, "crimes counted in %d-Q%d, of %lld offences; each reads its victim and offender by id",
         YEAR, QUARTER, c->offences_now);
    add_row("   crimes (block 1)", measured, "-", "", notes);

    s = timed(w, NULL, count_unit);
    fill(measured, sizeof measured, "%.3f s", s.median);
    fill(notes, sizeof notes, "information; report_count of one unit (%s of the rows above): %zu figures; cpu %.3f s; "
                              "min %.3f, max %.3f s",
         grouped(a, sizeof a, (size_t)c->unit_rows), w->unit_figures, s.cpu, s.min, s.max);
    add_row("2. one unit's quarter", measured, "-", "", notes);
}

/* 3, and a check: the department's count must be its consolidated note
 * (the sum of its units' filed notes), and count the visits SQL finds. */
static void bench_notes(world *w, const context *c)
{
    char measured[24], notes[200];
    spread s = timed(w, delete_notes, file_notes);
    fill(measured, sizeof measured, "%.3f s", s.median);
    fill(notes, sizeof notes, "information; %d x (draft + submit: a unit's count) + draft + consolidate; cpu %.3f s; "
                              "min %.3f, max %.3f s",
         UNITS, s.cpu, s.min, s.max);
    add_row("3. notes filed and consolidated", measured, "-", "", notes);

    report_note consolidated;
    report_figures frozen = REPORT_FIGURES_INIT;
    must(report_note_load(&consolidated, w->db, w->department_note), "load the department's note");
    must(report_note_figures(&frozen, w->db, &consolidated), "read the consolidated figures");
    size_t differing = differences(&w->figures, &frozen);
    const report_figure *visits = report_figures_find(&w->figures, "prevention.visits", "");
    int agree = differing == 0 && visits && visits->count[REPORT_NOW] == c->visits_now;
    fill(notes, sizeof notes, "count = consolidated note (%zu figures differ); visits %lld = SQL %lld", differing,
         visits ? (long long)visits->count[REPORT_NOW] : -1, c->visits_now);
    add_row("   check", agree ? "agree" : "DIFFER", "-", agree ? "" : "MISS", notes);
    report_note_free(&consolidated);
    report_figures_free(&frozen);
}

/* 4: the consolidated note read through the real server. */
static void bench_http(world *w)
{
    char measured[24], notes[200], path[96];
    size_t bytes = 0;
    dala_admin_close(live_admin); /* the server opens its own connections */
    live_admin = NULL;
    w->db = NULL;
    dala_server_options server_options = DALA_SERVER_OPTIONS_INIT;
    server_options.db_path = w->db_path;
    server_options.listen = "127.0.0.1:0";
    server_options.quiet = 1;
    must(dala_server_start(&live_server, &server_options), "start dala-server");
    int port = dala_server_port(live_server);
    note("waiting for the server's text index ...");
    double index_s = bench_wait_for_index(NULL, w->db_path, 600), start = now_seconds();
    web_login login;
    int status = web_sign_in(&login, port, "bench.deputy", PASSWORD);
    if (status != 200) fail("sign in: %d", status);
    note("text index caught up in %.1f s; sign-in %.0f ms", index_s, (now_seconds() - start) * 1e3);

    snprintf(path, sizeof path, "/v1/reports/%lld", (long long)w->department_note);
    spread s = timed_get(port, &login, path, w->runs, &bytes);
    fill(measured, sizeof measured, "%.0f ms", s.median);
    fill(notes, sizeof notes, "information; consolidated note, its %d units counted again (corrections); %.1f KB; "
                              "cpu %.0f ms; min %.0f, max %.0f ms",
         UNITS, (double)bytes / 1e3, s.cpu, s.min, s.max);
    add_row("4. GET /v1/reports/{id}", measured, "-", "", notes);
    snprintf(path, sizeof path, "/v1/reports/%lld/print", (long long)w->department_note);
    s = timed_get(port, &login, path, w->runs, &bytes);
    fill(measured, sizeof measured, "%.0f ms", s.median);
    fill(notes, sizeof notes, "information; the same + %d monthly counts of the department (charts); %.1f KB; "
                              "cpu %.0f ms; min %.0f, max %.0f ms",
         QUARTER * 3, (double)bytes / 1e3, s.cpu, s.min, s.max);
    add_row("   GET /v1/reports/{id}/print", measured, "-", "", notes);
    fill(measured, sizeof measured, "%.1f s", index_s);
    add_row("   setup: text index catch-up", measured, "-", "",
            "information; the server's indexer over every unit's log, waited for before the requests");
    dala_server_stop(live_server);
    live_server = NULL;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: bench_report [--records N] [--runs N] [--seed N] [--keep]\n");
    exit(2);
}

static options parse_options(int argc, char **argv)
{
    options opt = {100000, 7, 1, 0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0) opt.records = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--runs") == 0) opt.runs = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--seed") == 0) opt.seed = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--keep") == 0) opt.keep = 1;
        else usage();
    }
    if (opt.records < 1000 || opt.runs == 0) usage();
    return opt;
}

int main(int argc, char **argv)
{
    options opt = parse_options(argc, argv);
    double began = now_seconds();
    const char *tmp = getenv("TMPDIR");
    static world w;
    context c;
    load_figures loaded;
    char measured[24], notes[200], a[32];
    setvbuf(stdout, NULL, _IOLBF, 0);
    first_day = day_of(FIRST_DATE);
    last_day = day_of(LAST_DATE);

    snprintf(temp_root, sizeof temp_root, "%s/dala-bench-report.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(temp_root)) {
        int error = errno;
        temp_root[0] = '\0';
        fail("mkdtemp: %s", strerror(error));
    }
    keep_files = opt.keep;
    atexit(clean_up);
    snprintf(w.db_path, sizeof w.db_path, "%s/central.db", temp_root);
    w.runs = opt.runs;
    w.figures = (report_figures)REPORT_FIGURES_INIT;

    build_organisation(&w);
    note("writing %zu records through server_record_write ...", opt.records);
    load(&loaded, w.db, w.units, &opt);
    note("%zu records in %.1f s", opt.records, loaded.seconds);
    count_context(&c, &w);
    double load_before = load_average();
    bench_counts(&w, &c);
    bench_notes(&w, &c);
    bench_http(&w);

    fill(measured, sizeof measured, "%.1f s", loaded.seconds);
    fill(notes, sizeof notes, "server_record_write, %d per transaction: %zu persons, %zu visits, %zu offences, "
                              "%zu measures, %zu aid, %zu interactions, %zu suicide checks",
         TXN_RECORDS, loaded.persons, loaded.by_type[T_VISIT], loaded.by_type[T_OFFENCE], loaded.by_type[T_MEASURE],
         loaded.by_type[T_AID], loaded.by_type[T_INTERACTION], loaded.by_type[T_SUICIDE]);
    add_row("setup: records written", measured, "-", "", notes);
    printf("bench_report: %s records (seed %llu) in %d units of pd-astana, dated %s..%s; medians of %zu runs; "
           "load average %.1f before the counts, %.1f at the end; %.0f s in all\n",
           grouped(a, sizeof a, opt.records), (unsigned long long)opt.seed, UNITS, FIRST_DATE, LAST_DATE, opt.runs,
           load_before, load_average(), now_seconds() - began);
    print_table();

    report_figures_free(&w.figures);
    for (int i = 0; i < UNITS; i++) {
        free(w.units[i].victims.ids);
        free(w.units[i].offenders.ids);
        free(w.units[i].offences);
    }
    return 0;
}
