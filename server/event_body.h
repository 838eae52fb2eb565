/* event_body.h - the stored text of a published event, built in hookd.
 * Pure.
 *
 * The same bytes hookd.publish (db/functions/publish.sql) builds in SQL:
 *   {"id":"EV…","occurred":"<RFC 3339 UTC, ms>","type":"…","version":"…","data":<data>}
 * with the strings escaped as PostgreSQL's to_json escapes them and the
 * data exactly as given. POST /events builds it here so that PostgreSQL
 * stores it without parsing the data, formatting the time or matching the
 * version per event (publish_batcher.c); GET /events/{id} returns the
 * stored bytes, so the two builders must not drift (tests/unit and
 * tests/integration/test_publish_fast.py compare them). */
#ifndef HOOKD_EVENT_BODY_H
#define HOOKD_EVENT_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* YYYY-MM-DDTHH:MM:SS.mmmZ */
#define EVENT_RFC3339_LEN 24

/* unix_ms (from 1970 to 9999) as hookd.rfc3339 writes it, into out. */
void event_rfc3339(char out[EVENT_RFC3339_LEN + 1], int64_t unix_ms);

/* True when hookd.publish takes version: at most 64 characters matching
 * its semantic-version pattern (MAJOR.MINOR.PATCH without leading zeros,
 * then optional -prerelease and +build of dot-separated [0-9A-Za-z-]+). */
bool event_version_valid(const char *version);

/* Appends the stored text of an event to b. data[0..data_len) is the
 * event's data, a JSON object's text, copied as it is. Returns 0, or -1
 * when b's cap is reached. */
int event_body_write(struct buf *b, const char *id, const char *occurred, const char *type,
                     const char *version, const char *data, size_t data_len)
    __attribute__((warn_unused_result));

#endif
