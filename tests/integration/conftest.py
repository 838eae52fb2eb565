"""Fixtures for hookd's integration tests.

Everything here is real: the hookd binary built by make, a PostgreSQL cluster
started by scripts/test.sh (HOOKD_TEST_DATABASE_URL), and HTTP receivers
listening on 127.0.0.1. Nothing is mocked.
"""
import hashlib
import hmac
import http.client
import http.server
import json
import os
import socket
import subprocess
import threading
import time
import uuid

import psycopg2
import pytest

HOOKD = os.environ.get("HOOKD_BIN", os.path.join(os.path.dirname(__file__), "../../build/hookd"))
DATABASE_URL = os.environ["HOOKD_TEST_DATABASE_URL"]

# The session server's settings that tests rely on.
SUBSCRIBE_TIMEOUT_MS = 3000  # generous: sanitizer builds on a loaded machine are slow
MAX_BODY_BYTES = 65536


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOG_DIR = os.environ.get("HOOKD_TEST_LOG_DIR", "/tmp")

# Every secret the tests see (API keys, passphrases, endpoint secrets); the
# last test checks that none of them ever reached a log line.
SEEN_SECRETS = set()

# The SSRF guard refuses loopback; the tests' receivers live there.
LOOPBACK = "127.0.0.0/8,::1/128"


def hookd_env(**extra):
    env = dict(os.environ)
    env["HOOKD_DATABASE_URL"] = DATABASE_URL
    env["HOOKD_ALLOW_PRIVATE_TARGETS"] = LOOPBACK
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_hookd(*args, env=None, timeout=30):
    """Runs the hookd binary and returns the CompletedProcess (text mode)."""
    return subprocess.run([HOOKD, *args], env=env or hookd_env(), capture_output=True,
                          text=True, timeout=timeout)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


