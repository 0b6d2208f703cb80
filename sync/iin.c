/* iin.c - the individual identification number of Kazakhstan, and
 * calendar dates. An IIN is YYMMDD (date of birth), a century and sex digit,
 * four register digits and a check digit (docs/domain.md, "The IIN"). */
#include "sync_int.h"

static int is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

static int is_real_date(int year, int month, int day)
{
    return month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month);
}

static int digits(const char *text, size_t len)
{
    int value = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') return -1;
        value = value * 10 + text[i] - '0';
    }
    return value;
}

int dala_date_is_valid(const char *text, size_t len)
{
    if (len != 10 || text[4] != '-' || text[7] != '-') return 0;
    int year = digits(text, 4), month = digits(text + 5, 2), day = digits(text + 8, 2);
    return year >= 1 && month >= 0 && day >= 0 && is_real_date(year, month, day);
}

/* The check digit of the first eleven digits, or 10 if none exists. */
static int check_digit(const char *d)
{
    static const int second_weights[11] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
    int sum = 0;
    for (int i = 0; i < 11; i++) sum += (d[i] - '0') * (i + 1);
    if (sum % 11 != 10) return sum % 11;
    sum = 0;
    for (int i = 0; i < 11; i++) sum += (d[i] - '0') * second_weights[i];
    return sum % 11;
}

const char *dala_iin_check(dala_iin *out, const char *text, size_t len)
{
    if (len != 12 || digits(text, 6) < 0 || digits(text + 6, 6) < 0) return "iin_format";
    int century_sex = text[6] - '0';
    if (century_sex < 1 || century_sex > 6) return "iin_format";
    int year = 1800 + 100 * ((century_sex - 1) / 2) + digits(text, 2);
    int month = digits(text + 2, 2), day = digits(text + 4, 2);
    if (!is_real_date(year, month, day)) return "iin_format";
    int check = check_digit(text);
    if (check == 10 || check != text[11] - '0') return "iin_check";
    if (out) *out = (dala_iin){year, month, day, century_sex % 2 ? 'm' : 'f'};
    return NULL;
}
