"""The child process that runs pyttsx3, so its native crashes and chatter stay out of the render.

It is started with the ``spawn`` method (a fresh interpreter, no inherited library state),
points its stdout and stderr at /dev/null (pyttsx3 prints "Audio saved to ..." and eSpeak
writes warnings), and answers requests over a multiprocessing pipe.
"""

from __future__ import annotations

import os
from multiprocessing.connection import Connection
from typing import Any


def serve(conn: Connection, voice: str | None, rate: int) -> None:
    """Answer ``("voices",)`` and ``("speak", text, path)`` requests until ``None`` arrives."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    from ._espeak_lib import preload_espeak

    preload_espeak()
    import pyttsx3

    engine: Any = pyttsx3.init("espeak")
    if voice is not None:
        engine.setProperty("voice", voice)
    engine.setProperty("rate", rate)
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        try:
            if request[0] == "voices":
                conn.send(
                    (
                        "ok",
                        [
                            (v.id, v.name, list(v.languages or []), v.gender)
                            for v in engine.getProperty("voices")
                        ],
                    )
                )
            else:
                _, text, path = request
                engine.save_to_file(text, path)
                engine.runAndWait()
                conn.send(("ok", None))
        except Exception as exc:  # reported to the parent, which decides what to do
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
