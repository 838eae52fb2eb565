-- db/functions/endpoint_open.sql - the live definition: `hookd migrate` re-applies
-- this file whenever it changes (README: Development). Keep it re-runnable:
-- CREATE OR REPLACE only; when a signature or return type changes, drop the
-- old one first with DROP FUNCTION IF EXISTS.
--
-- hookd.endpoint_open: since 0020_slow_endpoints_left_alone.sql.

-- Whether claims may send to an endpoint now: active, its circuit closed
-- (or its time up: half-open), and not marked slow (slow_until). The one
-- definition for hookd.claim_deliveries, which asks in three places (its
-- targets, the endpoints it locks, whether due work waits at all); an
-- expression in SQL, inlined where it is called.
CREATE OR REPLACE FUNCTION hookd.endpoint_open(
    p_state text, p_circuit_open_until timestamptz, p_slow_until timestamptz)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_state = 'active'
       AND (p_circuit_open_until IS NULL OR p_circuit_open_until <= now())
       AND (p_slow_until IS NULL OR p_slow_until <= now())
$$;
