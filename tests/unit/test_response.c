/* test_response.c - protects response.c, the one place where an error
 * becomes an HTTP status and an Okanjo-style body: the exact status, body
 * bytes and headers for every hk_err_code, the success envelope, splicing
 * stored JSON text byte for byte, and JSON escaping of descriptions. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "response.h"
#include "rows.h"

static void assert_body(const struct response *r, unsigned int status, const char *body)
{
    assert_int_equal(r->status, status);
    assert_non_null(r->body);
    assert_string_equal(r->body, body);
    assert_int_equal(r->body_len, strlen(body));
}

/* Looks a header up by name; NULL when absent. */
static const char *header(const struct response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strcmp(r->header_names[i], name) == 0)
            return r->header_values[i];
    }
    return NULL;
}

/* ---- response_error ---------------------------------------------------- */

struct error_case {
    enum hk_err_code code;
    const char *field;             /* for the 400s */
    unsigned int status;
    const char *body;
    const char *header_name;       /* NULL: no headers at all */
    const char *header_value;
};

static const struct error_case error_cases[] = {
    { HK_ERR_REQUIRED, "type", 400, "{\"type\":\"error\",\"description\":\"Require type.\"}",
      NULL, NULL },
    { HK_ERR_INVALID, "webhook_url", 400,
      "{\"type\":\"error\",\"description\":\"Invalid field webhook_url.\"}", NULL, NULL },
    { HK_ERR_INVALID, "a\"b\\c", 400,                  /* a client-chosen name, escaped */
      "{\"type\":\"error\",\"description\":\"Invalid field a\\\"b\\\\c.\"}", NULL, NULL },
    { HK_ERR_INVALID, "a/b\n", 400,
      "{\"type\":\"error\",\"description\":\"Invalid field a/b\\n.\"}", NULL, NULL },
    { HK_ERR_UNAUTHORIZED, "", 401, "{\"type\":\"error\",\"description\":\"Unauthorized.\"}",
      "WWW-Authenticate", "Bearer realm=\"hookd\"" },
    { HK_ERR_EVENT_NOT_FOUND, "", 404,
      "{\"type\":\"error\",\"description\":\"Event not found.\"}", NULL, NULL },
    { HK_ERR_SUB_NOT_FOUND, "", 404,
      "{\"type\":\"error\",\"description\":\"Event Subscription not found.\"}", NULL, NULL },
    { HK_ERR_RATE_LIMITED, "", 429,
      "{\"type\":\"error\",\"description\":\"Too many requests.\"}", NULL, NULL },
    { HK_ERR_ENDPOINT_NOT_FOUND, "", 404,
      "{\"type\":\"error\",\"description\":\"Endpoint not found.\"}", NULL, NULL },
    { HK_ERR_SUB_CONFLICT, "", 409,
      "{\"type\":\"error\",\"description\":\"Conflict with Event Subscription\"}", NULL, NULL },
    { HK_ERR_IDEMPOTENCY, "", 409,
      "{\"type\":\"error\",\"description\":\"Idempotency-Key reused with a different "
      "request.\"}",
      NULL, NULL },
    { HK_ERR_ENDPOINT_DISABLED, "", 409,
      "{\"type\":\"error\",\"description\":\"Endpoint is disabled.\"}", NULL, NULL },
    { HK_ERR_UNAVAILABLE, "", 503, "{\"type\":\"error\",\"description\":\"Service unavailable.\"}",
      "Retry-After", "1" },
    { HK_ERR_INTERNAL, "", 500,
      "{\"type\":\"error\",\"description\":\"Unable to handle request.\"}", NULL, NULL },
    { HK_OK, "", 500,                                   /* never leaks an empty 200 */
      "{\"type\":\"error\",\"description\":\"Unable to handle request.\"}", NULL, NULL },
};

static void test_error(void **state)
{
    const struct error_case *c = *state;
    struct hk_error err;
    struct response r;
    hk_error_set(&err, c->code, "detail that must not reach the client");
    snprintf(err.field, sizeof(err.field), "%s", c->field);
    response_init(&r);
    response_error(&r, &err);
    assert_body(&r, c->status, c->body);
    if (c->header_name == NULL) {
        assert_int_equal(r.n_headers, 0);
    } else {
        assert_int_equal(r.n_headers, 1);
        assert_non_null(header(&r, c->header_name));
        assert_string_equal(header(&r, c->header_name), c->header_value);
    }
    response_free(&r);
}

