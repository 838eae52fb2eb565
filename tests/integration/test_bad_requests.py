"""Hostile and malformed requests against every state-changing route.

One parametrized matrix: each row is sent byte for byte on a raw socket (so
NUL bytes, broken percent-escapes, invalid UTF-8 and lying lengths reach the
server exactly as written) to a `hookd serve` of this module's own, with a
small body limit and no tenant rate limit. Each row asserts the exact status
and the exact Okanjo error body, and that the database is unchanged: every
table of the hookd schema is checksummed before and after.

The routes: subscribe, unsubscribe, publish, redeliver, the endpoint
controls (enable, disable, configure, rotate-secret) and recover. Event
types are added only by the command line (`hookd event-type add`); over HTTP
/events/types answers GET alone, which a row checks.

Inputs that merely look hostile but are valid (SQL in event data, in an
Idempotency-Key, in a webhook URL's path and query; huge numbers, -0 and
\\u0000 inside data) are accepted and must round-trip literally: separate
tests below. The last test checks the server is still alive and serves a
good publish byte for byte, so a crash cannot hide behind a refusal.
"""
import json
import socket
import time
import uuid
from urllib.parse import quote, quote_plus

import psycopg2
import pytest

from conftest import (DATABASE_URL, SEEN_SECRETS, Receiver, Response, Server, create_tenant,
                      free_port, run_hookd)

# The body limit of this module's server: small, but big enough for a body
# holding 10,000 nested arrays.
LIMIT = 32768

SQL_STRINGS = [
    "'; DROP TABLE hookd.events; --",
    "1 OR 1=1",
    "' OR '1'='1",
    "$$",
    "\\",
    "$1",
    "order.updated'; --",
]

# Columns that change without any request (the workers' rate-limit buckets).
VOLATILE_COLUMNS = {("endpoints", "rate_tokens"), ("endpoints", "rate_updated")}


# --------------------------------------------------------------------------
# Raw HTTP.

CLOSED = "closed without an answer"
TIMEOUT = "no answer (timeout)"
# No answer: closed, or still waiting for the rest of the body. (After a
# client's half-close libmicrohttpd sometimes only notices the end of the
# connection at HOOKD_CONNECTION_TIMEOUT_S; what matters is that the
# incomplete request is never processed.)
NO_ANSWER = "no answer"


