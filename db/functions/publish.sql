-- db/functions/publish.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.publish_checked and hookd.publish, the transactional outbox: from
-- 0004_publish_batch.sql (hookd.publish first appeared in 0001_initial.sql).
--
-- hookd.publish_checked does what hookd.publish did but reports a refusal as
-- an SQLSTATE in error_state instead of raising it, so one refused event
-- does not abort the others of its batch (and no subtransaction per event
-- is needed). hookd.publish keeps its signature and its errors on top of it;
-- hookd.publish_batch (publish_batch.sql) stores batches.
--
-- Plans. Every outbox row inserted here is checked against hookd.events by
-- its foreign key, and PostgreSQL plans that check once per connection and
-- keeps the plan until the next ANALYZE of hookd.events. Planned while
-- hookd.events was nearly empty and analyzed (a fresh install, a VACUUM
-- (ANALYZE) of the empty tables), the check was a sequential scan of the
-- events, kept while they grew by the thousand until autovacuum analyzed
-- them again: every publish then read the whole table, and POST /events
-- went from 11,500 to 1,400 events/s in 10 s with autoanalyze held back
-- (test_plan_stability.py). With seqscans disabled the check, like every
-- statement of these functions, is planned on a key whatever the
-- statistics say; no statement here needs to scan a table.

CREATE OR REPLACE FUNCTION hookd.publish_checked(
    p_tenant_id       bigint,
    p_type            text,
    p_data            json,
    p_version         text,
    p_idempotency_key text,
    p_id              text)
RETURNS TABLE (event_id text, event_body text, replayed boolean, error_state text)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    v_id       text := coalesce(p_id, hookd.new_event_id());
    v_version  text := coalesce(p_version, '1.0.0');
    v_occurred timestamptz := date_trunc('milliseconds', clock_timestamp());
    v_body     text;
    v_hash     bytea;
    v_existing record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM hookd.event_types t WHERE t.name = p_type) THEN
        RETURN QUERY SELECT NULL::text, NULL::text, false, 'HKT01'::text;
        RETURN;
    END IF;
    IF p_data IS NULL OR json_typeof(p_data) <> 'object' THEN
        RETURN QUERY SELECT NULL::text, NULL::text, false, 'HKD01'::text;
        RETURN;
    END IF;
    IF length(v_version) > 64 OR v_version !~
        '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
    THEN
        RETURN QUERY SELECT NULL::text, NULL::text, false, 'HKV01'::text;
        RETURN;
    END IF;

    v_hash := sha256(convert_to(p_type || E'\n' || v_version || E'\n' || p_data::text, 'UTF8'));
    v_body := '{"id":' || to_json(v_id)::text
           || ',"occurred":' || to_json(hookd.rfc3339(v_occurred))::text
           || ',"type":' || to_json(p_type)::text
           || ',"version":' || to_json(v_version)::text
           || ',"data":' || p_data::text || '}';

    LOOP
        INSERT INTO hookd.events AS e
            (tenant_id, id, type, version, occurred, body, idempotency_key, request_hash)
        VALUES (p_tenant_id, v_id, p_type, v_version, v_occurred, v_body, p_idempotency_key,
                CASE WHEN p_idempotency_key IS NULL THEN NULL ELSE v_hash END)
        ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING;
        IF FOUND THEN
            INSERT INTO hookd.pending_events (tenant_id, event_id, type, occurred)
                VALUES (p_tenant_id, v_id, p_type, v_occurred);
            RETURN QUERY SELECT v_id, v_body, false, NULL::text;
            RETURN;
        END IF;
        -- Another publish holds this key: answer with its event. Each
        -- statement takes a new snapshot, so a concurrent winner that just
        -- committed is visible here; loop if it rolled back instead.
        SELECT e.id, e.body, e.request_hash INTO v_existing
          FROM hookd.events e
         WHERE e.tenant_id = p_tenant_id AND e.idempotency_key = p_idempotency_key;
        IF FOUND THEN
            IF v_existing.request_hash IS DISTINCT FROM v_hash THEN
                RETURN QUERY SELECT NULL::text, NULL::text, false, 'HKI01'::text;
                RETURN;
            END IF;
            RETURN QUERY SELECT v_existing.id, v_existing.body, true, NULL::text;
            RETURN;
        END IF;
    END LOOP;
END $$;

-- hookd.publish: the transactional outbox. Stores the event and its pending
-- row in the caller's transaction, exactly as POST /events does (the HTTP
-- API calls this same function). Returns the stored event text and whether
-- it was an idempotent replay of an earlier publish with the same key.
--
-- Errors carry SQLSTATEs the API maps to its answers:
--   HKT01 unknown event type, HKD01 data is not a JSON object,
--   HKV01 version is not a semantic version, HKI01 idempotency key reused
--   with a different request.
CREATE OR REPLACE FUNCTION hookd.publish(
    p_tenant_id       bigint,
    p_type            text,
    p_data            json,
    p_version         text DEFAULT '1.0.0',
    p_idempotency_key text DEFAULT NULL,
    p_id              text DEFAULT NULL)
RETURNS TABLE (event_id text, event_body text, replayed boolean)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    r record;
BEGIN
    SELECT * INTO r
      FROM hookd.publish_checked(p_tenant_id, p_type, p_data, p_version, p_idempotency_key, p_id);
    CASE r.error_state
    WHEN 'HKT01' THEN
        RAISE EXCEPTION 'unknown event type %', p_type USING ERRCODE = 'HKT01';
    WHEN 'HKD01' THEN
        RAISE EXCEPTION 'event data must be a JSON object' USING ERRCODE = 'HKD01';
    WHEN 'HKV01' THEN
        RAISE EXCEPTION 'version % is not a semantic version', coalesce(p_version, '1.0.0')
            USING ERRCODE = 'HKV01';
    WHEN 'HKI01' THEN
        RAISE EXCEPTION 'idempotency key reused with a different request' USING ERRCODE = 'HKI01';
    ELSE
        RETURN QUERY SELECT r.event_id, r.event_body, r.replayed;
    END CASE;
END $$;
