/* db_event_list.h - a page of a tenant's events, newest first, each with
 * its deliveries counted by state (GET /events). */
#ifndef HOOKD_DB_EVENT_LIST_H
#define HOOKD_DB_EVENT_LIST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "event_cursor.h"

struct event_list_query {
    const char *type;                 /* only this type; NULL: all */
    const char *id;                   /* only this event; NULL: all */
    const struct event_position *before;  /* strictly older than this; NULL: from the newest */
    int limit;                        /* 1..100 */
};

/* *page gets a new JSON array of at most q->limit events (caller puts it);
 * *more is true when older events follow, and then *last is the position
 * of the page's last event (for the next cursor). */
int db_event_list_page(struct db_conn *conn, int64_t tenant_id, const struct event_list_query *q,
                       struct json_object **page, bool *more, struct event_position *last,
                       struct hk_error *err) __attribute__((warn_unused_result));

#endif
