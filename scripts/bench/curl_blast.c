/* curl_blast.c - the deliver ceiling of scripts/bench.sh.
 *
 * POSTs one body COUNT times with libcurl's multi interface, CONCURRENCY
 * requests at a time, to the given URLs in turn, with webhook-style headers
 * of the sizes hookd sends (Content-Type, User-Agent, webhook-id,
 * webhook-timestamp, a v1 webhook-signature, an empty Expect). What
 * hookd's delivery would cost with no database, no signing and no
 * bookkeeping: the same libcurl, the same receiver, the same concurrency.
 * Handles are reused and the multi handle keeps CONCURRENCY connections, so
 * connections are reused as hookd's workers reuse theirs.
 *
 *   curl_blast -b BODY_FILE -n COUNT -c CONCURRENCY [-t TIMEOUT_MS] URL [URL...]
 *
 * TIMEOUT_MS bounds each request (15000; connecting: 5000 at most).
 *
 * Prints: sent=N ok=N failed=N seconds=S rps=R cpu_s=C  (ok: 2xx answers;
 * cpu_s: this process's user + system CPU seconds, for bench.sh's account
 * of where the ceiling's CPU goes)
 * and, on stderr, one line per kind of failure (the libcurl error or the
 * HTTP status, how far the request got, on a new or a reused connection)
 * with its count and the first one's libcurl message, so that a failed
 * ceiling explains itself.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

/* Kinds of failure told apart; more than that are counted as "other". */
#define MAX_FAILURE_KINDS 16

/* How far a failed request got: what separates a connect that never
 * completed from a request the server never answered. */
enum progress { NOT_SENT, SENT_NO_ANSWER, ANSWER_STARTED };
enum connection { CONN_NONE, CONN_NEW, CONN_REUSED };

struct failure_kind {
    CURLcode result;
    long status;                 /* HTTP status when result is CURLE_OK */
    enum progress progress;
    enum connection connection;
    long count;
    char first_message[CURL_ERROR_SIZE]; /* libcurl's message of the first one */
    double first_seconds;        /* how long the first one took */
};

struct failure_tally {
    struct failure_kind kinds[MAX_FAILURE_KINDS];
    int n_kinds;
    long other;                  /* failures beyond MAX_FAILURE_KINDS kinds */
};

static const char *progress_name(enum progress p)
{
    switch (p) {
    case NOT_SENT: return "request not sent";
    case SENT_NO_ANSWER: return "request sent, no answer";
    case ANSWER_STARTED: return "answer started";
    }
    return "?";
}

/* Counts one failed transfer of E (RESULT, STATUS, MESSAGE: its libcurl
 * error buffer) under its kind. */
static void tally_failure(struct failure_tally *t, CURL *e, CURLcode result, long status,
                          const char *message)
{
    long request_bytes = 0, header_bytes = 0, connects = 0;
    curl_off_t total_us = 0;
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &request_bytes);
    curl_easy_getinfo(e, CURLINFO_HEADER_SIZE, &header_bytes);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total_us);
    enum progress progress = header_bytes > 0    ? ANSWER_STARTED
                             : request_bytes > 0 ? SENT_NO_ANSWER
                                                 : NOT_SENT;
    /* NUM_CONNECTS counts connections this transfer made; none made and
     * nothing sent means the connect itself failed. */
    enum connection connection = connects > 0                ? CONN_NEW
                                 : progress == NOT_SENT ? CONN_NONE
                                                        : CONN_REUSED;
    for (int i = 0; i < t->n_kinds; i++) {
        struct failure_kind *k = &t->kinds[i];
        if (k->result == result && k->status == status && k->progress == progress &&
            k->connection == connection) {
            k->count++;
            return;
        }
    }
    if (t->n_kinds == MAX_FAILURE_KINDS) {
        t->other++;
        return;
    }
    struct failure_kind *k = &t->kinds[t->n_kinds++];
    k->result = result;
    k->status = status;
    k->progress = progress;
    k->connection = connection;
    k->count = 1;
    snprintf(k->first_message, sizeof(k->first_message), "%s",
             message[0] != '\0' ? message : curl_easy_strerror(result));
    k->first_seconds = (double)total_us / 1e6;
}

static const char *connection_name(enum connection c)
{
    switch (c) {
    case CONN_NONE: return "no connection";
    case CONN_NEW: return "new connection";
    case CONN_REUSED: return "reused connection";
    }
    return "?";
}

