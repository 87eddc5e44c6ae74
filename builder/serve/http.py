"""HTTP for the preview: the site from memory, as a static host would serve it.

Correct types, ``index.html`` for folders, ``/x`` → ``/x/``, the site's own
404 page with status 404, HEAD, percent-encoded paths, the site under its
base path, and nothing outside the site: the files are a dict in memory, and
paths with ``.``/``..`` segments (however encoded), backslashes or NULs are
refused before any lookup. HTML is never cached; other files are revalidated
by ETag, so a changed stylesheet is fetched and an unchanged one is not.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import mimetypes
import socket
import socketserver
import threading
from dataclasses import dataclass
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlsplit

from builder.serve.livereload import EVENTS_PATH, LIVE_JS, SCRIPT_PATH, inject, script_tag

if TYPE_CHECKING:
    from builder.serve.live import LiveSite

INTERNAL_PREFIX = "/__postil/"
ERROR_PAGE = "error.html"  # the name of the page served until a build succeeds
#: seconds between keep-alive comments on an idle event stream; a write to a
#: closed connection is how the server learns that a tab went away
PING_SECONDS = 15.0

# Not left to ``mimetypes``: its answers depend on the machine's /etc/mime.types.
TYPES = {
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
    ".map": "application/json", ".webmanifest": "application/manifest+json",
    ".xml": "application/xml", ".rss": "application/rss+xml",
    ".atom": "application/atom+xml", ".xsl": "application/xslt+xml",
    ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
    ".csv": "text/csv; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".avif": "image/avif", ".ico": "image/x-icon", ".woff": "font/woff",
    ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf", ".pdf": "application/pdf",
    ".wasm": "application/wasm", ".mp4": "video/mp4", ".webm": "video/webm",
    ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".zip": "application/zip",
}


def content_type(name: str) -> str:
    suffix = name[name.rfind("."):].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if suffix in TYPES:
        return TYPES[suffix]
    guess = mimetypes.guess_type(name, strict=False)[0]
    return guess or "application/octet-stream"


def is_html(name: str | None) -> bool:
    return name is not None and content_type(name).startswith("text/html")


@dataclass(frozen=True)
class Snapshot:
    """What is being served: the last good build (or none yet) and the current errors."""

    files: dict[str, bytes]
    base_path: str = "/"
    built: bool = True  # False until a build succeeds: requests get the error page
    errors: tuple[str, ...] = ()  # "path:line: message" of the last build, if it failed
    css: int = 0  # bumped when a stylesheet changes: open tabs swap their <link>s
    css_paths: tuple[str, ...] = ()  # the stylesheets (site paths) of the last such change
    assets: int = 0  # bumped when a script, image or font changes: open tabs reload


@dataclass(frozen=True)
class Resolved:
    """What a request path is: a file (or error page) to send, or a redirect."""

    status: int
    name: str | None = None  # the site file sent, e.g. "articles/x/index.html"
    body: bytes = b""
    location: str | None = None

    @property
    def token(self) -> str:
        """Identifies exactly what the tab at this path shows; changes when it does."""
        digest = hashlib.blake2b(digest_size=8)
        digest.update(f"{self.status}\0{self.name}\0{self.location}\0".encode())
        digest.update(self.body)
        return digest.hexdigest()


def resolve(snapshot: Snapshot, raw_path: str) -> Resolved:
    """Map a request path (still percent-encoded, no query) to a response."""
    try:
        path = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        return Resolved(HTTPStatus.BAD_REQUEST, body=b"Bad request: the path is not UTF-8\n")
    segments = path.split("/")
    if not path.startswith("/") or "\\" in path or "\0" in path or \
            any(segment in (".", "..") for segment in segments):
        return Resolved(HTTPStatus.BAD_REQUEST, body=b"Bad request: not a path inside the site\n")
    if not snapshot.built:
        return Resolved(HTTPStatus.SERVICE_UNAVAILABLE, ERROR_PAGE, error_page(snapshot.errors))
    base = snapshot.base_path
    files = snapshot.files
    if not path.startswith(base):
        if path + "/" == base or path == "/":
            return Resolved(HTTPStatus.MOVED_PERMANENTLY, location=quote(base))
        return not_found(snapshot)
    rel = path[len(base):]
    if "" in rel.split("/")[:-1]:  # "a//b": no file has that name
        return not_found(snapshot)
    name = rel + "index.html" if rel == "" or rel.endswith("/") else rel
    if name in files:
        return Resolved(HTTPStatus.OK, name, files[name])
    if not rel.endswith("/") and rel + "/index.html" in files:
        return Resolved(HTTPStatus.MOVED_PERMANENTLY, location=quote(base + rel + "/"))
    return not_found(snapshot)


def not_found(snapshot: Snapshot) -> Resolved:
    page = snapshot.files.get("404.html")
    if page is None:
        return Resolved(HTTPStatus.NOT_FOUND, body=b"404 Not Found\n")
    return Resolved(HTTPStatus.NOT_FOUND, "404.html", page)


def error_page(errors: tuple[str, ...]) -> bytes:
    """Served until the first build succeeds; it reloads itself once one does.

    Each problem is listed once, and the page says that there is no earlier build to
    show (the overlay that pages of a good build get is not drawn over this one: see
    :data:`ERROR_PAGE_ATTRIBUTE`)."""
    items = "".join(f"<li>{escape(line)}</li>\n" for line in dict.fromkeys(errors))
    count = len(dict.fromkeys(errors))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>Build failed · Postil preview</title>\n</head>\n<body>\n"
            "<h1>The site failed to build</h1>\n<p>The site has not built once yet, so there "
            "is no page to show. Fix the "
            f"{'problem' if count == 1 else f'{count} problems'} below; this page "
            "reloads by itself once the site builds.</p>\n"
            f"<ul class=\"postil-problems\">\n{items}</ul>\n</body>\n</html>\n").encode()


#: the script tag's attribute on :func:`error_page`: the page lists the problems itself,
#: so the script draws no overlay over it (it would hide the heading and repeat them)
ERROR_PAGE_ATTRIBUTE = "error-page"


class PreviewHTTPServer(ThreadingHTTPServer):
    """One thread per connection; remembers connections so that stopping closes them.

    Without that, a browser's keep-alive connection would go on being
    answered from the old site by a server that was told to stop.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], live: LiveSite):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.live = live
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, PreviewHandler)

    def host_allowed(self, header: str | None) -> bool:
        """Refuse other names for a server bound to loopback (a DNS-rebinding page).

        A web page cannot read a response from another origin, unless its own
        name is made to point at 127.0.0.1: then the Host header still bears
        that name. Bound to another address (``--host``), any name goes.
        """
        if not header or not self.loopback:
            return True
        host = header[1:header.find("]")] if header.startswith("[") else header.split(":")[0]
        host = host.lower().rstrip(".")
        if host == "localhost" or host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a DNS lookup that can
        # take seconds on a machine with a broken resolver; the name is unused.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.loopback = ipaddress.ip_address(str(host)).is_loopback

    def process_request(self, request, client_address) -> None:  # type: ignore[override]
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # type: ignore[override]
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            requests = list(self._open)
        for request in requests:
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewHTTPServer
    server_version = "Postil-preview"
    protocol_version = "HTTP/1.1"  # keep-alive: a page and its stylesheet on one connection
    timeout = 120  # an idle keep-alive connection is closed after this many seconds

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # a line per request would drown the rebuild messages

    def _handle(self, head: bool) -> None:
        if not self.server.host_allowed(self.headers.get("Host")):
            self._send(HTTPStatus.FORBIDDEN, b"Forbidden: this preview answers to localhost "
                       b"and 127.0.0.1 only (postil serve --host to listen elsewhere)\n",
                       "text/plain; charset=utf-8", head)
            return
        target = self.path
        if "://" in target.split("?", 1)[0]:  # absolute-form request target
            parts = urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        raw_path, _, query = target.partition("?")
        raw_path = raw_path.partition("#")[0]
        if raw_path.startswith(INTERNAL_PREFIX):
            self._internal(raw_path, query, head)
            return
        snapshot = self.server.live.snapshot
        found = resolve(snapshot, raw_path)
        if found.location is not None:
            location = found.location + ("?" + query if query else "")
            self._send(found.status, b"", "text/plain; charset=utf-8", head,
                       {"Location": location, "Cache-Control": "no-store"})
            return
        kind = content_type(found.name) if found.name else "text/plain; charset=utf-8"
        body = found.body
        if is_html(found.name):
            body = inject(body, script_tag(self.server.live.served(snapshot, found)))
            self._send(found.status, body, kind, head, {"Cache-Control": "no-store"})
            return
        self._send_cacheable(found.status, body, kind, head)

    def _internal(self, raw_path: str, query: str, head: bool) -> None:
        if raw_path == SCRIPT_PATH:
            self._send_cacheable(HTTPStatus.OK, LIVE_JS.encode(), TYPES[".js"], head)
        elif raw_path == EVENTS_PATH and not head:
            params = parse_qs(query)
            self._events(params.get("page", ["/"])[0])
        elif raw_path == EVENTS_PATH:
            self._send(HTTPStatus.OK, b"", "text/event-stream", head, {"Cache-Control": "no-store"})
        else:
            self._send(HTTPStatus.NOT_FOUND, b"404 Not Found\n", "text/plain; charset=utf-8",
                       head)

    def _send_cacheable(self, status: int, body: bytes, kind: str, head: bool) -> None:
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        headers = {"Cache-Control": "no-cache", "ETag": etag}
        if status == HTTPStatus.OK and etag in self.headers.get("If-None-Match", ""):
            self._send(HTTPStatus.NOT_MODIFIED, b"", kind, True, headers)
            return
        self._send(status, body, kind, head, headers)

    def _send(self, status: int, body: bytes, kind: str, head: bool,
              headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if status != HTTPStatus.NOT_MODIFIED:
                self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if not head:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _events(self, page: str) -> None:
        """A Server-Sent Events stream of this tab's state, until the tab or server goes."""
        live = self.server.live
        self.close_connection = True  # no length: the stream ends when the connection does
        client = live.subscribe(page)
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Accel-Buffering", "no")
            self.end_headers()
            self.wfile.write(b"retry: 1000\n\n")
            self.wfile.flush()
            while True:
                message = client.next(PING_SECONDS)
                if message is None:  # the server is stopping
                    break
                if message == "":
                    self.wfile.write(b": ping\n\n")
                else:
                    self.wfile.write(f"event: state\ndata: {json.dumps(message)}\n\n".encode())
                self.wfile.flush()
        except OSError:  # the tab went away
            pass
        finally:
            live.unsubscribe(client)
