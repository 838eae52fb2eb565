/* webhook_url.c - syntax checks for webhook destinations. */
#include "webhook_url.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool refuse(const char **reason, const char *why)
{
    if (reason != NULL)
        *reason = why;
    return false;
}

bool webhook_url_valid(const char *url, size_t len, const char **reason)
{
    if (len == 0 || len > WEBHOOK_URL_MAX_LEN)
        return refuse(reason, "length must be 1 to 2048 characters");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return refuse(reason, "contains whitespace, control or non-ASCII bytes");
    }
    size_t authority;
    if (strncasecmp(url, "http://", 7) == 0)
        authority = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        authority = 8;
    else
        return refuse(reason, "scheme must be http or https");
    /* libcurl would read "http:///x" as host "x"; a webhook URL names its host. */
    if (authority >= len || url[authority] == '/')
        return refuse(reason, "a host is required");
    /* Fragments are never sent to a server; an empty one ("x#") too. */
    if (memchr(url, '#', len) != NULL)
        return refuse(reason, "fragments are not allowed");

    bool ok = false;
    char *part = NULL;
    CURLU *u = curl_url();
    if (u == NULL)
        return refuse(reason, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        refuse(reason, "not a valid absolute URL");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &part, 0) != CURLUE_NO_USER) {
        refuse(reason, "user credentials are not allowed");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PASSWORD, &part, 0) != CURLUE_NO_PASSWORD) {
        refuse(reason, "user credentials are not allowed");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK || part == NULL ||
        part[0] == '\0') {
        refuse(reason, "a host is required");
        goto out;
    }
    curl_free(part);
    part = NULL;
    if (curl_url_get(u, CURLUPART_PORT, &part, 0) == CURLUE_OK && strtol(part, NULL, 10) == 0) {
        refuse(reason, "port 0 cannot be reached");
        goto out;
    }
    ok = true;
out:
    curl_free(part);
    curl_url_cleanup(u);
    return ok;
}

int webhook_url_host_port(const char *url, char *host, size_t host_len, unsigned int *port)
{
    int rc = -1;
    char *h = NULL, *p = NULL;
    CURLU *u = curl_url();
    if (u == NULL)
        return -1;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        strlen(h) < host_len) {
        memcpy(host, h, strlen(h) + 1);
        *port = (unsigned int)strtoul(p, NULL, 10);
        rc = 0;
    }
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return rc;
}
