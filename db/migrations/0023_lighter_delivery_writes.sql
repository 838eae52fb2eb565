-- 0023_lighter_delivery_writes.sql - less work per delivery on the workers'
-- hot path.
--
-- make bench's deliver scenario is bound by one endpoint's claims, which are
-- serial (each locks the endpoint's row), and PostgreSQL's work per delivery
-- sets their pace. Two things done for every delivery are gone:
--
-- * Three foreign-key checks: each delivery born claimed was checked against
--   hookd.events and hookd.endpoints, and each attempt row against
--   hookd.deliveries (a query of PostgreSQL's own per row, after an
--   after-trigger event queued per row). The rows they guard are never
--   deleted (endpoints, deliveries), or an event only while nothing refers
--   to it (hookd.event_delete_unsent: the subscribe test event whose test
--   POST failed; it locks the event before it looks, and a redelivery takes
--   the event's key-share lock before it inserts). Every insert takes its
--   keys from the rows it refers to: the claim and hookd.queue_rest from the
--   outbox and the subscriptions, the record from the deliveries it locked.
--   The outbox's own check against hookd.events stays (publishes are not on
--   this path).
-- * The lookup of each new event in step 1 of hookd.claim_deliveries: the
--   outbox row carries the event's type and occurred, written by the publish
--   that writes the event. A row without them (queued by an older hookd
--   during a rolling upgrade, or written by hand) is looked up as before.
ALTER TABLE hookd.deliveries DROP CONSTRAINT IF EXISTS deliveries_tenant_id_event_id_fkey;
ALTER TABLE hookd.deliveries DROP CONSTRAINT IF EXISTS deliveries_tenant_id_endpoint_id_fkey;
ALTER TABLE hookd.attempts DROP CONSTRAINT IF EXISTS attempts_tenant_id_delivery_id_fkey;

ALTER TABLE hookd.pending_events ADD COLUMN type text, ADD COLUMN occurred timestamptz;
