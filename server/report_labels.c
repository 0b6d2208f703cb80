/* report_labels.c - the words of a report note in Kazakh and Russian: the
 * nine blocks' titles (Rules, item 8), each figure's group, and the values
 * of a breakdown, taken from the domain's enumerations where they come
 * from a field. */
#include "report.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *kk, *ru;
} blocks[REPORT_BLOCKS] = {
    {"Әйелдерге қатысты қылмыстар: талдау, құқық бұзушылардың сипаттамасы, жәбірленушілер санаттары, себептер мен жағдайлар",
     "Преступления в отношении женщин: анализ, характеристика лиц, их совершивших, категории потерпевших, причины и условия"},
    {"Отбасылық-тұрмыстық қатынастар саласындағы әкімшілік құқық бұзушылықтар және қабылданған профилактикалық шаралар",
     "Административные правонарушения в сфере семейно-бытовых отношений и принятые профилактические меры"},
    {"Әйелдердің суицидтері: талдау және тексеру нәтижелері", "Суициды женщин: анализ и результаты проверок"},
    {"Мемлекеттік органдармен, ҮЕҰ-мен және қоғамдық бірлестіктермен өзара іс-қимыл",
     "Взаимодействие с государственными органами, НПО и общественными объединениями"},
    {"Зорлық-зомбылықтың себептері мен жағдайларын жою жөніндегі шаралар",
     "Меры по устранению причин и условий насилия"},
    {"Дағдарыс орталықтарымен өзара іс-қимыл", "Взаимодействие с кризисными центрами"},
    {"Халыққа көрсетілген құқықтық және психологиялық көмек",
     "Правовая и психологическая помощь, оказанная населению"},
    {"Зорлық-зомбылықты сауалнамалар арқылы зерттеу", "Исследование насилия путём анкетирования"},
    {"Зорлық-зомбылықты тоқтатуда полицияның басқа бөліністерімен өзара іс-қимыл",
     "Взаимодействие с другими подразделениями полиции по пресечению насилия"},
};

/* Each group in its block's reading order: its label, and where its
 * values' labels come from (an enumeration, "@age", "@table", or NULL for
 * free text). */
static const struct {
    const char *group, *kk, *ru, *values;
} groups[] = {
    {"crimes", "Қылмыстар барлығы", "Всего преступлений", NULL},
    {"crimes.family_domestic", "оның ішінде отбасылық-тұрмыстық салада", "в том числе в семейно-бытовой сфере", NULL},
    {"crimes.article", "ҚК бабы бойынша", "По статьям УК", NULL},
    {"crimes.offender_age", "Құқық бұзушының жасы", "Возраст лица, совершившего преступление", "@age"},
    {"crimes.relationship", "Жәбірленушіге кім болып келеді", "Кем приходится потерпевшей", "relationship"},
    {"crimes.offender_employment", "Құқық бұзушының жұмыспен қамтылуы", "Занятость лица, совершившего преступление",
     "employment"},
    {"crimes.offender_alcohol", "Алкогольдік мас күйде жасалды", "Совершено в состоянии алкогольного опьянения", NULL},
    {"crimes.offender_prior_record", "Құқық бұзушы бұрын сотталған", "Лицо, совершившее преступление, ранее судимо",
     NULL},
    {"crimes.victim_category", "Жәбірленушілер санаттары", "Категории потерпевших", "victim_category"},
    {"crimes.cause", "Себептері мен жағдайлары", "Причины и условия", "offence_cause"},
    {"crimes.outcome", "Қаралу нәтижесі", "Результат рассмотрения", "offence_outcome"},
    {"admin_offences", "Отбасылық-тұрмыстық саладағы әкімшілік құқық бұзушылықтар",
     "Административные правонарушения в семейно-бытовой сфере", NULL},
    {"admin_offences.article", "ӘҚБтК бабы бойынша", "По статьям КоАП", NULL},
    {"admin_offences.outcome", "Қаралу нәтижесі", "Результат рассмотрения", "offence_outcome"},
    {"measures", "Қолданылған шаралар", "Применённые меры", "measure_kind"},
    {"measures.breached", "Шаралардың бұзылуы", "Нарушения мер", "measure_kind"},
    {"suicides", "Суицидтер", "Суициды", "suicide_kind"},
    {"suicides.signs_of_violence", "Зорлық-зомбылық белгілері анықталды", "Выявлены признаки насилия", NULL},
    {"suicides.incitement", "Өзін-өзі өлтіруге дейін жеткізу анықталды", "Установлено доведение до самоубийства", NULL},
    {"suicides.outcome", "Тексеру бойынша шешім", "Решение по проверке", "suicide_outcome"},
    {"interactions", "Өзара іс-қимыл іс-шаралары", "Мероприятия взаимодействия", "interaction_kind"},
    {"prevention.visits", "Профилактикалық барулар", "Профилактические посещения", NULL},
    {"prevention.visit_purpose", "Бару мақсаты", "Цель посещения", "visit_purpose"},
    {"prevention.high_risk", "Қауіп деңгейі жоғары отбасылар", "Семьи с высоким уровнем риска", NULL},
    {"prevention", "Себептер мен жағдайларды жою іс-шаралары", "Мероприятия по устранению причин и условий",
     "interaction_kind"},
    {"crisis.interactions", "Дағдарыс орталықтарымен іс-шаралар", "Мероприятия с кризисными центрами", NULL},
    {"crisis.referrals", "Дағдарыс орталықтарына жолданғандар", "Направлено в кризисные центры", "@table"},
    {"aid", "Көмек көрсетілді барлығы", "Всего оказано помощи", NULL},
    {"aid.kind", "Көмек түрі", "Вид помощи", "aid_kind"},
    {"aid.channel", "Көрсету тәсілі", "Способ оказания", "aid_channel"},
    {"aid.topic", "Өтініш тақырыбы", "Тема обращения", "aid_topic"},
    {"aid.anonymous", "Анонимді өтініштер", "Анонимные обращения", NULL},
    {"aid.referral", "Жолданды", "Направлено", "aid_referral"},
    {"surveys", "Жиналған сауалнамалар", "Собрано анкет", NULL},
    {"surveys.form", "Сауалнама бойынша", "По анкетам", NULL},
    {"surveys.settlement", "Елді мекен түрі", "Тип населённого пункта", "settlement_type"},
    {"surveys.answer", "Жауаптар", "Ответы", NULL},
    {"police.interactions", "Полицияның басқа бөліністерімен іс-шаралар",
     "Мероприятия с другими подразделениями полиции", NULL},
};

