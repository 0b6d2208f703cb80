/* test_iin.c - the individual identification number: examples made with
 * the published algorithm, agreement with an implementation written apart
 * from sync/iin.c over many numbers, malformed and never-issued numbers
 * refused; and calendar dates. */
#include "dala_sync.h"
#include "testhelp.h"

#include <stdio.h>
#include <string.h>

/* The check digit by the published rule (docs/domain.md), written apart
 * from iin.c: both weight tables in one loop. -1: never issued. */
static int iin_digit(const char *first11)
{
    static const int weights[2][11] = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2}};
    for (int table = 0; table < 2; table++) {
        int sum = 0;
        for (int i = 0; i < 11; i++) sum += (first11[i] - '0') * weights[table][i];
        if (sum % 11 != 10) return sum % 11;
    }
    return -1;
}

static void test_iin_examples_from_the_published_algorithm_are_valid(void)
{
    /* Computed with python3 from the published algorithm for made-up birth
     * dates and register numbers; none is a real person's. */
    static const struct { const char *iin; int year, month, day; char sex; } valid[] = {
        {"850312408153", 1985, 3, 12, 'f'}, {"050721503422", 2005, 7, 21, 'm'}, {"921130302177", 1992, 11, 30, 'm'},
        {"101229605613", 2010, 12, 29, 'f'}, {"991231207331", 1899, 12, 31, 'f'},
        {"000229500946", 2000, 2, 29, 'm'}, /* first sum 10: the second weights give 6 */
        {"850312401808", 1985, 3, 12, 'f'}, /* first sum 10: the second weights give 8 */
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        dala_iin iin = {0, 0, 0, 0};
        const char *code = dala_iin_check(&iin, valid[i].iin, 12);
        if (code) test_fail(__FILE__, __LINE__, "%s refused: %s", valid[i].iin, code);
        if (iin.year != valid[i].year || iin.month != valid[i].month || iin.day != valid[i].day || iin.sex != valid[i].sex)
            test_fail(__FILE__, __LINE__, "%s read as %d-%d-%d %c", valid[i].iin, iin.year, iin.month, iin.day, iin.sex ? iin.sex : '?');
        CHECK_EQ_INT(iin_digit(valid[i].iin), valid[i].iin[11] - '0');
    }
    CHECK(dala_iin_check(NULL, "850312408153", 12) == NULL); /* out may be NULL */
}

static void test_iin_check_digit_agrees_with_an_independent_implementation(void)
{
    int checked = 0, mismatches = 0, never_issued = 0;
    for (int year = 0; year < 100; year += 7)
        for (int month = 1; month <= 12; month += 5)
            for (int day = 1; day <= 28; day += 9)
                for (int century = 1; century <= 6; century++)
                    for (int reg = 0; reg < 10000; reg += 1237) {
                        const int digits[11] = {year / 10, year % 10, month / 10, month % 10, day / 10, day % 10,
                                                century, reg / 1000, reg / 100 % 10, reg / 10 % 10, reg % 10};
                        char iin[13] = "";
                        for (int i = 0; i < 11; i++) iin[i] = (char)('0' + digits[i]);
                        int digit = iin_digit(iin);
                        never_issued += digit < 0;
                        for (int d = 0; d < 10; d++, checked++) {
                            dala_iin parsed = {0, 0, 0, 0};
                            iin[11] = (char)('0' + d);
                            const char *code = dala_iin_check(&parsed, iin, 12);
                            int ok = d == digit && !code && parsed.year == 1800 + (century - 1) / 2 * 100 + year &&
                                     parsed.month == month && parsed.day == day && parsed.sex == (century % 2 ? 'm' : 'f');
                            if (!ok && !(d != digit && code && !strcmp(code, "iin_check")) && mismatches++ < 5)
                                test_fail(__FILE__, __LINE__, "%s: %s, the published rule says %d", iin, code ? code : "valid", digit);
                        }
                    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(checked > 50000);
    CHECK(never_issued > 0); /* the last branch of the rule was walked */
}

static void test_iin_refuses_malformed_numbers(void)
{
    static const char *const bad[][2] = {
        {"850312408154", "iin_check"} /* the check digit is 3 */, {"85031240815", "iin_format"},
        {"8503124081530", "iin_format"}, {"", "iin_format"}, {"85031240815a", "iin_format"}, {"8503I2408153", "iin_format"},
        {"85031240815 ", "iin_format"}, {"850312008158", "iin_format"} /* century digit 0 */,
        {"850312708152", "iin_format"} /* 7 */, {"850230408158", "iin_format"} /* 1985-02-30 */,
        {"000229400943", "iin_format"} /* 1900-02-29: no leap year */, {"851312408156", "iin_format"} /* month 13 */,
        {"850332408152", "iin_format"} /* day 32 */,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *code = dala_iin_check(NULL, bad[i][0], strlen(bad[i][0]));
        if (!code || strcmp(code, bad[i][1]))
            test_fail(__FILE__, __LINE__, "\"%s\": %s, expected %s", bad[i][0], code ? code : "valid", bad[i][1]);
    }
}

static void test_iin_never_issued_number_is_refused_whatever_its_check_digit(void)
{
    /* 85031240181: both weighted sums are 10 mod 11 (found with python3). */
    char iin[13] = "85031240181?";
    CHECK_EQ_INT(iin_digit(iin), -1);
    for (char d = '0'; d <= '9'; d++) {
        iin[11] = d;
        const char *code = dala_iin_check(NULL, iin, 12);
        if (!code || strcmp(code, "iin_check")) test_fail(__FILE__, __LINE__, "%s: %s", iin, code ? code : "valid");
    }
}

static void test_date_is_valid_follows_the_calendar(void)
{
    static const char *const valid[] = {"2024-02-29", "2000-02-29", "2026-12-31", "0001-01-01", "1985-03-12"};
    static const char *const bad[] = {"2023-02-29", "1900-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00",
                                      "0000-01-01", "2026-4-01", "2026/04/01", "2026-04-1a", "26-04-2026", "2026-04-011"};
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        if (!dala_date_is_valid(valid[i], strlen(valid[i]))) test_fail(__FILE__, __LINE__, "%s refused", valid[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (dala_date_is_valid(bad[i], strlen(bad[i]))) test_fail(__FILE__, __LINE__, "%s accepted", bad[i]);
}

const dala_test iin_tests[] = {
    {"iin_examples_from_the_published_algorithm_are_valid", test_iin_examples_from_the_published_algorithm_are_valid},
    {"iin_check_digit_agrees_with_an_independent_implementation", test_iin_check_digit_agrees_with_an_independent_implementation},
    {"iin_refuses_malformed_numbers", test_iin_refuses_malformed_numbers},
    {"iin_never_issued_number_is_refused_whatever_its_check_digit", test_iin_never_issued_number_is_refused_whatever_its_check_digit},
    {"date_is_valid_follows_the_calendar", test_date_is_valid_follows_the_calendar},
    {NULL, NULL},
};
