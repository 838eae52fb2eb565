/* okanjo_sig.h - Okanjo-style request signatures. Pure: no I/O.
 *
 * A client signs a request by appending `signature=HEX` to its query, where
 * HEX is the lowercase hex HMAC-SHA256, keyed with the tenant's passphrase,
 * of the request URI (path and query exactly as sent, without the signature
 * pair) immediately followed by the raw body bytes. */
#ifndef HOOKD_OKANJO_SIG_H
#define HOOKD_OKANJO_SIG_H

#include <stdbool.h>
#include <stddef.h>

#define OKANJO_SIG_HEX_LEN 64

/* Returns a new string (caller frees): raw_uri without its `signature=...`
 * pair(s); the `&` that joined it is dropped, and so is a `?` left with
 * nothing after it. Other pairs keep their order and raw encoding. */
char *okanjo_sig_signed_uri(const char *raw_uri);
/* Writes the lowercase hex signature (64 chars + NUL). */
void okanjo_sig_compute(const char *passphrase, size_t passphrase_len, const char *signed_uri,
                        const char *body, size_t body_len, char out[OKANJO_SIG_HEX_LEN + 1]);
/* Constant-time check of a hex signature (either case) against the request. */
bool okanjo_sig_verify(const char *passphrase, size_t passphrase_len, const char *signed_uri,
                       const char *body, size_t body_len, const char *signature);

#endif
