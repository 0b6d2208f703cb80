/* qr.c - a QR code encoder written from ISO/IEC 18004, for the enrolment
 * codes and short URLs the supervisors' pages show: byte-mode data
 * codewords, Reed-Solomon error correction per block and the interleaving
 * of blocks, the function patterns, the zigzag placement of the bits, the
 * eight masks scored by the penalty rules, the format and version
 * information, and an SVG drawing. Level M and versions 1 to 10 only. */
#include "qr.h"
#include "markup.h"
#include "sync_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DATA_CODEWORDS 216 /* version 10 at level M */
#define MAX_CODEWORDS 346      /* version 10, data and error correction */
#define MAX_BLOCKS 5
#define MAX_EC_PER_BLOCK 30    /* the most any version and level uses */
#define QUIET_ZONE 4           /* light modules around the symbol */

/* Level M's block structure and the alignment pattern centres of versions
 * 1 to 10 (the spec's error correction table and its annex E). The data
 * codewords are split into `blocks1` blocks of `data1` codewords followed
 * by `blocks2` blocks of `data1 + 1`; each block gets `ec_per_block` error
 * correction codewords. */
typedef struct version_spec {
    uint8_t ec_per_block;
    uint8_t blocks1, data1, blocks2;
    uint8_t align[3]; /* centres in both directions; 0 where unused */
} version_spec;

static const version_spec versions[QR_MAX_VERSION + 1] = {
    /* ec, blocks1, data1, blocks2, alignment centres */
    [1] = {10, 1, 16, 0, {0, 0, 0}},  [2] = {16, 1, 28, 0, {6, 18, 0}},  [3] = {26, 1, 44, 0, {6, 22, 0}},
    [4] = {18, 2, 32, 0, {6, 26, 0}}, [5] = {24, 2, 43, 0, {6, 30, 0}},  [6] = {16, 4, 27, 0, {6, 34, 0}},
    [7] = {18, 4, 31, 0, {6, 22, 38}}, [8] = {22, 2, 38, 2, {6, 24, 42}}, [9] = {22, 3, 36, 2, {6, 26, 46}},
    [10] = {26, 4, 43, 1, {6, 28, 50}},
};

/* A symbol being built: its modules and which of them are function
 * patterns (finders, timing, alignment, format, version), which the data
 * and the mask leave alone. */
typedef struct symbol {
    qr_code code;
    uint8_t is_function[QR_MAX_SIZE * QR_MAX_SIZE];
} symbol;

/* --- data codewords ------------------------------------------------------ */

static int data_codewords(int version)
{
    const version_spec *v = &versions[version];
    return v->blocks1 * v->data1 + v->blocks2 * (v->data1 + 1);
}

/* The character count indicator of byte mode: 8 bits up to version 9. */
static int count_bits(int version)
{
    return version < 10 ? 8 : 16;
}

/* Bytes a version holds: its data bits less mode and count, in whole bytes. */
static size_t byte_capacity(int version)
{
    return (size_t)(data_codewords(version) * 8 - 4 - count_bits(version)) / 8;
}

/* Appends the low `count` bits of `value`, most significant first, to the
 * `*bit_len` bits in `bytes` (zeroed beforehand). */
static void put_bits(uint8_t *bytes, int *bit_len, unsigned value, int count)
{
    for (int i = count - 1; i >= 0; i--, (*bit_len)++)
        if (value >> i & 1) bytes[*bit_len >> 3] |= (uint8_t)(0x80 >> (*bit_len & 7));
}

/* Mode 0100 (byte), the count, the bytes, a terminator of up to four 0
 * bits, 0 bits to the end of the byte, then the pad codewords 11101100
 * and 00010001 in turn up to the version's capacity. */
void qr_data_codewords(uint8_t *codewords, int version, const uint8_t *data, size_t len)
{
    assert(version >= 1 && version <= QR_MAX_VERSION && len <= byte_capacity(version));
    int capacity = data_codewords(version), bit_len = 0;
    memset(codewords, 0, (size_t)capacity);
    put_bits(codewords, &bit_len, 4, 4);
    put_bits(codewords, &bit_len, (unsigned)len, count_bits(version));
    for (size_t i = 0; i < len; i++) put_bits(codewords, &bit_len, data[i], 8);
    int terminator = capacity * 8 - bit_len;
    put_bits(codewords, &bit_len, 0, terminator < 4 ? terminator : 4);
    for (int i = (bit_len + 7) / 8, is_second = 0; i < capacity; i++, is_second = !is_second)
        codewords[i] = is_second ? 0x11 : 0xEC;
}

