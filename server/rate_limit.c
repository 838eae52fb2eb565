/* rate_limit.c - per-key token buckets behind one mutex. */
#include "rate_limit.h"

#include <pthread.h>
#include <stdlib.h>

#include "xmalloc.h"

struct bucket {
    int64_t key;
    double tokens;
    int64_t updated_ms;
    bool used;
};

struct rate_limiter {
    pthread_mutex_t mu;
    struct bucket *slots;      /* open addressing, linear probing */
    size_t cap;                /* a power of two */
    size_t count;
};

struct rate_limiter *rate_limiter_new(void)
{
    struct rate_limiter *rl = xcalloc(1, sizeof(*rl));
    pthread_mutex_init(&rl->mu, NULL);
    rl->cap = 64;
    rl->slots = xcalloc(rl->cap, sizeof(*rl->slots));
    return rl;
}

void rate_limiter_free(struct rate_limiter *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->slots);
    free(rl);
}

static size_t slot_of(int64_t key, size_t cap)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 32) & (cap - 1);
}

static struct bucket *find(struct bucket *slots, size_t cap, int64_t key)
{
    size_t i = slot_of(key, cap);
    while (slots[i].used && slots[i].key != key)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static void grow(struct rate_limiter *rl)
{
    size_t cap = rl->cap * 2;
    struct bucket *slots = xcalloc(cap, sizeof(*slots));
    for (size_t i = 0; i < rl->cap; i++) {
        if (rl->slots[i].used)
            *find(slots, cap, rl->slots[i].key) = rl->slots[i];
    }
    free(rl->slots);
    rl->slots = slots;
    rl->cap = cap;
}

bool rate_limiter_take(struct rate_limiter *rl, int64_t key, double rate, double burst,
                       int64_t now_ms, long *retry_after_ms)
{
    if (rate <= 0)
        return true;
    if (burst < 1)
        burst = 1;
    pthread_mutex_lock(&rl->mu);
    if ((rl->count + 1) * 2 > rl->cap)
        grow(rl);
    struct bucket *b = find(rl->slots, rl->cap, key);
    if (!b->used) {
        b->used = true;
        b->key = key;
        b->tokens = burst;
        b->updated_ms = now_ms;
        rl->count++;
    }
    double elapsed = (double)(now_ms - b->updated_ms) / 1000.0;
    if (elapsed > 0) {
        b->tokens += elapsed * rate;
        if (b->tokens > burst)
            b->tokens = burst;
        b->updated_ms = now_ms;
    }
    bool allowed = b->tokens >= 1.0;
    if (allowed)
        b->tokens -= 1.0;
    else
        *retry_after_ms = (long)((1.0 - b->tokens) / rate * 1000.0) + 1;
    pthread_mutex_unlock(&rl->mu);
    return allowed;
}
