/* report_labels.c - the words of a report note in Kazakh and Russian: the
 * nine blocks' titles (Rules, item 8), each figure's group, and the values
 * of a breakdown, taken from the domain's enumerations where they come
 * from a field and from the article catalogue where they are articles. */
#include "report.h"

#include <stdio.h>
#include <string.h>

/* The blocks' titles are the sub-items of item 8 of the Rules: the Kazakh
 * verbatim from the Order's text (order-1097-kk.txt, with the Cyrillic і
 * where the published text has a Latin i, and the words of sub-item 4 in
 * their order where the text moved them); the Russian translated from it
 * word for word, to be checked against the Order's official Russian text. */
static const struct {
    const char *kk, *ru;
} blocks[REPORT_BLOCKS] = {
    {"Қылмыс жасауға ықпал ететін себептер мен жағдайларды баяндай отырып, әйелдерге қатысты қылмыстардың, "
     "қылмыс жасаған адамдардың мінездемесін және зорлық-зомбылыққа ұшыраған жәбірленушілер санаттарының "
     "жай-күйін талдау",
     "Анализ состояния преступлений в отношении женщин, характеристики лиц, их совершивших, и категорий "
     "потерпевших, подвергшихся насилию, с изложением причин и условий, способствующих совершению преступлений"},
    {"Отбасы-тұрмыстық қатынастар саласында жасалған әкімшілік құқық бұзушылықтар бойынша статистикалық "
     "мәліметтерді және әйелдердің құқықтары, мүдделері мен еркіндіктеріне қол сұғатын адамдарға қатысты "
     "қабылданып жатқан профилактикалық шараларды талдау және жинақтау",
     "Анализ и обобщение статистических сведений по административным правонарушениям, совершённым в сфере "
     "семейно-бытовых отношений, и принимаемых профилактических мер в отношении лиц, посягающих на права, "
     "интересы и свободы женщин"},
    {"Тексеру нәтижелерін жинақтай отырып, әйелдердің суицид фактілеріне талдау жасау",
     "Анализ фактов суицида женщин с обобщением результатов проверок"},
    {"Зорлық-зомбылық құрбандарының конституциялық құқықтары мен еркіндіктерін қорғауды қамтамасыз ететін "
     "мемлекеттік органдармен, үкіметтік емес ұйымдармен және қоғамдық бірлестіктермен өзара іс-қимыл жасасу туралы",
     "О взаимодействии с государственными органами, неправительственными организациями и общественными "
     "объединениями, обеспечивающими защиту конституционных прав и свобод жертв насилия"},
    {"Әйелдерге қатысты зорлық-зомбылық жасауға ықпал еткен себептер мен жағдайларды жою жөніндегі қабылданып "
     "жатқан шаралар туралы",
     "О принимаемых мерах по устранению причин и условий, способствовавших совершению насилия в отношении женщин"},
    {"Зорлық-зомбылық құрбандарына көмек көрсету мәселелері бойынша дағдарыстық орталықтармен өзара іс-қимыл "
     "жасасу туралы",
     "О взаимодействии с кризисными центрами по вопросам оказания помощи жертвам насилия"},
    {"Халыққа құқықтық және психологиялық көмек көрсету туралы",
     "Об оказании правовой и психологической помощи населению"},
    {"Сауалнама жүргізу арқылы әйелдерге қатысты зорлық-зомбылықты зерттеу бойынша жұмыс туралы",
     "О работе по исследованию насилия в отношении женщин путём проведения анкетирования"},
    {"Ішкі істер органдарының басқа бөліністерімен әйелдерге қатысты зорлық-зомбылықтың жолын кесу бойынша "
     "өзара іс-қимыл жасасу туралы",
     "О взаимодействии с другими подразделениями органов внутренних дел по пресечению насилия в отношении женщин"},
};

/* Each group in its block's reading order (a block's groups sort by their
 * place here): its label, and where its values' labels come from (an
 * enumeration, "@age", "@table", "@article", or NULL for free text).
 * "surveys.answer" and "not_approved" name families of groups
 * ("surveys.answer.<form>.<question>", "not_approved.<block>"). */