/* --- Reed-Solomon -------------------------------------------------------- */

/* Multiplication in GF(256) modulo x^8 + x^4 + x^3 + x^2 + 1 (0x11D), by
 * shifting and adding: no tables, so nothing shared between threads. */
static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    unsigned product = 0, x = a;
    for (; b; b >>= 1) {
        if (b & 1) product ^= x;
        x <<= 1;
        if (x & 0x100) x ^= 0x11D;
    }
    return (uint8_t)product;
}

/* The generator polynomial (x - 2^0)(x - 2^1)...(x - 2^(degree-1));
 * gen[k] is the coefficient of x^k, and gen[degree] is 1. */
static void rs_generator(uint8_t *gen, int degree)
{
    memset(gen, 0, (size_t)degree + 1);
    gen[0] = 1;
    uint8_t root = 1;
    for (int i = 0; i < degree; i++) {
        for (int k = i + 1; k > 0; k--) gen[k] = gen[k - 1] ^ gf_mul(gen[k], root);
        gen[0] = gf_mul(gen[0], root);
        root = gf_mul(root, 2);
    }
}

/* The remainder of data(x) * x^ec_len divided by the generator, by long
 * division; ec[0] is the coefficient of the highest power. */
void qr_rs_remainder(uint8_t *ec, const uint8_t *data, size_t data_len, int ec_len)
{
    assert(ec_len > 0 && ec_len <= MAX_EC_PER_BLOCK);
    uint8_t gen[MAX_EC_PER_BLOCK + 1];
    rs_generator(gen, ec_len);
    memset(ec, 0, (size_t)ec_len);
    for (size_t i = 0; i < data_len; i++) {
        uint8_t factor = data[i] ^ ec[0];
        memmove(ec, ec + 1, (size_t)ec_len - 1);
        ec[ec_len - 1] = 0;
        for (int k = 0; k < ec_len; k++) ec[k] ^= gf_mul(gen[ec_len - 1 - k], factor);
    }
}

/* Splits the data codewords into the version's blocks, computes each
 * block's error correction, and interleaves them in the spec's order: the
 * first data codeword of every block, then the second, and so on (the
 * shorter blocks run out first), then the error correction the same way.
 * Returns the number of codewords written to `out`. */
static int interleave_blocks(uint8_t *out, const uint8_t *data, int version)
{
    const version_spec *v = &versions[version];
    int blocks = v->blocks1 + v->blocks2, ec_len = v->ec_per_block;
    uint8_t ec[MAX_BLOCKS][MAX_EC_PER_BLOCK];
    int start[MAX_BLOCKS], length[MAX_BLOCKS], n = 0;
    for (int b = 0, offset = 0; b < blocks; b++) {
        start[b] = offset;
        length[b] = v->data1 + (b >= v->blocks1);
        qr_rs_remainder(ec[b], data + offset, (size_t)length[b], ec_len);
        offset += length[b];
    }
    for (int i = 0; i <= v->data1; i++)
        for (int b = 0; b < blocks; b++)
            if (i < length[b]) out[n++] = data[start[b] + i];
    for (int i = 0; i < ec_len; i++)
        for (int b = 0; b < blocks; b++) out[n++] = ec[b][i];
    return n;
}

/* --- format and version information ------------------------------------- */

/* `data` followed by the remainder of data(x) * x^degree divided by the
 * BCH generator polynomial `generator` (of that degree). */
static unsigned long bch_code(unsigned long data, int data_bits, unsigned long generator, int degree)
{
    unsigned long value = data << degree;
    for (int bit = data_bits + degree - 1; bit >= degree; bit--)
        if (value >> bit & 1) value ^= generator << (bit - degree);
    return data << degree | value;
}

