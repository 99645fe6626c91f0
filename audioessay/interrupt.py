"""Ctrl-C and SIGTERM as a request to stop, answered where stopping is safe.

Python raises ``KeyboardInterrupt`` in the main thread between any two bytecodes. When that
happens inside ``concurrent.futures.wait`` (which holds every future's condition lock while
it registers a waiter), the lock is never released: a narrating thread then waits forever to
mark its next future running, and the main thread waits forever for that thread in
``ThreadPoolExecutor.shutdown``. A render hung that way after Ctrl-C.

So a signal only *asks*: :func:`stop_on_signals` installs handlers that set an event, and
the render checks that event at safe points (every 100 ms while it waits for pieces or
chapters, between any two pieces while it limits or encodes, between any two streams while
it writes), then unwinds with :class:`~audioessay.errors.RenderInterruptedError` through its
``finally`` blocks, which remove every temporary file.

Should a stage not reach a check in time (a long parse, a native call), a watchdog armed by
the first signal removes the temporaries still open and ends the process with status 130
after :data:`GRACE` seconds, so the promise holds at any moment: exit within 2 s, no
partial file under a final name. A second Ctrl-C ends it at once the same way.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from .errors import RenderInterruptedError

GRACE = 1.5
"""Seconds a render has, after the first signal, to stop at one of its checks."""
EXIT_CODE = 130
"""The shell's code for a command ended by Ctrl-C (128 + SIGINT)."""

_cleanups: list[Callable[[], None]] = []
_announced = threading.Lock()


def on_hard_exit(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` (quick, never raising) if the watchdog must end the process."""
    _cleanups.append(cleanup)


class Stop(threading.Event):
    """A render's own stop: set by the render when one of its stages fails (so the others
    stop too), and seen as set when the caller's ``cancel`` is. Setting it never sets the
    caller's event: a failed essay must not read as Ctrl-C to the batch it is part of."""

    def __init__(self, cancel: threading.Event | None = None) -> None:
        super().__init__()
        self.cancel = cancel

    def is_set(self) -> bool:
        return super().is_set() or (self.cancel is not None and self.cancel.is_set())


def check(cancel: threading.Event | None) -> None:
    """Raise :class:`RenderInterruptedError` if ``cancel`` was set."""
    if cancel is not None and cancel.is_set():
        raise RenderInterruptedError


def announce() -> None:
    """Print "Interrupted." on stderr, once per process: the main thread and the watchdog
    may both come to say it."""
    if _announced.acquire(blocking=False):
        with contextlib.suppress(Exception):
            sys.stderr.write("Interrupted.\n")
            sys.stderr.flush()


def hard_exit() -> None:
    """Remove open temporaries, say why, and end the process now with status 130. With
    ``--debug``, every thread's stack is printed first: where the render failed to stop."""
    if logging.getLogger("audioessay").isEnabledFor(logging.DEBUG):
        faulthandler.dump_traceback(all_threads=True)
    for cleanup in _cleanups:
        with contextlib.suppress(Exception):
            cleanup()
    announce()
    os._exit(EXIT_CODE)


_region: threading.Event | None = None
"""The event of the cooperative block running now (:func:`stop_on_signals`), if any."""


def _on_signal(signum: int, frame: FrameType | None) -> None:
    event = _region
    if event is None or event.is_set():  # nothing to unwind, or a second signal: now
        hard_exit()
        return
    event.set()
    watchdog = threading.Timer(GRACE, hard_exit)
    watchdog.daemon = True
    watchdog.start()


def install() -> None:
    """Answer SIGINT and SIGTERM for the whole command: outside a cooperative block the
    process ends at once (its temporaries removed, "Interrupted.", status 130), inside one
    the block is asked to stop. Installed first thing by the ``audioessay`` command, so even
    a signal during its imports gets that one line rather than a traceback."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _on_signal)


@contextlib.contextmanager
def stop_on_signals(cancel: threading.Event | None = None) -> Iterator[threading.Event]:
    """Within the block, SIGINT and SIGTERM set the event yielded (``cancel`` if given)
    instead of raising; the watchdog ends the process if the block has not stopped after
    :data:`GRACE` seconds. Only the main thread can install handlers: elsewhere the event is
    yielded and signals keep their handlers."""
    global _region
    event = cancel or threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    outer, _region = _region, event
    install()
    try:
        yield event
        check(event)  # a signal after the last check still ends in "Interrupted."
    finally:
        _region = outer
        for sig, handler in previous.items():
            signal.signal(sig, handler)
