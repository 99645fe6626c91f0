"""Real documents nobody wrote for us: ../shared/corpus/real, judged against its manifest.

Every document must split into exactly its expected chapters, keep the manifest's heading
levels (deeper headings as sections inside their chapter), and lose no word of its body. The
body check is independent of our readers: for plain text it takes the file's own lines from
the first expected chapter to the end of the book; for Markdown it renders the page with
markdown-it to HTML and reads what a browser would show, through BeautifulSoup.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from audioessay.parse import load_essay

from . import judges
from .conftest import SHARED, run_cli

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
REAL = SHARED / "corpus" / "real"
MANIFEST: list[dict[str, Any]] = (
    json.loads((REAL / "manifest.json").read_text()) if (REAL / "manifest.json").is_file() else []
)
IDS = [d["file"] for d in MANIFEST] or ["absent"]


@pytest.fixture(params=MANIFEST or [None], ids=IDS)
def document(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param is None:
        pytest.skip(f"{REAL} is absent: the corpus is not copied into the repository")
    return request.param  # type: ignore[no-any-return]


def key(title: str) -> str:
    """The manifest's loose comparison: case, punctuation, italics and note markers aside."""
    title = unicodedata.normalize("NFKD", title).casefold()
    title = re.sub(r"\[\d+\]|_", "", title)
    return re.sub(r"[\W_]+", "", title)


def chapters_of(path: Path) -> list[str]:
    result = run_cli("chapters", str(path), "--json")
    assert result.returncode == 0, result.stderr
    return [c["title"] for c in json.loads(result.stdout)["chapters"]]


def test_every_document_splits_into_its_expected_chapters(document: dict[str, Any]) -> None:
    got = [key(t) for t in chapters_of(REAL / document["file"])]
    expected = [key(t) for t in document["expected_chapters"]]
    if document["untitled_opening_section"] and len(got) == len(expected) + 1:
        got = got[1:]  # the untitled opening, before the first heading
    assert got == expected


def test_heading_levels_follow_the_outline(document: dict[str, Any]) -> None:
    """Outline entries deeper than the chapters are sections inside a chapter, in order."""
    essay = load_essay(REAL / document["file"])
    chapters = {key(s.title) for s in essay.sections}
    subheadings = [
        (key(p.sentences[0].text), p.heading)
        for s in essay.sections
        for p in s.paragraphs
        if p.heading
    ]
    top = min(level for level, _ in document["heading_outline"])
    deeper = [(level, key(t)) for level, t in document["heading_outline"] if level > top]
    expected = {key(t) for t in document["expected_chapters"]}
    for _level, title in deeper:
        if title in expected:
            continue  # a chapter one level down (the essays of a collection's part)
        assert title not in chapters, f"{title} is a section, not a chapter"
        found = [lvl for sub, lvl in subheadings if sub == title]
        assert found, f"{title} is not kept as a section heading"
        assert found[0] > min(s.level for s in essay.sections)


def words(text: str) -> Counter[str]:
    return Counter(w.casefold() for w in re.findall(r"\w+", text))


