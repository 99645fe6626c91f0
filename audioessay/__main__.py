"""The ``audioessay`` command (and ``python -m audioessay``).

Ctrl-C is answered before anything else is imported, so that a signal during the command's
start-up ends it with one line and status 130, not an import's traceback: first by the few
lines below, then by :func:`.interrupt.install`, which also removes temporaries.
"""

from __future__ import annotations

import os
import signal


def _starting(signum: int, frame: object) -> None:
    os.write(2, b"Interrupted.\n")
    os._exit(130)


def main() -> None:
    """Console-script entry point."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _starting)
    from .interrupt import install

    install()
    from .cli import main as run

    run()


if __name__ == "__main__":
    main()