static const struct {
    const char *group, *kk, *ru, *values;
} groups[] = {
    /* block 1 */
    {"crimes", "Қылмыстар барлығы", "Всего преступлений", NULL},
    {"crimes.family_domestic", "оның ішінде отбасы-тұрмыстық қатынастар саласында",
     "в том числе в сфере семейно-бытовых отношений", NULL},
    {"crimes.article", "ҚК бабы бойынша", "По статьям УК", "@article"},
    {"crimes.violence_type", "Зорлық-зомбылық түрі", "Вид насилия", "violence_type"},
    {"crimes.children", "Балалардың қатысуы", "Присутствие детей", "children_involved"},
    {"crimes.offenders", "Қылмыс жасаған адамдар саны", "Число лиц, совершивших преступления", NULL},
    {"crimes.offender_age", "Құқық бұзушының жасы", "Возраст лица, совершившего преступление", "@age"},
    {"crimes.relationship", "Жәбірленушіге кім болып келеді", "Кем приходится потерпевшей", "relationship"},
    {"crimes.offender_employment", "Құқық бұзушының жұмыспен қамтылуы", "Занятость лица, совершившего преступление",
     "employment"},
    {"crimes.offender_alcohol", "Алкогольдік мас күйде жасалды", "Совершено в состоянии алкогольного опьянения", NULL},
    {"crimes.offender_prior_record", "Құқық бұзушы бұрын сотталған", "Лицо, совершившее преступление, ранее судимо",
     NULL},
    {"crimes.victims", "Зорлық-зомбылыққа ұшыраған жәбірленуші әйелдер саны", "Число потерпевших женщин, подвергшихся насилию",
     NULL},
    {"crimes.victim_age", "Жәбірленушінің жасы", "Возраст потерпевшей", "@age"},
    {"crimes.victim_category", "Жәбірленушілер санаттары", "Категории потерпевших", "victim_category"},
    {"crimes.cause", "Себептері мен жағдайлары", "Причины и условия", "offence_cause"},
    {"crimes.outcome", "Қаралу нәтижесі", "Результат рассмотрения", "offence_outcome"},
    /* block 2 */
    {"admin_offences", "Отбасы-тұрмыстық қатынастар саласында жасалған әкімшілік құқық бұзушылықтар",
     "Административные правонарушения, совершённые в сфере семейно-бытовых отношений", NULL},
    {"admin_offences.article", "ӘҚБтК бабы бойынша", "По статьям КоАП", "@article"},
    {"admin_offences.violence_type", "Зорлық-зомбылық түрі", "Вид насилия", "violence_type"},
    {"admin_offences.outcome", "Қаралу нәтижесі", "Результат рассмотрения", "offence_outcome"},
    {"admin_offences.offenders", "Әкімшілік құқық бұзушылық жасаған адамдар саны",
     "Число лиц, совершивших административные правонарушения", NULL},
    {"measures", "Қолданылған шаралар", "Применённые меры", "measure_kind"},
    {"measures.in_force", "Тоқсанның соңында қолданыста болған шаралар", "Меры, действующие на конец квартала",
     "measure_kind"},
    {"measures.registered", "Тоқсанның соңында профилактикалық есепте тұрған адамдар",
     "Лица, состоящие на профилактическом учёте на конец квартала", NULL},
    {"measures.served", "Тапсырылған шаралар", "Вручённые меры", "measure_kind"},
    {"measures.extended", "Ұзартылған шаралар", "Продлённые меры", "measure_kind"},
    {"measures.ended_early", "Мерзімінен бұрын тоқтатылған шаралар", "Досрочно прекращённые меры", "measure_kind"},
    {"measures.expired", "Мерзімі өткен шаралар", "Меры с истёкшим сроком", "measure_kind"},
    {"measures.breached", "Шаралардың бұзылуы", "Нарушения мер", "measure_kind"},
    {"measures.breach_offences", "Құқық бұзушылыққа әкелген бұзушылықтар", "Нарушения, повлёкшие правонарушение",
     "measure_kind"},
    /* block 3 */
    {"suicides", "Суицидтер", "Суициды", "suicide_kind"},
    {"suicides.sex_unknown", "Адамның жынысы белгісіз тексерулер (әйелдер санына кірмейді)",
     "Проверки, по которым пол лица неизвестен (не учтены в числе женщин)", NULL},
    {"suicides.signs_of_violence", "Зорлық-зомбылық белгілері анықталды", "Выявлены признаки насилия", NULL},
    {"suicides.incitement", "Өзін-өзі өлтіруге дейін жеткізу анықталды", "Установлено доведение до самоубийства", NULL},
    {"suicides.outcome", "Тексеру бойынша шешім", "Решение по проверке", "suicide_outcome"},
    /* block 4 */
    {"interactions", "Өзара іс-қимыл іс-шаралары", "Мероприятия взаимодействия", "interaction_kind"},
    /* block 5 */
    {"prevention.visits", "Профилактикалық барулар", "Профилактические посещения", NULL},
    {"prevention.visit_purpose", "Бару мақсаты", "Цель посещения", "visit_purpose"},
    {"prevention.high_risk", "Қауіп деңгейі жоғары отбасылар", "Семьи с высоким уровнем риска", NULL},
    {"prevention.violence_type", "Зорлық-зомбылық түрі", "Вид насилия", "violence_type"},
    {"prevention.children", "Балалардың қатысуы", "Присутствие детей", "children_involved"},
    {"prevention", "Себептер мен жағдайларды жою іс-шаралары", "Мероприятия по устранению причин и условий",
     "interaction_kind"},
    /* block 6 */
    {"crisis.interactions", "Дағдарыстық орталықтармен іс-шаралар", "Мероприятия с кризисными центрами", NULL},
    {"crisis.referrals", "Дағдарыстық орталықтарға жолданғандар", "Направлено в кризисные центры", "@table"},
    /* block 7 */
    {"aid", "Көмек көрсетілді барлығы", "Всего оказано помощи", NULL},
    {"aid.kind", "Көмек түрі", "Вид помощи", "aid_kind"},
    {"aid.channel", "Көрсету тәсілі", "Способ оказания", "aid_channel"},
    {"aid.topic", "Өтініш тақырыбы", "Тема обращения", "aid_topic"},
    {"aid.anonymous", "Анонимді өтініштер", "Анонимные обращения", NULL},
    {"aid.referral", "Жолданды", "Направлено", "aid_referral"},
    /* block 8 */
    {"surveys", "Жиналған сауалнамалар", "Собрано анкет", NULL},
    {"surveys.form", "Сауалнама бойынша", "По анкетам", NULL},
    {"surveys.settlement", "Елді мекен түрі", "Тип населённого пункта", "settlement_type"},
    {"surveys.answer", "Жауаптар", "Ответы", NULL},
    /* block 9 */
    {"police.interactions", "Полицияның басқа бөліністерімен іс-шаралар",
     "Мероприятия с другими подразделениями полиции", NULL},
    /* every block, last: the records counted above that are not yet approved */
    {"not_approved", "оның ішінде әлі бекітілмегені", "из них ещё не утверждено", NULL},
};