def read_answer(sock):
    """The first HTTP response on sock: a Response, CLOSED or TIMEOUT."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return CLOSED if not data else Response(0, [], data)
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers.append((k.decode("latin-1").strip(), v.decode("latin-1").strip()))
        length = next((int(v) for k, v in headers if k.lower() == "content-length"), None)
        while length is not None and len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return Response(status, headers, body[:length] if length is not None else body)
    except socket.timeout:
        return TIMEOUT if not data else Response(0, [], data)
    except ConnectionResetError:
        return CLOSED if not data else Response(0, [], data)


def exchange(port, parts, half_close=False, timeout=5):
    """Sends parts (bytes, or a list sent one after another) on a new
    connection and returns the first answer."""
    if isinstance(parts, bytes):
        parts = [parts]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        for part in parts:
            try:
                s.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered early and closed; read what it said
        if half_close:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        return read_answer(s)


def chunked(body, size=4096):
    out = b""
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b"%x\r\n%s\r\n" % (len(piece), piece)
    return out + b"0\r\n\r\n"


# --------------------------------------------------------------------------
# Body builders. Values are raw JSON text (bytes) or raw form text (bytes).

def js(s):
    """A JSON string token."""
    return json.dumps(s).encode()


def jobj(pairs):
    """A JSON object from (name, raw JSON value) pairs; names may repeat."""
    return b"{" + b",".join(js(k) + b":" + v for k, v in pairs) + b"}"


def fq(s):
    """A form-encoded text (str) or bytes value."""
    return quote_plus(s).encode() if isinstance(s, str) else s


def fobj(pairs):
    return b"&".join(fq(k) + b"=" + fq(v) for k, v in pairs)


# --------------------------------------------------------------------------
# The routes. Placeholders are filled at run time: @DEAD@ is a URL on a port
# where nothing listens (a valid URL of no endpoint), @DEADQ@ the same
# form-encoded, @EVENT@ an event of the tenant that has no deliveries.

class Route:
    def __init__(self, name, path, fields, empty):
        self.name = name
        self.path = path
        self.fields = fields        # [(name, JSON raw value, form raw value)]
        self.empty = empty          # the answer to an empty body: (status, body)

    def json_pairs(self):
        return [(n, j) for n, j, _ in self.fields]

    def form_pairs(self):
        return [(n, f) for n, _, f in self.fields]

    def good_json(self):
        return jobj(self.json_pairs())

    def good_form(self):
        return fobj(self.form_pairs())


def _text(value):
    return (js(value), fq(value))


ROUTES = [
    Route("subscribe", "/events/subscribe",
          [("type", *_text("order.updated")), ("webhook_url", b'"@DEAD@"', b"@DEADQ@")],
          (400, "Require type.")),
    Route("unsubscribe", "/events/unsubscribe",
          [("type", *_text("order.updated")), ("webhook_url", b'"@DEAD@"', b"@DEADQ@")],
          (400, "Require type.")),
    Route("publish", "/events",
          [("type", *_text("order.updated")), ("data", b'{"n":1}', fq('{"n":1}')),
           ("version", *_text("1.0.0"))],
          (400, "Require type.")),
    Route("redeliver", "/events/@EVENT@/redeliver",
          [("webhook_url", b'"@DEAD@"', b"@DEADQ@")],
          (200, {"type": "success", "data": {"queued": 0}})),
    Route("rotate-secret", "/events/endpoints/rotate-secret",
          [("webhook_url", b'"@DEAD@"', b"@DEADQ@")], (400, "Require webhook_url.")),
    Route("enable", "/events/endpoints/enable",
          [("webhook_url", b'"@DEAD@"', b"@DEADQ@")], (400, "Require webhook_url.")),
    Route("disable", "/events/endpoints/disable",
          [("webhook_url", b'"@DEAD@"', b"@DEADQ@")], (400, "Require webhook_url.")),
    Route("configure", "/events/endpoints/configure",
          [("webhook_url", b'"@DEAD@"', b"@DEADQ@"), ("max_in_flight", b"5", b"5"),
           ("rate_limit", b"1.5", b"1.5"), ("sign_v1a", b"true", b"true")],
          (400, "Require webhook_url.")),
    Route("endpoint-test", "/events/endpoints/test",
          [("webhook_url", b'"@DEAD@"', b"@DEADQ@")], (400, "Require webhook_url.")),
    Route("recover", "/events/recover",
          [("since", *_text("2020-01-01T00:00:00Z")), ("webhook_url", b'"@DEAD@"', b"@DEADQ@")],
          (400, "Require since.")),
]

# Rows the other test files already have (method, route name); GET /events
# is the event list (test_dashboard_api), not a wrong method.
COVERED_METHODS = {("GET", "subscribe"), ("PUT", "unsubscribe"), ("GET", "publish"),
                   ("GET", "redeliver")}

JSON_CT = b"application/json"
FORM_CT = b"application/x-www-form-urlencoded"


class Row:
    """One hostile request and what must come back.

    expect: (status, description) or (status, [descriptions, any one]) for
    an error, (status, dict) for an exact JSON body, CLOSED, or NO_ANSWER."""

    def __init__(self, id, path, body=None, ctype=JSON_CT, expect=None, method=b"POST",
                 headers=(), allow=None, length="auto", send="whole", auth=True,
                 half_close=False, raw=None, pad=None):
        self.id = id
        self.path = path.encode() if isinstance(path, str) else path
        self.body = body
        self.ctype = ctype
        self.expect = expect
        self.method = method
        self.headers = list(headers)
        self.allow = allow
        self.length = length        # "auto", None (no header), bytes, or int: len(body) + int
        self.send = send            # "whole", "chunked", "headers-only"
        self.auth = auth
        self.half_close = half_close
        self.raw = raw              # complete request bytes, sent as is
        self.pad = pad              # spaces are appended to the body up to this length

    def __repr__(self):
        return self.id

    def request(self, ctx):
        if self.raw is not None:
            return [ctx.fill(self.raw).replace(b"@KEY@", ctx.tenant.key.encode())]
        path = ctx.fill(self.path)
        body = ctx.fill(self.body) if self.body is not None else None
        if self.pad is not None:
            assert len(body) <= self.pad
            body += b" " * (self.pad - len(body))
        lines = [self.method + b" " + path + b" HTTP/1.1", b"Host: 127.0.0.1"]
        if self.auth:
            lines.append(b"Authorization: Bearer " + ctx.tenant.key.encode())
        if self.ctype is not None and body is not None:
            lines.append(b"Content-Type: " + self.ctype)
        lines += [k + b": " + v for k, v in self.headers]
        if self.send == "chunked":
            lines.append(b"Transfer-Encoding: chunked")
        elif self.length == "auto" and body is not None:
            lines.append(b"Content-Length: %d" % len(body))
        elif isinstance(self.length, bytes):
            lines.append(b"Content-Length: " + self.length)
        elif isinstance(self.length, int) and body is not None:
            lines.append(b"Content-Length: %d" % (len(body) + self.length))
        head = b"\r\n".join(lines) + b"\r\n\r\n"
        if self.send == "chunked":
            return [head + chunked(body or b"")]
        if self.send == "headers-only":
            return [head]
        return [head + (body or b"")]


def error_body(description):
    return {"type": "error", "description": description}


def check_answer(row, r):
    if row.expect == CLOSED:
        assert r == CLOSED, r
        return
    if row.expect == NO_ANSWER:
        assert r in (CLOSED, TIMEOUT), r
        return
    assert isinstance(r, Response), f"{row.id}: {r}"
    status, expected = row.expect
    assert r.status == status, r
    assert r.header("Content-Type") == "application/json", r
    text = r.body.decode("utf-8")            # strict: the body is UTF-8
    doc = json.loads(text)
    if isinstance(expected, dict):
        assert doc == expected, r
    else:
        alternatives = expected if isinstance(expected, list) else [expected]
        assert doc in [error_body(d) for d in alternatives], r
    if row.allow is not None:
        assert r.header("Allow") == row.allow, r


# --------------------------------------------------------------------------
# The matrix.

def field_error(name):
    return (400, f"Invalid field {name}.")


def with_value(route, index, value, form=False):
    """The route's good pairs with field index replaced by a raw value."""
    pairs = route.form_pairs() if form else route.json_pairs()
    pairs[index] = (pairs[index][0], value)
    return fobj(pairs) if form else jobj(pairs)


