"""What the internet can reach through the documented front doors (configs/Caddyfile, configs/ingress.yaml).

Caddy from Debian runs the committed Caddyfile as it is and with each documented choice uncommented, in front of
a recording upstream. Every route the two apps serve (read from the apps themselves, so a new route is covered
without touching this file) is asked for through it, as are hostile spellings of them: a listed path reaches
the service unchanged, an unlisted one is answered by the proxy and never reaches it. The Ingress is checked
offline against the same choices."""
from __future__ import annotations

import posixpath
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
import yaml

from tests.caddy_proxy import caddy, needs_caddy

ROOT = Path(__file__).resolve().parents[1]
INGRESS = ROOT / "configs" / "ingress.yaml"
# The documented choices (README, "Who may use the API"): what each opens. `/x/*` is everything under /x/.
CHOICES = {
    "webhook": ("/telegram/webhook",),
    "api": ("/v1/*",),
    "studio": ("/", "/static/studio/*", "/telegram/studio/send"),
    "docs": ("/docs", "/openapi.json", "/static/swagger-ui/*"),
}
VARIANTS = [(), ("api",), ("api", "studio"), ("api", "docs"), ("api", "studio", "docs")]

def app_routes() -> set[tuple[str, str]]:
    """(method, path) for every route of the styles and bot apps, with a sample value for each path parameter
    and every file under /static."""
    from bot.ingress import ROUTES as BOT_ROUTES
    from deployments.http_api import STATIC, api
    from deployments.ingress import StylesIngress  # noqa: F401  (its class adds the routes to `api`)

    bot_prefix = next(app["route_prefix"] for app in yaml.safe_load((ROOT / "serve_config.yaml").read_text())
                      ["applications"] if app["name"] == "bot")
    routes = {(method, bot_prefix + path) for path, method in BOT_ROUTES.items()}
    routes |= {("GET", "/static/" + f.relative_to(STATIC).as_posix()) for f in STATIC.rglob("*") if f.is_file()}
    for path, methods in api.openapi()["paths"].items():
        routes |= {(m.upper(), re.sub(r"\{[^}]+\}", "candy", path)) for m in methods}
    routes |= {("GET", "/"), ("GET", "/docs"), ("GET", "/openapi.json")}   # the page and the docs: not in the schema
    return routes


def listed(path: str, patterns: tuple[str, ...]) -> bool:
    return any(path.startswith(p[:-1]) if p.endswith("/*") else path == p for p in patterns)


def opened(choice: tuple[str, ...]) -> tuple[str, ...]:
    return sum((CHOICES[name] for name in ("webhook", *choice)), ())


def canonical(raw: str) -> str:
    """The most any server could read into a path: %-decoded (twice), backslashes as slashes, slashes collapsed,
    dot segments resolved, lower case, no trailing slash."""
    path = unquote(unquote(raw.split("?")[0])).replace("\\", "/")
    path = posixpath.normpath("/" + re.sub("/+", "/", path)).lower()
    return "/" + path.lstrip("/")


class Recorder(ThreadingHTTPServer):
    """The service's stand-in: records each request's method, path (as received) and X-Forwarded-For, answers
    200 "upstream"; asked for NDJSON, it streams two lines, the second only once `release` is set."""
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.seen: list[tuple[str, str, str | None]] = []
        self.release = threading.Event()


class RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        self.server.seen.append((self.command, self.path, self.headers.get("X-Forwarded-For")))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.headers.get("Accept") == "application/x-ndjson":
            return self.stream()
        self.send_response(200)
        self.send_header("Content-Length", "8")
        self.end_headers()
        self.wfile.write(b"upstream")

    def stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in (b'{"type": "progress"}\n', b'{"type": "result"}\n'):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()
            self.server.release.wait(10)
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = handle_any

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[Recorder]:
    server = Recorder()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def raw_request(port: int, method: str, target: str, headers: str = "") -> int:
    """Sends the request line exactly as given (no client-side cleaning of the path); returns the status."""
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        s.sendall(f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Content-Length: 0\r\n"
                  f"Connection: close\r\n\r\n".encode())
        head = s.recv(64)
    return int(head.split()[1])


def spellings(path: str) -> list[str]:
    """Hostile ways to write `path`, alone and riding on a prefix that some choice opens."""
    encoded = path.replace("/", "%2F")
    return [path.upper(), "/" + path, path + "/", path.replace("/", "//"), path.replace("/", "/./"),
           path.replace("/", "%2f"), "/%2e" + path, f"/static/studio/..{path}", f"/static/studio/%2e%2e{path}",
           f"/static/studio/..{encoded}", f"/v1/..{path}", f"/v1/%2E%2E{path}", f"/v1/..%5c..{path}",
           f"/telegram/webhook/..{path}", f"/telegram/webhook/%2e%2e{path}", f"/telegram/studio/send/..{path}",
           f"/v1%2F..{path}", path + "%00"]


