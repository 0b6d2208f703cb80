/* qr.h - QR codes (ISO/IEC 18004, model 2) for the supervisors' web pages:
 * a tablet's enrolment code ("K7QX-M2PD-9WTR") or a short URL becomes a
 * symbol a phone can scan, drawn as inline SVG. Byte mode, error correction
 * level M (about 15% of the symbol may be lost), versions 1 to 10, so at
 * most 213 bytes. Written from the specification; nothing here allocates. */
#ifndef DALA_QR_H
#define DALA_QR_H

#include "dala_sync.h"

#include <stddef.h>
#include <stdint.h>

/* Version 10, the largest made here, is 4 * 10 + 17 = 57 modules square. */
#define QR_MAX_VERSION 10
#define QR_MAX_SIZE 57
/* The most bytes a version 10 symbol at level M holds in byte mode. */
#define QR_MAX_BYTES 213

/* One symbol, without its quiet zone. The module in column x, row y
 * (0-based from the top left) is modules[y * size + x]: 1 dark, 0 light. */
typedef struct qr_code {
    int version; /* 1..QR_MAX_VERSION */
    int size;    /* modules per side: 4 * version + 17 */
    int mask;    /* the mask pattern used, 0..7 */
    uint8_t modules[QR_MAX_SIZE * QR_MAX_SIZE];
} qr_code;

/**
 * Encodes `len` bytes as the smallest QR symbol (versions 1 to 10, level M,
 * byte mode) that holds them, with the mask of lowest penalty (all eight
 * are tried, scored by the specification's four rules).
 *
 * @param[out] out  the symbol; caller-allocated, fully written on DALA_OK.
 * @param data      the bytes (UTF-8 text is passed through as it is);
 *                  may be NULL when `len` is 0.
 * @return DALA_OK, DALA_EINVAL (NULL `out`, or NULL `data` with a length)
 *         or DALA_ELIMIT (more than QR_MAX_BYTES; dala_errmsg() says so).
 */
int qr_encode(qr_code *out, const uint8_t *data, size_t len);

/**
 * Appends a self-contained SVG of `text` as a QR code: viewBox in modules,
 * a 4-module light quiet zone on a white background, one <path> of the dark
 * modules (shape-rendering crispEdges), and a <title> holding the text
 * (XML-escaped) for screen readers. No scripts, no external references, no
 * width or height: the page's CSS sizes it.
 *
 * @param out   the buffer appended to; on failure it is left as it was.
 * @param text  NUL-terminated; its bytes are encoded as by qr_encode().
 * @return DALA_OK, DALA_EINVAL, DALA_ELIMIT (text too long, or the buffer's
 *         cap) or DALA_ENOMEM.
 */
int qr_svg(dala_buf *out, const char *text);

/* --- Exposed for tests/test_qr.c: the steps checked against the spec. --- */

/* qr_encode() with mask pattern `mask` (0..7) forced instead of chosen, so
 * a test can show every mask decodes. DALA_EINVAL for a mask out of range. */
int qr_encode_mask(qr_code *out, const uint8_t *data, size_t len, int mask);

/* The data codewords of `len` bytes in `version` (which must hold them):
 * byte mode, count, data, terminator and pad codewords, before error
 * correction; `codewords` has room for the version's data codewords. */
void qr_data_codewords(uint8_t *codewords, int version, const uint8_t *data, size_t len);

/* The `ec_len` Reed-Solomon error correction codewords of one block of
 * `data_len` data codewords (GF(256) modulo x^8+x^4+x^3+x^2+1, generator
 * with roots 2^0 .. 2^(ec_len-1)). `ec_len` is at most 30. */
void qr_rs_remainder(uint8_t *ec, const uint8_t *data, size_t data_len, int ec_len);

/* The 15 format information bits for level M and `mask`: BCH(15,5), then
 * XOR 101010000010010. Bit 14 is the first (most significant). */
unsigned qr_format_bits(int mask);

/* The 18 version information bits (BCH(18,6)) of `version`, 7 and up. */
unsigned long qr_version_bits(int version);

/* The penalty of a finished symbol by the spec's four rules: runs of five
 * or more, 2x2 blocks, finder-like 1:1:3:1:1 patterns beside four light
 * modules (outside the symbol counts as light: the quiet zone), and the
 * share of dark modules away from half. Lower is better. */
long qr_penalty(const qr_code *code);

#endif /* DALA_QR_H */
