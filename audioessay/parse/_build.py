"""Turn the raw section lists both readers produce into the model's sections."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import Paragraph, Section, Sentence
from .sentences import split_sentences

_PART = re.compile(r"^(?:part|book|volume|vol\.)\s", re.IGNORECASE)


@dataclass
class RawSection:
    """A section while a reader is still filling it: paragraphs as plain strings."""

    title: str | None
    """None for the opening, which takes the essay title."""
    level: int
    paragraphs: list[str | SubHeading] = field(default_factory=list)


@dataclass(frozen=True)
class SubHeading:
    """A heading below the chapter level, kept in its chapter as a spoken title."""

    title: str
    level: int


def chapter_levels(raw: list[RawSection]) -> frozenset[int]:
    """The heading levels that are chapters: the document's top level, and the level under it
    when the top-level headings are parts ("Part One", "Book II"). Deeper headings are
    sections inside their chapter (a guide's ``###`` under its ``##``)."""
    levels = sorted({r.level for r in raw if r.title is not None})
    if not levels:
        return frozenset()
    top = [r.title or "" for r in raw if r.title is not None and r.level == levels[0]]
    if len(levels) > 1 and all(_PART.match(title) for title in top):
        return frozenset(levels[:2])
    return frozenset(levels[:1])


def fold_sections(raw: list[RawSection]) -> list[RawSection]:
    """Sections below the chapter level join the chapter above them as sub-headings."""
    chapters = chapter_levels(raw)
    folded: list[RawSection] = []
    for item in raw:
        if item.title is not None and item.level not in chapters and folded:
            folded[-1].paragraphs.append(SubHeading(item.title, item.level))
            folded[-1].paragraphs.extend(item.paragraphs)
        else:
            folded.append(RawSection(item.title, item.level, list(item.paragraphs)))
    return folded


def _paragraph(text: str | SubHeading) -> Paragraph | None:
    if isinstance(text, SubHeading):
        return Paragraph((Sentence(text.title),), heading=text.level)
    if not text.strip():
        return None
    return Paragraph(tuple(Sentence(s) for s in split_sentences(text)))


def build_sections(raw: list[RawSection], essay_title: str) -> tuple[Section, ...]:
    """Split paragraphs into sentences; fold sub-sections into their chapters; drop an
    opening with no text; title the opening."""
    sections: list[Section] = []
    raw = fold_sections(raw)
    for index, item in enumerate(raw):
        paragraphs = tuple(p for p in map(_paragraph, item.paragraphs) if p is not None)
        if item.title is None:
            if not paragraphs:
                continue
            sections.append(Section(essay_title, 1, paragraphs, spoken_title=False))
            continue
        # The episode title is announced first; an essay whose first heading repeats it
        # ("## Circles" in circles.md) should not say it twice in a row.
        repeats_title = index == 1 and not sections and same_title(item.title, essay_title)
        sections.append(Section(item.title, item.level, paragraphs, spoken_title=not repeats_title))
    return tuple(sections)


def same_title(a: str, b: str) -> bool:
    """Compare two titles ignoring case, punctuation and spacing."""

    def key(s: str) -> str:
        return "".join(c for c in s.casefold() if c.isalnum())

    return key(a) == key(b)
