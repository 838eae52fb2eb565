-- 0014_queue_vacuum.sql - the queue tables are vacuumed as often as a queue
-- needs.
--
-- Every delivery is inserted (claimed or queued) and updated at least once
-- (recorded), and every outbox row is inserted and deleted: at thousands
-- per second, dead row versions pile up faster than the default autovacuum
-- (20 % of the table) removes them. Until they are removed their index
-- entries stay: a claim's look at the outbox's head, its loose scan of
-- deliveries_queue and its count of an endpoint's requests in flight (whose
-- range holds every recently recorded delivery's old entry) step over them,
-- so a long drain slowed down as it went: make bench's 200,000-event drain
-- to one endpoint ran at 5,550/s, against 7,500 for a 30,000-event one.
-- With these settings the same drain ran at 7,605/s.
ALTER TABLE hookd.deliveries SET (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0.05,
    autovacuum_vacuum_cost_delay = 0);
ALTER TABLE hookd.pending_events SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000,
    autovacuum_vacuum_cost_delay = 0);
