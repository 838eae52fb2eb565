/* rate_limit.h - per-tenant token buckets for the API (in this process).
 *
 * DESIGN: HTTP threads share one limiter; a mutex guards its table of
 * buckets, one per tenant, which only grows (tenants are few). A bucket
 * holds up to `burst` tokens and refills at `rate` per second; a request
 * takes one. Time is passed in, so the arithmetic is testable. */
#ifndef HOOKD_RATE_LIMIT_H
#define HOOKD_RATE_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct rate_limiter;

struct rate_limiter *rate_limiter_new(void);
void rate_limiter_free(struct rate_limiter *rl);
/* Takes a token from key's bucket. Returns true when allowed; otherwise
 * false with *retry_after_ms set to when the next token is due. rate <= 0
 * means unlimited. now_ms is a monotonic clock. */
bool rate_limiter_take(struct rate_limiter *rl, int64_t key, double rate, double burst,
                       int64_t now_ms, long *retry_after_ms);

#endif