unsigned qr_format_bits(int mask)
{
    /* Level M's indicator is 00, so the five data bits are the mask's. The
     * XOR keeps the bits from ever being all zero. */
    return (unsigned)(bch_code((unsigned long)(mask & 7), 5, 0x537, 10) ^ 0x5412);
}

unsigned long qr_version_bits(int version)
{
    return bch_code((unsigned long)version, 6, 0x1F25, 12);
}

static void set_function(symbol *s, int x, int y, int dark)
{
    s->code.modules[y * s->code.size + x] = (uint8_t)dark;
    s->is_function[y * s->code.size + x] = 1;
}

/* Both copies of the format information, bit 0 the least significant:
 * around the top-left finder (bits 0-7 down column 8, skipping the timing
 * row; bits 8-14 leftwards along row 8), and split between the top-right
 * (bits 0-7 along row 8 from the right edge) and bottom-left finders
 * (bits 8-14 down column 8 to the bottom edge). Also the dark module. */
static void draw_format(symbol *s, int mask)
{
    unsigned bits = qr_format_bits(mask);
    int size = s->code.size;
    for (int i = 0; i < 15; i++) {
        int dark = bits >> i & 1;
        if (i < 6) set_function(s, 8, i, dark);
        else if (i < 8) set_function(s, 8, i + 1, dark);
        else if (i == 8) set_function(s, 7, 8, dark);
        else set_function(s, 14 - i, 8, dark);
        if (i < 8) set_function(s, size - 1 - i, 8, dark);
        else set_function(s, 8, size - 15 + i, dark);
    }
    set_function(s, 8, size - 8, 1);
}

/* The version information of versions 7 and up, twice: a 6x3 block left
 * of the top-right finder and its transpose above the bottom-left one;
 * bit i sits in row i / 3, column i % 3 of the first. */
static void draw_version(symbol *s)
{
    if (s->code.version < 7) return;
    unsigned long bits = qr_version_bits(s->code.version);
    for (int i = 0; i < 18; i++) {
        int dark = (int)(bits >> i & 1), across = s->code.size - 11 + i % 3, down = i / 3;
        set_function(s, across, down, dark);
        set_function(s, down, across, dark);
    }
}

/* --- function patterns and placement ------------------------------------- */

/* A square of rings centred at (cx, cy), out to `radius`, each ring dark
 * or light by `dark_rings` (bit r for ring r); modules off the symbol are
 * skipped, which clips the finders' separators at the edges. */
static void draw_rings(symbol *s, int cx, int cy, int radius, unsigned dark_rings)
{
    for (int dy = -radius; dy <= radius; dy++)
        for (int dx = -radius; dx <= radius; dx++) {
            int x = cx + dx, y = cy + dy, ring = abs(dx) > abs(dy) ? abs(dx) : abs(dy);
            if (x >= 0 && y >= 0 && x < s->code.size && y < s->code.size)
                set_function(s, x, y, dark_rings >> ring & 1);
        }
}

/* Timing patterns, the three finders with their separators, the alignment
 * patterns (except where they would overlap a finder), the version
 * information, and a reservation of the format information's modules. */
static void draw_function_patterns(symbol *s)
{
    int size = s->code.size;
    for (int i = 0; i < size; i++) {
        set_function(s, 6, i, i % 2 == 0);
        set_function(s, i, 6, i % 2 == 0);
    }
    /* Finder: 3x3 dark, light ring, dark ring (7x7), light separator. */
    draw_rings(s, 3, 3, 4, 0x0B);
    draw_rings(s, size - 4, 3, 4, 0x0B);
    draw_rings(s, 3, size - 4, 4, 0x0B);
    const uint8_t *align = versions[s->code.version].align;
    int count = align[0] ? (align[2] ? 3 : 2) : 0;
    for (int i = 0; i < count; i++)
        for (int j = 0; j < count; j++) {
            int is_by_finder = (i == 0 && j == 0) || (i == 0 && j == count - 1) || (i == count - 1 && j == 0);
            if (!is_by_finder) draw_rings(s, align[i], align[j], 2, 0x05);
        }
    draw_version(s);
    draw_format(s, 0);
}

