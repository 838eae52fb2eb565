/* request.c - helpers handlers use on their request. */
#include "request.h"

struct db_conn *request_db(struct request *req, struct hk_error *err)
{
    if (req->db == NULL)
        req->db = db_pool_acquire(req->app->pool, req->app->cfg->db_acquire_timeout_ms, err);
    return req->db;
}

void request_db_release(struct request *req)
{
    db_pool_release(req->app->pool, req->db);
    req->db = NULL;
}

void request_suspend(struct request *req)
{
    request_db_release(req);
    response_init(&req->deferred);
    req->suspended = true;
    MHD_suspend_connection(req->connection);
}

void request_resume(struct request *req)
{
    req->deferred_ready = true;
    MHD_resume_connection(req->connection);
}

const char *request_header(const struct request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, name);
}
