/* text.c - Kazakh alphabetical order, case folding and case-insensitive
 * search of UTF-8 text (dala_text.h). Two small tables drive it: the case
 * pairs of the Latin and Cyrillic letters, and the 42 letters of the Kazakh
 * alphabet in order. Text is read one character at a time; a byte that does
 * not start a well-formed UTF-8 sequence is one "character" of its own, so
 * no input is refused and nothing reads past the given length. */
#include "dala_text.h"

#include <stdint.h>
#include <string.h>

/* A byte that is not well-formed UTF-8, as next_char returns it: above
 * every code point, and the byte kept in the low bits. */
#define INVALID_BYTE 0x80000000u

/* Capitals and their small letters: every code point from `first` to
 * `last` (every other one when `step` is 2) folds to itself plus `delta`.
 * Each pair has the same UTF-8 length, so folding keeps byte lengths. */
static const struct case_range {
    uint32_t first, last;
    uint32_t step, delta;
} case_ranges[] = {
    {0x0041, 0x005a, 1, 0x20}, /* A-Z */
    {0x00c0, 0x00d6, 1, 0x20}, /* À-Ö */
    {0x00d8, 0x00de, 1, 0x20}, /* Ø-Þ */
    {0x0400, 0x040f, 1, 0x50}, /* Ѐ-Џ, with Ё and І */
    {0x0410, 0x042f, 1, 0x20}, /* А-Я */
    {0x0460, 0x0480, 2, 1},    /* Ѡ-Ҁ */
    {0x048a, 0x04be, 2, 1},    /* Ҋ-Ҿ, with Ғ Қ Ң Ү Ұ Һ */
    {0x04c0, 0x04c0, 1, 0x0f}, /* Ӏ */
    {0x04c1, 0x04cd, 2, 1},    /* Ӂ-Ӎ */
    {0x04d0, 0x052e, 2, 1},    /* Ӑ-Ԯ, with Ә and Ө */
};

/* The small letters of the Kazakh Cyrillic alphabet in its order; a
 * letter's rank is its index. The 33 Russian letters are among them, in
 * Russian order. */
static const uint16_t kazakh_alphabet[42] = {
    0x0430 /* а */, 0x04d9 /* ә */, 0x0431 /* б */, 0x0432 /* в */, 0x0433 /* г */, 0x0493 /* ғ */,
    0x0434 /* д */, 0x0435 /* е */, 0x0451 /* ё */, 0x0436 /* ж */, 0x0437 /* з */, 0x0438 /* и */,
    0x0439 /* й */, 0x043a /* к */, 0x049b /* қ */, 0x043b /* л */, 0x043c /* м */, 0x043d /* н */,
    0x04a3 /* ң */, 0x043e /* о */, 0x04e9 /* ө */, 0x043f /* п */, 0x0440 /* р */, 0x0441 /* с */,
    0x0442 /* т */, 0x0443 /* у */, 0x04b1 /* ұ */, 0x04af /* ү */, 0x0444 /* ф */, 0x0445 /* х */,
    0x04bb /* һ */, 0x0446 /* ц */, 0x0447 /* ч */, 0x0448 /* ш */, 0x0449 /* щ */, 0x044a /* ъ */,
    0x044b /* ы */, 0x0456 /* і */, 0x044c /* ь */, 0x044d /* э */, 0x044e /* ю */, 0x044f /* я */,
};

/* The groups of dala_text_compare, in order, in the top byte of a weight.
 * Spaces and ASCII punctuation come first, as in a phone book: "Әлиев
 * Бақыт" before "Әлиева Айгүл". */
#define GROUP_SPACE (1u << 24)
#define GROUP_DIGIT (2u << 24)
#define GROUP_LATIN (3u << 24)
#define GROUP_KAZAKH (4u << 24)
#define GROUP_OTHER (5u << 24)
#define GROUP_INVALID (6u << 24)

/* Reads the character at text[*pos] (before `len`) and moves *pos past
 * it: a code point of a well-formed sequence (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or INVALID_BYTE | the byte. */
static uint32_t next_char(const char *text, size_t len, size_t *pos)
{
    const unsigned char *p = (const unsigned char *)text + *pos;
    size_t left = len - *pos;
    unsigned char lead = p[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;
    uint32_t cp;
    if (lead < 0x80) {
        *pos += 1;
        return lead;
    }
    if (lead >= 0xc2 && lead <= 0xdf) {
        n = 2;
        cp = lead & 0x1fu;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        n = 3;
        cp = lead & 0x0fu;
        if (lead == 0xe0) lo = 0xa0;
        if (lead == 0xed) hi = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        n = 4;
        cp = lead & 0x07u;
        if (lead == 0xf0) lo = 0x90;
        if (lead == 0xf4) hi = 0x8f;
    } else {
        n = 0;
        cp = 0;
    }
    if (n == 0 || left < n || p[1] < lo || p[1] > hi) goto invalid;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) goto invalid;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    *pos += n;
    return cp;
invalid:
    *pos += 1;
    return INVALID_BYTE | lead;
}

