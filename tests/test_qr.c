/* test_qr.c - the QR encoder of server/qr.c: its Reed-Solomon, format and
 * version bits against values printed in the specification, the penalty
 * rules on patterns scored by hand, the choice of version and mask, and
 * real round trips: symbols written as PGM images and read back by
 * zbarimg (Debian package zbar-tools), which must give the text exactly.
 * Then the SVG: self-contained, the right viewBox, exactly the symbol. */
#include "qr.h"
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static const char enrolment_code[] = "K7QX-M2PD-9WTR";
/* 100 bytes, 18 of them Cyrillic letters in two-byte UTF-8. */
static const char cyrillic_url[] = "https://dala.example.kz/enrol?unit=Алматы-Бостандық&code=K7QX-M2PD-9WTR&by=Серік";

/* `len` bytes of URL-like text, different for each `seed`, in `out`. */
static void make_text(char *out, size_t len, int seed)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/?=&";
    for (size_t i = 0; i < len; i++) out[i] = alphabet[(i * 7 + (size_t)seed * 13 + i / 5) % (sizeof alphabet - 1)];
    out[len] = '\0';
}

/* The bits of `value`, most significant of `count` first, as '0' and '1'. */
static void to_binary(char *out, unsigned long value, int count)
{
    for (int i = 0; i < count; i++) out[i] = (char)('0' + (value >> (count - 1 - i) & 1));
    out[count] = '\0';
}

/* --- known answers from the specification ---------------------------------- */

static void test_qr_data_codewords_hold_mode_count_data_terminator_and_pads(void)
{
    /* "dala" in version 1: 0100, count 00000100, the 4 bytes, terminator
     * 0000, then the pads 11101100 and 00010001 in turn to 16 codewords. */
    static const uint8_t want[16] = {0x40, 0x46, 0x46, 0x16, 0xC6, 0x10, 0xEC, 0x11,
                                     0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11};
    uint8_t got[216];
    qr_data_codewords(got, 1, (const uint8_t *)"dala", 4);
    CHECK_EQ_MEM(got, want, sizeof want);
    /* The enrolment code fills version 1 exactly: no pads, the terminator
     * ends the last codeword ('R' is 0x52: its low half, then 0000). */
    qr_data_codewords(got, 1, (const uint8_t *)enrolment_code, 14);
    CHECK_EQ_INT(got[0], 0x40);
    CHECK_EQ_INT(got[1], 0xE4);
    CHECK_EQ_INT(got[15], 0x20);
    /* Version 10 counts in 16 bits: 200 is 0000000011001000. */
    static uint8_t data[200];
    memset(data, 0xFF, sizeof data);
    qr_data_codewords(got, 10, data, sizeof data);
    CHECK_EQ_INT(got[0], 0x40);
    CHECK_EQ_INT(got[1], 0x0C);
    CHECK_EQ_INT(got[2], 0x8F);
    CHECK_EQ_INT(got[202], 0xF0); /* the last data half, then the terminator */
    CHECK_EQ_INT(got[203], 0xEC);
    CHECK_EQ_INT(got[215], 0xEC); /* 216 data codewords: 13 pads */
}

static void test_qr_rs_gives_the_error_correction_of_the_spec_annex_example(void)
{
    /* ISO/IEC 18004 annex I: "01234567" as version 1-M, 16 data codewords. */
    static const uint8_t data[16] = {0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11,
                                     0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11};
    static const uint8_t want[10] = {0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55};
    uint8_t ec[10];
    qr_rs_remainder(ec, data, sizeof data, 10);
    CHECK_EQ_MEM(ec, want, sizeof want);
}

static void test_qr_rs_gives_the_published_18_codewords_of_a_5q_block(void)
{
    /* The first block of the widely reproduced 5-Q worked example: 18 error
     * correction codewords, as versions 4-M and 7-M use. */
    static const uint8_t data[15] = {67, 85, 70, 134, 87, 38, 85, 194, 119, 50, 6, 18, 6, 103, 38};
    static const uint8_t want[18] = {213, 199, 11, 45, 115, 247, 241, 223, 229,
                                     248, 154, 117, 154, 111, 86, 161, 111, 39};
    uint8_t ec[18];
    qr_rs_remainder(ec, data, sizeof data, 18);
    CHECK_EQ_MEM(ec, want, sizeof want);
}

