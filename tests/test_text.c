/* test_text.c - Kazakh-aware text: alphabetical order (not byte order),
 * case-insensitive comparison with a case tie-break, folding of every
 * capital, search, invalid UTF-8, and the collation `kk` and the functions
 * dala_fold() and dala_contains() through SQLite. */
#include "dala_text.h"
#include "sqlite_text.h"
#include "testhelp.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* The alphabet, capitals and small letters, as the tests spell it out
 * (sync/text.c has its own table). */
static const char *const kazakh_capitals[42] = {
    "А", "Ә", "Б", "В", "Г", "Ғ", "Д", "Е", "Ё", "Ж", "З", "И", "Й", "К",
    "Қ", "Л", "М", "Н", "Ң", "О", "Ө", "П", "Р", "С", "Т", "У", "Ұ", "Ү",
    "Ф", "Х", "Һ", "Ц", "Ч", "Ш", "Щ", "Ъ", "Ы", "І", "Ь", "Э", "Ю", "Я",
};
static const char *const kazakh_smalls[42] = {
    "а", "ә", "б", "в", "г", "ғ", "д", "е", "ё", "ж", "з", "и", "й", "к",
    "қ", "л", "м", "н", "ң", "о", "ө", "п", "р", "с", "т", "у", "ұ", "ү",
    "ф", "х", "һ", "ц", "ч", "ш", "щ", "ъ", "ы", "і", "ь", "э", "ю", "я",
};

static int compare_text(const char *a, const char *b)
{
    return dala_text_compare(a, strlen(a), b, strlen(b));
}

static int qsort_by_text(const void *a, const void *b)
{
    return compare_text(*(const char *const *)a, *(const char *const *)b);
}

static int qsort_by_bytes(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Joins `names` with commas into `out`. */
static void join(char *out, size_t out_size, const char *const *names, size_t count)
{
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t used = strlen(out);
        snprintf(out + used, out_size - used, "%s%s", i ? "," : "", names[i]);
    }
}

/* Sorts a copy of `expected` scrambled (reversed, then every other pair
 * swapped) with `compare`, and joins the result with commas into `out`. */
static void sort_scrambled(char *out, size_t out_size, const char *const *expected, size_t count,
                           int (*compare)(const void *, const void *))
{
    const char *names[64];
    if (count > COUNT(names)) count = COUNT(names);
    for (size_t i = 0; i < count; i++) names[i] = expected[count - 1 - i];
    for (size_t i = 0; i + 1 < count; i += 4) {
        const char *swap = names[i];
        names[i] = names[i + 1];
        names[i + 1] = swap;
    }
    qsort(names, count, sizeof names[0], compare);
    join(out, out_size, names, count);
}

static void test_text_compare_orders_the_42_letters_as_the_alphabet(void)
{
    char want[1024], got[1024];
    join(want, sizeof want, kazakh_capitals, 42);
    sort_scrambled(got, sizeof got, kazakh_capitals, 42, qsort_by_text);
    CHECK_EQ_STR(got, want);
    join(want, sizeof want, kazakh_smalls, 42);
    sort_scrambled(got, sizeof got, kazakh_smalls, 42, qsort_by_text);
    CHECK_EQ_STR(got, want);
}

/* `names` (listed in the order they must sort in) sort so by
 * dala_text_compare from a scrambled start, and not so by bytes. */
static void check_sorts_as_listed(const char *const *names, size_t count)
{
    char want[1024], got[1024], by_bytes[1024];
    join(want, sizeof want, names, count);
    sort_scrambled(got, sizeof got, names, count, qsort_by_text);
    CHECK_EQ_STR(got, want);
    sort_scrambled(by_bytes, sizeof by_bytes, names, count, qsort_by_bytes);
    CHECK(strcmp(by_bytes, want) != 0);
}

