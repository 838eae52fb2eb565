/* fuzz_url.c - webhook URLs and the SSRF guard's address checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "destination.h"
#include "webhook_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    const char *reason = NULL;
    if (webhook_url_valid(text, size, &reason)) {
        char host[256];
        unsigned int port;
        if (webhook_url_host_port(text, host, sizeof(host), &port) == 0) {
            struct destination_policy none = { 0 };
            (void)destination_literal_allowed(&none, host, port, &reason);
        }
    }
    struct destination_policy none = { 0 };
    (void)destination_literal_allowed(&none, text, 443, &reason);
    free(text);
    return 0;
}