static void test_qr_format_bits_match_the_spec_table_for_level_m(void)
{
    static const char *const want[8] = {
        "101010000010010", "101000100100101", "101111001111100", "101101101001011",
        "100010111111001", "100000011001110", "100111110010111", "100101010100000",
    };
    char got[16];
    for (int mask = 0; mask < 8; mask++) {
        to_binary(got, qr_format_bits(mask), 15);
        CHECK_EQ_STR(got, want[mask]);
    }
}

static void test_qr_version_bits_match_the_spec_table(void)
{
    static const char *const want[4] = {
        "000111110010010100", "001000010110111100", "001001101010011001", "001010010011010011",
    };
    char got[19];
    for (int version = 7; version <= 10; version++) {
        to_binary(got, qr_version_bits(version), 18);
        CHECK_EQ_STR(got, want[version - 7]);
    }
}

/* --- penalty, version and mask ------------------------------------------------ */

static void test_qr_penalty_scores_hand_made_patterns_by_the_four_rules(void)
{
    static qr_code code;
    memset(&code, 0, sizeof code);
    code.size = 21;
    /* All light: 42 lines each one run of 21 (3 + 16), 400 2x2 blocks (3
     * each), no finder-like pattern, 0% dark (10 steps of 5% from half). */
    CHECK_EQ_INT(qr_penalty(&code), 42 * 19 + 400 * 3 + 0 + 100);
    /* A checkerboard with 221 of 441 dark scores nothing at all. */
    for (int i = 0; i < 21 * 21; i++) code.modules[i] = (i / 21 + i % 21) % 2 == 0;
    CHECK_EQ_INT(qr_penalty(&code), 0);
    /* Light, with 1011101 in row 10 at columns 7-13: row 10 has two runs of
     * 7 light (5 each), columns 7, 9, 10, 11 and 13 two runs of 10 (8 each),
     * the other 36 lines 19; 16 of the 400 blocks are broken; one
     * finder-like pattern; 5 dark of 441 is 9 whole steps from half. */
    memset(code.modules, 0, sizeof code.modules);
    static const int dark_columns[5] = {7, 9, 10, 11, 13};
    for (int i = 0; i < 5; i++) code.modules[10 * 21 + dark_columns[i]] = 1;
    CHECK_EQ_INT(qr_penalty(&code), (10 + 5 * 16 + 36 * 19) + (400 - 16) * 3 + 40 + 90);
    /* 1011101 against the left edge with a dark module 2 after it (light
     * only before, off the symbol: the quiet zone), and its mirror image
     * against the right edge in row 12 (light only after): 40 each. Rows
     * 10 and 12 have runs of 1, 1, 3, 1, 1, 1, 12 (10 each); 12 columns
     * have one dark module (16 each); 18 blocks broken in each pair of
     * rows; 12 dark of 441 is 9 whole steps from half. */
    memset(code.modules, 0, sizeof code.modules);
    static const int pattern_columns[6] = {0, 2, 3, 4, 6, 8};
    for (int i = 0; i < 6; i++) {
        code.modules[10 * 21 + pattern_columns[i]] = 1;
        code.modules[12 * 21 + 20 - pattern_columns[i]] = 1;
    }
    CHECK_EQ_INT(qr_penalty(&code), (2 * 10 + 12 * 16 + 28 * 19) + (400 - 36) * 3 + 2 * 40 + 90);
}

static void test_qr_encode_picks_the_smallest_version_that_holds_the_data(void)
{
    /* The spec's byte capacities of versions 1 to 10 at level M. */
    static const int capacity[10] = {14, 26, 42, 62, 84, 106, 122, 152, 180, 213};
    static char text[QR_MAX_BYTES + 1];
    static qr_code code;
    for (int version = 1; version <= 10; version++) {
        size_t len = (size_t)capacity[version - 1];
        make_text(text, version < 10 ? len + 1 : len, version);
        CHECK_OK(qr_encode(&code, (const uint8_t *)text, len));
        CHECK_EQ_INT(code.version, version);
        CHECK_EQ_INT(code.size, 4 * version + 17);
        if (version < 10) { /* one byte more needs the next version */
            CHECK_OK(qr_encode(&code, (const uint8_t *)text, len + 1));
            CHECK_EQ_INT(code.version, version + 1);
        }
    }
    CHECK_OK(qr_encode(&code, NULL, 0));
    CHECK_EQ_INT(code.version, 1);
}

