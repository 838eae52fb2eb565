/* static_files.c - serves the embedded dashboard files under /ui/. */
#include "static_files.h"

#include <string.h>

#include "log.h"

#define UI_PREFIX "/ui/"
#define UI_PREFIX_LEN (sizeof(UI_PREFIX) - 1)

/* The dashboard runs only its own scripts and styles, talks only to this
 * server, and cannot be framed: an injected string can never execute. */
static const char CONTENT_SECURITY_POLICY[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

static const char NOT_FOUND_BODY[] = "{\"type\":\"error\",\"description\":\"Not found.\"}";

const struct static_file *static_files_find(const char *name, size_t len)
{
    if (len == 0) {
        name = "index.html";
        len = strlen(name);
    }
    for (size_t i = 0; i < embedded_ui_files_count; i++) {
        const struct static_file *f = &embedded_ui_files[i];
        if (strlen(f->name) == len && memcmp(f->name, name, len) == 0)
            return f;
    }
    return NULL;
}

bool static_files_etag_matches(const char *if_none_match, const char *etag)
{
    size_t etag_len = strlen(etag);
    const char *p = if_none_match;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ",");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == etag_len && memcmp(p, etag, n) == 0)
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

static void add_security_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy", CONTENT_SECURITY_POLICY);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

/* Queues a response with bytes that outlive it (static data) and frees
 * our reference. */
static enum MHD_Result queue(struct MHD_Connection *connection, unsigned int status,
                             struct MHD_Response *r)
{
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(connection, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result static_files_answer(struct MHD_Connection *connection, const char *path,
                                    size_t path_len)
{
    struct MHD_Response *r = NULL;
    if (path_len < UI_PREFIX_LEN) {
        /* "/ui": the dashboard's relative links need the slash. */
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (r != NULL)
            MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, UI_PREFIX);
        return queue(connection, MHD_HTTP_PERMANENT_REDIRECT, r);
    }
    const struct static_file *f = static_files_find(path + UI_PREFIX_LEN,
                                                    path_len - UI_PREFIX_LEN);
    if (f == NULL) {
        r = MHD_create_response_from_buffer(sizeof(NOT_FOUND_BODY) - 1, (void *)NOT_FOUND_BODY,
                                            MHD_RESPMEM_PERSISTENT);
        if (r != NULL) {
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
            MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        }
        return queue(connection, MHD_HTTP_NOT_FOUND, r);
    }
    const char *inm = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_IF_NONE_MATCH);
    bool current = inm != NULL && static_files_etag_matches(inm, f->etag);
    r = MHD_create_response_from_buffer(current ? 0 : f->len, (void *)f->data,
                                        MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    if (!current)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, f->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, f->etag);
    /* Names are not versioned: revalidate every time (a 304 is cheap). */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    add_security_headers(r);
    log_debug("/ui/%s -> %d", f->name, current ? 304 : 200);
    return queue(connection, current ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
}
