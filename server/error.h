/* error.h - the error a failing function hands back to its caller.
 *
 * Modules fill a caller-supplied struct hk_error; only the HTTP layer turns
 * the code into a status and an Okanjo error body (see response.c), and the
 * command line turns it into a message on stderr. */
#ifndef HOOKD_ERROR_H
#define HOOKD_ERROR_H

enum hk_err_code {
    HK_OK = 0,
    HK_ERR_REQUIRED,          /* 400 Require {field}. */
    HK_ERR_INVALID,           /* 400 Invalid field {field}. */
    HK_ERR_UNAUTHORIZED,      /* 401 */
    HK_ERR_EVENT_NOT_FOUND,   /* 404 Event not found. */
    HK_ERR_SUB_NOT_FOUND,     /* 404 Event Subscription not found. */
    HK_ERR_ENDPOINT_NOT_FOUND, /* 404 Endpoint not found. */
    HK_ERR_SUB_CONFLICT,      /* 409 Conflict with Event Subscription */
    HK_ERR_IDEMPOTENCY,       /* 409 Idempotency-Key reused ... */
    HK_ERR_ENDPOINT_DISABLED, /* 409 Endpoint is disabled. */
    HK_ERR_RATE_LIMITED,      /* 429 Too many requests. */
    HK_ERR_UNAVAILABLE,       /* 503 the database cannot be reached */
    HK_ERR_INTERNAL,          /* 500 Unable to handle request. */
};

struct hk_error {
    enum hk_err_code code;
    char field[64];           /* the parameter at fault, for 400s */
    char detail[256];         /* for logs and the command line, never secrets */
};

void hk_error_clear(struct hk_error *err);
/* Sets code and detail (printf-style); field is cleared. */
void hk_error_set(struct hk_error *err, enum hk_err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets a 400 about one parameter: HK_ERR_REQUIRED or HK_ERR_INVALID. */
void hk_error_field(struct hk_error *err, enum hk_err_code code, const char *field);

#endif
