"""Feeds: episode records, podcast.toml, the RSS feed read by three parsers we did not write.

feedparser (bozo must be 0), gPodder's podcastparser and the Podcast Index's podcast-partytime
must agree with each other and with the files on disk: enclosure lengths are the tagged MP3s'
sizes, durations match ffprobe, chapters match the MP3's own chapter frames.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from PIL import Image

from audioessay import RenderSettings, render

from . import judges
from .conftest import run_cli, write

BASE = "https://essays.example.org/audio"
NASTY_TITLE = "Fish & Chips <b>bold</b> ]]> 🎧 “quoted”"


def essay(title: str, body: str = "One sentence here. Another one.", **front: str) -> str:
    lines = [f"title: {json.dumps(title, ensure_ascii=False)}", "author: A. Writer"]
    lines += [f"{key}: {value}" for key, value in front.items()]
    return "---\n" + "\n".join(lines) + f"\n---\n\n{body}\n\n## Second Part\n\nMore words follow.\n"


def render_fake(source: Path, out: Path) -> None:
    render(source, RenderSettings(engine="fake", rate=240, output_dir=out, cache_dir=None))


def feed_build(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    result = run_cli(
        "feed", str(out), "--base-url", BASE, "--owner-email", "owner@example.org", *extra
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """Three episodes, one with a title full of XML trouble, published with a feed."""
    out = tmp_path / "site"
    render_fake(write(tmp_path, "a.md", essay("First Essay", date="2026-01-05")), out)
    render_fake(write(tmp_path, "b.md", essay(NASTY_TITLE, date="2026-02-10")), out)
    render_fake(
        write(tmp_path, "c.md", essay("Third & Last", description="A <short> & sweet one.")), out
    )
    feed_build(out)
    return out


def records(out: Path) -> dict[str, dict[str, object]]:
    return {
        p.name.removesuffix(".episode.json"): json.loads(p.read_text())
        for p in out.glob("*.episode.json")
    }


def test_three_parsers_agree_with_the_files(published: Path) -> None:
    data = (published / "feed.xml").read_bytes()
    fp = judges.feedparser_read(data)
    assert fp.bozo == 0, fp.get("bozo_exception")
    pp = judges.podcastparser_read(data, f"{BASE}/feed.xml")
    pt = judges.partytime(published / "feed.xml")

    recs = records(published)
    assert len(fp.entries) == len(pp["episodes"]) == len(pt["items"]) == 3
    titles = {r["title"] for r in recs.values()}
    assert {e.title for e in fp.entries} == {e["title"] for e in pp["episodes"]} == titles
    assert {i["title"] for i in pt["items"]} == titles
    assert NASTY_TITLE in titles

    for slug, rec in recs.items():
        mp3 = published / f"{slug}.mp3"
        size = mp3.stat().st_size
        url = f"{BASE}/{slug}.mp3"
        probe = judges.ffprobe(mp3)
        duration = float(probe["format"]["duration"])

        entry = next(e for e in fp.entries if e.title == rec["title"])
        (enclosure,) = entry.enclosures
        assert (enclosure.href, int(enclosure.length), enclosure.type) == (url, size, "audio/mpeg")
        assert entry.id == rec["guid"] and entry.guidislink is False
        assert abs(int(entry.itunes_duration) - duration) <= 1

        episode = next(e for e in pp["episodes"] if e["title"] == rec["title"])
        assert episode["enclosures"][0]["url"] == url
        assert episode["enclosures"][0]["file_size"] == size
        assert episode["guid"] == rec["guid"]
        assert abs(episode["total_time"] - duration) <= 1
        # PSC chapters as gPodder reads them match the MP3's CHAP frames as ffprobe reads them.
        psc = [(c["title"], c["start"]) for c in episode["chapters"]]
        chap = [(c["tags"]["title"], float(c["start_time"])) for c in probe["chapters"]]
        assert [t for t, _ in psc] == [t for t, _ in chap]
        assert [a for _, a in psc] == [int(b) for _, b in chap]  # podcastparser keeps whole seconds

        item = next(i for i in pt["items"] if i["title"] == rec["title"])
        assert item["enclosure"] == {"url": url, "length": size, "type": "audio/mpeg"}
        assert item["guid"] == rec["guid"]
        assert abs(item["duration"] - duration) <= 1
        assert item["podcastChapters"] == {
            "url": f"{BASE}/{slug}.chapters.json",
            "type": "application/json+chapters",
        }
        transcripts = {t["url"].rsplit(".", 1)[1]: t for t in item["podcastTranscripts"]}
        assert transcripts["vtt"]["type"] == "text/vtt" and transcripts["vtt"]["rel"] == "captions"
        assert transcripts["srt"]["type"] == "application/srt"  # partytime's name for x-subrip
        assert transcripts["srt"]["rel"] == "captions"
        assert transcripts["html"]["type"] == "text/html" and "rel" not in transcripts["html"]
        assert transcripts["json"]["type"] == "application/json"  # the word-by-word one
        assert transcripts["json"]["url"].endswith(".transcript.json")
        for transcript in transcripts.values():
            assert (published / transcript["url"].rsplit("/", 1)[1]).is_file()


def test_channel_tags(published: Path) -> None:
    data = (published / "feed.xml").read_bytes()
    text = data.decode()
    for prefix, uri in (
        ("itunes", "http://www.itunes.com/dtds/podcast-1.0.dtd"),
        ("podcast", "https://podcastindex.org/namespace/1.0"),
        ("psc", "http://podlove.org/simple-chapters"),
        ("atom", "http://www.w3.org/2005/Atom"),
    ):
        assert f'xmlns:{prefix}="{uri}"' in text
    fp = judges.feedparser_read(data)
    feed = fp.feed
    assert feed.title and feed.subtitle and feed.language == "en"
    assert feed.image.href == f"{BASE}/cover.png"
    assert not feed.itunes_explicit  # feedparser only maps "true"/"yes" to True
    assert feed.tags[0].term == "Arts"
    assert feed.publisher_detail.email == "owner@example.org"
    self_links = [link.href for link in feed.links if link.rel == "self"]
    assert self_links == [f"{BASE}/feed.xml"]

    pt = judges.partytime(published / "feed.xml")
    expected = uuid.uuid5(
        uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "essays.example.org/audio/feed.xml"
    )
    assert pt["guid"] == str(expected)
    assert pt["locked"] is True
    assert pt["explicit"] is False
    assert pt["itunesCategory"] == ["Arts > Books"]
    assert pt["pubsub"]["self"] == f"{BASE}/feed.xml"

    # The generated cover: 3000 px square PNG, as Apple requires.
    with Image.open(published / "cover.png") as cover:
        assert (cover.format, cover.size) == ("PNG", (3000, 3000))
        # High contrast: the lightest and darkest pixels are white-ish and near-black.
        low, high = cover.convert("L").getextrema()
        assert low < 30 and high > 240


def test_dates_descriptions_and_order(published: Path) -> None:
    fp = judges.feedparser_read((published / "feed.xml").read_bytes())
    by_title = {e.title: e for e in fp.entries}
    first = by_title["First Essay"]
    assert first.published == "Mon, 05 Jan 2026 00:00:00 GMT"
    assert email.utils.parsedate_to_datetime(first.published) == dt.datetime(
        2026, 1, 5, tzinfo=dt.UTC
    )
    assert by_title["First Essay"].summary == "One sentence here. Another one."
    # Descriptions are HTML; shown as HTML, it reads exactly as written.
    assert html.unescape(by_title["Third & Last"].summary) == "A <short> & sweet one."
    # The other two hand the same HTML over.
    pp = judges.podcastparser_read((published / "feed.xml").read_bytes(), f"{BASE}/feed.xml")
    pt = judges.partytime(published / "feed.xml")
    for text in (
        {e["title"]: e["description"] for e in pp["episodes"]}["Third & Last"],
        {i["title"]: i["description"] for i in pt["items"]}["Third & Last"],
    ):
        assert html.unescape(text) == "A <short> & sweet one."
    # Newest first; the undated essay was first rendered today.
    assert [e.title for e in fp.entries] == ["Third & Last", NASTY_TITLE, "First Essay"]


def test_guid_and_date_survive_rerenders_and_moves(tmp_path: Path) -> None:
    out = tmp_path / "site"
    source = write(tmp_path, "undated.md", essay("Undated"))
    render_fake(source, out)
    before = records(out)["undated"]
    # Edited and moved to another folder: same essay, same GUID and first-render date.
    moved = tmp_path / "elsewhere" / "renamed.md"
    moved.parent.mkdir()
    moved.write_text(essay("Undated", body="Rewritten opening. Still the same essay."))
    render_fake(moved, out)
    after = records(out)["undated"]
    assert after["guid"] == before["guid"]
    assert after["published"] == before["published"]
    # Rendered into a new folder, it keeps its GUID (derived from the essay, not the path).
    render_fake(moved, tmp_path / "other")
    assert records(tmp_path / "other")["undated"]["guid"] == before["guid"]
    # Front matter can fix the GUID explicitly.
    render_fake(write(tmp_path, "g.md", essay("Fixed", guid="urn:example:fixed-1")), out)
    assert records(out)["fixed"]["guid"] == "urn:example:fixed-1"


def test_podcast_settings_file(tmp_path: Path) -> None:
    out = tmp_path / "site"
    render_fake(write(tmp_path, "a.md", essay("Alpha")), out)
    result = run_cli("feed", str(out), "--base-url", BASE, "--title", "My Podcast")
    assert result.returncode == 0, result.stderr
    assert "Created" in result.stdout and f"{BASE}/feed.xml" in result.stdout
    assert "owner email" in result.stderr  # Apple needs it: the writer is told
    import tomllib

    settings = tomllib.loads((out / "podcast.toml").read_text())
    assert settings["title"] == "My Podcast" and settings["base_url"] == BASE
    assert settings["author"] == "A. Writer" and settings["owner"]["name"] == "A. Writer"
    # Without an email there is no itunes:owner at all: a name alone is invalid RSS for
    # Apple (the W3C validator's MissingElement), so the default feed leaves it out.
    parsed = judges.feedparser_read((out / "feed.xml").read_bytes())
    assert "publisher_detail" not in parsed.feed and b"itunes:owner" not in (out / "feed.xml").read_bytes()
    # Remembered: the next build needs no flags; a flag overrides for one run only.
    assert run_cli("feed", str(out)).returncode == 0
    assert judges.feedparser_read((out / "feed.xml").read_bytes()).feed.title == "My Podcast"
    assert run_cli("feed", str(out), "--title", "Once").returncode == 0
    assert judges.feedparser_read((out / "feed.xml").read_bytes()).feed.title == "Once"
    assert tomllib.loads((out / "podcast.toml").read_text())["title"] == "My Podcast"


def test_base_url_is_filled_into_a_settings_file_without_one(tmp_path: Path) -> None:
    out = tmp_path / "site"
    render_fake(write(tmp_path, "a.md", essay("Alpha")), out)
    (out / "podcast.toml").write_text('# mine\ntitle = "Hand Made"\nbase_url = ""\n')
    assert run_cli("feed", str(out)).returncode == 1
    assert run_cli("feed", str(out), "--base-url", BASE).returncode == 0
    assert (
        out / "podcast.toml"
    ).read_text() == f'# mine\ntitle = "Hand Made"\nbase_url = "{BASE}"\n'
    assert run_cli("feed", str(out)).returncode == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--category", "Cooking"], "not one of Apple's"),
        (["--category", "Arts", "--subcategory", "Physics"], "not in Arts"),
        (["--owner-email", "nobody"], "is not an address"),
        (["--language", "English!"], "language tag"),
        (["--image", "missing.png"], "is not a file"),
    ],
)
def test_bad_podcast_settings(tmp_path: Path, args: list[str], fragment: str) -> None:
    out = tmp_path / "site"
    render_fake(write(tmp_path, "a.md", essay("Alpha")), out)
    result = run_cli("feed", str(out), "--base-url", BASE, *args)
    assert result.returncode == 1
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_feed_errors_are_one_line(tmp_path: Path) -> None:
    out = tmp_path / "site"
    render_fake(write(tmp_path, "a.md", essay("Alpha")), out)
    no_url = run_cli("feed", str(out))
    assert no_url.returncode == 1 and "--base-url" in no_url.stderr
    assert not (out / "podcast.toml").exists()  # a failed build leaves no half-made settings
    bad_url = run_cli("feed", str(out), "--base-url", "example.com/x")
    assert bad_url.returncode == 1 and "absolute http(s) URL" in bad_url.stderr
    render_fake(write(tmp_path, "b.md", essay("Beta")), out)
    (out / "alpha.mp3").unlink()
    # A record whose files are gone takes only its own episode out, with a warning.
    gone = run_cli("feed", str(out), "--base-url", BASE)
    assert gone.returncode == 0, gone.stderr
    assert "Warning: alpha.episode.json does not match alpha.mp3: skipped" in gone.stderr
    assert [e.title for e in judges.feedparser_read((out / "feed.xml").read_bytes()).entries] == ["Beta"]
    (out / "alpha.episode.json").write_text("{not json")
    broken = run_cli("feed", str(out), "--base-url", BASE)
    assert broken.returncode == 0 and "alpha.episode.json cannot be read: skipped" in broken.stderr
    for result in (no_url, bad_url, gone, broken):
        assert "Traceback" not in result.stderr
    missing_dir = run_cli("feed", str(tmp_path / "nope"), "--base-url", BASE)
    assert missing_dir.returncode == 1 and "not a folder" in missing_dir.stderr


def test_episode_art_and_custom_channel_image(tmp_path: Path) -> None:
    out = tmp_path / "site"
    art = tmp_path / "art.jpg"
    Image.new("RGB", (1400, 1400), (200, 30, 30)).save(art, "JPEG")
    render_fake(write(tmp_path, "a.md", essay("Pictured", image="art.jpg")), out)
    Image.new("RGB", (2000, 2000), (0, 0, 90)).save(out / "channel.png")
    feed_build(out, "--image", "channel.png")
    pt = judges.partytime(out / "feed.xml")
    assert pt["itunesImage"] == f"{BASE}/channel.png"
    text = (out / "feed.xml").read_text()
    assert f'<itunes:image href="{BASE}/pictured.cover.jpg"/>' in text
    assert (out / "pictured.cover.jpg").read_bytes() == art.read_bytes()
    assert not (out / "cover.png").exists()  # a configured image replaces the generated one
    # The art is embedded in the MP3 too, as eyeD3 reads it.
    (image,) = judges.eyed3_tag(out / "pictured.mp3").images
    assert image.mime_type == "image/jpeg"


def test_render_with_feed_in_one_step(tmp_path: Path) -> None:
    out = tmp_path / "site"
    source = write(tmp_path, "one.md", essay("One Step"))
    result = run_cli(
        "render", str(source), "-o", str(out), "--engine", "fake", "--base-url", BASE, "--json"
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["feed"]["url"] == f"{BASE}/feed.xml" and summary["feed"]["episodes"] == 1
    pt = judges.partytime(out / "feed.xml")
    assert [i["title"] for i in pt["items"]] == ["One Step"]
    assert (out / "index.html").is_file() and (out / "one-step.html").is_file()


def test_concurrent_renders_never_lose_an_episode(tmp_path: Path) -> None:
    """Six renders with --feed into one folder at once: every episode ends up in the feed."""
    out = tmp_path / "site"
    out.mkdir()
    (out / "podcast.toml").write_text(
        f'title = "Busy"\nbase_url = "{BASE}"\n[owner]\nname = "Me"\nemail = "me@example.org"\n'
    )
    sources = [write(tmp_path, f"e{i}.md", essay(f"Essay Number {i}")) for i in range(6)]
    command = [sys.executable, "-m", "audioessay", "render", "-o", str(out), "--engine", "fake"]
    procs = [
        subprocess.Popen(
            [*command, "--feed", "-q", "-j", "1", str(s)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for s in sources
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    fp = judges.feedparser_read((out / "feed.xml").read_bytes())
    assert fp.bozo == 0
    assert sorted(e.title for e in fp.entries) == [f"Essay Number {i}" for i in range(6)]
    assert not list(out.glob(".*.part"))  # no temporary left behind


def test_feed_is_rebuilt_not_patched(published: Path) -> None:
    """Deleting an episode's files and rebuilding removes it; rebuilding twice is stable."""
    first = (published / "feed.xml").read_bytes()
    feed_build(published)
    assert (published / "feed.xml").read_bytes() == first
    for path in published.glob("first-essay.*"):
        path.unlink()
    feed_build(published)
    fp = judges.feedparser_read((published / "feed.xml").read_bytes())
    assert sorted(e.title for e in fp.entries) == sorted([NASTY_TITLE, "Third & Last"])
    index = (published / "index.html").read_text()
    assert "first-essay" not in index
