"""Parallel determinism, interruption and memory, on the real voices and the real encoder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import judges
from .conftest import EXAMPLE, peak_rss, write

pytestmark = pytest.mark.real


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "audioessay", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or dict(os.environ),
    )


def long_essay(tmp_path: Path, words: int, name: str = "long.md") -> Path:
    """A generated essay (our own words) of about ``words`` words in twelve sections."""
    sentences = [
        f"Paragraph {n} of this generated essay counts its own sentences, and this is number {k}."
        for n in range(words // 60)
        for k in range(4)
    ]
    parts = ["# A Long Generated Essay", ""]
    per_section = max(1, len(sentences) // 12)
    for index in range(0, len(sentences), per_section):
        parts += [
            f"## Part {index // per_section + 1}",
            "",
            " ".join(sentences[index : index + per_section]),
            "",
        ]
    return write(tmp_path, name, "\n".join(parts))


def pieces_in(cache: Path) -> int:
    return sum(1 for _ in cache.rglob("*.pcm")) if cache.exists() else 0


def finals(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if not p.name.startswith(".")) if out.exists() else []


def assert_complete(paths: list[Path]) -> None:
    """Every file under a final name is whole: the judges accept it."""
    for path in paths:
        if path.suffix == ".mp3":
            assert judges.mp3val_problems(path) == []
            assert judges.ffmpeg_decode_errors(path) == ""
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".vtt":
            assert judges.vtt_errors(path)[0] == []
        elif path.suffix == ".html":
            assert path.read_text().endswith("</html>\n")


@pytest.mark.parametrize("engine", ["pyttsx3", "espeak"])
def test_output_is_byte_identical_whatever_jobs_is(tmp_path: Path, engine: str) -> None:
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        process = cli(
            "render",
            str(EXAMPLE),
            "-o",
            str(out),
            "--engine",
            engine,
            "-j",
            jobs,
            "--cache-dir",
            str(tmp_path / f"cache{jobs}"),
            "-q",
        )
        assert process.wait(timeout=600) == 0, process.stderr.read() if process.stderr else ""
        outputs.append({p.name: p.read_bytes() for p in finals(out)})
    assert outputs[0] == outputs[1]
    # MP3, chapters, VTT, SRT, JSON transcript, page, record, the page's stylesheet and script.
    assert len(outputs[0]) == 9


def test_kill_9_leaves_previous_outputs_or_none_and_resumes(tmp_path: Path) -> None:
    essay = long_essay(tmp_path, 3000)
    out, cache = tmp_path / "out", tmp_path / "cache"
    args = (
        "render",
        str(essay),
        "-o",
        str(out),
        "--engine",
        "espeak",
        "-j",
        "2",
        "--cache-dir",
        str(cache),
        "-q",
    )

    # Killed while narrating: nothing under a final name.
    process = cli(*args)
    deadline = time.monotonic() + 300
    while pieces_in(cache) < 20 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = pieces_in(cache)
    assert done_before >= 20
    assert finals(out) == []

    # Rerun: resumes from the cache and completes.
    process = cli(*args, "--json")
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    total = pieces_in(cache)
    assert total > done_before  # only the rest was spoken; the first pieces were reused
    previous = {p.name: p.read_bytes() for p in finals(out)}
    assert_complete(finals(out))

    # Killed while the new MP3 is being written: the previous complete files stay.
    essay.write_text(essay.read_text().replace("number 3.", "number 3, now edited.", 1))
    for kind in ("streams", "facts", "loudness"):  # make the final stage long enough to catch
        for entry in (cache / kind).rglob("*.bin"):
            entry.unlink()
    process = cli(*args)
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        if any(p.name.endswith(".part") for p in out.iterdir()):
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    process.wait()
    now = finals(out)
    assert_complete(now)
    assert {p.name for p in now} == set(previous)
    mp3 = next(p for p in now if p.suffix == ".mp3")
    assert mp3.read_bytes() == previous[mp3.name]
    assert any(p.name.endswith(".part") for p in out.iterdir())  # what the kill left behind

    # The next render finishes the edit and sweeps the dead render's temporary files away.
    process = cli(*args)
    assert process.wait(timeout=600) == 0
    assert not any(p.name.endswith(".part") for p in out.iterdir())
    assert mp3.read_bytes() != previous[mp3.name]
    assert_complete(finals(out))


@pytest.fixture
def busy_cores() -> Iterator[None]:
    """Both cores kept busy by other processes, as on a loaded machine."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)
    ]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def interrupt_at(args: tuple[str, ...], moment: float) -> tuple[int, float, str]:
    """Start a render, send SIGINT ``moment`` seconds later; (exit code, seconds from the
    signal to the exit, stderr)."""
    process = cli(*args)
    time.sleep(moment)
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"the render hung after Ctrl-C at {moment:.2f} s:\n{stderr}")
    return process.returncode, time.monotonic() - sent, stderr


