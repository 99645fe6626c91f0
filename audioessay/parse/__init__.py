"""Readers that turn an essay file into an :class:`~audioessay.model.Essay`."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ParseError
from ..files import MARKDOWN_SUFFIXES, essays_root, inside, noticed
from ..language import check_language
from ..model import Essay, EssaySettings, Metadata, Omission, Section, Structure, written_words
from ._build import RawSection, build_sections, same_title
from ._source import read_text, strip_controls
from .gutenberg import strip_gutenberg
from .markdown import merge_title_heading, parse_markdown
from .plaintext import parse_plain_text
from .sentences import split_sentences

log = logging.getLogger(__name__)

__all__ = ["load_essay", "parse_essay", "split_sentences", "title_from_filename"]

_SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "in",
        "nor",
        "of",
        "on",
        "or",
        "the",
        "to",
        "vs",
        "via",
        "with",
    ]
)


def load_essay(path: Path, structure: Structure | None = None) -> Essay:
    """Read and parse the essay at ``path`` (Markdown by suffix, anything else as plain text)."""
    return parse_essay(read_text(path), path, structure or Structure())


def parse_essay(text: str, source: Path, structure: Structure | None = None) -> Essay:
    """Parse essay text; ``source`` decides the format and the fallback title."""
    structure = structure or Structure()
    decisions: list[tuple[str, str]] = []
    front: dict[str, Any] = {}
    heading_title: str | None = None
    omitted: tuple[Omission, ...] = ()
    raw: list[RawSection]
    if source.suffix.lower() in MARKDOWN_SUFFIXES:
        front, raw, heading_title, written, left_out = parse_markdown(text)
        if left_out:
            omitted += (Omission("markup", "template tags and in-page navigation", "\n".join(left_out)),)
        front_title = _text(front, "title")
        if heading_title is not None and (front_title is None or same_title(front_title, heading_title)):
            raw = merge_title_heading(raw)  # the H1 is the title: announced, not a chapter
        else:
            heading_title = None  # a title of its own: the H1 stays a chapter, and is spoken
    else:
        written = written_words(text)
        stripped = strip_gutenberg(text)
        if stripped is not None:
            text = stripped.body
            front = {"title": stripped.title, "author": stripped.author}
            omitted += stripped.omitted
        pattern = _headings_pattern(structure.headings)
        plain = parse_plain_text(text, (front.get("title") if stripped else None) or None, pattern)
        raw = plain.sections
        omitted += tuple(plain.omitted)
        decisions += plain.decisions
    if source.suffix.lower() in MARKDOWN_SUFFIXES:
        decisions += [(f"{'#' * r.level} {r.title}", f"heading: level {r.level}") for r in raw if r.title]
    skip = (*structure.skip, *_skip_list(front))
    if skip:
        raw, skipped = _skip_sections(raw, skip)
        omitted += skipped
        decisions += [(o.title, "left out: in the skip list") for o in skipped]
    title = _text(front, "title") or heading_title or _title_from_name(source, raw)
    metadata = Metadata(
        title=title,
        author=_text(front, "author") or _text(front, "authors"),
        date=_date(front),
        description=_text(front, "description") or _text(front, "excerpt"),
        language=_language(front, "front matter") or "en",
        guid=_text(front, "guid"),
        image=_image(front, source, essays_root(source)),
    )
    sections = build_sections(raw, title)
    _check_lengths(source, metadata, sections)
    if not sections:
        raise ParseError(f"{source} has no text to narrate")
    if not any(p.heading is None for s in sections for p in s.paragraphs):
        raise ParseError(f"{source} has headings but no body text to narrate")
    settings = essay_settings(front, source.parent, "front matter", essays_root(source))
    return Essay(
        source=source,
        metadata=metadata,
        sections=sections,
        settings=settings,
        written=tuple(written),
        omitted=omitted,
        decisions=tuple(decisions),
    )


TITLE_LIMIT = 1000
"""The longest title, byline or chapter title taken, in characters: the longest real book
title runs to a few hundred (the corpus's longest heading: 389); past that it is a paragraph the parser took for one (or a file
made to fill every tag, file name and feed entry)."""


def _check_lengths(source: Path, metadata: Metadata, sections: Sequence[Section]) -> None:
    """Refuse, before narration, a title, byline or chapter title no listener could use."""
    named = [("title", metadata.title), ("author", metadata.author or "")]
    named += [("chapter title", s.title) for s in sections]
    for what, text in named:
        if len(text) > TITLE_LIMIT:
            raise ParseError(
                f"{source}: the {what} is {len(text):,} characters long (at most {TITLE_LIMIT}): "
                f"“{text[:60]}…”; shorten it, or make it a paragraph"
            )


def essay_settings(
    values: dict[str, Any], base: Path, where: str, root: Path | None = None
) -> EssaySettings:
    """Narration settings from front matter or ``audioessay.toml`` (paths relative to
    ``base``; the lexicons they name must lie in ``root``, see :func:`.files.essays_root`)."""
    lexicon = values.get("lexicon")
    if lexicon is None:
        paths: tuple[Path, ...] = ()
    elif isinstance(lexicon, str):
        paths = (base / Path(lexicon),)
    elif isinstance(lexicon, list) and all(isinstance(p, str) for p in lexicon):
        paths = tuple(base / Path(p) for p in lexicon)
    else:
        raise ParseError(f"{where} `lexicon` must be a file name or a list of them")
    for path in paths:
        if not inside(path, root or base):
            raise ParseError(
                f"{where} `lexicon` names {path}, outside the essays' folder {root or base}: "
                "a folder's settings may only name files inside it (give your own with --lexicon)"
            )
    skip = values.get("skip_citations")
    if skip is not None and not isinstance(skip, bool):
        raise ParseError(f"{where} `skip_citations` must be true or false")
    headings = values.get("headings")
    if headings is not None and not isinstance(headings, str):
        raise ParseError(f"{where} `headings` must be a regular expression, as text")
    _headings_pattern(headings)
    sync = values.get("sync")
    if sync is not None and sync not in ("sentence", "word"):
        raise ParseError(f"{where} `sync` must be sentence or word, not {sync!r}")
    return EssaySettings(
        formats=_formats(values, where),
        sync=sync,
        headings=headings,
        skip=_skip_list(values),
        engine=_text(values, "engine", where),
        voice=_text(values, "voice", where),
        rate=_rate(values, where),
        language=_language(values, where),
        lexicon=paths,
        skip_citations=skip,
    )


def _formats(values: dict[str, Any], where: str) -> tuple[str, ...] | None:
    """``formats``: a list of names, or one comma-separated string as ``--format`` takes."""
    value = values.get("formats")
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ParseError(f"{where} `formats` must be a list of format names, such as [mp3, opus]")
    return tuple(v.strip().lower() for v in value if v.strip())


class HeadingPattern:
    """The user's heading pattern (``--headings``, ``headings =`` in ``audioessay.toml`` or
    front matter), matched with a time limit.

    A folder's settings come from whoever made the folder, and a pattern such as
    ``^(a+)+$`` takes exponential time on some lines with Python's ``re``, which cannot be
    stopped. The ``regex`` module (the same syntax; Apache-2.0) takes a timeout per match:
    the whole document gets :data:`PATTERN_SECONDS`, and a pattern that needs longer is
    refused with a message, never left to run."""

    def __init__(self, text: str) -> None:
        import regex

        if len(text) > PATTERN_LENGTH:
            raise ParseError(f"the headings pattern is longer than {PATTERN_LENGTH} characters")
        try:
            self.pattern = regex.compile(text)
        except (regex.error, RecursionError, OverflowError) as exc:
            raise ParseError(
                f"the headings pattern {text!r} is not a regular expression: {exc}"
            ) from None
        self.text = text
        self._left = PATTERN_SECONDS

    def matches(self, line: str) -> bool:
        """Whether the whole ``line`` matches."""
        started = time.monotonic()
        try:
            found = self.pattern.fullmatch(line, timeout=max(0.001, self._left)) is not None
        except TimeoutError:
            raise ParseError(
                f"the headings pattern {self.text!r} takes too long on this document (over "
                f"{PATTERN_SECONDS:g} s, at the line {line[:60]!r}); simplify it: nested "
                "repeats such as (a+)+ take exponential time"
            ) from None
        self._left -= time.monotonic() - started
        return found


PATTERN_LENGTH = 1000
PATTERN_SECONDS = 2.0
"""Time the headings pattern may take over a whole document: a sane one needs milliseconds
for a book."""


def _headings_pattern(text: str | None) -> HeadingPattern | None:
    """The user's heading pattern, compiled, or a :class:`ParseError` saying what is wrong."""
    return HeadingPattern(text) if text is not None else None


