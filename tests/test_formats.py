"""Every format, judged by readers we did not write: the reference essay with the default voice,
rendered as MP3 first and then again with the Opus, M4A and M4B alternates and a cover.

The two renders share one module-scoped fixture; the second must speak nothing (every piece is
cached) and re-encode no MP3 block, only the alternates' own."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from . import judges
from .test_parse import reference_headings

pytestmark = pytest.mark.real

ALTERNATES = ("opus", "m4a", "m4b")


def render(essay: Path, out: Path, *options: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "audioessay", "render", str(essay), "-o", str(out), "--json",
         *options],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (episode,) = json.loads(result.stdout)["episodes"]
    return episode  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from PIL import Image

    reference = Path(__file__).resolve().parents[2] / "shared" / "essays" / "leaving-las-vegas.txt"
    if not reference.is_file():
        pytest.skip(f"the reference essay is not at {reference} (../shared is absent)")
    root = tmp_path_factory.mktemp("formats")
    cover = root / "cover.png"
    Image.new("RGB", (1400, 1400), (40, 90, 160)).save(cover)
    out, cache = root / "out", ("--cache-dir", str(root / "cache"))  # cold, whatever ran before
    mp3_only = render(reference, out, "--cover", str(cover), *cache)
    every = render(reference, out, "--cover", str(cover), "--format", "mp3,opus,m4a,m4b", *cache)
    titles = ["Leaving Las Vegas", *reference_headings(reference)]
    return {"mp3_only": mp3_only, "every": every, "titles": titles, "cover": cover, "out": out}


def files(rendered: dict[str, Any]) -> dict[str, Path]:
    return {kind: Path(path) for kind, path in rendered["every"]["files"].items()}


def test_adding_alternates_speaks_nothing_and_encodes_no_mp3_block_again(
    rendered: dict[str, Any],
) -> None:
    first, second = rendered["mp3_only"]["work"], rendered["every"]["work"]
    assert first["synthesized"] > 0 and first["encoded"] >= first["blocks"]
    assert second["synthesized"] == 0
    # The MP3's blocks all come from the cache: what is encoded is the Opus and the AAC (the
    # M4B shares the M4A's streams), one stream per block each, at most once more each if
    # a format's loudness needed correcting.
    blocks = second["blocks"]
    assert 2 * blocks <= second["encoded"] <= 4 * blocks


def test_every_format_has_the_mp3s_chapters_within_50_ms(rendered: dict[str, Any]) -> None:
    paths = files(rendered)
    reference = judges.ffprobe(paths["mp3"])["chapters"]
    assert [c["tags"]["title"] for c in reference] == rendered["titles"]
    for kind in ALTERNATES:
        chapters = judges.ffprobe(paths[kind])["chapters"]
        assert [c["tags"]["title"] for c in chapters] == rendered["titles"], kind
        for ours, theirs in zip(chapters, reference, strict=True):
            assert abs(float(ours["start_time"]) - float(theirs["start_time"])) <= 0.05, kind
        duration = float(judges.ffprobe(paths[kind])["format"]["duration"])
        assert abs(duration - judges.frame_duration(paths["mp3"])) <= 0.1, kind


def test_every_format_decodes_without_an_error(rendered: dict[str, Any]) -> None:
    paths = files(rendered)
    for kind in ("mp3", *ALTERNATES):
        assert judges.ffmpeg_decode_errors(paths[kind]) == "", kind


def test_loudness_and_true_peak_hold_on_each_decoded_file(rendered: dict[str, Any]) -> None:
    paths = files(rendered)
    for kind in ("mp3", *ALTERNATES):
        integrated, peak = judges.ebur128(paths[kind])
        assert abs(integrated - -19.0) <= 0.5, (kind, integrated)
        assert peak <= -1.0, (kind, peak)


def test_streams_are_what_each_format_promises(rendered: dict[str, Any]) -> None:
    paths = files(rendered)
    expected = {"opus": ("opus", 48000), "m4a": ("aac", 44100), "m4b": ("aac", 44100)}
    for kind, (codec, rate) in expected.items():
        (stream,) = [s for s in judges.ffprobe(paths[kind])["streams"] if s["codec_type"] == "audio"]
        assert (stream["codec_name"], int(stream["sample_rate"]), int(stream["channels"])) == (
            codec, rate, 1,
        ), kind  # fmt: skip
    opus_rate = int(judges.ffprobe(paths["opus"])["format"]["bit_rate"])
    assert 18_000 < opus_rate < 34_000  # 24 kb/s, with Ogg's overhead and VBR


def test_opusinfo_finds_no_error_and_every_tag(rendered: dict[str, Any]) -> None:
    paths = files(rendered)
    report = judges.opusinfo(paths["opus"])
    assert not re.search(r"(?im)^\s*(warning|error)", report), report
    assert re.search(r"Pre-skip: \d+", report)
    comments = dict(re.findall(r"(?m)^\t([A-Z_0-9]+)=(.*)$", report))
    assert comments["TITLE"] == "Leaving Las Vegas"
    names = [comments[f"CHAPTER{n:03d}NAME"] for n in range(1, len(rendered["titles"]) + 1)]
    assert names == rendered["titles"]
    assert comments["CHAPTER001"] == "00:00:00.000"
    assert "METADATA_BLOCK_PICTURE" in comments
    length = re.search(r"Playback length: (\d+)m:([\d.]+)s", report)
    assert length is not None
    playback = int(length.group(1)) * 60 + float(length.group(2))
    assert abs(playback - judges.frame_duration(paths["mp3"])) <= 0.1


def test_mediainfo_sees_the_chapter_track_the_cover_and_the_audiobook(
    rendered: dict[str, Any],
) -> None:
    paths = files(rendered)
    for kind in ("m4a", "m4b"):
        tracks = judges.mediainfo(paths[kind])
        general = next(t for t in tracks if t["@type"] == "General")
        menus = [t for t in tracks if t["@type"] == "Menu"]
        # The QuickTime chapter text track (a Menu "For" the audio track) and Nero's chpl.
        assert len(menus) == 2, kind
        assert any(m.get("Format") == "Timed Text" and m["extra"].get("Menu_For") == "1"
                   for m in menus), kind  # fmt: skip
        for menu in menus:
            titles = [v for k, v in menu["extra"].items() if k.startswith("_")]
            assert titles == rendered["titles"], kind
        assert general.get("Cover") == "Yes", kind
        assert general.get("IsStreamable") == "Yes", kind  # the index comes first
        assert general["Title"] == "Leaving Las Vegas"
    assert next(t for t in judges.mediainfo(paths["m4b"]) if t["@type"] == "General").get(
        "ContentType"
    ) == "Audiobook"


def test_the_feed_offers_every_format_with_its_size_and_hash(rendered: dict[str, Any]) -> None:
    out: Path = rendered["out"]
    result = subprocess.run(
        [sys.executable, "-m", "audioessay", "feed", str(out), "--base-url",
         "https://example.org/pod/"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    feed = judges.partytime(out / "feed.xml")
    (item,) = feed["items"]
    assert item["enclosure"]["url"].endswith(".mp3")
    alternates = item["alternativeEnclosures"]
    paths = files(rendered)
    by_type = {a["type"]: a for a in alternates}
    assert set(by_type) == {"audio/mpeg", "audio/ogg", "audio/mp4"} and len(alternates) == 4
    assert [a.get("default", False) for a in alternates] == [True, False, False, False]
    for alternate in alternates:
        (source,) = alternate["source"]
        path = paths[next(k for k in ("mp3", *ALTERNATES) if source["uri"].endswith("." + k))]
        assert alternate["length"] == path.stat().st_size
        assert alternate["title"] and alternate["lang"] == "en"
        assert alternate["bitrate"] > 0
        digest = base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()
        assert alternate["integrity"] == {"type": "sri", "value": f"sha384-{digest}"}
    parsed = judges.feedparser_read((out / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries[0].enclosures[0].type == "audio/mpeg"
    # The podcast's front page offers every file too.
    from bs4 import BeautifulSoup

    index = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    offered = {a["href"] for a in index.select("a[download]")}
    assert offered == {paths[kind].name for kind in ("mp3", *ALTERNATES)}


def test_the_page_offers_every_format_for_download(rendered: dict[str, Any]) -> None:
    from bs4 import BeautifulSoup

    paths = files(rendered)
    page = BeautifulSoup(paths["html"].read_text(encoding="utf-8"), "html.parser")
    links = {a["href"]: a.get_text() for a in page.select("a[download]")}
    for kind in ("mp3", *ALTERNATES):
        name = paths[kind].name
        assert name in links, kind
        assert f"{paths[kind].stat().st_size / 1e6:.1f} MB" in links[name]


def test_the_server_serves_every_format_with_its_type_and_byte_ranges(
    rendered: dict[str, Any],
) -> None:
    from .test_serve import request, start_server

    paths = files(rendered)
    url, proc = start_server(rendered["out"])
    try:
        for kind, mime in (("opus", "audio/ogg"), ("m4a", "audio/mp4"), ("m4b", "audio/mp4")):
            status, headers, body = request(url, "GET", "/" + paths[kind].name,
                                            {"Range": "bytes=100-199"})  # fmt: skip
            assert status == 206, kind
            assert headers["content-type"] == mime, kind
            assert body == paths[kind].read_bytes()[100:200], kind
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_inspect_reads_every_format_back(rendered: dict[str, Any]) -> None:
    """`audioessay inspect` on each alternate: FFmpeg's demuxers, not our writer's own code."""
    paths = files(rendered)
    for kind in ALTERNATES:
        result = subprocess.run(
            [sys.executable, "-m", "audioessay", "inspect", str(paths[kind]), "--json"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert [c["title"] for c in report["chapters"]] == rendered["titles"], kind
        assert report["title"] == "Leaving Las Vegas" and report["has_cover"], kind
        assert abs(report["duration"] - judges.frame_duration(paths["mp3"])) <= 0.1, kind


def test_the_word_transcript_holds_every_written_word_inside_its_cue(
    rendered: dict[str, Any],
) -> None:
    """The Podcasting 2.0 JSON transcript against the W3C parser's reading of the captions:
    every word of every cue, in order, each inside its cue, times never going back."""
    paths = files(rendered)
    document = json.loads(paths["transcript"].read_text(encoding="utf-8"))
    assert document["version"] == "1.0.0" and document["wordTimes"] == "voice"
    segments = document["segments"]
    cues = judges.vtt_cues(paths["vtt"])
    position = 0
    for cue in cues:
        words = cue["plain"].split()
        mine = segments[position : position + len(words)]
        assert [s["body"] for s in mine] == words
        for segment in mine:
            assert cue["start"] - 0.001 <= segment["startTime"] <= segment["endTime"]
            assert segment["endTime"] <= cue["end"] + 0.001
        position += len(words)
    assert position == len(segments)
    starts = [s["startTime"] for s in segments]
    assert starts == sorted(starts)
