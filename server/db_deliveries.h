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

#define CLAIM_ID_LEN 36

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
};

struct attempt_record {
    int64_t tenant_id;
    int64_t delivery_id;
    int64_t endpoint_id;
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

/* Moves up to limit pending events into deliveries (one per matching
 * endpoint) and deletes them from the outbox, in one transaction. *moved
 * gets the number of events handled. */
int db_deliveries_fan_out(struct db_conn *conn, long limit, long *moved, struct hk_error *err)
    __attribute__((warn_unused_result));

/* Claims up to limit due deliveries for claim_id with a lease of lease_s.
 * *out gets a new array (caller frees each with claimed_delivery_free and
 * then the array) and *count its length. */
int db_deliveries_claim(struct db_conn *conn, const char *claim_id, long limit, long lease_s,
                        struct claimed_delivery **out, size_t *count, struct hk_error *err)
    __attribute__((warn_unused_result));
void claimed_delivery_free(struct claimed_delivery *d);

/* Writes outcomes and their attempt rows in one transaction; only rows
 * still claimed by claim_id are written (*written counts them). A 410
 * disables the endpoint and parks its queued deliveries. */
int db_deliveries_record(struct db_conn *conn, const char *claim_id,
                         const struct attempt_record *records, size_t count, size_t *written,
                         struct hk_error *err) __attribute__((warn_unused_result));
void attempt_record_free(struct attempt_record *r);

/* Extends the leases of deliveries still claimed by claim_id. */
int db_deliveries_renew(struct db_conn *conn, const char *claim_id, const int64_t *tenant_ids,
                        const int64_t *delivery_ids, size_t count, long lease_s,
                        struct hk_error *err) __attribute__((warn_unused_result));
/* Gives claimed deliveries back (due now, no attempt recorded): shutdown. */
int db_deliveries_release(struct db_conn *conn, const char *claim_id, const int64_t *tenant_ids,
                          const int64_t *delivery_ids, size_t count, struct hk_error *err)
    __attribute__((warn_unused_result));

#endif
