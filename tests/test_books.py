"""Talking books judged by their own validators: EPUBCheck, Ace by DAISY and daisy-player.

The bundled example has nested headings (levels 1, 2 and 3) and notes; the reference essay
has eight chapters. Both are rendered with the real default voice into DAISY 2.02 and EPUB 3,
and the sentence clips are compared with the WebVTT cues as the W3C parser reads them.
"""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from . import judges
from .conftest import EXAMPLE, SHARED, run_cli

pytestmark = pytest.mark.real

SMIL3 = "{http://www.w3.org/ns/SMIL}"
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module", params=["the-listening-room", "leaving-las-vegas"])
def book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The episode's output folder, rendered with --format mp3,daisy,epub."""
    slug = request.param
    source = (
        EXAMPLE if slug == "the-listening-room" else SHARED / "essays" / "leaving-las-vegas.txt"
    )
    if not source.is_file():
        pytest.skip(f"{source} is absent: the shared essays are not copied into the repository")
    out = tmp_path_factory.mktemp("book") / "out"
    result = run_cli("render", str(source), "-o", str(out), "--format", "mp3,daisy,epub", "--json")
    assert result.returncode == 0, result.stderr
    files = json.loads(result.stdout)["episodes"][0]["files"]
    assert {"daisy", "daisy_zip", "epub"} <= set(files)
    return out / slug


def chapters_of(book: Path) -> list[tuple[str, float]]:
    probe = judges.ffprobe(book.with_suffix(".mp3"))
    return [(c["tags"]["title"], float(c["start_time"])) for c in probe["chapters"]]


def test_epubcheck_reports_nothing(book: Path) -> None:
    messages = judges.epubcheck(book.with_suffix(".epub"))
    assert messages == [], json.dumps(messages, indent=1)[:3000]


def test_ace_by_daisy_passes(book: Path, tmp_path: Path) -> None:
    report = judges.ace(book.with_suffix(".epub"), tmp_path / "ace")
    failures = [
        (test["earl:test"]["dct:title"], test["earl:result"].get("dct:description", ""))
        for group in report["assertions"]
        for test in group["assertions"]
        if test["earl:result"]["earl:outcome"] != "pass"
    ]
    assert report["earl:result"]["earl:outcome"] == "pass", failures
    assert failures == []
    present = set(report["a11y-metadata"]["present"])
    assert {"schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
            "schema:accessibilityHazard", "schema:accessibilitySummary"} <= present  # fmt: skip


def test_daisy_player_lists_every_section(book: Path) -> None:
    listing = judges.daisy_player_listing(Path(f"{book}.daisy"))
    titles = [title for title, _ in chapters_of(book)]
    assert listing == [f"{n} {title}" for n, title in enumerate(titles, start=1)]


def test_daisy_book(book: Path) -> None:
    folder = Path(f"{book}.daisy")
    ncc = ET.parse(folder / "ncc.html").getroot()
    metas = {m.get("name"): m.get("content") for m in ncc.iter(f"{XHTML}meta") if m.get("name")}
    for name in ("dc:title", "dc:creator", "dc:date", "dc:format", "dc:identifier",
                 "dc:language", "dc:publisher", "ncc:charset", "ncc:generator",
                 "ncc:multimediaType", "ncc:narrator", "ncc:tocItems", "ncc:totalTime",
                 "ncc:depth", "ncc:files", "ncc:pageNormal", "ncc:setInfo"):  # fmt: skip
        assert metas.get(name), name
    assert metas["dc:format"] == "Daisy 2.02"
    assert metas["ncc:multimediaType"] == "audioFullText"
    duration = judges.frame_duration(book.with_suffix(".mp3"))
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d\d\d", metas["ncc:totalTime"])
    assert abs(_seconds(metas["ncc:totalTime"]) - duration) < 0.0015  # exact, to the ms
    # Headings h1-h6 follow the chapter levels, the first is the title.
    headings = [el for el in ncc.iter() if re.fullmatch(rf"{re.escape(XHTML)}h[1-6]", el.tag)]
    chapters = chapters_of(book)
    assert [h[0].text for h in headings] == [t for t, _ in chapters]
    assert headings[0].tag == f"{XHTML}h1" and headings[0].get("class") == "title"
    levels = [int(h.tag[-1]) for h in headings]
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels))
    assert metas["ncc:depth"] == str(max(levels))
    # Each heading links to a par of its section's SMIL, whose clips are the VTT cues.
    cues = {round(c["start"], 3): c["text"] for c in judges.vtt_cues(book.with_suffix(".vtt"))}
    clips = 0
    for heading in headings:
        smil_name, par_id = heading[0].get("href").split("#")
        smil = ET.parse(folder / smil_name).getroot()
        ids = [p.get("id") for p in smil.iter("par")]
        assert par_id in ids
        for par in smil.iter("par"):
            audio = par.find("audio")
            start = float(audio.get("clip-begin")[4:-1])
            if par.find("text").get("src").split("#")[1].startswith("s"):
                assert round(start, 3) in cues
            clips += 1
    assert clips >= len(cues)  # every cue's sentence (and every heading) has a par
    # The zip holds the same book.
    with zipfile.ZipFile(f"{book}.daisy.zip") as archive:
        names = archive.namelist()
    assert names[0].endswith("/ncc.html")
    assert sorted(n.split("/", 1)[1] for n in names) == sorted(p.name for p in folder.iterdir())