static const struct {
    const char *value, *kk, *ru;
} ages[] = {
    {"under_18", "18 жасқа дейін", "до 18 лет"}, {"18_29", "18–29 жас", "18–29 лет"},
    {"30_39", "30–39 жас", "30–39 лет"},        {"40_49", "40–49 жас", "40–49 лет"},
    {"50_59", "50–59 жас", "50–59 лет"},        {"60_plus", "60 жас және одан жоғары", "60 лет и старше"},
    {"unknown", "белгісіз", "не известен"},
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

const char *report_block_title(int block, const char *lang)
{
    if (block < 1 || block > REPORT_BLOCKS) return "";
    return dala_label(blocks[block - 1].kk, blocks[block - 1].ru, lang);
}

/* The entry of `group`; survey answers share one ("surveys.answer.<form>.<question>"). */
static int group_index(const char *group)
{
    for (size_t i = 0; i < COUNT(groups); i++) {
        size_t n = strlen(groups[i].group);
        if (strncmp(group, groups[i].group, n) == 0 &&
            (group[n] == '\0' || (strcmp(groups[i].group, "surveys.answer") == 0 && group[n] == '.')))
            return (int)i;
    }
    return -1;
}

int report_group_rank(const char *group)
{
    int i = group_index(group);
    return i < 0 ? (int)COUNT(groups) : i;
}

int report_value_rank(const char *group, const char *value)
{
    if (!value[0]) return -1;
    int i = group_index(group);
    const char *values = i < 0 ? NULL : groups[i].values;
    if (!values) return 1000;
    if (strcmp(values, "@age") == 0) {
        for (size_t k = 0; k < COUNT(ages); k++)
            if (strcmp(ages[k].value, value) == 0) return (int)k;
        return 1000;
    }
    if (strcmp(values, "@table") == 0) {
        static const char *const order[] = {"field_visit", "protective_measure", "legal_aid"};
        for (size_t k = 0; k < COUNT(order); k++)
            if (strcmp(order[k], value) == 0) return (int)k;
        return 1000;
    }
    const dala_enum *choices = dala_domain_enum(dala_domain_get(), values);
    for (size_t k = 0; choices && k < choices->count; k++)
        if (strcmp(choices->values[k].value, value) == 0) return (int)k;
    return 1000;
}

/* The label of `value` in `group`; the value itself when it is free text. */
static const char *value_label(int i, const char *value, const char *lang)
{
    const char *values = i < 0 ? NULL : groups[i].values;
    if (!values) return value;
    if (strcmp(values, "@age") == 0) {
        for (size_t k = 0; k < COUNT(ages); k++)
            if (strcmp(ages[k].value, value) == 0) return dala_label(ages[k].kk, ages[k].ru, lang);
        return value;
    }
    if (strcmp(values, "@table") == 0) {
        const dala_table_def *def = dala_domain_table(dala_domain_get(), value);
        return def ? dala_label(def->kk, def->ru, lang) : value;
    }
    const dala_enum_value *choice = dala_enum_find(dala_domain_enum(dala_domain_get(), values), value, strlen(value));
    return choice ? dala_label(choice->kk, choice->ru, lang) : value;
}

/* The newest published questionnaire with `code`, parsed into `l`. */
static void load_form(report_labeler *l, const char *code)
{
    dala_form_free(l->form);
    l->form = NULL;
    snprintf(l->code, sizeof l->code, "%s", code);
    sqlite3_stmt *stmt;
    if (!l->db || sqlite3_prepare_v2(l->db, "SELECT data FROM record WHERE tbl = 'survey_form'", -1, &stmt, NULL)) return;
    int64_t best = 0;
    dala_record record = DALA_RECORD_INIT;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        dala_record_clear(&record);
        if (dala_record_decode(&record, sqlite3_column_blob(stmt, 0), (size_t)sqlite3_column_bytes(stmt, 0))) continue;
        const dala_record_field *c = dala_record_find(&record, "code"), *v = dala_record_find(&record, "version");
        const dala_record_field *d = dala_record_find(&record, "definition");
        if (!c || !v || !d || c->value.type != DALA_VALUE_TEXT || d->value.type != DALA_VALUE_TEXT ||
            c->value.len != strlen(code) || memcmp(c->value.bytes, code, c->value.len) != 0 || v->value.integer <= best)
            continue;
        dala_form *form = NULL;
        char why[160];
        if (dala_form_parse(&form, (const char *)d->value.bytes, d->value.len, why, sizeof why)) continue;
        dala_form_free(l->form);
        l->form = form;
        best = v->value.integer;
    }
    dala_record_clear(&record);
    sqlite3_finalize(stmt);
}

