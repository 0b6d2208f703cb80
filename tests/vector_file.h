/* vector_file.h - reads known-answer test vectors from the files in tests/vectors/.
 * A vector file holds `name = hex` lines; '#' starts a comment line. */
#ifndef DALA_VECTOR_FILE_H
#define DALA_VECTOR_FILE_H

#include "dala_sync.h"

/* Appends the bytes of vector `name` from the file at `path` to `out`.
 * DALA_OK, DALA_EIO (no such file), DALA_ENOTFOUND (no such name) or
 * DALA_ECORRUPT (bad hex). */
int vector_file_read(dala_buf *out, const char *path, const char *name);

/* Writes `name = hex` for `len` bytes to stdout (for make_* generators). */
void vector_file_print(const char *name, const uint8_t *data, size_t len);

#endif /* DALA_VECTOR_FILE_H */
