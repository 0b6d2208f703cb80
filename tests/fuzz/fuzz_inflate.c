/* fuzz_inflate.c - libFuzzer target: dala_inflate on any bytes with a
 * 1 MiB cap. It must never crash, leak or read outside the input, and the
 * output must never pass the cap, whatever the outcome: a deflate bomb
 * costs at most the cap in memory. */
#include "dala_sync.h"

#include <stdlib.h>

#define MAX_INFLATED_BYTES ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dala_buf out = DALA_BUF_INIT;
    (void)dala_inflate(&out, data, size, MAX_INFLATED_BYTES);
    if (out.len > MAX_INFLATED_BYTES) abort();
    dala_buf_free(&out);
    return 0;
}