/* Places the codewords' bits, most significant first, in the spec's
 * zigzag: columns in pairs from the right edge, right module before left,
 * upwards then downwards in turn, skipping function modules and column 6
 * (the vertical timing pattern). Modules left over (the remainder bits of
 * versions 2 to 6) stay light. */
static void place_codewords(symbol *s, const uint8_t *codewords, int count)
{
    int size = s->code.size, bit = 0, is_upward = 1;
    for (int right = size - 1; right > 0; right -= 2, is_upward = !is_upward) {
        if (right == 6) right = 5;
        for (int step = 0; step < size; step++) {
            int y = is_upward ? size - 1 - step : step;
            for (int x = right; x >= right - 1; x--) {
                if (s->is_function[y * size + x]) continue;
                int dark = bit < count * 8 && (codewords[bit >> 3] >> (7 - (bit & 7)) & 1);
                s->code.modules[y * size + x] = (uint8_t)dark;
                bit++;
            }
        }
    }
    assert(bit >= count * 8 && bit < count * 8 + 8);
}

/* --- masking and penalty ------------------------------------------------- */

/* Whether mask pattern `mask` flips the module in row i, column j. */
static int mask_flips(int mask, int i, int j)
{
    switch (mask) {
    case 0: return (i + j) % 2 == 0;
    case 1: return i % 2 == 0;
    case 2: return j % 3 == 0;
    case 3: return (i + j) % 3 == 0;
    case 4: return (i / 2 + j / 3) % 2 == 0;
    case 5: return i * j % 2 + i * j % 3 == 0;
    case 6: return (i * j % 2 + i * j % 3) % 2 == 0;
    default: return ((i + j) % 2 + i * j % 3) % 2 == 0;
    }
}

/* XORs the mask onto every module that is not a function pattern; doing it
 * twice undoes it. */
static void apply_mask(symbol *s, int mask)
{
    int size = s->code.size;
    for (int i = 0; i < size * size; i++)
        if (!s->is_function[i] && mask_flips(mask, i / size, i % size)) s->code.modules[i] ^= 1;
}

/* Module `k` of row `line`, or of column `line` when `is_column`. */
static int module_on_line(const qr_code *c, int line, int k, int is_column)
{
    return is_column ? c->modules[k * c->size + line] : c->modules[line * c->size + k];
}

/* Whether modules from..to-1 of a line are light; off the symbol counts. */
static int is_light_span(const qr_code *c, int line, int from, int to, int is_column)
{
    for (int k = from; k < to; k++)
        if (k >= 0 && k < c->size && module_on_line(c, line, k, is_column)) return 0;
    return 1;
}

/* Rules 1 and 3 along one row or column: 3 points for a run of five
 * modules of one colour and 1 more for each beyond; 40 for each dark,
 * light, dark x3, light, dark pattern with four light modules before or
 * after it. */
static long penalty_line(const qr_code *c, int line, int is_column)
{
    static const uint8_t finder_like[7] = {1, 0, 1, 1, 1, 0, 1};
    long score = 0;
    for (int k = 0, run = 0; k < c->size; k++) {
        int is_same = k > 0 && module_on_line(c, line, k, is_column) == module_on_line(c, line, k - 1, is_column);
        run = is_same ? run + 1 : 1;
        if (run == 5) score += 3;
        else if (run > 5) score += 1;
    }
    for (int k = 0; k + 7 <= c->size; k++) {
        int matches = 1;
        for (int i = 0; i < 7 && matches; i++) matches = module_on_line(c, line, k + i, is_column) == finder_like[i];
        if (matches && (is_light_span(c, line, k - 4, k, is_column) || is_light_span(c, line, k + 7, k + 11, is_column)))
            score += 40;
    }
    return score;
}

long qr_penalty(const qr_code *c)
{
    int size = c->size, dark = 0;
    long score = 0;
    for (int line = 0; line < size; line++) score += penalty_line(c, line, 0) + penalty_line(c, line, 1);
    /* Rule 2: 3 points for each 2x2 block of one colour (they overlap). */
    for (int y = 0; y + 1 < size; y++)
        for (int x = 0; x + 1 < size; x++) {
            const uint8_t *m = &c->modules[y * size + x];
            if (m[0] == m[1] && m[0] == m[size] && m[0] == m[size + 1]) score += 3;
        }
    /* Rule 4: 10 points for each full 5% the dark share is away from 50%. */
    for (int i = 0; i < size * size; i++) dark += c->modules[i];
    int total = size * size, off_by = 20 * dark - 10 * total;
    score += 10L * ((off_by < 0 ? -off_by : off_by) / total);
    return score;
}

