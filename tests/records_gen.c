/* records_gen.c - builds the deterministic home-visit records of
 * records_gen.h: a splitmix64 stream decides every choice, the words come
 * from records_gen_vocab.h, and each record is written twice, as dala_field
 * values and as the JSON object a REST client would send. */
#include "records_gen.h"
#include "records_gen_vocab.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first visit day of every stream: Monday 2024-01-08, plus up to 59
 * days drawn from the seed. Kazakhstan's time is UTC+5. */
#define GEN_FIRST_DAY 19730
#define GEN_UTC_OFFSET_MINUTES (5 * 60)
/* Scratch room for one record's text values (the largest needs ~1.3 KB)
 * and its JSON (~1.6 KB); each is then kept in memory of its exact size. */
#define GEN_STORAGE_BYTES 4096
#define GEN_JSON_BYTES 8192
/* The findings are 300 to 600 bytes of whole sentences. */
#define GEN_FINDINGS_MIN 300
#define GEN_FINDINGS_MAX 600
#define GEN_SENTENCE_BYTES 512

/* ------------------------------------------------------------------ PRNG */

uint64_t records_gen_u64(records_gen *gen)
{
    uint64_t z = (gen->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A uniform number in [0, n), n > 0 (Lemire's multiply; the bias is below
 * 2^-32 and the same everywhere, which is all a generator needs). */
static uint32_t gen_below(records_gen *gen, uint32_t n)
{
    return (uint32_t)(((records_gen_u64(gen) >> 32) * n) >> 32);
}

/* A uniform number in [lo, hi]. */
static int64_t gen_range(records_gen *gen, int64_t lo, int64_t hi)
{
    return lo + (int64_t)gen_below(gen, (uint32_t)(hi - lo + 1));
}

/* True with probability percent/100. */
static int gen_chance(records_gen *gen, uint32_t percent)
{
    return gen_below(gen, 100) < percent;
}

#define GEN_PICK(gen, array) ((array)[gen_below((gen), (uint32_t)VOCAB_COUNT(array))])

void records_gen_init(records_gen *gen, uint64_t seed)
{
    gen->seed = seed;
    /* Mixed, so seeds that differ by splitmix64's step (or any multiple of
     * it) do not give the same records a few draws apart. */
    gen->state = seed;
    gen->state = records_gen_u64(gen) ^ UINT64_C(0x6a09e667f3bcc909);
    gen->record_count = 0;
    gen->visit_day = GEN_FIRST_DAY + gen_below(gen, 60);
}

/* ----------------------------------------------------------- text buffer */

/* Appends into fixed memory; running out of room is a bug of this file. */
typedef struct gen_text {
    char *data;
    size_t len;
    size_t cap;
} gen_text;

static void text_put(gen_text *text, const char *bytes, size_t len)
{
    assert(text->len + len < text->cap && "records_gen: buffer too small");
    memcpy(text->data + text->len, bytes, len);
    text->len += len;
    text->data[text->len] = '\0';
}

static void text_puts(gen_text *text, const char *s)
{
    text_put(text, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void text_printf(gen_text *text, const char *fmt,
                                                              ...)
{
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(text->data + text->len, text->cap - text->len, fmt, args);
    va_end(args);
    assert(n >= 0 && (size_t)n < text->cap - text->len && "records_gen: buffer too small");
    text->len += (size_t)n;
}

/* ------------------------------------------------------------- calendar */

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t days, int *year, unsigned *month, unsigned *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (*month <= 2));
}

/* "2024-03-14" */
static void put_iso_date(gen_text *text, int64_t days)
{
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    text_printf(text, "%04d-%02u-%02u", y, m, d);
}

/* "14.03.2024", the way an inspector writes a date in prose. */
static void put_prose_date(gen_text *text, int64_t days)
{
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    text_printf(text, "%02u.%02u.%04d", d, m, y);
}

/* ---------------------------------------------------------- the visit */

/* Everything drawn once per record that several fields share. */
typedef struct visit {
    const vocab_city *city;
    unsigned district;
    const vocab_street *street;
    unsigned officer;
    int64_t day;
    unsigned minute_of_day; /* local time the visit began */
    unsigned duration_min;
    unsigned contact;        /* index into vocab_contacts */
    unsigned risk;           /* index into vocab_risks */
    unsigned order;          /* index into vocab_orders */
    unsigned children;
    unsigned victims;
    int offender_present;
    uint32_t victim, offender; /* person codes (see put_person) */
    uint8_t relation;
} visit;

static unsigned count_districts(const vocab_city *city)
{
    unsigned n = 0;
    while (n < VOCAB_COUNT(city->districts) && city->districts[n]) n++;
    return n;
}

static unsigned count_streets(const vocab_city *city)
{
    unsigned n = 0;
    while (n < VOCAB_COUNT(city->streets) && city->streets[n].name) n++;
    return n;
}

/* A person as a code: surname stem, first and second initial, a byte each. */
static uint32_t draw_person(records_gen *gen)
{
    uint32_t stem = gen_below(gen, VOCAB_COUNT(vocab_surnames));
    uint32_t first = gen_below(gen, VOCAB_COUNT(vocab_initials));
    uint32_t second = gen_below(gen, VOCAB_COUNT(vocab_initials));
    return stem | first << 8 | second << 16;
}

/* "Нұрланова А. Қ." (female) or "Нұрланов А. Қ." */
static void put_person(gen_text *text, uint32_t code, int female)
{
    const vocab_surname *surname = &vocab_surnames[(code & 0xff) % VOCAB_COUNT(vocab_surnames)];
    text_printf(text, "%s%s %s. %s.", surname->stem, female ? surname->female : surname->male,
                vocab_initials[(code >> 8 & 0xff) % VOCAB_COUNT(vocab_initials)],
                vocab_initials[(code >> 16 & 0xff) % VOCAB_COUNT(vocab_initials)]);
}

/* Draws the shared facts of the next visit; the calendar moves on a day
 * about every thirtieth record (a unit's few dozen visits a day). */
static void draw_visit(records_gen *gen, visit *v)
{
    if (gen->record_count > 0 && gen_chance(gen, 3)) gen->visit_day++;
    v->city = &vocab_cities[gen_below(gen, VOCAB_COUNT(vocab_cities))];
    v->district = gen_below(gen, count_districts(v->city));
    v->street = &v->city->streets[gen_below(gen, count_streets(v->city))];
    v->officer = gen_below(gen, 6);
    v->day = gen->visit_day;
    v->minute_of_day = (unsigned)gen_range(gen, 9 * 60, 20 * 60 + 45);
    v->duration_min = (unsigned)gen_range(gen, 15, 95);
    v->contact = gen_chance(gen, 8) ? 2 : gen_below(gen, 2);
    v->risk = gen_below(gen, 100) < 50 ? 0 : gen_chance(gen, 65) ? 1 : 2;
    v->order = v->risk == 0 ? 0 : gen_below(gen, VOCAB_COUNT(vocab_orders));
    v->children = gen_chance(gen, 20) ? 0 : (unsigned)gen_range(gen, 1, 5);
    v->victims = gen_chance(gen, 90) ? 1 : 2;
    v->offender_present = v->contact == 1 && gen_chance(gen, 60);
    v->victim = draw_person(gen);
    v->offender = draw_person(gen);
    v->relation = (uint8_t)gen_below(gen, VOCAB_COUNT(vocab_relations));
}

/* Mints the record's id: a UUIDv7 whose milliseconds are when the
 * inspector saved the record, shortly after the visit ended. */
static void make_id(records_gen *gen, const visit *v, gen_record *rec)
{
    int64_t minutes = v->day * 1440 + v->minute_of_day - GEN_UTC_OFFSET_MINUTES + v->duration_min;
    uint64_t ms = (uint64_t)(minutes * 60 + gen_range(gen, 0, 1799)) * 1000 + gen_below(gen, 1000);
    uint64_t r1 = records_gen_u64(gen), r2 = records_gen_u64(gen);
    for (int i = 0; i < 6; i++) rec->id[i] = (uint8_t)(ms >> (40 - 8 * i));
    for (int i = 6; i < 8; i++) rec->id[i] = (uint8_t)(r1 >> (8 * i));
    for (int i = 8; i < 16; i++) rec->id[i] = (uint8_t)(r2 >> (8 * (i - 8)));
    rec->id[6] = (uint8_t)(0x70 | (rec->id[6] & 0x0f)); /* version 7 */
    rec->id[8] = (uint8_t)(0x80 | (rec->id[8] & 0x3f)); /* variant 10 */
    dala_uuid_format(rec->id_text, rec->id);
    rec->created_ms = ms;
}

/* --------------------------------------------------------------- fields */

/* Where the next field goes: the record's storage for text values. */
typedef struct field_writer {
    gen_record *rec;
    gen_text storage;
    size_t start; /* where the text value being written began */
} field_writer;

static dala_field *next_field(field_writer *w, const char *name)
{
    assert(w->rec->field_count < GEN_RECORD_FIELDS);
    dala_field *field = &w->rec->fields[w->rec->field_count++];
    memset(field, 0, sizeof *field);
    field->name = name;
    return field;
}

/* Opens a text value: append its bytes to w->storage, then text_end(). */
static void text_begin(field_writer *w)
{
    w->start = w->storage.len;
}

static void text_end(field_writer *w, const char *name)
{
    dala_field *field = next_field(w, name);
    field->value.type = DALA_VALUE_TEXT;
    field->value.bytes = (const uint8_t *)w->storage.data + w->start;
    field->value.len = w->storage.len - w->start;
    text_put(&w->storage, "", 0);
    w->storage.len++; /* each value stays NUL-terminated: pick_new_measure relies on it */
}

static void text_field(field_writer *w, const char *name, const char *value)
{
    text_begin(w);
    text_puts(&w->storage, value);
    text_end(w, name);
}

static void int_field(field_writer *w, const char *name, int64_t value)
{
    dala_field *field = next_field(w, name);
    field->value.type = DALA_VALUE_INT;
    field->value.integer = value;
}

/* A coordinate near `centre_micro`; exact in six decimals, so its JSON
 * text ("%.6f") reads back as the very same double. */
static void real_field(field_writer *w, records_gen *gen, const char *name, int32_t centre_micro,
                       int32_t spread_micro)
{
    dala_field *field = next_field(w, name);
    int64_t micro = centre_micro + gen_range(gen, -spread_micro, spread_micro);
    field->value.type = DALA_VALUE_REAL;
    field->value.real = (double)micro / 1e6;
}

/* Fills one slot, {x}, of a template (see records_gen_vocab.h). */
static void fill_slot(gen_text *out, records_gen *gen, const visit *v, char slot)
{
    const vocab_relation *rel = &vocab_relations[v->relation];
    switch (slot) {
    case 'v': put_person(out, v->victim, 1); break;
    case 'o': put_person(out, v->offender, 0); break;
    case 'r': text_puts(out, rel->ru); break;
    case 'i': text_puts(out, rel->ru_with); break;
    case 'R': text_puts(out, rel->kk); break;
    case 'I': text_puts(out, rel->kk_with); break;
    case 'd': put_prose_date(out, v->day - gen_range(gen, 1, 120)); break;
    case 't': text_printf(out, "%02u:%02u", gen_below(gen, 24), gen_below(gen, 60)); break;
    case 'n': text_printf(out, "%u", (unsigned)gen_range(gen, 1, 60)); break;
    case 'y': text_printf(out, "%u", (unsigned)gen_range(gen, 1962, 2005)); break;
    case 'c': text_puts(out, GEN_PICK(gen, vocab_centres)); break;
    case 'k': text_printf(out, "%u", (unsigned)gen_range(gen, 1000, 99999)); break;
    default: assert(!"records_gen: unknown template slot");
    }
}

/* The end of the option that starts at `p` inside a [...] group: the
 * next '|' or ']' at this group's depth. */
static const char *option_end(const char *p)
{
    int depth = 0;
    for (;; p++) {
        if (*p == '[') depth++;
        else if (*p == ']' && depth-- == 0) return p;
        else if (*p == '|' && depth == 0) return p;
        assert(*p && "records_gen: unclosed [ in a template");
    }
}

/* Fills the template text [p, end): slots, and one drawn option of each
 * [a|b|c] group (groups may nest). */
static void fill_span(gen_text *out, records_gen *gen, const visit *v, const char *p,
                      const char *end)
{
    while (p < end) {
        if (*p == '{' && end - p >= 3 && p[2] == '}') {
            fill_slot(out, gen, v, p[1]);
            p += 3;
        } else if (*p == '[') {
            uint32_t options = 1;
            const char *q = p + 1;
            for (const char *e = option_end(q); *e == '|'; e = option_end(q)) {
                options++;
                q = e + 1;
            }
            const char *option = p + 1;
            for (uint32_t skip = gen_below(gen, options); skip > 0; skip--)
                option = option_end(option) + 1;
            fill_span(out, gen, v, option, option_end(option));
            p = option_end(q) + 1; /* past the group's ']' */
        } else {
            text_put(out, p++, 1);
        }
    }
}

static void fill_template(gen_text *out, records_gen *gen, const visit *v, const char *tpl)
{
    fill_span(out, gen, v, tpl, tpl + strlen(tpl));
}

/* Draws a sentence in Kazakh or Russian, preferring templates not yet
 * used (a bit per template in `used`), and fills it into `out` (emptied
 * first). Returns the template's bit, for the caller to mark if it keeps
 * the sentence. */
static uint32_t draw_sentence(gen_text *out, records_gen *gen, const visit *v, int kazakh,
                              uint32_t used)
{
    const char *const *pool = kazakh ? vocab_findings_kk : vocab_findings_ru;
    uint32_t count = kazakh ? VOCAB_COUNT(vocab_findings_kk) : VOCAB_COUNT(vocab_findings_ru);
    uint32_t pick = gen_below(gen, count);
    for (int tries = 0; tries < 8 && (used >> pick & 1); tries++) pick = gen_below(gen, count);
    out->len = 0;
    fill_template(out, gen, v, pool[pick]);
    return UINT32_C(1) << pick;
}

/* The findings: whole sentences, the first two in different languages,
 * then either, as long as they fit a budget drawn from 330-480 bytes;
 * never below 300 nor past 600 bytes. Returns where the last sentence
 * begins, from the start of the findings. */
static size_t put_findings(gen_text *text, records_gen *gen, const visit *v)
{
    char sentence_bytes[GEN_SENTENCE_BYTES];
    gen_text sentence = {sentence_bytes, 0, sizeof sentence_bytes};
    uint32_t used[2] = {0, 0};
    size_t start = text->len, budget = (size_t)gen_range(gen, 330, 480), last = 0;
    int first_kazakh = (int)gen_below(gen, 2), kept = 0, misses = 0;
    for (;;) {
        int lang = kept == 0 ? first_kazakh : kept == 1 ? !first_kazakh : (int)gen_below(gen, 2);
        uint32_t bit = draw_sentence(&sentence, gen, v, lang, used[lang]);
        size_t len = text->len - start;
        /* below 300 bytes, after 8 misses, any sentence (< 300) will do */
        size_t limit = len < GEN_FINDINGS_MIN && misses >= 8 ? GEN_FINDINGS_MAX : budget;
        if (len + 1 + sentence.len > limit) {
            if (++misses >= 8 && len >= GEN_FINDINGS_MIN) break;
            continue;
        }
        if (len > 0) text_puts(text, " ");
        last = text->len - start;
        text_put(text, sentence.data, sentence.len);
        used[lang] |= bit;
        kept++;
        misses = 0;
    }
    return last;
}

/* "Семья из 4 человек: ..." or "Отбасы 4 адам: ...", tersely, as typed
 * into a form. */
static void put_household(gen_text *text, records_gen *gen, const visit *v)
{
    const vocab_relation *rel = &vocab_relations[v->relation];
    unsigned total = 2 + v->children, housing = gen_below(gen, VOCAB_COUNT(vocab_housing_ru));
    if (gen_chance(gen, 50)) {
        text_printf(text, "Семья из %u человек: потерпевшая, %s", total, rel->ru);
        if (v->children == 0) text_puts(text, ", детей нет");
        else text_printf(text, ", дети (%u)", v->children);
        text_printf(text, "; %s.", vocab_housing_ru[housing]);
    } else {
        text_printf(text, "Отбасы %u адам: жәбірленуші, %s", total, rel->kk);
        if (v->children == 0) text_puts(text, ", балалары жоқ");
        else text_printf(text, ", %u бала", v->children);
        text_printf(text, "; %s.", vocab_housing_kk[housing]);
    }
}

/* Whom the inspector spoke to, in one of the two languages. */
static void put_persons_met(gen_text *text, records_gen *gen, const visit *v)
{
    const vocab_relation *rel = &vocab_relations[v->relation];
    int kazakh = gen_chance(gen, 50);
    if (v->contact == 2) {
        text_puts(text, kazakh ? "Үйде ешкім болмады; көршілер сұралды"
                               : "Дома никого не оказалось; опрошены соседи");
        return;
    }
    text_puts(text, kazakh ? "Жәбірленуші " : "Потерпевшая ");
    put_person(text, v->victim, 1);
    if (v->contact == 1) {
        text_printf(text, "; %s ", kazakh ? rel->kk : rel->ru);
        put_person(text, v->offender, 0);
    }
    if (v->contact == 1 && v->children > 0)
        text_printf(text, "; %s: %u", kazakh ? "кәмелетке толмаған балалар" : "несовершеннолетние дети",
                    v->children);
}

/* A comma-separated list of measure codes, each at most once. */
static void put_measures(gen_text *text, records_gen *gen, const visit *v)
{
    uint32_t chosen = 1u << 0; /* a preventive talk, always */
    if (v->risk == 2) chosen |= 1u << 3;
    for (unsigned extra = gen_below(gen, 3); extra > 0; extra--)
        chosen |= 1u << gen_below(gen, VOCAB_COUNT(vocab_measures));
    const char *sep = "";
    for (unsigned i = 0; i < VOCAB_COUNT(vocab_measures); i++) {
        if (!(chosen >> i & 1)) continue;
        text_printf(text, "%s%s", sep, vocab_measures[i]);
        sep = ",";
    }
}

/* The where of a visit: city, district, street address, coordinates. */
static void put_place(field_writer *w, records_gen *gen, const visit *v)
{
    unsigned house = (unsigned)gen_range(gen, 1, 240), flat = (unsigned)gen_range(gen, 1, 180);
    int is_house = gen_chance(gen, 20);
    text_field(w, "city", v->city->name);
    text_field(w, "district", v->city->districts[v->district]);
    text_begin(w);
    if (v->street->is_kazakh) {
        text_printf(&w->storage, "%s, %u-үй", v->street->name, house);
        if (!is_house) text_printf(&w->storage, ", %u-пәтер", flat);
    } else {
        text_printf(&w->storage, "%s, д. %u", v->street->name, house);
        if (!is_house) text_printf(&w->storage, ", кв. %u", flat);
    }
    text_end(w, "address");
    real_field(w, gen, "latitude", v->city->lat_micro, 60000);
    real_field(w, gen, "longitude", v->city->lon_micro, 90000);
}

/* The who and when: unit, officer, date, time. */
static void put_header(field_writer *w, const visit *v)
{
    text_begin(w);
    text_printf(&w->storage, "%s-%02u-wpu", v->city->code, v->district + 1);
    text_end(w, "unit_id");
    text_begin(w);
    text_printf(&w->storage, "insp-%s%02u%u", v->city->code, v->district + 1, 101 + v->officer);
    text_end(w, "officer_id");
    text_begin(w);
    put_iso_date(&w->storage, v->day);
    text_end(w, "visit_date");
    text_begin(w);
    text_printf(&w->storage, "%02u:%02u", v->minute_of_day / 60, v->minute_of_day % 60);
    text_end(w, "visit_time");
}

/* What the inspector found and did. */
static void put_body(field_writer *w, records_gen *gen, const visit *v)
{
    text_field(w, "purpose", GEN_PICK(gen, vocab_purposes));
    text_field(w, "contact_status", vocab_contacts[v->contact]);
    text_begin(w);
    put_household(&w->storage, gen, v);
    text_end(w, "household");
    text_begin(w);
    put_persons_met(&w->storage, gen, v);
    text_end(w, "persons_met");
    text_begin(w);
    w->rec->findings_last = (uint16_t)put_findings(&w->storage, gen, v);
    text_end(w, "findings");
    text_field(w, "risk_level", vocab_risks[v->risk]);
    int_field(w, "offender_present", v->offender_present);
    int_field(w, "victim_count", v->victims);
    int_field(w, "children_count", v->children);
    text_begin(w);
    put_measures(&w->storage, gen, v);
    text_end(w, "measures_taken");
    text_field(w, "referral", v->risk == 0 && gen_chance(gen, 60) ? "none" : GEN_PICK(gen, vocab_referrals));
    text_field(w, "protective_order", vocab_orders[v->order]);
    text_begin(w);
    put_iso_date(&w->storage, v->day + gen_range(gen, 7, 45));
    text_end(w, "follow_up_date");
}

/* ----------------------------------------------------------------- JSON */

/* Appends `len` bytes of UTF-8 as a JSON string, escaping what RFC 8259
 * requires: quote, backslash and control characters. */
static void json_string(gen_text *json, const char *s, size_t len)
{
    text_puts(json, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') text_printf(json, "\\%c", c);
        else if (c == '\n') text_puts(json, "\\n");
        else if (c < 0x20) text_printf(json, "\\u%04x", c);
        else text_put(json, &s[i], 1);
    }
    text_puts(json, "\"");
}

static void json_value(gen_text *json, const dala_value *value)
{
    switch (value->type) {
    case DALA_VALUE_INT: text_printf(json, "%lld", (long long)value->integer); break;
    case DALA_VALUE_REAL: text_printf(json, "%.6f", value->real); break;
    case DALA_VALUE_TEXT: json_string(json, (const char *)value->bytes, value->len); break;
    default: text_puts(json, "null"); break;
    }
}

/* {"id":"<uuid>","<name>":<value>,...} for `count` fields. */
static void json_object(gen_text *json, const char *id_text, const dala_field *fields,
                        size_t count)
{
    text_puts(json, "{\"id\":");
    json_string(json, id_text, strlen(id_text));
    for (size_t i = 0; i < count; i++) {
        text_puts(json, ",");
        json_string(json, fields[i].name, strlen(fields[i].name));
        text_puts(json, ":");
        json_value(json, &fields[i].value);
    }
    text_puts(json, "}");
}

/* -------------------------------------------------------------- records */

/* Moves the record's text values and JSON from scratch memory into two
 * allocations of their exact size. DALA_OK or DALA_ENOMEM. */
static int keep_record(gen_record *rec, const gen_text *storage, const gen_text *json)
{
    rec->storage = malloc(storage->len);
    rec->json = malloc(json->len + 1);
    if (!rec->storage || !rec->json) return DALA_ENOMEM;
    memcpy(rec->storage, storage->data, storage->len);
    memcpy(rec->json, json->data, json->len + 1);
    rec->json_len = json->len;
    for (size_t i = 0; i < rec->field_count; i++) {
        dala_value *value = &rec->fields[i].value;
        if (value->type == DALA_VALUE_TEXT)
            value->bytes = (const uint8_t *)rec->storage + (value->bytes - (const uint8_t *)storage->data);
    }
    return DALA_OK;
}

int records_gen_next(records_gen *gen, gen_record *out)
{
    char storage_bytes[GEN_STORAGE_BYTES], json_bytes[GEN_JSON_BYTES];
    records_gen before = *gen;
    visit v;
    memset(out, 0, sizeof *out);
    draw_visit(gen, &v);
    make_id(gen, &v, out);
    field_writer w = {out, {storage_bytes, 0, sizeof storage_bytes}, 0};
    put_header(&w, &v);
    put_place(&w, gen, &v);
    put_body(&w, gen, &v);
    assert(out->field_count == GEN_RECORD_FIELDS);
    gen_text json = {json_bytes, 0, sizeof json_bytes};
    json_object(&json, out->id_text, out->fields, out->field_count);
    if (keep_record(out, &w.storage, &json) != DALA_OK) {
        gen_record_free(out);
        *gen = before; /* as if never called */
        return DALA_ENOMEM;
    }
    out->visit_day = v.day;
    out->victim = v.victim;
    out->offender = v.offender;
    out->relation = v.relation;
    gen->record_count++;
    return DALA_OK;
}

void gen_record_free(gen_record *rec)
{
    if (!rec) return;
    free(rec->storage);
    free(rec->json);
    memset(rec, 0, sizeof *rec);
}

void gen_record_change(dala_change *out, const gen_record *rec, uint64_t hlc, uint64_t device_id)
{
    memset(out, 0, sizeof *out);
    out->table = GEN_TABLE;
    memcpy(out->record_id, rec->id, DALA_UUID_BYTES);
    out->hlc = hlc;
    out->device_id = device_id;
    out->field_count = rec->field_count;
    out->fields = (dala_field *)rec->fields;
}

const dala_field *gen_record_field(const gen_record *rec, const char *name)
{
    for (size_t i = 0; i < rec->field_count; i++)
        if (strcmp(rec->fields[i].name, name) == 0) return &rec->fields[i];
    return NULL;
}

/* ---------------------------------------------------------------- edits */

/* The fields an edit may touch, and how often each is drawn (of 100). */
typedef struct delta_kind {
    const char *field;
    uint32_t weight;
} delta_kind;

static const delta_kind delta_kinds[] = {
    {"risk_level", 30},       {"follow_up_date", 20}, {"protective_order", 15},
    {"measures_taken", 15},   {"findings", 10},       {"referral", 5},
    {"children_count", 5},
};

static const char *draw_delta_field(records_gen *gen)
{
    uint32_t roll = gen_below(gen, 100);
    for (size_t i = 0; i < VOCAB_COUNT(delta_kinds); i++) {
        if (roll < delta_kinds[i].weight) return delta_kinds[i].field;
        roll -= delta_kinds[i].weight;
    }
    return delta_kinds[0].field;
}

/* An entry of `pool` other than the record's current text value. */
static const char *pick_other(records_gen *gen, const char *const *pool, uint32_t count,
                              const dala_field *current)
{
    for (;;) {
        const char *pick = pool[gen_below(gen, count)];
        if (!current || current->value.len != strlen(pick) ||
            memcmp(current->value.bytes, pick, current->value.len) != 0)
            return pick;
    }
}

/* A measure code not yet in `measures` (NUL-terminated, as every text
 * value of a gen_record is); a list never holds all of them. */
static const char *pick_new_measure(records_gen *gen, const char *measures)
{
    for (;;) {
        const char *pick = GEN_PICK(gen, vocab_measures);
        if (!strstr(measures, pick)) return pick;
    }
}

/* The findings with their last sentence replaced by a new one. */
static void edit_findings(gen_text *text, records_gen *gen, const gen_record *rec,
                          const dala_field *old)
{
    char sentence_bytes[GEN_SENTENCE_BYTES];
    gen_text sentence = {sentence_bytes, 0, sizeof sentence_bytes};
    visit v;
    memset(&v, 0, sizeof v);
    v.day = rec->visit_day + gen_range(gen, 1, 10);
    v.victim = rec->victim;
    v.offender = rec->offender;
    v.relation = rec->relation;
    draw_sentence(&sentence, gen, &v, (int)gen_below(gen, 2), 0);
    size_t keep = rec->findings_last <= old->value.len ? rec->findings_last : old->value.len;
    text_put(text, (const char *)old->value.bytes, keep);
    text_put(text, sentence.data, sentence.len);
}

/* Writes the new value of `field` into out->field (text into out->text). */
static int make_delta_value(records_gen *gen, gen_delta *out, const gen_record *rec,
                            const char *field)
{
    const dala_field *old = gen_record_field(rec, field);
    gen_text text = {out->text, 0, sizeof out->text};
    dala_value *value = &out->field.value;
    value->type = DALA_VALUE_TEXT;
    if (!old) return DALA_EINVAL;
    if (strcmp(field, "risk_level") == 0)
        text_puts(&text, pick_other(gen, vocab_risks, VOCAB_COUNT(vocab_risks), old));
    else if (strcmp(field, "protective_order") == 0)
        text_puts(&text, pick_other(gen, vocab_orders, VOCAB_COUNT(vocab_orders), old));
    else if (strcmp(field, "referral") == 0)
        text_puts(&text, pick_other(gen, vocab_referrals, VOCAB_COUNT(vocab_referrals), old));
    else if (strcmp(field, "follow_up_date") == 0)
        put_iso_date(&text, rec->visit_day + gen_range(gen, 7, 60));
    else if (strcmp(field, "measures_taken") == 0) {
        text_put(&text, (const char *)old->value.bytes, old->value.len);
        text_printf(&text, ",%s", pick_new_measure(gen, (const char *)old->value.bytes));
    } else if (strcmp(field, "findings") == 0)
        edit_findings(&text, gen, rec, old);
    else if (strcmp(field, "children_count") == 0) {
        value->type = DALA_VALUE_INT;
        value->integer = old->value.integer + (old->value.integer > 0 && gen_chance(gen, 50) ? -1 : 1);
        return DALA_OK;
    } else
        return DALA_EINVAL;
    value->bytes = (const uint8_t *)out->text;
    value->len = text.len;
    return DALA_OK;
}

/* Whether the edit's value differs from the record's; false while the
 * edit has no value yet. */
static int delta_differs(const gen_delta *delta, const gen_record *rec, const char *field)
{
    const dala_value *now = &delta->field.value;
    const dala_field *old_field = gen_record_field(rec, field);
    if (now->type == DALA_VALUE_NULL || !old_field) return 0;
    const dala_value *old = &old_field->value;
    if (now->type == DALA_VALUE_INT) return now->integer != old->integer;
    return now->len != old->len || memcmp(now->bytes, old->bytes, now->len) != 0;
}

int records_gen_delta(records_gen *gen, gen_delta *out, const gen_record *rec, const char *field,
                      uint64_t base_hlc, uint64_t hlc, uint64_t device_id)
{
    memset(out, 0, sizeof *out);
    const char *name = field ? field : draw_delta_field(gen);
    const char *static_name = NULL;
    for (size_t i = 0; i < VOCAB_COUNT(delta_kinds); i++)
        if (strcmp(delta_kinds[i].field, name) == 0) static_name = delta_kinds[i].field;
    if (!static_name) return DALA_EINVAL;
    /* a drawn date or sentence may repeat the old one: draw again */
    for (int tries = 0; tries < 64 && !delta_differs(out, rec, static_name); tries++) {
        int rc = make_delta_value(gen, out, rec, static_name);
        if (rc != DALA_OK) return rc;
    }
    out->field.name = static_name;
    out->field.base_hlc = base_hlc;
    out->change.table = GEN_TABLE;
    memcpy(out->change.record_id, rec->id, DALA_UUID_BYTES);
    out->change.hlc = hlc;
    out->change.device_id = device_id;
    out->change.field_count = 1;
    out->change.fields = &out->field;
    gen_text json = {out->json, 0, sizeof out->json};
    json_object(&json, rec->id_text, &out->field, 1);
    out->json_len = json.len;
    return DALA_OK;
}
