/* secret_cache.h - opened secrets at rest, kept by the delivery worker that
 * opened them, so that a claimed delivery does not open (hex-decode and
 * crypto_secretbox_open) its endpoint's secrets and its tenant's signing
 * key again for every attempt.
 *
 * Entries are keyed by the sealed value itself (the hex text of the column):
 * a rotated secret is sealed anew (new ciphertext, new nonce), so it is a
 * new key and is opened on first use; the previous secret keeps its own
 * entry while the database still returns it. Memory is bounded: a fixed
 * number of fixed-size slots allocated at creation; the least recently used
 * entry is evicted when a new one needs room, and its plaintext is wiped
 * (sodium_memzero) then, as is every entry by secret_cache_free. Values too
 * large for a slot are opened without being kept.
 *
 * Not thread-safe: one cache belongs to one worker thread. */
#ifndef HOOKD_SECRET_CACHE_H
#define HOOKD_SECRET_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest plaintext kept (a whsec_ secret is 50 bytes, an Ed25519
 * secret key 64). */
#define SECRET_CACHE_PLAIN_MAX 96
/* The largest sealed value kept: hex of version, nonce, MAC and plaintext. */
#define SECRET_CACHE_SEALED_MAX ((size_t)2 * (1 + 24 + 16 + SECRET_CACHE_PLAIN_MAX))

struct secret_cache;

/* A cache of at most capacity entries (at least 1). Free with
 * secret_cache_free. */
struct secret_cache *secret_cache_new(size_t capacity);
/* Wipes every kept plaintext and frees the cache (NULL is fine). */
void secret_cache_free(struct secret_cache *c);

/* Wipes and forgets every entry (the counters stay). */
void secret_cache_clear(struct secret_cache *c);

/* Opens sealed_hex as secrets_open_hex does, from the cache when that
 * sealed value was opened before. Returns a new NUL-terminated copy (the
 * caller frees it with secrets_free) and its length in *len, or NULL when
 * the value cannot be opened (not kept: tried again next time). With c NULL
 * this is secrets_open_hex. */
char *secret_cache_open(struct secret_cache *c, const char *sealed_hex, size_t *len);

struct secret_cache_stats {
    size_t entries;
    uint64_t hits, misses, evictions;
};
void secret_cache_stats(const struct secret_cache *c, struct secret_cache_stats *out);

/* Whether bytes[0..n) appear anywhere in the cache's slots (tests: an
 * evicted or dropped secret must leave no copy behind). */
bool secret_cache_contains_bytes(const struct secret_cache *c, const void *bytes, size_t n);

#endif
