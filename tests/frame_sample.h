/* frame_sample.h - the frame header the handshake and session tests seal
 * under: protocol 1, the given suite and compression, schema 5, device
 * FRAME_SAMPLE_DEVICE_ID, key epoch 2. */
#ifndef DALA_FRAME_SAMPLE_H
#define DALA_FRAME_SAMPLE_H

#include "dala_sync.h"

#define FRAME_SAMPLE_DEVICE_ID 42u

dala_frame_header frame_sample_header(int suite, int compression);

#endif
