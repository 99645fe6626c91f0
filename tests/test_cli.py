"""The command line: bad input gets one `Error:` line, exit 1, no traceback, no output files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audioessay.cli import app

from .conftest import EXAMPLE, run_cli, write

GOOD = "# Title\n\nSome body text here.\n"


def assert_clean_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*")) if out.exists() else []


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda d: d / "missing.md", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: _bytes(d, b""), "is empty"),
        (lambda d: _bytes(d, b"  \n\n \t\n"), "is empty"),
        (lambda d: _bytes(d, bytes(range(256)) * 4), "binary"),
        (lambda d: _bytes(d, "Caf\u00e9 ".encode() + b"\xc3\x28 rest"), "byte 0xc3 at offset 6"),
        (lambda d: write(d, "heads.md", "# A\n\n## B\n"), "no body text"),
    ],
)
def test_bad_essays(tmp_path: Path, setup: object, fragment: str) -> None:
    essay = setup(tmp_path)  # type: ignore[operator]
    out = tmp_path / "out"
    result = run_cli("render", str(essay), "-o", str(out), "--engine", "fake")
    assert_clean_error(result, fragment)
    assert leftovers(out) == []


def _bytes(directory: Path, data: bytes) -> Path:
    path = directory / "essay.txt"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--engine", "nope"], "unknown engine 'nope'"),
        (["--engine", "fake", "--voice", "nobody"], "unknown voice 'nobody'"),
        (["--voice", "no-such-voice"], "unknown voice 'no-such-voice'"),
        (["--engine", "fake", "--rate", "20"], "--rate must be between 80 and 450"),
        (["--engine", "fake", "--rate", "900"], "--rate must be between 80 and 450"),
        (["--engine", "fake", "--bitrate", "65"], "--bitrate must be one of"),
    ],
)
def test_bad_options(tmp_path: Path, options: list[str], fragment: str) -> None:
    essay = write(tmp_path, "essay.md", GOOD)
    out = tmp_path / "out"
    result = run_cli("render", str(essay), "-o", str(out), *options)
    assert_clean_error(result, fragment)
    assert leftovers(out) == []


def test_output_path_that_is_a_file(tmp_path: Path) -> None:
    essay = write(tmp_path, "essay.md", GOOD)
    target = write(tmp_path, "taken", "not a directory")
    result = run_cli("render", str(essay), "-o", str(target), "--engine", "fake")
    assert_clean_error(result, "is an existing file")
    assert target.read_text() == "not a directory"


def test_inspect_rejects_non_mp3(tmp_path: Path) -> None:
    result = run_cli("inspect", str(write(tmp_path, "x.mp3", "not audio at all")))
    assert_clean_error(result, "not a readable MP3")


def test_chapters_preview(tmp_path: Path) -> None:
    result = run_cli("chapters", str(EXAMPLE), "--json")
    assert result.returncode == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    assert data["title"] == "The Listening Room"
    assert [(c["title"], c["level"]) for c in data["chapters"]] == [
        ("The Listening Room", 1),
        ("Why Listen to an Essay", 2),
        ("What Makes Speech Clear", 2),  # its "### A Note on Speed" is a section inside it
        ("Closing the Door", 2),  # and the notes are read last, inside the last chapter
    ]
    assert all(c["words"] > 0 and c["estimated_duration"] > 0 for c in data["chapters"])


def test_voices_lists_engines_voices() -> None:
    result = run_cli("voices", "--engine", "fake", "--json")
    assert result.returncode == 0
    assert "fake-low" in result.stdout and "fake-high" in result.stdout
    espeak = run_cli("voices", "--engine", "espeak")
    assert espeak.returncode == 0 and "gmw/en-US" in espeak.stdout


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for command in (
        ["render"],
        ["chapters"],
        ["inspect"],
        ["voices"],
        ["cache", "info"],
        ["cache", "clear"],
    ):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert len(result.output) > 100
    assert all((c.callback.__doc__ or "").strip() for c in app.registered_commands if c.callback)