def script_words(path: Path) -> Counter[str]:
    result = run_cli("script", str(path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    return words(" ".join(line["written"] for c in data["chapters"] for line in c["lines"]))


def plain_text_body(document: dict[str, Any]) -> str:
    """The book's body, read from the file itself: from the first expected chapter's heading
    line to the first front- or back-matter section the manifest leaves out after the last
    chapter (or the licence footer)."""
    raw = (REAL / document["file"]).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    lines = text.replace("\r\n", "\n").split("\n")
    norm = [key(line) for line in lines]

    def find(title: str, start: int) -> int | None:
        """The line where ``title`` stands as a heading: not indented (contents entries
        are), the whole line if one line holds it all, else the line it starts on."""
        full = key(title.split(" / ")[0])
        heads = [n for n in range(start, len(lines)) if lines[n][:1].strip()]
        exact = next((n for n in heads if full and norm[n] == full), None)
        if exact is not None:
            return exact
        wanted = full[:24]
        return next((n for n in heads if wanted and norm[n].startswith(wanted) and not re.search(r"\d\s*$", lines[n])), None)

    first_title = document["expected_chapters"][0]
    first = find(first_title.split(". ")[0] if first_title.startswith(("CHAPTER", "No.")) else first_title, 0)
    # The heading may be set over two lines ("CHAPTER 1." / title): search by its start.
    first = first if first is not None else find(first_title[:20], 0)
    assert first is not None, first_title
    # A heading named in a contents table comes first there: take the last occurrence before
    # the text of the second chapter.
    last_heading = document["expected_chapters"][-1]
    end = len(lines)
    marker = next(
        (n for n in range(first, len(lines)) if re.match(r"\s*(\*{3}\s*END OF|End of (the |this )?Project Gutenberg)", lines[n], re.I)),
        len(lines),
    )
    end = min(end, marker)
    tail_start = find(last_heading[:20], first) or first
    omitted = [m["title"] for m in document["front_and_back_matter_sections"] if m["treatment"] == "omit" and not m["title"].startswith("[")]
    for title in omitted:
        at = find(title, tail_start + 1)
        if at is not None and at < end:
            end = at
    # Sections the manifest leaves out inside the body (a contents table after a preface):
    # from their heading to the next expected chapter.
    chapter_lines = sorted(n for t in document["expected_chapters"] for n in [find(t[:20], first)] if n is not None)
    keep = [True] * len(lines)
    for title in omitted:
        at = find(title, first)
        if at is not None and first <= at < end:
            stop = next((n for n in chapter_lines if n > at), end)
            keep[at:stop] = [False] * (stop - at)
    # A table of figures set in columns is announced, not read (a trap the manifest names).
    def figures(line: str) -> bool:
        return len(re.findall(r"\S\s{3,}\S", line)) >= 1 and len(re.findall(r"\d[\d,.]*", line)) >= 2
    return "\n".join(
        line for n, line in enumerate(lines[first:end], start=first) if keep[n] and not figures(line)
    )


def markdown_body(document: dict[str, Any]) -> str:
    """What a browser shows of the page, from markdown-it's HTML, without code and without
    template tags (never read, by design)."""
    from bs4 import BeautifulSoup
    from markdown_it import MarkdownIt
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin

    text = (REAL / document["file"]).read_text(encoding="utf-8")
    md = MarkdownIt("commonmark", {"html": True}).enable("table").use(front_matter_plugin).use(footnote_plugin)
    soup = BeautifulSoup(md.render(text), "html.parser")
    for tag in soup.find_all(["pre", "code", "script", "style"]):
        tag.decompose()
    # Navigation, which the manifest leaves out: list items and paragraphs that are nothing
    # but a link, to this page's anchors or (a whole section of them) anywhere.
    def link_only(tag: Any) -> bool:
        links = " ".join(a.get_text(" ") for a in tag.find_all("a"))
        rest = tag.get_text(" ")
        for a in tag.find_all("a"):
            rest = rest.replace(a.get_text(" "), " ", 1)
        return bool(links.strip()) and len(re.findall(r"\w+", rest)) <= 3
    for tag in soup.find_all(["li", "p"]):
        anchors = [a.get("href", "") for a in tag.find_all("a")]
        if anchors and all(str(h).startswith("#") for h in anchors) and link_only(tag):
            tag.decompose()
    for heading in soup.find_all(["h2", "h3"]):
        body = heading.find_next_sibling()
        if body is not None and body.name in ("ul", "ol") and all(link_only(li) for li in body.find_all("li")):
            following = body.find_next_sibling()
            if following is None or following.name in ("h1", "h2", "h3"):
                body.decompose()
                heading.decompose()
    for inline in soup.find_all(["strong", "em", "b", "i", "span", "a"]):
        inline.unwrap()  # "**c**hange" is one word
    soup.smooth()
    shown = soup.get_text(" ")
    return re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{:[^}]*\}|\{::[^}]*\}", " ", shown, flags=re.S)


def test_no_body_word_is_lost(document: dict[str, Any]) -> None:
    path = REAL / document["file"]
    body = markdown_body(document) if path.suffix == ".md" else plain_text_body(document)
    spoken = script_words(path)
    missing = words(body) - spoken
    # Footnote and page markers ("[1]", "{12}") are not words of the prose.
    markers = words(" ".join(re.findall(r"\[\d+\]|\{\d+\}|[⁰¹²³⁴⁵⁶⁷⁸⁹]+", body)))
    missing -= markers
    assert sum(missing.values()) == 0, missing.most_common(20)


@pytest.mark.real
def test_every_document_renders_and_the_judges_pass(
    document: dict[str, Any], tmp_path: Path
) -> None:
    path = REAL / document["file"]
    out = tmp_path / "out"
    result = run_cli(
        "render", str(path), "-o", str(out), "--engine", "espeak", "--rate", "450", "-j", "2",
        "--cache-dir", str(tmp_path / "cache"), "-q", "--json", "--format", "epub",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (episode,) = json.loads(result.stdout)["episodes"]
    mp3 = Path(episode["mp3"])
    probe = judges.ffprobe(mp3)
    titles = [key(c["tags"]["title"]) for c in probe["chapters"]]
    expected = [key(t) for t in document["expected_chapters"]]
    assert titles[-len(expected) :] == expected
    assert judges.mp3val_problems(mp3) == []
    assert judges.ffmpeg_decode_errors(mp3) == ""
    assert judges.vtt_errors(mp3.with_suffix(".vtt"))[0] == []
    messages = judges.epubcheck(mp3.with_suffix(".epub"))
    assert [m for m in messages if m["severity"] in ("ERROR", "FATAL")] == []


@pytest.mark.real
def test_a_line_of_nothing_but_symbols_never_stops_a_render(tmp_path: Path) -> None:
    """What stopped a 100,000-word render: a line of music notation, quote marks and bars."""
    from .conftest import write

    essay = write(
        tmp_path,
        "notation.txt",
        "A Short Piece\n\nThe tune goes like this, in the old notation of the book.\n\n"
        "  \" | | ' \" | ' ' | \" | | ' \" | ' ' | \" | | ' \" | ' ' |\n\n"
        "| | | | * * * | | | |\n\nAnd then the prose goes on to its end, as prose does.\n",
    )
    for engine in ("espeak", "pyttsx3"):
        result = run_cli(
            "render", str(essay), "-o", str(tmp_path / engine), "--engine", engine,
            "--no-cache", "-q", "--json",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        (captions,) = (tmp_path / engine).glob("*.vtt")
        vtt = judges.vtt_cues(captions)
        texts = " ".join(c["plain"] for c in vtt)
        assert "notation is left out" in texts and "|" not in texts
