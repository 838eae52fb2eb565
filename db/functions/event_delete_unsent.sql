-- db/functions/event_delete_unsent.sql - the live definition: `hookd migrate`
-- re-applies this file whenever it changes (README: Development). Keep it
-- re-runnable: CREATE OR REPLACE only; when a signature or return type
-- changes, drop the old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.event_delete_unsent: deletes an event that nothing refers to (no
-- outbox row, no leftovers of a claim, no delivery): the subscribe test
-- event whose test POST failed. Returns whether it was deleted.
--
-- No foreign key stops a delivery from referring to a deleted event any
-- more (0023_lighter_delivery_writes.sql), so the event is locked first
-- (FOR UPDATE: it waits for a redelivery of the event, which holds the
-- event's key-share lock from before its insert until its commit, and makes
-- the next one wait until this commits), and only then, in a statement of
-- its own (a snapshot taken after the lock: a delivery just committed is
-- seen), checked and deleted. The claims and hookd.queue_rest cannot race
-- it: they delete the outbox row or the leftovers in the transaction that
-- inserts the deliveries, so one or the other is always seen.
CREATE OR REPLACE FUNCTION hookd.event_delete_unsent(p_tenant_id bigint, p_event_id text)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM hookd.events e
     WHERE e.tenant_id = p_tenant_id AND e.id = p_event_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    DELETE FROM hookd.events e
     WHERE e.tenant_id = p_tenant_id AND e.id = p_event_id
       AND NOT EXISTS (SELECT 1 FROM hookd.pending_events p
                        WHERE p.tenant_id = e.tenant_id AND p.event_id = e.id)
       AND NOT EXISTS (SELECT 1 FROM hookd.event_leftovers(e.tenant_id, e.id, e.occurred))
       AND NOT EXISTS (SELECT 1 FROM hookd.deliveries d
                        WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id);
    RETURN FOUND;
END $$;
