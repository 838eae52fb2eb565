-- 0003_tenant_rate_limit.sql - a tenant's own API rate limit (requests per
-- second per API process): NULL uses HOOKD_TENANT_RATE_LIMIT, 0 is unlimited.
ALTER TABLE hookd.tenants
    ADD COLUMN rate_limit double precision CHECK (rate_limit >= 0);
