"""Secrets at rest: endpoint secrets, tenant signing keys and passphrases
are sealed with the master key (crypto_secretbox); API keys are only hashed.
Without the right master key nothing sealed can be read."""
import os
import re
import subprocess
import uuid

from conftest import HOOKD, Server, assert_error, hookd_env, run_hookd
from test_delivery import subscribe


def rows_as_text(db, table):
    with db.cursor() as cur:
        cur.execute(f"SELECT t::text FROM hookd.{table} t")
        return "\n".join(r[0] for r in cur.fetchall())


def test_nothing_secret_is_stored_in_the_clear(tenant, receiver, db):
    secret = subscribe(tenant, receiver)["secret"]
    stored = rows_as_text(db, "tenants") + rows_as_text(db, "endpoints")
    for value in (tenant.key, tenant.passphrase, secret, secret[len("whsec_"):]):
        assert value not in stored
    with db.cursor() as cur:
        cur.execute("SELECT length(passphrase_sealed), length(signing_key_sealed),"
                    " length(signing_public_key) FROM hookd.tenants WHERE id = %s", (tenant.id,))
        # version byte + 24-byte nonce + 16-byte MAC + the secret itself
        assert cur.fetchone() == (1 + 24 + 16 + len(tenant.passphrase), 1 + 24 + 16 + 64, 32)
        cur.execute("SELECT length(secret_sealed) FROM hookd.endpoints WHERE tenant_id = %s",
                    (tenant.id,))
        assert cur.fetchone()[0] == 1 + 24 + 16 + len(secret)


def test_commands_need_the_master_key():
    env = hookd_env()
    env.pop("HOOKD_MASTER_KEY_FILE", None)
    env.pop("HOOKD_MASTER_KEY", None)
    for args in (["tenant", "create", f"k-{uuid.uuid4().hex[:6]}"], ["migrate"], ["api"]):
        r = subprocess.run([HOOKD, *args], env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, (args, r.stderr)
        assert "no master key" in (r.stderr + r.stdout)


def test_master_key_file_must_be_private(tmp_path):
    key = tmp_path / "key"
    key.write_text(run_hookd("master-key", "new").stdout)
    key.chmod(0o644)
    r = run_hookd("migrate", env=hookd_env(HOOKD_MASTER_KEY_FILE=str(key)))
    assert r.returncode == 1 and "readable by others" in r.stderr
    key.chmod(0o600)
    assert run_hookd("migrate", env=hookd_env(HOOKD_MASTER_KEY_FILE=str(key))).returncode == 0


def test_malformed_master_key_is_refused():
    r = run_hookd("migrate", env=hookd_env(HOOKD_MASTER_KEY="c2hvcnQ="))
    assert r.returncode == 1 and "not a master key" in r.stderr
    assert "c2hvcnQ=" not in r.stderr


def test_master_key_new_makes_distinct_32_byte_keys():
    keys = {run_hookd("master-key", "new").stdout.strip() for _ in range(3)}
    assert len(keys) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9+/]{43}=", k) for k in keys)


def test_another_master_key_cannot_read_the_secrets(tenant):
    other = run_hookd("master-key", "new").stdout.strip()
    s = Server("api", HOOKD_MASTER_KEY=other, HOOKD_MASTER_KEY_FILE="",
               HOOKD_MIGRATE_ON_START="false")
    try:
        t = tenant.on(s)
        # Bearer keys are hashes, not sealed: they still work...
        assert t.get("/events/types").status == 200
        # ...but the passphrase behind an Okanjo signature cannot be opened.
        assert_error(t.signed("GET", "/events/subscriptions"), 500, "Unable to handle request.")
        assert "cannot be opened" in s.read_log()
    finally:
        assert s.stop() == 0


def test_signing_key_is_sealed_per_tenant(tenant, other_tenant):
    a = tenant.get("/events/signing-key").json()["data"]["public_key"]
    b = other_tenant.get("/events/signing-key").json()["data"]["public_key"]
    assert a != b and a.startswith("whpk_")
    assert os.environ.get("HOOKD_MASTER_KEY_FILE")