static void test_qr_encode_picks_the_mask_of_lowest_penalty(void)
{
    static char text[QR_MAX_BYTES + 1];
    static qr_code best, forced;
    static const size_t lengths[] = {14, 20, 70, 100, 110, 200};
    for (size_t t = 0; t < COUNT(lengths); t++) {
        make_text(text, lengths[t], (int)t);
        CHECK_OK(qr_encode(&best, (const uint8_t *)text, lengths[t]));
        long lowest = -1;
        for (int mask = 0; mask < 8; mask++) {
            CHECK_OK(qr_encode_mask(&forced, (const uint8_t *)text, lengths[t], mask));
            long penalty = qr_penalty(&forced);
            if (lowest < 0 || penalty < lowest) lowest = penalty;
            if (mask == best.mask) CHECK_EQ_MEM(forced.modules, best.modules, sizeof best.modules);
        }
        CHECK_EQ_INT(qr_penalty(&best), lowest);
    }
}

static void test_qr_encode_refuses_more_than_213_bytes_with_elimit(void)
{
    static char text[QR_MAX_BYTES + 2];
    static qr_code code;
    make_text(text, QR_MAX_BYTES + 1, 3);
    CHECK_EQ_INT(qr_encode(&code, (const uint8_t *)text, QR_MAX_BYTES + 1), DALA_ELIMIT);
    CHECK_CONTAINS(dala_errmsg(), "214 bytes do not fit");
    CHECK_OK(qr_encode(&code, (const uint8_t *)text, QR_MAX_BYTES));
}

static void test_qr_encode_refuses_bad_arguments(void)
{
    static qr_code code;
    CHECK_EQ_INT(qr_encode(NULL, (const uint8_t *)"a", 1), DALA_EINVAL);
    CHECK_EQ_INT(qr_encode(&code, NULL, 1), DALA_EINVAL);
    CHECK_EQ_INT(qr_encode_mask(&code, (const uint8_t *)"a", 1, 8), DALA_EINVAL);
    CHECK_EQ_INT(qr_encode_mask(&code, (const uint8_t *)"a", 1, -1), DALA_EINVAL);
}

/* Reads the 15 format bits of one copy back out of a symbol, in the order
 * of the spec's figure (bit 14 first), independently of qr.c's drawing. */
static unsigned read_format_copy(const qr_code *c, int copy)
{
    static const int first[15][2] = {{0, 8}, {1, 8}, {2, 8}, {3, 8}, {4, 8}, {5, 8}, {7, 8}, {8, 8},
                                     {8, 7}, {8, 5}, {8, 4}, {8, 3}, {8, 2}, {8, 1}, {8, 0}};
    unsigned bits = 0;
    for (int i = 0; i < 15; i++) {
        int x = copy == 0 ? first[i][0] : i < 7 ? 8 : c->size - 15 + i;
        int y = copy == 0 ? first[i][1] : i < 7 ? c->size - 1 - i : 8;
        bits = bits << 1 | c->modules[y * c->size + x];
    }
    return bits;
}

static void test_qr_both_format_copies_and_the_dark_module_are_in_place(void)
{
    static qr_code code;
    for (int mask = 0; mask < 8; mask++) {
        CHECK_OK(qr_encode_mask(&code, (const uint8_t *)cyrillic_url, strlen(cyrillic_url), mask));
        CHECK_EQ_INT(read_format_copy(&code, 0), qr_format_bits(mask));
        CHECK_EQ_INT(read_format_copy(&code, 1), qr_format_bits(mask));
        CHECK_EQ_INT(code.modules[(code.size - 8) * code.size + 8], 1);
    }
}

/* The 18 version bits of one copy, bit 17 first, read in the order of the
 * spec's figure: the block beside the top-right finder from its bottom
 * right, or the transposed block above the bottom-left finder. */