static void test_text_compare_sorts_kazakh_names_in_alphabet_not_byte_order(void)
{
    static const char *const names[] = {
        "Айгүл", "Әлия",   "Бақыт", "Гүлнар", "Ғалым",  "Ерлан", "Ерік",  "Жанар",
        "Камила", "Қайрат", "Құралай", "Ләззат", "Нұрлан", "Оразбек", "Өмір", "Ұлдана",
        "Үміт",  "Шаңқай", "Шынар", "Ырыс",  "Іңкәр",  "Эльмира", "Ясмин",
    };
    check_sorts_as_listed(names, COUNT(names));
    /* Byte order puts Әлия, Ғалым, Қайрат, Өмір, Ұлдана and Үміт after
     * Ясмин, and Іңкәр first of all. */
    char by_bytes[1024];
    sort_scrambled(by_bytes, sizeof by_bytes, names, COUNT(names), qsort_by_bytes);
    CHECK(strncmp(by_bytes, "Іңкәр,", strlen("Іңкәр,")) == 0);
    CHECK(compare_text("Әлия", "Ясмин") < 0);
    CHECK(strcmp("Әлия", "Ясмин") > 0);
}

static void test_text_compare_sorts_russian_names_as_in_russian(void)
{
    static const char *const names[] = {
        "алексеев", "Борис",    "Валентина", "Галина",  "Дмитрий", "Евгений",  "Ёлкин",
        "Жанна",    "Зоя",      "Игорь",     "Йошкин",  "Константин", "Людмила", "Мария",
        "Наталья",  "Ольга",    "Петров",    "Пётр",    "Раиса",   "Светлана", "Татьяна",
        "Ульяна",   "Фёдор",    "Харитон",   "Царёв",   "Чернов",  "Шамиль",   "Щукин",
        "Эдуард",   "Юрий",     "Яков",
    };
    /* Bytes put Ё before А and every small letter after Я. */
    check_sorts_as_listed(names, COUNT(names));
}

static void test_text_compare_puts_spaces_first_as_a_phone_book_does(void)
{
    /* A surname alone, then its holders by first name, then longer surnames. */
    CHECK(compare_text("Әлиев Бақыт", "Әлиева Айгүл") < 0);
    CHECK(compare_text("Әлиев", "Әлиев Бақыт") < 0);
    CHECK(compare_text("Нұр-Сұлтан", "Нұрлан") < 0);
}

static void test_text_compare_ignores_case_then_breaks_ties_by_case(void)
{
    /* The same name in any case sorts before the next name in any case. */
    CHECK(compare_text("ҚАЙРАТ", "қайсар") < 0);
    CHECK(compare_text("қайрат", "ҚАЙСАР") < 0);
    CHECK(compare_text("ӘЛИЯ", "бақыт") < 0);
    CHECK(compare_text("Zarina", "ainur") > 0);
    /* Equal but for case: the first difference decides, small first. */
    CHECK(compare_text("қайрат", "Қайрат") < 0);
    CHECK(compare_text("Қайрат", "ҚАЙРАТ") < 0);
    CHECK(compare_text("ҚАЙРАТ", "Қайрат") > 0);
    CHECK(compare_text("қАЙРАТ", "Қайрат") < 0);
    CHECK_EQ_INT(compare_text("Қайрат", "Қайрат"), 0);
    CHECK_EQ_INT(compare_text("", ""), 0);
    CHECK(compare_text("Қайрат", "ҚайратҰлы") < 0);
    CHECK(compare_text("ҚАЙРАТ", "Қайратұлы") < 0);
}

static void test_text_compare_puts_spaces_digits_then_latin_before_cyrillic(void)
{
    static const char *const names[] = {
        " Яна", "007", "10", "9", "Ainur", "bota", "Zarina", "Айгүл", "Яна", "№5",
    };
    char want[256], got[256];
    join(want, sizeof want, names, COUNT(names));
    sort_scrambled(got, sizeof got, names, COUNT(names), qsort_by_text);
    CHECK_EQ_STR(got, want);
    /* Ё is a letter of its own between Е and Ж, not an Е. */
    CHECK(compare_text("Ёлка", "Ежевика") > 0);
    CHECK(compare_text("Ёлка", "Жанна") < 0);
}

static void test_text_fold_lowers_every_kazakh_capital(void)
{
    for (size_t i = 0; i < 42; i++) {
        char out[8];
        size_t len = strlen(kazakh_capitals[i]);
        CHECK_EQ_INT(dala_text_fold(out, sizeof out, kazakh_capitals[i], len), len);
        CHECK_EQ_STR(out, kazakh_smalls[i]);
        CHECK_EQ_INT(dala_text_fold(out, sizeof out, kazakh_smalls[i], len), len);
        CHECK_EQ_STR(out, kazakh_smalls[i]);
    }
    char out[64];
    const char *name = "ӨМІРЗАҚ Ёсимов, IVANOV";
    CHECK_EQ_INT(dala_text_fold(out, sizeof out, name, strlen(name)), strlen(name));
    CHECK_EQ_STR(out, "өмірзақ ёсимов, ivanov");
}

