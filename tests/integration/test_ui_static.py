"""The dashboard's files at /ui/: served from the binary with the right
content types, security headers and validators, without credentials, and
nothing but the embedded files (no traversal, 404 for the rest). If these
fail, the dashboard does not load, can be framed or sniffed, is re-downloaded
on every visit, or /ui/ exposes something it should not."""
import os

import pytest

from conftest import ROOT

UI_DIR = os.path.join(ROOT, "ui")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")

FILES = [
    ("index.html", "text/html; charset=utf-8"),
    ("app.js", "text/javascript; charset=utf-8"),
    ("api.js", "text/javascript; charset=utf-8"),
    ("app.css", "text/css; charset=utf-8"),
    ("favicon.svg", "image/svg+xml"),
]


def read_ui(name):
    with open(os.path.join(UI_DIR, name), "rb") as f:
        return f.read()


def assert_dashboard_headers(r):
    assert r.header("Content-Security-Policy") == CSP
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.header("Referrer-Policy") == "no-referrer"
    assert r.header("X-Frame-Options") == "DENY"
    assert r.header("Cache-Control") == "no-cache"
    etag = r.header("ETag")
    assert etag and etag.startswith('"') and etag.endswith('"') and len(etag) > 10


@pytest.mark.parametrize("name,content_type", FILES)
def test_each_file_is_served_exactly_with_its_type(server, name, content_type):
    r = server.request("GET", f"/ui/{name}")
    assert r.status == 200, r
    assert r.header("Content-Type") == content_type
    assert r.body == read_ui(name)   # the bytes of ui/, embedded at build time
    assert_dashboard_headers(r)


def test_every_file_of_ui_is_embedded(server):
    for name in sorted(os.listdir(UI_DIR)):
        r = server.request("GET", f"/ui/{name}")
        assert r.status == 200, (name, r)
        assert r.body == read_ui(name), name


def test_the_folder_is_the_index_page(server):
    r = server.request("GET", "/ui/")
    assert r.status == 200
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    assert r.body == read_ui("index.html")
    assert b'<script type="module" src="app.js"></script>' in r.body
    assert_dashboard_headers(r)


@pytest.mark.parametrize("target", ["/ui", "/ui?x=1"])
def test_ui_without_slash_redirects(server, target):
    r = server.request("GET", target)
    assert r.status == 308
    assert r.header("Location") == "/ui/"


def test_no_credentials_needed_and_bad_ones_ignored(server):
    for headers in ({}, {"Authorization": "Bearer hk_wrong"}):
        r = server.request("GET", "/ui/app.js", headers=headers)
        assert r.status == 200, r
    # The query string is not read (not even Okanjo's key/signature).
    assert server.request("GET", "/ui/?key=hk_x&signature=00").status == 200


def test_head_has_the_headers_and_no_body(server):
    get = server.request("GET", "/ui/app.css")
    head = server.request("HEAD", "/ui/app.css")
    assert head.status == 200
    assert head.body == b""
    assert head.header("Content-Length") == str(len(read_ui("app.css")))
    for name in ("Content-Type", "ETag", "Cache-Control", "Content-Security-Policy"):
        assert head.header(name) == get.header(name), name


@pytest.mark.parametrize("condition,status", [
    ("{etag}", 304),
    ("W/{etag}", 304),
    ('"stale", {etag}', 304),
    ("*", 304),
    ('"stale"', 200),
    ('"{bare}x"', 200),
])
def test_conditional_get(server, condition, status):
    etag = server.request("GET", "/ui/app.js").header("ETag")
    header = condition.format(etag=etag, bare=etag.strip('"'))
    r = server.request("GET", "/ui/app.js", headers={"If-None-Match": header})
    assert r.status == status, (header, r)
    assert r.header("ETag") == etag
    if status == 304:
        assert r.body == b""
        assert r.header("Cache-Control") == "no-cache"
    else:
        assert r.body == read_ui("app.js")


def test_etags_differ_between_files(server):
    tags = {server.request("GET", f"/ui/{name}").header("ETag") for name, _ in FILES}
    assert len(tags) == len(FILES)


@pytest.mark.parametrize("target", [
    "/ui/nope.js",
    "/ui/index.htm",
    "/ui/app.js.bak",
    "/ui/index.html/",
    "/ui//index.html",
    "/ui/../Makefile",
    "/ui/../../../../etc/passwd",
    "/ui/%2e%2e/Makefile",
    "/ui/..%2fMakefile",
    "/ui/./index.html",
    "/ui/%69ndex.html",
    "/ui/APP.JS",
    "/ui/scripts/embed-ui.sh",
])
def test_anything_else_is_not_found(server, target):
    r = server.request("GET", target)
    assert r.status == 404, (target, r)
    assert r.json() == {"type": "error", "description": "Not found."}
    assert r.header("Content-Type") == "application/json"


def test_other_paths_are_unchanged(server):
    # /uix is not the dashboard, and trailing slashes elsewhere keep their answer.
    assert server.request("GET", "/uix").status == 404
    r = server.request("GET", "/uix/")
    assert r.json()["description"] == "Don't use trailing slashes. Try instead: /uix"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_are_refused(server, method):
    r = server.request(method, "/ui/", body=b"")
    assert r.status == 405
    assert r.header("Allow") == "GET, HEAD"
