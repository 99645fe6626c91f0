"""Turn the raw section lists both readers produce into the model's sections."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Paragraph, Section, Sentence
from .sentences import split_sentences


@dataclass
class RawSection:
    """A section while a reader is still filling it: paragraphs as plain strings."""

    title: str | None
    """None for the opening, which takes the essay title."""
    level: int
    paragraphs: list[str] = field(default_factory=list)


def build_sections(raw: list[RawSection], essay_title: str) -> tuple[Section, ...]:
    """Split paragraphs into sentences; drop an opening with no text; title the opening."""
    sections: list[Section] = []
    for index, item in enumerate(raw):
        paragraphs = tuple(
            Paragraph(tuple(Sentence(s) for s in split_sentences(text)))
            for text in item.paragraphs
            if text.strip()
        )
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