static void test_text_fold_reports_its_length_and_cuts_on_whole_letters(void)
{
    const char *name = "ӘЛИЯ";
    char out[8];
    CHECK_EQ_INT(dala_text_fold(NULL, 0, name, strlen(name)), 8);
    memset(out, 'x', sizeof out);
    /* 8 bytes of room: three letters (6 bytes) and the NUL, not half of Я. */
    CHECK_EQ_INT(dala_text_fold(out, sizeof out, name, strlen(name)), 8);
    CHECK_EQ_STR(out, "әли");
    CHECK_EQ_INT(dala_text_fold(out, 1, name, strlen(name)), 8);
    CHECK_EQ_STR(out, "");
    /* A cut output stays a prefix: no later, shorter letter after a gap. */
    CHECK_EQ_INT(dala_text_fold(out, 2, "ӘA", strlen("ӘA")), 3);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(dala_text_fold(out, sizeof out, "", 0), 0);
    CHECK_EQ_STR(out, "");
}

static void test_text_contains_finds_a_query_in_any_case(void)
{
    const char *name = "Мұхтар Қайратұлы";
    CHECK_EQ_INT(dala_text_contains(name, strlen(name), "ҚАЙ", strlen("ҚАЙ")), 1);
    CHECK_EQ_INT(dala_text_contains(name, strlen(name), "ұлы", strlen("ұлы")), 1);
    CHECK_EQ_INT(dala_text_contains(name, strlen(name), "МҰХТАР Қ", strlen("МҰХТАР Қ")), 1);
    CHECK_EQ_INT(dala_text_contains(name, strlen(name), "", 0), 1);
    /* Қ is not К, ұ is not у, and the needle must fit. */
    CHECK_EQ_INT(dala_text_contains(name, strlen(name), "кай", strlen("кай")), 0);
    CHECK_EQ_INT(dala_text_contains(name, strlen(name), "мухтар", strlen("мухтар")), 0);
    CHECK_EQ_INT(dala_text_contains(name, strlen(name), "ұлыұлы", strlen("ұлыұлы")), 0);
    CHECK_EQ_INT(dala_text_contains("", 0, "а", strlen("а")), 0);
}

/* A heap copy of exactly `len` bytes, so AddressSanitizer sees a read past it. */
static char *exact_copy(const char *bytes, size_t len)
{
    char *copy = malloc(len ? len : 1);
    if (copy) memcpy(copy, bytes, len);
    return copy;
}

static void test_text_handles_invalid_utf8_by_byte_value(void)
{
    /* Lone continuation and lead bytes, a cut Қ, "/" overlong in 2, 3 and
     * 4 bytes, a surrogate, a code point past U+10FFFF. */
    static const char *const bad[] = {"\x80",         "\xff",         "\xd2",
                                      "\xc0\xaf",     "\xe0\x80\xaf", "\xf0\x80\x80\xaf",
                                      "\xed\xa0\x80", "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < COUNT(bad); i++) {
        size_t len = strlen(bad[i]);
        char *text = exact_copy(bad[i], len);
        char folded[16];
        CHECK(text != NULL);
        if (!text) return;
        CHECK(dala_text_compare(text, len, "я", strlen("я")) > 0);
        CHECK_EQ_INT(dala_text_compare(text, len, text, len), 0);
        CHECK_EQ_INT(dala_text_fold(folded, sizeof folded, text, len), len);
        CHECK_EQ_MEM(folded, bad[i], len + 1);
        CHECK_EQ_INT(dala_text_contains(text, len, text, len), 1);
        /* Each byte is a character of its own: the last one is found
         * alone, and the text without it is a prefix that sorts first. */
        CHECK_EQ_INT(dala_text_contains(text, len, text + len - 1, 1), 1);
        if (len > 1) CHECK(dala_text_compare(text, len, text, len - 1) > 0);
        free(text);
    }
    /* Invalid bytes sort after every code point, by byte value. */
    CHECK(compare_text("\x80", "\xff") < 0);
    CHECK(compare_text("\xff", "\xf4\x8f\xbf\xbf") > 0); /* U+10FFFF */
    CHECK(compare_text("а\xffб", "аб") > 0);
    /* A Қ cut to its first byte is that byte, not a letter. */
    CHECK(dala_text_compare("Қ", 1, "Қ", strlen("Қ")) > 0);
    CHECK_EQ_INT(dala_text_contains("Қ", 1, "Қ", strlen("Қ")), 0);
    /* Folding goes on past invalid bytes; a match never starts inside a letter. */
    char folded[16];
    CHECK_EQ_INT(dala_text_fold(folded, sizeof folded, "\xffҚ\xd2", strlen("\xffҚ\xd2")), 4);
    CHECK_EQ_STR(folded, "\xffқ\xd2");
    CHECK_EQ_INT(dala_text_fold(folded, sizeof folded, "Ә\xffБ", strlen("Ә\xffБ")), 5);
    CHECK_EQ_STR(folded, "ә\xffб");
    CHECK_EQ_INT(dala_text_contains("Қ", strlen("Қ"), "\x9a", 1), 0);
    CHECK_EQ_INT(dala_text_contains("a\xff" "B", 3, "\xff" "b", 2), 1);
}

