/* report_figures.c - a set of report figures keyed by (group, value): a
 * hash table of indexes into an array, since a department's quarter adds to
 * a few hundred figures some hundreds of thousands of times. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t hash_key(const char *group, const char *value)
{
    size_t h = 14695981039346656037u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)group; *p; p++) h = (h ^ *p) * 1099511628211u;
    h = (h ^ 0x1f) * 1099511628211u;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) h = (h ^ *p) * 1099511628211u;
    return h;
}

static size_t *find_slot(const report_figures *f, const char *group, const char *value)
{
    size_t mask = f->slot_count - 1;
    for (size_t i = hash_key(group, value) & mask;; i = (i + 1) & mask) {
        size_t *slot = &f->slots[i];
        if (!*slot) return slot;
        const report_figure *item = &f->items[*slot - 1];
        if (strcmp(item->group, group) == 0 && strcmp(item->value, value) == 0) return slot;
    }
}

static int grow(report_figures *f)
{
    size_t alloc = f->alloc ? f->alloc * 2 : 64, slot_count = alloc * 2;
    report_figure *items = realloc(f->items, alloc * sizeof *items);
    if (!items) return dala_error_set(DALA_ENOMEM, "report figures: out of memory");
    f->items = items;
    size_t *slots = calloc(slot_count, sizeof *slots);
    if (!slots) return dala_error_set(DALA_ENOMEM, "report figures: out of memory");
    free(f->slots);
    f->slots = slots;
    f->slot_count = slot_count;
    f->alloc = alloc;
    for (size_t i = 0; i < f->count; i++) *find_slot(f, f->items[i].group, f->items[i].value) = i + 1;
    return DALA_OK;
}

int report_figures_add(report_figures *f, int block, const char *group, const char *value, int period, int64_t n)
{
    if (f->count == f->alloc && grow(f)) return DALA_ENOMEM;
    size_t *slot = find_slot(f, group, value);
    if (!*slot) {
        report_figure *item = &f->items[f->count];
        memset(item, 0, sizeof *item);
        item->block = block;
        item->group = strdup(group);
        item->value = strdup(value);
        if (!item->group || !item->value) {
            free(item->group);
            free(item->value);
            return dala_error_set(DALA_ENOMEM, "report figures: out of memory");
        }
        *slot = ++f->count;
    }
    f->items[*slot - 1].count[period] += n;
    return DALA_OK;
}

const report_figure *report_figures_find(const report_figures *f, const char *group, const char *value)
{
    if (!f->slot_count) return NULL;
    size_t *slot = find_slot(f, group, value);
    return *slot ? &f->items[*slot - 1] : NULL;
}

static int compare_figures(const void *pa, const void *pb)
{
    const report_figure *a = pa, *b = pb;
    if (a->block != b->block) return a->block < b->block ? -1 : 1;
    int ga = report_group_rank(a->group), gb = report_group_rank(b->group);
    if (ga != gb) return ga < gb ? -1 : 1;
    int c = strverscmp(a->group, b->group); /* a survey's q2 before its q10 */
    if (c) return c;
    int va = report_value_rank(a->group, a->value), vb = report_value_rank(b->group, b->value);
    if (va != vb) return va < vb ? -1 : 1;
    return strcmp(a->value, b->value);
}

void report_figures_sort(report_figures *f)
{
    if (f->count < 2) return;
    qsort(f->items, f->count, sizeof *f->items, compare_figures);
    memset(f->slots, 0, f->slot_count * sizeof *f->slots);
    for (size_t i = 0; i < f->count; i++) *find_slot(f, f->items[i].group, f->items[i].value) = i + 1;
}

void report_figures_free(report_figures *f)
{
    for (size_t i = 0; i < f->count; i++) {
        free(f->items[i].group);
        free(f->items[i].value);
    }
    free(f->items);
    free(f->slots);
    *f = (report_figures)REPORT_FIGURES_INIT;
}

void report_quarter_days(char first[11], char last[11], int year, int quarter)
{
    static const char *const ends[] = {"03-31", "06-30", "09-30", "12-31"};
    static const char *const starts[] = {"01-01", "04-01", "07-01", "10-01"};
    unsigned y = (unsigned)year % 10000u;
    snprintf(first, 11, "%04u-%s", y, starts[(quarter - 1) & 3]);
    snprintf(last, 11, "%04u-%s", y, ends[(quarter - 1) & 3]);
}
