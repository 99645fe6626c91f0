"""Talking books for print-disabled readers: DAISY 2.02 and EPUB 3 with Media Overlays.

Both are built from the rendered :class:`~audioessay.model.Episode` alone: its chapters and
the very cues that time the WebVTT transcript, so text, audio and navigation can never
disagree (one source of truth). The episode's MP3 is the books' audio.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Chapter, Cue, Episode, NumberedCue, chapter_texts
from ..pages import heading_depths
from ..transcript import word_segments


@dataclass(frozen=True)
class Clip:
    """A piece of text and the stretch of the MP3 where it is spoken."""

    id: str
    text: str
    start: float
    end: float
    words: tuple[tuple[str, float, float], ...] = ()
    """Runs of its words with their times, when the voice timed them: each run is one word,
    with any word that takes no time (a marker the voice does not say) joined to the one
    before, so every run is heard."""


@dataclass(frozen=True)
class BookSection:
    """A chapter: a heading (with its spoken clip) and paragraphs of sentence clips."""

    number: int
    """1-based."""
    title: str
    depth: int
    """Heading level, 1-6, nested without skipping."""
    heading: Clip
    paragraphs: tuple[tuple[Clip, ...], ...]
    start: float
    end: float

    @property
    def clips(self) -> tuple[Clip, ...]:
        """The heading's clip, then every sentence's, in reading order."""
        return (self.heading, *(c for p in self.paragraphs for c in p))


def book_sections(episode: Episode) -> list[BookSection]:
    """The episode as book sections. The opening's heading is the book title, spoken by the
    intro ("Title. By Author."); every other heading is its spoken title."""
    depths = heading_depths(episode.chapters, every_chapter=True)
    sections = []
    for index, (chapter, text) in enumerate(
        zip(episode.chapters, chapter_texts(episode), strict=True)
    ):
        sections.append(
            BookSection(
                number=index + 1,
                title=chapter.title,
                depth=min(6, depths[index]),
                heading=_heading_clip(index, chapter, text.titles),
                paragraphs=tuple(
                    tuple(
                        Clip(f"s{n}", cue.text, cue.start, cue.end, _runs(cue))
                        for n, cue in paragraph
                    )
                    for paragraph in text.paragraphs
                ),
                start=chapter.start,
                end=chapter.end,
            )
        )
    return sections


def _runs(cue: Cue) -> tuple[tuple[str, float, float], ...]:
    """The cue's words, as :attr:`Clip.words` describes them; none if the voice gave no times."""
    if cue.words is None:
        return ()
    runs: list[tuple[str, float, float]] = []
    for start, end, word in word_segments(cue):
        if runs and round(end * 1000) <= round(start * 1000):
            text, first, _ = runs[-1]
            runs[-1] = (f"{text} {word}", first, max(end, runs[-1][2]))
        elif runs and round(runs[-1][2] * 1000) <= round(runs[-1][1] * 1000):
            text, first, _ = runs[-1]  # a silent first word joins the word after it
            runs[-1] = (f"{text} {word}", first, end)
        else:
            runs.append((word, start, end))
    return tuple(runs)


def _heading_clip(index: int, chapter: Chapter, titles: tuple[NumberedCue, ...]) -> Clip:
    """The heading shows the title as written; its clip spans the spoken title (or intro)."""
    if not titles:  # nothing spoken for it (cannot happen for a rendered essay)
        return Clip(f"h{index + 1}", chapter.title, chapter.start, chapter.start)
    first, last = titles[0][1], titles[-1][1]
    return Clip(f"h{index + 1}", chapter.title, first.start, last.end)