static void test_text_compare_is_a_total_order(void)
{
    static const char *const texts[] = {
        "",  "a", "A", "1", "Қ", "қ", "К", "Ё", "е", "Е", "ъ", " ", "№", "\x80", "\xff", "\xd2",
        "қайрат", "Қайрат", "ҚАЙРАТ", "қайрат\xff", "Z", "я", "Я", "і", "І", "À", "à",
    };
    size_t n = COUNT(texts);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int ij = compare_text(texts[i], texts[j]), ji = compare_text(texts[j], texts[i]);
            CHECK_EQ_INT(ij < 0, ji > 0);
            CHECK_EQ_INT(ij == 0, i == j);
            for (size_t k = 0; k < n; k++)
                if (ij < 0 && compare_text(texts[j], texts[k]) < 0)
                    CHECK(compare_text(texts[i], texts[k]) < 0);
        }
    }
}

/* --- through SQLite -------------------------------------------------------- */

/* An in-memory database with the text functions and a table of names. */
static sqlite3 *open_people(const char *const *names, size_t count)
{
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
    CHECK_EQ_INT(dala_sqlite_text_register(db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "CREATE TABLE people (name TEXT)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *insert = NULL;
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "INSERT INTO people (name) VALUES (?)", -1, &insert, NULL),
                 SQLITE_OK);
    for (size_t i = 0; i < count; i++) {
        sqlite3_bind_text(insert, 1, names[count - 1 - i], -1, SQLITE_STATIC);
        CHECK_EQ_INT(sqlite3_step(insert), SQLITE_DONE);
        sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    return db;
}

/* Runs `sql` and joins the first column of its rows with commas. */
static void query_joined(char *out, size_t out_size, sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    out[0] = '\0';
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    CHECK_EQ_INT(rc, SQLITE_OK);
    if (rc != SQLITE_OK) return;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(stmt, 0);
        size_t used = strlen(out);
        snprintf(out + used, out_size - used, "%s%s", used ? "," : "",
                 text ? (const char *)text : "NULL");
    }
    sqlite3_finalize(stmt);
}

static const char *const sql_names[] = {
    "Айгүл", "Әлия", "Бақыт", "Ғалым", "Қайрат", "Нұрлан", "Өмір", "ӨМІРЗАҚ", "Ұлдана", "Үміт", "Іңкәр",
};

static void test_sqlite_order_by_collate_kk_gives_kazakh_order(void)
{
    sqlite3 *db = open_people(sql_names, COUNT(sql_names));
    char want[512], got[512];
    join(want, sizeof want, sql_names, COUNT(sql_names));
    query_joined(got, sizeof got, db, "SELECT name FROM people ORDER BY name COLLATE kk");
    CHECK_EQ_STR(got, want);
    query_joined(got, sizeof got, db, "SELECT name FROM people ORDER BY name");
    CHECK(strcmp(got, want) != 0);
    /* An index in the collation serves the same order. */
    CHECK_EQ_INT(sqlite3_exec(db, "CREATE INDEX people_kk ON people (name COLLATE kk)", NULL, NULL,
                              NULL),
                 SQLITE_OK);
    query_joined(got, sizeof got, db, "SELECT name FROM people INDEXED BY people_kk ORDER BY name COLLATE kk");
    CHECK_EQ_STR(got, want);
    sqlite3_close(db);
}

