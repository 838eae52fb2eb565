-- 0022_endpoint_sign_v1a.sql - v1a (Ed25519) signatures per endpoint.
--
-- Every delivery was signed twice: v1 (HMAC-SHA256 with the endpoint's
-- secret) and v1a (Ed25519 with the tenant's key). An Ed25519 signature
-- costs 15 us on the development machine, five times an HMAC, and was
-- 47 % of a worker's CPU in make bench's deliver scenario; most receivers
-- verify v1 only. As Svix does, v1a is now chosen per endpoint: sign_v1a
-- true or false, NULL for the server's default (HOOKD_ENDPOINT_SIGN_V1A,
-- off unless set), set by POST /events/endpoints/configure.
ALTER TABLE hookd.endpoints ADD COLUMN sign_v1a boolean;
