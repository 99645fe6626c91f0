"""Mastering: the episode's gain, then every chapter limited and encoded once, and cached.

The gain is settled on the voice's calibration passage before the first chapter is encoded
(why: :mod:`audioessay.loudness`), so each chapter is encoded as soon as it has been spoken,
while later chapters are still being synthesized. A chapter's encoded stream is cached under a
key made of its audio, the gain, the ceiling and the encoder: an unchanged chapter is never
encoded again, and an edit re-encodes only the chapters whose audio it changed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .assemble import ChapterLayout, Repair, lay_out_passage
from .cache import Cache, content_key
from .config import Pauses, RenderSettings
from .encode import ENCODER_GAIN_DB, count_frames, encode_stream, encoder_identity
from .engines import Samples
from .errors import AudioEssayError, RenderInterruptedError
from .loudness import LoudnessMeter, calibrated_gain, correction
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


def calibration_layout(utterances: tuple[Utterance, ...], pauses: Pauses) -> ChapterLayout:
    """The spoken calibration passage laid out in its paragraphs."""
    paragraphs, start = [], 0
    for paragraph in CALIBRATION:
        paragraphs.append(utterances[start : start + len(paragraph)])
        start += len(paragraph)
    return lay_out_passage(tuple(paragraphs), pauses)


@dataclass(frozen=True)
class EncodedChapter:
    """A chapter's cached MP3 stream, how many frames it holds, and its loudness."""

    key: str
    frames: int
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
    ) -> None:
        self.settings = settings
        self.cache = cache
        self.repair = repair
        self.cancel = cancel
        self.work = work
        self.target = settings.loudness - ENCODER_GAIN_DB
        """The loudness LAME is given; LAME's own gain brings the file to the setting."""
        self._calibration_key = content_key(
            "calibration", voicing.identity, voicing.voice, voicing.rate, CALIBRATION,
            self.target, settings.true_peak,
        )  # fmt: skip

    def cached_gain(self) -> float | None:
        """The voice's gain from an earlier render, or None if it must be calibrated."""
        blob = self.cache.load_blob("loudness", self._calibration_key)
        return float(np.frombuffer(blob, dtype="<f8")[0]) if blob is not None else None

    def calibrate(self, passage: ChapterLayout) -> float:
        """The episode gain, from the calibration passage as this voice speaks it."""
        with self.work.timed("dsp"):
            audio = list(self._audio(passage))
            gain = calibrated_gain(audio, self.target, self.settings.true_peak, SAMPLE_RATE)
        self.cache.store_blob("loudness", self._calibration_key, np.float64(gain).tobytes())
        return gain

    def encode(self, layout: ChapterLayout, gain: float) -> EncodedChapter:
        """The chapter limited and encoded at ``gain``: from the cache when nothing changed."""
        settings = self.settings
        key = content_key(
            "stream", layout.key, gain, settings.true_peak, encoder_identity(settings.bitrate)
        )
        stream = self.cache.load_blob("chapters", key)
        steps = self.cache.load_blob("loudness", key)
        if stream is None or steps is None:
            meter = LoudnessMeter(SAMPLE_RATE)
            stream = encode_stream(
                self._audio(layout),
                settings.bitrate,
                SAMPLE_RATE,
                gain_db=gain,
                ceiling_db=settings.true_peak,
                meter=meter,
                work=self.work,
            )
            self.work.count("encoded")
            steps = meter.steps.astype("<f8").tobytes()
            self.cache.store_blob("chapters", key, stream)
            self.cache.store_blob("loudness", key, steps)
        return EncodedChapter(key, count_frames(stream), np.frombuffer(steps, dtype="<f8"))

    def correction(self, chapters: list[EncodedChapter], gain: float) -> float | None:
        """A new gain if the essay, as encoded, missed the target (see :mod:`.loudness`)."""
        return correction([c.steps for c in chapters], self.target, gain, SAMPLE_RATE)

    def loudness(self, chapters: list[EncodedChapter]) -> float:
        """The episode's integrated loudness as encoded (LUFS, after LAME's own gain)."""
        from .loudness import integrated_loudness

        return integrated_loudness([c.steps for c in chapters], SAMPLE_RATE // 10) + ENCODER_GAIN_DB

    def stream(self, chapter: EncodedChapter) -> bytes:
        """An encoded chapter stream, which must still be in the cache."""
        stream = self.cache.load_blob("chapters", chapter.key)
        if stream is None:
            raise AudioEssayError(
                "an encoded chapter vanished from the cache during the render; render again"
            )
        return stream

    def _audio(self, layout: ChapterLayout) -> Iterator[Samples | int]:
        """The layout's pieces and silences, stopping between two once the render is cancelled."""
        for item in layout.audio(self.cache, self.repair):
            if self.cancel.is_set():
                raise RenderInterruptedError
            yield item