/* The small letter of `c` (a next_char result), or `c` itself. */
static uint32_t fold_char(uint32_t c)
{
    for (size_t i = 0; i < sizeof case_ranges / sizeof case_ranges[0]; i++) {
        const struct case_range *r = &case_ranges[i];
        if (c < r->first || c > r->last) continue;
        return (c - r->first) % r->step == 0 ? c + r->delta : c;
    }
    return c;
}

/* The weight of a folded character (a next_char result) in the order of
 * dala_text_compare: its group, then its place in the group. */
static uint32_t primary_weight(uint32_t folded)
{
    if (folded & INVALID_BYTE) return GROUP_INVALID | (folded & 0xffu);
    if (folded >= '0' && folded <= '9') return GROUP_DIGIT | folded;
    if (folded >= 'a' && folded <= 'z') return GROUP_LATIN | folded;
    if (folded < 0x80) return GROUP_SPACE | folded;
    if (folded >= 0x0430 && folded <= 0x04ff)
        for (uint32_t rank = 0; rank < 42; rank++)
            if (kazakh_alphabet[rank] == folded) return GROUP_KAZAKH | rank;
    return GROUP_OTHER | folded;
}

/* Writes `c` (a next_char result) as UTF-8 into `out` (4 bytes room);
 * returns its length. */
static size_t encode_char(unsigned char *out, uint32_t c)
{
    if (c & INVALID_BYTE) {
        out[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x80) {
        out[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (unsigned char)(0xc0 | c >> 6);
        out[1] = (unsigned char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (unsigned char)(0xe0 | c >> 12);
        out[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
        out[2] = (unsigned char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | c >> 18);
    out[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
    out[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
    out[3] = (unsigned char)(0x80 | (c & 0x3f));
    return 4;
}

int dala_text_compare(const char *a, size_t a_len, const char *b, size_t b_len)
{
    size_t i = 0, j = 0;
    int case_order = 0; /* the first difference in case only */
    while (i < a_len && j < b_len) {
        uint32_t ca = next_char(a, a_len, &i), cb = next_char(b, b_len, &j);
        uint32_t fa = fold_char(ca), fb = fold_char(cb);
        uint32_t wa = primary_weight(fa), wb = primary_weight(fb);
        if (wa != wb) return wa < wb ? -1 : 1;
        /* Equal weights mean equal folded characters; a capital is the
         * one that folding changed. */
        if (case_order == 0 && (ca != fa) != (cb != fb)) case_order = ca != fa ? 1 : -1;
    }
    if (i < a_len) return 1;
    if (j < b_len) return -1;
    return case_order;
}

size_t dala_text_fold(char *out, size_t out_size, const char *text, size_t len)
{
    size_t pos = 0, need = 0, written = 0;
    int is_cut = 0;
    while (pos < len) {
        unsigned char bytes[4];
        size_t n = encode_char(bytes, fold_char(next_char(text, len, &pos)));
        /* Once a character does not fit, no later one is written: the
         * output stays a prefix of the folded text. */
        if (!is_cut && written + n < out_size) {
            memcpy(out + written, bytes, n);
            written += n;
        } else {
            is_cut = 1;
        }
        need += n;
    }
    if (out_size > 0) out[written] = '\0';
    return need;
}

/* Whether the folded needle matches the folded haystack from `start`. */
static int matches_at(const char *haystack, size_t haystack_len, size_t start, const char *needle,
                      size_t needle_len)
{
    size_t i = start, j = 0;
    while (j < needle_len) {
        if (i >= haystack_len) return 0;
        uint32_t ch = fold_char(next_char(haystack, haystack_len, &i));
        uint32_t cn = fold_char(next_char(needle, needle_len, &j));
        if (ch != cn) return 0;
    }
    return 1;
}

int dala_text_contains(const char *haystack, size_t haystack_len, const char *needle,
                       size_t needle_len)
{
    if (needle_len == 0) return 1;
    size_t start = 0;
    while (start < haystack_len) {
        if (matches_at(haystack, haystack_len, start, needle, needle_len)) return 1;
        next_char(haystack, haystack_len, &start);
    }
    return 0;
}
