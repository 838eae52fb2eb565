/* retry.h - what an attempt's answer means and when to try again. Pure.
 *
 * Any 2xx is delivered; 410 Gone stops delivery to that endpoint; anything
 * else (other statuses, connection errors, timeouts) is retried. The default
 * schedule follows Okanjo: retry n waits min(2^(n-1), 64) minutes, 30
 * retries (1,599 minutes, about 26.6 hours), each delay jittered by +-20 %. 429 and 503
 * answers with Retry-After wait at least that long (capped). */
#ifndef HOOKD_RETRY_H
#define HOOKD_RETRY_H

#include <stdint.h>
#include <time.h>

#include "error.h"

enum attempt_outcome { OUTCOME_DELIVERED, OUTCOME_GONE, OUTCOME_RETRY };

struct retry_policy {
    long *delays_ms;          /* owned; retry n waits delays_ms[n-1] */
    size_t n_delays;          /* the number of retries */
    int jitter_pct;           /* 0..100 */
    long retry_after_max_ms;  /* cap on honoured Retry-After */
};

/* Parses a comma-separated list of durations ("30s,2m,1h", "250ms"; a bare
 * number is seconds). An empty spec gives the default schedule. */
int retry_policy_init(struct retry_policy *policy, const char *spec, int jitter_pct,
                      long retry_after_max_ms, struct hk_error *err)
    __attribute__((warn_unused_result));
void retry_policy_free(struct retry_policy *policy);

/* One duration: "250ms", "30s", "5m", "2h", or a bare number of seconds.
 * Returns 0, or -1 when malformed, negative or absurdly large. */
int duration_parse_ms(const char *text, size_t len, long *out_ms);

enum attempt_outcome retry_classify(long http_status);

/* Milliseconds to wait before retry number `retry` (1 = the retry after
 * the first attempt), or -1 when the schedule is exhausted. random is a
 * uniformly random 32-bit value (the jitter). retry_after is the header's
 * value or NULL; it counts for 429 and 503 only. */
long retry_delay_ms(const struct retry_policy *policy, int retry, long http_status,
                    const char *retry_after, time_t now, uint32_t random);

/* Retry-After as milliseconds from now: delta-seconds or an HTTP-date.
 * -1 when absent or malformed; 0 for a date in the past. */
long retry_after_ms(const char *value, time_t now);

#endif
