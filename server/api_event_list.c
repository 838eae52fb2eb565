/* api_event_list.c - GET /events: the tenant's events, newest first, with
 * their deliveries counted by state, a page at a time. */
#include <string.h>

#include "api.h"
#include "db_event_list.h"
#include "db_event_types.h"
#include "xmalloc.h"

#define EVENT_LIST_DEFAULT_LIMIT 50
#define EVENT_LIST_MAX_LIMIT 100

/* An optional query parameter as text: absent gives 0 with *value NULL;
 * empty, or holding NUL bytes, is 400 Invalid field {name}. */
static int query_text(const struct request *req, const char *name, const char **value,
                      struct hk_error *err)
{
    const struct param *p = params_get(&req->query, name);
    *value = NULL;
    if (p == NULL)
        return 0;
    if (p->value_len == 0 || strlen(p->value) != p->value_len) {
        hk_error_field(err, HK_ERR_INVALID, name);
        return -1;
    }
    *value = p->value;
    return 0;
}

/* limit: digits only, 1..EVENT_LIST_MAX_LIMIT. */
static int read_limit(const struct request *req, int *limit, struct hk_error *err)
{
    const char *text;
    *limit = EVENT_LIST_DEFAULT_LIMIT;
    if (query_text(req, "limit", &text, err) != 0)
        return -1;
    if (text == NULL)
        return 0;
    size_t len = strlen(text);
    int v = 0;
    bool ok = len <= 3 && strspn(text, "0123456789") == len && text[0] != '0';
    for (size_t i = 0; ok && i < len; i++)
        v = v * 10 + (text[i] - '0');
    if (!ok || v < 1 || v > EVENT_LIST_MAX_LIMIT) {
        hk_error_field(err, HK_ERR_INVALID, "limit");
        return -1;
    }
    *limit = v;
    return 0;
}

static int read_query(struct request *req, struct event_list_query *q,
                      struct event_position *before, struct hk_error *err)
{
    static const char *const query_fields[] = { "type", "id", "before", "limit", NULL };
    const char *cursor;
    memset(q, 0, sizeof(*q));
    if (api_check_params(req, query_fields, NULL, err) != 0 ||
        query_text(req, "type", &q->type, err) != 0 || query_text(req, "id", &q->id, err) != 0 ||
        query_text(req, "before", &cursor, err) != 0 || read_limit(req, &q->limit, err) != 0)
        return -1;
    if (q->id != NULL && !event_id_valid(q->id, strlen(q->id))) {
        hk_error_field(err, HK_ERR_INVALID, "id");
        return -1;
    }
    if (cursor != NULL) {
        if (event_cursor_decode(cursor, strlen(cursor), before) != 0) {
            hk_error_field(err, HK_ERR_INVALID, "before");
            return -1;
        }
        q->before = before;
    }
    if (q->type != NULL) {
        struct db_conn *db = request_db(req, err);
        int known = db == NULL ? -1 : db_event_types_exists(db, q->type, err);
        if (known <= 0) {
            if (known == 0)
                hk_error_field(err, HK_ERR_INVALID, "type");
            return -1;
        }
    }
    return 0;
}

void api_events_list(struct request *req, struct response *resp)
{
    struct hk_error err;
    struct event_list_query q;
    struct event_position before, last;
    struct json_object *page = NULL;
    struct db_conn *db;
    bool more = false;
    char next[EVENT_CURSOR_MAX];
    if (read_query(req, &q, &before, &err) != 0 || (db = request_db(req, &err)) == NULL ||
        db_event_list_page(db, req->tenant_id, &q, &page, &more, &last, &err) != 0)
        goto fail;
    if (more && event_cursor_encode(&last, next) != 0) {
        hk_error_set(&err, HK_ERR_INTERNAL, "event %s has no cursor", last.id);
        goto fail;
    }
    struct json_object *body = json_object_new_object();
    json_object_object_add(body, "type", json_object_new_string("success"));
    json_object_object_add(body, "data", page);
    json_object_object_add(body, "next", more ? json_object_new_string(next) : NULL);
    const char *text = json_object_to_json_string_ext(
        body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    response_set_body(resp, 200, xstrdup(text), strlen(text));
    json_object_put(body);
    return;
fail:
    json_object_put(page);
    response_error(resp, &err);
}
