/* frame_sample.c - see frame_sample.h. */
#include "frame_sample.h"

#include <string.h>

dala_frame_header frame_sample_header(int suite, int compression)
{
    dala_frame_header header;
    memset(&header, 0, sizeof header);
    header.protocol_version = DALA_PROTOCOL_VERSION;
    header.suite = (uint8_t)suite;
    header.compression = (uint8_t)compression;
    header.schema_version = 5;
    header.device_id = FRAME_SAMPLE_DEVICE_ID;
    header.key_epoch = 2;
    return header;
}
