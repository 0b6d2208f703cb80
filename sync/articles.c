/* articles.c - the article catalogue (schema/domain/articles.json,
 * compiled into the library as dala_domain_articles_json): the articles of
 * the Criminal Code and of the Code of Administrative Offences that an
 * offence's `article` is picked from on tablets of schema 3 on. Parsed
 * strictly and once, like the domain (domain.c); the checks (validate.c)
 * and the report's labels read it. docs/domain.md, "The article catalogue". */
#include "sync_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char dala_domain_articles_json[];
extern const size_t dala_domain_articles_json_len;

typedef struct catalogue {
    dala_json *doc;
    dala_article *items;
    size_t count;
} catalogue;

static int bad(const char *id, const char *why)
{
    return dala_error_set(DALA_ESCHEMA, "articles: %s%s%s", id ? id : "", id ? ": " : "", why);
}

/* A date "YYYY-MM-DD", or "" when `may_be_empty`. */
static int is_day(const char *text, int may_be_empty)
{
    return text && ((may_be_empty && !text[0]) || dala_date_is_valid(text, strlen(text)));
}

static int read_article(dala_article *a, const dala_json *json, const dala_json *codes)
{
    static const char *const kinds[] = {"crime", "criminal_misdemeanour", "administrative"};
    a->id = dala_json_get_string(json, "id");
    a->code = dala_json_get_string(json, "code");
    a->article = dala_json_get_string(json, "article");
    a->part = dala_json_get_string(json, "part");
    a->kk = dala_json_get_string(json, "kk");
    a->ru = dala_json_get_string(json, "ru");
    a->in_force_from = dala_json_get_string(json, "in_force_from");
    a->in_force_to = dala_json_get_string(json, "in_force_to");
    a->source = dala_json_get_string(json, "source");
    const char *kind = dala_json_get_string(json, "kind");
    const dala_json *family = dala_json_get(json, "family_domestic");
    if (!a->id || !a->code || !a->article || !a->part || !a->kk || !a->ru || !kind || !family)
        return bad(a->id, "an entry needs id, code, article, part, kind, family_domestic, kk and ru");
    for (size_t i = 0; i < json->count; i++) {
        static const char *const keys[] = {"id", "code", "article", "part", "kind", "family_domestic", "kk", "ru",
                                           "in_force_from", "in_force_to", "source"};
        size_t k = 0;
        while (k < sizeof keys / sizeof keys[0] && strcmp(keys[k], json->keys[i]) != 0) k++;
        if (k == sizeof keys / sizeof keys[0]) return bad(a->id, "an entry has an unknown key");
    }
    if (!dala_json_get(codes, a->code)) return bad(a->id, "names a code the catalogue does not list");
    char expected[96];
    snprintf(expected, sizeof expected, "%s.%s%s%s", a->code, a->article, a->part[0] ? "." : "", a->part);
    if (strcmp(expected, a->id) != 0) return bad(a->id, "the id is not code.article.part");
    size_t k = 0;
    while (k < 3 && strcmp(kinds[k], kind) != 0) k++;
    if (k == 3) return bad(a->id, "kind is crime, criminal_misdemeanour or administrative");
    a->kind = (dala_article_kind)k;
    if (family->type != DALA_JSON_TRUE && family->type != DALA_JSON_FALSE) return bad(a->id, "family_domestic is true or false");
    a->is_family_domestic = family->type == DALA_JSON_TRUE;
    if (!is_day(a->in_force_from, 0) || !is_day(a->in_force_to, 1))
        return bad(a->id, "in_force_from is a date, in_force_to a date or \"\"");
    if (a->in_force_to[0] && strcmp(a->in_force_to, a->in_force_from) < 0) return bad(a->id, "ends before it starts");
    return DALA_OK;
}

static int read_catalogue(catalogue *c, const char *json, size_t len)
{
    int rc = dala_json_parse(&c->doc, json, len, 0);
    if (rc) return rc;
    const char *format = dala_json_get_string(c->doc, "format");
    const dala_json *codes = dala_json_get(c->doc, "codes"), *articles = dala_json_get(c->doc, "articles");
    if (!format || strcmp(format, "dala-articles/1") != 0) return bad(NULL, "format is not dala-articles/1");
    if (!codes || codes->type != DALA_JSON_OBJECT || !articles || articles->type != DALA_JSON_ARRAY)
        return bad(NULL, "needs codes (an object) and articles (a list)");
    c->items = dala_calloc(articles->count ? articles->count : 1, sizeof *c->items);
    if (!c->items) return dala_error_set(DALA_ENOMEM, "articles: catalogue");
    for (size_t i = 0; !rc && i < articles->count; i++) {
        if (articles->items[i].type != DALA_JSON_OBJECT) return bad(NULL, "entries are objects");
        rc = read_article(&c->items[i], &articles->items[i], codes);
        for (size_t j = 0; !rc && j < i; j++)
            if (strcmp(c->items[j].id, c->items[i].id) == 0) rc = bad(c->items[i].id, "is listed twice");
        c->count = i + 1;
    }
    return rc;
}

static catalogue compiled;
static char compiled_error[256];
static pthread_once_t compiled_once = PTHREAD_ONCE_INIT;

static void load_compiled(void)
{
    if (read_catalogue(&compiled, dala_domain_articles_json, dala_domain_articles_json_len)) {
        snprintf(compiled_error, sizeof compiled_error, "%s", dala_errmsg());
        free(compiled.items);
        dala_json_free(compiled.doc);
        memset(&compiled, 0, sizeof compiled);
    }
}

/* The catalogue's entries; 0 (and dala_errmsg) if the compiled-in file is broken. */
size_t dala_articles(const dala_article **out)
{
    pthread_once(&compiled_once, load_compiled);
    if (!compiled.items) dala_error_set(DALA_ESCHEMA, "the compiled-in article catalogue is broken: %s", compiled_error);
    *out = compiled.items;
    return compiled.count;
}

const dala_article *dala_article_find(const char *id, size_t len)
{
    const dala_article *items;
    size_t count = dala_articles(&items);
    for (size_t i = 0; i < count; i++)
        if (strlen(items[i].id) == len && memcmp(items[i].id, id, len) == 0) return &items[i];
    return NULL;
}

int dala_article_in_force(const dala_article *article, const char *day)
{
    return strcmp(day, article->in_force_from) >= 0 && (!article->in_force_to[0] || strcmp(day, article->in_force_to) <= 0);
}

const char *dala_article_offence_kind(const dala_article *article)
{
    return article->kind == DALA_ARTICLE_ADMINISTRATIVE ? "administrative" : "criminal";
}

const char *dala_article_cite(char *out, size_t size, const dala_article *article, const char *lang)
{
    int is_ru = lang && strcmp(lang, "ru") == 0, is_uk = strcmp(article->code, "uk") == 0;
    const char *code = is_uk ? (is_ru ? "УК" : "ҚК") : (is_ru ? "КоАП" : "ӘҚБтК");
    const char *title = dala_label(article->kk, article->ru, lang);
    if (is_ru && article->part[0]) snprintf(out, size, "%s ст. %s ч. %s. %s", code, article->article, article->part, title);
    else if (is_ru) snprintf(out, size, "%s ст. %s. %s", code, article->article, title);
    else if (article->part[0]) snprintf(out, size, "%s %s-бап %s-бөлік. %s", code, article->article, article->part, title);
    else snprintf(out, size, "%s %s-бап. %s", code, article->article, title);
    return out;
}
