/* probe.h - the test POST that checks a URL before a subscription to it is
 * accepted: a real webhook.test event, sent once, with a short timeout. */
#ifndef HOOKD_PROBE_H
#define HOOKD_PROBE_H

#include <stddef.h>

#include "destination.h"

/* POSTs body (the stored webhook.test event) to url as application/json
 * with the Standard Webhooks headers (webhook-id = event_id, timestamp, and
 * signature when not NULL). Returns 0 when the receiver answered 2xx within
 * timeout_ms; otherwise -1 with a reason (never a secret) in
 * reason[reason_len]. Redirects are not followed: a 3xx is a refusal.
 * Connections go through the SSRF guard (net_guard.h). */
int probe_webhook_url(const char *url, const char *event_id, long long timestamp,
                      const char *signature, const char *body, long timeout_ms,
                      const struct destination_policy *destinations, char *reason,
                      size_t reason_len);

#endif
