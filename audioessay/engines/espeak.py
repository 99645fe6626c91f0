"""eSpeak NG called directly through its library, in synchronous mode.

The library is a process-wide singleton that is not thread-safe, so each engine instance runs
it in a worker process of its own (forking a fresh child per piece, like pyttsx3): parallel
jobs get parallel voices.
"""

from __future__ import annotations

import wave
from typing import ClassVar

from ._espeak_lib import espeak_identity
from ._process import ProcessEngine
from ._worker import in_child
from .base import WordMark

DEFAULT_VOICE = "gmw/en-US"


class EspeakEngine(ProcessEngine):
    """eSpeak NG without pyttsx3: faster, and reliable for long texts."""

    name: ClassVar[str] = "espeak"
    max_chars: ClassVar[int] = 400
    phonemes: ClassVar[str | None] = "espeak"
    speaker: ClassVar[str] = "audioessay.engines.espeak:EspeakSpeaker"

    @property
    def identity(self) -> str:
        """eSpeak NG's library version."""
        return f"espeak {espeak_identity()}"


# -- in the worker process ------------------------------------------------------------


class EspeakSpeaker:
    """eSpeak NG's library in synchronous mode, initialised once and forked per piece."""

    def __init__(self, voice: str | None, rate: int) -> None:
        from ._espeak_lib import EspeakLibrary

        self.library = EspeakLibrary.get()
        self.voice = voice or DEFAULT_VOICE
        self.rate = rate
        self.library.select(self.voice, rate)  # before forking: every child starts with it

    def voices(self) -> list[tuple[str, str, list[str], str | None]]:
        return [(v.id, v.name, list(v.languages), v.gender) for v in self.library.voices()]

    def speak(self, text: str, path: str) -> tuple[WordMark, ...]:
        words: tuple[WordMark, ...] = in_child(lambda: self._speak(text, path))
        return words

    def _speak(self, text: str, path: str) -> tuple[WordMark, ...]:
        pcm, words = self.library.synthesize_pcm(text, self.voice, self.rate)
        with wave.open(path, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.library.sample_rate)
            out.writeframes(pcm)
        return words
