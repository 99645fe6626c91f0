"""Fast tier: the batch seam and what a cluster needs of the rest of the code.

Where a batch runs (flag, environment, audioessay.toml), the errors of a missing Dask or a bad
address, the cache behind its store interface, temporaries of dead writers on shared folders,
reproducible publication times, and one fake-voice batch on a real two-worker LocalCluster
that must write exactly what the in-process batch writes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audioessay.batch import CLUSTER_ENV, cluster_address
from audioessay.cache import Cache
from audioessay.engines import WordMark
from audioessay.errors import SettingsError
from audioessay.files import Staging, render_time, sweep_stale_temporaries, temporary_name
from audioessay.narrate import NarratedSection, Voicing, narrate

from . import judges
from .conftest import run_cli, write

ESSAY = """---
title: {title}
---
An opening sentence of the essay called {title}. It has a second sentence too, in {title}.

## The Middle of {title}

A middle paragraph of {title}, spoken in its own chapter.

## The End of {title}

And one last sentence of {title}.
"""


def essays(folder: Path, count: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        write(folder, f"essay-{n}.md", ESSAY.format(title=f"Essay {n}"))
    return folder


# -- where a batch runs -------------------------------------------------------------------------


def test_the_flag_wins_then_the_environment_then_the_users_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    monkeypatch.setenv("AUDIOESSAY_CONFIG_DIR", str(config))
    monkeypatch.delenv(CLUSTER_ENV, raising=False)
    assert cluster_address(None) is None
    (config / "config.toml").write_text('[cluster]\naddress = "tcp://mine:8786"\n')
    assert cluster_address(None) == "tcp://mine:8786"
    monkeypatch.setenv(CLUSTER_ENV, "tcp://env:8786")
    assert cluster_address(None) == "tcp://env:8786"
    assert cluster_address("local:2") == "local:2"
    monkeypatch.delenv(CLUSTER_ENV)
    (config / "config.toml").write_text('[cluster]\nadress = "tcp://b:8786"\n')
    with pytest.raises(SettingsError, match=r"\[cluster\] takes one setting"):
        cluster_address(None)


def test_a_folders_settings_cannot_send_its_essays_to_a_cluster(tmp_path: Path) -> None:
    """A folder of essays is someone else's: its audioessay.toml naming a scheduler is
    ignored with a warning, and the batch renders here (the address is never contacted)."""
    folder = essays(tmp_path / "a", 1)
    (folder / "audioessay.toml").write_text('[cluster]\naddress = "tcp://127.0.0.1:9"\n')
    env = {**os.environ, "AUDIOESSAY_CONFIG_DIR": str(tmp_path / "config")}
    env.pop(CLUSTER_ENV, None)
    result = run_cli("render", str(folder), "-o", str(tmp_path / "o"), "--engine", "fake",
                     "--cache-dir", str(tmp_path / "cache"), "-q", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "[cluster] is ignored" in result.stderr
    assert len(list((tmp_path / "o").glob("*.mp3"))) == 1


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_without_dask_the_cluster_is_a_one_line_error(tmp_path: Path) -> None:
    shim = tmp_path / "shim"
    shim.mkdir()  # a `distributed` that is not installed, ahead of the real one
    (shim / "distributed.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'distributed'\", name='distributed')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(shim)}
    essay = write(tmp_path, "e.md", ESSAY.format(title="E"))
    line = _one_error_line(run_cli("render", str(essay), "-o", str(tmp_path / "o"),
                                   "--engine", "fake", "--cluster", "local:2", env=env))  # fmt: skip
    assert line == (
        "Error: --cluster needs Dask (distributed is not installed): "
        "pip install 'audioessay[cluster]'"
    )


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("local:0", "local:N takes a number of workers from 1 to 256"),
        ("local:many", "local:N takes a number of workers"),
        ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
    ],
)
def test_a_bad_cluster_address_is_a_one_line_error(tmp_path: Path, address: str, says: str) -> None:
    essay = write(tmp_path, "e.md", ESSAY.format(title="E"))
    line = _one_error_line(run_cli("render", str(essay), "-o", str(tmp_path / "o"),
                                   "--engine", "fake", "--cluster", address))  # fmt: skip
    assert line.startswith("Error: ") and says in line
    assert not (tmp_path / "o").exists()


def test_a_cluster_needs_a_shared_cache(tmp_path: Path) -> None:
    essay = write(tmp_path, "e.md", ESSAY.format(title="E"))
    line = _one_error_line(run_cli("render", str(essay), "-o", str(tmp_path / "o"),
                                   "--engine", "fake", "--no-cache", "--cluster", "local:1"))  # fmt: skip
    assert "--cluster needs a cache every worker can reach" in line


# -- one batch on a real LocalCluster, with the fake voice --------------------------------------


def test_a_local_cluster_batch_writes_what_the_in_process_batch_writes(tmp_path: Path) -> None:
    folder = essays(tmp_path / "essays", 3)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}

    def batch(name: str, *options: str) -> dict[str, object]:
        result = run_cli("render", str(folder), "-o", str(tmp_path / name), "--engine", "fake",
                         "--cache-dir", str(tmp_path / f"cache-{name}"), "--json", "-q",
                         *options, env=env)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    here = batch("here")
    there = batch("there", "--cluster", "local:2")
    assert [Path(e["source"]).name for e in there["episodes"]] == [  # type: ignore[attr-defined]
        "essay-0.md", "essay-1.md", "essay-2.md",
    ]
    # The chapter tasks' work is counted in each essay's summary, as a local render counts it
    # (no two essays share a sentence, so none could be spoken for another).
    for ours, theirs in zip(there["episodes"], here["episodes"], strict=True):  # type: ignore[call-overload]
        assert ours["work"]["synthesized"] == theirs["work"]["synthesized"] > 0
        assert ours["work"]["encoded"] >= theirs["work"]["encoded"]
    for path in sorted((tmp_path / "here").rglob("*")):
        if path.is_file() and path.name != ".audioessay.lock":
            twin = tmp_path / "there" / path.relative_to(tmp_path / "here")
            assert twin.read_bytes() == path.read_bytes(), path.name
    # Again: every essay is up to date, answered by the client from the records alone.
    again = batch("there", "--cluster", "local:2")
    assert all(e["work"].get("unchanged") == 1 for e in again["episodes"])  # type: ignore[attr-defined]


def test_narrate_speaks_only_the_sections_asked_for(tmp_path: Path) -> None:
    from audioessay.config import RenderSettings
    from audioessay.engines import create_engine
    from audioessay.pipeline import prepare

    essay = write(tmp_path, "e.md", ESSAY.format(title="E"))
    _, _, script = prepare(essay, RenderSettings(engine="fake", rate=240))
    voicing = Voicing("fake", None, 240, 400)
    cache = Cache(tmp_path / "cache")
    parts = list(narrate(script, voicing, lambda: create_engine("fake", None, 240), cache,
                         sections=(1,)))  # fmt: skip
    assert [p.index for p in parts if isinstance(p, NarratedSection)] == [1]
    (part,) = parts
    assert isinstance(part, NarratedSection) and part.intro is None and not part.last
    assert part.heading is not None
    utterances = [part.heading, *(u for paragraph in part.paragraphs for u in paragraph)]
    keys = {piece.key for utterance in utterances for piece in utterance.pieces}
    assert {p.stem for p in (tmp_path / "cache" / "pieces").rglob("*.pcm")} == keys


def test_a_workers_engines_are_kept_between_tasks_and_closed_after_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted work: chapter after chapter takes the pool's one engine (no new voice process a
    task); an engine whose narration was interrupted is closed, never given back."""
    import threading

    from audioessay import engines
    from audioessay.config import RenderSettings
    from audioessay.engines import Engine, EnginePool, Speech
    from audioessay.engines.fake import FakeEngine
    from audioessay.errors import RenderInterruptedError
    from audioessay.pipeline import prepare

    created: list[FakeEngine] = []
    closed: list[FakeEngine] = []
    stop = threading.Event()

    class Counted(FakeEngine):
        def __init__(self, voice: str | None = None, rate: int = 175) -> None:
            super().__init__(voice, rate)
            created.append(self)

        def synthesize(self, text: str) -> Speech:
            if "interrupt" in text:
                stop.set()  # as Ctrl-C would, while this engine is speaking
            return super().synthesize(text)

        def close(self) -> None:
            closed.append(self)

    monkeypatch.setattr(engines, "_factory", lambda name: Counted)
    essay = write(tmp_path, "e.md", ESSAY.format(title="E"))
    _, _, script = prepare(essay, RenderSettings(engine="fake", rate=240))
    voicing = Voicing("fake", None, 240, 400)
    cache, pool = Cache(tmp_path / "cache"), EnginePool()

    def take() -> Engine:
        return pool.take("fake", None, 240)

    def give(engine: Engine) -> None:
        pool.give(engine, "fake", None, 240)

    for section in range(len(script.sections)):  # a chapter task each, one after another
        list(narrate(script, voicing, take, cache, sections=(section,), release=give))
    assert len(script.sections) == 3 and len(created) == 1 and closed == []
    with pytest.raises(RenderInterruptedError):
        list(narrate(script, voicing, take, cache, cancel=stop, release=give,
                     prelude=["Please interrupt me here.", "And never say this."]))  # fmt: skip
    assert closed == created  # the interrupted engine was closed, not given back
    pool.close()
    assert len(created) == 1 and closed == created  # nothing was left in the pool to close


