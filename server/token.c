/* token.c - random identifiers and credentials from libsodium. */
#include "token.h"

#include <sodium.h>
#include <string.h>

static const char base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void token_base62(char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = base62[randombytes_uniform(62)];
    out[n] = '\0';
}

void token_new(char *out, const char *prefix, size_t body_len)
{
    size_t plen = strlen(prefix);
    memcpy(out, prefix, plen + 1);
    token_base62(out + plen, body_len);
}

void token_event_id(char out[TOKEN_ID_LEN + 1])
{
    token_new(out, "EV", TOKEN_ID_LEN - 2);
}

void token_subscription_id(char out[TOKEN_ID_LEN + 1])
{
    token_new(out, "ES", TOKEN_ID_LEN - 2);
}

void token_api_key(char out[TOKEN_SECRET_LEN + 1])
{
    token_new(out, "hk_", TOKEN_SECRET_LEN - 3);
}

void token_passphrase(char out[TOKEN_SECRET_LEN + 1])
{
    token_new(out, "hp_", TOKEN_SECRET_LEN - 3);
}

void token_hash(const char *key, size_t key_len, unsigned char out[TOKEN_HASH_LEN])
{
    crypto_generichash(out, TOKEN_HASH_LEN, (const unsigned char *)key, key_len, NULL, 0);
}
