/* signature.h - Standard Webhooks signatures, with libsodium. Pure.
 *
 * A delivery is signed over "{webhook-id}.{webhook-timestamp}.{body}":
 *   v1,<base64 HMAC-SHA256>   keyed with an endpoint secret "whsec_<base64 32 bytes>"
 *   v1a,<base64 Ed25519 sig>  with the tenant's signing key; receivers verify it
 *                             with the public key "whpk_<base64 32 bytes>"
 * Several signatures (old and new secret during a rotation, then v1a) are
 * joined by spaces in one webhook-signature header, as the spec allows. */
#ifndef HOOKD_SIGNATURE_H
#define HOOKD_SIGNATURE_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#define SIGNATURE_SECRET_BYTES 32
/* "whsec_" + base64 of 32 bytes (44 chars) */
#define SIGNATURE_SECRET_LEN (6 + 44)
/* "whpk_" + base64 of 32 bytes */
#define SIGNATURE_PUBLIC_KEY_LEN (5 + 44)
/* "v1," + base64 of 32 bytes, or "v1a," + base64 of 64 bytes */
#define SIGNATURE_V1_LEN (3 + 44)
#define SIGNATURE_V1A_LEN (4 + 88)

/* A new endpoint secret, "whsec_…" (NUL-terminated). */
void signature_secret_new(char out[SIGNATURE_SECRET_LEN + 1]);
/* Decodes "whsec_<base64>" (the prefix is optional) into key bytes.
 * Returns the key length (1..64), or -1 when malformed. */
int signature_secret_decode(const char *secret, unsigned char key[64]);
/* A new tenant signing key pair. */
void signature_keypair_new(unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                           unsigned char sk[crypto_sign_SECRETKEYBYTES]);
/* "whpk_<base64 public key>". */
void signature_public_key_format(const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                                 char out[SIGNATURE_PUBLIC_KEY_LEN + 1]);
/* "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>". */
void signature_v1(const unsigned char *key, size_t key_len, const char *msg_id, long long timestamp,
                  const char *body, size_t body_len, char out[SIGNATURE_V1_LEN + 1]);
/* "v1a,<base64 Ed25519(sk, id.timestamp.body)>". */
void signature_v1a(const unsigned char sk[crypto_sign_SECRETKEYBYTES], const char *msg_id,
                   long long timestamp, const char *body, size_t body_len,
                   char out[SIGNATURE_V1A_LEN + 1]);
/* The longest header value for n_secrets secrets and a signing key (the
 * NUL not counted). */
#define SIGNATURE_HEADER_MAX(n_secrets) ((n_secrets) * (SIGNATURE_V1_LEN + 1) + SIGNATURE_V1A_LEN)
/* The webhook-signature header value (as signature_header) written into
 * out[0..cap), NUL-terminated. Returns its length, or -1 when a secret is
 * malformed or the value does not fit (out is then undefined). */
int signature_header_write(char *out, size_t cap, const char *const *secrets, size_t n_secrets,
                           const unsigned char *sk, const char *msg_id, long long timestamp,
                           const char *body, size_t body_len)
    __attribute__((warn_unused_result));
/* The webhook-signature header value: v1 for each secret (NULL entries are
 * skipped; a malformed secret fails), then v1a when sk is not NULL.
 * Returns a new string (caller frees) or NULL when a secret is malformed. */
char *signature_header(const char *const *secrets, size_t n_secrets,
                       const unsigned char *sk, const char *msg_id, long long timestamp,
                       const char *body, size_t body_len);

#endif