@needs_caddy
@pytest.mark.parametrize("choice", VARIANTS, ids=lambda c: "+".join(("webhook", *c)))
def test_only_the_chosen_routes_reach_the_service(choice, upstream, tmp_path):
    patterns = opened(choice)
    with caddy(choice, upstream.server_port, tmp_path) as port:
        for method, path in sorted(app_routes()):
            upstream.seen.clear()
            status = raw_request(port, method, path)
            if listed(path, patterns):
                assert status == 200 and upstream.seen == [(method, path, "127.0.0.1")], (method, path, status)
            else:
                assert status == 404 and upstream.seen == [], (method, path, status, upstream.seen)


@needs_caddy
@pytest.mark.parametrize("choice", VARIANTS, ids=lambda c: "+".join(("webhook", *c)))
def test_no_spelling_of_an_unlisted_route_gets_through(choice, upstream, tmp_path):
    patterns = opened(choice)
    unlisted = sorted({path for _, path in app_routes() if not listed(path, patterns)})
    upstream.seen.clear()
    with caddy(choice, upstream.server_port, tmp_path) as port:
        refused = 0
        for path in unlisted:
            for target in [*spellings(path), f"http://127.0.0.1:{port}{path}", f"http://elsewhere.example{path}"]:
                refused += raw_request(port, "GET", target) in (400, 404)
    leaked = [(target, canonical(target)) for _, target, _ in upstream.seen if not listed(canonical(target), patterns)]
    assert leaked == [] and refused > 0


@needs_caddy
def test_progress_streams_through_and_the_callers_forwarded_address_is_not_trusted(upstream, tmp_path):
    upstream.release.clear()
    with caddy(("api",), upstream.server_port, tmp_path) as port:
        headers = {"Accept": "application/x-ndjson", "X-Forwarded-For": "203.0.113.9"}
        with httpx.stream("POST", f"http://127.0.0.1:{port}/v1/nst", headers=headers, timeout=10) as response:
            lines = response.iter_lines()
            first = next(lines)              # arrives while the service still holds the second line back
            upstream.release.set()
            rest = list(lines)
    assert first == '{"type": "progress"}' and rest == ['{"type": "result"}']
    forwarded = upstream.seen[-1][2]
    assert forwarded.split(",")[-1].strip() == "127.0.0.1"   # the rightmost entry: the proxy's own view


def ingress_paths(choice: tuple[str, ...]) -> set[tuple[str, str]]:
    """(path, pathType) the Ingress lists with `choice`'s commented blocks uncommented."""
    lines, block = [], "webhook"
    for line in INGRESS.read_text().splitlines():
        heading = re.match(r"\s*# (\w+): ", line)
        if heading and heading.group(1) in CHOICES:
            block = heading.group(1)
            continue
        if block in choice and line.lstrip().startswith("# - {path:"):
            line = line.replace("# - {path:", "- {path:", 1)
        lines.append(line)
    ingress = yaml.safe_load("\n".join(lines))
    rule = ingress["spec"]["rules"][0]
    return {(p["path"], p["pathType"]) for p in rule["http"]["paths"]}


def as_ingress(pattern: str) -> tuple[str, str]:
    return (pattern[:-2], "Prefix") if pattern.endswith("/*") else (pattern, "Exact")


@pytest.mark.parametrize("choice", VARIANTS, ids=lambda c: "+".join(("webhook", *c)))
def test_the_ingress_opens_what_the_caddyfile_opens(choice):
    assert ingress_paths(choice) == {as_ingress(p) for p in opened(choice)}


def test_the_ingress_sends_to_the_serve_service_of_the_rayservice():
    ingress = yaml.safe_load(INGRESS.read_text())
    service = next(d for d in yaml.safe_load_all((ROOT / "configs" / "rayservice.yaml").read_text())
                   if d and d["kind"] == "RayService")
    serve_port = yaml.safe_load(service["spec"]["serveConfigV2"])["http_options"]["port"]
    backends = {(p["backend"]["service"]["name"], p["backend"]["service"]["port"]["number"])
                for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert backends == {(f"{service['metadata']['name']}-serve-svc", serve_port)}
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]


def test_every_choice_names_routes_the_apps_serve():
    paths = {path for _, path in app_routes()}
    for name, patterns in CHOICES.items():
        for pattern in patterns:
            assert any(listed(path, (pattern,)) for path in paths), f"{name}: {pattern} matches no route"
