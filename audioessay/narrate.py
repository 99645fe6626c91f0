"""Sentences to audio through an engine: split, speak, verify, retry, trim, resample.

Every piece an engine returns is checked before it is used: its length must be plausible for
its word count, unless the engine checked it whole itself (pyttsx3 against eSpeak NG). A piece
that fails is spoken again. Audio that is only short on every attempt is kept with a warning
naming the sentence; a piece no attempt could speak fails the render, once every other piece
has been spoken and cached. No text is ever dropped silently. The voice's word
marks, when it gives them, are trimmed and resampled with the audio and cached with it; each
utterance then knows where its written words begin (:mod:`audioessay.words`).
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from math import gcd
from typing import TypeVar

import numpy as np

from .cache import Cache, StoredPiece, content_key
from .dsp import upsample
from .engines import Engine, Samples, Speech, WordMark
from .errors import EngineError, RenderInterruptedError
from .interrupt import Stop, check
from .model import Section
from .script import Line, Script
from .words import written_starts
from .work import Work

log = logging.getLogger(__name__)

SAMPLE_RATE = 44100
"""The episode's sample rate; every piece is brought to it."""
ATTEMPTS = 5
"""A voice may fail at random, and the narrator cannot tell a piece it will speak next time
from one it never will. pyttsx3 used to lose 15 % of its pieces to a race in its driver (see
``engines.pyttsx3.Pyttsx3Speaker``); since that was mended, none in 600 calls here, idle or
with both cores busy. Five attempts keep a rare failure from stopping a long book; a piece that
fails five times is reported with the sentence named (see :meth:`Narrator.speak_piece`)."""
_SILENCE_THRESHOLD = 10 ** (-50 / 20)
_TRIM_MARGIN = int(0.010 * SAMPLE_RATE)
"""Audio kept beyond the first and last audible sample, so soft consonants are not clipped."""
_CLAUSE_BREAK = re.compile(r"(?<=[,;:—–])\s+|\s+(?=[—–]\s)")

T = TypeVar("T")
ProgressCallback = Callable[[int, int, float], None]
"""Called as ``(pieces done, pieces in all, seconds of audio so far)``."""


@dataclass(frozen=True)
class Piece:
    """A stretch of text spoken in one engine call; its audio lives in the cache."""

    text: str
    key: str
    """Cache key of the trimmed 44.1 kHz audio."""
    length: int
    """Length of that audio in samples."""


@dataclass(frozen=True)
class Utterance:
    """A sentence or a title as spoken: one piece, or several for an over-long sentence."""

    pieces: tuple[Piece, ...]
    shown: tuple[str, ...] = ()
    """The written text for each piece's cue (the whole sentence when it is one piece)."""
    starts: tuple[tuple[int, ...] | None, ...] = ()
    """For each piece, where each written word of its cue begins, in samples of the piece;
    None for a piece whose voice gave no word times."""

    def word_starts(self, index: int) -> tuple[int, ...] | None:
        """Where the written words of piece ``index``'s cue begin, or None if not known."""
        return self.starts[index] if index < len(self.starts) else None

    def cue_text(self, index: int) -> str:
        """What the transcript shows while piece ``index`` is spoken."""
        return self.shown[index] if index < len(self.shown) else self.pieces[index].text


@dataclass(frozen=True)
class NarratedSection:
    """A section's heading and paragraphs as audio, ready to lay out as one chapter."""

    index: int
    section: Section
    intro: Utterance | None
    """The episode's spoken title and author: the first section opens with it."""
    heading: Utterance | None
    paragraphs: tuple[tuple[Utterance, ...], ...]
    last: bool
    """Whether this is the episode's last section (it ends in a shorter pause)."""


@dataclass(frozen=True)
class Prelude:
    """Texts spoken before the essay (the voice's calibration passage), as audio."""

    utterances: tuple[Utterance, ...]


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
    """True if the spoken text has a letter or digit to say.

    Symbols the speech rules read (%, $, &, +) have become words by now; what is left without
    a letter or digit (bars and quote marks of music notation, rows of asterisks) has nothing
    a voice can say, and must never be sent to one: it would come back as silence and fail.
    """
    return any(unicodedata.category(c)[0] in "LN" for c in text)


