"""Per-tenant API rate limits: 429 with Retry-After past a tenant's limit,
other tenants unaffected, the configured default, and no limit at 0."""
import time
import uuid

from conftest import Server, Tenant, assert_error, run_hookd


def tenant_with_limit(server, limit):
    name = f"rl-{uuid.uuid4().hex[:8]}"
    args = ["tenant", "create", name, "--output", "env"]
    if limit is not None:
        args += ["--rate-limit", str(limit)]
    r = run_hookd(*args)
    assert r.returncode == 0, r.stderr
    v = dict(line.split("=", 1) for line in r.stdout.strip().splitlines())
    return Tenant(server, name, int(v["HOOKD_TENANT_ID"]), v["HOOKD_API_KEY"], v["HOOKD_PASSPHRASE"])


def test_tenant_limit_gives_429_with_retry_after(server, tenant):
    slow = tenant_with_limit(server, 2)             # bursts of 4, then 2/s
    codes = [slow.get("/events/types").status for _ in range(6)]
    assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]
    r = slow.get("/events/types")
    assert_error(r, 429, "Too many requests.")
    assert r.header("Retry-After") == "1"
    assert tenant.get("/events/types").status == 200    # others are not slowed
    time.sleep(1.1)
    assert slow.get("/events/types").status == 200


def test_limit_applies_to_publishing_and_changes_nothing(server, db):
    slow = tenant_with_limit(server, 1)
    results = [slow.publish().status for _ in range(4)]
    assert results == [201, 201, 429, 429]
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM hookd.events WHERE tenant_id = %s", (slow.id,))
        assert cur.fetchone()[0] == 2


def test_default_limit_and_zero_means_none():
    s = Server("api", HOOKD_TENANT_RATE_LIMIT=3, HOOKD_MIGRATE_ON_START="false")
    try:
        default = tenant_with_limit(s, None)
        codes = [default.get("/events/types").status for _ in range(8)]
        assert codes.count(200) == 6 and codes[-1] == 429
        free = tenant_with_limit(s, 0)
        assert {free.get("/events/types").status for _ in range(50)} == {200}
    finally:
        assert s.stop() == 0


def test_bad_rate_limit_option():
    for value in ("-1", "x", "1e99", ""):
        r = run_hookd("tenant", "create", f"bad-{uuid.uuid4().hex[:6]}", "--rate-limit", value)
        assert r.returncode == 2 and "usage:" in r.stderr
