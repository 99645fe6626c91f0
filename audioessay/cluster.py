"""A batch on a Dask cluster: chapters and essays are tasks, and the shared cache carries
their results, so the bytes are those of a local render.

    client: plan each essay (parse, script, check, claim its slug), a few ahead of the workers
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

import atexit
import logging
import math
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
from .engines import EnginePool
from .errors import AudioEssayError, ClusterError, RenderInterruptedError, SettingsError
from .files import code_version
from .interrupt import check
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


@contextmanager
def _workers_deaf_to_ctrl_c() -> Iterator[None]:
    """Start the local cluster's worker processes with SIGINT ignored.

    Ctrl-C in a terminal signals the whole foreground process group: a worker that took it
    would print its own traceback, or die starting and fail the cluster's start. The client
    alone answers it, and stops its cluster. An ignored signal survives ``exec`` (a handled
    one does not), and Python leaves an ignored SIGINT alone, so the workers are spawned
    through a two-line shell script that ignores it and then runs this Python. (A signal
    mask would be simpler, but multiprocessing's spawn clears it.)"""
    import multiprocessing
    import shlex
    import sys
    import tempfile
    from multiprocessing import spawn

    with tempfile.TemporaryDirectory(prefix="audioessay-cluster-") as folder:
        python = Path(folder) / "python"
        python.write_text(f'#!/bin/sh\ntrap "" INT\nexec {shlex.quote(sys.executable)} "$@"\n')
        python.chmod(0o700)
        previous = spawn.get_executable()
        multiprocessing.set_executable(str(python))
        try:
            yield
        finally:
            multiprocessing.set_executable(str(previous))


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
                self._stack.enter_context(_workers_deaf_to_ctrl_c())  # (for the cluster's life)
                # Its HTTP server (health and metrics; the dashboard needs bokeh) on a free
                # loopback port: by default it takes 8787, warns on stderr when another
                # cluster holds it, and listens on every interface.
                cluster = self._stack.enter_context(
                    distributed.LocalCluster(
                        n_workers=self.workers, threads_per_worker=1, processes=True,
                        dashboard_address="127.0.0.1:0", worker_dashboard_address=None,
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
        cancel: threading.Event,
    ) -> Iterator[Outcome]:
        """Plan each essay here, claim its slug, and send its chapters and its finish to the
        cluster; a few essays ahead of what the workers are doing, never the whole archive,
        so the client's planning overlaps the narration and neither it nor the scheduler
        holds thousands of plans at once."""
        if settings.cache_dir is None:
            raise SettingsError(
                "--cluster needs a cache every worker can reach: give --cache-dir on a "
                "shared filesystem (not --no-cache)"
            )
        # One order for every client: a slug can wait for another client's render of the same
        # essay, and claims taken in one order never wait for each other in a circle.
        waiting = iter(sorted(range(len(sources)), key=lambda n: str(sources[n].resolve())))
        run: _Run | None = None
        held: dict[int, ExitStack] = {}
        settled = 0  # essays done before the cluster was needed
        with ExitStack() as claims:  # each essay's slug, held by this client until it is done
            try:
                while True:
                    while run is None or run.in_flight < run.window():
                        check(cancel)
                        index = next(waiting, None)
                        if index is None:
                            break
                        held[index] = claims.enter_context(ExitStack())
                        ready = _prepare(index, sources[index], settings, explicit, held[index])
                        if isinstance(ready, Outcome):  # up to date, or refused
                            held.pop(index).close()
                            if run is None:
                                settled += 1
                            else:
                                run.settled += 1
                            yield ready
                            continue
                        if run is None:
                            run = _Run(self._connect(), reporter, len(sources), settled, cancel)
                        run.add(ready)
                    if run is None or not run.in_flight:
                        return
                    outcome = run.next()
                    held.pop(outcome.index).close()  # its files are written: another may go
                    yield outcome
            except BaseException:
                if run is not None:
                    run.cancel()
                raise


def _prepare(
    index: int, source: Path, settings: RenderSettings, explicit: frozenset[str], hold: ExitStack
) -> _Essay | Outcome:
    """The essay planned, with its slug claimed in ``hold``; or its outcome already: up to
    date (from its record), or refused (bad input, settings, output folder)."""
    work = Work()
    try:
        made = plan(source, settings, explicit, work)
        if isinstance(made, Episode):
            return Outcome(index, source, made)
        # A task on a worker uses the one thread Dask gives it.
        made = replace(made, settings=replace(made.settings, jobs=1))
        out_dir, slug, wanted = hold.enter_context(claimed(made))
    except AudioEssayError as exc:
        return Outcome(index, source, error=exc)
    return _Essay(index, source, made, out_dir, slug, wanted, work.summary())


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


@dataclass
class _Sent:
    """An essay on the cluster: its futures, released once it is done."""

    essay: _Essay
    futures: list[distributed.Future[Any]]


class _Run:
    """One batch's tasks on the cluster, essays added as earlier ones finish."""

    def __init__(
        self,
        client: distributed.Client,
        reporter: Reporter,
        essays: int,
        settled: int,
        cancel: threading.Event,
    ) -> None:
        self.client = client
        self.cancel_asked = cancel
        """Set by Ctrl-C: the client stops waiting and cancels the run's tasks."""
        self.reporter = reporter
        self.essays = essays
        """The batch's essays."""
        self.settled = settled
        """Essays done: rendered on the cluster, found up to date or refused here."""
        self.id = uuid.uuid4().hex[:12]
        self.ticket = _Ticket(self.id, code_version())
        self.gains: dict[tuple[object, ...], distributed.Future[Any]] = {}
        """One calibration per voice and target, which every chapter of that voice waits for."""
        self.sent: dict[str, _Sent] = {}
        """Each essay on the cluster, by its finish task's key."""
        self.chapter_of: dict[str, str] = {}
        """Each chapter task's key, to its essay's finish key."""
        self.completed = distributed.as_completed()
        self.chapters = self.chapters_done = 0
        self.audio = 0.0
        self._asked_at = -math.inf
        self._busy = self._threads = 0

    @property
    def in_flight(self) -> int:
        return len(self.sent)

    def window(self) -> int:
        """How many essays may be on the cluster at once: twice its threads, so a worker
        that finishes always finds chapters waiting, and at least four."""
        self._ask()
        return max(4, 2 * self._threads)

    def _submit(self, func: Any, *args: Any, key: str, priority: int = 0) -> distributed.Future[Any]:
        return self.client.submit(func, *args, key=f"audioessay-{key}-{self.id}", pure=False,
                                  priority=priority, retries=0)  # fmt: skip

    def add(self, essay: _Essay) -> None:
        """Send an essay's tasks: its plan, its chapters, then its finish, which runs ahead of
        other essays' chapters still waiting, so that essays are completed as they go."""
        held = self._submit(_hold, essay.plan, key=f"plan-{essay.index}")
        settings = essay.plan.settings
        voice = (essay.plan.voicing, settings.loudness, settings.true_peak)
        first = voice not in self.gains
        if first:
            self.gains[voice] = self._submit(_gain, held, self.ticket, key=f"gain-{len(self.gains)}")
        chapters = [
            self._submit(_chapter, held, n, self.gains[voice], self.ticket,
                         key=f"chapter-{essay.index}-{n}")
            for n in range(len(essay.plan.script.sections))
        ]  # fmt: skip
        # The calibration's work counts in the first essay of its voice, as it does locally.
        done = [self.gains[voice], *chapters] if first else chapters
        final = self._submit(
            _finish, held, essay.out_dir, essay.slug, essay.wanted, self.ticket, done,
            key=f"essay-{essay.index}", priority=1,
        )  # fmt: skip
        self.sent[str(final.key)] = _Sent(essay, [held, *chapters, final])
        self.chapter_of.update((str(future.key), str(final.key)) for future in chapters)
        self.chapters += len(chapters)
        for future in (*chapters, final):
            self.completed.add(future)
        self._report(force=True)

    def next(self) -> Outcome:
        """The next essay done (reporting its chapters meanwhile); its tasks are released."""
        for future in self._finished():
            key = str(future.key)
            if key in self.chapter_of:
                self.chapter_of.pop(key)
                if future.status == "finished":
                    self.chapters_done += 1
                    self.audio += future.result().audio
                self._report()
                continue
            sent = self.sent.pop(key)
            self.settled += 1
            self._report(force=True)
            return self._outcome(future, sent.essay)
        raise AssertionError("as_completed ran dry with essays still on the cluster")

    def _finished(self) -> Iterator[distributed.Future[Any]]:
        """Tasks as they finish, waiting in steps of 100 ms so that Ctrl-C is seen (an
        exception raised inside distributed's own waits would leave its state half-made)."""
        while not self.completed.is_empty():
            check(self.cancel_asked)
            if self.completed.has_ready():
                yield next(self.completed)
            else:
                with self.completed.thread_condition:
                    self.completed.thread_condition.wait(timeout=0.1)

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

    def _ask(self, force: bool = False) -> None:
        """The cluster's threads, and how many of its workers run this batch's tasks now
        (asked of the scheduler at most once a second)."""
        now = time.monotonic()
        if not force and now - self._asked_at < 1.0:
            return
        self._asked_at = now
        info = self.client.scheduler_info()
        self._threads = sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values())
        mine = f"-{self.id}"
        self._busy = sum(any(str(key).endswith(mine) for key in keys)
                         for keys in self.client.processing().values())  # fmt: skip

    def _report(self, force: bool = False) -> None:
        self._ask(force)
        self.reporter.batch(
            BatchProgress(self.settled, self.essays, self.chapters_done, self.chapters,
                          self.audio, self._busy)
        )  # fmt: skip

    def cancel(self) -> None:
        """Stop this run's tasks: queued ones are cancelled, running ones see the event and
        stop between two pieces (nothing partial is left under a final name)."""
        try:
            distributed.Event(_cancel_event(self.id), client=self.client).set()
            futures = [f for sent in self.sent.values() for f in sent.futures]
            self.client.cancel([*futures, *self.gains.values()], force=True)
        except Exception:  # the scheduler may be gone already; nothing more can be done
            log.debug("cancelling the run's tasks failed", exc_info=True)


def _cancel_event(run: str) -> str:
    return f"audioessay-cancel-{run}"


@dataclass(frozen=True)
class _Ticket:
    """What every task of a run carries: the run, whose cancel flag it watches, and the
    client's :func:`.files.code_version`, which the worker's must equal."""

    run: str
    code: str


@contextmanager
def _task(ticket: _Ticket) -> Iterator[threading.Event]:
    """A task's frame: refused on a worker that runs other audioessay code than the client
    (its bytes, and its records, would not be the client's), and a cancel flag that is set
    when the client cancels the run."""
    if code_version() != ticket.code:
        raise ClusterError(
            f"a worker runs other audioessay code ({code_version()}) than this client "
            f"({ticket.code}): install the same audioessay on every worker"
        )
    cancel, finished = threading.Event(), threading.Event()
    event = distributed.Event(_cancel_event(ticket.run), client=distributed.get_client())

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

_VOICES = EnginePool()
"""This worker process's engines, kept from one task to the next (and closed when it exits;
a voice's worker process also ends by itself when this one dies)."""
atexit.register(_VOICES.close)


def _hold(planned: Plan) -> Plan:
    """The plan, kept once on the cluster for its tasks (and computed again from the
    scheduler's copy should its worker die)."""
    return planned


def _gain(planned: Plan, ticket: _Ticket) -> Done:
    with _task(ticket) as cancel:
        return settle_gain(planned, cancel, _VOICES)


def _chapter(planned: Plan, index: int, gain: Done, ticket: _Ticket) -> Done:
    with _task(ticket) as cancel:
        return speak_chapter(planned, index, gain.gain, cancel, _VOICES)


def _finish(
    planned: Plan, out_dir: Path, slug: str, wanted: str, ticket: _Ticket, before: list[Done]
) -> Episode:
    with _task(ticket) as cancel:
        episode = finish(planned, out_dir, slug, wanted, cancel=cancel, voices=_VOICES)
    # What its chapter tasks (and its voice's calibration) did is the essay's work too.
    return _summed(episode, [task.work for task in before])


def _summed(episode: Episode, others: list[dict[str, float | int]]) -> Episode:
    """The episode, with the work of other tasks added to its own."""
    work = dict(episode.work)
    for other in others:
        for name, value in other.items():
            work[name] = round(work.get(name, 0) + value, 3)
    return replace(episode, work=work)
