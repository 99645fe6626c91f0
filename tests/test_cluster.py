"""A batch on a real Dask cluster, with the real voice and encoder: the same bytes as a local
render, a worker killed with SIGKILL mid-run, a bad essay, Ctrl-C, and nothing left running.

One local render of six essays (the Emerson corpus, the reference essay, the bundled example)
is the standard every cluster render is compared with, file by file. Each cluster render has
a cold cache of its own, so its workers narrate and encode everything themselves. The
publication time comes from ``SOURCE_DATE_EPOCH`` in every process, workers included.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import psutil
import pytest

from audioessay.mastering import CALIBRATION_LINES

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EPOCH = "1767225600"  # 2026-01-01
BASE_URL = "https://pod.example.org/essays/"
BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    return {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "audioessay", "render", *args]


def _render(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cli(*args), capture_output=True, text=True, env=_env(), timeout=1800)


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (but the lock, which is empty) by its relative name."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != ".audioessay.lock"
    }


def _temporaries(*folders: Path) -> list[Path]:
    return [p for f in folders for p in f.rglob(".*") if p.suffix in (".part", ".tmp")]


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _all_gone(processes: list[psutil.Process], timeout: float = 15) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Six essays rendered in this process: the bytes every cluster render must match."""
    if not (SHARED / "corpus" / "emerson").is_dir():
        pytest.skip(f"{SHARED} is absent: the shared essays are not copied into the repository")
    root = tmp_path_factory.mktemp("cluster")
    essays = root / "essays"
    essays.mkdir()
    for source in [
        *sorted((SHARED / "corpus" / "emerson").glob("*.md")),
        SHARED / "essays" / "leaving-las-vegas.txt",
        REPO / "examples" / "the-listening-room.md",
    ]:
        shutil.copy(source, essays / source.name)
    local = root / "local"
    result = _render(str(essays), "-o", str(local), "--cache-dir", str(root / "cache-local"),
                     "--base-url", BASE_URL, "--json", "-q")  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert len(summary["episodes"]) == 6
    return {"root": root, "essays": essays, "local": local, "summary": summary}


