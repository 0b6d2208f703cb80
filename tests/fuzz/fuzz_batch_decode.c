/* fuzz_batch_decode.c - libFuzzer target: the strict change codec on any
 * bytes. dala_batch_decode with a limit of 1000 changes must never crash,
 * leak or read outside the input; and because the codec is canonical (one
 * batch, one encoding), whatever it accepts must encode back to exactly
 * the input's bytes - otherwise two peers could disagree on what a signed
 * or hashed batch says. A difference aborts, so the fuzzer reports it. */
#include "dala_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHANGES 1000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dala_batch *batch = NULL;
    dala_buf again = DALA_BUF_INIT;
    if (dala_batch_decode(&batch, data, size, MAX_CHANGES) != DALA_OK) {
        if (batch != NULL) abort(); /* on failure *out is NULL */
        return 0;
    }
    if (batch->change_count > MAX_CHANGES) abort();
    int rc = dala_batch_encode(&again, batch->schema_version, batch->batch_seq, batch->changes,
                               batch->change_count);
    if (rc != DALA_OK) {
        fprintf(stderr, "fuzz_batch_decode: a decoded batch does not encode: %s\n", dala_errmsg());
        abort();
    }
    if (again.len != size || memcmp(again.data, data, size) != 0) {
        fprintf(stderr, "fuzz_batch_decode: %zu bytes decode, but encode back to %zu other bytes\n",
                size, again.len);
        abort();
    }
    dala_buf_free(&again);
    dala_batch_free(batch);
    return 0;
}
