/* api_events.c - POST /events (publish) and GET /events/{id}. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db_deliveries.h"
#include "db_events.h"
#include "json_members.h"
#include "metrics.h"
#include "token.h"
#include "xmalloc.h"

#define IDEMPOTENCY_KEY_MAX 255

/* The event's data exactly as the producer wrote it, trimmed of outer
 * whitespace (caller frees): a JSON object given as such in a JSON body, or
 * as a string holding one in a form body. */
static char *read_data_param(const struct request *req, struct hk_error *err)
{
    const struct param *p = params_get(&req->form, "data");
    if (p == NULL || p->value_len == 0) {
        hk_error_field(err, HK_ERR_REQUIRED, "data");
        return NULL;
    }
    size_t len = p->value_len;
    const char *text = json_trim(p->value, &len);
    if (p->kind != PARAM_JSON || len == 0 || text[0] != '{') {
        /* Data given as a string (a form body, or a JSON string holding
         * JSON) is parsed here. An object or array member of a JSON body
         * was parsed and checked with the same limits when the body was
         * read (params_parse_json): only its kind remains to be seen. */
        int is_null;
        struct json_object *obj = json_value_parse(p->value, p->value_len, req->form.max_depth,
                                                   &is_null);
        bool is_object = obj != NULL && json_object_is_type(obj, json_type_object);
        json_object_put(obj);
        if (!is_object) {
            hk_error_field(err, HK_ERR_INVALID, "data");
            return NULL;
        }
    }
    return xstrndup(text, len);
}

/* NULL when absent; -1 with a 400 when present but unusable. */
static int read_idempotency_key(const struct request *req, const char **key, struct hk_error *err)
{
    *key = request_header(req, "Idempotency-Key");
    if (*key == NULL)
        return 0;
    size_t len = strlen(*key);
    bool ok = len >= 1 && len <= IDEMPOTENCY_KEY_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = (*key)[i] >= 0x20 && (*key)[i] <= 0x7e;
    if (!ok) {
        hk_error_field(err, HK_ERR_INVALID, "Idempotency-Key");
        return -1;
    }
    return 0;
}

/* A publish waiting for its batch; freed when answered. */
struct pending_publish {
    struct publish_job job;
    struct request *req;
    char *data;
    char event_id[TOKEN_ID_LEN + 1];
};

/* The answer to a publish, once its outcome is known. */
static void answer_publish(struct request *req, const char *event_id,
                           struct publish_item *item, struct response *resp)
{
    if (item->err.code != HK_OK) {
        response_error(resp, &item->err);
        return;
    }
    if (!item->out.replayed)
        metrics_event_published(item->type);
    if (req->app->caches != NULL && !item->out.replayed)
        caches_event_put(req->app->caches, req->tenant_id, event_id, item->out.body,
                         strlen(item->out.body));
    response_success_json_text(resp, 201, item->out.body);
    if (item->out.replayed)
        response_add_header(resp, "Idempotent-Replayed", "true");
    free(item->out.body);
    item->out.body = NULL;
}

/* Called on a publish thread once the batch has committed. */
static void publish_done(struct publish_job *job)
{
    struct pending_publish *p = job->ctx;
    struct request *req = p->req;
    answer_publish(req, p->event_id, &job->item, &req->deferred);
    free(p->data);
    free(p);
    request_resume(req);
}

void api_event_publish(struct request *req, struct response *resp)
{
    static const char *const fields[] = { "type", "data", "version", NULL };
    struct hk_error err;
    char *data = NULL;
    const char *type, *version = NULL, *idempotency_key;

    if (api_check_params(req, NULL, fields, &err) != 0 ||
        (type = params_require_text(&req->form, "type", &err)) == NULL ||
        (data = read_data_param(req, &err)) == NULL)
        goto fail;
    if (params_get(&req->form, "version") != NULL &&
        (version = params_require_text(&req->form, "version", &err)) == NULL) {
        hk_error_field(&err, HK_ERR_INVALID, "version");
        goto fail;
    }
    if (read_idempotency_key(req, &idempotency_key, &err) != 0)
        goto fail;
    /* Group commit: answered by publish_done once its batch commits. */
    struct pending_publish *p = xcalloc(1, sizeof(*p));
    p->req = req;
    p->data = data;
    token_event_id(p->event_id);
    p->job.item = (struct publish_item){ .tenant_id = req->tenant_id, .event_id = p->event_id,
                                         .type = type, .data_json = data, .version = version,
                                         .idempotency_key = idempotency_key };
    p->job.done = publish_done;
    p->job.ctx = p;
    request_suspend(req);
    publish_batcher_submit(req->publisher, &p->job);
    return;
fail:
    free(data);
    response_error(resp, &err);
}

static bool event_id_well_formed(const char *id)
{
    if (strlen(id) != TOKEN_ID_LEN || strncmp(id, "EV", 2) != 0)
        return false;
    for (const char *p = id + 2; *p != '\0'; p++) {
        if (!isalnum((unsigned char)*p))
            return false;
    }
    return true;
}