static unsigned long read_version_copy(const qr_code *c, int copy)
{
    unsigned long bits = 0;
    for (int row = 5; row >= 0; row--)
        for (int col = c->size - 9; col >= c->size - 11; col--) {
            int x = copy == 0 ? col : row, y = copy == 0 ? row : col;
            bits = bits << 1 | c->modules[y * c->size + x];
        }
    return bits;
}

static void test_qr_both_version_copies_are_in_place_from_version_7(void)
{
    static char text[QR_MAX_BYTES + 1];
    static qr_code code;
    static const size_t lengths[] = {110, 140, 170, 200};
    for (size_t i = 0; i < COUNT(lengths); i++) {
        make_text(text, lengths[i], (int)i);
        CHECK_OK(qr_encode(&code, (const uint8_t *)text, lengths[i]));
        CHECK_EQ_INT(code.version, 7 + (int)i);
        CHECK_EQ_U64(read_version_copy(&code, 0), qr_version_bits(code.version));
        CHECK_EQ_U64(read_version_copy(&code, 1), qr_version_bits(code.version));
    }
}

/* --- round trips through zbarimg ------------------------------------------------ */

/* Whether zbarimg can be run; a failed check saying what to install if not. */
static int have_zbarimg(void)
{
    if (system("command -v zbarimg >/dev/null 2>&1") == 0) return 1;
    test_fail(__FILE__, __LINE__, "zbarimg not found: install zbar-tools (apt-get install zbar-tools)");
    return 0;
}

/* Writes `code` as a binary PGM image: 4 pixels a module, a quiet zone of 4. */
static int write_pgm(const char *path, const qr_code *code)
{
    enum { SCALE = 4, QUIET = 4 };
    int side = (code->size + 2 * QUIET) * SCALE;
    FILE *file = fopen(path, "wb");
    if (!file) return -1;
    fprintf(file, "P5\n%d %d\n255\n", side, side);
    for (int py = 0; py < side; py++)
        for (int px = 0; px < side; px++) {
            int x = px / SCALE - QUIET, y = py / SCALE - QUIET;
            int dark = x >= 0 && y >= 0 && x < code->size && y < code->size && code->modules[y * code->size + x];
            fputc(dark ? 0 : 255, file);
        }
    return fclose(file);
}

/* Encodes `text` (with `mask`, or the chosen one if -1), writes the image,
 * reads it with zbarimg and checks the text comes back exactly; checks the
 * version too unless `version` is 0. zbarimg's stderr (it may complain
 * about D-Bus in a container) goes to a file, shown only on failure. */
static void check_round_trip(const char *text, int mask, int version)
{
    static qr_code code;
    char image[512], errors[512], command[1100], decoded[512];
    size_t len = strlen(text);
    int rc = mask < 0 ? qr_encode(&code, (const uint8_t *)text, len)
                      : qr_encode_mask(&code, (const uint8_t *)text, len, mask);
    CHECK_OK(rc);
    if (rc) return;
    if (version) CHECK_EQ_INT(code.version, version);
    const char *dir = test_tmpdir();
    snprintf(image, sizeof image, "%s/qr.pgm", dir);
    snprintf(errors, sizeof errors, "%s/zbarimg.err", dir);
    CHECK_EQ_INT(write_pgm(image, &code), 0);
    snprintf(command, sizeof command, "zbarimg --raw -q '%s' 2>'%s'", image, errors);
    FILE *pipe = popen(command, "r");
    CHECK(pipe != NULL);
    if (!pipe) return;
    size_t got = fread(decoded, 1, sizeof decoded - 1, pipe);
    int status = pclose(pipe);
    decoded[got] = '\0';
    if (got && decoded[got - 1] == '\n') decoded[got - 1] = '\0';
    if (status != 0 || strcmp(decoded, text) != 0) {
        char *stderr_text = test_read_file(errors);
        test_fail(__FILE__, __LINE__, "zbarimg exited with %d on version %d, mask %d: %s", status,
                  code.version, code.mask, stderr_text ? stderr_text : "");
        free(stderr_text);
    }
    CHECK_EQ_STR(decoded, text);
}

