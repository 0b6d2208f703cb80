/* output.c - small text helpers of the `dala` command: building JSON
 * strings for capture, indenting the compact JSON the SDK returns, and
 * local times. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_append(char **out, size_t *len, size_t *alloc, const char *text)
{
    size_t add = strlen(text);
    if (*len + add + 1 > *alloc) {
        size_t grown = (*alloc ? *alloc * 2 : 256);
        while (grown < *len + add + 1) grown *= 2;
        char *bigger = realloc(*out, grown);
        if (!bigger) return -1;
        *out = bigger;
        *alloc = grown;
    }
    memcpy(*out + *len, text, add + 1);
    *len += add;
    return 0;
}

int cli_json_string(char **out, size_t *len, size_t *alloc, const char *text)
{
    char piece[8];
    if (cli_append(out, len, alloc, "\"")) return -1;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\') snprintf(piece, sizeof piece, "\\%c", *p);
        else if (*p == '\n') snprintf(piece, sizeof piece, "\\n");
        else if (*p == '\t') snprintf(piece, sizeof piece, "\\t");
        else if (*p == '\r') snprintf(piece, sizeof piece, "\\r");
        else if (*p < 0x20) snprintf(piece, sizeof piece, "\\u%04x", *p);
        else {
            piece[0] = (char)*p;
            piece[1] = '\0';
        }
        if (cli_append(out, len, alloc, piece)) return -1;
    }
    return cli_append(out, len, alloc, "\"");
}

static void newline(FILE *out, int depth)
{
    fputc('\n', out);
    for (int i = 0; i < depth; i++) fputs("  ", out);
}

void cli_print_json_pretty(FILE *out, const char *json)
{
    int depth = 0, in_string = 0;
    for (const char *p = json; *p; p++) {
        char c = *p;
        if (in_string) {
            fputc(c, out);
            if (c == '\\' && p[1]) fputc(*++p, out);
            else if (c == '"') in_string = 0;
            continue;
        }
        switch (c) {
        case '"':
            in_string = 1;
            fputc(c, out);
            break;
        case '{':
        case '[':
            fputc(c, out);
            if (p[1] == '}' || p[1] == ']') {
                fputc(*++p, out);
                break;
            }
            newline(out, ++depth);
            break;
        case '}':
        case ']':
            newline(out, --depth);
            fputc(c, out);
            break;
        case ',':
            fputc(c, out);
            newline(out, depth);
            break;
        case ':': fputs(": ", out); break;
        default: fputc(c, out); break;
        }
    }
    fputc('\n', out);
}

void cli_format_time(char out[64], uint64_t unix_ms)
{
    time_t seconds = (time_t)(unix_ms / 1000);
    struct tm tm;
    if (!localtime_r(&seconds, &tm) || !strftime(out, 64, "%Y-%m-%d %H:%M:%S %Z", &tm))
        snprintf(out, 64, "%llu ms", (unsigned long long)unix_ms);
}
