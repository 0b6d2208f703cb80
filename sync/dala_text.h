/* dala_text.h - ordering, case folding and search of UTF-8 text in Kazakh
 * alphabetical order, so lists of names sort the way an officer reads them
 * and a search for "ҚАЙ" finds "Қайрат". Pure C: SQLite's byte order and
 * ASCII-only lower() and LIKE are what this replaces, and schema/sqlite_text.c
 * hands these functions to SQLite. */
#ifndef DALA_TEXT_H
#define DALA_TEXT_H

#include <stddef.h>

/**
 * Compare two UTF-8 texts in Kazakh alphabetical order, ignoring case
 * first and then breaking ties by case, for sorting (the SQLite collation
 * `kk`).
 *
 * Characters compare in these groups, each group before the next:
 *  1. the digits 0-9;
 *  2. the Latin letters a-z;
 *  3. the 42 letters of the Kazakh Cyrillic alphabet, in its order
 *     А Ә Б В Г Ғ Д Е Ё Ж З И Й К Қ Л М Н Ң О Ө П Р С Т У Ұ Ү Ф Х Һ Ц Ч
 *     Ш Щ Ъ Ы І Ь Э Ю Я (Russian keeps its own order inside it);
 *  4. every other code point (spaces and punctuation included), by the
 *     value of its lowercase form;
 *  5. bytes that are not well-formed UTF-8, by byte value.
 * A text that is a prefix of the other comes first. Case (as folded by
 * dala_text_fold) counts only when the texts are otherwise equal, and then
 * at its first difference, lowercase first: "қайрат" < "Қайрат" <
 * "ҚАЙРАТ" < "қайсар". The order is total: 0 means the bytes are equal.
 *
 * @param a, b          the texts; borrowed, need not be NUL-terminated or
 *                      valid UTF-8 (NULL is allowed with a length of 0).
 * @param a_len, b_len  their lengths in bytes.
 * @return a negative number, 0 or a positive number as `a` sorts before,
 *         with or after `b`.
 */
int dala_text_compare(const char *a, size_t a_len, const char *b, size_t b_len);

/**
 * Write `text` case-folded (the Latin, Latin-1 and Cyrillic capitals, the
 * Kazakh ones among them, become their small letters; Ё becomes ё, never е),
 * NUL-terminated, as snprintf does: as much as fits in `out_size` bytes,
 * whole characters only. Bytes that are not well-formed UTF-8 are copied
 * unchanged. Every letter folded here keeps its byte length, so the result
 * is exactly `len` bytes long and `len + 1` bytes always suffice.
 *
 * @param out       where to write; may be NULL when `out_size` is 0.
 * @param out_size  the size of `out` in bytes, room for the NUL included.
 * @param text      the text; borrowed, need not be NUL-terminated.
 * @param len       its length in bytes.
 * @return the length of the whole folded text, without the NUL; the
 *         output was cut short when this is >= out_size.
 */
size_t dala_text_fold(char *out, size_t out_size, const char *text, size_t len);

/**
 * Whether `needle` occurs in `haystack` when both are case-folded as by
 * dala_text_fold. A match starts on a whole character of the haystack
 * (never inside one); an empty needle is found in every text.
 *
 * @param haystack, needle  the texts; borrowed, need not be NUL-terminated
 *                          or valid UTF-8 (invalid bytes match themselves).
 * @param haystack_len, needle_len  their lengths in bytes.
 * @return 1 when found, 0 when not.
 */
int dala_text_contains(const char *haystack, size_t haystack_len, const char *needle,
                       size_t needle_len);

#endif /* DALA_TEXT_H */