/* "surveys.answer.<form>.<question>": the question's words and the
 * option's, from the questionnaire; its ids when it cannot be read. */
static void answer_label(char *out, size_t size, report_labeler *l, const char *group, const char *value)
{
    const char *rest = group + strlen("surveys.answer."), *dot = strrchr(rest, '.');
    char code[65];
    snprintf(code, sizeof code, "%.*s", dot ? (int)(dot - rest) : 0, rest);
    if (!dot || strcmp(code, l->code) != 0) load_form(l, dot ? code : "");
    const char *question = NULL, *option = NULL;
    for (size_t i = 0; dot && l->form && i < dala_form_question_count(l->form); i++) {
        const dala_json *q = dala_form_question(l->form, i);
        const char *id = dala_json_get_string(q, "id");
        if (!id || strcmp(id, dot + 1) != 0) continue;
        question = dala_label(dala_json_get_string(q, "kk"), dala_json_get_string(q, "ru"), l->lang);
        const dala_json *options = dala_json_get(q, "options");
        for (size_t k = 0; options && k < options->count; k++)
            if (strcmp(dala_json_get_string(&options->items[k], "value") ? dala_json_get_string(&options->items[k], "value") : "", value) == 0)
                option = dala_label(dala_json_get_string(&options->items[k], "kk"),
                                    dala_json_get_string(&options->items[k], "ru"), l->lang);
    }
    snprintf(out, size, "%s (%s) %s: %s", dala_label(groups[group_index(group)].kk, groups[group_index(group)].ru, l->lang),
             code, question ? question : dot ? dot + 1 : rest, option ? option : value);
}

void report_labeler_init(report_labeler *l, sqlite3 *db, const char *lang)
{
    memset(l, 0, sizeof *l);
    l->db = db;
    l->lang = lang;
}

void report_labeler_free(report_labeler *l)
{
    dala_form_free(l->form);
    memset(l, 0, sizeof *l);
}

void report_label(char *out, size_t size, report_labeler *l, const char *group, const char *value)
{
    int i = group_index(group);
    if (i >= 0 && strcmp(groups[i].group, "surveys.answer") == 0) answer_label(out, size, l, group, value);
    else report_figure_label(out, size, group, value, l->lang);
}

void report_figure_label(char *out, size_t size, const char *group, const char *value, const char *lang)
{
    int i = group_index(group);
    const char *name = i < 0 ? group : dala_label(groups[i].kk, groups[i].ru, lang);
    if (i >= 0 && strcmp(groups[i].group, "surveys.answer") == 0) {
        snprintf(out, size, "%s (%s): %s", name, group + strlen("surveys.answer."), value);
        return;
    }
    if (!value[0]) snprintf(out, size, "%s", name);
    else snprintf(out, size, "%s: %s", name, value_label(i, value, lang));
}

const char *report_state_label(const char *state, const char *lang)
{
    static const struct {
        const char *state, *kk, *ru;
    } states[] = {
        {"draft", "жоба", "проект"},
        {"submitted", "ұсынылды", "представлена"},
        {"returned", "пысықтауға қайтарылды", "возвращена на доработку"},
        {"consolidated", "жиынтыққа енгізілді", "сведена"},
        {"signed", "қол қойылды", "подписана"},
        {"none", "басталмаған", "не начата"},
    };
    for (size_t i = 0; i < COUNT(states); i++)
        if (strcmp(states[i].state, state) == 0) return dala_label(states[i].kk, states[i].ru, lang);
    return state;
}
