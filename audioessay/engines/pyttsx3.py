"""The default voice: pyttsx3 driving eSpeak NG, made dependable.

pyttsx3 2.99 on Linux silently writes no file (or a truncated one) for long texts, can
segfault in some call orders, slows down quadratically with text length and prints to stdout.
So this engine speaks sentence-sized pieces (``max_chars``), each in a fresh child of a worker
process (``_worker``), checks that pyttsx3 wrote every sample eSpeak NG produced, and the
narrator checks each piece's length against its word count and retries.
"""

from __future__ import annotations

import threading
import time
import wave
from typing import Any, ClassVar

from ._espeak_lib import espeak_identity
from ._process import ProcessEngine
from ._worker import PIECE_TIMEOUT, in_child
from .base import WordMark


class Pyttsx3Engine(ProcessEngine):
    """pyttsx3 in a restartable worker process, one fresh child per piece."""

    name: ClassVar[str] = "pyttsx3"
    max_chars: ClassVar[int] = 200
    phonemes: ClassVar[str | None] = "espeak"
    speaker: ClassVar[str] = "audioessay.engines.pyttsx3:Pyttsx3Speaker"
    verified: ClassVar[bool] = True
    """Each piece is compared with eSpeak NG's own rendering (``Pyttsx3Speaker.speak``)."""

    @property
    def identity(self) -> str:
        """pyttsx3's version and the eSpeak NG library it drives."""
        from importlib.metadata import version

        return f"pyttsx3 {version('pyttsx3')} {espeak_identity()}"


# -- in the worker process ------------------------------------------------------------


def _accept_phonemes() -> None:
    """Make pyttsx3's eSpeak NG driver read ``[[...]]`` as phonemes, as the CLI does.

    pyttsx3 calls ``espeak_Synth`` without the ``espeakPHONEMES`` flag, so a lexicon entry
    given as phonemes would be read out as punctuation. Its driver looks ``Synth`` up on its
    ``_espeak`` module at each call; this wraps it (once, in this worker process only).
    """
    from pyttsx3.drivers import _espeak

    if getattr(_espeak.Synth, "audioessay_phonemes", False):
        return
    original = _espeak.Synth

    def synth(*args: Any, flags: int = 0, **kwargs: Any) -> Any:
        return original(*args, flags=flags | _espeak.PHONEMES, **kwargs)

    synth.audioessay_phonemes = True  # type: ignore[attr-defined]
    _espeak.Synth = synth


class _QuickTicks:
    """Stands in for the ``time`` module inside pyttsx3's eSpeak NG driver, whose event loop
    sleeps 10 ms between polls of a flag its synthesis callback sets: that sleep was a third of
    each piece's time. Polling every millisecond costs no measurable CPU."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(min(seconds, 0.001))


def _never_cancel(driver: Any) -> None:
    """pyttsx3's ``stop``, made a no-op: see :class:`Pyttsx3Speaker` for why."""


def _mend_driver() -> None:
    """Mend pyttsx3's eSpeak NG driver (once, in this worker process): read ``[[...]]`` as
    phonemes, poll every millisecond, and never cancel the utterance it is about to speak."""
    from pyttsx3.drivers import espeak

    _accept_phonemes()
    if not isinstance(espeak.time, _QuickTicks):
        espeak.time = _QuickTicks()
    espeak.EspeakDriver.stop = _never_cancel


class Pyttsx3Speaker:
    """pyttsx3, initialised afresh in each child (its eSpeak NG driver cannot be forked).

    pyttsx3 2.99's eSpeak NG driver runs eSpeak NG asynchronously (``AUDIO_OUTPUT_RETRIEVAL``):
    the audio arrives on eSpeak NG's own thread, and the callback there writes the file when the
    message ends. Two races follow, both seen in traces of the driver's callbacks:

    - ``runAndWait`` does not wait. Its command queue runs ``endLoop`` in the same pump as
      ``save_to_file``, so the loop ends as soon as synthesis starts; a caller that then exits
      loses the file, or part of it. So the child waits for the ``finished-utterance``
      notification, which the callback sends after the file is written.
    - That ``endLoop`` calls the driver's ``stop``, which calls ``espeak_Cancel`` whenever
      ``espeak_IsPlaying`` says so. Just after an utterance eSpeak NG's thread can still report
      itself playing, and the cancel then swallows the *next* utterance: its callback gets only
      the message-end event and writes an empty WAV. That was 15 % of pieces on this machine,
      more when the cores were busy. Nothing here ever stops an utterance, so ``stop`` is made a
      no-op (:func:`_mend_driver`). 300 pieces out of 300 were whole after both changes, with
      both cores busy as well as idle.

    Every piece is still checked against eSpeak NG's own synchronous rendering of the same text
    with the same voice and rate, which pyttsx3's output matches sample for sample when whole.
    That rendering's word events are the piece's word times (pyttsx3 reports words only as
    callbacks, with no sample position).
    """

    def __init__(self, voice: str | None, rate: int) -> None:
        from ._espeak_lib import preload_espeak

        preload_espeak()
        import pyttsx3  # imported here, initialised only in children  # noqa: F401

        self.voice = voice
        self.rate = rate

    def _engine(self) -> Any:
        import pyttsx3

        _mend_driver()
        engine = pyttsx3.init("espeak")
        if self.voice is not None:
            engine.setProperty("voice", self.voice)
        engine.setProperty("rate", self.rate)
        return engine

    def voices(self) -> list[tuple[str, str, list[str], str | None]]:
        return [
            (v.id, v.name, list(v.languages or []), v.gender)
            for v in self._engine().getProperty("voices")
        ]

    def speak(self, text: str, path: str) -> tuple[WordMark, ...]:
        # One child after the other: run side by side they were barely faster (the machine's
        # cores are busy anyway) and two more forked children count twice in peak memory.
        voice = in_child(lambda: self._speak(text, path))
        reference: tuple[int, tuple[WordMark, ...]] = in_child(lambda: self._reference(text, voice))
        expected, words = reference
        try:
            with wave.open(path, "rb") as written:
                frames = written.getnframes()
        except (OSError, EOFError, wave.Error) as exc:
            raise RuntimeError(f"pyttsx3 wrote no readable WAV file ({exc})") from exc
        if frames != expected:
            raise RuntimeError(f"pyttsx3 wrote {frames} samples where eSpeak NG renders {expected}")
        return words

    def _speak(self, text: str, path: str) -> str:
        engine = self._engine()
        finished = threading.Event()
        engine.connect("finished-utterance", lambda **_: finished.set())
        engine.save_to_file(text, path)
        engine.runAndWait()
        if not finished.wait(PIECE_TIMEOUT):
            raise RuntimeError("pyttsx3 never finished the utterance")
        voice: str = engine.getProperty("voice")
        return voice

    def _reference(self, text: str, voice: str) -> tuple[int, tuple[WordMark, ...]]:
        """Length in samples and word events of eSpeak NG's own rendering of the piece."""
        from ._espeak_lib import EspeakLibrary

        pcm, words = EspeakLibrary.get().synthesize_pcm(text, voice, self.rate)
        return len(pcm) // 2, words