/* Field names as hk_error_field stores them (at most 63 bytes) reach the
 * body intact when they fit, and cut at a character boundary otherwise:
 * the body must stay valid UTF-8 for any client-chosen name. */
#define A10 "aaaaaaaaaa"
#define A60 A10 A10 A10 A10 A10 A10
#define E1 "\xc3\xa9"                             /* U+00E9, two bytes */
#define E10 E1 E1 E1 E1 E1 E1 E1 E1 E1 E1
#define INVALID_BODY(f) "{\"type\":\"error\",\"description\":\"Invalid field " f ".\"}"

struct field_case {
    const char *what;
    const char *field;
    const char *body;
};

static const struct field_case field_cases[] = {
    { "short name", "webhook_url", INVALID_BODY("webhook_url") },
    { "non-ASCII name", "caf" E1, INVALID_BODY("caf" E1) },
    { "63 bytes kept", A60 "aaa", INVALID_BODY(A60 "aaa") },
    { "64 bytes cut to 63", A60 "aaaa", INVALID_BODY(A60 "aaa") },
    { "31 two-byte chars kept", E10 E10 E10 E1, INVALID_BODY(E10 E10 E10 E1) },
    /* BUG (error.c hk_error_field), both rows below: snprintf cuts at
     * byte 63 even inside a character, so the body ends in a lone 0xC3
     * byte and is not valid UTF-8 (RFC 8259 requires it). */
    { "40 two-byte chars cut at a boundary", E10 E10 E10 E10, INVALID_BODY(E10 E10 E10 E1) },
    { "62 ASCII + a two-byte char", A60 "aa" E1, INVALID_BODY(A60 "aa") },
};

static void test_field(void **state)
{
    const struct field_case *c = *state;
    struct hk_error err;
    struct response r;
    char body[256];
    hk_error_field(&err, HK_ERR_INVALID, c->field);
    response_init(&r);
    response_error(&r, &err);
    snprintf(body, sizeof(body), "%s", r.body ? r.body : "(null)");
    response_free(&r);
    assert_string_equal(body, c->body);
}

/* ---- success bodies ---------------------------------------------------- */

enum success_kind { SUCCESS_NULL, SUCCESS_OBJECT, SUCCESS_ARRAY, SUCCESS_TEXT };

struct success_case {
    const char *what;
    enum success_kind kind;
    unsigned int status;
    const char *text;             /* SUCCESS_TEXT: the stored JSON */
    const char *body;
};

static const struct success_case success_cases[] = {
    { "no data", SUCCESS_NULL, 200, NULL, "{\"type\":\"success\"}" },
    { "object data", SUCCESS_OBJECT, 201, NULL,
      "{\"type\":\"success\",\"data\":{\"id\":\"EV1\",\"url\":\"http://h/x\"}}" },
    { "array data", SUCCESS_ARRAY, 200, NULL, "{\"type\":\"success\",\"data\":[1,\"a\\\"b\"]}" },
    { "stored text, byte for byte", SUCCESS_TEXT, 201, "{ \"b\" : 1,\n\"a\":\"\\u00e9\" }",
      "{\"type\":\"success\",\"data\":{ \"b\" : 1,\n\"a\":\"\\u00e9\" }}" },
    { "stored text with % signs", SUCCESS_TEXT, 200, "{\"p\":\"100%s%d\"}",
      "{\"type\":\"success\",\"data\":{\"p\":\"100%s%d\"}}" },
    { "stored empty array", SUCCESS_TEXT, 200, "[]", "{\"type\":\"success\",\"data\":[]}" },
};

