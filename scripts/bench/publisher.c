/* publisher.c - the steady publisher of scripts/bench.sh's latency and
 * isolation scenarios.
 *
 * POSTs events to hookd's POST /events at a fixed RATE for SECONDS on an
 * open-loop schedule: request i is due at start + i/RATE whether or not
 * earlier ones have been answered (libcurl multi, up to MAX_IN_FLIGHT at
 * once). Each event's data is {"sent_us":<T>,"pad":"..."}, T being the
 * wall-clock (CLOCK_REALTIME) microsecond at which the request was due, so
 * any lag of the publisher itself or back-pressure from hookd counts in
 * the latency the receiver measures (no coordinated omission).
 *
 *   publisher -u URL -k API_KEY -T TYPE [-r RATE] [-s SECONDS] [-p PAD_BYTES]
 *             [-c MAX_IN_FLIGHT]
 *
 * Prints: due=N sent=N created=N other=N errors=N late=N seconds=S rate=R
 * (created: 201 answers; late: sent more than 1 ms after being due;
 * seconds and rate: the window in which requests were started).
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

struct slot {
    CURL *easy;
    char *body;
    int busy;
};

int main(int argc, char **argv)
{
    const char *url = NULL, *key = NULL, *type = NULL;
    double rate = 1000, seconds = 10;
    long pad = 900, max_in_flight = 256;
    int opt;
    while ((opt = getopt(argc, argv, "u:k:T:r:s:p:c:")) != -1) {
        switch (opt) {
        case 'u': url = optarg; break;
        case 'k': key = optarg; break;
        case 'T': type = optarg; break;
        case 'r': rate = strtod(optarg, NULL); break;
        case 's': seconds = strtod(optarg, NULL); break;
        case 'p': pad = strtol(optarg, NULL, 10); break;
        case 'c': max_in_flight = strtol(optarg, NULL, 10); break;
        default: url = NULL; break;
        }
    }
    if (url == NULL || key == NULL || type == NULL || rate <= 0 || seconds <= 0 || pad < 0 ||
        max_in_flight <= 0) {
        fprintf(stderr, "usage: publisher -u URL -k API_KEY -T TYPE [-r RATE] [-s SECONDS] "
                        "[-p PAD_BYTES] [-c MAX_IN_FLIGHT]\n");
        return 2;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    char auth[512];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", key);
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, auth);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");

    char *padding = malloc((size_t)pad + 1);
    if (padding == NULL)
        return 1;
    memset(padding, 'x', (size_t)pad);
    padding[pad] = '\0';
    size_t body_cap = strlen(type) + (size_t)pad + 128;

    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, max_in_flight);
    struct slot *slots = calloc((size_t)max_in_flight, sizeof(*slots));
    if (slots == NULL)
        return 1;
    for (long i = 0; i < max_in_flight; i++) {
        CURL *e = curl_easy_init();
        slots[i].easy = e;
        slots[i].body = malloc(body_cap);
        if (e == NULL || slots[i].body == NULL)
            return 1;
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(e, CURLOPT_PRIVATE, &slots[i]);
    }

    long total = (long)(rate * seconds);
    long due_sent = 0, created = 0, other = 0, errors = 0, late = 0, in_flight = 0;
    int64_t start_mono = now_us(CLOCK_MONOTONIC);
    int64_t start_real = now_us(CLOCK_REALTIME);
    double interval_us = 1e6 / rate;
    long free_hint = 0;
    int64_t last_start = start_mono;

    while (due_sent < total || in_flight > 0) {
        int64_t now = now_us(CLOCK_MONOTONIC);
        /* Start every request that is due, as long as there is a free slot. */
        while (due_sent < total && in_flight < max_in_flight) {
            int64_t due = start_mono + (int64_t)((double)due_sent * interval_us);
            if (due > now)
                break;
            struct slot *s = NULL;
            for (long k = 0; k < max_in_flight; k++) {
                long idx = (free_hint + k) % max_in_flight;
                if (!slots[idx].busy) {
                    s = &slots[idx];
                    free_hint = idx + 1;
                    break;
                }
            }
            if (s == NULL)
                break;
            if (now - due > 1000)
                late++;
            int64_t sent_us = start_real + (due - start_mono);
            int len = snprintf(s->body, body_cap,
                               "{\"type\":\"%s\",\"data\":{\"sent_us\":%lld,\"pad\":\"%s\"}}", type,
                               (long long)sent_us, padding);
            curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
            curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
            s->busy = 1;
            curl_multi_add_handle(multi, s->easy);
            in_flight++;
            due_sent++;
            last_start = now;
        }
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct slot *s = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result != CURLE_OK)
                errors++;
            else if (status == 201)
                created++;
            else
                other++;
            curl_multi_remove_handle(multi, msg->easy_handle);
            s->busy = 0;
            in_flight--;
        }
        /* Sleep until the next request is due, or an answer arrives. */
        int timeout_ms = 100;
        if (due_sent < total) {
            int64_t next = start_mono + (int64_t)((double)due_sent * interval_us);
            int64_t wait = next - now_us(CLOCK_MONOTONIC);
            timeout_ms = wait <= 0 ? 0 : (int)((wait + 999) / 1000);
            if (in_flight >= max_in_flight && timeout_ms < 1)
                timeout_ms = 1;
        }
        if (timeout_ms > 0)
            curl_multi_poll(multi, NULL, 0, timeout_ms, NULL);
    }
    /* The rate over the publishing window: first to last request started. */
    double window = (double)(last_start - start_mono) / 1e6 + 1.0 / rate;
    printf("due=%ld sent=%ld created=%ld other=%ld errors=%ld late=%ld seconds=%.3f rate=%.1f\n",
           total, due_sent, created, other, errors, late, window, (double)due_sent / window);

    for (long i = 0; i < max_in_flight; i++) {
        curl_easy_cleanup(slots[i].easy);
        free(slots[i].body);
    }
    free(slots);
    free(padding);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    return errors == 0 && other == 0 ? 0 : 1;
}
