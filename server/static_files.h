/* static_files.h - the dashboard (ui/), compiled into the binary by
 * scripts/embed-ui.sh and served under /ui/ without credentials (the files
 * hold no data: the dashboard reads everything through the public API with
 * the key its user signs in with). A request can only name a file of the
 * embedded table, so nothing else on disk is reachable. */
#ifndef HOOKD_STATIC_FILES_H
#define HOOKD_STATIC_FILES_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

struct static_file {
    const char *name;            /* relative to ui/, e.g. "app.js" */
    const char *content_type;
    const char *etag;            /* quoted strong validator: the bytes' hash */
    const unsigned char *data;   /* static, never freed */
    size_t len;
};

/* The table generated from ui/ at build time. */
extern const struct static_file embedded_ui_files[];
extern const size_t embedded_ui_files_count;

/* The embedded file a path under /ui/ names: name is the part after "/ui/"
 * (not NUL-terminated), "" meaning index.html. NULL when there is none.
 * Pure. */
const struct static_file *static_files_find(const char *name, size_t len);

/* Does an If-None-Match header value (a list of entity tags, weak or
 * strong, or "*") match etag? Weak comparison, as RFC 9110 asks for
 * If-None-Match. Pure. */
bool static_files_etag_matches(const char *if_none_match, const char *etag);

/* Queues the answer for a GET or HEAD of path (the request target without
 * its query; "/ui" or under "/ui/"): a redirect from "/ui" to "/ui/", the
 * file (200) or 304 when the client's copy is current, each with the
 * dashboard's security headers, or 404 Not found. */
enum MHD_Result static_files_answer(struct MHD_Connection *connection, const char *path,
                                    size_t path_len);

#endif
