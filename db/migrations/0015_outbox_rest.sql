-- 0015_outbox_rest.sql - an outbox event whose born-claimed deliveries are
-- inserted while the rest of its deliveries wait to be queued.
--
-- A claim used to insert every delivery of the events it took: born
-- claimed where the endpoint had room, queued ('pending', or 'disabled')
-- otherwise. Claims of a busy endpoint are serial (one claimer at a time),
-- so the queued deliveries of a slow endpoint subscribed beside it (a
-- 20-25 us insert each) were paid on the busy endpoint's critical path:
-- make bench's isolation scenario lost 20-30 % of the healthy endpoint's
-- rate to them. Now a claim inserts only the born-claimed deliveries and
-- marks the event (born_inserted); hookd.queue_rest, run beside the attempt
-- records on the worker's other connection, queues the rest and deletes
-- the outbox row. Until then the event is still in the outbox, as before.
ALTER TABLE hookd.pending_events ADD COLUMN IF NOT EXISTS born_inserted boolean NOT NULL DEFAULT false;
-- What hookd.queue_rest takes, oldest first; claims skip these rows.
CREATE INDEX IF NOT EXISTS pending_events_rest ON hookd.pending_events (seq) WHERE born_inserted;
