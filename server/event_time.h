/* event_time.h - when an event was published, read from its stored bytes.
 * Pure.
 *
 * Every stored event starts {"id":"EV…","occurred":"<RFC 3339 UTC, ms>",
 * (hookd.publish and db_events build it so; the data comes last), so the
 * publication time is at a fixed place near the start and needs no extra
 * column in the claim. The delivery latency metric uses it. */
#ifndef HOOKD_EVENT_TIME_H
#define HOOKD_EVENT_TIME_H

#include <stddef.h>
#include <stdint.h>

/* The "occurred" time of the event body[0..len) in Unix ms, or -1 when the
 * body does not start the way stored events do. */
int64_t event_occurred_ms(const char *body, size_t len);

#endif