def test_a_local_cluster_of_two_workers_writes_the_same_bytes(archive: dict[str, Any]) -> None:
    root = archive["root"]
    out, cache = root / "local-cluster", root / "cache-local-cluster"
    process = psutil.Popen(
        _cli(str(archive["essays"]), "-o", str(out), "--cache-dir", str(cache),
             "--cluster", "local:2", "--base-url", BASE_URL, "--json"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    seen: dict[int, psutil.Process] = {}
    while process.poll() is None:  # every process the render starts: scheduler, workers, voices
        seen.update((p.pid, p) for p in _descendants(process.pid))
        time.sleep(0.5)
    stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr
    assert _all_gone(list(seen.values())) == []
    assert len(seen) >= 2  # its two workers (and their voices' processes) ran, and are gone
    # The progress covered the whole cluster.
    assert "6/6 essays" in stderr and "workers busy" in stderr
    summary = json.loads(stdout)
    local = archive["summary"]
    assert [e["mp3"].replace(str(out), "") for e in summary["episodes"]] == [
        e["mp3"].replace(str(archive["local"]), "") for e in local["episodes"]
    ]
    # The workers narrated everything themselves (a cold cache of their own).
    assert sum(e["work"]["synthesized"] for e in summary["episodes"]) == sum(
        e["work"]["synthesized"] for e in local["episodes"]
    )
    ours, theirs = _tree(out), _tree(archive["local"])
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if ours[name] != theirs[name]] == []
    # The feed, rebuilt once by the client, has every episode (read by feedparser).
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 6
    assert _temporaries(out, cache) == []


# -- a cluster over TCP: `dask scheduler` and two `dask worker` processes ----------------------


class Cluster:
    """A scheduler and workers on 127.0.0.1, each a process this test started."""

    def __init__(self, root: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.root = root
        self.processes: list[psutil.Popen] = []
        self.seen: dict[int, psutil.Process] = {}
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                     "--no-dashboard")  # fmt: skip
        self.workers: list[psutil.Popen] = []
        from distributed import Client

        self.client = Client(self.address, timeout="30s")
        self.ensure_workers(2)

    def _start(self, *args: str) -> psutil.Popen:
        log = (self.root / f"dask-{len(self.processes)}.log").open("w")
        process = psutil.Popen([str(BIN / "dask"), *args], stdout=log, stderr=subprocess.STDOUT,
                               env=_env())  # fmt: skip
        self.processes.append(process)
        return process

    def ensure_workers(self, count: int) -> None:
        """Start workers until ``count`` are alive, and wait for them to join."""
        self.workers = [w for w in self.workers if w.poll() is None]
        while len(self.workers) < count:
            self.workers.append(
                self._start("worker", self.address, "--nthreads", "1", "--no-nanny",
                            "--no-dashboard", "--local-directory", str(self.root / "dask-space"))
            )  # fmt: skip
        self.client.wait_for_workers(count, timeout=60)
        deadline = time.monotonic() + 60
        while len(self.client.scheduler_info()["workers"]) != count:
            assert time.monotonic() < deadline, "the scheduler still lists a dead worker"
            time.sleep(0.2)

    def watch(self) -> None:
        """Note every process the workers have started so far (their voices)."""
        for process in self.processes:
            self.seen.update((p.pid, p) for p in _descendants(process.pid))

    def busy(self) -> dict[str, list[str]]:
        """Our tasks running now, by worker address."""
        return {w: [str(k) for k in keys if str(k).startswith("audioessay-")]
                for w, keys in self.client.processing().items()}  # fmt: skip

    def pid_of(self, address: str) -> int:
        return int(self.client.run(os.getpid, workers=[address])[address])

    def close(self) -> list[psutil.Process]:
        """Stop the workers, then the scheduler (a worker whose scheduler is closing at the
        same moment can hang reconnecting); return what is still running afterwards."""
        self.watch()
        self.client.close()
        for group in ([p for p in self.processes if p is not self.scheduler], [self.scheduler]):
            for process in group:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            _all_gone(list(group), timeout=30)
        return _all_gone([*self.processes, *self.seen.values()], timeout=10)


@pytest.fixture(scope="module")
def cluster(archive: dict[str, Any]) -> Iterator[Cluster]:
    started = Cluster(archive["root"])
    try:
        yield started
    finally:
        left = started.close()
        for process in left:
            process.kill()
        assert left == [], f"still running after the cluster was stopped: {left}"


def _wait_until(condition: Any, cluster: Cluster, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the cluster never got there"
        cluster.watch()
        time.sleep(0.2)


def test_a_bad_essay_on_the_cluster_fails_alone(archive: dict[str, Any], cluster: Cluster) -> None:
    root = archive["root"]
    batch = root / "with-a-bad-one"
    batch.mkdir()
    shutil.copy(archive["essays"] / "the-listening-room.md", batch)
    (batch / "broken.md").write_bytes(b"\x00\x01binary\xff\xfe" * 50)
    result = _render(str(batch), "-o", str(root / "bad-out"), "--cache-dir",
                     str(root / "cache-bad"), "--cluster", cluster.address, "--json")  # fmt: skip
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "broken.md" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert [Path(e["source"]).name for e in summary["episodes"]] == ["the-listening-room.md"]
    assert [Path(e["source"]).name for e in summary["errors"]] == ["broken.md"]
    expected = archive["local"] / "the-listening-room.mp3"
    assert (root / "bad-out" / "the-listening-room.mp3").read_bytes() == expected.read_bytes()


def test_ctrl_c_cancels_the_runs_tasks_and_leaves_the_cluster_up(
    archive: dict[str, Any], cluster: Cluster
) -> None:
    root = archive["root"]
    out, cache = root / "interrupted", root / "cache-interrupted"
    process = subprocess.Popen(
        _cli(str(archive["essays"]), "-o", str(out), "--cache-dir", str(cache),
             "--cluster", cluster.address),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    _wait_until(lambda: sum(len(k) for k in cluster.busy().values()) >= 2, cluster)
    time.sleep(1.0)  # the voices are speaking on both workers
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Interrupted." in stderr and "Traceback" not in stderr
    # The running tasks stop between two pieces; the queued ones were cancelled.
    _wait_until(lambda: not any(cluster.busy().values()), cluster, timeout=30)
    assert len(cluster.client.scheduler_info()["workers"]) == 2  # the cluster is still up
    assert all(w.poll() is None for w in cluster.workers)
    assert _temporaries(out, cache) == []
    for mp3 in out.glob("*.mp3"):  # whatever was finished is whole
        assert (out / f"{mp3.stem}.episode.json").is_file()


def test_ctrl_c_in_a_terminal_stops_a_local_cluster_batch_with_one_line(
    archive: dict[str, Any],
) -> None:
    """A terminal's Ctrl-C signals the whole process group, the local cluster's workers
    too: at moments from the cluster's start to narration on both workers, the batch says
    "Interrupted." and nothing else (no worker's traceback, no distributed assertion), exits
    130, and leaves no process and no temporary file behind."""
    import random

    seed = random.randrange(10**6)
    chance = random.Random(seed)
    root = archive["root"]
    for trial in range(4):
        out, cache = root / f"ctrl-c-{trial}", root / f"cache-ctrl-c-{trial}"
        process = subprocess.Popen(
            _cli(str(archive["essays"]), "-o", str(out), "--cache-dir", str(cache), "-q",
                 "--cluster", "local:2"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
            start_new_session=True,  # its own group, as a terminal's foreground job
        )  # fmt: skip
        moment = chance.uniform(0.5, 8.0)
        time.sleep(moment)
        children = _descendants(process.pid)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        print(f"seed {seed}: Ctrl-C at {moment:.2f} s: {process.returncode}")
        assert process.returncode == 130, stderr
        assert stderr == "Interrupted.\n", stderr
        assert _all_gone(children) == []
        assert _temporaries(out, cache) == [] if out.exists() else True


def test_two_clients_of_one_cluster_and_one_cache_never_mix_their_files(
    archive: dict[str, Any], cluster: Cluster
) -> None:
    """Two clients at once, the same two essays (named in opposite orders) into one folder
    with one cache: the second render of each essay waits for the first (so nothing is spoken
    twice), neither client waits for the other forever, and every file is the local render's."""
    root = archive["root"]
    out, cache = root / "two-clients", root / "cache-two-clients"
    names = ["the-listening-room.md", "leaving-las-vegas.txt"]
    orders = [names, names[::-1]]
    clients = [
        subprocess.Popen(
            _cli(*(str(archive["essays"] / name) for name in order), "-o", str(out),
                 "--cache-dir", str(cache), "--cluster", cluster.address, "--json", "-q"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        )
        for order in orders
    ]  # fmt: skip
    summaries = []
    for client in clients:
        stdout, stderr = client.communicate(timeout=900)
        assert client.returncode == 0, stderr
        summaries.append({Path(e["source"]).name: e for e in json.loads(stdout)["episodes"]})
    for name in names:
        assert {Path(s[name]["mp3"]).name for s in summaries} == {f"{Path(name).stem}.mp3"}
    spoken = sum(e["work"].get("synthesized", 0) for s in summaries for e in s.values())
    local = {Path(e["source"]).name: e for e in archive["summary"]["episodes"]}
    # Locally, the default voice was calibrated for the first essay of the batch (circles.md):
    # here, for leaving-las-vegas.txt. Nothing else is spoken, and nothing twice.
    expected = sum(local[name]["work"]["synthesized"] for name in names) + len(CALIBRATION_LINES)
    assert spoken == expected
    ours, theirs = _tree(out), _tree(archive["local"])
    episodes = [n for n in ours if n.split(".")[0] in {Path(name).stem for name in names}]
    assert len(episodes) == 2 * 7  # each episode's MP3, four sidecars, page and record
    # (The local render's pages were rewritten by its feed build; these clients built none.)
    assert [n for n in episodes if ours[n] != theirs[n] and not n.endswith(".html")] == []
    assert _temporaries(out, cache) == [] and not list(out.glob(".*.claim"))


def test_a_worker_killed_mid_run_costs_only_its_task(
    archive: dict[str, Any], cluster: Cluster
) -> None:
    root = archive["root"]
    cluster.ensure_workers(2)
    out, cache = root / "tcp", root / "cache-tcp"
    process = subprocess.Popen(
        _cli(str(archive["essays"]), "-o", str(out), "--cache-dir", str(cache),
             "--cluster", cluster.address, "--base-url", BASE_URL, "--json"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    # Once both workers are speaking chapters, kill one of them outright.
    _wait_until(lambda: sum("chapter" in k for keys in cluster.busy().values() for k in keys) >= 2,
                cluster)  # fmt: skip
    time.sleep(1.5)
    victim_address = next(w for w, keys in cluster.busy().items() if keys)
    victim = psutil.Process(cluster.pid_of(victim_address))
    voices = victim.children(recursive=True)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    stdout, stderr = process.communicate(timeout=1800)
    assert process.returncode == 0, stderr
    assert _all_gone(voices) == []  # the dead worker's voices ended with it
    summary = json.loads(stdout)
    assert len(summary["episodes"]) == 6
    ours, theirs = _tree(out), _tree(archive["local"])
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if ours[name] != theirs[name]] == []
    assert _temporaries(out, cache) == []
    cluster.ensure_workers(2)
