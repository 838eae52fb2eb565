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

struct transfer *transfer_new(struct claimed_delivery *d, const struct transfer_options *opt)
{
    struct claimed_delivery *del = d;
    long long now_s = (long long)time(NULL);
    const char *secrets[] = { del->secret, del->previous_secret };
    char *signature = signature_header(secrets, 2, del->has_signing_key ? del->signing_key : NULL,
                                       del->event_id, now_s, del->body, del->body_len);
    if (signature == NULL)
        return NULL;

    struct transfer *t = xcalloc(1, sizeof(*t));
    t->delivery = *d;
    memset(d, 0, sizeof(*d));
    buf_init(&t->response, (size_t)opt->response_body_max);

    char line[SIGNATURE_V1A_LEN * 3 + 64];
    t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
    snprintf(line, sizeof(line), "webhook-id: %s", t->delivery.event_id);
    t->headers = curl_slist_append(t->headers, line);
    snprintf(line, sizeof(line), "webhook-timestamp: %lld", now_s);
    t->headers = curl_slist_append(t->headers, line);
    char *sig_line = xasprintf("webhook-signature: %s", signature);
    t->headers = curl_slist_append(t->headers, sig_line);
    free(sig_line);
    free(signature);
    t->headers = curl_slist_append(t->headers, "Expect:");

    CURL *e = curl_easy_init();
    if (e == NULL)
        abort(); /* out of memory */
    t->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, t->delivery.url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->delivery.body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->delivery.body_len);
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
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    buf_free(&t->response);
    claimed_delivery_free(&t->delivery);
    free(t);
}
