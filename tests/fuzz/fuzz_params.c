/* fuzz_params.c - request bodies and query strings from strangers:
 * form decoding and JSON member scanning, as the HTTP layer runs them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hk_error err;
    struct params p;
    params_init(&p);
    if (params_parse_form(&p, (const char *)data, size, "body", &err) == 0) {
        static const char *const allowed[] = { "type", "data", "version", NULL };
        if (params_check_allowed(&p, allowed, &err) == 0)
            (void)params_require_text(&p, "type", &err);
    }
    params_free(&p);
    params_init(&p);
    if (params_parse_json(&p, (const char *)data, size, &err) == 0)
        (void)params_require_text(&p, "webhook_url", &err);
    params_free(&p);
    /* with low limits (HOOKD_MAX_FIELDS, HOOKD_MAX_JSON_DEPTH) */
    params_init(&p);
    params_set_limits(&p, 3, 2);
    if (params_parse_json(&p, (const char *)data, size, &err) == 0 && p.count > 3)
        abort();
    params_free(&p);
    return 0;
}
