-- 0005_dashboard_indexes.sql - what the dashboard's reads need, and no
-- more: each index here is paid for on a write path (see the comments).

-- Attempts by time within a tenant: GET /events/stats and the health
-- figures of GET /events/endpoints read one window of a tenant's attempts
-- instead of its whole history. One more btree entry per attempt record,
-- on a key that grows at its right edge.
CREATE INDEX attempts_by_time ON hookd.attempts (tenant_id, started);

-- Failed deliveries per endpoint (the queue figures of GET
-- /events/endpoints) as an index-only count. Partial: maintained only when
-- a delivery becomes failed, never on the pending -> delivered path.
CREATE INDEX deliveries_failed_by_endpoint ON hookd.deliveries (tenant_id, endpoint_id)
    WHERE state = 'failed';
