"""Talking books for print-disabled readers: DAISY 2.02 and EPUB 3 with Media Overlays.

Both are built from the rendered :class:`~audioessay.model.Episode` alone: its chapters and
the very cues that time the WebVTT transcript, so text, audio and navigation can never
disagree (one source of truth). The episode's MP3 is the books' audio.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Chapter, Cue, Episode
from ..pages import heading_depths


@dataclass(frozen=True)
class Clip:
    """A piece of text and the stretch of the MP3 where it is spoken."""

    id: str
    text: str
    start: float
    end: float


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
    headed = [Chapter(c.title, c.level, c.start, c.end, heading=True) for c in episode.chapters]
    depths = [min(6, d) for d in heading_depths(headed)]
    sections = []
    for index, chapter in enumerate(episode.chapters):
        cues = [(n, c) for n, c in enumerate(episode.cues, start=1) if c.chapter == index]
        titles = [(n, c) for n, c in cues if c.paragraph is None]
        heading = _heading_clip(index, chapter, titles)
        paragraphs: dict[int, list[Clip]] = {}
        for n, cue in cues:
            if cue.paragraph is not None:
                paragraphs.setdefault(cue.paragraph, []).append(_clip(n, cue))
        sections.append(
            BookSection(
                number=index + 1,
                title=chapter.title,
                depth=depths[index],
                heading=heading,
                paragraphs=tuple(tuple(p) for p in paragraphs.values()),
                start=chapter.start,
                end=chapter.end,
            )
        )
    return sections


def _clip(number: int, cue: Cue, text: str | None = None) -> Clip:
    return Clip(f"s{number}", cue.text if text is None else text, cue.start, cue.end)


def _heading_clip(index: int, chapter: Chapter, titles: list[tuple[int, Cue]]) -> Clip:
    """The heading shows the title as written; its clip spans the spoken title (or intro)."""
    if not titles:  # nothing spoken for it (cannot happen for a rendered essay)
        return Clip(f"h{index + 1}", chapter.title, chapter.start, chapter.start)
    first, last = titles[0][1], titles[-1][1]
    return Clip(f"h{index + 1}", chapter.title, first.start, last.end)


def clock(seconds: float, full: bool = False) -> str:
    """A SMIL clock value to the millisecond: ``0:09:21.245``, or the full ``00:09:21.245``."""
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return (
        f"{hours:02d}:{minutes:02d}:{secs:02d}.{ms:03d}"
        if full
        else f"{hours}:{minutes:02d}:{secs:02d}.{ms:03d}"
    )