def _skip_list(values: dict[str, Any]) -> tuple[str, ...]:
    value = values.get("skip")
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ParseError("`skip` must be a section title or a list of them")


def _skip_sections(raw: list[RawSection], skip: tuple[str, ...]) -> tuple[list[RawSection], tuple[Omission, ...]]:
    """Leave out the sections whose titles the user listed (compared loosely)."""
    wanted = {"".join(c for c in t.casefold() if c.isalnum()) for t in skip}
    kept: list[RawSection] = []
    left_out: list[Omission] = []
    for section in raw:
        key = "".join(c for c in (section.title or "").casefold() if c.isalnum())
        if section.title is not None and key in wanted:
            text = "\n".join([section.title, *(p if isinstance(p, str) else p.title for p in section.paragraphs)])
            left_out.append(Omission(section.title, "in the skip list", text))
        else:
            kept.append(section)
    return kept, tuple(left_out)


def _title_from_name(source: Path, raw: list[RawSection]) -> str:
    """The file-name title, spelled as the first heading spells it when they are the same."""
    title = title_from_filename(source)
    first = next((r.title for r in raw if r.title is not None), None)
    if first is not None and same_title(first, title):
        return first
    return title


def title_from_filename(path: Path) -> str:
    """``leaving-las-vegas.txt`` → ``Leaving Las Vegas``."""
    words = re.sub(r"[-_.]+", " ", path.stem).split()
    if not words:
        return "Untitled"
    return " ".join(
        w if w.isupper() else (w.lower() if i and w.lower() in _SMALL_WORDS else w.capitalize())
        for i, w in enumerate(words)
    )