static void test_qr_zbarimg_reads_back_codes_and_urls_of_versions_1_to_10(void)
{
    if (!have_zbarimg()) return;
    static char text[QR_MAX_BYTES + 1];
    CHECK_EQ_INT(strlen(cyrillic_url), 100);
    check_round_trip(enrolment_code, -1, 1);
    check_round_trip(cyrillic_url, -1, 6);
    static const struct { size_t len; int version; } sized[] = {{20, 2}, {70, 5}, {110, 7}, {200, 10}};
    for (size_t i = 0; i < COUNT(sized); i++) {
        make_text(text, sized[i].len, (int)i);
        check_round_trip(text, -1, sized[i].version);
    }
    check_round_trip("", -1, 1);
}

static void test_qr_zbarimg_reads_back_every_mask_pattern(void)
{
    if (!have_zbarimg()) return;
    static char text[QR_MAX_BYTES + 1];
    make_text(text, 150, 9); /* version 8: two block sizes, version bits */
    for (int mask = 0; mask < 8; mask++) {
        check_round_trip(enrolment_code, mask, 1);
        check_round_trip(text, mask, 8);
    }
}

/* --- SVG -------------------------------------------------------------------------- */

/* Draws the subpaths "M<x> <y>h<n>v1h-<n>z" of `d` (up to the closing
 * quote) onto `grid`, a side x side square; -1 if one does not parse. */
static int draw_path(uint8_t *grid, int side, const char *d)
{
    int x, y, run, run_back, used;
    while (*d && *d != '"') {
        if (sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &run_back, &used) != 4 || run != run_back) return -1;
        if (x < 0 || y < 0 || y >= side || run < 1 || x + run > side) return -1;
        for (int i = 0; i < run; i++) grid[y * side + x + i] = 1;
        d += used;
    }
    return 0;
}

static void test_qr_svg_draws_exactly_the_symbol_in_a_self_contained_svg(void)
{
    static qr_code code;
    static uint8_t grid[(QR_MAX_SIZE + 8) * (QR_MAX_SIZE + 8)];
    dala_buf svg = DALA_BUF_INIT;
    CHECK_OK(qr_svg(&svg, enrolment_code));
    CHECK_OK(dala_buf_append(&svg, "", 1));
    const char *text = (const char *)svg.data;
    CHECK(strncmp(text, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 29 29\"", 59) == 0);
    CHECK_CONTAINS(text, "<title>K7QX-M2PD-9WTR</title>");
    CHECK_CONTAINS(text, "shape-rendering=\"crispEdges\"");
    CHECK(strstr(text, "<script") == NULL);
    CHECK(strstr(text, "href") == NULL);
    CHECK(strstr(text, "url(") == NULL);
    const char *path = strstr(text, "<path");
    CHECK(path != NULL && strstr(path + 1, "<path") == NULL);
    CHECK(strlen(text) > 6 && strcmp(text + strlen(text) - 6, "</svg>") == 0);
    /* The path, drawn back onto a grid, is the symbol inside a quiet zone. */
    const char *d = path ? strstr(path, " d=\"") : NULL;
    CHECK(d != NULL);
    CHECK_OK(qr_encode(&code, (const uint8_t *)enrolment_code, strlen(enrolment_code)));
    if (d && draw_path(grid, 29, d + 4) == 0) {
        for (int y = 0; y < 29; y++)
            for (int x = 0; x < 29; x++) {
                int inside = x >= 4 && y >= 4 && x < 25 && y < 25;
                int want = inside ? code.modules[(y - 4) * 21 + (x - 4)] : 0;
                if (grid[y * 29 + x] != want) test_fail(__FILE__, __LINE__, "module %d,%d differs", x, y);
            }
    } else {
        test_fail(__FILE__, __LINE__, "the path's d does not parse: %.80s", d ? d : "(none)");
    }
    dala_buf_free(&svg);
}

