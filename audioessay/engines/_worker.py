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
import importlib
import os
import pickle
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol

from .base import WordMark

PIECE_TIMEOUT = 60
"""Seconds a child may take for one piece before it is killed."""


class Speaker(Protocol):
    """What a worker runs: a voice that writes a WAV file for a text, in a process of its own.

    An engine names its speaker by dotted path (``"package.module:Class"``, its ``speaker``
    class attribute), so a third-party engine can run in a worker exactly as the built-ins do.
    ``speak`` is called in the worker; most speakers run the voice in :func:`in_child`. It
    returns where each word begins, when the voice reports it, or None.
    """

    def __init__(self, voice: str | None, rate: int) -> None: ...

    def voices(self) -> list[tuple[str, str, list[str], str | None]]: ...

    def speak(self, text: str, path: str) -> tuple[WordMark, ...] | None: ...


def main(argv: list[str]) -> None:
    """``python -m audioessay.engines._worker FD SPEAKER VOICE RATE``: serve on socket FD."""
    fd, speaker, voice, rate = argv
    serve(Connection(int(fd)), speaker, voice or None, int(rate))


def load_speaker(path: str) -> type[Speaker]:
    """The speaker class at ``"package.module:Class"``."""
    module, _, name = path.partition(":")
    speaker: type[Speaker] = getattr(importlib.import_module(module), name)
    return speaker


def serve(conn: Connection, speaker_path: str, voice: str | None, rate: int) -> None:
    """Answer ``("voices",)`` and ``("speak", text, wav_path)`` until ``None`` arrives."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    speaker = load_speaker(speaker_path)(voice, rate)
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
                conn.send(("ok", speaker.speak(text, path)))
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


if __name__ == "__main__":
    main(sys.argv[1:])