static void print_failures(const struct failure_tally *t, FILE *out)
{
    for (int i = 0; i < t->n_kinds; i++) {
        const struct failure_kind *k = &t->kinds[i];
        if (k->result == CURLE_OK)
            fprintf(out, "curl_blast: %ld x HTTP %ld (%s)\n", k->count, k->status,
                    connection_name(k->connection));
        else
            fprintf(out,
                    "curl_blast: %ld x %s (%s, %s; the first after %.3f s: %s)\n", k->count,
                    curl_easy_strerror(k->result), progress_name(k->progress),
                    connection_name(k->connection), k->first_seconds, k->first_message);
    }
    if (t->other > 0)
        fprintf(out, "curl_blast: %ld x other failures\n", t->other);
}

int main(int argc, char **argv)
{
    const char *body_file = NULL;
    long count = 0, concurrency = 32, timeout_ms = 15000;
    int opt;
    while ((opt = getopt(argc, argv, "b:n:c:t:")) != -1) {
        switch (opt) {
        case 'b': body_file = optarg; break;
        case 'n': count = strtol(optarg, NULL, 10); break;
        case 'c': concurrency = strtol(optarg, NULL, 10); break;
        case 't': timeout_ms = strtol(optarg, NULL, 10); break;
        default: count = -1; break;
        }
    }
    int n_urls = argc - optind;
    char **urls = argv + optind;
    if (body_file == NULL || count <= 0 || concurrency <= 0 || timeout_ms <= 0 ||
        n_urls < 1) {
        fprintf(stderr, "usage: curl_blast -b BODY_FILE -n COUNT -c CONCURRENCY [-t TIMEOUT_MS] "
                        "URL [URL...]\n");
        return 2;
    }
    size_t body_len = 0;
    char *body = read_file(body_file, &body_len);
    if (body == NULL) {
        fprintf(stderr, "curl_blast: cannot read %s\n", body_file);
        return 1;
    }
    if (concurrency > count)
        concurrency = count;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Header values of the lengths hookd signs and sends (transfer.c):
     * webhook-id EV + 18 characters, a 10-digit timestamp, and
     * "v1,<44 base64>" (an endpoint's default since 0022: no v1a). The
     * values are not checked. */
    char timestamp[64];
    snprintf(timestamp, sizeof(timestamp), "webhook-timestamp: %lld", (long long)time(NULL));
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "webhook-id: EVbench0123456789abcd");
    headers = curl_slist_append(headers, timestamp);
    headers = curl_slist_append(
        headers, "webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=");
    headers = curl_slist_append(headers, "Expect:");

    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, concurrency);
    CURL **easy = calloc((size_t)concurrency, sizeof(*easy));
    /* One libcurl error buffer per handle. */
    char(*errors)[CURL_ERROR_SIZE] = calloc((size_t)concurrency, sizeof(*errors));
    struct failure_tally *tally = calloc(1, sizeof(*tally));
    if (easy == NULL || errors == NULL || tally == NULL)
        return 1;
    for (long i = 0; i < concurrency; i++) {
        CURL *e = curl_easy_init();
        easy[i] = e;
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "hookd/0.1.0");
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errors[i]);
        curl_easy_setopt(e, CURLOPT_PRIVATE, errors[i]);
    }

    long started = 0, ok = 0, failed = 0, finished = 0;
    int64_t t0 = now_us(CLOCK_MONOTONIC);
    for (long i = 0; i < concurrency; i++) {
        curl_easy_setopt(easy[i], CURLOPT_URL, urls[started % n_urls]);
        curl_multi_add_handle(multi, easy[i]);
        started++;
    }
    while (finished < count) {
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *e = msg->easy_handle;
            long status = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result == CURLE_OK && status >= 200 && status < 300) {
                ok++;
            } else {
                char *message = NULL;
                curl_easy_getinfo(e, CURLINFO_PRIVATE, &message);
                tally_failure(tally, e, msg->data.result, status, message);
                failed++;
            }
            finished++;
            curl_multi_remove_handle(multi, e);
            if (started < count) {
                curl_easy_setopt(e, CURLOPT_URL, urls[started % n_urls]);
                curl_multi_add_handle(multi, e);
                started++;
            }
        }
        if (finished < count)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    double seconds = (double)(now_us(CLOCK_MONOTONIC) - t0) / 1e6;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu_s = (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                   (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    printf("sent=%ld ok=%ld failed=%ld seconds=%.3f rps=%.1f cpu_s=%.3f\n", count, ok, failed,
           seconds, (double)ok / seconds, cpu_s);
    fflush(stdout);
    print_failures(tally, stderr);

    for (long i = 0; i < concurrency; i++)
        curl_easy_cleanup(easy[i]);
    free(easy);
    free(errors);
    free(tally);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    free(body);
    return failed == 0 ? 0 : 1;
}