# -- the cache behind its store ------------------------------------------------------------------


class MemoryStore:
    """A second store, in memory: what an object store (fsspec) would have to provide."""

    where = "memory"

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def read(self, name: str, limit: int | None = None) -> bytes | None:
        data = self.data.get(name)
        return None if data is None else data[:limit] if limit is not None else data

    def size(self, name: str) -> int | None:
        return len(self.data[name]) if name in self.data else None

    def write(self, name: str, data: bytes) -> None:
        self.data[name] = data

    def delete(self, name: str) -> None:
        self.data.pop(name, None)

    def entries(self) -> Iterator[int]:
        yield from (len(v) for v in self.data.values())

    def clear(self, prefix: str) -> None:
        for name in [n for n in self.data if n.startswith(prefix + "/")]:
            del self.data[name]


def test_the_cache_works_on_any_store_and_rejects_damaged_entries() -> None:
    store = MemoryStore()
    cache = Cache(store)
    samples = np.linspace(-0.5, 0.5, 4410, dtype=np.float32)
    marks = tuple(WordMark(i, 3, 100 * i) for i in range(600))  # more than one read's worth
    stored = cache.store_piece("ab" * 20, samples, 44100, marks)
    assert cache.stored_piece("ab" * 20) == stored and stored.words == marks
    loaded = cache.load_piece("ab" * 20)
    assert loaded is not None and np.allclose(loaded, samples, atol=1 / 32767)
    cache.store_blob("streams", "cd" * 20, b"stream")
    assert cache.load_blob("streams", "cd" * 20) == b"stream"
    assert cache.info().entries == 2
    # A damaged entry, whoever damaged it, is a miss and is removed.
    (name,) = [n for n in store.data if n.startswith("streams/")]
    store.data[name] = store.data[name][:-1] + b"X"
    assert cache.load_blob("streams", "cd" * 20) is None and name not in store.data
    (piece,) = store.data
    store.data[piece] = store.data[piece][:-2]
    assert cache.stored_piece("ab" * 20) is None and piece not in store.data
    cache.store_blob("facts", "ef" * 20, b"x")
    cache.clear()
    assert store.data == {}