def _text(front: dict[str, Any], key: str, where: str = "front matter") -> str | None:
    """A front-matter value as a clean single-line string, or None."""
    value = front.get(key)
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        if key in ("author", "authors") and isinstance(value, list):
            return _text({key: ", ".join(str(v) for v in value)}, key, where)
        raise ParseError(f"{where} `{key}` must be text, not a {type(value).__name__}")
    text = " ".join(strip_controls(str(value), f"{where} `{key}`").split())
    return text or None


def _language(values: dict[str, Any], where: str) -> str | None:
    """``language`` (or ``lang``) as a checked BCP 47 tag, or None."""
    text = _text(values, "language", where) or _text(values, "lang", where)
    return check_language(text, where) if text is not None else None


_ZONES = {
    "UTC": 0, "GMT": 0, "Z": 0, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10,
}  # fmt: skip
"""Zone abbreviations blog engines write after a date (Jekyll: ``2016-03-21 12:00 EDT``)."""
_JEKYLL_DATE = re.compile(
    r"(?P<when>\d{4}-\d\d-\d\d(?:[ T]\d\d?:\d\d(?::\d\d(?:\.\d+)?)?)?)"
    r"\s*(?:(?P<offset>[+-]\d\d:?\d\d)|(?P<zone>[A-Za-z]{1,5}))?"
)


def _date(front: dict[str, Any]) -> str | None:
    """Front matter ``date`` as ISO 8601 text, refusing what is not a date.

    ISO 8601 as Python reads it, plus what Jekyll and Hugo write: a space before the time, a
    ``-0500`` offset, or a zone abbreviation (``EDT``).
    """
    text = _text(front, "date")
    if text is None:
        return None
    match = _JEKYLL_DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        moment = dt.datetime.fromisoformat(match["when"].replace(" ", "T"))
        if match["offset"]:
            moment = moment.replace(tzinfo=dt.datetime.strptime(match["offset"].replace(":", ""), "%z").tzinfo)
        elif match["zone"]:
            hours = _ZONES[match["zone"].upper()]
            moment = moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=hours)))
    except (ValueError, KeyError):
        raise ParseError(
            f"front matter `date` must be a date such as 2026-11-24 (or 2026-11-24T09:30): {text!r}"
        ) from None
    return moment.isoformat() if (match["offset"] or match["zone"]) else text


def _image(front: dict[str, Any], source: Path, root: Path) -> Path | None:
    """Per-episode cover art (front matter ``image`` or ``cover``), relative to the essay.

    Blogs often give a site path (``/assets/img/x.png``) or a URL: art that does not resolve to
    a readable file beside the essay is left out with a warning, and the render goes on. Art
    outside ``root`` (:func:`.files.essays_root`) is refused: it would be published.
    """
    text = _text(front, "image") or _text(front, "cover")
    if text is None:
        return None
    if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.IGNORECASE):
        log.warning("front matter image %r is a URL: rendering without episode art", text)
        return None
    path = Path(text)
    candidates = [path] if path.is_absolute() else [source.parent / path]
    if text.startswith("/"):  # a site path: relative to the essay's folder or one above
        candidates += [parent / text.lstrip("/") for parent in source.parent.parents]
    for candidate in candidates:
        noticed(candidate)
    found = next((p for p in candidates if p.is_file()), None)
    if found is not None and not inside(found, root):
        raise ParseError(
            f"front matter image {text!r} is outside the essays' folder {root}: art is "
            "published beside the episode, so it must be a file inside that folder"
        )
    if found is None:
        log.warning("front matter image %r is not a file: rendering without episode art", text)
    return found


def _rate(front: dict[str, Any], where: str) -> int | None:
    value = front.get("rate")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(f"{where} `rate` must be a whole number of words per minute: {value!r}")
    return value
