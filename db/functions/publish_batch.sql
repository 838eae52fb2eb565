-- db/functions/publish_batch.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.publish_batch, many publishes in one statement (group commit): from
-- 0008_publish_batch_set.sql.
--
-- Events without an idempotency key (the common case) are independent of
-- each other: they are checked (type known, data an object, version
-- semantic) and stored together. Events with a key go through
-- hookd.publish_checked one by one, in input order, as before: a key may
-- repeat within a batch or race another batch, and the first publish of a
-- key must be seen by the next. The answer is the same as before: one row
-- per input with its position (ord, from 1), the stored body, replayed, and
-- the refusal's SQLSTATE (error_state); data that is not JSON at all still
-- raises 22P02 for the whole batch. Seqscans are disabled for the reason
-- given at the top of publish.sql: the foreign-key check of each outbox row
-- must be planned on hookd.events' key whatever its statistics say.
CREATE OR REPLACE FUNCTION hookd.publish_batch(
    p_tenant_ids       bigint[],
    p_types            text[],
    p_data             text[],
    p_versions         text[],
    p_idempotency_keys text[],
    p_ids              text[])
RETURNS TABLE (ord integer, event_body text, replayed boolean, error_state text)
LANGUAGE plpgsql SET enable_seqscan = off AS $$
#variable_conflict use_column
DECLARE
    r record;
    c record;
BEGIN
    RETURN QUERY
    WITH input AS (
        SELECT i.n::integer AS n, i.tenant_id, i.type, i.data::json AS data,
               coalesce(i.version, '1.0.0') AS version,
               coalesce(i.id, hookd.new_event_id()) AS id,
               date_trunc('milliseconds', clock_timestamp()) AS occurred
          FROM unnest(p_tenant_ids, p_types, p_data, p_versions, p_idempotency_keys, p_ids)
               WITH ORDINALITY AS i(tenant_id, type, data, version, key, id, n)
         WHERE i.key IS NULL),
    checked AS (
        SELECT input.*, CASE
                 WHEN NOT EXISTS (SELECT 1 FROM hookd.event_types t WHERE t.name = input.type)
                   THEN 'HKT01'
                 WHEN input.data IS NULL OR json_typeof(input.data) <> 'object' THEN 'HKD01'
                 WHEN length(input.version) > 64 OR input.version !~
        '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
                   THEN 'HKV01'
               END AS refusal
          FROM input),
    stored AS (
        INSERT INTO hookd.events (tenant_id, id, type, version, occurred, body)
        SELECT k.tenant_id, k.id, k.type, k.version, k.occurred,
               '{"id":' || to_json(k.id)::text
               || ',"occurred":' || to_json(hookd.rfc3339(k.occurred))::text
               || ',"type":' || to_json(k.type)::text
               || ',"version":' || to_json(k.version)::text
               || ',"data":' || k.data::text || '}'
          FROM checked k WHERE k.refusal IS NULL
        RETURNING tenant_id, id, type, occurred, body),
    queued AS (
        INSERT INTO hookd.pending_events (tenant_id, event_id, type, occurred)
        SELECT s.tenant_id, s.id, s.type, s.occurred FROM stored s)
    SELECT k.n, s.body, false, k.refusal
      FROM checked k LEFT JOIN stored s ON s.tenant_id = k.tenant_id AND s.id = k.id;

    FOR r IN SELECT i.n::integer AS n, i.tenant_id, i.type, i.data, i.version, i.key, i.id
               FROM unnest(p_tenant_ids, p_types, p_data, p_versions, p_idempotency_keys, p_ids)
                    WITH ORDINALITY AS i(tenant_id, type, data, version, key, id, n)
              WHERE i.key IS NOT NULL
              ORDER BY i.n
    LOOP
        SELECT * INTO c
          FROM hookd.publish_checked(r.tenant_id, r.type, r.data::json, r.version, r.key, r.id);
        ord := r.n;
        event_body := c.event_body;
        replayed := c.replayed;
        error_state := c.error_state;
        RETURN NEXT;
    END LOOP;
END $$;
