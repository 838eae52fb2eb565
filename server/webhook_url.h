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
/* The host (as written: a name, an IPv4 literal, or an IPv6 literal in
 * brackets) and the port (the scheme's default when absent) of a URL that
 * webhook_url_valid accepted. Returns 0, or -1 when it cannot be parsed. */
int webhook_url_host_port(const char *url, char *host, size_t host_len, unsigned int *port);

#endif
