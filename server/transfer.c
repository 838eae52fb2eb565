/* transfer.c - the signed delivery request and the reading of its answer. */
#include "transfer.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "signature.h"
#include "utf8.h"
#include "version.h"
#include "xmalloc.h"

/* Keeps the first response_body_max bytes of the answer; past that the
 * transfer is stopped (returning less than given aborts it): an endless
 * body must not hold the worker. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct transfer *t = userdata;
    size_t n = size * nmemb;
    if (buf_append_truncating(&t->response, data, n)) {
        t->truncated = true;
        return 0;
    }
    return n;
}

/* A kept response buffer larger than this is given back when the transfer
 * is reused: idle transfers hold little memory. */
#define KEPT_RESPONSE_BYTES 4096

/* Recent v1a signatures, direct-mapped by event id. An event fanned out to
 * several endpoints of one tenant is signed with the same key over the same
 * "{id}.{timestamp}.{body}" for each of them, mostly within one second, and
 * Ed25519 is deterministic: the signature is the same, and computing it is
 * most of the CPU a delivery costs. A slot remembers which key (by its
 * public half, the second half of libsodium's secret key) signed which
 * event at which second; an event's stored bytes never change, and its
 * length is compared too. */
#define RECENT_SIGNATURES 64

struct recent_signature {
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
    char event_id[sizeof(((struct claimed_delivery *)0)->event_id)];
    long long timestamp;
    size_t body_len;
    char v1a[SIGNATURE_V1A_LEN + 1];       /* "" when the slot is empty */
};

struct transfer_pool {
    const struct transfer_options *opt;   /* borrowed */
    struct transfer **idle;
    size_t n_idle;
    size_t max_idle;
    struct recent_signature recent[RECENT_SIGNATURES];
    uint64_t signatures_reused;
};

struct transfer_pool *transfer_pool_new(const struct transfer_options *opt, size_t max_idle)
{
    struct transfer_pool *pool = xcalloc(1, sizeof(*pool));
    pool->opt = opt;
    pool->max_idle = max_idle;
    pool->idle = xcalloc(max_idle + 1, sizeof(struct transfer *));
    return pool;
}

static void transfer_destroy(struct transfer *t)
{
    curl_easy_cleanup(t->easy);
    buf_free(&t->response);
    free(t);
}

void transfer_pool_free(struct transfer_pool *pool)
{
    if (pool == NULL)
        return;
    for (size_t i = 0; i < pool->n_idle; i++)
        transfer_destroy(pool->idle[i]);
    free(pool->idle);
    free(pool);
}

/* A new transfer with the header list linked and every option that is the
 * same for all deliveries set. */
static struct transfer *transfer_create(struct transfer_pool *pool)
{
    const struct transfer_options *opt = pool->opt;
    struct transfer *t = xcalloc(1, sizeof(*t));
    t->pool = pool;
    buf_init(&t->response, (size_t)opt->response_body_max);
    memcpy(t->content_type_line, "Content-Type: application/json",
           sizeof(t->content_type_line));
    memcpy(t->expect_line, "Expect:", sizeof(t->expect_line));
    char *lines[TRANSFER_HEADERS] = { t->content_type_line, t->id_line, t->timestamp_line,
                                      t->signature_line, t->expect_line };
    for (size_t i = 0; i < TRANSFER_HEADERS; i++) {
        t->headers[i].data = lines[i];
        t->headers[i].next = i + 1 < TRANSFER_HEADERS ? &t->headers[i + 1] : NULL;
    }

    CURL *e = curl_easy_init();
    if (e == NULL)
        abort(); /* out of memory */
    t->easy = e;
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "hookd/" HOOKD_VERSION);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, opt->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, opt->request_timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, opt->max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, opt->max_redirects);
    /* A redirected webhook is still a webhook: POST the same body again. */
    curl_easy_setopt(e, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    net_guard_attach(e, &t->guard, opt->destinations);
    return t;
}

/* A transfer to use: a kept one (its last delivery's traces cleared), or a
 * new one. */
static struct transfer *transfer_take(struct transfer_pool *pool)
{
    if (pool->n_idle == 0)
        return transfer_create(pool);
    struct transfer *t = pool->idle[--pool->n_idle];
    if (t->response.alloc > KEPT_RESPONSE_BYTES) {
        size_t cap = t->response.cap;
        buf_free(&t->response);
        buf_init(&t->response, cap);
    } else {
        buf_reset(&t->response);
    }
    t->truncated = false;
    t->errbuf[0] = '\0';
    t->guard.refused[0] = '\0';
    return t;
}

/* Keeps t for the next delivery, or frees it when the pool is full. */
static void transfer_give_back(struct transfer *t)
{
    struct transfer_pool *pool = t->pool;
    if (pool->n_idle < pool->max_idle)
        pool->idle[pool->n_idle++] = t;
    else
        transfer_destroy(t);
}

/* The v1a signature of d at timestamp: a recent one of the same key, event
 * and second, or a new one (then remembered). Borrowed from the pool. */
