"""Worker processes for engines whose native library is not safe to run in the render itself.

The worker is a fresh interpreter (``_process._launch``). It sends its stdout and stderr to
/dev/null (pyttsx3 prints "Audio saved to ..."; eSpeak NG writes warnings), loads the voice
library, and then *forks a child for every piece*. It imports no NumPy (eSpeak NG's PCM is
written as it comes), so the worker and each child are small. That buys three things:

- every piece is spoken from the same pristine synthesizer state, so the same text always gives
  the same audio (eSpeak NG otherwise carries state from one utterance into the next, which
  would break the content-addressed cache and byte-identical output across ``--jobs``);
- a crash of the native library kills one child, never the worker or the render;
- a hung child is killed by an alarm, and the piece is reported as failed and retried.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
import threading
import time
import wave
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

PIECE_TIMEOUT = 60
"""Seconds a child may take for one piece before it is killed."""


def main(argv: list[str]) -> None:
    """``python -m audioessay.engines._worker FD BACKEND VOICE RATE``: serve on socket FD."""
    fd, backend, voice, rate = argv
    serve(Connection(int(fd)), backend, voice or None, int(rate))


def serve(conn: Connection, backend: str, voice: str | None, rate: int) -> None:
    """Answer ``("voices",)`` and ``("speak", text, wav_path)`` until ``None`` arrives."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    speaker = _BACKENDS[backend](voice, rate)
    gc.freeze()  # what is loaded now stays put, so forked children share its pages
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            if request[0] == "voices":
                conn.send(("ok", in_child(speaker.voices)))
            else:
                _, text, path = request
                speaker.speak(text, path)
                conn.send(("ok", None))
        except Exception as exc:  # reported to the parent, which retries or gives up
            try:
                conn.send(("error", str(exc)))
            except (OSError, ValueError):
                return


def in_child(func: Callable[[], Any]) -> Any:
    """Run ``func`` in a forked child and return its (pickled) result; raise if it failed."""
    return _Child(func).result()


class _Child:
    """A forked child running ``func``; its answer is read, and the child reaped, by
    :meth:`result`."""

    def __init__(self, func: Callable[[], Any]) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            status = 0
            gc.disable()  # a short life: collecting would only copy the parent's pages
            try:
                os.close(read_fd)
                signal.alarm(PIECE_TIMEOUT)
                payload = pickle.dumps(("ok", func()))
            except BaseException as exc:
                payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
                status = 1
            with os.fdopen(write_fd, "wb") as out:
                out.write(payload)
            os._exit(status)
        os.close(write_fd)
        self.pid = pid
        self.source = os.fdopen(read_fd, "rb")

    def result(self) -> Any:
        with self.source:
            data = self.source.read()
        _, wait_status = os.waitpid(self.pid, 0)
        if os.WIFSIGNALED(wait_status):
            name = signal.Signals(os.WTERMSIG(wait_status)).name
            reason = "timed out" if name == "SIGALRM" else f"crashed ({name})"
            raise RuntimeError(f"the voice process {reason}")
        if not data:
            raise RuntimeError("the voice process exited without an answer")
        status, result = pickle.loads(data)
        if status != "ok":
            raise RuntimeError(result)
        return result


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
    """pyttsx3's ``stop``, made a no-op: see :class:`_Pyttsx3Speaker` for why."""


def _mend_driver() -> None:
    """Mend pyttsx3's eSpeak NG driver (once, in this worker process): read ``[[...]]`` as
    phonemes, poll every millisecond, and never cancel the utterance it is about to speak."""
    from pyttsx3.drivers import espeak

    _accept_phonemes()
    if not isinstance(espeak.time, _QuickTicks):
        espeak.time = _QuickTicks()
    espeak.EspeakDriver.stop = _never_cancel


class _Pyttsx3Speaker:
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

    def speak(self, text: str, path: str) -> None:
        # One child after the other: run side by side they were barely faster (the machine's
        # cores are busy anyway) and two more forked children count twice in peak memory.
        voice = in_child(lambda: self._speak(text, path))
        expected = in_child(lambda: self._reference_length(text, voice))
        try:
            with wave.open(path, "rb") as written:
                frames = written.getnframes()
        except (OSError, EOFError, wave.Error) as exc:
            raise RuntimeError(f"pyttsx3 wrote no readable WAV file ({exc})") from exc
        if frames != expected:
            raise RuntimeError(f"pyttsx3 wrote {frames} samples where eSpeak NG renders {expected}")

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

    def _reference_length(self, text: str, voice: str) -> int:
        from ._espeak_lib import EspeakLibrary

        return len(EspeakLibrary.get().synthesize_pcm(text, voice, self.rate)) // 2


class _EspeakSpeaker:
    """eSpeak NG's library in synchronous mode, initialised once and forked per piece."""

    def __init__(self, voice: str | None, rate: int) -> None:
        from ._espeak_lib import EspeakLibrary
        from .espeak import DEFAULT_VOICE

        self.library = EspeakLibrary.get()
        self.voice = voice or DEFAULT_VOICE
        self.rate = rate
        self.library.select(self.voice, rate)  # before forking: every child starts with it

    def voices(self) -> list[tuple[str, str, list[str], str | None]]:
        return [(v.id, v.name, list(v.languages), v.gender) for v in self.library.voices()]

    def speak(self, text: str, path: str) -> None:
        in_child(lambda: self._speak(text, path))

    def _speak(self, text: str, path: str) -> None:
        pcm = self.library.synthesize_pcm(text, self.voice, self.rate)
        with wave.open(path, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.library.sample_rate)
            out.writeframes(pcm)


_BACKENDS: dict[str, Callable[[str | None, int], Any]] = {
    "pyttsx3": _Pyttsx3Speaker,
    "espeak": _EspeakSpeaker,
}


if __name__ == "__main__":
    main(sys.argv[1:])
