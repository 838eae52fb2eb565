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

/* "{id}.{timestamp}." — the part of the signed content before the body;
 * a new string the caller frees. */
static char *signed_prefix(const char *msg_id, long long timestamp)
{
    return xasprintf("%s.%lld.", msg_id, timestamp);
}

void signature_v1(const unsigned char *key, size_t key_len, const char *msg_id, long long timestamp,
                  const char *body, size_t body_len, char out[SIGNATURE_V1_LEN + 1])
{
    char *prefix = signed_prefix(msg_id, timestamp);
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, strlen(prefix));
    free(prefix);
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
    char *prefix = signed_prefix(msg_id, timestamp);
    size_t n = strlen(prefix);
    size_t len = n + body_len;
    unsigned char *msg = xmalloc(len + 1);
    memcpy(msg, prefix, n + 1); /* the body then overwrites the NUL */
    memcpy(msg + n, body, body_len);
    free(prefix);
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, msg, len, sk);
    free(msg);
    memcpy(out, "v1a,", sizeof("v1a,"));
    sodium_bin2base64(out + 4, SIGNATURE_V1A_LEN + 1 - 4, sig, sizeof(sig), B64);
}

char *signature_header(const char *const *secrets, size_t n_secrets,
                       const unsigned char *sk, const char *msg_id, long long timestamp,
                       const char *body, size_t body_len)
{
    size_t cap = (n_secrets + 1) * (SIGNATURE_V1A_LEN + 2) + 1;
    char *out = xmalloc(cap);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n_secrets; i++) {
        if (secrets[i] == NULL)
            continue;
        unsigned char key[64];
        int key_len = signature_secret_decode(secrets[i], key);
        if (key_len < 0) {
            free(out);
            return NULL;
        }
        char sig[SIGNATURE_V1_LEN + 1];
        signature_v1(key, (size_t)key_len, msg_id, timestamp, body, body_len, sig);
        sodium_memzero(key, sizeof(key));
        used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? " " : "", sig);
    }
    if (sk != NULL) {
        char sig[SIGNATURE_V1A_LEN + 1];
        signature_v1a(sk, msg_id, timestamp, body, body_len, sig);
        snprintf(out + used, cap - used, "%s%s", used ? " " : "", sig);
    }
    return out;
}
