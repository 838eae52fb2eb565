/* lru_cache.h - a thread-safe map from byte-string keys to byte-string
 * values, bounded in bytes, evicting the least recently used entry, with an
 * optional expiry per entry.
 *
 * Used for what the API reads on every request and may keep in memory:
 * events (immutable once stored) and API key hashes (for a few seconds).
 * The cache owns copies of keys and values; readers get their own copy. */
#ifndef HOOKD_LRU_CACHE_H
#define HOOKD_LRU_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lru_cache;

/* A cache holding at most max_bytes of keys, values and bookkeeping;
 * max_bytes 0 gives a cache that stores nothing. */
struct lru_cache *lru_cache_new(size_t max_bytes);
void lru_cache_free(struct lru_cache *c);

/* Stores (a copy of) value under key, replacing any entry there, valid until
 * expires_ms (CLOCK_MONOTONIC ms; 0: for ever). Values larger than a quarter
 * of the budget are not stored. */
void lru_cache_put(struct lru_cache *c, const void *key, size_t key_len, const void *value,
                   size_t value_len, int64_t expires_ms);
/* True and a malloc'd copy of the value in *value (NUL-terminated, length in
 * *value_len; caller frees) when key is present and not expired at now_ms. */
bool lru_cache_get(struct lru_cache *c, const void *key, size_t key_len, int64_t now_ms,
                   char **value, size_t *value_len);
/* Copies a value of exactly out_len bytes into out; true when present. */
bool lru_cache_get_fixed(struct lru_cache *c, const void *key, size_t key_len, int64_t now_ms,
                         void *out, size_t out_len);
void lru_cache_remove(struct lru_cache *c, const void *key, size_t key_len);

/* What the cache holds, for tests and metrics. */
struct lru_cache_stats {
    size_t entries, bytes;
    uint64_t hits, misses, evictions;
};
void lru_cache_stats(struct lru_cache *c, struct lru_cache_stats *out);

#endif
