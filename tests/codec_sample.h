/* codec_sample.h - a small fixed batch (two field visits in Kazakh and
 * Russian, one edit with per-field bases) shared by the codec tests and
 * the generator of tests/vectors/batch.txt, so the vector and the test
 * describe the same changes. */
#ifndef DALA_CODEC_SAMPLE_H
#define DALA_CODEC_SAMPLE_H

#include "dala_sync.h"

#define CODEC_SAMPLE_SCHEMA_VERSION 3
#define CODEC_SAMPLE_BATCH_SEQ 41
#define CODEC_SAMPLE_CHANGES 2

/* Fills `changes` (CODEC_SAMPLE_CHANGES of them) with static data. */
void codec_sample_changes(dala_change *changes);

#endif
