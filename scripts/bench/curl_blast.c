/* curl_blast.c - the deliver ceiling of scripts/bench.sh.
 *
 * POSTs one body COUNT times with libcurl's multi interface, CONCURRENCY
 * requests at a time, to the given URLs in turn, with webhook-style headers
 * of the sizes hookd sends (Content-Type, User-Agent, webhook-id,
 * webhook-timestamp, a v1 + v1a webhook-signature, an empty Expect). What
 * hookd's delivery would cost with no database, no signing and no
 * bookkeeping: the same libcurl, the same receiver, the same concurrency.
 * Handles are reused and the multi handle keeps CONCURRENCY connections, so
 * connections are reused as hookd's workers reuse theirs.
 *
 *   curl_blast -b BODY_FILE -n COUNT -c CONCURRENCY URL [URL...]
 *
 * Prints: sent=N ok=N failed=N seconds=S rps=R  (ok: 2xx answers)
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

int main(int argc, char **argv)
{
    const char *body_file = NULL;
    long count = 0, concurrency = 32;
    int opt;
    while ((opt = getopt(argc, argv, "b:n:c:")) != -1) {
        switch (opt) {
        case 'b': body_file = optarg; break;
        case 'n': count = strtol(optarg, NULL, 10); break;
        case 'c': concurrency = strtol(optarg, NULL, 10); break;
        default: count = -1; break;
        }
    }
    int n_urls = argc - optind;
    char **urls = argv + optind;
    if (body_file == NULL || count <= 0 || concurrency <= 0 || n_urls < 1) {
        fprintf(stderr, "usage: curl_blast -b BODY_FILE -n COUNT -c CONCURRENCY URL [URL...]\n");
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
     * "v1,<44 base64> v1a,<88 base64>". The values are not checked. */
    char timestamp[64];
    snprintf(timestamp, sizeof(timestamp), "webhook-timestamp: %lld", (long long)time(NULL));
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "webhook-id: EVbench0123456789abcd");
    headers = curl_slist_append(headers, timestamp);
    headers = curl_slist_append(
        headers, "webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= "
                 "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo"
                 "3mNl8EM+m7TBAg==");
    headers = curl_slist_append(headers, "Expect:");

    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, concurrency);
    CURL **easy = calloc((size_t)concurrency, sizeof(*easy));
    if (easy == NULL)
        return 1;
    for (long i = 0; i < concurrency; i++) {
        CURL *e = curl_easy_init();
        easy[i] = e;
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "hookd/0.1.0");
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 15000L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
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
            if (msg->data.result == CURLE_OK && status >= 200 && status < 300)
                ok++;
            else
                failed++;
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
    printf("sent=%ld ok=%ld failed=%ld seconds=%.3f rps=%.1f\n", count, ok, failed, seconds,
           (double)ok / seconds);

    for (long i = 0; i < concurrency; i++)
        curl_easy_cleanup(easy[i]);
    free(easy);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    free(body);
    return failed == 0 ? 0 : 1;
}
