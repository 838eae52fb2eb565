/* lru_cache.c - chained hash buckets plus a doubly linked recency list,
 * behind one mutex. */
#include "lru_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define INITIAL_BUCKETS 1024

struct entry {
    struct entry *chain;            /* next in the bucket */
    struct entry *newer, *older;    /* recency list */
    uint64_t hash;
    int64_t expires_ms;
    size_t key_len, value_len;
    char *value;                    /* NUL-terminated */
    unsigned char key[];
};

struct lru_cache {
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t n_buckets;               /* a power of two */
    struct entry *newest, *oldest;
    size_t entries, bytes, max_bytes;
    uint64_t hits, misses, evictions;
};

static uint64_t hash_bytes(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t entry_bytes(const struct entry *e)
{
    return sizeof(*e) + e->key_len + e->value_len + 1;
}

struct lru_cache *lru_cache_new(size_t max_bytes)
{
    struct lru_cache *c = xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    c->n_buckets = INITIAL_BUCKETS;
    c->buckets = xcalloc(c->n_buckets, sizeof(struct entry *));
    c->max_bytes = max_bytes;
    return c;
}

void lru_cache_free(struct lru_cache *c)
{
    if (c == NULL)
        return;
    struct entry *e = c->newest;
    while (e != NULL) {
        struct entry *older = e->older;
        free(e->value);
        free(e);
        e = older;
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static struct entry **find_slot(struct lru_cache *c, uint64_t hash, const void *key,
                                size_t key_len)
{
    struct entry **slot = &c->buckets[hash & (c->n_buckets - 1)];
    while (*slot != NULL && ((*slot)->hash != hash || (*slot)->key_len != key_len ||
                             memcmp((*slot)->key, key, key_len) != 0))
        slot = &(*slot)->chain;
    return slot;
}

static void unlink_recency(struct lru_cache *c, struct entry *e)
{
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void push_newest(struct lru_cache *c, struct entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest != NULL)
        c->newest->newer = e;
    c->newest = e;
    if (c->oldest == NULL)
        c->oldest = e;
}

/* Removes the entry in *slot from everything and frees it. */
static void drop(struct lru_cache *c, struct entry **slot)
{
    struct entry *e = *slot;
    *slot = e->chain;
    unlink_recency(c, e);
    c->entries--;
    c->bytes -= entry_bytes(e);
    free(e->value);
    free(e);
}

static void grow(struct lru_cache *c)
{
    size_t n = c->n_buckets * 2;
    struct entry **buckets = xcalloc(n, sizeof(struct entry *));
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct entry *e = c->buckets[i];
        while (e != NULL) {
            struct entry *next = e->chain;
            struct entry **head = &buckets[e->hash & (n - 1)];
            e->chain = *head;
            *head = e;
            e = next;
        }
    }
    free(c->buckets);
    c->buckets = buckets;
    c->n_buckets = n;
}

void lru_cache_put(struct lru_cache *c, const void *key, size_t key_len, const void *value,
                   size_t value_len, int64_t expires_ms)
{
    size_t need = sizeof(struct entry) + key_len + value_len + 1;
    if (need > c->max_bytes / 4)
        return;
    struct entry *e = xmalloc(sizeof(*e) + key_len);
    memset(e, 0, sizeof(*e));
    e->hash = hash_bytes(key, key_len);
    e->expires_ms = expires_ms;
    e->key_len = key_len;
    memcpy(e->key, key, key_len);
    e->value_len = value_len;
    e->value = xmalloc(value_len + 1);
    memcpy(e->value, value, value_len);
    e->value[value_len] = '\0';

    pthread_mutex_lock(&c->mu);
    struct entry **slot = find_slot(c, e->hash, key, key_len);
    if (*slot != NULL)
        drop(c, slot);
    while (c->bytes + need > c->max_bytes && c->oldest != NULL) {
        struct entry *victim = c->oldest;
        drop(c, find_slot(c, victim->hash, victim->key, victim->key_len));
        c->evictions++;
    }
    if (c->entries >= c->n_buckets)
        grow(c);
    struct entry **head = &c->buckets[e->hash & (c->n_buckets - 1)];
    e->chain = *head;
    *head = e;
    push_newest(c, e);
    c->entries++;
    c->bytes += need;
    pthread_mutex_unlock(&c->mu);
}

/* The live entry for key, made the newest; NULL when absent or expired
 * (an expired one is dropped). Called with the lock held. */
static struct entry *lookup(struct lru_cache *c, const void *key, size_t key_len, int64_t now_ms)
{
    struct entry **slot = find_slot(c, hash_bytes(key, key_len), key, key_len);
    struct entry *e = *slot;
    if (e != NULL && e->expires_ms != 0 && now_ms >= e->expires_ms) {
        drop(c, slot);
        e = NULL;
    }
    if (e == NULL) {
        c->misses++;
        return NULL;
    }
    c->hits++;
    unlink_recency(c, e);
    push_newest(c, e);
    return e;
}

bool lru_cache_get(struct lru_cache *c, const void *key, size_t key_len, int64_t now_ms,
                   char **value, size_t *value_len)
{
    pthread_mutex_lock(&c->mu);
    struct entry *e = lookup(c, key, key_len, now_ms);
    size_t len = e != NULL ? e->value_len : 0;
    char *copy = NULL;
    if (e != NULL) {
        copy = xmalloc(len + 1);
        memcpy(copy, e->value, len + 1);
    }
    pthread_mutex_unlock(&c->mu);
    if (copy == NULL)
        return false;
    *value = copy;
    *value_len = len;
    return true;
}

bool lru_cache_get_fixed(struct lru_cache *c, const void *key, size_t key_len, int64_t now_ms,
                         void *out, size_t out_len)
{
    pthread_mutex_lock(&c->mu);
    struct entry *e = lookup(c, key, key_len, now_ms);
    bool found = e != NULL && e->value_len == out_len;
    if (found)
        memcpy(out, e->value, out_len);
    pthread_mutex_unlock(&c->mu);
    return found;
}

void lru_cache_remove(struct lru_cache *c, const void *key, size_t key_len)
{
    pthread_mutex_lock(&c->mu);
    struct entry **slot = find_slot(c, hash_bytes(key, key_len), key, key_len);
    if (*slot != NULL)
        drop(c, slot);
    pthread_mutex_unlock(&c->mu);
}

void lru_cache_stats(struct lru_cache *c, struct lru_cache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    out->entries = c->entries;
    out->bytes = c->bytes;
    out->hits = c->hits;
    out->misses = c->misses;
    out->evictions = c->evictions;
    pthread_mutex_unlock(&c->mu);
}
