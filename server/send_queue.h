/* send_queue.h - what a delivery worker has claimed and may send: each
 * endpoint's send limit and running requests, and the deliveries claimed
 * ahead that wait for one of its requests to end. Pure bookkeeping (no
 * libcurl, no database); one queue belongs to one worker thread.
 *
 * A claim may take more of an endpoint's deliveries than its cap (claiming
 * ahead, db/functions/claim_deliveries.sql), and says with each one how
 * many requests to its endpoint this worker may run at once (send_limit).
 * The queue hands deliveries out oldest first, each only while its
 * endpoint runs fewer than its latest send limit, so the slot of a request
 * that ends is refilled at once instead of after a claim's round trip.
 *
 * After a failed attempt the endpoint's breaker may be about to open, and
 * only the next claim (sent after the failure is on record) can say: so
 * its waiting deliveries, and those of claims sent before that one, are
 * given back (released to the queue in the database) instead of sent. */
#ifndef HOOKD_SEND_QUEUE_H
#define HOOKD_SEND_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db_deliveries.h"

struct send_queue;

/* Deliveries by key (the arrays are owned by the list; zeroed: empty). */
struct delivery_keys {
    int64_t *tenant_ids;
    int64_t *delivery_ids;
    size_t count;
    size_t cap;
};

/* Appends one delivery's key. */
void delivery_keys_push(struct delivery_keys *keys, int64_t tenant_id, int64_t delivery_id);

struct send_queue *send_queue_new(void);
/* Frees the queue and every delivery still waiting in it (NULL is fine). */
void send_queue_free(struct send_queue *q);

/* Adds the deliveries of the claim numbered claim_seq (numbers grow with
 * every claim sent), taken over (the caller frees only the array), behind
 * those waiting. Each sets its endpoint's send limit. claimed_ms is when
 * their leases were (re)newed, on the caller's monotonic clock. */
void send_queue_add(struct send_queue *q, struct claimed_delivery *list, size_t count,
                    uint64_t claim_seq, int64_t claimed_ms);

/* The oldest waiting delivery whose endpoint runs fewer requests than its
 * send limit, moved into *out (the caller owns it now), with when its
 * lease was last renewed in *renewed_ms; its endpoint counts one more
 * running request. false when none may be sent. */
bool send_queue_next(struct send_queue *q, struct claimed_delivery *out, int64_t *renewed_ms);

/* A request handed out by send_queue_next has ended. failed: its
 * endpoint's waiting deliveries are to be given back, and so are those of
 * claims numbered below hold_below that are still to come. */
void send_queue_ended(struct send_queue *q, int64_t tenant_id, int64_t endpoint_id, bool failed,
                      uint64_t hold_below);

/* Every waiting delivery is to be given back (shutdown). */
void send_queue_give_back_all(struct send_queue *q);

/* The deliveries to give back, moved into *out (empty when there are
 * none); the caller releases their claims and frees out with
 * delivery_keys_free. */
void send_queue_take_given_back(struct send_queue *q, struct delivery_keys *out);

/* Appends to *out the waiting deliveries whose leases were renewed at or
 * before now_ms - every_ms, and marks them renewed at now_ms. */
void send_queue_due_for_renewal(struct send_queue *q, int64_t now_ms, int64_t every_ms,
                                struct delivery_keys *out);

/* How many deliveries wait. */
size_t send_queue_waiting(const struct send_queue *q);

void delivery_keys_free(struct delivery_keys *keys);

#endif
