/* okanjo_sig.c - Okanjo-style request signatures with libsodium. */
#include "okanjo_sig.h"

#include <sodium.h>
#include <string.h>

#include "xmalloc.h"

static bool is_signature_pair(const char *pair, size_t len)
{
    static const char name[] = "signature";
    size_t n = sizeof(name) - 1;
    return len >= n && memcmp(pair, name, n) == 0 && (len == n || pair[n] == '=');
}

char *okanjo_sig_signed_uri(const char *raw_uri)
{
    const char *q = strchr(raw_uri, '?');
    if (q == NULL)
        return xstrdup(raw_uri);
    size_t path_len = (size_t)(q - raw_uri);
    size_t total = strlen(raw_uri);
    char *out = xmalloc(total + 1);
    memcpy(out, raw_uri, path_len);
    size_t n = path_len;
    bool first = true;
    const char *p = q + 1;
    const char *end = raw_uri + total;
    while (p <= end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t len = amp ? (size_t)(amp - p) : (size_t)(end - p);
        if (!is_signature_pair(p, len)) {
            out[n++] = first ? '?' : '&';
            memcpy(out + n, p, len);
            n += len;
            first = false;
        }
        if (amp == NULL)
            break;
        p = amp + 1;
    }
    /* A query that was only "?" (or only the signature) leaves no '?'. */
    if (n == path_len + 1 && out[path_len] == '?')
        n = path_len;
    out[n] = '\0';
    return out;
}

void okanjo_sig_compute(const char *passphrase, size_t passphrase_len, const char *signed_uri,
                        const char *body, size_t body_len, char out[OKANJO_SIG_HEX_LEN + 1])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)passphrase, passphrase_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)signed_uri, strlen(signed_uri));
    if (body_len > 0)
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, OKANJO_SIG_HEX_LEN + 1, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
}

bool okanjo_sig_verify(const char *passphrase, size_t passphrase_len, const char *signed_uri,
                       const char *body, size_t body_len, const char *signature)
{
    unsigned char given[crypto_auth_hmacsha256_BYTES];
    size_t given_len = 0;
    const char *hex_end = NULL;
    if (strlen(signature) != OKANJO_SIG_HEX_LEN ||
        sodium_hex2bin(given, sizeof(given), signature, OKANJO_SIG_HEX_LEN, NULL, &given_len,
                       &hex_end) != 0 ||
        given_len != sizeof(given) || *hex_end != '\0')
        return false;
    char expected_hex[OKANJO_SIG_HEX_LEN + 1];
    unsigned char expected[crypto_auth_hmacsha256_BYTES];
    okanjo_sig_compute(passphrase, passphrase_len, signed_uri, body, body_len, expected_hex);
    if (sodium_hex2bin(expected, sizeof(expected), expected_hex, OKANJO_SIG_HEX_LEN, NULL, NULL,
                       NULL) != 0)
        return false;
    return crypto_verify_32(given, expected) == 0;
}
