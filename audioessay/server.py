"""``audioessay serve``: the podcast folder over HTTP, for listening and subscribing locally.

Starlette serves the files (HEAD, byte ranges with 206 and 416, ETag, Last-Modified and
conditional requests come from its ``FileResponse``); uvicorn is the server. On top of that:

- only what the podcast publishes is served: the feed, the index, each complete episode's
  audio, sidecars, page, art and books, the stylesheet and script. Drafts, ``podcast.toml`` and
  the episode records (which hold local paths) are 404, like anything else;
- the feed and the index use ``base_url`` when it is set; otherwise they are built for the
  address the request came to, so a phone on the same network that subscribes to
  ``http://laptop:8000/feed.xml`` gets enclosures it can reach. A Host header that is not this
  server's is answered 400, so it cannot steer the URLs of a feed a proxy may cache;
- built feeds and pages are cached until the folder changes, and a damaged record only takes
  its own episode out;
- connections must send their request within 10 s, idle ones are closed after 5 s, and the
  connection count stays inside the file-descriptor limit;
- our content types (``application/json+chapters``, ``text/vtt``, ``application/x-subrip``);
- nothing outside the folder: ``..`` in any spelling, absolute paths and symlinks that lead out
  are refused by Starlette's real-path check, and hidden files (locks, temporaries) by ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import math
import os
import resource
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .errors import AudioEssayError, OutputError
from .feed import FEED_FILE
from .files import locked
from .formats import FORMATS
from .pages import ASSETS, INDEX_FILE
from .podcast import SETTINGS_FILE
from .publishing import COVER_FILE, Snapshot, snapshot
from .record import RECORD_SUFFIX

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".chapters.json": "application/json+chapters",
    ".episode.json": "application/json",
    ".json": "application/json",
    **{audio.extension: audio.mime for audio in FORMATS.values()},  # .mp3, .opus, .m4a, .m4b
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".toml": "application/toml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}
"""Longest suffix first: ``x.chapters.json`` is chapters, not plain JSON."""


def content_type(name: str) -> str | None:
    """Our content type for a file name, or None to let Starlette guess."""
    lower = name.lower()
    return next((kind for suffix, kind in CONTENT_TYPES.items() if lower.endswith(suffix)), None)


MAX_RANGES = 100
"""More byte ranges than this in one request is refused with 416 (a cheap amplification)."""
HEADER_TIMEOUT = 10.0
"""Seconds a new connection has to send its request line and headers before it is closed."""
KEEP_ALIVE_TIMEOUT = 5
"""Seconds an idle keep-alive connection is kept open."""
RESCAN_SECONDS = 1.0
"""How often the records are looked at one by one, for a record changed in place."""
FD_RESERVE = 160
"""File descriptors kept free of connections: asyncio accepts up to 100 connections in one
burst before any of them is counted, and the files being served need some too."""


@dataclass(frozen=True)
class _Published:
    """What the folder publishes right now, built once per change of the folder."""

    key: tuple[int, int, int]
    snapshot: Snapshot | None
    names: frozenset[str]
    """Top-level names that may be served; a folder name covers the files inside it."""
    built: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    """(body, ETag) of feed.xml and index.html, by base URL and kind."""


class Publication:
    """The folder's published set and built pages, rebuilt only when the folder changes.

    Every output is moved into place by a rename, which changes the folder's modification
    time, so one ``stat`` of the folder (and of podcast.toml, which is edited in place) tells
    on every request whether anything a feed depends on changed. A record edited or damaged
    in place changes nothing of the folder, so the records themselves are looked at once a
    second. The feed for 500 episodes is then built once, not on every request.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._current: _Published | None = None
        self._records = (0.0, 0)  # when the records were last looked at, and what was seen

    def _key(self) -> tuple[int, int, int]:
        settings = self.directory / SETTINGS_FILE
        folder = self.directory.stat().st_mtime_ns
        now = time.monotonic()
        if now - self._records[0] >= RESCAN_SECONDS:
            seen = hash(
                tuple(
                    (entry.name, entry.stat().st_mtime_ns, entry.stat().st_size)
                    for entry in os.scandir(self.directory)
                    if entry.name.endswith(RECORD_SUFFIX)
                )
            )
            self._records = (now, seen)
        return folder, settings.stat().st_mtime_ns if settings.exists() else 0, self._records[1]

    def current(self) -> _Published:
        """The published set for the folder as it is now."""
        key = self._key()
        with self._lock:
            if self._current is None or self._current.key != key:
                self._current = self._load(key)
            return self._current

    def _load(self, key: tuple[int, int, int]) -> _Published:
        try:
            with contextlib.ExitStack() as reading:
                # The folder's lock, shared: a render moving an episode's files into place
                # and writing its record holds it alone for those milliseconds, so a snapshot
                # sees the episode before or after, never vanished in between. (A folder that
                # cannot be locked, being read-only, has nothing rendering into it.)
                with contextlib.suppress(OutputError):
                    reading.enter_context(locked(self.directory, shared=True))
                snap = snapshot(self.directory, {}, create=False)
        except AudioEssayError as exc:
            log.warning("the podcast folder cannot be published: %s", exc)
            return _Published(key, None, frozenset())
        names = {FEED_FILE, INDEX_FILE, *ASSETS, COVER_FILE}
        if snap.podcast.image and not urlsplit(snap.podcast.image).scheme:
            names.add(Path(snap.podcast.image).name)
        for episode in snap.episodes:
            names.update(path.name for path in episode.files.named().values())
            if episode.image is not None:
                names.add(episode.image.name)
        return _Published(key, snap, frozenset(names))

    def body(self, base_url: str, kind: str) -> tuple[bytes, str] | None:
        """feed.xml or index.html for ``base_url`` (with its ETag), or None if unpublishable."""
        published = self.current()
        snap = published.snapshot
        if snap is None:
            return None
        base = snap.podcast.base_url.rstrip("/") if snap.podcast.base_url else base_url
        cache_key = f"{kind} {base}"
        with self._lock:
            found = published.built.get(cache_key)
        if found is not None:
            return found
        if kind == "cover":
            body = snap.cover()
        else:
            body = snap.feed(base) if kind == "feed" else snap.index(base).encode("utf-8")
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        with self._lock:
            if len(published.built) < 64:  # a handful of base URLs; never unbounded
                published.built[cache_key] = (body, etag)
        return body, etag

    def allows(self, path: str) -> bool:
        """Whether ``path`` (relative, as requested) is something the podcast publishes."""
        parts = Path(path).parts
        return bool(parts) and parts[0] in self.current().names


