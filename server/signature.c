/* signature.c - Standard Webhooks v1 (HMAC-SHA256) and v1a (Ed25519). */
#include "signature.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define B64 sodium_base64_VARIANT_ORIGINAL

void signature_secret_new(char out[SIGNATURE_SECRET_LEN + 1])
{
    unsigned char key[SIGNATURE_SECRET_BYTES];
    randombytes_buf(key, sizeof(key));
    memcpy(out, "whsec_", sizeof("whsec_"));
    sodium_bin2base64(out + 6, SIGNATURE_SECRET_LEN + 1 - 6, key, sizeof(key), B64);
    sodium_memzero(key, sizeof(key));
}

int signature_secret_decode(const char *secret, unsigned char key[64])
{
    if (strncmp(secret, "whsec_", 6) == 0)
        secret += 6;
    size_t len = 0;
    const char *end = NULL;
    size_t n = strlen(secret);
    if (n == 0 || sodium_base642bin(key, 64, secret, n, NULL, &len, &end, B64) != 0 ||
        *end != '\0' || len == 0)
        return -1;
    return (int)len;
}

void signature_keypair_new(unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                           unsigned char sk[crypto_sign_SECRETKEYBYTES])
{
    crypto_sign_keypair(pk, sk);
}

void signature_public_key_format(const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
                                 char out[SIGNATURE_PUBLIC_KEY_LEN + 1])
{
    memcpy(out, "whpk_", sizeof("whpk_"));
    sodium_bin2base64(out + 5, SIGNATURE_PUBLIC_KEY_LEN + 1 - 5, pk, crypto_sign_PUBLICKEYBYTES,
                      B64);
}

/* ".{timestamp}." into out (at least TIMESTAMP_PART_MAX bytes); returns its
 * length. With the event id before it, this is the part of the signed
 * content before the body: "{id}.{timestamp}.{body}". */
#define TIMESTAMP_PART_MAX 24
static size_t timestamp_part(char out[TIMESTAMP_PART_MAX], long long timestamp)
{
    return (size_t)snprintf(out, TIMESTAMP_PART_MAX, ".%lld.", timestamp);
}

void signature_v1(const unsigned char *key, size_t key_len, const char *msg_id, long long timestamp,
                  const char *body, size_t body_len, char out[SIGNATURE_V1_LEN + 1])
{
    char ts[TIMESTAMP_PART_MAX];
    size_t ts_len = timestamp_part(ts, timestamp);
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id, strlen(msg_id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, ts_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "v1,", sizeof("v1,"));
    sodium_bin2base64(out + 3, SIGNATURE_V1_LEN + 1 - 3, mac, sizeof(mac), B64);
    sodium_memzero(&st, sizeof(st));
}

void signature_v1a(const unsigned char sk[crypto_sign_SECRETKEYBYTES], const char *msg_id,
                   long long timestamp, const char *body, size_t body_len,
                   char out[SIGNATURE_V1A_LEN + 1])
{
    /* Ed25519 hashes the message twice, so it is signed as one contiguous
     * buffer: the id, the timestamp part, then the body. */
    char ts[TIMESTAMP_PART_MAX];
    size_t ts_len = timestamp_part(ts, timestamp);
    size_t id_len = strlen(msg_id);
    size_t len = id_len + ts_len + body_len;
    unsigned char *msg = xmalloc(len + 1);
    memcpy(msg, msg_id, id_len + 1); /* the timestamp part then overwrites the NUL */
    memcpy(msg + id_len, ts, ts_len);
    memcpy(msg + id_len + ts_len, body, body_len);
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, msg, len, sk);
    free(msg);
    memcpy(out, "v1a,", sizeof("v1a,"));
    sodium_bin2base64(out + 4, SIGNATURE_V1A_LEN + 1 - 4, sig, sizeof(sig), B64);
}

int signature_header_write(char *out, size_t cap, const char *const *secrets, size_t n_secrets,
                           const unsigned char *sk, const char *msg_id, long long timestamp,
                           const char *body, size_t body_len)
{
    size_t used = 0;
    if (cap == 0)
        return -1;
    out[0] = '\0';
    for (size_t i = 0; i < n_secrets; i++) {
        if (secrets[i] == NULL)
            continue;
        unsigned char key[64];
        int key_len = signature_secret_decode(secrets[i], key);
        if (key_len < 0)
            return -1;
        if (used + (used ? 1 : 0) + SIGNATURE_V1_LEN + 1 > cap) {
            sodium_memzero(key, sizeof(key));
            return -1;
        }
        if (used)
            out[used++] = ' ';
        signature_v1(key, (size_t)key_len, msg_id, timestamp, body, body_len, out + used);
        sodium_memzero(key, sizeof(key));
        used += strlen(out + used);
    }
    if (sk != NULL) {
        if (used + (used ? 1 : 0) + SIGNATURE_V1A_LEN + 1 > cap)
            return -1;
        if (used)
            out[used++] = ' ';
        signature_v1a(sk, msg_id, timestamp, body, body_len, out + used);
        used += strlen(out + used);
    }
    return (int)used;
}

char *signature_header(const char *const *secrets, size_t n_secrets,
                       const unsigned char *sk, const char *msg_id, long long timestamp,
                       const char *body, size_t body_len)
{
    size_t cap = SIGNATURE_HEADER_MAX(n_secrets) + 1;
    char *out = xmalloc(cap);
    if (signature_header_write(out, cap, secrets, n_secrets, sk, msg_id, timestamp, body,
                               body_len) < 0) {
        free(out);
        return NULL;
    }
    return out;
}
