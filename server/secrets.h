/* secrets.h - secrets at rest, sealed with libsodium's crypto_secretbox
 * under the master key (HOOKD_MASTER_KEY or HOOKD_MASTER_KEY_FILE).
 *
 * Endpoint signing secrets, tenant signing keys and tenant passphrases are
 * stored sealed: a version byte (1), a random 24-byte nonce, then the
 * ciphertext with its 16-byte MAC. API keys are never stored, only hashed.
 * The key is loaded once in the main thread before any other thread starts
 * and is read-only afterwards. */
#ifndef HOOKD_SECRETS_H
#define HOOKD_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error.h"

#define SECRETS_KEY_B64_LEN 44   /* base64 of 32 bytes */

/* Loads the master key from the configuration (the value, or else the
 * file; a file readable by group or others is refused). Returns 0, or -1
 * with err explaining what is missing or wrong (never the key). */
int secrets_load(const struct config *cfg, struct hk_error *err) __attribute__((warn_unused_result));
/* Sets the key directly (tests). */
void secrets_set_key(const unsigned char key[32]);
/* A new random master key in base64 (for `hookd master-key new`). */
void secrets_new_key_b64(char out[SECRETS_KEY_B64_LEN + 1]);

/* Seals plain[0..len) and returns the sealed bytes as lowercase hex, for a
 * bytea parameter through decode($n, 'hex'); the caller frees it. */
char *secrets_seal_hex(const void *plain, size_t len);
/* Opens sealed bytes given as hex (encode(col, 'hex')). Returns a new
 * NUL-terminated buffer (caller frees with secrets_free) and its length in
 * *len, or NULL when the text is malformed, was sealed under another key,
 * or was tampered with. */
char *secrets_open_hex(const char *hex, size_t *len);
/* Wipes and frees what secrets_open_hex returned (NULL is fine). */
void secrets_free(char *plain, size_t len);

#endif
