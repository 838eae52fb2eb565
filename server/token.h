/* token.h - random identifiers and credentials from libsodium's CSPRNG.
 *
 * Event ids are EV + 18 base62 characters: 8 of the Unix time in
 * milliseconds, then 10 random (about 59 bits), so that ids made later sort
 * later and each new event's index entries (its key, its deliveries' key)
 * go to the end of their indexes, not to a random page. Subscription ids
 * are ES + 18 random characters (about 107 bits). API keys (hk_ + 40 base62, about 238 bits) are stored only as a
 * BLAKE2b hash; passphrases (hp_ + 40) sign Okanjo-style requests.
 * sodium_init() must have run. */
#ifndef HOOKD_TOKEN_H
#define HOOKD_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_ID_LEN 20          /* prefix + 18 characters */
#define TOKEN_EVENT_TIME_LEN 8   /* of an event id's 18: the time, 62^8 ms (~6,900 years) */
#define TOKEN_SECRET_LEN 43      /* prefix + 40 characters */
#define TOKEN_HASH_LEN 32

/* Writes n uniformly random base62 characters and a NUL to out[n+1]. */
void token_base62(char *out, size_t n);
/* Writes prefix followed by body_len random base62 characters; out must
 * hold strlen(prefix) + body_len + 1 bytes. */
void token_new(char *out, const char *prefix, size_t body_len);
/* An event id made now (the realtime clock); _at: made at unix_ms. */
void token_event_id(char out[TOKEN_ID_LEN + 1]);
void token_event_id_at(char out[TOKEN_ID_LEN + 1], uint64_t unix_ms);
void token_subscription_id(char out[TOKEN_ID_LEN + 1]);
void token_api_key(char out[TOKEN_SECRET_LEN + 1]);
void token_passphrase(char out[TOKEN_SECRET_LEN + 1]);
/* The stored form of an API key: BLAKE2b-256 of its bytes. Keys are
 * high-entropy, so a fast unsalted hash is safe and lets the database look
 * tenants up by it. */
void token_hash(const char *key, size_t key_len, unsigned char out[TOKEN_HASH_LEN]);

#endif