SECONDS_PER_CHAR = 0.072
"""Seconds a letter or digit takes at 175 words a minute: the median over 400 real pieces of
eSpeak NG (0.073) and piper (0.071)."""
SHORTEST_SHARE = 0.7
"""The least share of the expected length a whole piece can have. Expected is the smaller of
the letter and the word estimates; over those 400 pieces the shortest real one had 0.86 of it
(eSpeak NG) and 0.77 (piper), while a piece missing a third of its audio has about 0.67."""


def spoken_words(text: str) -> int:
    """The words of ``text`` a voice says: tokens with a letter or digit (the bars and marks
    of notation, "|" or "—" alone, are silent and must not count)."""
    return max(1, sum(1 for token in text.split() if any(c.isalnum() for c in token)))


DOUBTFUL_SHARE = 0.5
"""Audio of at least this share of the estimate, but under :data:`SHORTEST_SHARE`, is doubtful
rather than wrong when every attempt gives it: digits and initials, which eSpeak NG reads fast,
measured 0.70 to 0.74 of it (a line of notation, the worst of 15 digit-, symbol- and
abbreviation-heavy texts); less than half is cut short, whatever the text."""


def expected_duration(text: str, rate: int) -> float:
    """Seconds ``text`` should take at ``rate``: the smaller of two estimates, by its letters
    and digits, and by its words (one of them fits every voice; both err on the long side)."""
    words = spoken_words(text)
    letters = sum(1 for c in text if c.isalnum())
    return min(words * 60 / rate, letters * SECONDS_PER_CHAR * 175 / rate) or words * 60 / rate


def plausible(text: str, speech: Speech, rate: int) -> str | None:
    """Why ``speech`` cannot be the whole of ``text``, or None if its length is believable
    (always, for audio the engine has checked whole: :attr:`.Speech.whole`)."""
    if speech.whole:
        return None
    words = spoken_words(text)
    expected = expected_duration(text, rate)
    if speech.duration < max(0.05, SHORTEST_SHARE * expected):
        return (
            f"{speech.duration:.2f} s of audio for {words} words (expected about {expected:.1f} s)"
        )
    if speech.duration > 6 * words * 60 / rate + 0.2 * len(text) + 5:
        return f"{speech.duration:.1f} s of audio for {words} words is far too long"
    return None


def audible(samples: Samples) -> tuple[int, int]:
    """Where the audible part starts and ends, with a 10 ms margin either side."""
    loud = np.flatnonzero(np.abs(samples) > _SILENCE_THRESHOLD)
    if len(loud) == 0:
        return 0, 0
    start = max(0, int(loud[0]) - _TRIM_MARGIN)
    return start, min(len(samples), int(loud[-1]) + 1 + _TRIM_MARGIN)


def trimmed(speech: Speech) -> Speech:
    """The speech at 44.1 kHz without its leading and trailing silence, its word marks moved
    with it (a word the trim would cut into starts at the audio's first or last sample)."""
    samples = to_episode_rate(speech)
    start, end = audible(samples)
    words = None
    if speech.words is not None:
        scale = SAMPLE_RATE / speech.sample_rate
        last = max(0, end - start - 1)
        words = tuple(
            WordMark(w.offset, w.length, min(last, max(0, round(w.sample * scale) - start)))
            for w in speech.words
        )
    return Speech(samples[start:end], SAMPLE_RATE, words, speech.whole)


