/* codec_sample.c - the fixed sample batch of codec_sample.h. */
#include "codec_sample.h"

#include <string.h>

#define TEXT(s) {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)(s), sizeof(s) - 1}
#define INT(v) {DALA_VALUE_INT, (v), 0, NULL, 0}
#define REAL(v) {DALA_VALUE_REAL, 0, (v), NULL, 0}
#define NUL {DALA_VALUE_NULL, 0, 0, NULL, 0}

static dala_field visit_fields[] = {
    {"address", TEXT("Астана қ., Абай даңғылы, 12-үй"), 0},
    {"findings", TEXT("Отбасында жанжал болған; жәбірленуші көмек сұрады. Муж угрожал, дети дома."), 0},
    {"latitude", REAL(51.1283), 0},
    {"children_count", INT(2), 0},
    {"offender_income", INT(-1), 0},
    {"follow_up_date", NUL, 0},
    {"photo", {DALA_VALUE_BLOB, 0, 0, (const uint8_t *)"\x00\xff\x10", 3}, 0},
};

static dala_field edit_fields[] = {
    {"risk_level", TEXT("high"), DALA_HLC_MAKE(1764000000000, 0)},
    {"findings", TEXT("Қорғау нұсқамасы бұзылды. Нарушено защитное предписание."),
     DALA_HLC_MAKE(1763990000000, 3)},
};

void codec_sample_changes(dala_change *changes)
{
    static const uint8_t visit_id[16] = {0x01, 0x9a, 0xb3, 0x10, 0x8c, 0x00, 0x7a, 0x11,
                                         0x8b, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    memset(changes, 0, CODEC_SAMPLE_CHANGES * sizeof *changes);
    changes[0].table = "field_visit";
    memcpy(changes[0].record_id, visit_id, 16);
    changes[0].hlc = DALA_HLC_MAKE(1764000000000, 0);
    changes[0].device_id = 7;
    changes[0].field_count = sizeof visit_fields / sizeof visit_fields[0];
    changes[0].fields = visit_fields;
    changes[1].table = "field_visit";
    memcpy(changes[1].record_id, visit_id, 16);
    changes[1].hlc = DALA_HLC_MAKE(1764000360000, 1);
    changes[1].device_id = 300;
    changes[1].field_count = sizeof edit_fields / sizeof edit_fields[0];
    changes[1].fields = edit_fields;
}
