/* probe.c - the subscription test POST, with a libcurl easy handle owned by
 * the calling thread for the length of the call. */
#include "probe.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_guard.h"
#include "version.h"
#include "xmalloc.h"

/* Receivers' answers are not needed; reading them (bounded by the timeout)
 * lets the connection end cleanly. */
static size_t discard(char *data, size_t size, size_t nmemb, void *userdata)
{
    (void)data;
    (void)userdata;
    return size * nmemb;
}

int probe_webhook_url(const char *url, const char *event_id, long long timestamp,
                      const char *signature, const char *body, long timeout_ms,
                      const struct destination_policy *destinations, char *reason,
                      size_t reason_len)
{
    struct net_guard guard;
    int rc = -1;
    struct curl_slist *headers = NULL;
    char id_header[64], ts_header[64];
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(reason, reason_len, "cannot create an HTTP client");
        return -1;
    }
    snprintf(id_header, sizeof(id_header), "webhook-id: %s", event_id);
    snprintf(ts_header, sizeof(ts_header), "webhook-timestamp: %lld", timestamp);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, id_header);
    headers = curl_slist_append(headers, ts_header);
    if (signature != NULL) {
        char *sig_header = xasprintf("webhook-signature: %s", signature);
        headers = curl_slist_append(headers, sig_header);
        free(sig_header);
    }
    headers = curl_slist_append(headers, "Expect:");

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "hookd/" HOOKD_VERSION);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    net_guard_attach(curl, &guard, destinations);

    CURLcode res = curl_easy_perform(curl);
    long status = 0;
    if (res != CURLE_OK) {
        snprintf(reason, reason_len, "%s",
                 guard.refused[0] ? guard.refused : curl_easy_strerror(res));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(reason, reason_len, "receiver answered HTTP %ld", status);
        goto out;
    }
    rc = 0;
out:
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return rc;
}