static void test_qr_svg_escapes_the_title_and_sizes_larger_symbols(void)
{
    dala_buf svg = DALA_BUF_INIT;
    CHECK_OK(qr_svg(&svg, "<script>alert('x')</script> & \"co\"\x01"));
    CHECK_OK(dala_buf_append(&svg, "", 1));
    const char *text = (const char *)svg.data;
    CHECK_CONTAINS(text, "<title>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;?</title>");
    CHECK(strstr(text, "<script") == NULL);
    dala_buf_reset(&svg);
    CHECK_OK(qr_svg(&svg, cyrillic_url)); /* version 6: 41 modules + 8 */
    CHECK_OK(dala_buf_append(&svg, "", 1));
    CHECK_CONTAINS((const char *)svg.data, "viewBox=\"0 0 49 49\"");
    CHECK_CONTAINS((const char *)svg.data, "<title>https://dala.example.kz/enrol?unit=Алматы-Бостандық&amp;code=");
    dala_buf_free(&svg);
}

static void test_qr_svg_leaves_the_buffer_as_it_was_on_failure(void)
{
    static char text[QR_MAX_BYTES + 2];
    dala_buf svg = DALA_BUF_INIT;
    CHECK_OK(dala_buf_append(&svg, "<p>", 3));
    make_text(text, QR_MAX_BYTES + 1, 1);
    CHECK_EQ_INT(qr_svg(&svg, text), DALA_ELIMIT);
    CHECK_EQ_U64(svg.len, 3);
    /* A cap hit halfway through the path rolls back to the caller's bytes. */
    svg.cap_bytes = 300;
    CHECK_EQ_INT(qr_svg(&svg, enrolment_code), DALA_ELIMIT);
    CHECK_EQ_U64(svg.len, 3);
    CHECK_EQ_INT(qr_svg(NULL, "x"), DALA_EINVAL);
    CHECK_EQ_INT(qr_svg(&svg, NULL), DALA_EINVAL);
    dala_buf_free(&svg);
}

const dala_test qr_tests[] = {
    {"qr_data_codewords_hold_mode_count_data_terminator_and_pads", test_qr_data_codewords_hold_mode_count_data_terminator_and_pads},
    {"qr_rs_gives_the_error_correction_of_the_spec_annex_example", test_qr_rs_gives_the_error_correction_of_the_spec_annex_example},
    {"qr_rs_gives_the_published_18_codewords_of_a_5q_block", test_qr_rs_gives_the_published_18_codewords_of_a_5q_block},
    {"qr_format_bits_match_the_spec_table_for_level_m", test_qr_format_bits_match_the_spec_table_for_level_m},
    {"qr_version_bits_match_the_spec_table", test_qr_version_bits_match_the_spec_table},
    {"qr_penalty_scores_hand_made_patterns_by_the_four_rules", test_qr_penalty_scores_hand_made_patterns_by_the_four_rules},
    {"qr_encode_picks_the_smallest_version_that_holds_the_data", test_qr_encode_picks_the_smallest_version_that_holds_the_data},
    {"qr_encode_picks_the_mask_of_lowest_penalty", test_qr_encode_picks_the_mask_of_lowest_penalty},
    {"qr_encode_refuses_more_than_213_bytes_with_elimit", test_qr_encode_refuses_more_than_213_bytes_with_elimit},
    {"qr_encode_refuses_bad_arguments", test_qr_encode_refuses_bad_arguments},
    {"qr_both_format_copies_and_the_dark_module_are_in_place", test_qr_both_format_copies_and_the_dark_module_are_in_place},
    {"qr_both_version_copies_are_in_place_from_version_7", test_qr_both_version_copies_are_in_place_from_version_7},
    {"qr_zbarimg_reads_back_codes_and_urls_of_versions_1_to_10", test_qr_zbarimg_reads_back_codes_and_urls_of_versions_1_to_10},
    {"qr_zbarimg_reads_back_every_mask_pattern", test_qr_zbarimg_reads_back_every_mask_pattern},
    {"qr_svg_draws_exactly_the_symbol_in_a_self_contained_svg", test_qr_svg_draws_exactly_the_symbol_in_a_self_contained_svg},
    {"qr_svg_escapes_the_title_and_sizes_larger_symbols", test_qr_svg_escapes_the_title_and_sizes_larger_symbols},
    {"qr_svg_leaves_the_buffer_as_it_was_on_failure", test_qr_svg_leaves_the_buffer_as_it_was_on_failure},
    {NULL, NULL},
};
