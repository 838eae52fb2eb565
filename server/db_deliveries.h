/* db_deliveries.h - the delivery queue: fan-out of pending events, claims
 * with leases, lease renewal and release, and batched outcome records.
 *
 * A claimed delivery is 'delivering' with claim_id = the worker's id and
 * next_attempt_at = lease_until: when the lease runs out it is simply due
 * again, so a crashed worker's deliveries go to another worker without any
 * sweeper. Every write that concerns a claim checks claim_id, so a worker
 * that lost its lease cannot overwrite the newer owner's work. */
#ifndef HOOKD_DB_DELIVERIES_H
#define HOOKD_DB_DELIVERIES_H

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "secret_cache.h"

#define CLAIM_ID_LEN 36
/* Claims' leftovers are queued for an endpoint while fewer than this many
 * caps (its max_in_flight, or the default) of its deliveries are queued. */
#define REST_DEPTH_CAPS 4

/* The per-endpoint rules claims and records apply (from the configuration;
 * endpoints may override the limits). */
struct endpoint_rules {
    long max_in_flight;       /* default concurrent requests per endpoint */
    long rate_limit;          /* default requests per second; 0 = none */
    bool sign_v1a;            /* default: sign v1a (Ed25519) besides v1 */
    long breaker_threshold;   /* consecutive failures that open the circuit */
    long disable_after_s;     /* continuous failure that disables the endpoint */
};

struct claimed_delivery {
    int64_t tenant_id;
    int64_t delivery_id;
    int64_t endpoint_id;
    char event_id[24];
    int attempt;                 /* the number of the attempt about to be made */
    char *url;                   /* owned */
    char *body;                  /* owned: the stored event bytes */
    size_t body_len;
    char *secret;                /* owned: the endpoint's current secret */
    char *previous_secret;       /* owned, or NULL: still signing during a rotation */
    bool has_signing_key;
    unsigned char signing_key[crypto_sign_SECRETKEYBYTES];
    int send_limit;              /* requests to its endpoint this claim may run at once */
};

struct attempt_record {
    int64_t tenant_id;
    int64_t delivery_id;
    char event_id[sizeof(((struct claimed_delivery *)0)->event_id)]; /* with endpoint_id, */
    int64_t endpoint_id;         /* the delivery's other unique key (record_attempts.sql) */
    int attempt;
    int64_t started_ms;          /* Unix time in ms */
    long duration_ms;
    long status;                 /* HTTP status, 0 when there was no answer */
    char *response_body;         /* owned, valid UTF-8, capped; or NULL */
    char *error;                 /* owned, or NULL */
    const char *state;           /* 'delivered', 'pending' (retry), 'failed', 'disabled' */
    long retry_in_ms;            /* with 'pending': wait this long */
};

/* A new random claim id (a UUID's text form). */
void db_deliveries_claim_id(char out[CLAIM_ID_LEN + 1]);

/* Sends finished attempts to be written, with their attempt rows and the
 * endpoints' health, for the deliveries still claimed by claim_id, in one
 * transaction committed durably (the attempts are on record once
 * answered), in one round trip (hookd.record_attempts), without waiting;
 * the same transaction queues the deliveries that claims could not claim,
 * up to rest_limit rows of them (hookd.queue_rest; count may be 0 to do
 * only that), of endpoints with fewer than REST_DEPTH_CAPS times their cap
 * queued (the others keep theirs compact until their queue runs short).
 * db_deliveries_record_finish reads the answer (*recorded counts the
 * attempts written, the others' leases were lost; *rest_queued the claims'
 * leftovers queued), returning 0 while it has
 * not arrived (without wait), 1 when it has, -1 on failure. A success
 * closes the endpoint's circuit; failures extend its streak, open the
 * circuit at the breaker threshold (until the failed delivery's retry),
 * and disable it after disable_after_s of continuous failure; a 410
 * disables it at once. A disabled endpoint's queued deliveries are parked
 * (state 'disabled') for a replay. */
int db_deliveries_record_send(struct db_conn *conn, const char *claim_id,
                              const struct endpoint_rules *rules,
                              const struct attempt_record *records, size_t count,
                              long rest_limit, struct hk_error *err)
    __attribute__((warn_unused_result));
int db_deliveries_record_finish(struct db_conn *conn, bool wait, size_t *recorded,
                                long *rest_queued, struct hk_error *err)
    __attribute__((warn_unused_result));

