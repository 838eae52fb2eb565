/* response.c - Okanjo-style response bodies and error mapping. */
#include "response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void response_init(struct response *r)
{
    memset(r, 0, sizeof(*r));
}

void response_set_body(struct response *r, unsigned int status, char *body, size_t len)
{
    free(r->body);
    r->status = status;
    r->body = body;
    r->body_len = len;
}

static void set_json(struct response *r, unsigned int status, struct json_object *obj)
{
    const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    response_set_body(r, status, xstrdup(text), strlen(text));
    json_object_put(obj);
}

void response_success(struct response *r, unsigned int status, struct json_object *data)
{
    struct json_object *obj = json_object_new_object();
    json_object_object_add(obj, "type", json_object_new_string("success"));
    if (data != NULL)
        json_object_object_add(obj, "data", data);
    set_json(r, status, obj);
}

void response_success_json_text(struct response *r, unsigned int status, const char *data_json)
{
    /* Copied, not formatted: xasprintf would format data_json (a whole
     * event, ~1 KB on the publish path) twice, a byte at a time. */
    static const char head[] = "{\"type\":\"success\",\"data\":";
    size_t head_len = sizeof(head) - 1, data_len = strlen(data_json);
    char *body = xmalloc(head_len + data_len + 2);
    memcpy(body, head, head_len);
    memcpy(body + head_len, data_json, data_len + 1); /* its NUL becomes the '}' */
    body[head_len + data_len] = '}';
    body[head_len + data_len + 1] = '\0';
    response_set_body(r, status, body, head_len + data_len + 1);
}

void response_error_text(struct response *r, unsigned int status, const char *description)
{
    struct json_object *obj = json_object_new_object();
    json_object_object_add(obj, "type", json_object_new_string("error"));
    json_object_object_add(obj, "description", json_object_new_string(description));
    set_json(r, status, obj);
}

void response_error(struct response *r, const struct hk_error *err)
{
    char text[128];
    switch (err->code) {
    case HK_ERR_REQUIRED:
        snprintf(text, sizeof(text), "Require %s.", err->field);
        response_error_text(r, 400, text);
        return;
    case HK_ERR_INVALID:
        snprintf(text, sizeof(text), "Invalid field %s.", err->field);
        response_error_text(r, 400, text);
        return;
    case HK_ERR_UNAUTHORIZED:
        response_error_text(r, 401, "Unauthorized.");
        response_add_header(r, "WWW-Authenticate", "Bearer realm=\"hookd\"");
        return;
    case HK_ERR_EVENT_NOT_FOUND:
        response_error_text(r, 404, "Event not found.");
        return;
    case HK_ERR_SUB_NOT_FOUND:
        response_error_text(r, 404, "Event Subscription not found.");
        return;
    case HK_ERR_ENDPOINT_NOT_FOUND:
        response_error_text(r, 404, "Endpoint not found.");
        return;
    case HK_ERR_SUB_CONFLICT:
        response_error_text(r, 409, "Conflict with Event Subscription");
        return;
    case HK_ERR_IDEMPOTENCY:
        response_error_text(r, 409, "Idempotency-Key reused with a different request.");
        return;
    case HK_ERR_ENDPOINT_DISABLED:
        response_error_text(r, 409, "Endpoint is disabled.");
        return;
    case HK_ERR_RATE_LIMITED:
        response_error_text(r, 429, "Too many requests.");
        return;
    case HK_ERR_UNAVAILABLE:
        response_error_text(r, 503, "Service unavailable.");
        response_add_header(r, "Retry-After", "1");
        return;
    case HK_OK:
    case HK_ERR_INTERNAL:
        break;
    }
    response_error_text(r, 500, "Unable to handle request.");
}

void response_add_header(struct response *r, const char *name, const char *value)
{
    if (r->n_headers >= RESPONSE_MAX_HEADERS)
        abort(); /* raise RESPONSE_MAX_HEADERS */
    r->header_names[r->n_headers] = name;
    r->header_values[r->n_headers] = xstrdup(value);
    r->n_headers++;
}

void response_free(struct response *r)
{
    free(r->body);
    for (size_t i = 0; i < r->n_headers; i++)
        free(r->header_values[i]);
    memset(r, 0, sizeof(*r));
}
