/* secret_cache.c - opened secrets at rest, per worker thread (see the
 * header): fixed slots, chained by a hash of the sealed text, least
 * recently used evicted and wiped. */
#include "secret_cache.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"
#include "xmalloc.h"

#define NO_SLOT (-1)

struct slot {
    uint64_t hash;
    uint64_t last_used;          /* the cache's clock at the last use */
    int next;                    /* the next slot of the same bucket, or NO_SLOT */
    size_t sealed_len;
    size_t plain_len;
    char sealed[SECRET_CACHE_SEALED_MAX];
    unsigned char plain[SECRET_CACHE_PLAIN_MAX];
};

struct secret_cache {
    struct slot *slots;          /* capacity of them; the first `used` hold entries */
    size_t capacity;
    size_t used;
    int *buckets;                /* heads of the chains, NO_SLOT when empty */
    size_t bucket_mask;          /* bucket count - 1 (a power of two) */
    uint64_t clock;
    uint64_t hits, misses, evictions;
};

struct secret_cache *secret_cache_new(size_t capacity)
{
    if (capacity == 0)
        capacity = 1;
    struct secret_cache *c = xcalloc(1, sizeof(*c));
    c->capacity = capacity;
    c->slots = xcalloc(capacity, sizeof(*c->slots));
    size_t n_buckets = 1;
    while (n_buckets < 2 * capacity)
        n_buckets *= 2;
    c->bucket_mask = n_buckets - 1;
    c->buckets = xmalloc(n_buckets * sizeof(*c->buckets));
    for (size_t i = 0; i < n_buckets; i++)
        c->buckets[i] = NO_SLOT;
    return c;
}

void secret_cache_clear(struct secret_cache *c)
{
    sodium_memzero(c->slots, c->capacity * sizeof(*c->slots));
    for (size_t i = 0; i <= c->bucket_mask; i++)
        c->buckets[i] = NO_SLOT;
    c->used = 0;
}

void secret_cache_free(struct secret_cache *c)
{
    if (c == NULL)
        return;
    secret_cache_clear(c);
    free(c->slots);
    free(c->buckets);
    free(c);
}

/* The bytes of a sealed value that are hashed: its version and random
 * nonce come first, so these spread well; lookups compare the whole text. */
#define HASHED_BYTES 64

/* FNV-1a of the first HASHED_BYTES and the length. */
static uint64_t hash_text(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL ^ n;
    size_t m = n < HASHED_BYTES ? n : HASHED_BYTES;
    for (size_t i = 0; i < m; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static char *copy_plain(const unsigned char *plain, size_t n, size_t *len)
{
    char *out = xmalloc(n + 1);
    memcpy(out, plain, n);
    out[n] = '\0';
    *len = n;
    return out;
}

static int find(const struct secret_cache *c, uint64_t hash, const char *sealed, size_t n)
{
    for (int i = c->buckets[hash & c->bucket_mask]; i != NO_SLOT; i = c->slots[i].next) {
        const struct slot *s = &c->slots[i];
        if (s->hash == hash && s->sealed_len == n && memcmp(s->sealed, sealed, n) == 0)
            return i;
    }
    return NO_SLOT;
}

/* Takes slot i out of its bucket's chain. */
static void unlink_slot(struct secret_cache *c, int i)
{
    int *link = &c->buckets[c->slots[i].hash & c->bucket_mask];
    while (*link != i)
        link = &c->slots[*link].next;
    *link = c->slots[i].next;
}

/* A free slot: an unused one, else the least recently used entry, evicted
 * and wiped. */
static int take_slot(struct secret_cache *c)
{
    if (c->used < c->capacity)
        return (int)c->used++;
    size_t oldest = 0;
    for (size_t i = 1; i < c->capacity; i++) {
        if (c->slots[i].last_used < c->slots[oldest].last_used)
            oldest = i;
    }
    unlink_slot(c, (int)oldest);
    sodium_memzero(&c->slots[oldest], sizeof(c->slots[oldest]));
    c->evictions++;
    return (int)oldest;
}

char *secret_cache_open(struct secret_cache *c, const char *sealed_hex, size_t *len)
{
    if (c == NULL)
        return secrets_open_hex(sealed_hex, len);
    size_t n = strlen(sealed_hex);
    uint64_t hash = hash_text(sealed_hex, n);
    int i = find(c, hash, sealed_hex, n);
    if (i != NO_SLOT) {
        c->hits++;
        c->slots[i].last_used = ++c->clock;
        return copy_plain(c->slots[i].plain, c->slots[i].plain_len, len);
    }
    c->misses++;
    size_t plain_len = 0;
    char *plain = secrets_open_hex(sealed_hex, &plain_len);
    if (plain == NULL || n > SECRET_CACHE_SEALED_MAX || plain_len > SECRET_CACHE_PLAIN_MAX) {
        *len = plain_len;
        return plain;
    }
    i = take_slot(c);
    struct slot *s = &c->slots[i];
    s->hash = hash;
    s->last_used = ++c->clock;
    s->sealed_len = n;
    memcpy(s->sealed, sealed_hex, n);
    s->plain_len = plain_len;
    memcpy(s->plain, plain, plain_len);
    size_t b = hash & c->bucket_mask;
    s->next = c->buckets[b];
    c->buckets[b] = i;
    *len = plain_len;
    return plain;
}

void secret_cache_stats(const struct secret_cache *c, struct secret_cache_stats *out)
{
    *out = (struct secret_cache_stats){
        .entries = c->used, .hits = c->hits, .misses = c->misses, .evictions = c->evictions
    };
}

bool secret_cache_contains_bytes(const struct secret_cache *c, const void *bytes, size_t n)
{
    const unsigned char *mem = (const unsigned char *)c->slots;
    size_t size = c->capacity * sizeof(*c->slots);
    for (size_t i = 0; n > 0 && i + n <= size; i++) {
        if (memcmp(mem + i, bytes, n) == 0)
            return true;
    }
    return false;
}
