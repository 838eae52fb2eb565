/* json_write.h - JSON text appended to a buf, for the hot paths that write
 * many small documents (the worker's attempt records) where building json-c
 * objects only to serialize them costs more than the rest of the work.
 * Pure: the unit tests reach it directly. */
#ifndef HOOKD_JSON_WRITE_H
#define HOOKD_JSON_WRITE_H

#include <stdint.h>

#include "buf.h"

/* Each returns 0, or -1 when the buf's cap is reached (what was appended
 * before then stays). */

/* s as a JSON string: quoted; '"', '\\' and control characters (below
 * 0x20, and 0x7f) escaped; every other byte as it is (the caller passes
 * UTF-8); NULL as null. */
int json_write_string(struct buf *b, const char *s) __attribute__((warn_unused_result));
/* v in decimal. */
int json_write_int(struct buf *b, int64_t v) __attribute__((warn_unused_result));
/* "key": the member name and its colon, after a comma unless first. The
 * name is a plain ASCII identifier written as given (names under 60 bytes;
 * a longer one is escaped as a JSON string). */
int json_write_key(struct buf *b, const char *key, int first) __attribute__((warn_unused_result));

#endif
