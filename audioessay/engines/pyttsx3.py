"""The default voice: pyttsx3 driving eSpeak NG, made dependable.

pyttsx3 2.99 on Linux silently writes no file (or a truncated one) for long texts, can
segfault in some call orders, slows down quadratically with text length and prints to stdout.
So this engine speaks sentence-sized pieces (``max_chars``), each in a fresh child of a worker
process (``_worker``), checks that pyttsx3 wrote every sample eSpeak NG produced, and the
narrator checks each piece's length against its word count and retries.
"""

from __future__ import annotations

from typing import ClassVar

from ._espeak_lib import espeak_identity
from ._process import ProcessEngine


class Pyttsx3Engine(ProcessEngine):
    """pyttsx3 in a restartable worker process, one fresh child per piece."""

    name: ClassVar[str] = "pyttsx3"
    max_chars: ClassVar[int] = 200
    phonemes: ClassVar[str | None] = "espeak"
    backend: ClassVar[str] = "pyttsx3"

    @property
    def identity(self) -> str:
        """pyttsx3's version and the eSpeak NG library it drives."""
        from importlib.metadata import version

        return f"pyttsx3 {version('pyttsx3')} {espeak_identity()}"
