"""The render side of a worker-process engine: start, restart, ask, and read back the WAV.

The worker is a fresh interpreter (``python -m audioessay.engines._worker``) given one end of a
socket pair. Not ``multiprocessing``'s spawn: that starts a resource-tracker process beside
every render (12 MB), and the worker needs nothing from it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import warnings
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, ClassVar

from ..errors import EngineError
from ._worker import PIECE_TIMEOUT
from .base import Samples, Speech, Voice, WordMark


class ProcessEngine:
    """An engine whose voice runs in a restartable worker process (see ``_worker``)."""

    name: ClassVar[str]
    max_chars: ClassVar[int]
    speaker: ClassVar[str]
    """The :class:`~._worker.Speaker` the worker runs, as ``"package.module:Class"``."""
    verified: ClassVar[bool] = False
    """Whether the speaker checks every piece whole before answering (:attr:`Speech.whole`)."""

    def __init__(self, voice: str | None = None, rate: int = 175) -> None:
        self.voice = voice
        self.rate = rate
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix=f"audioessay-{self.name}-")
        self._count = 0
        self._closed = False
        self._asking = 0
        """Requests in flight: a worker busy speaking is killed on close, not waited for."""
        self._lock = threading.Lock()
        """Guards the worker handles: a render's main thread closes engines while narrating
        threads may be restarting them."""

    @classmethod
    def accepts(cls, voice: str) -> bool:
        """Only the voices the library lists."""
        return False

    @property
    def identity(self) -> str:
        raise NotImplementedError

    def _start(self) -> Connection:
        with self._lock:
            if self._closed:
                raise EngineError(f"the {self.name} engine was closed")
            if self._conn is not None and self._process is not None and self._process.poll() is None:
                return self._conn
            old = self._detach()
            ours, theirs = socket.socketpair()
            process = _launch(theirs.fileno(), self.speaker, self.voice, self.rate)
            theirs.close()
            conn: Connection = Connection(ours.detach())
            self._process, self._conn = process, conn
        _shut_down(*old)
        return conn

    def _detach(self) -> tuple[Connection | None, subprocess.Popen[bytes] | None]:
        """Take the worker's handles away (under the lock), to shut them down outside it."""
        old = (self._conn, self._process)
        self._conn = self._process = None
        return old

    def _stop(self) -> None:
        with self._lock:
            old = self._detach()
        _shut_down(*old, patience=0)

    def _request(self, request: tuple[Any, ...]) -> Any:
        """Send one request; on a dead or hung worker restart it and raise."""
        conn = self._start()
        self._asking += 1
        try:
            conn.send(request)
            if not conn.poll(PIECE_TIMEOUT + 30):
                raise EngineError(f"the {self.name} worker did not answer")
            status, payload = conn.recv()
        except (EOFError, OSError, ValueError) as exc:
            self._stop()
            raise EngineError(f"the {self.name} worker process died") from exc
        except EngineError:
            self._stop()
            raise
        finally:
            self._asking -= 1
        if status != "ok":
            raise EngineError(f"{self.name}: {payload}")
        return payload

    def voices(self) -> list[Voice]:
        """The voices as the speaker names them."""
        rows = self._request(("voices",))
        return [Voice(id=i, name=n, languages=tuple(langs), gender=g) for i, n, langs, g in rows]

    def synthesize(self, text: str) -> Speech:
        """Speak one piece in a fresh child of the worker and read back its WAV."""
        self._count += 1
        path = Path(self._tmp.name) / f"piece-{self._count}.wav"
        path.unlink(missing_ok=True)
        try:
            words = self._request(("speak", text, str(path)))
            speech = read_wav(path)
            return Speech(speech.samples, speech.sample_rate, _marks(words), self.verified)
        finally:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop the worker and remove its scratch directory (safe from any thread, twice)."""
        with self._lock:
            self._closed = True
            old = self._detach()
        _shut_down(*old, patience=0 if self._asking else 1)
        self._tmp.cleanup()


def _launch(fd: int, speaker: str, voice: str | None, rate: int) -> subprocess.Popen[bytes]:
    """Start a worker on socket ``fd`` (inherited), with this package importable."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (package_root, os.environ.get("PYTHONPATH")) if p
    )}  # fmt: skip
    command = [sys.executable, "-m", "audioessay.engines._worker", str(fd), speaker,
               voice or "", str(rate)]  # fmt: skip
    # A process group of its own: Ctrl-C in a terminal signals the whole foreground group,
    # and the render alone decides what stops (a worker killed mid-piece would turn the
    # interruption into a voice failure). A worker whose render died reads EOF and exits.
    return subprocess.Popen(
        command, pass_fds=(fd,), env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0,
    )  # fmt: skip


def _shut_down(
    conn: Connection | None, process: subprocess.Popen[bytes] | None, patience: float = 1
) -> None:
    """Ask a worker to stop, and make sure it has: killed, with the child speaking for it,
    after ``patience`` seconds (at once for a worker busy speaking, whose answer nobody
    will read)."""
    if conn is not None:
        with contextlib.suppress(OSError, ValueError):  # the worker may be gone already
            conn.send(None)
        # A narrating thread may be waiting on this socket: shut it down, which wakes that
        # wait at once (closing it alone would not, and killing the worker would not either
        # while the child it forked for the piece still holds the other end).
        with contextlib.suppress(OSError, ValueError), socket.socket(
            fileno=os.dup(conn.fileno())
        ) as endpoint:
            endpoint.shutdown(socket.SHUT_RDWR)
        conn.close()
    if process is not None:
        try:
            process.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)  # the worker and its piece's child
            process.wait()


def _marks(answer: object) -> tuple[WordMark, ...] | None:
    """A speaker's word marks, checked: a plug-in's worker may answer anything."""
    if not isinstance(answer, (tuple, list)):
        return None
    try:
        return tuple(WordMark(int(o), int(n), int(s)) for o, n, s in answer)
    except (TypeError, ValueError):
        return None


def read_wav(path: Path) -> Speech:
    """Read a WAV a voice wrote, as mono float32, or raise if it is missing or invalid.

    Read through pydub, not :mod:`wave` (which writes our own 16-bit cache files): a voice
    may write 8-, 24- or 32-bit samples, stereo, or a WAVE_FORMAT_EXTENSIBLE header. pydub
    reads and converts them all; :mod:`wave` refuses the extensible header before Python 3.12
    and would leave the rest to conversion code of our own."""
    with warnings.catch_warnings():  # pydub warns at import when no ffmpeg binary is on the
        warnings.simplefilter("ignore", RuntimeWarning)  # PATH: it needs none to read a WAV
        from pydub import AudioSegment
        from pydub.exceptions import CouldntDecodeError

    if not path.exists():
        raise EngineError("the voice wrote no audio file")
    try:
        segment = AudioSegment.from_wav(str(path))
    except (CouldntDecodeError, EOFError, ValueError, OSError) as exc:
        raise EngineError(f"the voice wrote an invalid WAV file ({exc})") from exc
    import numpy as np  # (here, so that the voice worker, which imports this package, need not)

    if segment.channels != 1:
        segment = segment.set_channels(1)
    width = segment.sample_width
    dtype = {1: "u1", 2: "<i2", 4: "<i4"}[width]
    raw = np.frombuffer(bytes(segment.raw_data), dtype=np.dtype(dtype))
    offset, scale = (128.0, 128.0) if width == 1 else (0.0, float(2 ** (8 * width - 1)))
    samples: Samples = ((raw.astype(np.float32) - offset) / scale).astype(np.float32)
    return Speech(samples, segment.frame_rate)