class PodcastFiles(StaticFiles):
    """The folder's published files, with our content types; nothing else is found."""

    def __init__(self, *, directory: Path, publication: Publication) -> None:
        super().__init__(directory=directory)
        self.publication = publication

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if any(part.startswith(".") for part in Path(path).parts):
            return "", None  # locks, temporaries, dot-directories: never served
        if not self.publication.allows(path):
            return "", None  # drafts, records, settings: not part of the podcast
        found, stat_result = super().lookup_path(path)
        if found and _through_link(Path(str(self.directory)), Path(path)):
            return "", None  # a link under a published name may point at anything
        return found, stat_result

    def file_response(
        self, full_path: Any, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        ranges = Headers(scope=scope).get("range", "")
        if ranges.count(",") >= MAX_RANGES:
            size = stat_result.st_size
            return Response(
                "416\n", 416, {"Content-Range": f"bytes */{size}"}, media_type="text/plain"
            )
        try:
            fd = os.open(full_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:  # replaced or removed since it was looked up: as if never found
            return Response("404\n", 404, media_type="text/plain")
        response = _OpenedFile(fd, full_path, scope, status_code)
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            os.close(fd)
            return NotModifiedResponse(response.headers)
        kind = content_type(os.fspath(full_path))
        if kind is not None and "content-type" in response.headers:
            response.headers["content-type"] = kind
        return response


def _through_link(directory: Path, relative: Path) -> bool:
    """Whether any part of ``relative`` under ``directory`` is a symbolic link."""
    current = directory
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            return True
    return False


class _OpenedFile(FileResponse):
    """A file response whose headers and body both come from one open descriptor.

    Starlette's takes its Content-Length and ETag from a ``stat`` of the path and opens the
    path again to send it: a render renaming a new file into place in between made a body
    that did not match its headers (2 of 18,464 responses during a re-render). A renamed-over
    file stays readable through a descriptor opened before, so each response is one file,
    old or new, whole."""

    def __init__(self, fd: int, path: Any, scope: Scope, status_code: int) -> None:
        self.fd = fd
        super().__init__(path, status_code=status_code, stat_result=os.fstat(fd))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            scope = {**scope, "extensions": {}}  # (no "pathsend": it would open the path)
            await super().__call__(scope, receive, send)
        finally:
            os.close(self.fd)

    @contextlib.asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        handle = anyio.AsyncFile(os.fdopen(os.dup(self.fd), "rb"))
        try:
            yield handle
        finally:
            with anyio.CancelScope(shield=True):
                await handle.aclose()


class TrustedHosts:
    """Answer 400 to a request whose Host header is not this server's.

    Without a ``base_url`` the feed is built for the address a request came to; a forged
    ``Host`` would otherwise point every enclosure of a cached feed at another site. A host
    is this server's when it is the address the connection arrived on, localhost, the bound
    address or the machine's name, or one given with ``--allow-host``; its port, when given,
    must be the one the connection arrived on.
    """

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = frozenset(h.lower() for h in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._trusted(scope):
            response = Response("400 unknown host\n", 400, media_type="text/plain")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _trusted(self, scope: Scope) -> bool:
        host_header = Headers(scope=scope).get("host", "")
        parts = urlsplit(f"//{host_header}")
        try:
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            return False
        server = scope.get("server") or ("", None)
        if port is not None and port != server[1]:
            return False
        return host in self.allowed or host == str(server[0]).lower()


def allowed_hosts(sock: socket.socket, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The names a request to ``sock`` may carry in its Host header."""
    bound = str(sock.getsockname()[0])
    name = socket.gethostname()
    return frozenset(
        ["localhost", "127.0.0.1", "::1", bound, name, f"{name}.local", socket.getfqdn(), *extra]
    )


def create_app(directory: Path, hosts: frozenset[str] | None = None) -> ASGIApp:
    """The ASGI application serving ``directory`` (checking Host against ``hosts``)."""
    directory = directory.resolve()
    publication = Publication(directory)

    def built(request: Request, kind: str) -> Response:
        base = str(request.base_url).rstrip("/")
        found = publication.body(base, kind)
        if found is None:
            return Response("503 the podcast folder cannot be published now\n", 503)
        body, etag = found
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        wanted = request.headers.get("if-none-match", "")
        if wanted.strip() == "*" or etag in wanted:
            return Response(status_code=304, headers=headers)
        media = {"feed": CONTENT_TYPES[".xml"], "cover": "image/png"}.get(kind, CONTENT_TYPES[".html"])
        return Response(body, media_type=media, headers=headers)

    async def feed(request: Request) -> Response:
        return await anyio.to_thread.run_sync(built, request, "feed")

    async def index(request: Request) -> Response:
        return await anyio.to_thread.run_sync(built, request, "index")

    files = PodcastFiles(directory=directory, publication=publication)

    async def cover(request: Request) -> Response:
        # The page and the feed name cover.png when the podcast has no art of its own; a
        # feed build draws it, and until one has, the same drawing is sent from memory.
        if (directory / COVER_FILE).is_file():
            return await files.get_response(COVER_FILE, request.scope)
        return await anyio.to_thread.run_sync(built, request, "cover")

    async def refuse(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return Response(f"{status}\n", status_code=status, media_type="text/plain")

    app = Starlette(
        routes=[
            Route(f"/{FEED_FILE}", feed),
            Route("/", index),
            Route(f"/{INDEX_FILE}", index),
            Route(f"/{COVER_FILE}", cover),
            Mount("/", app=files),
        ],
        exception_handlers={HTTPException: refuse, Exception: refuse},
    )
    return app if hosts is None else TrustedHosts(app, hosts)


class _OncePerMinute(logging.Filter):
    """Let one "out of descriptors" error through a minute, not one per connection."""

    def __init__(self) -> None:
        super().__init__()
        self.last = -math.inf

    def filter(self, record: logging.LogRecord) -> bool:
        if "out of system resource" not in record.getMessage():
            return True
        now = time.monotonic()
        if now - self.last < 60:
            return False
        self.last = now
        return True


class _GuardedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with the limits an open port needs.

    uvicorn times out idle keep-alive connections, but not a connection that never sends a
    request: 1,100 of those exhausted 1,024 file descriptors and the server stopped answering.
    Here a new connection must send its request within :data:`HEADER_TIMEOUT`, and when the
    connections reach the descriptor budget the longest-idle one is closed to make room.
    Overload is logged once when it starts, not once per connection.
    """

    budget = 1024 - FD_RESERVE
    overloaded = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.idle_since = time.monotonic()
        self.deadline = self.loop.call_later(HEADER_TIMEOUT, self._no_request)
        open_ = [c for c in self.connections if not c.transport.is_closing()]
        excess = len(open_) - self.budget
        if excess > 0:
            if not _GuardedH11.overloaded:
                _GuardedH11.overloaded = True
                log.warning(
                    "more than %d connections at once: closing the longest idle ones",
                    self.budget,
                )
            idle = [c for c in open_ if isinstance(c, _GuardedH11) and c is not self and c._idle()]
            for victim in sorted(idle, key=lambda c: c.idle_since)[:excess]:
                victim.transport.close()
        elif len(open_) < self.budget * 0.9:
            _GuardedH11.overloaded = False

    def _idle(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _no_request(self) -> None:
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline.cancel()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        self.idle_since = time.monotonic()
        super().on_response_complete()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 picks a free one), or an :class:`OutputError` saying why not."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        raise OutputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def url_of(sock: socket.socket) -> str:
    """The URL to reach a bound socket; for a wildcard address, this machine's name."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def is_local(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(
    directory: Path | str,
    host: str = "127.0.0.1",
    port: int = 8000,
    allow_hosts: tuple[str, ...] = (),
    behind_proxy: bool = False,
) -> None:
    """Serve a folder of rendered episodes on ``host:port`` until interrupted: what
    ``audioessay serve`` does, for a program that embeds it."""
    run(Path(directory), bind(host, port), allow_hosts, behind_proxy)


def run(
    directory: Path,
    sock: socket.socket,
    allow_hosts: tuple[str, ...] = (),
    behind_proxy: bool = False,
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM stop it cleanly).

    ``X-Forwarded-Proto`` and ``X-Forwarded-For`` are believed only ``behind_proxy`` (from a
    proxy on this machine): uvicorn believes them from 127.0.0.1 by default, so any local
    program could make the feed built for its request name ``http://`` or another scheme."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:  # as many connections as the system lets this process have
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
            soft = min(hard, 65536)
    _GuardedH11.budget = max(16, soft - FD_RESERVE)
    logging.getLogger("asyncio").addFilter(_OncePerMinute())
    config = uvicorn.Config(
        create_app(directory, allowed_hosts(sock, allow_hosts)),
        http=_GuardedH11,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        proxy_headers=behind_proxy,
        forwarded_allow_ips="127.0.0.1,::1" if behind_proxy else "",
    )
    uvicorn.Server(config).run(sockets=[sock])
