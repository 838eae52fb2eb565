-- 0001_initial.sql - tenants, the event-type catalog, endpoints and their
-- subscriptions, events with their outbox (pending_events), and the delivery
-- record (deliveries, attempts).
--
-- Every tenant-owned table carries tenant_id first in every key a tenant's
-- request uses, so isolation is a property of the schema and indexes stay
-- tight. Events are stored as the exact serialized text that is served and
-- delivered (jsonb would reorder keys and break byte identity).

CREATE TABLE hookd.tenants (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    api_key_hash  bytea NOT NULL UNIQUE CHECK (length(api_key_hash) = 32),
    api_key_hint  text NOT NULL,
    -- the Okanjo request-signing passphrase, sealed with the master key
    passphrase_sealed bytea NOT NULL,
    created       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hookd.event_types (
    name        text PRIMARY KEY
                CHECK (length(name) <= 128 AND name ~ '^[a-z0-9_]+(\.[a-z0-9_]+)*$'),
    description text NOT NULL DEFAULT '',
    created     timestamptz NOT NULL DEFAULT now()
);

INSERT INTO hookd.event_types (name, description) VALUES
    ('disbursement.created', 'A disbursement to a store was created.'),
    ('product.created', 'A product was added to the marketplace.'),
    ('order.confirmed', 'An order was confirmed.'),
    ('order.updated', 'An order changed.'),
    ('order_item.updated', 'An item of an order changed.'),
    ('webhook.test', 'Sent to a URL to test it before a subscription is accepted.');

CREATE TABLE hookd.endpoints (
    tenant_id       bigint NOT NULL REFERENCES hookd.tenants (id),
    id              bigint GENERATED ALWAYS AS IDENTITY,
    url             text NOT NULL CHECK (length(url) <= 2048),
    state           text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled')),
    disabled_reason text,
    created         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, url)
);

CREATE TABLE hookd.subscriptions (
    tenant_id   bigint NOT NULL,
    id          text NOT NULL,
    endpoint_id bigint NOT NULL,
    event_type  text NOT NULL,
    created     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, endpoint_id, event_type),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES hookd.endpoints (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE hookd.events (
    tenant_id       bigint NOT NULL REFERENCES hookd.tenants (id),
    id              text NOT NULL CHECK (id ~ '^EV[0-9A-Za-z]{18}$'),
    type            text NOT NULL REFERENCES hookd.event_types (name),
    version         text NOT NULL,
    occurred        timestamptz NOT NULL,
    body            text NOT NULL,
    idempotency_key text,
    request_hash    bytea,
    PRIMARY KEY (tenant_id, id)
);

CREATE UNIQUE INDEX events_idempotency_key ON hookd.events (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- The outbox: producers insert here in their own transaction (hookd.publish);
-- the worker pool drains it by fanning each event out into deliveries.
CREATE TABLE hookd.pending_events (
    seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id bigint NOT NULL,
    event_id  text NOT NULL,
    created   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, event_id) REFERENCES hookd.events (tenant_id, id)
);

CREATE TABLE hookd.deliveries (
    tenant_id       bigint NOT NULL,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    event_id        text NOT NULL,
    endpoint_id     bigint NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivering', 'delivered', 'failed', 'disabled')),
    attempt_count   integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claim_id        uuid,
    lease_until     timestamptz,
    created         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, event_id, endpoint_id),
    FOREIGN KEY (tenant_id, event_id) REFERENCES hookd.events (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES hookd.endpoints (tenant_id, id)
);

CREATE INDEX deliveries_due ON hookd.deliveries (next_attempt_at)
    WHERE state IN ('pending', 'delivering');

CREATE TABLE hookd.attempts (
    tenant_id       bigint NOT NULL,
    delivery_id     bigint NOT NULL,
    number          integer NOT NULL,
    started         timestamptz NOT NULL,
    duration_ms     integer NOT NULL,
    status          integer,
    response_body   text,
    error           text,
    next_attempt_at timestamptz,
    PRIMARY KEY (tenant_id, delivery_id, number),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES hookd.deliveries (tenant_id, id)
);

-- RFC 3339 in UTC with milliseconds, the one timestamp format of the API.
CREATE FUNCTION hookd.rfc3339(ts timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

-- An event id for producers that publish from SQL: EV + 18 base62 characters
-- drawn from PostgreSQL's strong random source (gen_random_uuid), with
-- rejection sampling so every character is uniform. The HTTP API passes ids
-- drawn from libsodium instead.
CREATE FUNCTION hookd.new_event_id() RETURNS text
    LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    id text := 'EV';
    pool bytea := '';
    i integer := 0;
    b integer;
BEGIN
    WHILE length(id) < 20 LOOP
        IF i >= length(pool) THEN
            pool := uuid_send(gen_random_uuid());
            i := 0;
        END IF;
        b := get_byte(pool, i);
        i := i + 1;
        -- bytes 6 and 8 of a v4 UUID carry version and variant bits
        CONTINUE WHEN i = 7 OR i = 9;
        IF b < 248 THEN
            id := id || substr(alphabet, b % 62 + 1, 1);
        END IF;
    END LOOP;
    RETURN id;
END $$;

CREATE FUNCTION hookd.notify_pending() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hookd_pending', '');
    RETURN NULL;
END $$;

CREATE TRIGGER pending_events_notify AFTER INSERT ON hookd.pending_events
    FOR EACH STATEMENT EXECUTE FUNCTION hookd.notify_pending();

-- hookd.publish: the transactional outbox. Stores the event and its pending
-- row in the caller's transaction, exactly as POST /events does (the HTTP
-- API calls this same function). Returns the stored event text and whether
-- it was an idempotent replay of an earlier publish with the same key.
--
-- Errors carry SQLSTATEs the API maps to its answers:
--   HKT01 unknown event type, HKD01 data is not a JSON object,
--   HKV01 version is not a semantic version, HKI01 idempotency key reused
--   with a different request.
CREATE FUNCTION hookd.publish(
    p_tenant_id       bigint,
    p_type            text,
    p_data            json,
    p_version         text DEFAULT '1.0.0',
    p_idempotency_key text DEFAULT NULL,
    p_id              text DEFAULT NULL)
RETURNS TABLE (event_id text, event_body text, replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_id       text := coalesce(p_id, hookd.new_event_id());
    v_version  text := coalesce(p_version, '1.0.0');
    v_occurred timestamptz := date_trunc('milliseconds', clock_timestamp());
    v_body     text;
    v_hash     bytea;
    v_existing record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM hookd.event_types t WHERE t.name = p_type) THEN
        RAISE EXCEPTION 'unknown event type %', p_type USING ERRCODE = 'HKT01';
    END IF;
    IF p_data IS NULL OR json_typeof(p_data) <> 'object' THEN
        RAISE EXCEPTION 'event data must be a JSON object' USING ERRCODE = 'HKD01';
    END IF;
    IF length(v_version) > 64 OR v_version !~
        '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
    THEN
        RAISE EXCEPTION 'version % is not a semantic version', v_version USING ERRCODE = 'HKV01';
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
            INSERT INTO hookd.pending_events (tenant_id, event_id) VALUES (p_tenant_id, v_id);
            RETURN QUERY SELECT v_id, v_body, false;
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
                RAISE EXCEPTION 'idempotency key reused with a different request'
                    USING ERRCODE = 'HKI01';
            END IF;
            RETURN QUERY SELECT v_existing.id, v_existing.body, true;
            RETURN;
        END IF;
    END LOOP;
END $$;
