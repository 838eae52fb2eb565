-- db/functions/notify_pending.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.notify_pending, the function of the trigger pending_events_notify
-- (the trigger itself is in 0001_initial.sql): from 0001_initial.sql.

CREATE OR REPLACE FUNCTION hookd.notify_pending() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hookd_pending', '');
    RETURN NULL;
END $$;
