/* secrets.c - crypto_secretbox sealing of secrets at rest. */
#include "secrets.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xmalloc.h"

#define SEAL_VERSION 1
#define B64 sodium_base64_VARIANT_ORIGINAL

static unsigned char master_key[crypto_secretbox_KEYBYTES];
static bool have_key;

void secrets_set_key(const unsigned char key[32])
{
    memcpy(master_key, key, sizeof(master_key));
    have_key = true;
}

void secrets_new_key_b64(char out[SECRETS_KEY_B64_LEN + 1])
{
    unsigned char key[crypto_secretbox_KEYBYTES];
    crypto_secretbox_keygen(key);
    sodium_bin2base64(out, SECRETS_KEY_B64_LEN + 1, key, sizeof(key), B64);
    sodium_memzero(key, sizeof(key));
}

/* Decodes a base64 key (surrounding whitespace allowed). */
static int decode_key(const char *text, struct hk_error *err, const char *source)
{
    unsigned char key[crypto_secretbox_KEYBYTES];
    size_t len = 0;
    const char *end = NULL;
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    if (sodium_base642bin(key, sizeof(key), text, n, " \t", &len, &end, B64) != 0 ||
        len != sizeof(key) || end != text + n) {
        hk_error_set(err, HK_ERR_INVALID,
                     "%s is not a master key (base64 of 32 bytes; `hookd master-key new` makes one)",
                     source);
        return -1;
    }
    secrets_set_key(key);
    sodium_memzero(key, sizeof(key));
    return 0;
}

int secrets_load(const struct config *cfg, struct hk_error *err)
{
    if (cfg->master_key[0] != '\0')
        return decode_key(cfg->master_key, err, "HOOKD_MASTER_KEY");
    if (cfg->master_key_file[0] == '\0') {
        hk_error_set(err, HK_ERR_INVALID,
                     "no master key: set HOOKD_MASTER_KEY or HOOKD_MASTER_KEY_FILE "
                     "(`hookd master-key new` makes one; make run and make test do it for you)");
        return -1;
    }
    struct stat st;
    if (stat(cfg->master_key_file, &st) != 0) {
        hk_error_set(err, HK_ERR_INVALID, "HOOKD_MASTER_KEY_FILE %s cannot be read",
                     cfg->master_key_file);
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        hk_error_set(err, HK_ERR_INVALID,
                     "HOOKD_MASTER_KEY_FILE %s is readable by others; chmod 600 it",
                     cfg->master_key_file);
        return -1;
    }
    FILE *f = fopen(cfg->master_key_file, "r");
    char text[128] = "";
    size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    text[n] = '\0';
    int rc = decode_key(text, err, "HOOKD_MASTER_KEY_FILE");
    sodium_memzero(text, sizeof(text));
    return rc;
}

char *secrets_seal_hex(const void *plain, size_t len)
{
    if (!have_key)
        abort(); /* commands that store secrets load the key first */
    size_t sealed_len = 1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    unsigned char *sealed = xmalloc(sealed_len);
    sealed[0] = SEAL_VERSION;
    unsigned char *nonce = sealed + 1;
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, plain, len, nonce, master_key);
    char *hex = xmalloc(sealed_len * 2 + 1);
    sodium_bin2hex(hex, sealed_len * 2 + 1, sealed, sealed_len);
    free(sealed);
    return hex;
}

char *secrets_open_hex(const char *hex, size_t *len)
{
    if (!have_key)
        return NULL;
    size_t hex_len = strlen(hex);
    size_t sealed_len = hex_len / 2;
    size_t overhead = 1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
    if (hex_len % 2 != 0 || sealed_len < overhead)
        return NULL;
    unsigned char *sealed = xmalloc(sealed_len);
    size_t got = 0;
    if (sodium_hex2bin(sealed, sealed_len, hex, hex_len, NULL, &got, NULL) != 0 ||
        got != sealed_len || sealed[0] != SEAL_VERSION) {
        free(sealed);
        return NULL;
    }
    size_t plain_len = sealed_len - overhead;
    char *plain = xmalloc(plain_len + 1);
    const unsigned char *nonce = sealed + 1;
    if (crypto_secretbox_open_easy((unsigned char *)plain, nonce + crypto_secretbox_NONCEBYTES,
                                   sealed_len - 1 - crypto_secretbox_NONCEBYTES, nonce,
                                   master_key) != 0) {
        free(sealed);
        free(plain);
        return NULL;
    }
    free(sealed);
    plain[plain_len] = '\0';
    *len = plain_len;
    return plain;
}

void secrets_free(char *plain, size_t len)
{
    if (plain == NULL)
        return;
    sodium_memzero(plain, len);
    free(plain);
}