def http_request(port, method, target, body=None, headers=None, timeout=10):
    """One request on a new connection; the target is sent exactly as given."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        headers = dict(headers or {})
        if body is not None and "Content-Length" not in headers:
            headers["Content-Length"] = str(len(body))
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


class Server:
    """A running hookd process: `serve` (API and workers), `api` or `worker`.

    It is ready when it listens (api, serve) or has started its workers."""

    def __init__(self, command="serve", **settings):
        self.port = free_port()
        self.log_path = os.path.join(LOG_DIR, f"hookd-{command}-{self.port}.log")
        self.log = open(self.log_path, "w+")
        env = hookd_env(HOOKD_PORT=self.port, **settings)
        self.proc = subprocess.Popen([HOOKD, command], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("hookd exited at start: " + self.read_log())
            if command == "worker":
                if "delivery workers started" in self.read_log():
                    return
            else:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"hookd {command} did not get ready: " + self.read_log())

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def request(self, method, target, body=None, headers=None, **kw):
        if isinstance(body, str):
            body = body.encode()
        return http_request(self.port, method, target, body, headers, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Tenant:
    def on(self, server):
        """The same tenant, talking to another hookd process."""
        return Tenant(server, self.name, self.id, self.key, self.passphrase)

    def __init__(self, server, name, tenant_id, key, passphrase):
        self.server = server
        self.name = name
        self.id = tenant_id
        self.key = key
        self.passphrase = passphrase

    def auth(self, headers=None):
        h = {"Authorization": f"Bearer {self.key}"}
        h.update(headers or {})
        return h

    # Convenience calls with Bearer authentication.
    def get(self, target, headers=None):
        return self.server.request("GET", target, headers=self.auth(headers))

    def post_json(self, target, obj, headers=None):
        body = obj if isinstance(obj, (bytes, str)) else json.dumps(obj)
        return self.server.request("POST", target, body,
                                   self.auth({"Content-Type": "application/json", **(headers or {})}))

    def post_form(self, target, fields, headers=None):
        from urllib.parse import urlencode
        body = fields if isinstance(fields, (bytes, str)) else urlencode(fields)
        return self.server.request(
            "POST", target, body,
            self.auth({"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}))

    def publish(self, type_="order.updated", data=None, **extra):
        return self.post_json("/events", {"type": type_, "data": data or {"n": 1}, **extra})

    def signed(self, method, path, body=b"", content_type=None, passphrase=None, key=None):
        """An Okanjo-signed request: key and signature in the query string."""
        sep = "&" if "?" in path else "?"
        uri = f"{path}{sep}key={key or self.key}"
        mac = hmac.new((passphrase or self.passphrase).encode(), uri.encode() + body,
                       hashlib.sha256).hexdigest()
        headers = {"Content-Type": content_type} if content_type else {}
        return self.server.request(method, f"{uri}&signature={mac}", body or None, headers)


def create_tenant(server, name=None, env=None):
    name = name or f"t-{uuid.uuid4().hex[:10]}"
    r = run_hookd("tenant", "create", name, "--output", "env", env=env)
    assert r.returncode == 0, r.stderr
    values = dict(line.split("=", 1) for line in r.stdout.strip().splitlines())
    SEEN_SECRETS.update([values["HOOKD_API_KEY"], values["HOOKD_PASSPHRASE"]])
    return Tenant(server, name, int(values["HOOKD_TENANT_ID"]), values["HOOKD_API_KEY"],
                  values["HOOKD_PASSPHRASE"])


class Answer:
    """One scripted answer of a Receiver."""

    def __init__(self, status=204, body=b"", headers=None, delay=0.0, hang_up=False,
                 stream=None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.delay = delay
        self.hang_up = hang_up   # close the connection without answering
        # (chunk, interval): an endless chunked body, written until the client
        # goes away (bounded to 30 s)
        self.stream = stream


class Receiver:
    """A real HTTP receiver on 127.0.0.1 that records every request.

    It answers with the scripted `answers` in order, then with `status`
    after `delay` seconds. Its URLs carry a random prefix, and requests
    without it (retries of an earlier test's deliveries to a port that was
    reused) get 404 and are not recorded."""

    def __init__(self, status=204, delay=0.0, answers=None, host="127.0.0.1"):
        self.status = status
        self.delay = delay
        self.answers = list(answers or [])
        self.requests = []
        self.active = 0          # requests being answered right now
        self.max_active = 0      # the most at once
        self.prefix = "/" + uuid.uuid4().hex[:12]
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if not self.path.startswith(receiver.prefix):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with receiver.lock:
                    answer = (receiver.answers.pop(0) if receiver.answers
                              else Answer(receiver.status, delay=receiver.delay))
                    receiver.requests.append({"method": "POST",
                                              "path": self.path[len(receiver.prefix):],
                                              "headers": dict(self.headers.items()),
                                              "body": body, "at": time.time()})
                    receiver.active += 1
                    receiver.max_active = max(receiver.max_active, receiver.active)
                    receiver.arrived.notify_all()
                if answer.delay:
                    time.sleep(answer.delay)
                with receiver.lock:
                    receiver.active -= 1
                if answer.hang_up:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if answer.stream:
                    chunk, interval = answer.stream
                    self.close_connection = True
                    try:
                        self.send_response(answer.status)
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        deadline = time.time() + 30
                        while time.time() < deadline:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            self.wfile.flush()
                            time.sleep(interval)
                    except OSError:
                        pass  # the client stopped reading: what we wanted
                    return
                try:
                    self.send_response(answer.status)
                    for k, v in answer.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass

        self.host = host
        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook", host=None):
        return f"http://{host or self.host}:{self.port}{self.prefix}{path}"

    def wait_for(self, count, timeout=10):
        """Waits until `count` requests arrived; returns them all."""
        deadline = time.time() + timeout
        with self.lock:
            while len(self.requests) < count:
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"{len(self.requests)} of {count} requests arrived "
                                         f"within {timeout}s")
                self.arrived.wait(left)
            return list(self.requests)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def migrated():
    r = run_hookd("migrate")
    assert r.returncode == 0, r.stderr
    return True


@pytest.fixture(scope="session")
def server(migrated):
    # The API alone: delivery tests start their own workers.
    s = Server("api", HOOKD_SUBSCRIBE_TIMEOUT_MS=SUBSCRIBE_TIMEOUT_MS, HOOKD_MAX_BODY_BYTES=MAX_BODY_BYTES,
               HOOKD_MIGRATE_ON_START="false")
    yield s
    rc = s.stop()
    assert rc == 0, "hookd serve did not exit cleanly on SIGTERM:\n" + s.read_log()


@pytest.fixture
def tenant(server):
    return create_tenant(server)


@pytest.fixture
def other_tenant(server):
    return create_tenant(server)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="session")
def db():
    conn = psycopg2.connect(DATABASE_URL)
    conn.autocommit = True
    yield conn
    conn.close()


def refuse_publish_batches(cur):
    """Replaces hookd.publish_batch with one that fails every batch as a
    whole (a deadlock's SQLSTATE), so that hookd falls back to publishing
    them one by one; the caller restores it if the database lives on."""
    cur.execute("""
        CREATE OR REPLACE FUNCTION hookd.publish_batch(
            p_tenant_ids bigint[], p_types text[], p_data text[], p_versions text[],
            p_idempotency_keys text[], p_ids text[])
        RETURNS TABLE (ord integer, event_body text, replayed boolean, error_state text)
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'batch refused for the test' USING ERRCODE = '40P01';
        END $$""")

def plans_of(notices):
    """(query text, node) for every node of every plan auto_explain sent as
    a notice (auto_explain.log_format = json)."""
    nodes = []
    for notice in notices:
        if "plan:" not in notice:
            continue
        plan = json.loads(notice.split("plan:", 1)[1])
        stack = [plan["Plan"]]
        while stack:
            node = stack.pop()
            nodes.append((plan["Query Text"], node))
            stack.extend(node.get("Plans", []))
    return nodes


def explained(conn, run):
    """Runs run(cursor) on conn with auto_explain logging every plan,
    nested statements included; returns the plans' nodes (plans_of)."""
    with conn.cursor() as cur:
        cur.execute("LOAD 'auto_explain'")
        cur.execute("SET auto_explain.log_min_duration = 0")
        cur.execute("SET auto_explain.log_nested_statements = on")
        cur.execute("SET auto_explain.log_format = 'json'")
        cur.execute("SET client_min_messages = 'log'")
        del conn.notices[:]
        run(cur)
        cur.execute("SET client_min_messages = 'notice'")
    return plans_of(conn.notices)


def table_counts(db, tenant_id):
    """Row counts of every tenant-owned table, to prove an error changed nothing."""
    counts = {}
    with db.cursor() as cur:
        for table in ("events", "pending_events", "endpoints", "subscriptions", "deliveries"):
            cur.execute(f"SELECT count(*) FROM hookd.{table} WHERE tenant_id = %s", (tenant_id,))
            counts[table] = cur.fetchone()[0]
    return counts


def assert_error(r, status, description):
    """r is an Okanjo-style error answer: this status, and a body that is
    exactly {"type": "error", "description": description}."""
    assert r.status == status, r
    assert r.json() == {"type": "error", "description": description}


def assert_refused(db, tenant, send, status, description):
    """The request made by send() (a zero-argument callable, called once the
    tenant's rows are counted) is refused with this status and description,
    and leaves every tenant-owned table as it was. Returns the response."""
    before = table_counts(db, tenant.id)
    r = send()
    assert_error(r, status, description)
    assert table_counts(db, tenant.id) == before
    return r


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class Cluster:
    """A PostgreSQL cluster of its own (scripts/pg.sh), for tests that stop
    and start the database under a running hookd."""

    def __init__(self):
        self.dir = os.path.join(ROOT, ".data", f"fault-pg-{uuid.uuid4().hex[:8]}")
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.url = self._pg("start")
        r = run_hookd("migrate", env=hookd_env(HOOKD_DATABASE_URL=self.url))
        assert r.returncode == 0, r.stderr

    def _pg(self, command):
        args = [os.path.join(ROOT, "scripts", "pg.sh"), command, self.dir, "--throwaway"]
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def stop(self):
        self._pg("stop")

    def start(self):
        self._pg("start")

    def remove(self):
        self._pg("stop")
        subprocess.run(["rm", "-rf", self.dir], check=False)


@pytest.fixture
def cluster():
    c = Cluster()
    yield c
    c.remove()
