/* transfer.h - one delivery attempt as a libcurl easy handle: the signed
 * POST of the stored event bytes, and what its answer means.
 *
 * A transfer belongs to the worker thread that created it and is driven by
 * that thread's multi handle; it never crosses threads. */
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

struct transfer_options {
    long connect_timeout_ms;
    long request_timeout_ms;
    long max_redirects;
    long response_body_max;
    const struct destination_policy *destinations;   /* the SSRF guard's rules */
};

struct transfer {
    struct claimed_delivery delivery;   /* owned */
    CURL *easy;
    struct curl_slist *headers;
    struct buf response;                /* capped at response_body_max */
    bool truncated;
    int64_t started_ms;                 /* wall clock, for the record */
    int64_t started_mono_ms;            /* monotonic, for durations */
    int64_t renewed_mono_ms;            /* when the lease was last extended */
    char errbuf[CURL_ERROR_SIZE];
    struct net_guard guard;             /* says why a connection was refused */
};

/* Prepares the signed POST for a claimed delivery (taken over: its memory
 * now belongs to the transfer). NULL when the delivery cannot be signed
 * (a malformed secret); *d is left for the caller to free then. */
struct transfer *transfer_new(struct claimed_delivery *d, const struct transfer_options *opt);
/* Turns the finished transfer into an attempt record (owned by out). */
void transfer_outcome(struct transfer *t, CURLcode code, const struct retry_policy *policy,
                      struct attempt_record *out);
void transfer_free(struct transfer *t);

#endif
