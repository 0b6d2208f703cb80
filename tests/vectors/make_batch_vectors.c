/* make_batch_vectors.c - prints tests/vectors/batch.txt: the encoding of
 * the sample batch of codec_sample.h. Run once when the codec version
 * changes on purpose: build/make_batch_vectors > tests/vectors/batch.txt */
#include "codec_sample.h"
#include "vector_file.h"

#include <stdio.h>

int main(void)
{
    dala_change changes[CODEC_SAMPLE_CHANGES];
    dala_buf out = DALA_BUF_INIT;
    codec_sample_changes(changes);
    if (dala_batch_encode(&out, CODEC_SAMPLE_SCHEMA_VERSION, CODEC_SAMPLE_BATCH_SEQ, changes,
                          CODEC_SAMPLE_CHANGES)) {
        fprintf(stderr, "make_batch_vectors: %s\n", dala_errmsg());
        return 1;
    }
    printf("# Batch codec version %d: the sample batch of tests/codec_sample.c.\n",
           DALA_CODEC_VERSION);
    printf("# Made by build/make_batch_vectors; a change here is a wire format change.\n");
    vector_file_print("sample_batch", out.data, out.len);
    dala_buf_free(&out);
    return 0;
}
