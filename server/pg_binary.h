/* pg_binary.h - PostgreSQL's binary wire format for array parameters.
 * Pure.
 *
 * A hot statement that takes a batch as arrays (db_events' publish of many
 * events) sends them in binary format: the server then copies each element
 * instead of scanning a text literal for quotes and backslashes (about
 * 1 KB of event text per element). One-dimensional arrays without NULLs,
 * of text or bigint, are all it needs (array_recv in PostgreSQL's
 * src/backend/utils/adt/arrayfuncs.c reads them). */
#ifndef HOOKD_PG_BINARY_H
#define HOOKD_PG_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PG_OID_INT8 20
#define PG_OID_TEXT 25

/* Each returns 0, or -1 when b's cap is reached. */

/* Starts an array of count elements of type elem_oid in b (empty). */
int pg_array_begin(struct buf *b, uint32_t elem_oid, uint32_t count)
    __attribute__((warn_unused_result));
/* Appends one text element (UTF-8, no NUL bytes). */
int pg_array_text(struct buf *b, const char *s, size_t len) __attribute__((warn_unused_result));
/* Appends one bigint element. */
int pg_array_int8(struct buf *b, int64_t v) __attribute__((warn_unused_result));

#endif