def test_ctrl_c_at_any_moment_stops_within_2_s_with_exit_code_130(
    tmp_path: Path, busy_cores: None
) -> None:
    """Random moments over a render's whole life (from 0.3 s: before that, with both cores
    busy, the interpreter may still be starting, and its own start-up is Python's; parsing, calibration, narration,
    then, with every piece cached, mastering and writing), with both cores busy: each ends
    in "Interrupted." and 130 (or 0, complete, when it finished first) within the 2 s the
    README promises, cooperatively (the watchdog that would end a stuck render leaves its
    lock files behind; a render that stopped by itself removes everything), and leaves no
    temporary file in the folder or the cache."""
    import random

    seed = random.randrange(10**6)
    print(f"seed {seed}")
    chance = random.Random(seed)
    essay = long_essay(tmp_path, 3000)

    def args(out: Path, cache: Path) -> tuple[str, ...]:
        return ("render", str(essay), "-o", str(out), "--engine", "pyttsx3", "-j", "2",
                "--cache-dir", str(cache), "-q")  # fmt: skip

    def trial(number: int, moment: float, cache: Path) -> None:
        out = tmp_path / f"out{number}"
        code, took, stderr = interrupt_at(args(out, cache), moment)
        print(f"Ctrl-C at {moment:.2f} s: exit {code} after {took:.2f} s")
        assert "Traceback" not in stderr, stderr
        assert not list(cache.rglob(".*.tmp")), "a temporary left in the cache"
        if code in (0, -signal.SIGINT):  # it was done before the signal came (or exiting:
            assert_complete(finals(out))  # Python restores the default action at its end)
            return
        assert code == 130, stderr
        assert stderr.strip().splitlines()[-1] == "Interrupted."
        assert took < 2.0, f"Ctrl-C at {moment:.2f} s took {took:.2f} s to stop"
        left = finals(out)
        if left:  # stopped after its files had moved into place: the whole set, with its record
            assert any(p.name.endswith(".episode.json") for p in left), left
            assert_complete(left)
        assert not out.exists() or not [p for p in out.iterdir() if p.suffix in (".part", ".tmp")]

    for number in range(8):  # cold: start-up, parsing, calibration, narration
        trial(number, chance.uniform(0.3, 8.0), tmp_path / f"cold{number}")
    warm = tmp_path / "warm"
    started = time.monotonic()
    assert cli(*args(tmp_path / "whole", warm)).wait(timeout=600) == 0
    took = time.monotonic() - started
    started = time.monotonic()
    assert cli(*args(tmp_path / "again", warm)).wait(timeout=600) == 0
    took = time.monotonic() - started  # every piece and stream cached: reading and writing
    print(f"a render from a warm cache took {took:.2f} s")
    for number in range(8, 14):
        trial(number, chance.uniform(0.3, max(0.4, took)), warm)


def test_memory_does_not_grow_with_essay_length(tmp_path: Path) -> None:
    peaks = {}
    for words in (2000, 40000):
        essay = long_essay(tmp_path, words, f"essay-{words}.md")
        peaks[words] = peak_rss([
            sys.executable, "-m", "audioessay", "render", str(essay), "-o", str(tmp_path / "out"),
            "--engine", "fake", "--rate", "450", "-j", "2", "--cache-dir", str(tmp_path / "cache"),
            "-q",
        ])  # fmt: skip
    print(f"peak RSS (MB) by essay length: {peaks}")
    assert peaks[40000] < 300
    assert peaks[40000] < peaks[2000] + 60  # twenty times the words, about the same memory