def build_rows():
    rows = []

    def add(*a, **kw):
        rows.append(Row(*a, **kw))

    for rt in ROUTES:
        p = rt.path
        first = rt.fields[0][0]
        good_json = rt.good_json()

        # Wrong methods: 405 with Allow, the body never read as a request.
        for m in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "post", "FOO"]:
            if (m, rt.name) in COVERED_METHODS:
                continue
            add(f"{rt.name}-method-{m}", p, good_json, method=m.encode(),
                expect=(405, "Method not allowed."),
                allow="POST, GET, HEAD" if rt.name == "publish" else "POST")

        # Content types.
        add(f"{rt.name}-ctype-missing", p, good_json, ctype=None,
            expect=(415, "Unsupported content type."))
        for ct in [b"", b"text/plain", b"application/json-patch+json", b"text/json",
                   b"application/x-www-form-urlencoded-x", b"application/json, text/plain",
                   b"multipart/form-data; boundary=x"]:
            add(f"{rt.name}-ctype-{ct.decode() or 'empty'}", p, good_json, ctype=ct,
                expect=(415, "Unsupported content type."))
        add(f"{rt.name}-ctype-json-labelled-form", p, b'{"type":"order.updated"}', ctype=FORM_CT,
            expect=field_error('{"type":"order.updated"}'))
        add(f"{rt.name}-ctype-form-labelled-json", p, rt.good_form(), ctype=JSON_CT,
            expect=field_error("body"))
        add(f"{rt.name}-ctype-utf16", p, good_json.decode().encode("utf-16-le"),
            ctype=b"application/json; charset=utf-16", expect=field_error("body"))

        # Truncated JSON bodies (with a truthful Content-Length).
        n = len(good_json)
        for cut in sorted({1, 2, n // 4, n // 2, (3 * n) // 4, n - 1}):
            add(f"{rt.name}-json-cut-{cut}-of-{n}", p, good_json[:cut],
                expect=field_error("body"))
        # ... and bodies that end before their announced length: the
        # client closes; there is no request to answer.
        add(f"{rt.name}-json-shorter-than-length", p, good_json, length=10,
            half_close=True, expect=NO_ANSWER)
        add(f"{rt.name}-chunked-cut-off", p, raw=b"POST " + p.encode() +
            b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer @KEY@\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"100\r\n" + good_json[:20], half_close=True, expect=NO_ANSWER)

        # Truncated form bodies: dangling % and %4.
        good_form = rt.good_form()
        last = rt.fields[-1][0]
        add(f"{rt.name}-form-dangling-pct", p, good_form + b"%", ctype=FORM_CT,
            expect=field_error(last))
        add(f"{rt.name}-form-dangling-pct4", p, good_form + b"%4", ctype=FORM_CT,
            expect=field_error(last))
        add(f"{rt.name}-form-first-value-pct", p,
            with_value(rt, 0, b"order%", form=True), ctype=FORM_CT, expect=field_error(first))
        add(f"{rt.name}-form-pct-zz", p, with_value(rt, 0, b"%zz", form=True), ctype=FORM_CT,
            expect=field_error(first))
        add(f"{rt.name}-form-name-cut-pct", p, good_form + b"&web%", ctype=FORM_CT,
            expect=field_error("body"))
        add(f"{rt.name}-form-name-pct4", p, b"%4=1&" + good_form, ctype=FORM_CT,
            expect=field_error("body"))
        add(f"{rt.name}-form-empty-name", p, b"=1&" + good_form, ctype=FORM_CT,
            expect=field_error("body"))

        # NUL bytes.
        add(f"{rt.name}-json-raw-nul-after-brace", p, b"{\x00" + good_json[1:],
            expect=field_error("body"))
        add(f"{rt.name}-json-raw-nul-in-string", p,
            good_json.replace(b'":"', b'":"\x00', 1), expect=field_error("body"))
        add(f"{rt.name}-json-raw-nul-before-close", p, good_json[:-1] + b"\x00}",
            expect=field_error("body"))
        add(f"{rt.name}-json-raw-nul-after-close", p, good_json + b"\x00",
            expect=field_error("body"))
        add(f"{rt.name}-json-escaped-nul-in-name", p,
            good_json[:-1] + b',"' + first.encode() + b'\\u0000x":1}', expect=field_error("body"))
        add(f"{rt.name}-form-nul-in-name", p, b"ty%00pe=1&" + good_form, ctype=FORM_CT,
            expect=field_error("body"))
        for i, (name, jval, fval) in enumerate(rt.fields):
            if name == "data":
                add(f"{rt.name}-json-{name}-escaped-nul-after", p,
                    with_value(rt, i, js('{"n":1}\u0000')), expect=field_error(name))
                add(f"{rt.name}-form-{name}-pct00", p,
                    with_value(rt, i, fval + b"%00", form=True), ctype=FORM_CT,
                    expect=field_error(name))
                continue
            add(f"{rt.name}-json-{name}-escaped-nul", p,
                with_value(rt, i, jval[:-1] + b'\\u0000"' if jval.startswith(b'"')
                           else b'"' + jval + b'\\u0000"'),
                expect=field_error(name))
            add(f"{rt.name}-json-{name}-only-nul", p, with_value(rt, i, b'"\\u0000"'),
                expect=field_error(name))
            add(f"{rt.name}-form-{name}-pct00", p, with_value(rt, i, fval + b"%00", form=True),
                ctype=FORM_CT, expect=field_error(name))
            add(f"{rt.name}-form-{name}-pct00-inside", p,
                with_value(rt, i, b"a%00b", form=True), ctype=FORM_CT, expect=field_error(name))

        # Invalid UTF-8: raw bytes in JSON (the body is refused whole), %XX
        # in forms (the field is refused), and lone surrogates as \u escapes.
        bad_bytes = {"overlong": b"\xc0\xaf", "cesu": b"\xed\xa0\x80\xed\xb0\x80",
                     "ff": b"\xff", "cut-sequence": b"\xe2\x82", "above-10ffff": b"\xf4\x90\x80\x80",
                     "lone-continuation": b"\x80"}
        for label, raw in bad_bytes.items():
            add(f"{rt.name}-json-value-{label}", p, with_value(rt, 0, b'"a' + raw + b'"'),
                expect=field_error("body"))
            add(f"{rt.name}-form-value-{label}", p,
                with_value(rt, 0, b"a" + quote(raw).encode(), form=True), ctype=FORM_CT,
                expect=field_error(first))
        add(f"{rt.name}-json-name-ff", p, good_json[:-1] + b',"x\xff":1}',
            expect=field_error("body"))
        add(f"{rt.name}-form-name-ff", p, good_form + b"&x%FF=1", ctype=FORM_CT,
            expect=field_error("body"))
        add(f"{rt.name}-form-name-cesu", p, b"%ED%A0%80=1&" + good_form, ctype=FORM_CT,
            expect=field_error("body"))
        for label, esc in {"high": b"\\ud800", "low": b"\\udc00", "reversed": b"\\udc00\\ud800",
                           "high-then-letter": b"\\ud800\\u0041"}.items():
            for i, (name, jval, _) in enumerate(rt.fields):
                if name == "data":
                    continue
                # Refused either as malformed JSON or as a bad value.
                add(f"{rt.name}-json-{name}-surrogate-{label}", p,
                    with_value(rt, i, b'"' + esc + b'"'),
                    expect=(400, ["Invalid field body.", f"Invalid field {name}."]))

        # Huge numbers, -0, and numbers where text is expected.
        for label, num in {"1e999999": b"1e999999", "400-digits": b"9" * 400, "minus-zero": b"-0",
                           "minus-zero-float": b"-0.0e-0", "tiny": b"1e-400"}.items():
            for i, (name, _, _) in enumerate(rt.fields):
                add(f"{rt.name}-json-{name}-number-{label}", p, with_value(rt, i, num),
                    expect=field_error(name))
        if rt.name == "configure":
            for name in ["max_in_flight", "rate_limit"]:
                i = [f[0] for f in rt.fields].index(name)
                for label, v in {"1e999999": "1e999999", "400-digits": "9" * 400, "minus-zero": "-0",
                                 "tiny": "1e-400", "plus": "+5", "leading-space": " 5",
                                 "trailing-space": "5 ", "nan": "NaN", "inf": "inf",
                                 "true": "true", "comma": "1,5"}.items():
                    add(f"configure-form-{name}-{label}", p,
                        with_value(rt, i, fq(v), form=True), ctype=FORM_CT,
                        expect=field_error(name))
                add(f"configure-json-{name}-true", p, with_value(rt, i, b"true"),
                    expect=field_error(name))
                add(f"configure-json-{name}-object", p, with_value(rt, i, b'{"n":5}'),
                    expect=field_error(name))

        # Deep nesting, in every field.
        deep = b"[" * 10000 + b"]" * 10000
        for i, (name, _, _) in enumerate(rt.fields):
            add(f"{rt.name}-json-{name}-nested-10000", p, with_value(rt, i, deep),
                expect=field_error("body"))
        add(f"{rt.name}-json-unbalanced-10000", p, with_value(rt, 0, b"[" * 10000),
            expect=field_error("body"))
        add(f"{rt.name}-json-extra-nested-member", p,
            good_json[:-1] + b',"deep":' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}",
            expect=field_error("body"))

        # SQL-looking strings in every text field: refused as bad values.
        for i, (name, _, _) in enumerate(rt.fields):
            for s in SQL_STRINGS:
                add(f"{rt.name}-json-{name}-sql-{SQL_STRINGS.index(s)}", p,
                    with_value(rt, i, js(s)), expect=field_error(name))
            for s in SQL_STRINGS[:3]:
                add(f"{rt.name}-form-{name}-sql-{SQL_STRINGS.index(s)}", p,
                    with_value(rt, i, fq(s), form=True), ctype=FORM_CT, expect=field_error(name))
        # ... in a webhook URL that is valid: looked up literally, not found.
        names = [f[0] for f in rt.fields]
        url_index = names.index("webhook_url") if "webhook_url" in names else None
        sql_url = b'"http://127.0.0.1:@DEADPORT@/\';DROP%20TABLE%20hookd.events;--?q=1%20OR%201=1&d=$$\\\\"'
        not_found = {"subscribe": (400, "Invalid field webhook_url."),
                     "unsubscribe": (404, "Event Subscription not found."),
                     "redeliver": (404, "Endpoint not found."),
                     "recover": (200, {"type": "success", "data": {"queued": 0}})}
        if url_index is not None:
            add(f"{rt.name}-json-webhook_url-sql-in-valid-url", p,
                with_value(rt, url_index, sql_url),
                expect=not_found.get(rt.name, (404, "Endpoint not found.")))
        # ... as parameter names and in the query string.
        add(f"{rt.name}-json-sql-name", p, good_json[:-1] + b"," + js(SQL_STRINGS[0]) + b":1}",
            expect=field_error(SQL_STRINGS[0]))
        add(f"{rt.name}-form-sql-name", p, good_form + b"&" + fq(SQL_STRINGS[0]) + b"=1",
            ctype=FORM_CT, expect=field_error(SQL_STRINGS[0]))
        add(f"{rt.name}-query-sql", p + "?q=%27%3B%20DROP%20TABLE%20hookd.events%3B%20--",
            good_json, expect=field_error("q"))
        add(f"{rt.name}-query-sql-name", p + "?'%20OR%201=1", good_json,
            expect=field_error("' OR 1"))

        # Duplicate parameters.
        add(f"{rt.name}-query-dup", p + "?a=1&a=1", good_json, expect=field_error("a"))
        add(f"{rt.name}-query-dup-key", p + "?key=x&key=x", good_json, expect=field_error("key"))
        add(f"{rt.name}-query-and-body-same-name",
            p + "?" + first + "=" + rt.fields[0][2].decode(), good_json,
            expect=field_error(first))
        if rt.name != "publish":   # test_events has publish's form and JSON duplicates
            add(f"{rt.name}-form-dup", p, good_form + b"&" + fobj(rt.form_pairs()[:1]),
                ctype=FORM_CT, expect=field_error(first))
            add(f"{rt.name}-json-dup", p, good_json[:-1] + b"," + jobj(rt.json_pairs()[:1])[1:],
                expect=field_error(first))
        add(f"{rt.name}-form-dup-last", p, good_form + b"&" + fobj(rt.form_pairs()[-1:]),
            ctype=FORM_CT, expect=field_error(last))
        add(f"{rt.name}-json-dup-null-first", p,
            b'{"' + first.encode() + b'":null,' + good_json[1:], expect=field_error(first))
        add(f"{rt.name}-json-dup-null-last", p,
            good_json[:-1] + b',"' + first.encode() + b'":null}', expect=field_error(first))
        add(f"{rt.name}-json-dup-null-twice", p,
            b'{"x":null,"x":null,' + good_json[1:], expect=field_error("x"))
        escaped = "".join(f"\\u{ord(c):04x}" for c in first).encode()
        add(f"{rt.name}-json-dup-escaped-name", p,
            good_json[:-1] + b',"' + escaped + b'":' + rt.fields[0][1] + b"}",
            expect=field_error(first))

        # Unknown parameters.
        add(f"{rt.name}-json-unknown", p, good_json[:-1] + b',"foo":1}', expect=field_error("foo"))
        add(f"{rt.name}-form-unknown", p, good_form + b"&foo=1", ctype=FORM_CT,
            expect=field_error("foo"))
        add(f"{rt.name}-form-unknown-no-value", p, good_form + b"&foo", ctype=FORM_CT,
            expect=field_error("foo"))
        add(f"{rt.name}-query-unknown", p + "?foo=1", good_json, expect=field_error("foo"))
        add(f"{rt.name}-json-key-in-body", p, good_json[:-1] + b',"key":"x"}',
            expect=field_error("key"))
        add(f"{rt.name}-form-signature-in-body", p, good_form + b"&signature=x", ctype=FORM_CT,
            expect=field_error("signature"))
        add(f"{rt.name}-json-long-name", p, good_json[:-1] + b',"' + b"a" * 300 + b'":1}',
            expect=field_error("a" * 63))
        add(f"{rt.name}-json-long-multibyte-name", p,
            good_json[:-1] + b',"' + "é".encode() * 40 + b'":1}', expect=field_error("é" * 31))
        add(f"{rt.name}-json-name-with-quote", p, good_json[:-1] + b',"a\\"b\\\\c\\n":1}',
            expect=field_error('a"b\\c\n'))

        # Bodies over the limit: announced, not announced (chunked), and
        # the boundary (exactly the limit is read and parsed).
        # (Bodies are padded with JSON whitespace after the placeholders are
        # filled, to exact sizes.)
        unknown = good_json[:-1] + b',"foo":1}'
        too_large = (413, "Request body too large.")
        add(f"{rt.name}-length-over-limit", p, unknown, pad=LIMIT + 1, expect=too_large)
        add(f"{rt.name}-length-over-limit-unsent", p, unknown, pad=LIMIT + 1,
            send="headers-only", expect=too_large)
        add(f"{rt.name}-length-huge-unsent", p, b"x", length=b"%d" % (1 << 40),
            send="headers-only", expect=too_large)
        add(f"{rt.name}-expect-100-over-limit", p, unknown, pad=LIMIT + 1, send="headers-only",
            headers=[(b"Expect", b"100-continue")], expect=too_large)
        add(f"{rt.name}-chunked-over-limit", p, unknown, pad=LIMIT + 1, send="chunked",
            expect=too_large)
        add(f"{rt.name}-chunked-4x-limit", p, unknown, pad=4 * LIMIT, send="chunked",
            expect=too_large)
        add(f"{rt.name}-length-at-limit", p, unknown, pad=LIMIT, expect=field_error("foo"))
        add(f"{rt.name}-chunked-at-limit", p, unknown, pad=LIMIT, send="chunked",
            expect=field_error("foo"))
        # No Content-Length and not chunked: the request has no body
        # (RFC 9112 6.3); the bytes after it are not a request.
        add(f"{rt.name}-no-length-big-body", p, unknown, pad=LIMIT + 1, length=None,
            expect=rt.empty)

    # Event types are not added over HTTP.
    add("event-types-post", "/events/types", b'{"name":"x.y"}', expect=(405, "Method not allowed."),
        allow="GET, HEAD")
    add("event-types-put", "/events/types", b'{"name":"x.y"}', method=b"PUT",
        expect=(405, "Method not allowed."), allow="GET, HEAD")

    # Chunked far past the limit: cut off (closed, or 413).
    add("publish-chunked-far-over-limit", "/events", b"x" * (LIMIT * 8), send="chunked",
        expect=CLOSED)

    # SQL-looking and hostile event ids in the path.
    for label, seg in {"or": "'%20OR%201=1", "drop": "%27%3B%20DROP%20TABLE%20hookd.events%3B%20--",
                       "raw-quote": "';--", "dollars": "$$", "backslash": "%5C", "raw-backslash": "\\",
                       "pct00": "EV%00", "ff": "%FF", "ev-quote": "EV000000000000000'--",
                       "ev-unicode": "EV00000000000000000%C3%A9"}.items():
        add(f"get-id-{label}", f"/events/{seg}", None, method=b"GET",
            expect=(404, "Event not found."))
        add(f"redeliver-id-{label}", f"/events/{seg}/redeliver", b"{}",
            expect=(404, "Event not found."))
    add("get-id-raw-ff", b"/events/EV\xff\xfe", None, method=b"GET", expect=(404, "Event not found."))
    add("redeliver-id-raw-ff", b"/events/\xff/redeliver", b"{}", expect=(404, "Event not found."))
    add("get-id-too-long", "/events/" + "'" * 65, None, method=b"GET", expect=(404, "Not found."))
    # Query strings of GET routes.
    add("get-event-embed-sql", "/events/@EVENT@?embed=notifications'%20OR%201=1", None,
        method=b"GET", expect=field_error("embed"))
    add("get-event-embed-dup", "/events/@EVENT@?embed=notifications&embed=", None,
        method=b"GET", expect=field_error("embed"))
    add("get-subscriptions-query-sql-name",
        "/events/subscriptions?%27%3B%20DROP%20TABLE%20hookd.events%3B%20--=1", None,
        method=b"GET", expect=field_error(SQL_STRINGS[0]))
    add("get-types-query-raw-ff", b"/events/types?a=\xff", None, method=b"GET",
        expect=field_error("a"))
    add("get-types-query-raw-ff-name", b"/events/types?\xff=1", None, method=b"GET",
        expect=field_error("query"))
    add("get-types-query-nul-name", "/events/types?%00=1", None, method=b"GET",
        expect=field_error("query"))
    add("get-types-query-dangling-pct", "/events/types?a=%", None, method=b"GET",
        expect=field_error("a"))
    add("get-types-query-pct4", "/events/types?a=%4", None, method=b"GET", expect=field_error("a"))
    add("get-types-query-no-name", "/events/types?=1", None, method=b"GET",
        expect=field_error("query"))

    # A trailing slash on a path of raw non-UTF-8 bytes, or long enough to be
    # cut: the suggestion must still be valid UTF-8 (and the whole path).
    add("trailing-slash-raw-ff", b"/events/\xff\xfe/", None, method=b"GET",
        expect=(404, "Not found."))
    long_path = "/x" + "é" * 200
    add("trailing-slash-long-multibyte", long_path.encode() + b"/", None, method=b"GET",
        expect=(404, f"Don't use trailing slashes. Try instead: {long_path}"))

    # libmicrohttpd 0.9.75 cuts request targets and header values at a NUL
    # byte, and answers malformed Content-Length values (negative, beyond 64
    # bits) itself, before hookd sees the request; those are not hookd's to
    # refuse. What reaches hookd: two lengths, or a length beside chunked
    # encoding, would let a proxy and hookd disagree on where a request ends.
    pub = b'{"type":"order.updated","data":{}}'
    add("publish-length-conflicting", "/events", pub, auth=False,
        raw=b"POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer @KEY@\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\nContent-Length: %d\r\n\r\n"
            % (len(pub), len(pub) + 1) + pub + b" ",
        expect=field_error("Content-Length"))
    add("publish-length-beside-chunked", "/events", pub, auth=False,
        raw=b"POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer @KEY@\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % (len(pub), len(pub)) + pub
            + b"\r\n0\r\n\r\n",
        expect=field_error("Content-Length"))
    # Lone surrogates inside event data are not Unicode text: refused.
    for label, esc in {"high": b"\\ud800", "low": b"\\udc00", "reversed": b"\\udc00\\ud800"}.items():
        add(f"publish-json-data-surrogate-{label}", "/events",
            b'{"type":"order.updated","data":{"s":"' + esc + b'"}}', expect=field_error("body"))
        add(f"publish-form-data-surrogate-{label}", "/events",
            b"type=order.updated&data=" + fq((b'{"s":"' + esc + b'"}').decode()),
            ctype=FORM_CT, expect=field_error("data"))
    # Odd JSON shapes and parameter counts.
    add("publish-json-bom", "/events", b"\xef\xbb\xbf" + pub, expect=field_error("body"))
    add("publish-json-empty-name", "/events", b'{"":1,' + pub[1:], expect=field_error("body"))
    add("publish-json-top-level-array", "/events", b"[" + pub + b"]", expect=field_error("body"))
    add("publish-json-two-objects", "/events", pub + pub, expect=field_error("body"))
    many = [(f"p{i}", b"1") for i in range(150)]
    add("publish-json-150-parameters", "/events", jobj(many), expect=field_error("p100"))
    add("publish-form-150-parameters", "/events", fobj([(k, "1") for k, _ in many]),
        ctype=FORM_CT, expect=field_error("p100"))
    add("publish-query-150-parameters", "/events?" + "&".join(f"p{i}=1" for i in range(150)),
        pub, expect=field_error("p100"))
    # A form data value nested 10,000 deep.
    add("publish-form-data-nested-10000", "/events",
        b"type=order.updated&data=" + b"%7B%22a%22%3A" + b"[" * 10000 + b"]" * 10000 + b"%7D",
        ctype=FORM_CT, expect=field_error("data"))

    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    return rows


ROWS = build_rows()


# --------------------------------------------------------------------------
# The server, the tenants, and the database snapshot.

class Context:
    def __init__(self, server, tenant, other, receiver, dead_port, event_id, db):
        self.server = server
        self.tenant = tenant
        self.other = other
        self.receiver = receiver
        self.dead_port = dead_port
        self.event_id = event_id
        self.db = db
        self.dead_url = f"http://127.0.0.1:{dead_port}/gone"
        self._snapshot_sql = None

    def fill(self, data):
        return (data.replace(b"@DEADQ@", quote_plus(self.dead_url).encode())
                .replace(b"@DEAD@", self.dead_url.encode())
                .replace(b"@DEADPORT@", str(self.dead_port).encode())
                .replace(b"@EVENT@", self.event_id.encode()))

    def snapshot_sql(self):
        """One query: per table of schema hookd, its row count and an md5 of
        its sorted rows (tenant-owned tables: this module's tenants only, so
        other files' leftover deliveries cannot disturb it)."""
        if self._snapshot_sql is None:
            with self.db.cursor() as cur:
                cur.execute("SELECT table_name FROM information_schema.tables"
                            " WHERE table_schema = 'hookd' AND table_type = 'BASE TABLE'"
                            " ORDER BY table_name")
                tables = [r[0] for r in cur.fetchall()]
                parts = []
                for t in tables:
                    cur.execute("SELECT column_name FROM information_schema.columns"
                                " WHERE table_schema = 'hookd' AND table_name = %s"
                                " ORDER BY ordinal_position", (t,))
                    cols = [r[0] for r in cur.fetchall()]
                    kept = [c for c in cols if (t, c) not in VOLATILE_COLUMNS]
                    where = (f" WHERE tenant_id IN ({self.tenant.id}, {self.other.id})"
                             if "tenant_id" in cols else "")
                    row = "ROW(" + ", ".join(f'"{c}"' for c in kept) + ")::text"
                    parts.append(
                        f"SELECT '{t}' AS t, count(*) AS n,"
                        f" md5(coalesce(string_agg(r, E'\\n' ORDER BY r), '')) AS h"
                        f" FROM (SELECT {row} AS r FROM hookd.\"{t}\"{where}) s")
                assert {"events", "pending_events", "endpoints", "subscriptions", "deliveries",
                        "attempts", "tenants", "event_types"} <= set(tables), tables
                self._snapshot_sql = " UNION ALL ".join(parts)
        return self._snapshot_sql

    def snapshot(self):
        with self.db.cursor() as cur:
            cur.execute(self.snapshot_sql())
            return {t: (n, h) for t, n, h in cur.fetchall()}

    def settle(self, timeout=10):
        """Waits until the workers have fanned out every queued event of the
        module's tenants and finished every delivery they queued."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.db.cursor() as cur:
                cur.execute("SELECT (SELECT count(*) FROM hookd.pending_events"
                            "         WHERE tenant_id IN (%s, %s))"
                            "     + (SELECT count(*) FROM hookd.deliveries"
                            "         WHERE tenant_id IN (%s, %s)"
                            "           AND state IN ('pending', 'delivering'))",
                            (self.tenant.id, self.other.id) * 2)
                if cur.fetchone()[0] == 0:
                    return
            time.sleep(0.02)
        raise AssertionError("the workers did not finish the module's events")


@pytest.fixture(scope="module")
def ctx(migrated):
    server = Server("serve", HOOKD_MAX_BODY_BYTES=LIMIT, HOOKD_TENANT_RATE_LIMIT=0,
                    HOOKD_SUBSCRIBE_TIMEOUT_MS=2000, HOOKD_WORKERS=1,
                    HOOKD_MIGRATE_ON_START="false")
    receiver = Receiver()
    db = psycopg2.connect(DATABASE_URL)
    db.autocommit = True
    try:
        tenant = create_tenant(server)
        other = create_tenant(server)
        # An endpoint (subscribed to a type nobody publishes here), an event
        # of another type (so it has no deliveries), and the same for a
        # second tenant, whose rows are in the snapshot too.
        for t in (tenant, other):
            r = t.post_json("/events/subscribe", {"type": "order.confirmed",
                                                  "webhook_url": receiver.url()})
            assert r.status == 200, r
            SEEN_SECRETS.add(r.json()["data"]["secret"])
        event = tenant.publish("order.updated", {"n": 1})
        assert event.status == 201, event
        assert other.publish("order.updated", {"n": 2}).status == 201
        c = Context(server, tenant, other, receiver, free_port(), event.json()["data"]["id"], db)
        c.settle()
        yield c
    finally:
        db.close()
        receiver.close()
        rc = server.stop()
        assert rc == 0, "hookd serve did not exit cleanly on SIGTERM:\n" + server.read_log()


# --------------------------------------------------------------------------
# The tests.

def test_the_snapshot_sees_a_write(ctx):
    """The checksum is not vacuous: one good publish changes it."""
    ctx.settle()
    before = ctx.snapshot()
    assert before["events"][0] >= 2 and before["endpoints"][0] == 2
    assert ctx.other.publish("order.updated", {"probe": 1}).status == 201
    ctx.settle()
    after = ctx.snapshot()
    assert after["events"][0] == before["events"][0] + 1
    assert after["events"][1] != before["events"][1]
    assert {t for t in after if after[t] != before[t]} == {"events"}


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_hostile_request_gets_the_exact_error_and_changes_nothing(ctx, row):
    ctx.settle()    # nothing an earlier row wrote (wrongly) is still being fanned out
    before = ctx.snapshot()
    r = exchange(ctx.server.port, row.request(ctx), half_close=row.half_close,
                 timeout=0.3 if row.expect == NO_ANSWER else 5)
    check_answer(row, r)
    assert ctx.server.proc.poll() is None, "hookd exited:\n" + ctx.server.read_log()[-3000:]
    assert ctx.snapshot() == before


def get_event(ctx, event_id):
    return ctx.tenant.get(f"/events/{event_id}")


def stored(ctx, sql, *args):
    with ctx.db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


HOSTILE_BUT_VALID_DATA = [
    # (label, raw data bytes): stored and served exactly as sent.
    ("sql-strings", ('{"a":' + json.dumps(SQL_STRINGS) + ',"b":"\'; DROP TABLE hookd.events; --",'
                     '"c":"$$ $tag$ E\'\\\\x00\'","d":"\\\\\\\\"}').encode()),
    ("escaped-nul", b'{"s":"a\\u0000b","t":"\\u0000"}'),
    ("huge-numbers", b'{"n":1e999999,"m":-1e999999,"t":1e-999999,"z":-0,"f":-0.0e-0,"big":'
     + b"9" * 400 + b',"neg":-' + b"1" * 400 + b"}"),
    ("nested-60", b'{"a":' + b"[" * 60 + b"]" * 60 + b"}"),
    ("sql-keys", b'{"\'; DROP TABLE hookd.events; --":1,"1 OR 1=1":{"$$":"\\\\"}}'),
    ("unicode", '{"s":"\u00e9\u6771\U0001f600","e":"\\ud83d\\ude00"}'.encode()),
]


@pytest.mark.parametrize("label,data", HOSTILE_BUT_VALID_DATA,
                         ids=[d[0] for d in HOSTILE_BUT_VALID_DATA])
@pytest.mark.parametrize("encoding", ["json", "form"])
def test_hostile_looking_valid_data_round_trips_literally(ctx, label, data, encoding):
    if encoding == "json":
        r = ctx.tenant.post_json("/events", b'{"type":"order.updated","data":' + data + b"}")
    else:
        r = ctx.tenant.post_form("/events", b"type=order.updated&data=" + quote_plus(data).encode())
    assert r.status == 201, r
    event_id = r.json()["data"]["id"]
    got = get_event(ctx, event_id)
    assert got.status == 200
    assert r.body == b'{"type":"success","data":' + got.body + b"}"
    assert got.body.endswith(b',"data":' + data + b"}")
    assert stored(ctx, "SELECT body FROM hookd.events WHERE tenant_id = %s AND id = %s",
                  ctx.tenant.id, event_id)[0].encode() == got.body
    ctx.settle()


@pytest.mark.parametrize("key", SQL_STRINGS[:3] + ["$$", "\\' \\\" \\\\"])
def test_sql_looking_idempotency_key_is_stored_literally(ctx, key):
    headers = {"Idempotency-Key": key}
    first = ctx.tenant.post_json("/events", {"type": "order.updated", "data": {"k": key}}, headers)
    assert first.status == 201, first
    again = ctx.tenant.post_json("/events", {"type": "order.updated", "data": {"k": key}}, headers)
    assert again.status == 201 and again.header("Idempotent-Replayed") == "true"
    assert again.body == first.body
    event_id = first.json()["data"]["id"]
    assert stored(ctx, "SELECT idempotency_key FROM hookd.events WHERE tenant_id = %s AND id = %s",
                  ctx.tenant.id, event_id) == (key,)
    ctx.settle()
    before = ctx.snapshot()
    r = ctx.tenant.post_json("/events", {"type": "order.updated", "data": {"k": "other"}}, headers)
    assert r.status == 409 and r.json() == error_body(
        "Idempotency-Key reused with a different request.")
    assert ctx.snapshot() == before
    ctx.settle()


def test_sql_looking_webhook_url_is_stored_and_matched_literally(ctx):
    """A URL with SQL in its path and query is a valid URL: subscribed,
    listed, configured, disabled, enabled, rotated and unsubscribed by its
    exact text, and never matched by a near variant."""
    t = ctx.tenant
    url = ctx.receiver.url("/';DROP%20TABLE%20hookd.events;--/$$/a\\b?q=1%20OR%201=1&x='--")
    r = t.post_form("/events/subscribe", {"type": "order.confirmed", "webhook_url": url})
    assert r.status == 200, r
    sub = r.json()["data"]
    SEEN_SECRETS.add(sub["secret"])
    assert sub["webhook_url"] == url
    test_post = ctx.receiver.requests[-1]
    assert json.loads(test_post["body"])["data"]["webhook_url"] == url
    assert stored(ctx, "SELECT count(*) FROM hookd.endpoints WHERE tenant_id = %s AND url = %s",
                  t.id, url) == (1,)
    listed = [s["webhook_url"] for s in t.get("/events/subscriptions").json()["data"]]
    assert url in listed
    # Near variants are other URLs.
    for variant in [url.replace("%20", " ").replace(" ", "+"), url.replace("\\", "%5C"),
                    url + "'", url.upper()]:
        before = ctx.snapshot()
        r = t.post_json("/events/endpoints/disable", {"webhook_url": variant})
        assert r.status in (400, 404), r
        assert ctx.snapshot() == before
    r = t.post_json("/events/endpoints/configure",
                    {"webhook_url": url, "max_in_flight": 3, "rate_limit": "2.5"})
    assert r.status == 200 and r.json()["data"] == {"webhook_url": url, "max_in_flight": 3,
                                                    "rate_limit": 2.5, "sign_v1a": None}, r
    r = t.post_form("/events/endpoints/disable", {"webhook_url": url})
    assert r.status == 200 and r.json()["data"] == {"webhook_url": url, "status": "disabled"}
    r = t.post_form("/events/endpoints/enable", {"webhook_url": url})
    assert r.status == 200 and r.json()["data"] == {"webhook_url": url, "status": "active",
                                                    "replayed": 0}
    r = t.post_json("/events/endpoints/rotate-secret", {"webhook_url": url})
    assert r.status == 200 and r.json()["data"]["webhook_url"] == url
    SEEN_SECRETS.add(r.json()["data"]["secret"])
    r = t.post_json(f"/events/{ctx.event_id}/redeliver", {"webhook_url": url})
    assert r.status == 200 and r.json()["data"] == {"queued": 1}, r
    r = t.post_json("/events/unsubscribe", {"type": "order.confirmed", "webhook_url": url})
    assert r.status == 200 and r.json() == {"type": "success"}
    assert url not in [s["webhook_url"] for s in t.get("/events/subscriptions").json()["data"]]
    ctx.settle()
    assert stored(ctx, "SELECT d.state FROM hookd.deliveries d JOIN hookd.endpoints e"
                       " ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id"
                       " WHERE d.tenant_id = %s AND d.event_id = %s AND e.url = %s",
                  t.id, ctx.event_id, url) == ("delivered",)


def test_sql_looking_but_valid_event_type_round_trips(ctx):
    """Event types are added by the command line only. A name of allowed
    characters that reads like SQL, with a description that is SQL, is
    stored literally and can be subscribed to and published; names the
    catalog's rule refuses change nothing."""
    name = f"drop_table.hookd_events_or_1_1_{uuid.uuid4().hex[:6]}"
    description = "'; DROP TABLE hookd.events; -- $$ \\ 1 OR 1=1"
    r = run_hookd("event-type", "add", name, "--description", description)
    assert r.returncode == 0, r.stderr
    types = {t["name"]: t["description"] for t in ctx.tenant.get("/events/types").json()["data"]}
    assert types[name] == description
    r = ctx.tenant.post_form("/events/subscribe", {"type": name, "webhook_url": ctx.receiver.url()})
    assert r.status == 200 and r.json()["data"]["type"] == name, r
    r = ctx.tenant.publish(name, {"q": description})
    assert r.status == 201, r
    got = get_event(ctx, r.json()["data"]["id"])
    assert json.loads(got.body)["type"] == name
    assert r.body == b'{"type":"success","data":' + got.body + b"}"
    ctx.settle()    # the worker delivers it to the endpoint
    assert stored(ctx, "SELECT state FROM hookd.deliveries WHERE tenant_id = %s AND event_id = %s",
                  ctx.tenant.id, r.json()["data"]["id"]) == ("delivered",)
    before = ctx.snapshot()
    for bad in SQL_STRINGS + [name + "'--", name.upper(), name + ";"]:
        r = run_hookd("event-type", "add", bad)
        assert r.returncode == 1 and "event type names" in r.stderr, (bad, r.stderr)
    assert ctx.snapshot() == before


def test_server_survived_the_matrix(ctx):
    """Still the same process, and a good publish is stored and served byte
    for byte."""
    assert ctx.server.proc.poll() is None, ctx.server.read_log()[-3000:]
    assert ctx.server.request("GET", "/healthz").status == 200
    body = b'{"type":"order.updated","data":{"after":"the matrix","n":[1,2.50,-0]}}'
    r = ctx.tenant.post_json("/events", body)
    assert r.status == 201, r
    event = r.json()["data"]
    got = get_event(ctx, event["id"])
    assert got.status == 200
    assert r.body == b'{"type":"success","data":' + got.body + b"}"
    assert got.body.endswith(b',"data":{"after":"the matrix","n":[1,2.50,-0]}}')
    # Keep-alive still works: three answers on one connection.
    sock = socket.create_connection(("127.0.0.1", ctx.server.port), timeout=5)
    try:
        req = (b"GET /events/" + event["id"].encode() + b" HTTP/1.1\r\nHost: x\r\n"
               b"Authorization: Bearer " + ctx.tenant.key.encode() + b"\r\n\r\n")
        for _ in range(3):
            sock.sendall(req)
            a = read_answer(sock)
            assert isinstance(a, Response) and a.status == 200 and a.body == got.body, a
    finally:
        sock.close()
