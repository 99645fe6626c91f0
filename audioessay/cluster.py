"""A batch on a Dask cluster: chapters and essays are tasks, and the shared cache carries
their results, so the bytes are those of a local render.

    client: plan every essay (parse, script, check, claim its slug)
          → a task per voice: its gain (from the cache, or calibrated once)
          → a task per chapter: narrate it and encode its MP3 blocks into the cache
          → a task per essay, after its chapters: pipeline.finish, which finds every piece and
            stream in the cache, writes the outputs atomically, then the record
          → each essay reported as it is done; the CLI rebuilds the feed once, at the end

Workers need the voice, and the cache and output folder at the same paths as the client (a
shared filesystem); never the essay's folder, since they are sent its plan. Dask runs a task
again elsewhere when its worker dies (three times at most, then the essay fails with
:class:`ClusterError`); a task killed midway leaves no entry and no output under a final name,
only a temporary that the next writer of that name removes (:mod:`.files`). Ctrl-C cancels
this run's tasks, queued or running, and leaves the cluster up for its other clients.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import distributed
from distributed.scheduler import KilledWorker

from .batch import Outcome, Reporter
from .config import RenderSettings
from .errors import AudioEssayError, ClusterError, RenderInterruptedError, SettingsError
from .model import BatchProgress, Episode
from .pipeline import Done, Plan, claimed, finish, plan, settle_gain, speak_chapter
from .work import Work

log = logging.getLogger(__name__)

RETRIES = 3
"""Times a task is run again when its worker dies (Dask's ``allowed-failures``)."""


def local_workers(address: str) -> int | None:
    """N of ``local:N`` (every core for ``local``), or None for a scheduler's address."""
    if address == "local":
        import os

        return os.cpu_count() or 1
    name, _, count = address.partition(":")
    if name != "local":
        return None
    if not count.isdigit() or not 1 <= int(count) <= 256:
        raise SettingsError(f"--cluster local:N takes a number of workers from 1 to 256, not {count!r}")
    return int(count)


class DaskExecutor:
    """Renders a batch on the Dask scheduler at ``address``, or on a ``LocalCluster`` of
    single-threaded worker processes that it starts (``local`` or ``local:N``) and stops."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.workers = local_workers(address)
        self._stack = ExitStack()
        self.client: distributed.Client | None = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _connect(self) -> distributed.Client:
        """The client, connected (and the local cluster started) when first needed: a batch
        whose essays are all up to date never starts one."""
        if self.client is not None:
            return self.client
        # Dask logs every connection at INFO, and the waits of finished tasks' cancel flags
        # as errors when a local cluster closes: the batch reports what matters itself.
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            logging.getLogger("distributed").setLevel(logging.CRITICAL)
        try:
            if self.workers is not None:
                cluster = self._stack.enter_context(
                    distributed.LocalCluster(
                        n_workers=self.workers, threads_per_worker=1, processes=True,
                        dashboard_address=None, worker_dashboard_address=None,
                        silence_logs=logging.CRITICAL,
                    )
                )  # fmt: skip
                self.client = self._stack.enter_context(distributed.Client(cluster))
            else:
                self.client = self._stack.enter_context(
                    distributed.Client(self.address, timeout="10s")
                )
        except (OSError, TimeoutError, ValueError) as exc:
            self._stack.close()
            raise ClusterError(
                f"cannot reach the Dask scheduler at {self.address} ({exc}); --cluster takes "
                "tcp://HOST:PORT of a running scheduler, or local[:N] to start one here"
            ) from None
        return self.client

    def render(
        self,
        sources: Sequence[Path],
        settings: RenderSettings,
        explicit: frozenset[str],
        reporter: Reporter,
    ) -> Iterator[Outcome]:
        """Plan every essay here, then run its chapters and its finish on the cluster."""
        if settings.cache_dir is None:
            raise SettingsError(
                "--cluster needs a cache every worker can reach: give --cache-dir on a "
                "shared filesystem (not --no-cache)"
            )
        with ExitStack() as claims:  # each essay's slug, held by this client until the end
            essays: list[_Essay] = []
            for index, source in enumerate(sources):
                work = Work()
                try:
                    planned = plan(source, settings, explicit, work)
                    if isinstance(planned, Episode):
                        yield Outcome(index, source, planned)
                        continue
                    # A task on a worker uses the one thread Dask gives it.
                    planned = replace(planned, settings=replace(planned.settings, jobs=1))
                    out_dir, slug, wanted = claims.enter_context(claimed(planned))
                except AudioEssayError as exc:
                    yield Outcome(index, source, error=exc)
                    continue
                essays.append(_Essay(index, source, planned, out_dir, slug, wanted, work.summary()))
            if essays:
                yield from _Run(self._connect(), essays, reporter).outcomes()


@dataclass(frozen=True)
class _Essay:
    """An essay planned and holding its slug, ready to be sent."""

    index: int
    source: Path
    plan: Plan
    out_dir: Path
    slug: str
    wanted: str
    work: dict[str, float | int]
    """What planning it took here (parsing)."""


class _Run:
    """One batch's tasks on the cluster, followed until every essay is done."""

    def __init__(self, client: distributed.Client, essays: list[_Essay], reporter: Reporter):
        self.client = client
        self.essays = essays
        self.reporter = reporter
        self.id = uuid.uuid4().hex[:12]
        self.chapters: dict[str, int] = {}
        """Each chapter task's key, to the essay it belongs to."""
        self.finals: dict[str, _Essay] = {}
        self.futures: list[distributed.Future[Any]] = []
        self._busy_at = 0.0
        self._busy = 0

    def _submit(self, func: Any, *args: Any, key: str, priority: int = 0) -> distributed.Future[Any]:
        future = self.client.submit(func, *args, key=f"audioessay-{key}-{self.id}", pure=False,
                                    priority=priority, retries=0)  # fmt: skip
        self.futures.append(future)
        return future

    def submit(self) -> None:
        """Every essay's tasks: chapters in the batch's order, each essay's finish ahead of
        chapters still waiting, so that essays are completed (and reported) as they go."""
        gains: dict[tuple[object, ...], distributed.Future[Any]] = {}
        for essay in self.essays:
            held = self._submit(_hold, essay.plan, key=f"plan-{essay.index}")
            settings = essay.plan.settings
            voice = (essay.plan.voicing, settings.loudness, settings.true_peak)
            first = voice not in gains
            if first:  # one calibration per voice, which its chapters wait for
                gains[voice] = self._submit(_gain, held, self.id, key=f"gain-{len(gains)}")
            chapters = [
                self._submit(_chapter, held, n, gains[voice], self.id, key=f"chapter-{essay.index}-{n}")
                for n in range(len(essay.plan.script.sections))
            ]
            self.chapters.update((str(future.key), essay.index) for future in chapters)
            # The calibration's work counts in the first essay of its voice, as it does locally.
            done = [gains[voice], *chapters] if first else chapters
            final = self._submit(
                _finish, held, essay.out_dir, essay.slug, essay.wanted, self.id, done,
                key=f"essay-{essay.index}", priority=1,
            )  # fmt: skip
            self.finals[str(final.key)] = essay

    def outcomes(self) -> Iterator[Outcome]:
        """Each essay as it is done; Ctrl-C cancels every task of the run."""
        done_essays = done_chapters = 0
        audio = 0.0
        try:
            self.submit()
            self._report(0, 0, 0.0, force=True)
            for future in distributed.as_completed(self.futures):
                key = str(future.key)
                if key in self.chapters:
                    if future.status == "finished":
                        done_chapters += 1
                        audio += future.result().audio
                elif key in self.finals:
                    done_essays += 1
                    yield self._outcome(future, self.finals[key])
                self._report(done_essays, done_chapters, audio)
        except BaseException:
            self.cancel()
            raise

    def _outcome(self, future: distributed.Future[Any], essay: _Essay) -> Outcome:
        if future.status == "finished":
            episode: Episode = future.result()
            return Outcome(essay.index, essay.source, _summed(episode, [essay.work]))
        error = future.exception()
        if isinstance(error, AudioEssayError):
            return Outcome(essay.index, essay.source, error=error)
        if isinstance(error, KilledWorker):
            return Outcome(essay.index, essay.source, error=ClusterError(
                f"the cluster's workers died {RETRIES + 1} times running this essay's tasks "
                "(out of memory?); nothing of it was written"))  # fmt: skip
        assert error is not None
        raise error  # a bug, shown as one wherever it ran

    def _report(self, essays: int, chapters: int, audio: float, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._busy_at > 1.0:  # (asking the scheduler at most once a second)
            self._busy_at = now
            mine = f"-{self.id}"
            processing = self.client.processing()
            self._busy = sum(any(str(key).endswith(mine) for key in keys)
                             for keys in processing.values())  # fmt: skip
        self.reporter.batch(
            BatchProgress(essays, len(self.essays), chapters, len(self.chapters), audio, self._busy)
        )

    def cancel(self) -> None:
        """Stop this run's tasks: queued ones are cancelled, running ones see the event and
        stop between two pieces (nothing partial is left under a final name)."""
        try:
            distributed.Event(_cancel_event(self.id), client=self.client).set()
            self.client.cancel(self.futures, force=True)
        except Exception:  # the scheduler may be gone already; nothing more can be done
            log.debug("cancelling the run's tasks failed", exc_info=True)


def _cancel_event(run: str) -> str:
    return f"audioessay-cancel-{run}"


@contextmanager
def _cancellable(run: str) -> Iterator[threading.Event]:
    """A cancel flag for a task, set when the client cancels the run."""
    cancel, finished = threading.Event(), threading.Event()
    event = distributed.Event(_cancel_event(run), client=distributed.get_client())

    def watch() -> None:
        while not finished.is_set():
            try:
                if event.wait(timeout=1):
                    cancel.set()
                    return
            except Exception:  # the scheduler is gone: Dask will stop this worker anyway
                return

    watcher = threading.Thread(target=watch, name="audioessay-cancel", daemon=True)
    watcher.start()
    try:
        yield cancel
    except RenderInterruptedError:  # (a KeyboardInterrupt would stop the worker itself)
        raise ClusterError("cancelled by its client") from None
    finally:
        finished.set()


# -- the tasks: module-level functions, found on the workers by name ---------------------------


def _hold(planned: Plan) -> Plan:
    """The plan, kept once on the cluster for its tasks (and computed again from the
    scheduler's copy should its worker die)."""
    return planned


def _gain(planned: Plan, run: str) -> Done:
    with _cancellable(run) as cancel:
        return settle_gain(planned, cancel)


def _chapter(planned: Plan, index: int, gain: Done, run: str) -> Done:
    with _cancellable(run) as cancel:
        return speak_chapter(planned, index, gain.gain, cancel)


def _finish(
    planned: Plan, out_dir: Path, slug: str, wanted: str, run: str, before: list[Done]
) -> Episode:
    with _cancellable(run) as cancel:
        episode = finish(planned, out_dir, slug, wanted, cancel=cancel)
    # What its chapter tasks (and its voice's calibration) did is the essay's work too.
    return _summed(episode, [task.work for task in before])


def _summed(episode: Episode, others: list[dict[str, float | int]]) -> Episode:
    """The episode, with the work of other tasks added to its own."""
    work = dict(episode.work)
    for other in others:
        for name, value in other.items():
            work[name] = round(work.get(name, 0) + value, 3)
    return replace(episode, work=work)
