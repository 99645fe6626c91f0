"""What a render did: seconds in each stage and counts of the work done.

Stages overlap (chapters are encoded while later ones are spoken), so a stage's seconds are
summed over the threads that ran it: they show where the time goes, and ``scripts/bench``
prints them so that a regression shows which stage it is in. The counts (pieces synthesized,
distinct blocks in the episode, blocks encoded) are what the tests assert on; they never assert times.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

STAGES = ("parse", "synthesis", "dsp", "encode", "write")


class Work:
    """Thread-safe totals for one render."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.counts: dict[str, int] = {"synthesized": 0, "retried": 0, "blocks": 0, "encoded": 0}

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Add the time spent in the block to ``stage``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] = self.counts.get(what, 0) + n

    def summary(self) -> dict[str, float | int]:
        """Seconds per stage (``<stage>_s``) and the counts, for ``render --json``."""
        with self._lock:
            return {
                **{f"{stage}_s": round(sec, 3) for stage, sec in self.seconds.items()},
                **self.counts,
            }