def to_episode_rate(speech: Speech) -> Samples:
    """Resample to 44.1 kHz: a NumPy polyphase filter for whole factors (eSpeak's 22.05 kHz
    is exactly 2x), SciPy's for any other ratio."""
    if speech.sample_rate == SAMPLE_RATE:
        return speech.samples.astype(np.float32, copy=False)
    if SAMPLE_RATE % speech.sample_rate == 0:
        out = upsample(speech.samples, SAMPLE_RATE // speech.sample_rate)
    else:
        from scipy.signal import resample_poly  # slow to import; only for unusual rates

        g = gcd(SAMPLE_RATE, speech.sample_rate)
        out = resample_poly(speech.samples, SAMPLE_RATE // g, speech.sample_rate // g)
    return np.asarray(out, dtype=np.float32)


class Narrator:
    """Speaks pieces with one engine, verifying and retrying every one."""

    def __init__(
        self,
        engine: Engine,
        rate: int,
        work: Work | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.engine = engine
        self.rate = rate
        self.work = work or Work()
        self.cancel = cancel
        """Once set, no further attempt is made (a closed engine fails at once)."""

    def speak_piece(self, text: str) -> Speech:
        """Trimmed 44.1 kHz audio of one piece and its word marks, or :class:`EngineError`
        after :data:`ATTEMPTS` failures.

        Audio that came back every time, only shorter than the estimate, is doubtful rather
        than wrong: an estimate from letters cannot know every voice on every kind of text
        (eSpeak NG reads a run of digits fast). The longest attempt is kept and reported as
        a warning, and a book of thousands of pieces goes on; the listener is told which
        sentence to check."""
        reason = ""
        doubtful: Speech | None = None
        for attempt in range(1, ATTEMPTS + 1):
            check(self.cancel)
            try:
                with self.work.timed("synthesis"):
                    speech = self.engine.synthesize(text)
            except EngineError as exc:
                reason = str(exc)
            else:
                problem = plausible(text, speech, self.rate)
                if problem is None:
                    self.work.count("synthesized")
                    with self.work.timed("dsp"):
                        return trimmed(speech)
                reason = problem
                share = speech.duration / expected_duration(text, self.rate)
                if DOUBTFUL_SHARE <= share < 1 and (
                    doubtful is None or speech.duration > doubtful.duration
                ):
                    doubtful = speech
            self.work.count("retried")
            log.info("attempt %d of %d failed: %s", attempt, ATTEMPTS, reason)
        shown = text if len(text) <= 120 else text[:117] + "..."
        if doubtful is not None:
            self.work.count("synthesized")
            self.work.count("doubtful")
            log.warning(
                "the %s voice's audio for “%s” is shorter than expected on all %d attempts "
                "(%s); the longest is kept: listen to that sentence", self.engine.name, shown,
                ATTEMPTS, plausible(text, doubtful, self.rate),
            )  # fmt: skip
            with self.work.timed("dsp"):
                return trimmed(doubtful)
        raise EngineError(
            f"the {self.engine.name} voice failed {ATTEMPTS} times on the sentence "
            f"“{shown}”: {reason}"
        )


@dataclass(frozen=True)
class Voicing:
    """Everything that decides how a text sounds, and so the cache key of its audio."""

    identity: str
    """Engine name and versions: a new voice library must not reuse old audio."""
    voice: str | None
    rate: int
    max_chars: int
    """The engine's longest piece; longer sentences are split before speaking."""

    def key(self, text: str) -> str:
        """Cache key of ``text`` spoken this way."""
        return content_key("piece", self.identity, self.voice, self.rate, text)

    def parts(self, text: str) -> list[str]:
        """The pieces ``text`` is spoken in (punctuation-only pieces have nothing to say)."""
        return [p for p in split_for_voice(text, self.max_chars) if is_speakable(p)]


def narrate(
    script: Script,
    voicing: Voicing,
    engines: Callable[[], Engine],
    cache: Cache,
    *,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    work: Work | None = None,
    prelude: Sequence[str] = (),
    sections: Sequence[int] | None = None,
    release: Callable[[Engine], None] | None = None,
) -> Iterator[Prelude | NarratedSection]:
    """Speak the prelude, the intro, every heading and every sentence, reusing cached pieces.

    Yields the :class:`Prelude` and then each section, in order, as soon as all of its pieces
    exist: the caller measures and encodes the first chapters while later ones are still being
    spoken. Pieces missing from the cache are synthesized in script order by ``jobs`` threads,
    each with its own engine from ``engines``; the pyttsx3 engine runs each in a worker
    process of its own. ``sections`` narrates only those sections (by index), so that a
    chapter can be a task of its own on a cluster (:mod:`audioessay.cluster`). Engines that
    spoke every piece asked of them are handed to ``release`` (an :class:`.EnginePool`'s
    ``give``) when it is given; otherwise, and after any failure, they are closed.
    """
    chosen = range(len(script.sections)) if sections is None else sections
    groups: list[list[str]] = [list(prelude)]
    for index in chosen:
        part = script.sections[index]
        lines = [script.intro] if index == 0 else []
        lines += [part.heading] if part.heading is not None else []
        lines += [line for paragraph in part.paragraphs for line in paragraph]
        groups.append([line.spoken for line in lines])
    stored: dict[str, StoredPiece] = {}
    missing: dict[str, str] = {}
    waiting: list[set[str]] = []
    waiters: dict[str, list[int]] = {}
    """The groups each missing piece holds back: a piece spoken touches only those (a
    scan of every group per piece took hours for 10,000 chapters)."""
    for texts in groups:
        keys: set[str] = set()
        for text in texts:
            for part_text in voicing.parts(text):
                key = voicing.key(part_text)
                if key in stored:
                    continue
                if key not in missing:
                    cached = cache.stored_piece(key)
                    if cached is not None:
                        stored[key] = cached
                        continue
                    missing[key] = part_text
                if key not in keys:
                    keys.add(key)
                    waiters.setdefault(key, []).append(len(waiting))
        waiting.append(keys)
    total = len(stored) + len(missing)
    build = _Builder(script, voicing, stored)
    emitted = 0

    def ready() -> Iterator[Prelude | NarratedSection]:
        nonlocal emitted
        while emitted < len(waiting) and not waiting[emitted]:
            if emitted:
                yield build.section(chosen[emitted - 1])
            elif prelude:
                yield build.prelude(prelude)
            emitted += 1

    audio = sum(p.length for p in stored.values())

    def report() -> None:
        if progress is not None:
            progress(len(stored), total, audio / SAMPLE_RATE)

    report()
    yield from ready()
    if missing:
        pieces = _synthesize(
            missing, engines, voicing.rate, cache, jobs, cancel, work or Work(), release
        )
        for key, piece in pieces:
            stored[key] = piece
            audio += piece.length
            for group in waiters.pop(key, ()):
                waiting[group].discard(key)
            report()
            yield from ready()


def _synthesize(
    missing: dict[str, str],
    engines: Callable[[], Engine],
    rate: int,
    cache: Cache,
    jobs: int,
    cancel: threading.Event | None,
    work: Work,
    release: Callable[[Engine], None] | None = None,
) -> Iterator[tuple[str, StoredPiece]]:
    """Speak and store every missing piece with ``jobs`` threads; yield what was stored."""
    local = threading.local()
    created: list[Engine] = []
    lock = threading.Lock()
    stop = Stop(cancel)  # set on a failure here; the caller's own event is only read

    def speak(key: str, text: str) -> tuple[str, StoredPiece | EngineError]:
        if stop.is_set():
            raise RenderInterruptedError
        narrator: Narrator | None = getattr(local, "narrator", None)
        if narrator is None:
            engine = engines()
            with lock:
                created.append(engine)
            narrator = local.narrator = Narrator(engine, rate, work, stop)
        try:
            speech = narrator.speak_piece(text)
        except EngineError as exc:  # the other pieces go on (see below)
            return key, exc
        return key, cache.store_piece(key, speech.samples, SAMPLE_RATE, speech.words)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="narrate")
    futures = [pool.submit(speak, key, text) for key, text in missing.items()]
    whole = False
    failed: list[EngineError] = []
    try:
        # A piece the voice cannot speak does not stop the others: each is cached as it is
        # spoken, so the next render (another voice, a corrected sentence) speaks only what
        # failed. The first failure is raised once every piece has been tried.
        for future in completed(futures, stop):
            key, result = future.result()
            if isinstance(result, EngineError):
                failed.append(result)
            else:
                yield key, result
        whole = True
    except BaseException:
        stop.set()
        raise
    finally:
        for future in futures:
            future.cancel()
        if not whole:  # closed first: that also unblocks threads waiting on a worker process
            with lock:
                _close(created)
        pool.shutdown(wait=True)
        if whole and release is not None:  # every thread is done with its engine
            for engine in created:
                release(engine)
        elif whole:
            _close(created)
    if failed:
        more = f" (and {len(failed) - 1} other sentences)" if len(failed) > 1 else ""
        raise EngineError(
            f"{failed[0]}{more}; every other sentence was spoken and cached, so the next "
            "render speaks only what failed"
        )


def _close(engines: list[Engine]) -> None:
    for engine in engines:
        try:
            engine.close()
        except Exception:  # cleanup must never hide why the render stopped
            log.debug("closing an engine failed", exc_info=True)


def completed(futures: list[Future[T]], cancel: threading.Event) -> Iterator[Future[T]]:
    """Futures as they finish, in a loop that wakes every 100 ms to see a cancellation.

    Each future reports to one queue when it is done, so a finished one costs the same
    however many are still pending (``concurrent.futures.wait`` registers a waiter on every
    pending future on every call: 10,000 chapters took hours of waiting that way)."""
    finished: queue.SimpleQueue[Future[T]] = queue.SimpleQueue()
    for future in futures:
        future.add_done_callback(finished.put)
    for _ in futures:
        while True:
            check(cancel)
            try:
                future = finished.get(timeout=0.1)
            except queue.Empty:
                continue
            break
        check(cancel)
        yield future


def share_words(written: str, parts: list[str]) -> list[str]:
    """Split the written sentence into ``len(parts)`` runs of words, in proportion to the
    spoken parts, so every written word is shown, in order, while its part is spoken."""
    words = written.split()
    counts = [max(1, len(p.split())) for p in parts]
    total = sum(counts)
    shown, start, running = [], 0, 0
    for part, count in zip(parts, counts, strict=True):
        running += count
        end = round(running * len(words) / total)
        shown.append(" ".join(words[start:end]) or part)  # never an empty cue
        start = end
    return shown


class _Builder:
    """Utterances from the lengths of their (now cached) pieces."""

    def __init__(
        self, script: Script, voicing: Voicing, stored: dict[str, StoredPiece]
    ) -> None:
        self.script = script
        self.voicing = voicing
        self.stored = stored

    def utterance(self, spoken: str, written: str) -> Utterance:
        parts = self.voicing.parts(spoken)
        shown = self.voicing.parts(written) if len(parts) > 1 else [written]
        if len(shown) != len(parts):
            shown = share_words(written, parts)
        # The voice's marks stay in the cache's record of each piece: a book's layout holds
        # every piece to the end of the render, and needs only the written words' starts.
        kept = [
            (Piece(part, key, stored.length), text, stored.words)
            for part, text in zip(parts, shown, strict=True)
            for key in [self.voicing.key(part)]
            for stored in [self.stored[key]]
            if stored.length
        ]
        return Utterance(
            tuple(piece for piece, _, _ in kept),
            tuple(text for _, text, _ in kept),
            tuple(self._starts(piece, text, words) for piece, text, words in kept),
        )

    def _starts(
        self, piece: Piece, written: str, words: tuple[WordMark, ...] | None
    ) -> tuple[int, ...] | None:
        if words is None:
            return None
        return written_starts(written, piece.text, words, piece.length, self.script.said_as)

    def line(self, line: Line) -> Utterance:
        return self.utterance(line.spoken, line.written)

    def prelude(self, texts: Sequence[str]) -> Prelude:
        return Prelude(tuple(self.utterance(text, text) for text in texts))

    def section(self, index: int) -> NarratedSection:
        part = self.script.sections[index]
        return NarratedSection(
            index=index,
            section=part.section,
            intro=self.line(self.script.intro) if index == 0 else None,
            heading=self.line(part.heading) if part.heading is not None else None,
            paragraphs=tuple(tuple(self.line(line) for line in p) for p in part.paragraphs),
            last=index == len(self.script.sections) - 1,
        )
