/* caches.h - what the API keeps in memory between requests, so the hot
 * reads need no database round trip:
 *   - events by (tenant, id): stored events never change, so a cached body
 *     is the stored body; filled on publish and on read, dropped when a
 *     refused subscribe removes its test event;
 *   - API key hash -> tenant, for HOOKD_AUTH_CACHE_S seconds: a key removed
 *     from the database keeps working in each process for at most that long.
 * Either cache may be sized 0 (off). Thread-safe. */
#ifndef HOOKD_CACHES_H
#define HOOKD_CACHES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lru_cache.h"
#include "token.h"

struct caches {
    struct lru_cache *events;
    struct lru_cache *keys;
    int64_t key_ttl_ms;
};

/* Room for this many bytes of events, and key entries kept key_ttl_ms. */
void caches_init(struct caches *c, size_t event_bytes, int64_t key_ttl_ms);
void caches_destroy(struct caches *c);

/* True with a malloc'd copy of the body (caller frees) when cached. */
bool caches_event_get(struct caches *c, int64_t tenant_id, const char *event_id, char **body,
                      size_t *body_len);
void caches_event_put(struct caches *c, int64_t tenant_id, const char *event_id,
                      const char *body, size_t body_len);
void caches_event_forget(struct caches *c, int64_t tenant_id, const char *event_id);

/* The tenant of an API key hash, when seen within the TTL before now_ms. */
bool caches_key_get(struct caches *c, const unsigned char hash[TOKEN_HASH_LEN], int64_t now_ms,
                    int64_t *tenant_id, double *rate_limit);
void caches_key_put(struct caches *c, const unsigned char hash[TOKEN_HASH_LEN], int64_t now_ms,
                    int64_t tenant_id, double rate_limit);

#endif
