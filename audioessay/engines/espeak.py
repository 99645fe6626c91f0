"""eSpeak NG called directly through its library, in synchronous mode, in this process."""

from __future__ import annotations

from typing import ClassVar

from ._espeak_lib import EspeakLibrary
from .base import Speech, Voice

DEFAULT_VOICE = "gmw/en-US"


class EspeakEngine:
    """eSpeak NG without pyttsx3: faster, and reliable for long texts."""

    name: ClassVar[str] = "espeak"
    max_chars: ClassVar[int] = 400

    def __init__(self, voice: str | None = None, rate: int = 175) -> None:
        self.voice = voice or DEFAULT_VOICE
        self.rate = rate

    def voices(self) -> list[Voice]:
        """Every voice eSpeak NG has installed."""
        return EspeakLibrary.get().voices()

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` with the chosen voice and rate."""
        return EspeakLibrary.get().synthesize(text, self.voice, self.rate)

    def close(self) -> None:
        """The library stays loaded for the life of the process; nothing to release."""
