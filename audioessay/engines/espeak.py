"""eSpeak NG called directly through its library, in synchronous mode.

The library is a process-wide singleton that is not thread-safe, so each engine instance runs
it in a worker process of its own (forking a fresh child per piece, like pyttsx3): parallel
jobs get parallel voices.
"""

from __future__ import annotations

from typing import ClassVar

from ._espeak_lib import espeak_identity
from ._process import ProcessEngine

DEFAULT_VOICE = "gmw/en-US"


class EspeakEngine(ProcessEngine):
    """eSpeak NG without pyttsx3: faster, and reliable for long texts."""

    name: ClassVar[str] = "espeak"
    max_chars: ClassVar[int] = 400
    phonemes: ClassVar[str | None] = "espeak"
    backend: ClassVar[str] = "espeak"

    @property
    def identity(self) -> str:
        """eSpeak NG's library version."""
        return f"espeak {espeak_identity()}"
