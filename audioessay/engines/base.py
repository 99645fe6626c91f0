"""The engine protocol: what a voice must do for audioessay to narrate with it.

Third-party engines implement this protocol structurally (no base class to import) and
register a factory under the ``audioessay.engines`` entry-point group, exactly as the
built-in engines do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, NamedTuple, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:  # the voice workers import this package, and never need NumPy itself
    import numpy as np
    import numpy.typing as npt

Samples: TypeAlias = "npt.NDArray[np.float32]"
"""Mono audio as float32 in [-1, 1]."""


@dataclass(frozen=True)
class Voice:
    """A voice an engine offers."""

    id: str
    """What ``--voice`` takes."""
    name: str
    languages: tuple[str, ...] = ()
    gender: str | None = None


class WordMark(NamedTuple):
    """Where the voice says a word of its text begins, as the voice itself reports it."""

    offset: int
    """Index of the word's first character in the text the engine was given."""
    length: int
    """The word's length in characters."""
    sample: int
    """The sample at which the word begins (at the speech's rate, or the episode's once the
    narrator has trimmed and resampled it)."""


@dataclass(frozen=True)
class Speech:
    """Audio an engine produced for one piece of text."""

    samples: Samples
    sample_rate: int
    words: tuple[WordMark, ...] | None = None
    """Each word's start as the voice reports it, in text order; None for a voice that does
    not say (the transcript then estimates word times within the sentence)."""
    whole: bool = False
    """The engine checked this audio against the voice's own complete rendering of the text
    (pyttsx3's file against eSpeak NG's synchronous output, sample for sample): it is the
    whole piece by definition, and no estimate from its words may call it short."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate


@runtime_checkable
class Engine(Protocol):
    """A text-to-speech voice.

    An engine is created with a voice id (None for its default) and a rate in words per
    minute. ``synthesize`` speaks one piece of at most ``max_chars`` characters and returns
    its audio, or raises :class:`~audioessay.errors.EngineError`; it never returns a
    truncated result knowingly, and the narrator verifies it anyway.
    """

    name: ClassVar[str]
    """Registry name, as given to ``--engine``."""
    max_chars: ClassVar[int]
    """Longest text the engine reliably speaks in one call; narration splits longer ones."""
    phonemes: ClassVar[str | None]
    """Phonemes it reads inside ``[[...]]``: ``espeak`` (eSpeak NG mnemonics), ``ipa``, or
    None. Lexicon entries given as phonemes reach the engine in this alphabet."""

    @property
    def identity(self) -> str:
        """Name and versions of whatever produces the audio: part of the audio cache key."""
        ...

    def voices(self) -> list[Voice]:
        """Every voice this engine can speak with."""
        ...

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` and return its audio."""
        ...

    def close(self) -> None:
        """Release worker processes or native resources."""
        ...


class EngineFactory(Protocol):
    """What an entry point of the ``audioessay.engines`` group must load: usually the class."""

    name: ClassVar[str]
    phonemes: ClassVar[str | None]

    def __call__(self, voice: str | None, rate: int) -> Engine: ...

    def accepts(self, voice: str) -> bool:
        """Whether ``voice`` names a voice of this engine that :meth:`Engine.voices` cannot
        list (a model file's path, say); asked before the voice list, which may be slow."""
        ...