static void test_sqlite_dala_contains_finds_names_in_any_case(void)
{
    sqlite3 *db = open_people(sql_names, COUNT(sql_names));
    char got[512];
    query_joined(got, sizeof got, db,
                 "SELECT name FROM people WHERE dala_contains(name, 'өмір') ORDER BY name COLLATE kk");
    CHECK_EQ_STR(got, "Өмір,ӨМІРЗАҚ");
    query_joined(got, sizeof got, db, "SELECT name FROM people WHERE dala_contains(name, 'ҚАЙ')");
    CHECK_EQ_STR(got, "Қайрат");
    /* SQLite's own LIKE folds ASCII only: it misses ӨМІРЗАҚ. */
    query_joined(got, sizeof got, db, "SELECT name FROM people WHERE name LIKE '%мір%'");
    CHECK_EQ_STR(got, "Өмір");
    query_joined(got, sizeof got, db,
                 "SELECT quote(dala_contains(NULL, 'а')) || quote(dala_contains('а', NULL))");
    CHECK_EQ_STR(got, "NULLNULL");
    sqlite3_close(db);
}

static void test_sqlite_dala_fold_lowers_text_and_keeps_null(void)
{
    sqlite3 *db = open_people(sql_names, COUNT(sql_names));
    char got[512];
    query_joined(got, sizeof got, db, "SELECT dala_fold('ӘЛИЯ')");
    CHECK_EQ_STR(got, "әлия");
    query_joined(got, sizeof got, db, "SELECT quote(dala_fold(NULL)) || dala_fold(42) || dala_fold('')");
    CHECK_EQ_STR(got, "NULL42");
    /* Deterministic, so an index on it is allowed and used for lookups. */
    CHECK_EQ_INT(sqlite3_exec(db, "CREATE INDEX people_folded ON people (dala_fold(name))", NULL,
                              NULL, NULL),
                 SQLITE_OK);
    query_joined(got, sizeof got, db,
                 "SELECT name FROM people INDEXED BY people_folded WHERE dala_fold(name) = 'өмірзақ'");
    CHECK_EQ_STR(got, "ӨМІРЗАҚ");
    sqlite3_close(db);
}

const dala_test text_tests[] = {
    {"text_compare_orders_the_42_letters_as_the_alphabet", test_text_compare_orders_the_42_letters_as_the_alphabet},
    {"text_compare_sorts_kazakh_names_in_alphabet_not_byte_order", test_text_compare_sorts_kazakh_names_in_alphabet_not_byte_order},
    {"text_compare_sorts_russian_names_as_in_russian", test_text_compare_sorts_russian_names_as_in_russian},
    {"text_compare_puts_spaces_first_as_a_phone_book_does", test_text_compare_puts_spaces_first_as_a_phone_book_does},
    {"text_compare_ignores_case_then_breaks_ties_by_case", test_text_compare_ignores_case_then_breaks_ties_by_case},
    {"text_compare_puts_spaces_digits_then_latin_before_cyrillic", test_text_compare_puts_spaces_digits_then_latin_before_cyrillic},
    {"text_compare_is_a_total_order", test_text_compare_is_a_total_order},
    {"text_fold_lowers_every_kazakh_capital", test_text_fold_lowers_every_kazakh_capital},
    {"text_fold_reports_its_length_and_cuts_on_whole_letters", test_text_fold_reports_its_length_and_cuts_on_whole_letters},
    {"text_contains_finds_a_query_in_any_case", test_text_contains_finds_a_query_in_any_case},
    {"text_handles_invalid_utf8_by_byte_value", test_text_handles_invalid_utf8_by_byte_value},
    {"sqlite_order_by_collate_kk_gives_kazakh_order", test_sqlite_order_by_collate_kk_gives_kazakh_order},
    {"sqlite_dala_contains_finds_names_in_any_case", test_sqlite_dala_contains_finds_names_in_any_case},
    {"sqlite_dala_fold_lowers_text_and_keeps_null", test_sqlite_dala_fold_lowers_text_and_keeps_null},
    {NULL, NULL},
};
