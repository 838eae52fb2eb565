/* send_queue.c - what a delivery worker has claimed and may send (see
 * send_queue.h). */
#include "send_queue.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* An endpoint this worker has requests running or deliveries waiting for. */
struct lane {
    int64_t tenant_id;
    int64_t endpoint_id;
    int send_limit;          /* the latest claim's word */
    int running;
    size_t waiting;
    uint64_t hold_below;     /* claims numbered below this give theirs back; 0: none */
};

struct waiting {
    struct claimed_delivery d;
    uint64_t claim_seq;
    int64_t renewed_ms;
};

struct send_queue {
    struct waiting *items;   /* items[head .. head + len), oldest first */
    size_t head, len, cap;
    struct lane *lanes;
    size_t n_lanes, cap_lanes;
    struct delivery_keys given_back;
    uint64_t last_seq;       /* the latest claim added */
};

struct send_queue *send_queue_new(void)
{
    return xcalloc(1, sizeof(struct send_queue));
}

void send_queue_free(struct send_queue *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->len; i++)
        claimed_delivery_free(&q->items[q->head + i].d);
    free(q->items);
    free(q->lanes);
    delivery_keys_free(&q->given_back);
    free(q);
}

void delivery_keys_free(struct delivery_keys *keys)
{
    free(keys->tenant_ids);
    free(keys->delivery_ids);
    memset(keys, 0, sizeof(*keys));
}

void delivery_keys_push(struct delivery_keys *keys, int64_t tenant_id, int64_t delivery_id)
{
    if (keys->count == keys->cap) {
        keys->cap = keys->cap ? keys->cap * 2 : 64;
        keys->tenant_ids = xrealloc(keys->tenant_ids, keys->cap * sizeof(int64_t));
        keys->delivery_ids = xrealloc(keys->delivery_ids, keys->cap * sizeof(int64_t));
    }
    keys->tenant_ids[keys->count] = tenant_id;
    keys->delivery_ids[keys->count++] = delivery_id;
}

static struct lane *lane_find(struct send_queue *q, int64_t tenant_id, int64_t endpoint_id)
{
    for (size_t i = 0; i < q->n_lanes; i++) {
        if (q->lanes[i].endpoint_id == endpoint_id && q->lanes[i].tenant_id == tenant_id)
            return &q->lanes[i];
    }
    return NULL;
}

static struct lane *lane_get(struct send_queue *q, int64_t tenant_id, int64_t endpoint_id)
{
    struct lane *lane = lane_find(q, tenant_id, endpoint_id);
    if (lane != NULL)
        return lane;
    if (q->n_lanes == q->cap_lanes) {
        q->cap_lanes = q->cap_lanes ? q->cap_lanes * 2 : 16;
        q->lanes = xrealloc(q->lanes, q->cap_lanes * sizeof(*q->lanes));
    }
    lane = &q->lanes[q->n_lanes++];
    *lane = (struct lane){ .tenant_id = tenant_id, .endpoint_id = endpoint_id };
    return lane;
}

/* Forgets lanes with nothing running or waiting and no hold left. */
static void prune_lanes(struct send_queue *q)
{
    for (size_t i = 0; i < q->n_lanes;) {
        const struct lane *l = &q->lanes[i];
        if (l->running == 0 && l->waiting == 0 && l->hold_below <= q->last_seq)
            q->lanes[i] = q->lanes[--q->n_lanes];
        else
            i++;
    }
}

static void give_back(struct send_queue *q, struct claimed_delivery *d)
{
    delivery_keys_push(&q->given_back, d->tenant_id, d->delivery_id);
    claimed_delivery_free(d);
}

/* Room at the tail of items for one more. */
static void reserve_item(struct send_queue *q)
{
    if (q->head + q->len < q->cap)
        return;
    if (q->head > 0) {
        memmove(q->items, &q->items[q->head], q->len * sizeof(*q->items));
        q->head = 0;
        if (q->len < q->cap)
            return;
    }
    q->cap = q->cap ? q->cap * 2 : 64;
    q->items = xrealloc(q->items, q->cap * sizeof(*q->items));
}