# -- temporaries on a folder several machines write ---------------------------------------------


def test_only_temporaries_of_dead_writers_on_this_machine_are_swept(tmp_path: Path) -> None:
    final = tmp_path / "essay.daisy"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    mine = tmp_path / temporary_name(final, ".part")
    stale = tmp_path / mine.name.replace(f".{os.getpid()}@", f".{dead.pid}@")
    other_host = tmp_path / f".essay.daisy.{dead.pid}@00000000.abcd.part"
    older = tmp_path / f".essay.daisy.{dead.pid}.abcd.part"  # before writers named their host
    neighbour = tmp_path / f".essay.daisy.zip.{dead.pid}@00000000.abcd.part"
    for path in (mine, stale, other_host, older, neighbour):
        path.write_bytes(b"partial")
    sweep_stale_temporaries(final)
    assert {p.name for p in tmp_path.iterdir()} == {mine.name, other_host.name, neighbour.name}


def test_staging_names_its_temporaries_by_writer(tmp_path: Path) -> None:
    stage = Staging()
    tmp = stage.file(tmp_path / "a.mp3")
    folder = stage.directory(tmp_path / "a.daisy")
    assert f".{os.getpid()}@" in tmp.name and f".{os.getpid()}@" in folder.name
    stage.discard()
    assert list(tmp_path.iterdir()) == []


def test_source_date_epoch_sets_a_first_renders_publication_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert render_time() == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert abs(render_time() - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_the_files_date_is_the_publication_date_not_the_day_of_the_render(tmp_path: Path) -> None:
    """A render's bytes must not depend on the day it ran (a batch that crosses midnight, a
    cluster's worker, a re-render next week): with no date in front matter, the MP3's and the
    Opus file's date is the publication date the record keeps, as ffprobe reads them."""
    folder = essays(tmp_path / "essays", 1)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01, never today
    result = run_cli("render", str(folder), "-o", str(tmp_path / "out"), "--engine", "fake",
                     "--format", "mp3,opus", "--cache-dir", str(tmp_path / "cache"), "-q",
                     env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name in ("essay-0.mp3", "essay-0.opus"):
        probe = subprocess.run(
            [judges.require("ffprobe"), "-v", "error", "-show_entries", "format_tags:stream_tags",
             "-of", "json", str(tmp_path / "out" / name)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        found = json.loads(probe.stdout)
        tags = [found["format"].get("tags", {}), *(s.get("tags", {}) for s in found["streams"])]
        dates = {v for t in tags for k, v in t.items() if k.lower() in ("date", "tdrc")}
        assert dates == {"2026-01-01"}, (name, tags)
