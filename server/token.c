/* token.c - random identifiers and credentials from libsodium. */
#include "token.h"

#include <sodium.h>
#include <string.h>

#include "clock.h"

static const char base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Random bytes below this map evenly onto the 62 characters (4 x 62);
 * larger ones are drawn again, so every character stays uniform. */
#define BASE62_UNBIASED 248

void token_base62(char *out, size_t n)
{
    /* Random bytes in blocks: each call to libsodium's generator is a
     * getrandom(2) system call, which cost a publish one per character
     * (randombytes_uniform). A block of 64 bytes covers a token of 40
     * characters unless more than 24 bytes are rejected (p < 1e-9). */
    unsigned char block[64];
    size_t used = sizeof(block);
    for (size_t i = 0; i < n;) {
        if (used == sizeof(block)) {
            randombytes_buf(block, sizeof(block));
            used = 0;
        }
        unsigned char r = block[used++];
        if (r < BASE62_UNBIASED)
            out[i++] = base62[r % 62];
    }
    sodium_memzero(block, sizeof(block));
    out[n] = '\0';
}

void token_new(char *out, const char *prefix, size_t body_len)
{
    size_t plen = strlen(prefix);
    memcpy(out, prefix, plen + 1);
    token_base62(out + plen, body_len);
}

void token_event_id_at(char out[TOKEN_ID_LEN + 1], uint64_t unix_ms)
{
    out[0] = 'E';
    out[1] = 'V';
    for (int i = TOKEN_EVENT_TIME_LEN; i > 0; i--) {
        out[1 + i] = base62[unix_ms % 62];
        unix_ms /= 62;
    }
    token_base62(out + 2 + TOKEN_EVENT_TIME_LEN, TOKEN_ID_LEN - 2 - TOKEN_EVENT_TIME_LEN);
}

void token_event_id(char out[TOKEN_ID_LEN + 1])
{
    token_event_id_at(out, (uint64_t)clock_wall_ms());
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