static const struct {
    const char *value, *kk, *ru;
} ages[] = {
    {"under_18", "18 жасқа дейін", "до 18 лет"}, {"18_29", "18–29 жас", "18–29 лет"},
    {"30_39", "30–39 жас", "30–39 лет"},        {"40_49", "40–49 жас", "40–49 лет"},
    {"50_59", "50–59 жас", "50–59 лет"},        {"60_plus", "60 жас және одан жоғары", "60 лет и старше"},
    {"unknown", "белгісіз", "не известен"},
};

/* An article figure's value that the catalogue does not hold. */
#define NOT_CATALOGUED "not_catalogued"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

const char *report_block_title(int block, const char *lang)
{
    if (block < 1 || block > REPORT_BLOCKS) return "";
    return dala_label(blocks[block - 1].kk, blocks[block - 1].ru, lang);
}

/* 1 if the entry names a family of groups ("surveys.answer.<form>.<question>",
 * "not_approved.<block>"). */
static int is_family(const char *entry)
{
    return strcmp(entry, "surveys.answer") == 0 || strcmp(entry, "not_approved") == 0;
}

/* The entry of `group`, or -1. */
static int group_index(const char *group)
{
    for (size_t i = 0; i < COUNT(groups); i++) {
        size_t n = strlen(groups[i].group);
        if (strncmp(group, groups[i].group, n) == 0 &&
            (group[n] == '\0' || (group[n] == '.' && is_family(groups[i].group))))
            return (int)i;
    }
    return -1;
}

/* An article figure's value as the Code cites it (dala_article_cite), or
 * "not catalogued"; NULL when `value` is neither. */
static const char *article_label(char *out, size_t size, const char *value, const char *lang)
{
    if (strcmp(value, NOT_CATALOGUED) == 0)
        return strcmp(lang, "ru") == 0 ? "Нет в перечне статей" : "Баптар тізбесінде жоқ";
    const dala_article *a = dala_article_find(value, strlen(value));
    return a ? dala_article_cite(out, size, a, lang) : NULL;
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
    if (strcmp(values, "@article") == 0) {
        /* the catalogue's order; then what is not in it */
        const dala_article *articles = NULL;
        size_t count = dala_articles(&articles);
        for (size_t k = 0; k < count; k++)
            if (strcmp(articles[k].id, value) == 0) return (int)k;
        return (int)count + (strcmp(value, NOT_CATALOGUED) == 0 ? 0 : 1);
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

/* The label of `value` in `group` (written into `out` when it is composed);
 * the value itself when it is free text or unknown. */
static const char *value_label(char *out, size_t size, int i, const char *value, const char *lang)
{
    const char *values = i < 0 ? NULL : groups[i].values;
    if (!values) return value;
    if (strcmp(values, "@article") == 0) {
        const char *label = article_label(out, size, value, lang);
        return label ? label : value; /* an article written before the catalogue */
    }
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
    char composed[512];
    if (!value[0]) snprintf(out, size, "%s", name);
    else snprintf(out, size, "%s: %s", name, value_label(composed, sizeof composed, i, value, lang));
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
