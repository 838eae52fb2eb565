/* caches.c - keys and values of the API's two caches. */
#include "caches.h"

#include <string.h>

/* Room for key entries: a few thousand tenants' keys. */
#define KEY_CACHE_BYTES (1024 * 1024)

struct cached_tenant {
    int64_t id;
    double rate_limit;
};

void caches_init(struct caches *c, size_t event_bytes, int64_t key_ttl_ms)
{
    c->events = lru_cache_new(event_bytes);
    c->keys = lru_cache_new(key_ttl_ms > 0 ? KEY_CACHE_BYTES : 0);
    c->key_ttl_ms = key_ttl_ms;
}

void caches_destroy(struct caches *c)
{
    lru_cache_free(c->events);
    lru_cache_free(c->keys);
    c->events = c->keys = NULL;
}

/* The tenant id's bytes followed by the event id. */
static size_t event_key(unsigned char key[sizeof(int64_t) + TOKEN_ID_LEN], int64_t tenant_id,
                        const char *event_id)
{
    size_t id_len = strnlen(event_id, TOKEN_ID_LEN);
    memcpy(key, &tenant_id, sizeof(tenant_id));
    memcpy(key + sizeof(tenant_id), event_id, id_len);
    return sizeof(tenant_id) + id_len;
}

bool caches_event_get(struct caches *c, int64_t tenant_id, const char *event_id, char **body,
                      size_t *body_len)
{
    unsigned char key[sizeof(int64_t) + TOKEN_ID_LEN];
    size_t len = event_key(key, tenant_id, event_id);
    return lru_cache_get(c->events, key, len, 0, body, body_len);
}

void caches_event_put(struct caches *c, int64_t tenant_id, const char *event_id,
                      const char *body, size_t body_len)
{
    unsigned char key[sizeof(int64_t) + TOKEN_ID_LEN];
    size_t len = event_key(key, tenant_id, event_id);
    lru_cache_put(c->events, key, len, body, body_len, 0);
}

void caches_event_forget(struct caches *c, int64_t tenant_id, const char *event_id)
{
    unsigned char key[sizeof(int64_t) + TOKEN_ID_LEN];
    size_t len = event_key(key, tenant_id, event_id);
    lru_cache_remove(c->events, key, len);
}

bool caches_key_get(struct caches *c, const unsigned char hash[TOKEN_HASH_LEN], int64_t now_ms,
                    int64_t *tenant_id, double *rate_limit)
{
    struct cached_tenant t;
    if (!lru_cache_get_fixed(c->keys, hash, TOKEN_HASH_LEN, now_ms, &t, sizeof(t)))
        return false;
    *tenant_id = t.id;
    *rate_limit = t.rate_limit;
    return true;
}

/* With a TTL of 0 the key cache has no room, so this stores nothing. */
void caches_key_put(struct caches *c, const unsigned char hash[TOKEN_HASH_LEN], int64_t now_ms,
                    int64_t tenant_id, double rate_limit)
{
    struct cached_tenant t = { tenant_id, rate_limit };
    lru_cache_put(c->keys, hash, TOKEN_HASH_LEN, &t, sizeof(t), now_ms + c->key_ttl_ms);
}
