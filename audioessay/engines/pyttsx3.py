"""The default voice: pyttsx3 driving eSpeak NG, made dependable.

pyttsx3 2.99 on Linux silently writes no file (or a truncated one) for long texts, can
segfault in some call orders, slows down quadratically with text length and prints to stdout.
So this engine speaks sentence-sized pieces (``max_chars``), in a worker process that is
restarted whenever it dies or hangs, and checks that every piece came back as a readable WAV.
The narrator additionally checks each piece's duration against its word count and retries.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import tempfile
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import EngineError
from ._pyttsx3_worker import serve
from .base import Samples, Speech, Voice

_TIMEOUT_BASE = 20.0
"""Seconds a piece may take before the worker is presumed hung (plus one per 20 characters)."""


class Pyttsx3Engine:
    """pyttsx3 in a restartable worker process."""

    name: ClassVar[str] = "pyttsx3"
    max_chars: ClassVar[int] = 200

    def __init__(self, voice: str | None = None, rate: int = 175) -> None:
        self.voice = voice
        self.rate = rate
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="audioessay-pyttsx3-")
        self._count = 0

    # -- worker management -------------------------------------------------------------------

    def _start(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        self._stop()
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        process = ctx.Process(target=serve, args=(child, self.voice, self.rate), daemon=True)
        process.start()
        child.close()
        self._process, self._conn = process, parent
        return parent

    def _stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, ValueError):  # the worker may be gone already
                self._conn.send(None)
            self._conn.close()
        if self._process is not None:
            self._process.join(timeout=2)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._process = self._conn = None

    def _request(self, request: tuple[Any, ...], timeout: float) -> Any:
        """Send one request; on a crash, hang or error restart the worker and raise."""
        conn = self._start()
        try:
            conn.send(request)
            if not conn.poll(timeout):
                raise EngineError(f"the pyttsx3 worker did not answer within {timeout:.0f} s")
            status, payload = conn.recv()
        except (EOFError, OSError) as exc:
            self._stop()
            raise EngineError("the pyttsx3 worker process crashed") from exc
        except EngineError:
            self._stop()
            raise
        if status != "ok":
            self._stop()
            raise EngineError(f"pyttsx3 failed: {payload}")
        return payload

    # -- the Engine protocol -----------------------------------------------------------------

    def voices(self) -> list[Voice]:
        """The eSpeak NG voices as pyttsx3 names them."""
        rows = self._request(("voices",), _TIMEOUT_BASE)
        return [Voice(id=i, name=n, languages=tuple(langs), gender=g) for i, n, langs, g in rows]

    def synthesize(self, text: str) -> Speech:
        """Speak one piece through pyttsx3 and read back the WAV it wrote."""
        self._count += 1
        path = Path(self._tmp.name) / f"piece-{self._count}.wav"
        path.unlink(missing_ok=True)
        self._request(("speak", text, str(path)), _TIMEOUT_BASE + len(text) / 20)
        try:
            return read_wav(path)
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop the worker and remove its scratch directory."""
        self._stop()
        self._tmp.cleanup()


def read_wav(path: Path) -> Speech:
    """Read a WAV an engine wrote, as mono float32, or raise if it is missing or invalid."""
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError

    if not path.exists():
        raise EngineError("the voice wrote no audio file")
    try:
        segment = AudioSegment.from_wav(str(path))
    except (CouldntDecodeError, EOFError, ValueError, OSError) as exc:
        raise EngineError(f"the voice wrote an invalid WAV file ({exc})") from exc
    if segment.channels != 1:
        segment = segment.set_channels(1)
    width = segment.sample_width
    dtype = {1: "u1", 2: "<i2", 4: "<i4"}[width]
    raw = np.frombuffer(bytes(segment.raw_data), dtype=np.dtype(dtype))
    offset, scale = (128.0, 128.0) if width == 1 else (0.0, float(2 ** (8 * width - 1)))
    samples: Samples = ((raw.astype(np.float32) - offset) / scale).astype(np.float32)
    return Speech(samples, segment.frame_rate)