/* The mask of lowest penalty for `s` (data placed, unmasked); the first
 * wins a tie. `s` is left as it was apart from the format bits. */
static int choose_mask(symbol *s)
{
    int best_mask = 0;
    long best_score = -1;
    for (int mask = 0; mask < 8; mask++) {
        apply_mask(s, mask);
        draw_format(s, mask);
        long score = qr_penalty(&s->code);
        if (best_score < 0 || score < best_score) {
            best_score = score;
            best_mask = mask;
        }
        apply_mask(s, mask);
    }
    return best_mask;
}

/* --- encoding ------------------------------------------------------------- */

/* Builds the symbol of `data` with `mask`, or the best mask if it is -1. */
static int encode(qr_code *out, const uint8_t *data, size_t len, int mask)
{
    if (!out || (!data && len)) return dala_error_set(DALA_EINVAL, "qr: no symbol to write or no data to encode");
    int version = 1;
    while (version <= QR_MAX_VERSION && byte_capacity(version) < len) version++;
    if (version > QR_MAX_VERSION)
        return dala_error_set(DALA_ELIMIT, "qr: %zu bytes do not fit a QR code of version %d at level M (at most %d bytes)",
                              len, QR_MAX_VERSION, QR_MAX_BYTES);
    symbol s;
    memset(&s, 0, sizeof s);
    s.code.version = version;
    s.code.size = 4 * version + 17;
    uint8_t data_cw[MAX_DATA_CODEWORDS], all_cw[MAX_CODEWORDS];
    qr_data_codewords(data_cw, version, data, len);
    int count = interleave_blocks(all_cw, data_cw, version);
    draw_function_patterns(&s);
    place_codewords(&s, all_cw, count);
    if (mask < 0) mask = choose_mask(&s);
    apply_mask(&s, mask);
    draw_format(&s, mask);
    s.code.mask = mask;
    *out = s.code;
    return DALA_OK;
}

int qr_encode(qr_code *out, const uint8_t *data, size_t len)
{
    return encode(out, data, len, -1);
}

int qr_encode_mask(qr_code *out, const uint8_t *data, size_t len, int mask)
{
    if (mask < 0 || mask > 7) return dala_error_set(DALA_EINVAL, "qr: mask pattern %d is not 0 to 7", mask);
    return encode(out, data, len, mask);
}

/* --- SVG ------------------------------------------------------------------ */

/* One subpath per horizontal run of dark modules, offset by the quiet zone. */
static int append_dark_runs(dala_buf *out, const qr_code *code)
{
    int rc = DALA_OK;
    for (int y = 0; y < code->size && !rc; y++)
        for (int x = 0; x < code->size && !rc;) {
            int run = 0;
            while (x + run < code->size && code->modules[y * code->size + x + run]) run++;
            if (run) rc = markup_format(out, "M%d %dh%dv1h-%dz", x + QUIET_ZONE, y + QUIET_ZONE, run, run);
            x += run ? run : 1;
        }
    return rc;
}

int qr_svg(dala_buf *out, const char *text)
{
    if (!out || !text) return dala_error_set(DALA_EINVAL, "qr: no buffer or no text for the SVG");
    qr_code code;
    int rc = qr_encode(&code, (const uint8_t *)text, strlen(text));
    if (rc) return rc;
    size_t start = out->len;
    int side = code.size + 2 * QUIET_ZONE;
    rc = markup_format(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\"><title>",
                       side, side);
    if (!rc) rc = markup_text(out, text);
    if (!rc)
        rc = markup_format(out, "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                                "<path fill=\"#000\" shape-rendering=\"crispEdges\" d=\"", side, side);
    if (!rc) rc = append_dark_runs(out, &code);
    if (!rc) rc = markup_format(out, "\"/></svg>");
    if (rc) out->len = start;
    return rc;
}