static const char *v1a_signature(struct transfer_pool *pool, const struct claimed_delivery *d,
                                 long long timestamp)
{
    const unsigned char *public_key = d->signing_key + crypto_sign_SEEDBYTES;
    uint64_t h = 14695981039346656037ULL;    /* FNV-1a of the (random) event id */
    for (const char *p = d->event_id; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    struct recent_signature *r = &pool->recent[h % RECENT_SIGNATURES];
    if (r->v1a[0] != '\0' && r->timestamp == timestamp && r->body_len == d->body_len &&
        strcmp(r->event_id, d->event_id) == 0 &&
        memcmp(r->public_key, public_key, sizeof(r->public_key)) == 0) {
        pool->signatures_reused++;
        return r->v1a;
    }
    signature_v1a(d->signing_key, d->event_id, timestamp, d->body, d->body_len, r->v1a);
    memcpy(r->public_key, public_key, sizeof(r->public_key));
    snprintf(r->event_id, sizeof(r->event_id), "%s", d->event_id);
    r->timestamp = timestamp;
    r->body_len = d->body_len;
    return r->v1a;
}

uint64_t transfer_pool_signatures_reused(const struct transfer_pool *pool)
{
    return pool->signatures_reused;
}

/* "webhook-signature: v1,… v1a,…" into t's line; -1 when a secret is
 * malformed. */
static int write_signature_line(struct transfer *t, const struct claimed_delivery *d,
                                long long timestamp)
{
    static const char name[] = "webhook-signature: ";
    const char *secrets[] = { d->secret, d->previous_secret };
    char *value = t->signature_line + sizeof(name) - 1;
    size_t cap = sizeof(t->signature_line) - (sizeof(name) - 1);
    memcpy(t->signature_line, name, sizeof(name) - 1);
    /* Never unsigned: a current secret that could not be opened (another
     * master key) leaves the delivery unsendable rather than sent bare. */
    if (d->secret == NULL)
        return -1;
    int used = signature_header_write(value, cap, secrets, 2, NULL, d->event_id, timestamp,
                                      d->body, d->body_len);
    if (used < 0)
        return -1;
    if (d->has_signing_key)
        snprintf(value + used, cap - (size_t)used, "%s%s", used > 0 ? " " : "",
                 v1a_signature(t->pool, d, timestamp));
    return 0;
}

struct transfer *transfer_new(struct transfer_pool *pool, struct claimed_delivery *d)
{
    struct transfer *t = transfer_take(pool);
    long long now_s = (long long)time(NULL);
    if (write_signature_line(t, d, now_s) != 0) {
        transfer_give_back(t);
        return NULL;
    }
    t->delivery = *d;
    memset(d, 0, sizeof(*d));
    snprintf(t->id_line, sizeof(t->id_line), "webhook-id: %s", t->delivery.event_id);
    snprintf(t->timestamp_line, sizeof(t->timestamp_line), "webhook-timestamp: %lld", now_s);

    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, t->delivery.url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->delivery.body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->delivery.body_len);
    t->started_ms = clock_wall_ms();
    t->started_mono_ms = clock_mono_ms();
    t->renewed_mono_ms = t->started_mono_ms;
    return t;
}

void transfer_outcome(struct transfer *t, CURLcode code, const struct retry_policy *policy,
                      struct attempt_record *out)
{
    memset(out, 0, sizeof(*out));
    out->tenant_id = t->delivery.tenant_id;
    out->delivery_id = t->delivery.delivery_id;
    snprintf(out->event_id, sizeof(out->event_id), "%s", t->delivery.event_id);
    out->endpoint_id = t->delivery.endpoint_id;
    out->attempt = t->delivery.attempt;
    out->started_ms = t->started_ms;
    out->duration_ms = (long)(clock_mono_ms() - t->started_mono_ms);

    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    /* An answer whose body we stopped reading is still an answer. */
    bool answered = code == CURLE_OK || (code == CURLE_WRITE_ERROR && t->truncated);
    if (!answered && t->guard.refused[0] != '\0') {
        out->error = xstrdup(t->guard.refused);
        status = 0;
    } else if (!answered) {
        out->error = xasprintf("%s%s%s", curl_easy_strerror(code), t->errbuf[0] ? ": " : "",
                               t->errbuf);
        if (code != CURLE_TOO_MANY_REDIRECTS)
            status = 0;
    }
    out->status = status;
    if (t->response.len > 0 || answered)
        out->response_body = utf8_sanitize(t->response.data ? t->response.data : "",
                                           t->response.len);

    enum attempt_outcome outcome = answered ? retry_classify(status) : OUTCOME_RETRY;
    switch (outcome) {
    case OUTCOME_DELIVERED:
        out->state = "delivered";
        return;
    case OUTCOME_GONE:
        out->state = "disabled";
        return;
    case OUTCOME_RETRY:
        break;
    }
    struct curl_header *h = NULL;
    const char *retry_after = NULL;
    if (answered && curl_easy_header(t->easy, "Retry-After", 0, CURLH_HEADER, -1, &h) ==
                        CURLHE_OK)
        retry_after = h->value;
    long delay = retry_delay_ms(policy, t->delivery.attempt, status, retry_after, time(NULL),
                                randombytes_random());
    if (delay < 0) {
        out->state = "failed";
    } else {
        out->state = "pending";
        out->retry_in_ms = delay;
    }
}

void transfer_free(struct transfer *t)
{
    if (t == NULL)
        return;
    claimed_delivery_free(&t->delivery);
    transfer_give_back(t);
}