static void test_success(void **state)
{
    const struct success_case *c = *state;
    struct response r;
    struct json_object *data;
    response_init(&r);
    switch (c->kind) {
    case SUCCESS_NULL:
        response_success(&r, c->status, NULL);
        break;
    case SUCCESS_OBJECT:
        data = json_object_new_object();
        json_object_object_add(data, "id", json_object_new_string("EV1"));
        json_object_object_add(data, "url", json_object_new_string("http://h/x"));
        response_success(&r, c->status, data);
        break;
    case SUCCESS_ARRAY:
        data = json_object_new_array();
        json_object_array_add(data, json_object_new_int(1));
        json_object_array_add(data, json_object_new_string("a\"b"));
        response_success(&r, c->status, data);
        break;
    case SUCCESS_TEXT:
        response_success_json_text(&r, c->status, c->text);
        break;
    }
    assert_body(&r, c->status, c->body);
    assert_int_equal(r.n_headers, 0);
    response_free(&r);
}

/* response_error_text escapes any description. */
struct text_case {
    const char *description;
    const char *body;
};

static const struct text_case text_cases[] = {
    { "Payload too large.", "{\"type\":\"error\",\"description\":\"Payload too large.\"}" },
    { "say \"hi\"", "{\"type\":\"error\",\"description\":\"say \\\"hi\\\"\"}" },
    { "tab\there", "{\"type\":\"error\",\"description\":\"tab\\there\"}" },
    { "\x01", "{\"type\":\"error\",\"description\":\"\\u0001\"}" },
    { "</script>", "{\"type\":\"error\",\"description\":\"</script>\"}" },
};

static void test_error_text(void **state)
{
    const struct text_case *c = *state;
    struct response r;
    response_init(&r);
    response_error_text(&r, 413, c->description);
    assert_body(&r, 413, c->body);
    response_free(&r);
}

/* A later body replaces an earlier one (and frees it: valgrind checks). */
static void test_body_replaced(void **state)
{
    (void)state;
    struct response r;
    response_init(&r);
    assert_int_equal(r.status, 0);
    response_success(&r, 200, NULL);
    response_error_text(&r, 400, "x");
    assert_body(&r, 400, "{\"type\":\"error\",\"description\":\"x\"}");
    response_add_header(&r, "X-A", "1");
    response_add_header(&r, "X-B", "2");
    assert_string_equal(header(&r, "X-B"), "2");
    response_free(&r);
    assert_null(r.body);
    assert_int_equal(r.n_headers, 0);
}

/* ---- one cmocka test per row ------------------------------------------- */

int main(void)
{
    static const char *const code_names[] = {
        "HK_OK", "HK_ERR_REQUIRED", "HK_ERR_INVALID", "HK_ERR_UNAUTHORIZED",
        "HK_ERR_EVENT_NOT_FOUND", "HK_ERR_SUB_NOT_FOUND", "HK_ERR_ENDPOINT_NOT_FOUND",
        "HK_ERR_SUB_CONFLICT", "HK_ERR_IDEMPOTENCY", "HK_ERR_ENDPOINT_DISABLED",
        "HK_ERR_RATE_LIMITED", "HK_ERR_UNAVAILABLE",
        "HK_ERR_INTERNAL",
    };
    /* One name per code, in enum order: a new code must be named here. */
    _Static_assert(sizeof(code_names) / sizeof(code_names[0]) == HK_ERR_INTERNAL + 1,
                   "code_names is out of step with enum hk_err_code");
    char q[64];
    for (size_t i = 0; i < ROWS_COUNT(error_cases); i++) {
        const struct error_case *c = &error_cases[i];
        rows_quote(q, sizeof(q), c->field, strlen(c->field));
        rows_add(test_error, c, "%s field \"%s\" -> %u", code_names[c->code], q, c->status);
    }
    for (size_t i = 0; i < ROWS_COUNT(field_cases); i++)
        rows_add(test_field, &field_cases[i], "field name: %s", field_cases[i].what);
    for (size_t i = 0; i < ROWS_COUNT(success_cases); i++)
        rows_add(test_success, &success_cases[i], "success: %s", success_cases[i].what);
    for (size_t i = 0; i < ROWS_COUNT(text_cases); i++) {
        const struct text_case *c = &text_cases[i];
        rows_quote(q, sizeof(q), c->description, strlen(c->description));
        rows_add(test_error_text, c, "error text \"%s\"", q);
    }
    rows_add(test_body_replaced, NULL, "a later body replaces the earlier one");
    return rows_run("response", NULL, NULL);
}
