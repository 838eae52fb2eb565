/* webhook_url.h - is a string acceptable as a webhook destination? Pure
 * syntax checks with libcurl's URL parser; no DNS, no connection. */
#ifndef HOOKD_WEBHOOK_URL_H
#define HOOKD_WEBHOOK_URL_H

#include <stdbool.h>
#include <stddef.h>

#define WEBHOOK_URL_MAX_LEN 2048

/* True for an absolute http or https URL of at most 2048 characters, with a
 * host, without user credentials, fragment, whitespace or control bytes.
 * When reason is not NULL it gets a short explanation of a refusal. */
bool webhook_url_valid(const char *url, size_t len, const char **reason);

#endif
