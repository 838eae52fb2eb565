/* transfer.h - one delivery attempt as a libcurl easy handle: the signed
 * POST of the stored event bytes, and what its answer means.
 *
 * A transfer belongs to the worker thread that created it and is driven by
 * that thread's multi handle; it never crosses threads. Each worker keeps a
 * transfer_pool: a finished transfer goes back to it with its easy handle
 * and header list, and the next delivery reuses them, setting only what
 * differs between deliveries (URL, body, the webhook-* header values), so
 * a delivery does not pay for a new easy handle and its options each time.
 * The pool also remembers the last v1a (Ed25519) signatures: the
 * deliveries of one event to a tenant's endpoints within a second share
 * one (it is deterministic, and the costliest part of a delivery).
 * The pool belongs to the worker thread too (freed after it is joined). */
#ifndef HOOKD_TRANSFER_H
#define HOOKD_TRANSFER_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "clock.h"
#include "db_deliveries.h"
#include "net_guard.h"
#include "retry.h"
#include "signature.h"

struct transfer_options {
    long connect_timeout_ms;
    long request_timeout_ms;
    long max_redirects;
    long response_body_max;
    const struct destination_policy *destinations;   /* the SSRF guard's rules */
};

/* The request headers libcurl is given besides User-Agent. */
#define TRANSFER_HEADERS 5

struct transfer_pool;

struct transfer {
    struct claimed_delivery delivery;   /* owned */
    struct transfer_pool *pool;         /* where it goes back when freed */
    CURL *easy;                         /* keeps the options every delivery shares */
    /* The header list, built in place (libcurl only reads it): its nodes
     * point at the lines below, rewritten for each delivery. */
    struct curl_slist headers[TRANSFER_HEADERS];
    char content_type_line[sizeof("Content-Type: application/json")];
    char id_line[sizeof("webhook-id: ") + sizeof(((struct claimed_delivery *)0)->event_id)];
    char timestamp_line[sizeof("webhook-timestamp: ") + 24];
    char signature_line[sizeof("webhook-signature: ") + SIGNATURE_HEADER_MAX(2)];
    char expect_line[sizeof("Expect:")];
    struct buf response;                /* capped at response_body_max */
    bool truncated;
    int64_t started_ms;                 /* wall clock, for the record */
    int64_t started_mono_ms;            /* monotonic, for durations */
    int64_t renewed_mono_ms;            /* when the lease was last extended */
    char errbuf[CURL_ERROR_SIZE];
    struct net_guard guard;             /* says why a connection was refused */
};

/* A worker's pool of finished transfers, keeping at most max_idle of them
 * for reuse; opt is borrowed and must outlive the pool. */
struct transfer_pool *transfer_pool_new(const struct transfer_options *opt, size_t max_idle);
/* Frees the kept transfers (every transfer of the pool must be freed
 * first; NULL is fine). */
void transfer_pool_free(struct transfer_pool *pool);
/* How many v1a signatures were taken from a recent delivery of the same
 * event (same key and second) instead of being computed again. */
uint64_t transfer_pool_signatures_reused(const struct transfer_pool *pool);

/* Prepares the signed POST for a claimed delivery (taken over: its memory
 * now belongs to the transfer), reusing a kept transfer of the pool when
 * there is one. NULL when the delivery cannot be signed (a malformed
 * secret); *d is left for the caller to free then. */
struct transfer *transfer_new(struct transfer_pool *pool, struct claimed_delivery *d);
/* Turns the finished transfer into an attempt record (owned by out). */
void transfer_outcome(struct transfer *t, CURLcode code, const struct retry_policy *policy,
                      struct attempt_record *out);
/* Frees the delivery and gives the transfer back to its pool (or frees it
 * when the pool is full). It must not be in a multi handle any more. */
void transfer_free(struct transfer *t);

#endif
