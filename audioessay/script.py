"""The narration script: every line of the episode, as written and as it will be spoken.

Narration speaks exactly the ``spoken`` side of this script, and ``audioessay script`` prints
it, so what a writer proofs is what the voice says. Transcripts show the ``written`` side.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .model import Essay, Section
from .speech import SpeechOptions, speakable


@dataclass(frozen=True)
class Line:
    """One sentence or title."""

    written: str
    """As in the essay: what transcripts show."""
    spoken: str
    """After normalisation and the lexicon: what the voice is given."""


@dataclass(frozen=True)
class ScriptSection:
    """A section's spoken heading (None for the opening) and its paragraphs of lines."""

    section: Section
    heading: Line | None
    paragraphs: tuple[tuple[Line, ...], ...]


@dataclass(frozen=True)
class Script:
    """The whole episode: the spoken title and author, then every section."""

    intro: Line
    sections: tuple[ScriptSection, ...]
    options: SpeechOptions = field(default_factory=SpeechOptions)
    """The rules it was spoken with: word times need a written word's spoken form."""

    def said_as(self, written: str) -> str:
        """How a written word (or run of words) on its own is said."""
        return speakable(written, self.options)

    def lines(self) -> Iterator[Line]:
        """Every line in the order it is spoken."""
        yield self.intro
        for section in self.sections:
            if section.heading is not None:
                yield section.heading
            for paragraph in section.paragraphs:
                yield from paragraph


def as_sentence(text: str) -> str:
    """Give a title a final full stop so the voice ends it as a statement."""
    text = text.strip()
    return text if not text or text[-1] in ".!?…" else text + "."


def intro_text(essay: Essay) -> str:
    """What the episode opens with: its title and, when known, its author."""
    text = as_sentence(essay.metadata.title)
    if essay.metadata.author:
        text += f" By {as_sentence(essay.metadata.author)}"
    return text


def write_script(essay: Essay, options: SpeechOptions) -> Script:
    """The script of ``essay``: titles read as headings, sentences as prose."""

    def line(text: str, heading: bool = False) -> Line:
        return Line(text, speakable(text, options, heading=heading))

    title = line(as_sentence(essay.metadata.title), heading=True)
    intro = title
    if essay.metadata.author:
        author = speakable(as_sentence(essay.metadata.author), options)
        intro = Line(intro_text(essay), f"{title.spoken} By {author}")
    return Script(
        intro,
        tuple(
            ScriptSection(
                section,
                line(as_sentence(section.title), heading=True) if section.spoken_title else None,
                tuple(
                    tuple(
                        line(as_sentence(s.text), heading=True) if p.heading else line(s.text)
                        for s in p.sentences
                    )
                    for p in section.paragraphs
                ),
            )
            for section in essay.sections
        ),
        options,
    )
