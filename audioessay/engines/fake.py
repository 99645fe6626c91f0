"""A deterministic engine for tests and dry runs: one square-wave tone per word.

Every word lasts exactly ``round(44100 * 60 / rate)`` samples, with no silence at either end,
so a test can compute every chapter, cue and word time by hand; it reports each word's start,
as eSpeak NG does.
"""

from __future__ import annotations

import re
import zlib
from typing import ClassVar

import numpy as np

from ..errors import EngineError
from .base import Speech, Voice, WordMark

SAMPLE_RATE = 44100
_VOICES = {"fake-low": 110.0, "fake-high": 220.0}


class FakeEngine:
    """Tones instead of speech: fast, exact, and needing nothing installed."""

    name: ClassVar[str] = "fake"
    max_chars: ClassVar[int] = 200
    phonemes: ClassVar[str | None] = None

    def __init__(self, voice: str | None = None, rate: int = 175) -> None:
        self.voice = voice or "fake-low"
        if self.voice not in _VOICES:
            raise EngineError(f"unknown voice {self.voice!r} for engine 'fake'")
        self.rate = rate

    @classmethod
    def accepts(cls, voice: str) -> bool:
        """Only the listed voices."""
        return False

    @property
    def identity(self) -> str:
        """The tone generator's own version."""
        return "fake 1"

    def voices(self) -> list[Voice]:
        """Two voices that differ only in pitch."""
        return [Voice(id=v, name=v.replace("-", " ").title(), languages=("en",)) for v in _VOICES]

    def synthesize(self, text: str) -> Speech:
        """One tone per whitespace-separated word, pitched by the word's checksum."""
        words = list(re.finditer(r"\S+", text))
        per_word = samples_per_word(self.rate)
        base = _VOICES[self.voice]
        out = np.empty(per_word * len(words), dtype=np.float32)
        t = np.arange(per_word)
        for i, word in enumerate(words):
            freq = base * (1 + (zlib.crc32(word.group().encode()) % 12) / 12)
            period = SAMPLE_RATE / freq
            out[i * per_word : (i + 1) * per_word] = np.where((t % period) < period / 2, 0.4, -0.4)
        marks = tuple(
            WordMark(w.start(), len(w.group()), i * per_word) for i, w in enumerate(words)
        )
        return Speech(out, SAMPLE_RATE, marks)

    def close(self) -> None:
        """Nothing to release."""


def samples_per_word(rate: int) -> int:
    """Samples the fake engine gives each word at ``rate`` words per minute."""
    return round(SAMPLE_RATE * 60 / rate)