def test_epub_overlays_and_navigation(book: Path) -> None:
    cues = judges.vtt_cues(book.with_suffix(".vtt"))
    with zipfile.ZipFile(book.with_suffix(".epub")) as epub:
        names = epub.namelist()
        assert (
            names[0] == "mimetype" and epub.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        )
        opf = ET.fromstring(epub.read("EPUB/package.opf"))
        smils = sorted(n for n in names if n.endswith(".smil"))
        clips = []
        for name in smils:
            for par in ET.fromstring(epub.read(name)).iter(f"{SMIL3}par"):
                audio = par.find(f"{SMIL3}audio")
                clips.append((audio.get("clipBegin"), audio.get("clipEnd")))
        nav = ET.fromstring(epub.read("EPUB/nav.xhtml"))
    # Clips (headings and sentences) are the WebVTT cues, one for one: one assembly times both.
    assert len(clips) == len(cues)
    for (begin, end), cue in zip(clips, cues, strict=True):
        assert abs(_seconds(begin) - cue["start"]) < 0.0015
        assert abs(_seconds(end) - cue["end"]) < 0.0015
    props = [m.get("property") for m in opf.iter("{http://www.idpf.org/2007/opf}meta")]
    for needed in ("schema:accessMode", "schema:accessModeSufficient",
                   "schema:accessibilityFeature", "schema:accessibilitySummary",
                   "schema:accessibilityHazard", "media:duration", "media:active-class"):  # fmt: skip
        assert needed in props
    features = [m.text for m in opf.iter("{http://www.idpf.org/2007/opf}meta")
                if m.get("property") == "schema:accessibilityFeature"]  # fmt: skip
    assert "synchronizedAudioText" in features
    # The nav nests like the chapter levels.
    titles = [t for t, _ in chapters_of(book)]
    links = [a.text for a in nav.iter(f"{XHTML}a")]
    assert links == titles


def _seconds(clock: str) -> float:
    hours, minutes, seconds = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_format_option_errors(tmp_path: Path) -> None:
    result = run_cli("render", str(EXAMPLE), "-o", str(tmp_path), "--format", "mp3,pdf")
    assert result.returncode == 1 and "--format takes mp3, opus, m4a, m4b, daisy, epub" in result.stderr
    assert "Traceback" not in result.stderr


def test_episode_page_offers_the_books(book: Path) -> None:
    page = book.with_suffix(".html").read_text()
    assert f'href="{book.name}.epub"' in page
    assert f'href="{book.name}.daisy.zip"' in page


@pytest.fixture(scope="module")
def word_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example's EPUB with its Media Overlays by word (``--sync word``)."""
    out = tmp_path_factory.mktemp("word-book") / "out"
    result = run_cli("render", str(EXAMPLE), "-o", str(out), "--format", "mp3,epub",
                     "--sync", "word", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out / "the-listening-room"


def test_word_synced_epub_passes_epubcheck_and_ace(word_book: Path, tmp_path: Path) -> None:
    epub = word_book.with_suffix(".epub")
    assert judges.epubcheck(epub) == []
    report = judges.ace(epub, tmp_path / "ace")
    assert report["earl:result"]["earl:outcome"] == "pass"


def test_word_synced_overlays_group_each_sentences_words(word_book: Path) -> None:
    cues = judges.vtt_cues(word_book.with_suffix(".vtt"))
    words = json.loads(word_book.with_suffix(".transcript.json").read_text(encoding="utf-8"))
    with zipfile.ZipFile(word_book.with_suffix(".epub")) as epub:
        smils = sorted(n for n in epub.namelist() if n.endswith(".smil"))
        documents = {n: ET.fromstring(epub.read(n)) for n in epub.namelist() if n.endswith("xhtml")}
        overlays = [ET.fromstring(epub.read(n)) for n in smils]
    texts = {e.get("id"): "".join(e.itertext()) for d in documents.values() for e in d.iter()
             if e.get("id")}  # fmt: skip
    seqs = [s for o in overlays for s in o.iter(f"{SMIL3}seq") if s.get("id", "").startswith("q")]
    assert seqs, "no sentence is synchronised by word"
    said = []
    for seq in seqs:
        sentence = seq.get(EPUB_TEXTREF).split("#")[1]
        pars = list(seq.iter(f"{SMIL3}par"))
        spans = [p.find(f"{SMIL3}text").get("src").split("#")[1] for p in pars]
        assert all(s.startswith(sentence + "w") for s in spans)
        assert " ".join(texts[s] for s in spans) == texts[sentence]  # every word, in order
        clips = [(_seconds(p.find(f"{SMIL3}audio").get("clipBegin")),
                  _seconds(p.find(f"{SMIL3}audio").get("clipEnd"))) for p in pars]  # fmt: skip
        assert all(b < e for b, e in clips) and clips == sorted(clips)
        cue = min(cues, key=lambda c: abs(c["start"] - clips[0][0]))
        assert clips[0][0] >= cue["start"] - 0.0015 and clips[-1][1] <= cue["end"] + 0.0015
        said += [texts[s] for s in spans]
    # The book's words are the transcript's, in order (headings are synchronised whole).
    body = iter(" ".join(s["body"] for s in words["segments"]).split())
    assert all(word in body for word in " ".join(said).split())
    assert len(" ".join(said).split()) >= 0.8 * len(words["segments"])


EPUB_TEXTREF = "{http://www.idpf.org/2007/ops}textref"
