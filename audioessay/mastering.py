"""Mastering: the episode's gain, then every block limited and encoded once, and cached.

The gain is settled on the voice's calibration passage before the first chapter is encoded
(why: :mod:`audioessay.loudness`), so each chapter's blocks are encoded as soon as it is spoken,
while later chapters are still being synthesized. Each block (an utterance and its pause, see
:mod:`audioessay.assemble`) is encoded as a stream of its own and cached under a key made of
its audio, the gain, the ceiling and the encoder, beside its frame count and loudness: an
unchanged block is never encoded again, and an edited sentence re-encodes that sentence alone.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .assemble import Block, ChapterLayout, Repair, lay_out_passage
from .cache import Cache, content_key
from .config import Pauses, RenderSettings
from .engines import Samples
from .errors import AudioEssayError
from .formats import AudioFormat, Timing
from .interrupt import check
from .loudness import LoudnessMeter, calibrated_gain, correction, integrated_loudness
from .narrate import SAMPLE_RATE, Utterance, Voicing
from .work import Work

CALIBRATION: tuple[tuple[str, ...], ...] = (
    (
        "Every voice has a level of its own, and this passage is here to find it.",
        "It is spoken once, measured, and never heard by anyone.",
        "On a grey morning in March, the ferry left the harbour twelve minutes late.",
        "Nobody seemed to mind; the gulls followed it out past the lighthouse, quarrelling.",
    ),
    (
        "Why should a sentence that asks a question sound any louder than one that answers it?",
        "Numbers matter too: one hundred and forty-two, nineteen eighty-four, and seven.",
        "She said the word quietly, then again, as if she were testing the floor of a bridge.",
        "The library closes at six, but the reading room stays open until the lamps go out.",
    ),
)
"""The calibration passage (our own words), in paragraphs laid out with the essay's pauses:
statements, a question, figures and clauses, so its loudness is the voice's typical loudness
rather than that of one kind of sentence."""
CALIBRATION_LINES = tuple(line for paragraph in CALIBRATION for line in paragraph)


def calibration_layout(
    utterances: tuple[Utterance, ...], pauses: Pauses, timing: Timing
) -> ChapterLayout:
    """The spoken calibration passage laid out in its paragraphs."""
    paragraphs, start = [], 0
    for paragraph in CALIBRATION:
        paragraphs.append(utterances[start : start + len(paragraph)])
        start += len(paragraph)
    return lay_out_passage(tuple(paragraphs), pauses, timing)


_FACTS = struct.Struct("<I")
"""A block's ``facts`` entry: its frame count, then its loudness steps as float64."""


@dataclass(frozen=True)
class EncodedChapter:
    """A chapter's cached block streams, how many frames each holds, and its loudness."""

    keys: tuple[str, ...]
    frames: tuple[int, ...]
    steps: npt.NDArray[np.float64]
    """100 ms loudness steps of exactly what LAME was given (after gain and limiter)."""


class Mastering:
    """The loudness and encoding of one render's chapters, through the cache."""

    def __init__(
        self,
        settings: RenderSettings,
        voicing: Voicing,
        cache: Cache,
        repair: Repair,
        cancel: threading.Event,
        work: Work,
        audio: AudioFormat,
    ) -> None:
        self.settings = settings
        self.audio = audio
        self.cache = cache
        self.repair = repair
        self.cancel = cancel
        self.work = work
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self.target = settings.loudness - audio.gain_db
        """The loudness the encoder is given; its own gain brings the file to the setting."""
        self.ceiling = settings.true_peak - audio.headroom_db
        """The true-peak ceiling the encoder is given: lower by what its codec overshoots."""
        self._calibration_key = content_key(
            "calibration", voicing.identity, voicing.voice, voicing.rate, CALIBRATION,
            self.target, self.ceiling,
        )  # fmt: skip

    def cached_gain(self) -> float | None:
        """The voice's gain from an earlier render, or None if it must be calibrated."""
        blob = self.cache.load_blob("loudness", self._calibration_key)
        return float(np.frombuffer(blob, dtype="<f8")[0]) if blob is not None else None

    def calibrate(self, passage: ChapterLayout) -> float:
        """The episode gain, from the calibration passage as this voice speaks it."""
        with self.work.timed("dsp"):
            audio = list(self._audio(passage))
            gain = calibrated_gain(audio, self.target, self.ceiling, SAMPLE_RATE)
        self.cache.store_blob("loudness", self._calibration_key, np.float64(gain).tobytes())
        return gain

    def encode(self, layout: ChapterLayout, gain: float) -> EncodedChapter:
        """The chapter's blocks limited and encoded at ``gain``; from the cache when unchanged."""
        identity = (gain, self.ceiling, self.audio.identity(self.audio.bitrate(self.settings)))
        keys, frames, steps = [], [], []
        for block in layout.blocks:
            key = content_key("stream", block.key, *identity)
            with self._claim(key):  # a block two chapters share is encoded once, not twice
                facts = self.cache.load_blob("facts", key)
                if facts is None or self.cache.load_blob("streams", key) is None:  # checksummed
                    facts = self._encode(block, key, gain)
            keys.append(key)
            frames.append(_FACTS.unpack_from(facts)[0])
            steps.append(np.frombuffer(facts, dtype="<f8", offset=_FACTS.size))
        return EncodedChapter(tuple(keys), tuple(frames), np.concatenate(steps))

    def _claim(self, key: str) -> threading.Lock:
        """The lock of one stream key, so that two threads never encode the same block."""
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())

    def _encode(self, block: Block, key: str, gain: float) -> bytes:
        """Limit, measure and encode one block; cache its stream and its facts."""
        meter = LoudnessMeter(SAMPLE_RATE)
        stream = self.audio.encode(
            self._audio(block),
            self.audio.bitrate(self.settings),
            SAMPLE_RATE,
            gain_db=gain,
            ceiling_db=self.ceiling,
            meter=meter,
            work=self.work,
        )
        self.work.count("encoded")
        frames, timing = self.audio.frames(stream), self.audio.timing
        if frames * timing.frame != block.length + timing.joint:
            raise AudioEssayError(
                f"the {self.audio.name} encoder wrote {frames} frames for {block.length} "
                "samples, not what its timing says: the encoder's delay has changed"
            )
        facts = _FACTS.pack(frames) + meter.steps.astype("<f8").tobytes()
        self.cache.store_blob("streams", key, stream)
        self.cache.store_blob("facts", key, facts)
        return facts

    def correction(self, chapters: list[EncodedChapter], gain: float) -> float | None:
        """A new gain if the essay, as encoded, missed the target (see :mod:`.loudness`)."""
        return correction([c.steps for c in chapters], self.target, gain, SAMPLE_RATE)

    def loudness(self, chapters: list[EncodedChapter]) -> float:
        """The episode's integrated loudness as encoded (LUFS, after LAME's own gain)."""
        steps = [c.steps for c in chapters]
        return integrated_loudness(steps, SAMPLE_RATE // 10) + self.audio.gain_db

    def streams(self, chapter: EncodedChapter) -> Iterator[bytes]:
        """A chapter's encoded block streams, which must still be in the cache."""
        for key in chapter.keys:
            check(self.cancel)
            stream = self.cache.load_blob("streams", key)
            if stream is None:
                raise AudioEssayError(
                    "an encoded stream vanished from the cache during the render; render again"
                )
            yield stream

    def _audio(self, layout: ChapterLayout | Block) -> Iterator[Samples | int]:
        """The pieces and silences, stopping between two once the render is cancelled."""
        for item in layout.audio(self.cache, self.repair):
            check(self.cancel)
            yield item
