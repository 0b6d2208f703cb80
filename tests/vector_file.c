/* vector_file.c - the reader and writer of `name = hex` vector files. */
#include "vector_file.h"

#include <stdio.h>
#include <string.h>

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int parse_hex(dala_buf *out, const char *hex)
{
    while (*hex && *hex != '\n') {
        int high = hex_digit(hex[0]), low = high < 0 ? -1 : hex_digit(hex[1]);
        if (low < 0) return DALA_ECORRUPT;
        uint8_t byte = (uint8_t)(high << 4 | low);
        if (dala_buf_append(out, &byte, 1)) return DALA_ENOMEM;
        hex += 2;
    }
    return DALA_OK;
}

int vector_file_read(dala_buf *out, const char *path, const char *name)
{
    FILE *file = fopen(path, "r");
    if (!file) return DALA_EIO;
    static char line[1 << 20];
    size_t name_len = strlen(name);
    int rc = DALA_ENOTFOUND;
    while (fgets(line, sizeof line, file)) {
        if (line[0] == '#' || strncmp(line, name, name_len) != 0) continue;
        if (strncmp(line + name_len, " = ", 3) != 0) continue;
        rc = parse_hex(out, line + name_len + 3);
        break;
    }
    fclose(file);
    return rc;
}

void vector_file_print(const char *name, const uint8_t *data, size_t len)
{
    printf("%s = ", name);
    for (size_t i = 0; i < len; i++) printf("%02x", data[i]);
    printf("\n");
}
