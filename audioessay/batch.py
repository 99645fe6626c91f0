"""Many essays in one command. Where they are rendered is an :class:`Executor`:

    sources → executor.render: each essay planned, rendered, reported as an Outcome
            → the CLI prints each, then the summary; the feed is rebuilt once, afterwards

:class:`InProcess` renders one essay after another in this process, each on ``jobs`` threads.
:class:`~audioessay.cluster.DaskExecutor` sends chapters and essays to a Dask cluster, through
the shared cache. Both give the same bytes: a cluster's essay is finished by the very
:func:`.pipeline.finish` a local render ends with.

Which executor: ``--cluster``, else ``$AUDIOESSAY_CLUSTER``, else ``[cluster] address`` in the
user's own ``config.toml`` (never a folder's settings), else in-process (and Dask is never
imported).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .config import RenderSettings
from .errors import AudioEssayError, SettingsError
from .model import BatchProgress, Episode, Progress

CLUSTER_ENV = "AUDIOESSAY_CLUSTER"


@dataclass(frozen=True)
class Outcome:
    """One essay of the batch: its episode, or why it failed."""

    index: int
    """Its place among the sources (outcomes may arrive in another order)."""
    source: Path
    episode: Episode | None = None
    error: AudioEssayError | None = None


class Reporter(Protocol):
    """Whoever shows progress (the CLI): per essay in-process, for the whole batch on a
    cluster."""

    def for_source(self, name: str) -> Callable[[Progress], None] | None: ...

    def batch(self, progress: BatchProgress) -> None: ...


class Executor(Protocol):
    """Renders a batch of essays and reports each as it is done. Used as a context manager:
    leaving it releases what it holds (a cluster it started, its connection)."""

    def render(
        self,
        sources: Sequence[Path],
        settings: RenderSettings,
        explicit: frozenset[str],
        reporter: Reporter,
        cancel: threading.Event,
    ) -> Iterator[Outcome]:
        """Each essay's outcome as it is done. Setting ``cancel`` (Ctrl-C) stops the batch
        within a fraction of a second with :class:`.RenderInterruptedError`."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class InProcess:
    """One essay after another, here, each on the settings' ``jobs`` threads."""

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def render(
        self,
        sources: Sequence[Path],
        settings: RenderSettings,
        explicit: frozenset[str],
        reporter: Reporter,
        cancel: threading.Event,
    ) -> Iterator[Outcome]:
        from .freshness import recorded
        from .interrupt import check

        for index, source in enumerate(sources):
            check(cancel)
            try:
                episode = recorded(source, settings, explicit)
                if episode is None:  # the pipeline is imported only when there is work to do
                    from .pipeline import render

                    progress = reporter.for_source(source.name)
                    episode = render(source, settings, explicit, progress, cancel)
            except AudioEssayError as exc:
                yield Outcome(index, source, error=exc)
                continue
            yield Outcome(index, source, episode)


def cluster_address(given: str | None) -> str | None:
    """The cluster to render on: the flag, else the environment, else ``[cluster] address``
    in the user's own ``config.toml``; None for in-process. Never a folder's
    ``audioessay.toml``: essays from someone else must not choose where they are sent (and
    with them, through Dask's pickles, code to run here)."""
    if given:
        return given
    if os.environ.get(CLUSTER_ENV):
        return os.environ[CLUSTER_ENV]
    from .config import USER_CONFIG, cluster_setting, config_dir
    from .files import read_toml

    path = config_dir() / USER_CONFIG
    if not path.is_file():
        return None
    return cluster_setting(read_toml(path).get("cluster", {}), path)


def open_executor(address: str | None) -> AbstractContextManager[Executor]:
    """The executor for ``address``: in-process for None, else a Dask cluster
    (``tcp://host:port`` of a running scheduler, or ``local`` / ``local:N`` to start one)."""
    if address is None:
        return InProcess()
    try:
        from .cluster import DaskExecutor
    except ImportError as exc:
        raise SettingsError(
            f"--cluster needs Dask ({exc.name} is not installed): pip install 'audioessay[cluster]'"
        ) from None
    return DaskExecutor(address)
