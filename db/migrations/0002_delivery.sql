-- 0002_delivery.sql - what the delivery engine needs: signing material,
-- endpoint health, and the claim/lease and outcome columns of deliveries.

-- Tenants sign every delivery with Ed25519 (v1a); receivers verify with the
-- public key from GET /events/signing-key. hookd fills these for tenants
-- created before this migration (PostgreSQL cannot make Ed25519 keys).
ALTER TABLE hookd.tenants
    ADD COLUMN signing_secret_key bytea CHECK (length(signing_secret_key) = 64),
    ADD COLUMN signing_public_key bytea CHECK (length(signing_public_key) = 32);

-- Endpoint secrets (whsec_...) sign with HMAC (v1). During a rotation the
-- previous secret keeps signing until previous_secret_expires.
ALTER TABLE hookd.endpoints
    ADD COLUMN secret text,
    ADD COLUMN previous_secret text,
    ADD COLUMN previous_secret_expires timestamptz,
    ADD COLUMN failure_streak integer NOT NULL DEFAULT 0,
    ADD COLUMN first_failure_at timestamptz,
    ADD COLUMN last_status integer,
    ADD COLUMN disabled_at timestamptz;

-- Endpoints made before secrets existed get one: 32 bytes from two v4 UUIDs
-- (244 random bits), base64 like every other secret.
UPDATE hookd.endpoints
   SET secret = 'whsec_' || encode(substring(uuid_send(gen_random_uuid()) ||
                                             uuid_send(gen_random_uuid()) for 32), 'base64')
 WHERE secret IS NULL;
ALTER TABLE hookd.endpoints ALTER COLUMN secret SET NOT NULL;

ALTER TABLE hookd.deliveries
    ADD COLUMN last_status integer,
    ADD COLUMN last_error text,
    ADD COLUMN updated timestamptz NOT NULL DEFAULT now();

-- Fan-out looks subscriptions up by (tenant, type).
CREATE INDEX subscriptions_by_type ON hookd.subscriptions (tenant_id, event_type);
-- Per-endpoint work: queued deliveries of one endpoint (breaker, replay, counts).
CREATE INDEX deliveries_by_endpoint ON hookd.deliveries (tenant_id, endpoint_id, state);