/* Removes items[head + i] (moved out or freed by the caller). */
static void remove_item(struct send_queue *q, size_t i)
{
    if (i == 0) {
        q->head++;
    } else {
        struct waiting *at = &q->items[q->head + i];
        memmove(at, at + 1, (q->len - i - 1) * sizeof(*at));
    }
    if (--q->len == 0)
        q->head = 0;
}

void send_queue_add(struct send_queue *q, struct claimed_delivery *list, size_t count,
                    uint64_t claim_seq, int64_t claimed_ms)
{
    if (claim_seq > q->last_seq)
        q->last_seq = claim_seq;
    for (size_t i = 0; i < count; i++) {
        struct lane *lane = lane_get(q, list[i].tenant_id, list[i].endpoint_id);
        lane->send_limit = list[i].send_limit;
        if (claim_seq < lane->hold_below) {
            give_back(q, &list[i]);
            continue;
        }
        reserve_item(q);
        q->items[q->head + q->len++] = (struct waiting){
            .d = list[i], .claim_seq = claim_seq, .renewed_ms = claimed_ms };
        memset(&list[i], 0, sizeof(list[i]));
        lane->waiting++;
    }
    prune_lanes(q);
}

bool send_queue_next(struct send_queue *q, struct claimed_delivery *out, int64_t *renewed_ms)
{
    for (size_t i = 0; i < q->len; i++) {
        struct waiting *w = &q->items[q->head + i];
        struct lane *lane = lane_find(q, w->d.tenant_id, w->d.endpoint_id);
        if (lane == NULL || lane->running >= lane->send_limit)
            continue;
        *out = w->d;
        *renewed_ms = w->renewed_ms;
        lane->running++;
        lane->waiting--;
        remove_item(q, i);
        return true;
    }
    return false;
}

void send_queue_ended(struct send_queue *q, int64_t tenant_id, int64_t endpoint_id, bool failed,
                      uint64_t hold_below)
{
    struct lane *lane = lane_find(q, tenant_id, endpoint_id);
    if (lane == NULL)
        return;
    if (lane->running > 0)
        lane->running--;
    if (failed) {
        if (hold_below > lane->hold_below)
            lane->hold_below = hold_below;
        for (size_t i = 0; i < q->len && lane->waiting > 0;) {
            struct waiting *w = &q->items[q->head + i];
            if (w->d.tenant_id == tenant_id && w->d.endpoint_id == endpoint_id) {
                give_back(q, &w->d);
                remove_item(q, i);
                lane->waiting--;
            } else {
                i++;
            }
        }
    }
    prune_lanes(q);
}

void send_queue_give_back_all(struct send_queue *q)
{
    for (size_t i = 0; i < q->len; i++)
        give_back(q, &q->items[q->head + i].d);
    q->head = q->len = 0;
    for (size_t i = 0; i < q->n_lanes; i++)
        q->lanes[i].waiting = 0;
    prune_lanes(q);
}

void send_queue_take_given_back(struct send_queue *q, struct delivery_keys *out)
{
    *out = q->given_back;
    memset(&q->given_back, 0, sizeof(q->given_back));
}

void send_queue_due_for_renewal(struct send_queue *q, int64_t now_ms, int64_t every_ms,
                                struct delivery_keys *out)
{
    for (size_t i = 0; i < q->len; i++) {
        struct waiting *w = &q->items[q->head + i];
        if (now_ms - w->renewed_ms < every_ms)
            continue;
        delivery_keys_push(out, w->d.tenant_id, w->d.delivery_id);
        w->renewed_ms = now_ms;
    }
}

size_t send_queue_waiting(const struct send_queue *q)
{
    return q->len;
}
