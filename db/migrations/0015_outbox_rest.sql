-- 0015_outbox_rest.sql - the deliveries a claim could not claim, queued
-- beside the attempt records instead of inside the claim.
--
-- A claim used to insert every delivery of the events it took: born
-- claimed where the endpoint had room, queued ('pending', or 'disabled')
-- otherwise. Claims of a busy endpoint are serial (one claimer at a time),
-- so the queued deliveries of a slow endpoint subscribed beside it (a
-- 20-30 us insert each) were paid on the busy endpoint's critical path:
-- make bench's isolation scenario lost 20-30 % of the healthy endpoint's
-- rate to them. Now a claim inserts the born-claimed deliveries, deletes
-- the outbox rows as before, and writes the rest as one row per claim
-- (arrays: a single insert, whatever the number of deliveries);
-- hookd.queue_rest, which the worker runs beside its attempt records on its
-- other connection, turns them into queued deliveries.
CREATE TABLE IF NOT EXISTS hookd.pending_rest (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_ids   bigint[] NOT NULL,
    event_ids    text[] NOT NULL,
    endpoint_ids bigint[] NOT NULL,
    created      timestamptz NOT NULL DEFAULT now(),
    CHECK (cardinality(tenant_ids) = cardinality(event_ids)
           AND cardinality(event_ids) = cardinality(endpoint_ids))
);
