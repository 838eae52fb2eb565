/* fuzz_okanjo.c - the Okanjo request-signature verifier: a request URI
 * (up to the first NUL), then a signature, then the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "okanjo_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    const char *uri = text;
    size_t uri_len = strlen(uri);
    const char *signature = uri_len < size ? text + uri_len + 1 : "";
    size_t sig_len = strlen(signature);
    const char *body = signature + sig_len + (signature + sig_len < text + size ? 1 : 0);
    size_t body_len = (size_t)(text + size - body);
    char *signed_uri = okanjo_sig_signed_uri(uri);
    (void)okanjo_sig_verify("hp_passphrase", 13, signed_uri, body, body_len, signature);
    free(signed_uri);
    free(text);
    return 0;
}
