"""Audio pieces and pauses laid out on one timeline; chapter and cue positions fall out of it.

Each chapter is laid out on its own (it is encoded as its own MP3 stream), as a list of cached
pieces and silences in samples. Nothing here holds audio: a chapter's samples are read from
the cache a piece at a time when it is measured or encoded, so memory does not grow with the
length of the essay. Positions are kept in samples and only turned into seconds once the
encoder has said how many frames each chapter really took.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

from .cache import Cache, content_key
from .config import Pauses
from .engines import Samples
from .errors import AudioEssayError
from .narrate import SAMPLE_RATE, NarratedSection, Piece, Utterance

Segment = Piece | int
"""A cached piece, or a silence given as its length in samples."""
Repair = Callable[[Piece], Samples]
"""Speaks a piece again (and caches it) when its cached audio turns out to be damaged."""


@dataclass(frozen=True)
class SampleCue:
    """A cue in samples from the start of its chapter's audio."""

    start: int
    end: int
    text: str
    paragraph: int | None = None
    """Paragraph index within the chapter; None for a spoken title."""


@dataclass(frozen=True)
class ChapterLayout:
    """One chapter's audio as a list of segments, and the cues inside it."""

    title: str
    level: int
    segments: tuple[Segment, ...]
    cues: tuple[SampleCue, ...]
    heading: bool = True
    """Whether the chapter's title is spoken (not for the opening, which the intro names)."""

    @property
    def length(self) -> int:
        """Length in samples."""
        return sum(s if isinstance(s, int) else s.length for s in self.segments)

    @cached_property
    def key(self) -> str:
        """Content key of the chapter's audio: its pieces and silences, in order."""
        return content_key("chapter", [s if isinstance(s, int) else s.key for s in self.segments])

    def audio(self, cache: Cache, repair: Repair) -> Iterator[Samples | int]:
        """The chapter's pieces (as samples) and silences (as lengths), in order.

        A piece found damaged in the cache is spoken again by ``repair``; since voices are
        deterministic it must come back exactly as long as before.
        """
        for segment in self.segments:
            if isinstance(segment, int):
                yield segment
                continue
            samples = cache.load_piece(segment.key)
            if samples is None:
                samples = repair(segment)
            if len(samples) != segment.length:
                raise AudioEssayError(
                    f"the audio of “{segment.text[:60]}” changed length during the render; "
                    "render again"
                )
            yield samples


class _ChapterBuilder:
    """Places utterances one after another, with the pause asked for before each."""

    def __init__(self, pauses: Pauses) -> None:
        self.pauses = pauses
        self.segments: list[Segment] = []
        self.cues: list[SampleCue] = []
        self.position = 0

    def add(self, utterance: Utterance, pause_before: float, paragraph: int | None = None) -> None:
        for index, piece in enumerate(utterance.pieces):
            gap = pause_before if index == 0 else self.pauses.clause
            if self.position:
                self._silence(gap)
            start = self.position
            self.segments.append(piece)
            self.position += piece.length
            text = utterance.cue_text(index)
            self.cues.append(SampleCue(start, self.position, text, paragraph))

    def _silence(self, seconds: float) -> None:
        samples = round(seconds * SAMPLE_RATE)
        if samples:
            self.segments.append(samples)
            self.position += samples

    def finish(self, title: str, level: int, trailing: float, heading: bool) -> ChapterLayout:
        self._silence(trailing)
        return ChapterLayout(title, level, tuple(self.segments), tuple(self.cues), heading)


def lay_out(narrated: NarratedSection, pauses: Pauses) -> ChapterLayout:
    """A section's chapter: intro (first only), heading, paragraphs, the pause before the next."""
    builder = _ChapterBuilder(pauses)
    pause = 0.0
    if narrated.intro is not None:
        builder.add(narrated.intro, 0.0)
        pause = pauses.title
    if narrated.heading is not None:
        builder.add(narrated.heading, pause)
        pause = pauses.title
    for p_index, paragraph in enumerate(narrated.paragraphs):
        for s_index, utterance in enumerate(paragraph):
            if s_index:
                pause = pauses.sentence
            elif p_index:
                pause = pauses.paragraph
            builder.add(utterance, pause, p_index)
    trailing = pauses.paragraph if narrated.last else pauses.chapter
    section = narrated.section
    return builder.finish(section.title, section.level, trailing, narrated.heading is not None)


def lay_out_passage(
    paragraphs: tuple[tuple[Utterance, ...], ...], pauses: Pauses
) -> ChapterLayout:
    """Paragraphs of utterances with the essay's own pauses: the calibration passage."""
    builder = _ChapterBuilder(pauses)
    for p_index, paragraph in enumerate(paragraphs):
        for s_index, utterance in enumerate(paragraph):
            pause = pauses.sentence if s_index else pauses.paragraph
            builder.add(utterance, pause, p_index)
    return builder.finish("", 1, pauses.paragraph, False)
