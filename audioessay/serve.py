"""``audioessay serve``: the podcast folder over HTTP, for listening and subscribing locally.

Starlette serves the files (HEAD, byte ranges with 206 and 416, ETag, Last-Modified and
conditional requests come from its ``FileResponse``); uvicorn is the server. On top of that:

- the feed and the index are built for the address the request came to, so a phone on the
  same network that subscribes to ``http://laptop:8000/feed.xml`` gets enclosures it can reach,
  whatever base URL the published feed uses;
- our content types (``application/json+chapters``, ``text/vtt``, ``application/x-subrip``);
- nothing outside the folder: ``..`` in any spelling, absolute paths and symlinks that lead out
  are refused by Starlette's real-path check, and hidden files (locks, temporaries) by ours.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
from pathlib import Path
from typing import Any

import anyio.to_thread
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from .errors import AudioEssayError, OutputError
from .feed import FEED_FILE
from .publish import snapshot

CONTENT_TYPES = {
    ".chapters.json": "application/json+chapters",
    ".episode.json": "application/json",
    ".json": "application/json",
    ".mp3": "audio/mpeg",
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


class PodcastFiles(StaticFiles):
    """The folder's files, with our content types and without hidden files."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if any(part.startswith(".") for part in Path(path).parts):
            return "", None  # locks, temporaries, dot-directories: never served
        return super().lookup_path(path)

    def file_response(
        self, full_path: Any, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        kind = content_type(os.fspath(full_path))
        if kind is not None and "content-type" in response.headers:
            response.headers["content-type"] = kind
        return response


def create_app(directory: Path) -> Starlette:
    """The ASGI application serving ``directory``."""
    directory = directory.resolve()

    def built(request: Request, make: str) -> Response:
        base = str(request.base_url).rstrip("/")
        try:
            snap = snapshot(directory, {}, create=False)
            body = snap.feed(base) if make == "feed" else snap.index(base).encode("utf-8")
        except AudioEssayError as exc:
            return Response(f"{exc}\n", status_code=500, media_type="text/plain")
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        kind = CONTENT_TYPES[".xml" if make == "feed" else ".html"]
        return Response(body, media_type=kind, headers=headers)

    async def feed(request: Request) -> Response:
        return await anyio.to_thread.run_sync(built, request, "feed")

    async def index(request: Request) -> Response:
        return await anyio.to_thread.run_sync(built, request, "index")

    async def refuse(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return Response(f"{status}\n", status_code=status, media_type="text/plain")

    return Starlette(
        routes=[
            Route(f"/{FEED_FILE}", feed),
            Route("/", index),
            Route("/index.html", index),
            Mount("/", app=PodcastFiles(directory=directory)),
        ],
        exception_handlers={HTTPException: refuse},
    )


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


def run(directory: Path, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM stop it cleanly)."""
    config = uvicorn.Config(
        create_app(directory), log_level="warning", access_log=False, lifespan="off"
    )
    uvicorn.Server(config).run(sockets=[sock])
