/* db_events.h - events, their outbox rows, and their delivery record. */
#ifndef HOOKD_DB_EVENTS_H
#define HOOKD_DB_EVENTS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"

struct published_event {
    char *body;        /* the stored event text; owned by the caller */
    bool replayed;     /* an earlier publish with the same idempotency key */
};

/* Stores an event and its pending row in one transaction (hookd.publish).
 * data_json must be a JSON object's text; version and idempotency_key may be
 * NULL. Errors: HK_ERR_INVALID on type, data or version, HK_ERR_IDEMPOTENCY,
 * HK_ERR_UNAVAILABLE, HK_ERR_INTERNAL. */
int db_events_publish(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                      const char *type, const char *data_json, const char *version,
                      const char *idempotency_key, struct published_event *out,
                      struct hk_error *err) __attribute__((warn_unused_result));
/* One publish of a batch: the inputs (borrowed), then what became of it. */
struct publish_item {
    int64_t tenant_id;
    const char *event_id, *type, *data_json, *version, *idempotency_key; /* NULL: none */
    struct published_event out;   /* when err.code is HK_OK */
    struct hk_error err;          /* a refusal of this item alone */
};

/* Publishes items[0..n) in one statement (hookd.publish_batch), so they
 * commit together. Each item gets its own outcome. Returns 0, or -1 with
 * err when the statement failed as a whole (nothing was published; the
 * caller may publish the items one by one to learn each outcome). */
int db_events_publish_batch(struct db_conn *conn, struct publish_item *items, size_t n,
                            struct hk_error *err) __attribute__((warn_unused_result));
/* Stores items[0..n) with one plain INSERT of texts built here
 * (event_body.h), every event occurring at occurred_ms, with their outbox
 * rows, in one statement and so one commit. For publishes that need no
 * check of the database's: no idempotency key, a version the caller has
 * checked (event_version_valid; NULL is 1.0.0), a type the catalog
 * is known to hold (a type gone from it fails the statement). On success
 * every item's out.body is its stored text (caller frees) and its err is
 * cleared. Returns 0, or -1 with err when the statement failed as a whole:
 * nothing was stored, and the caller may publish the items one by one
 * (db_events_publish) to learn each outcome. */
int db_events_insert_batch(struct db_conn *conn, struct publish_item *items, size_t n,
                           int64_t occurred_ms, struct hk_error *err)
    __attribute__((warn_unused_result));
/* db_events_insert_batch in two steps, so that the caller can work while
 * the database does: _send sends the statement (the texts are kept in
 * *ins); _finish waits for its outcome and hands the texts to the same
 * items, or frees them. After a successful _send exactly one _finish must
 * follow before anything else runs on conn. Both return 0, or -1 with err
 * (after a failed _send nothing was sent and nothing is kept). */
struct events_insert {
    char **bodies;      /* the texts sent, owned until handed to the items */
    size_t n;
};
int db_events_insert_batch_send(struct db_conn *conn, struct publish_item *items, size_t n,
                                int64_t occurred_ms, struct events_insert *ins,
                                struct hk_error *err) __attribute__((warn_unused_result));
int db_events_insert_batch_finish(struct db_conn *conn, struct events_insert *ins,
                                  struct publish_item *items, struct hk_error *err)
    __attribute__((warn_unused_result));
/* Fetches the stored event text (caller frees *body). Returns 1 found, 0 not
 * found (or another tenant's), -1 error. */
int db_events_get(struct db_conn *conn, int64_t tenant_id, const char *event_id, char **body,
                  struct hk_error *err) __attribute__((warn_unused_result));
/* Deletes an event that has no outbox row or deliveries (a webhook.test
 * event whose subscription was refused). */
int db_events_delete_unsent(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                            struct hk_error *err) __attribute__((warn_unused_result));
/* Stores an event that is not queued for delivery (webhook.test); *body gets
 * the stored text (caller frees). */
int db_events_store_unqueued(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                             const char *type, const char *data_json, char **body,
                             struct hk_error *err) __attribute__((warn_unused_result));
/* The event's delivery record as a new JSON array (caller puts it): one
 * entry per endpoint with its state and attempts. */
int db_events_notifications(struct db_conn *conn, int64_t tenant_id, const char *event_id,
                            struct json_object **out, struct hk_error *err)
    __attribute__((warn_unused_result));

#endif
