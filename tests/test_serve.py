"""``audioessay serve`` over real sockets: ranges, HEAD, validators, types, and no way out.

The server runs as the real command in a subprocess; requests are sent with ``http.client``
so that paths go on the wire exactly as written (no client-side normalisation of ``..``).
"""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from audioessay import RenderSettings, render

from . import judges
from .conftest import write
from .test_publish import BASE, essay, feed_build

SECRET = "top secret, outside the podcast folder"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve")
    out = root / "site"
    source = write(root, "one.md", essay("Served Essay", date="2026-03-01"))
    render(source, RenderSettings(engine="fake", rate=240, output_dir=out, cache_dir=None))
    feed_build(out)
    (root / "secret.txt").write_text(SECRET)
    (out / "escape.txt").symlink_to(root / "secret.txt")
    (out / "etc").symlink_to("/etc")
    (out / "inside.mp3").symlink_to(out / "served-essay.mp3")
    return out


def start_server(site: Path) -> tuple[str, subprocess.Popen[str]]:
    """``audioessay serve SITE --port 0`` in a subprocess, once it answers; its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "audioessay", "serve", str(site), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    second = proc.stdout.readline()
    assert " at " in first, proc.stderr.read() if proc.stderr else first
    url = first.split(" at ", 1)[1].split(" ", 1)[0]
    proc.banner = first + second  # type: ignore[attr-defined]
    _wait_until_up(url)
    return url, proc


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    url, proc = start_server(site)
    yield url, proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            request(url, "HEAD", "/")
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"server at {url} never answered")


def request(
    url: str, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        given = {name.lower() for name in headers or {}}
        conn.putrequest(method, path, skip_host="host" in given, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def test_banner_says_local_and_where_to_subscribe(
    server: tuple[str, subprocess.Popen[str]],
) -> None:
    url, proc = server
    banner = proc.banner  # type: ignore[attr-defined]
    assert url.startswith("http://127.0.0.1:")
    assert "this computer only" in banner
    assert f"Subscribe in a podcast app: {url}feed.xml" in banner


def test_head_and_get(server: tuple[str, subprocess.Popen[str]], site: Path) -> None:
    url, _ = server
    mp3 = (site / "served-essay.mp3").read_bytes()
    status, headers, body = request(url, "HEAD", "/served-essay.mp3")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) == len(mp3)
    assert headers["content-type"] == "audio/mpeg"
    assert headers["accept-ranges"] == "bytes"
    assert headers["etag"] and headers["last-modified"]
    status, headers, body = request(url, "GET", "/served-essay.mp3")
    assert status == 200 and body == mp3


def test_byte_ranges(server: tuple[str, subprocess.Popen[str]], site: Path) -> None:
    url, _ = server
    mp3 = (site / "served-essay.mp3").read_bytes()
    size = len(mp3)
    for spec, expected, first, last in (
        ("bytes=100-199", mp3[100:200], 100, 199),
        ("bytes=-500", mp3[-500:], size - 500, size - 1),
        (f"bytes={size - 10}-", mp3[-10:], size - 10, size - 1),
        (f"bytes=0-{size + 1000}", mp3, 0, size - 1),
    ):
        status, headers, body = request(url, "GET", "/served-essay.mp3", {"Range": spec})
        assert status == 206, spec
        assert headers["content-range"] == f"bytes {first}-{last}/{size}", spec
        assert body == expected, spec
    status, headers, _ = request(url, "GET", "/served-essay.mp3", {"Range": f"bytes={size}-"})
    assert status == 416
    assert headers["content-range"] == f"bytes */{size}"


def test_validators(server: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = server
    _, headers, _ = request(url, "HEAD", "/served-essay.vtt")
    status, _, body = request(url, "GET", "/served-essay.vtt", {"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    since = {"If-Modified-Since": headers["last-modified"]}
    assert request(url, "GET", "/served-essay.vtt", since)[0] == 304
    # The feed is built per request, and has a validator of its own.
    _, feed_headers, _ = request(url, "GET", "/feed.xml")
    assert request(url, "GET", "/feed.xml", {"If-None-Match": feed_headers["etag"]})[0] == 304


def test_content_types(server: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = server
    expected = {
        "/served-essay.chapters.json": "application/json+chapters",
        "/served-essay.vtt": "text/vtt; charset=utf-8",
        "/served-essay.srt": "application/x-subrip; charset=utf-8",
        "/served-essay.html": "text/html; charset=utf-8",
        "/feed.xml": "application/rss+xml; charset=utf-8",
        "/": "text/html; charset=utf-8",
        "/cover.png": "image/png",
        "/audioessay.js": "text/javascript; charset=utf-8",
        "/audioessay.css": "text/css; charset=utf-8",
    }
    for path, kind in expected.items():
        status, headers, _ = request(url, "GET", path)
        assert (status, headers["content-type"]) == (200, kind), path


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/..%2fsecret.txt",
        "/..%2f..%2f..%2fetc%2fpasswd",
        "/%2e%2e%5csecret.txt",
        "/..\\secret.txt",
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/./../secret.txt",
        "/served-essay.mp3/../../secret.txt",
        "/escape.txt",
        "/etc/passwd",
        "/.audioessay.lock",
        "/%2eaudioessay.lock",
        "/does-not-exist.mp3",
    ],
)
def test_nothing_outside_the_folder(server: tuple[str, subprocess.Popen[str]], path: str) -> None:
    url, _ = server
    status, _, body = request(url, "GET", path)
    assert status in (400, 404), (path, status)
    assert SECRET.encode() not in body and b"root:" not in body


def test_absolute_form_request_target(server: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = server
    status, _, body = request(url, "GET", f"{url}../secret.txt")
    assert status in (400, 404) and SECRET.encode() not in body


def test_a_name_the_podcast_does_not_publish_is_404_even_inside_the_folder(
    server: tuple[str, subprocess.Popen[str]], site: Path
) -> None:
    url, _ = server
    assert (site / "inside.mp3").resolve() == (site / "served-essay.mp3").resolve()
    status, _, body = request(url, "GET", "/inside.mp3")
    assert status == 404 and b"served" not in body


def test_served_feed_keeps_the_published_base_url(
    server: tuple[str, subprocess.Popen[str]], site: Path
) -> None:
    url, _ = server
    status, _, data = request(url, "GET", "/feed.xml")
    assert status == 200
    fp = judges.feedparser_read(data)
    assert fp.bozo == 0
    (entry,) = fp.entries
    (enclosure,) = entry.enclosures
    assert enclosure.href == f"{BASE}/served-essay.mp3"  # base_url is set: always used
    size = int(enclosure.length)
    assert size == (site / "served-essay.mp3").stat().st_size
    # The podcast keeps its identity: podcast:guid comes from the published address.
    expected = uuid.uuid5(
        uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), BASE.split("://")[1] + "/feed.xml"
    )
    assert f"<podcast:guid>{expected}</podcast:guid>" in data.decode()
    # Every URL in the feed answers, with the advertised length.
    head = request(url, "HEAD", "/" + urlsplit(enclosure.href).path.rsplit("/", 1)[1])
    assert head[0] == 200 and int(head[1]["content-length"]) == size
    chapters = json.loads(request(url, "GET", "/served-essay.chapters.json")[2])
    assert chapters["version"] == "1.2.0"


def test_ffprobe_reads_chapters_over_http(
    server: tuple[str, subprocess.Popen[str]], site: Path
) -> None:
    """ffmpeg's HTTP client (which seeks with ranges) reads the same chapters as from disk."""
    url, _ = server
    over_http = judges.ffprobe(f"{url}served-essay.mp3")  # type: ignore[arg-type]
    on_disk = judges.ffprobe(site / "served-essay.mp3")
    assert over_http["chapters"] == on_disk["chapters"] and len(on_disk["chapters"]) == 2


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_cleanly(site: Path, sig: signal.Signals) -> None:
    url, proc = start_server(site)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err  # as for every command stopped by Ctrl-C or SIGTERM
    assert "Traceback" not in err
    with pytest.raises(OSError):
        request(url, "HEAD", "/")


def test_serve_refuses_a_port_in_use(server: tuple[str, subprocess.Popen[str]], site: Path) -> None:
    url, _ = server
    port = str(urlsplit(url).port)
    result = subprocess.run(
        [sys.executable, "-m", "audioessay", "serve", str(site), "--port", port],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
