"""Audio pieces and pauses laid out on one timeline; chapter and cue positions fall out of it.

The unit of the timeline is a :class:`Block`: one utterance (a sentence, a title) and the pause
after it, in samples. Each block is encoded as its own MP3 stream and cached under its own key,
so an edited sentence re-encodes that sentence alone; the streams are joined in order, and a
chapter is a run of blocks. Nothing here holds audio: a block's samples are read from the cache
a piece at a time when it is measured or encoded, so memory does not grow with the essay.

Joining two streams adds a fixed number of samples between them when each block is a whole
number of the format's frames (its :class:`~.formats.Timing`; for MP3, one frame of 1152: LAME's
delay of 1105 at the start of the next stream and 47 of padding at the end of this one). So a
block's pause is made that much shorter and rounded to whole frames: every pause is heard
within half a frame (13 ms for MP3) of the one asked for, and positions are still computed from
the frames actually written, never from PCM lengths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property

from .cache import Cache, content_key
from .config import Pauses
from .engines import Samples
from .errors import AudioEssayError
from .formats import Timing
from .narrate import SAMPLE_RATE, NarratedSection, Piece, Utterance

Segment = Piece | int
"""A cached piece, or a silence given as its length in samples."""
Repair = Callable[[Piece], Samples]
"""Speaks a piece again (and caches it) when its cached audio turns out to be damaged."""


@dataclass(frozen=True)
class SampleCue:
    """A cue in samples from the start of its block's audio."""

    start: int
    end: int
    text: str
    paragraph: int | None = None
    """Paragraph index within the chapter; None for a spoken title."""
    words: tuple[int, ...] | None = None
    """Where each word of ``text`` begins, as the voice said; None when it did not say."""


@dataclass(frozen=True)
class Block:
    """One utterance and the pause after it: encoded, and cached, as a stream of its own."""

    segments: tuple[Segment, ...]
    cues: tuple[SampleCue, ...]
    pause: int = 0
    """Samples of the closing pause (the last segment, when it is not 0): what an aligned
    layout of another format sets again for its own frames."""

    @property
    def length(self) -> int:
        """Length in samples: a whole number of frames."""
        return sum(s if isinstance(s, int) else s.length for s in self.segments)

    @cached_property
    def key(self) -> str:
        """Content key of the block's audio: its pieces and silences, in order."""
        return content_key("block", [s if isinstance(s, int) else s.key for s in self.segments])

    def audio(self, cache: Cache, repair: Repair) -> Iterator[Samples | int]:
        """The block's pieces (as samples) and silences (as lengths), in order.

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


@dataclass(frozen=True)
class ChapterLayout:
    """One chapter's audio as a run of blocks."""

    title: str
    level: int
    blocks: tuple[Block, ...]
    heading: bool = True
    """Whether the chapter's title is spoken (not for the opening, which the intro names)."""

    def audio(self, cache: Cache, repair: Repair) -> Iterator[Samples | int]:
        """Every block's audio in order, as one stretch (for measuring, not encoding)."""
        for block in self.blocks:
            yield from block.audio(cache, repair)


class _ChapterBuilder:
    """Places utterances one after another, each in a block that ends with the pause after it."""

    def __init__(self, pauses: Pauses, timing: Timing) -> None:
        self.pauses = pauses
        self.timing = timing
        self.blocks: list[Block] = []
        self.segments: list[Segment] = []
        self.cues: list[SampleCue] = []
        self.position = 0

    def add(self, utterance: Utterance, pause_before: float, paragraph: int | None = None) -> None:
        if self.segments:
            self._close(pause_before)
        for index, piece in enumerate(utterance.pieces):
            if index:
                self._silence(round(self.pauses.clause * SAMPLE_RATE))
            start = self.position
            self.segments.append(piece)
            self.position += piece.length
            starts = utterance.word_starts(index)
            words = None if starts is None else tuple(start + w for w in starts)
            self.cues.append(
                SampleCue(start, self.position, utterance.cue_text(index), paragraph, words)
            )

    def _silence(self, samples: int) -> None:
        if samples:
            self.segments.append(samples)
            self.position += samples

    def _close(self, pause: float) -> None:
        """End the block with ``pause``, less the joint, rounded to whole frames."""
        frame = self.timing.frame
        wanted = self.position + round(pause * SAMPLE_RATE) - self.timing.joint
        length = whole_frames(wanted, self.position, frame)
        pause = length - self.position
        self._silence(pause)
        self.blocks.append(Block(tuple(self.segments), tuple(self.cues), pause))
        self.segments, self.cues, self.position = [], [], 0

    def finish(self, title: str, level: int, trailing: float, heading: bool) -> ChapterLayout:
        if self.segments:
            self._close(trailing)
        return ChapterLayout(title, level, tuple(self.blocks), heading)


def whole_frames(wanted: int, audio: int, frame: int) -> int:
    """The whole number of frames nearest ``wanted`` samples that still holds ``audio``."""
    return max((wanted + frame // 2) // frame, -(-audio // frame)) * frame


class Aligner:
    """Lays out an alternate format's blocks so that each one's audio starts where it does in
    the episode's own format, to within half a frame, all the way through.

    Rounding each pause to whole frames on its own would let two formats drift apart (about
    10 ms every block, as a random walk); instead every block's pause is chosen so that the
    next block starts where the reference's does, from the positions each has reached so far.
    So chapters and cues of every format agree with the MP3's."""

    def __init__(self, reference: Timing, timing: Timing) -> None:
        self.reference, self.timing = reference, timing
        self.ours = 0
        """Where our next block starts, in our decoded samples (before the container's trim)."""
        self.theirs = reference.lead - timing.lead
        """Where it should start, in the same samples."""

    def align(self, layout: ChapterLayout) -> ChapterLayout:
        blocks = []
        for block in layout.blocks:
            audio = block.segments[:-1] if block.pause else block.segments
            heard = block.length - block.pause
            self.theirs += block.length + self.reference.joint
            wanted = self.theirs - self.ours - self.timing.joint
            length = whole_frames(wanted, heard, self.timing.frame)
            pause = length - heard
            segments = (*audio, pause) if pause else audio
            blocks.append(Block(segments, block.cues, pause))
            self.ours += length + self.timing.joint
        return replace(layout, blocks=tuple(blocks))


def lay_out(narrated: NarratedSection, pauses: Pauses, timing: Timing) -> ChapterLayout:
    """A section's chapter: intro (first only), heading, paragraphs, the pause before the next."""
    builder = _ChapterBuilder(pauses, timing)
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
    paragraphs: tuple[tuple[Utterance, ...], ...], pauses: Pauses, timing: Timing
) -> ChapterLayout:
    """Paragraphs of utterances with the essay's own pauses: the calibration passage."""
    builder = _ChapterBuilder(pauses, timing)
    for p_index, paragraph in enumerate(paragraphs):
        for s_index, utterance in enumerate(paragraph):
            pause = pauses.sentence if s_index else pauses.paragraph
            builder.add(utterance, pause, p_index)
    return builder.finish("", 1, pauses.paragraph, False)
