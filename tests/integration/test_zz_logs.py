"""Runs last (files run in name order): no secret any test saw — API keys,
passphrases, endpoint secrets, the master key — and no Authorization header
value appears in any log line of any hookd process of this run."""
import glob
import os

from conftest import LOG_DIR, SEEN_SECRETS


def test_no_secret_reaches_a_log_line():
    logs = glob.glob(os.path.join(LOG_DIR, "hookd-*.log"))
    assert logs, "the run's hookd logs are missing"
    secrets = set(SEEN_SECRETS)
    key_file = os.environ.get("HOOKD_MASTER_KEY_FILE")
    if key_file:
        secrets.add(open(key_file).read().strip())
    assert len(secrets) > 20, "the tests should have seen many secrets"
    text = ""
    for path in logs:
        with open(path, errors="replace") as f:
            text += f.read()
    assert len(text) > 1000
    leaked = [s for s in secrets if s in text]
    assert leaked == []
    assert "Bearer hk_" not in text and "Authorization:" not in text
