/* fuzz_config.c - configuration values (environment and flags): one
 * "NAME=VALUE" per input, applied to a default configuration. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "retry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *eq = strchr(text, '=');
    struct config cfg;
    struct hk_error err;
    config_defaults(&cfg);
    if (eq != NULL) {
        *eq = '\0';
        if (config_set(&cfg, text, eq + 1, &err) != 0 && err.detail[0] == '\0')
            abort(); /* a refusal always says why */
    }
    (void)retry_after_ms(text, 1700000000);
    long ms;
    (void)duration_parse_ms(text, strlen(text), &ms);
    config_free(&cfg);
    free(text);
    return 0;
}
