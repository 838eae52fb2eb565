/* response.h - an HTTP response under construction, independent of
 * libmicrohttpd, in Okanjo's default response object:
 * {"type":"success"[,"data":...]} or {"type":"error","description":"..."}.
 * This is the one place where an hk_error becomes a status and a message. */
#ifndef HOOKD_RESPONSE_H
#define HOOKD_RESPONSE_H

#include <json-c/json.h>
#include <stddef.h>

#include "error.h"

#define RESPONSE_MAX_HEADERS 4

struct response {
    unsigned int status;           /* 0 until something was set */
    char *body;                    /* owned */
    size_t body_len;
    const char *header_names[RESPONSE_MAX_HEADERS];   /* static strings */
    char *header_values[RESPONSE_MAX_HEADERS];        /* owned */
    size_t n_headers;
    const char *content_type;      /* a static string; NULL: application/json */
};

void response_init(struct response *r);
/* Takes ownership of body. */
void response_set_body(struct response *r, unsigned int status, char *body, size_t len);
/* {"type":"success"} plus "data" when data is not NULL (takes the reference). */
void response_success(struct response *r, unsigned int status, struct json_object *data);
/* {"type":"success","data":<data_json>} where data_json is already JSON text
 * (a stored event), spliced in byte for byte. */
void response_success_json_text(struct response *r, unsigned int status, const char *data_json);
void response_error(struct response *r, const struct hk_error *err);
void response_error_text(struct response *r, unsigned int status, const char *description);
/* name must be a static string; value is copied. */
void response_add_header(struct response *r, const char *name, const char *value);
void response_free(struct response *r);

#endif
