/* auth.h - who is calling: a tenant, by Bearer API key or by an
 * Okanjo-style signed request (query `key` + `signature`). */
#ifndef HOOKD_AUTH_H
#define HOOKD_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

/* Sets req->tenant_id. Returns 0, or -1 with err: HK_ERR_UNAUTHORIZED for
 * missing or bad credentials, HK_ERR_UNAVAILABLE when the database cannot
 * be asked. Needs the complete body (signatures cover it). */
int auth_authenticate(struct request *req, struct hk_error *err) __attribute__((warn_unused_result));
/* True when s has the shape of an API key (hk_ + 40 base62). Pure. */
bool auth_key_well_formed(const char *s, size_t len);

#endif