struct claim_request {
    long fan_out_limit;          /* new outbox events to take at most; 0: none */
    long limit;                  /* deliveries to claim at most; 0: none */
    long lease_s;                /* the claims' lease */
    long ahead;                  /* per endpoint, deliveries to claim beyond its cap
                                  * (no more than twice the cap) when no other claim
                                  * has any of its deliveries; 0: none */
    const int64_t *finished;     /* this claim id's deliveries whose requests have */
    size_t n_finished;           /* finished but are not recorded yet (borrowed) */
};

struct claim_result {
    struct claimed_delivery *claimed; /* the caller frees each (claimed_delivery_free),
                                       * then the array */
    size_t count;
    long fanned_out;             /* outbox events handled */
    bool throttled;              /* an endpoint had due work its limits held back */
    bool busy;                   /* other claims held every endpoint with due work */
    bool rest_waiting;           /* claims left deliveries to be queued
                                  * (db_deliveries_record_send) */
};

/* In one round trip and one transaction, committed without waiting for the
 * WAL flush (hookd.claim_deliveries): claims up to limit deliveries for
 * claim_id with a lease of lease_s: first due queued ones, endpoint by
 * endpoint in order of their earliest due delivery, then those of up to
 * fan_out_limit new outbox events, inserted already claimed where their
 * endpoint has room (the others are left for db_deliveries_record_send to
 * queue, out->rest_waiting, or the event waits in the outbox for a moment;
 * see db/functions/claim_deliveries.sql). Each
 * endpoint's limits hold: its in-flight cap (across all workers;
 * req->finished are not in flight any more), its rate limit, its circuit
 * (open: nothing; at the breaker threshold: one at a time), and up to
 * req->ahead more may be claimed ahead for a healthy endpoint without a
 * rate limit that no other claim has deliveries of: each claimed delivery
 * carries send_limit, how many requests to its endpoint the worker may run
 * at once (the cap less the other claims' requests). Endpoints are
 * locked (SKIP LOCKED) for the claim, so limits hold with many workers.
 * throttled: worth looking again soon; busy: worth looking again at once.
 *
 * db_deliveries_claim_send sends the claim without waiting; then
 * db_deliveries_claim_finish reads the answer (opening the claims' sealed
 * secrets and signing keys with secrets, borrowed; NULL: each is opened
 * anew), returning 0 while it has not arrived (without wait), 1 with out
 * filled when it has, -1 on failure. */
int db_deliveries_claim_send(struct db_conn *conn, const char *claim_id,
                             const struct endpoint_rules *rules, const struct claim_request *req,
                             struct hk_error *err) __attribute__((warn_unused_result));
int db_deliveries_claim_finish(struct db_conn *conn, bool wait, struct secret_cache *secrets,
                               struct claim_result *out, struct hk_error *err)
    __attribute__((warn_unused_result));
void claimed_delivery_free(struct claimed_delivery *d);
void attempt_record_free(struct attempt_record *r);

/* Extends the leases of deliveries still claimed by claim_id. */
int db_deliveries_renew(struct db_conn *conn, const char *claim_id, const int64_t *tenant_ids,
                        const int64_t *delivery_ids, size_t count, long lease_s,
                        struct hk_error *err) __attribute__((warn_unused_result));
/* Gives claimed deliveries back (due now, no attempt recorded): shutdown. */
int db_deliveries_release(struct db_conn *conn, const char *claim_id, const int64_t *tenant_ids,
                          const int64_t *delivery_ids, size_t count, struct hk_error *err)
    __attribute__((warn_unused_result));

/* Queues an event again: to url's endpoint (NULL: every endpoint it was
 * delivered or due to), with the same event id; a delivery in flight is
 * left alone, a disabled endpoint's is parked. *queued counts the queued
 * deliveries. HK_ERR_EVENT_NOT_FOUND, HK_ERR_ENDPOINT_NOT_FOUND. */
int db_deliveries_redeliver(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                            const char *url, long *queued, struct hk_error *err)
    __attribute__((warn_unused_result));

/* Re-queues up to batch failed deliveries that failed at or after since
 * (RFC 3339; HK_ERR_INVALID on field "since" when unreadable), of url's
 * endpoint or all. They are spread out behind new traffic: the k-th
 * recovered delivery of an endpoint becomes due k * spacing_ms from now,
 * counting from offset (the deliveries recovered by earlier batches).
 * *queued counts this batch. */
int db_deliveries_recover(struct db_conn *conn, int64_t tenant_id, const char *since,
                          const char *url, long batch, long offset, long spacing_ms,
                          long *queued, struct hk_error *err) __attribute__((warn_unused_result));

#endif
