/* markup.h - writing XML, SVG and HTML into a dala_buf (markup.c): text
 * escaped as character data or attribute values, and formatted markup.
 * The QR codes, the report notes' charts and their printable page share
 * these, so text a tablet typed is escaped the same way everywhere. */
#ifndef DALA_MARKUP_H
#define DALA_MARKUP_H

#include "sync_int.h"

/* Appends `len` bytes of `text` with the five markup characters as
 * entities (& < > " ') and the control characters XML forbids as '?'
 * (tab, newline and carriage return are kept). */
int markup_text_n(dala_buf *out, const char *text, size_t len);
/* The same for a NUL-terminated `text`. */
int markup_text(dala_buf *out, const char *text);
/* Appends printf-formatted markup (not escaped: for the caller's own
 * tags and numbers). */
int markup_format(dala_buf *out, const char *fmt, ...) DALA_PRINTF(2, 3);

#endif /* DALA_MARKUP_H */
