"""Sentences to audio through an engine: split, speak, verify, retry, trim, resample.

Every piece an engine returns is checked before it is used: its length must be plausible for
its word count. A piece that fails is spoken again; one that fails three times stops the render
with an error naming the sentence. No text is ever dropped silently.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from math import gcd

import numpy as np
from scipy.signal import resample_poly

from .engines import Engine, Samples, Speech
from .errors import EngineError
from .model import Essay, Section

log = logging.getLogger(__name__)

SAMPLE_RATE = 44100
"""The episode's sample rate; every piece is brought to it."""
ATTEMPTS = 3
_SILENCE_THRESHOLD = 10 ** (-50 / 20)
_TRIM_MARGIN = int(0.010 * SAMPLE_RATE)
"""Audio kept beyond the first and last audible sample, so soft consonants are not clipped."""
_CLAUSE_BREAK = re.compile(r"(?<=[,;:—–])\s+|\s+(?=[—–]\s)")

ProgressCallback = Callable[[int, int, float], None]
"""Called as ``(utterances done, utterances in all, seconds of audio so far)``."""


@dataclass(frozen=True)
class Piece:
    """A stretch of text spoken in one engine call, and its trimmed audio at 44.1 kHz."""

    text: str
    samples: Samples


@dataclass(frozen=True)
class Utterance:
    """A sentence or a title as spoken: one piece, or several for an over-long sentence."""

    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class NarratedSection:
    """A section's heading and paragraphs as audio."""

    section: Section
    heading: Utterance | None
    paragraphs: tuple[tuple[Utterance, ...], ...]


@dataclass(frozen=True)
class Narration:
    """The whole essay as audio pieces, before any pause is placed."""

    intro: Utterance
    sections: tuple[NarratedSection, ...]


def intro_text(essay: Essay) -> str:
    """What the episode opens with: its title and, when known, its author."""
    text = as_sentence(essay.metadata.title)
    if essay.metadata.author:
        text += f" By {as_sentence(essay.metadata.author)}"
    return text


def as_sentence(text: str) -> str:
    """Give a title a final full stop so the voice ends it as a statement."""
    text = text.strip()
    return text if not text or text[-1] in ".!?…" else text + "."


def split_for_voice(text: str, max_chars: int) -> list[str]:
    """Cut a sentence into pieces of at most ``max_chars``: at clauses, else between words."""
    if len(text) <= max_chars:
        return [text]
    words: list[str] = []
    for clause in _CLAUSE_BREAK.split(text):
        if len(clause) <= max_chars:
            words.append(clause)
            continue
        for word in clause.split():
            words.extend(word[i : i + max_chars] for i in range(0, len(word), max_chars))
    pieces: list[str] = []
    for unit in words:
        if pieces and len(pieces[-1]) + 1 + len(unit) <= max_chars and not _ends_clause(pieces[-1]):
            pieces[-1] += " " + unit
        else:
            pieces.append(unit)
    return pieces


def _ends_clause(piece: str) -> bool:
    """Clauses are kept as separate pieces when they fit, so breaks fall at punctuation."""
    return False if len(piece) < 40 else piece[-1] in ",;:—–"


def is_speakable(text: str) -> bool:
    """True if the text has a letter, digit or symbol to say (not just punctuation)."""
    return any(unicodedata.category(c)[0] in "LNS" for c in text)


def plausible(text: str, speech: Speech, rate: int) -> str | None:
    """Why ``speech`` cannot be the whole of ``text``, or None if its length is believable."""
    words = max(1, len(text.split()))
    expected = words * 60 / rate
    if speech.duration < max(0.05, 0.25 * expected):
        return (
            f"{speech.duration:.2f} s of audio for {words} words (expected about {expected:.1f} s)"
        )
    if speech.duration > 6 * expected + 0.2 * len(text) + 5:
        return f"{speech.duration:.1f} s of audio for {words} words is far too long"
    return None


def trim_silence(samples: Samples) -> Samples:
    """Drop leading and trailing silence, keeping a 10 ms margin around the audible part."""
    loud = np.flatnonzero(np.abs(samples) > _SILENCE_THRESHOLD)
    if len(loud) == 0:
        return samples[:0]
    start = max(0, int(loud[0]) - _TRIM_MARGIN)
    end = min(len(samples), int(loud[-1]) + 1 + _TRIM_MARGIN)
    return samples[start:end]


def to_episode_rate(speech: Speech) -> Samples:
    """Resample to 44.1 kHz with a polyphase filter (exact 2x for eSpeak's 22.05 kHz)."""
    if speech.sample_rate == SAMPLE_RATE:
        return speech.samples.astype(np.float32, copy=False)
    g = gcd(SAMPLE_RATE, speech.sample_rate)
    out = resample_poly(speech.samples, SAMPLE_RATE // g, speech.sample_rate // g)
    return np.asarray(out, dtype=np.float32)


class Narrator:
    """Speaks utterances with one engine, verifying and retrying every piece."""

    def __init__(self, engine: Engine, rate: int) -> None:
        self.engine = engine
        self.rate = rate

    def speak(self, text: str) -> Utterance:
        """The audio of one sentence or title."""
        pieces = [
            Piece(part, self._speak_piece(part))
            for part in split_for_voice(text, self.engine.max_chars)
            if is_speakable(part)
        ]
        return Utterance(tuple(p for p in pieces if len(p.samples)))

    def _speak_piece(self, text: str) -> Samples:
        reason = ""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                speech = self.engine.synthesize(text)
            except EngineError as exc:
                reason = str(exc)
            else:
                problem = plausible(text, speech, self.rate)
                if problem is None:
                    return trim_silence(to_episode_rate(speech))
                reason = problem
            log.warning("attempt %d of %d failed: %s", attempt, ATTEMPTS, reason)
        shown = text if len(text) <= 120 else text[:117] + "..."
        raise EngineError(
            f"the {self.engine.name} voice failed {ATTEMPTS} times on the sentence "
            f"“{shown}”: {reason}"
        )


def narrate(
    essay: Essay, engine: Engine, rate: int, progress: ProgressCallback | None = None
) -> Narration:
    """Speak the whole essay: the intro, every heading and every sentence."""
    narrator = Narrator(engine, rate)
    total = 1 + sum(
        int(s.spoken_title) + sum(len(p.sentences) for p in s.paragraphs) for s in essay.sections
    )
    done = 0
    audio = 0.0

    def step(utterance: Utterance) -> Utterance:
        nonlocal done, audio
        done += 1
        audio += sum(len(p.samples) for p in utterance.pieces) / SAMPLE_RATE
        if progress is not None:
            progress(done, total, audio)
        return utterance

    intro = step(narrator.speak(intro_text(essay)))
    sections = []
    for section in essay.sections:
        heading = step(narrator.speak(as_sentence(section.title))) if section.spoken_title else None
        paragraphs = tuple(
            tuple(step(narrator.speak(s.text)) for s in paragraph.sentences)
            for paragraph in section.paragraphs
        )
        sections.append(NarratedSection(section, heading, paragraphs))
    return Narration(intro, tuple(sections))