/* Parses ?embed=: a comma-separated list whose only known value is
 * "notifications". Returns 1 when notifications are asked for, 0 when
 * embed is absent, -1 with a 400 otherwise. */
static int read_embed(const struct request *req, struct hk_error *err)
{
    const struct param *p = params_get(&req->query, "embed");
    if (p == NULL)
        return 0;
    int wanted = 0;
    const char *s = p->value;
    const char *end = p->value + p->value_len;
    while (s <= end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        size_t len = comma ? (size_t)(comma - s) : (size_t)(end - s);
        if (len != strlen("notifications") || strncmp(s, "notifications", len) != 0) {
            hk_error_field(err, HK_ERR_INVALID, "embed");
            return -1;
        }
        wanted = 1;
        if (comma == NULL)
            break;
        s = comma + 1;
    }
    return wanted;
}

void api_event_get(struct request *req, struct response *resp)
{
    static const char *const query_fields[] = { "embed", NULL };
    struct hk_error err;
    char *body = NULL;
    struct json_object *notifications = NULL;
    struct db_conn *db;
    int embed;

    if (api_check_params(req, query_fields, NULL, &err) != 0 ||
        (embed = read_embed(req, &err)) < 0)
        goto fail;
    if (!event_id_well_formed(req->route.param)) {
        hk_error_set(&err, HK_ERR_EVENT_NOT_FOUND, "malformed event id");
        goto fail;
    }
    struct caches *caches = req->app->caches;
    size_t body_len = 0;
    if (!embed && caches != NULL &&
        caches_event_get(caches, req->tenant_id, req->route.param, &body, &body_len)) {
        response_set_body(resp, 200, body, body_len);
        return;
    }
    if ((db = request_db(req, &err)) == NULL)
        goto fail;
    int found = db_events_get(db, req->tenant_id, req->route.param, &body, &err);
    if (found < 0)
        goto fail;
    if (found == 0) {
        hk_error_set(&err, HK_ERR_EVENT_NOT_FOUND, "no such event");
        goto fail;
    }
    if (caches != NULL)
        caches_event_put(caches, req->tenant_id, req->route.param, body, strlen(body));
    if (!embed) {
        /* The stored bytes, exactly as they are delivered. */
        response_set_body(resp, 200, body, strlen(body));
        return;
    }
    if (db_events_notifications(db, req->tenant_id, req->route.param, &notifications, &err) != 0)
        goto fail;
    /* The stored object with one more member spliced before its final '}'. */
    size_t len = strlen(body);
    char *embedded = xasprintf("%.*s,\"notifications\":%s}", (int)(len - 1), body,
                               json_object_to_json_string_ext(notifications,
                                                              JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    response_set_body(resp, 200, embedded, strlen(embedded));
    free(body);
    json_object_put(notifications);
    return;
fail:
    free(body);
    json_object_put(notifications);
    response_error(resp, &err);
}

void api_event_redeliver(struct request *req, struct response *resp)
{
    static const char *const fields[] = { "webhook_url", NULL };
    struct hk_error err;
    struct db_conn *db;
    const char *url = NULL;
    long queued = 0;
    if (api_check_params(req, NULL, fields, &err) != 0 ||
        api_webhook_url(req, false, &url, &err) != 0)
        goto fail;
    if (!event_id_well_formed(req->route.param)) {
        hk_error_set(&err, HK_ERR_EVENT_NOT_FOUND, "malformed event id");
        goto fail;
    }
    if ((db = request_db(req, &err)) == NULL ||
        db_deliveries_redeliver(db, req->tenant_id, req->route.param, url, &queued, &err) != 0)
        goto fail;
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "queued", json_object_new_int64(queued));
    response_success(resp, 200, data);
    return;
fail:
    response_error(resp, &err);
}

/* Recovery works in batches so no statement holds many rows locked, and
 * spaces the recovered deliveries out so new traffic goes first. */
#define RECOVER_BATCH 1000
#define RECOVER_SPACING_MS 2

void api_recover(struct request *req, struct response *resp)
{
    static const char *const fields[] = { "since", "webhook_url", NULL };
    struct hk_error err;
    struct db_conn *db;
    const char *since, *url = NULL;
    long total = 0, queued = 0;
    if (api_check_params(req, NULL, fields, &err) != 0 ||
        (since = params_require_text(&req->form, "since", &err)) == NULL ||
        api_webhook_url(req, false, &url, &err) != 0)
        goto fail;
    if ((db = request_db(req, &err)) == NULL)
        goto fail;
    do {
        if (db_deliveries_recover(db, req->tenant_id, since, url, RECOVER_BATCH, total,
                                  RECOVER_SPACING_MS, &queued, &err) != 0)
            goto fail;
        total += queued;
    } while (queued == RECOVER_BATCH);
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "queued", json_object_new_int64(total));
    response_success(resp, 200, data);
    return;
fail:
    response_error(resp, &err);
}
