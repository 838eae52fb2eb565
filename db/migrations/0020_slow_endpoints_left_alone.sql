-- 0020_slow_endpoints_left_alone.sql - a slow endpoint is left out of
-- claims for a moment.
--
-- Every claim locked each endpoint with new events or due deliveries and
-- counted its requests in flight (the cap), however often it had found the
-- same endpoint full of requests that take seconds. Beside a healthy
-- endpoint, a slow one (make bench's isolation scenario: a receiver that
-- answers after 10 s) cost its lock and count in each of the healthy
-- endpoint's claims, hundreds a second. Now a claim that finds an endpoint
-- full and slow (at least half of its requests older than a second) marks
-- it slow_until a twentieth of its oldest request's age from now, half a
-- second at most; until then claims treat it as behind an open circuit:
-- not locked, its new deliveries left to be queued (hookd.queue_rest), its
-- queue waiting. Its requests that end meanwhile are refilled from what
-- the worker claimed ahead.
ALTER TABLE hookd.endpoints ADD COLUMN slow_until timestamptz;

-- And the leftovers' foreign key to their endpoint (0019) goes: its check
-- share-locked the endpoint's row in every claim that left it deliveries,
-- and now that claims no longer lock a slow endpoint, two claims' checks
-- made a multixact of the row, each time. Endpoints are never deleted
-- (disabled instead); hookd.queue_rest drops the leftovers of one that is
-- gone all the same.
ALTER TABLE hookd.pending_rest DROP CONSTRAINT pending_rest_tenant_id_endpoint_id_fkey;

-- And no statistics of its event ids: every plan reaches the table by key,
-- and autovacuum's ANALYZE of the arrays' elements (tens of thousands of
-- distinct ids) took 0.3-0.7 s, its snapshot holding back the horizon all
-- that time, so that index entries of deliveries recorded meanwhile could
-- not be marked dead and every claim walked them again.
ALTER TABLE hookd.pending_rest ALTER COLUMN event_ids SET STATISTICS 0;

-- And the GIN index of the event ids (0019, for the event views) goes: a
-- claim's row added an entry per event, and the index's pending list was
-- merged inside whichever claim filled it; with it, the isolation drains
-- spent 5 us more per delivery of the healthy endpoint. The event views
-- find an event's leftovers among its tenant's rows by the range of
-- occurrence times each row now carries (set by claims; NULL for rows
-- written before: no bound), then by the ids themselves.
DROP INDEX hookd.pending_rest_by_event;
ALTER TABLE hookd.pending_rest ADD COLUMN first_occurred timestamptz,
                               ADD COLUMN last_occurred timestamptz;
