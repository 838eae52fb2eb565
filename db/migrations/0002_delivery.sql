-- 0002_delivery.sql - what the delivery engine needs: signing material,
-- endpoint health, and the claim/lease and outcome columns of deliveries.

-- Secrets are stored sealed (crypto_secretbox under the master key; see
-- server/secrets.h), never in the clear.

-- Tenants sign every delivery with Ed25519 (v1a); receivers verify with the
-- public key from GET /events/signing-key. hookd fills these for tenants
-- created before this migration (PostgreSQL cannot make Ed25519 keys).
ALTER TABLE hookd.tenants
    ADD COLUMN signing_key_sealed bytea,
    ADD COLUMN signing_public_key bytea CHECK (length(signing_public_key) = 32);

-- Endpoint secrets (whsec_...) sign with HMAC (v1). During a rotation the
-- previous secret keeps signing until previous_secret_expires.
ALTER TABLE hookd.endpoints
    ADD COLUMN secret_sealed bytea NOT NULL,
    ADD COLUMN previous_secret_sealed bytea,
    ADD COLUMN previous_secret_expires timestamptz,
    -- health: consecutive failed attempts, since when, and the breaker
    ADD COLUMN failure_streak integer NOT NULL DEFAULT 0,
    ADD COLUMN first_failure_at timestamptz,
    ADD COLUMN circuit_open_until timestamptz,
    ADD COLUMN disabled_at timestamptz,
    -- limits (NULL: the configured defaults) and the rate limiter's bucket
    ADD COLUMN max_in_flight integer CHECK (max_in_flight BETWEEN 1 AND 10000),
    ADD COLUMN rate_limit double precision CHECK (rate_limit >= 0),
    ADD COLUMN rate_tokens double precision,
    ADD COLUMN rate_updated timestamptz;

ALTER TABLE hookd.deliveries
    ADD COLUMN last_status integer,
    ADD COLUMN last_error text,
    ADD COLUMN updated timestamptz NOT NULL DEFAULT now();

-- Fan-out looks subscriptions up by (tenant, type).
CREATE INDEX subscriptions_by_type ON hookd.subscriptions (tenant_id, event_type);
-- The queue, per endpoint: claims walk the endpoints that have queued work
-- (one index probe each), take each one's earliest deliveries up to its
-- limits, and count what it has in flight. A backlog at one endpoint never
-- hides another endpoint's work. It replaces the global due-time index.
CREATE INDEX deliveries_queue ON hookd.deliveries (tenant_id, endpoint_id, next_attempt_at)
    WHERE state IN ('pending', 'delivering');
DROP INDEX hookd.deliveries_due;
-- Deliveries parked while their endpoint is disabled, for the replay.
CREATE INDEX deliveries_parked ON hookd.deliveries (tenant_id, endpoint_id)
    WHERE state = 'disabled';
-- Recovery of failed deliveries since a time.
CREATE INDEX deliveries_failed ON hookd.deliveries (tenant_id, updated) WHERE state = 'failed';
