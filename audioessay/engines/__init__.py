"""Engines behind one protocol, found through the ``audioessay.engines`` entry-point group.

The built-in engines (``pyttsx3``, ``espeak``, ``fake``) register through the same entry
points as a third-party engine would, in this project's ``pyproject.toml``.
"""

from __future__ import annotations

import threading
from importlib.metadata import entry_points

from ..errors import EngineError
from .base import Engine, EngineFactory, Samples, Speech, Voice, WordMark

__all__ = [
    "DEFAULT_ENGINE",
    "Engine",
    "EngineFactory",
    "EnginePool",
    "Samples",
    "Speech",
    "Voice",
    "WordMark",
    "create_engine",
    "engine_alphabet",
    "engine_names",
    "list_voices",
    "voice_for_language",
]

DEFAULT_ENGINE = "pyttsx3"
GROUP = "audioessay.engines"


def engine_names() -> list[str]:
    """Names of every registered engine, sorted."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def _factory(name: str) -> EngineFactory:
    """Load the factory registered under ``name`` or raise a user-facing error."""
    matches = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not matches:
        known = ", ".join(engine_names()) or "none"
        raise EngineError(f"unknown engine {name!r}; available engines: {known}")
    try:
        factory: EngineFactory = matches[0].load()
    except Exception as exc:  # a broken plug-in must not crash the CLI with a traceback
        raise EngineError(f"engine {name!r} could not be loaded: {exc}") from exc
    return factory


def create_engine(name: str, voice: str | None = None, rate: int = 175) -> Engine:
    """Create engine ``name`` speaking with ``voice`` at ``rate``, validating the voice."""
    factory = _factory(name)
    if (
        voice is not None
        and not factory.accepts(voice)
        and voice not in {v.id for v in list_voices(name)}
    ):
        raise EngineError(
            f"unknown voice {voice!r} for engine {name!r}; "
            f"run `audioessay voices --engine {name}` to list them"
        )
    return factory(voice=voice, rate=rate)


def engine_alphabet(name: str) -> str | None:
    """The phoneme input engine ``name`` reads inside ``[[...]]`` (None: plain text only)."""
    alphabet = _factory(name).phonemes
    return alphabet if alphabet in ("espeak", "ipa") else None


def voice_for_language(name: str, language: str) -> str | None:
    """The engine's voice for a language tag (``fr``, ``pt-BR``), or None for its default.

    An English essay without a region keeps the default voice. Otherwise the best match wins:
    a voice named after the language (eSpeak's ``roa/fr``), then one that lists the tag first,
    then any that lists it, then one for the primary language.
    """
    tag = language.replace("_", "-").lower()
    primary = tag.split("-", 1)[0]
    if tag == "en":
        return None
    voices = list_voices(name)

    def score(voice: Voice) -> int:
        listed = [lang.lower() for lang in voice.languages]
        if voice.id.lower().rsplit("/", 1)[-1] == tag:
            return 4
        if listed[:1] == [tag] or listed[:1] == [f"{tag}-{tag}"]:
            return 3
        if tag in listed:
            return 2
        return 1 if any(lang.split("-", 1)[0] == primary for lang in listed) else 0

    best = max(voices, key=score, default=None)
    return best.id if best is not None and score(best) > 0 else None


def list_voices(name: str) -> list[Voice]:
    """Every voice engine ``name`` offers."""
    engine = _factory(name)(voice=None, rate=175)
    try:
        return engine.voices()
    finally:
        engine.close()


class EnginePool:
    """Engines kept between uses, by engine, voice and rate, in a process that narrates one
    task after another: a cluster's worker. Creating an engine starts its voice's worker
    process (and, for a named voice, asks it for its voices first), about 0.15 s of a core;
    a batch of 40 essays is 160 chapter tasks, and those starts made the cluster 13 % slower
    than the same batch in one process. Only an engine that finished its work is given back:
    one that failed or was interrupted is closed."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str | None, int], list[Engine]] = {}
        self._lock = threading.Lock()

    def take(self, name: str, voice: str | None, rate: int) -> Engine:
        """An idle engine of this kind, else a new one."""
        with self._lock:
            idle = self._idle.get((name, voice, rate))
            if idle:
                return idle.pop()
        return create_engine(name, voice, rate)

    def give(self, engine: Engine, name: str, voice: str | None, rate: int) -> None:
        """Keep ``engine``, taken as this kind, for the next :meth:`take` of it."""
        with self._lock:
            self._idle.setdefault((name, voice, rate), []).append(engine)

    def close(self) -> None:
        """Close every idle engine."""
        with self._lock:
            idle = [engine for engines in self._idle.values() for engine in engines]
            self._idle.clear()
        for engine in idle:
            engine.close()
