-- 0018_worker_tables_unanalyzed.sql - tables that 0016 analyzed while they
-- were empty are planned as never analyzed again.
--
-- 0016 runs ANALYZE on hookd.events, pending_events, deliveries and
-- attempts. On a fresh install they are empty, and PostgreSQL plans a
-- table analyzed empty (reltuples 0) from its current size, a page or
-- none, instead of assuming ten pages as it does for a table never
-- analyzed (reltuples -1): every index of hookd.deliveries then costs as
-- little as its primary key, and the worker's cached generic plans, made
-- on its first rounds while the table is nearly empty, took the
-- (tenant_id, event_id, endpoint_id) index for lookups by (tenant_id, id)
-- and walked every delivery of the tenant: the attempt record's lock probe
-- read 18,700 index blocks per call instead of 140, and make bench's
-- 30,000-event drain to one endpoint fell from 14,400 to 5,000-7,400/s
-- (until an autoanalyze with rows replaces the plans, which the drain did
-- not see). A fresh install runs every migration in one transaction, so a
-- TRUNCATE cannot reset the statistics; only a superuser may write
-- pg_class, which the private clusters of make run, make test, make bench
-- and docker/ use. Elsewhere the first autoanalyze of each table (after 50
-- changed rows) mends it, and this migration does nothing.
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        UPDATE pg_class c SET reltuples = -1
         WHERE c.oid IN ('hookd.events'::regclass, 'hookd.pending_events'::regclass,
                         'hookd.deliveries'::regclass, 'hookd.attempts'::regclass)
           AND c.reltuples = 0 AND c.relpages = 0;
    END IF;
END $$;
