/* markup.c - escaped text and formatted markup for XML, SVG and HTML
 * (markup.h). */
#include "markup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int markup_text_n(dala_buf *out, const char *text, size_t len)
{
    int rc = DALA_OK;
    size_t start = 0;
    for (size_t i = 0; i < len && !rc; i++) {
        char c = text[i];
        const char *entity = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;"
                           : c == '"' ? "&quot;" : c == '\'' ? "&#39;" : NULL;
        if (!entity && (unsigned char)c < 0x20 && c != '\t' && c != '\n' && c != '\r') entity = "?";
        if (!entity) continue;
        rc = dala_buf_append(out, text + start, i - start); /* the plain run before it */
        if (!rc) rc = dala_buf_append(out, entity, strlen(entity));
        start = i + 1;
    }
    if (!rc) rc = dala_buf_append(out, text + start, len - start);
    return rc;
}

int markup_text(dala_buf *out, const char *text)
{
    return markup_text_n(out, text, strlen(text));
}

int markup_format(dala_buf *out, const char *fmt, ...)
{
    char small[320];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(small, sizeof small, fmt, args);
    va_end(args);
    if (n < 0) return dala_error_set(DALA_EINVAL, "markup: bad format");
    if ((size_t)n < sizeof small) return dala_buf_append(out, small, (size_t)n);
    char *large = malloc((size_t)n + 1);
    if (!large) return dala_error_set(DALA_ENOMEM, "markup: out of memory");
    va_start(args, fmt);
    vsnprintf(large, (size_t)n + 1, fmt, args);
    va_end(args);
    int rc = dala_buf_append(out, large, (size_t)n);
    free(large);
    return rc;
}
