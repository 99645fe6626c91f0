"""The audio cache: hits, misses, corruption, re-rendering only what an edit changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from audioessay import RenderSettings, render
from audioessay.cache import Cache
from audioessay.engines.fake import FakeEngine
from audioessay.formats.mp3 import Mp3
from audioessay.mastering import CALIBRATION_LINES

from . import judges
from .conftest import run_cli, write

SECTIONS = 8


SHARED = "Then another sentence follows, at the same unhurried pace as the one before it."


def book(edit: int | None = None) -> str:
    """An essay of eight sections; ``edit`` changes one sentence of that section.

    Its sentences are prose-length, so it measures near the voice's calibrated level: an essay
    of three-word fragments would be corrected, and encoded twice (see test_loudness).
    """
    parts = ["# A Cached Essay", "", "An opening paragraph with a few more words in it.", ""]
    for n in range(1, SECTIONS + 1):
        first = f"Section {n} begins with a sentence long enough to sound like ordinary prose."
        extra = " This sentence was edited." if n == edit else ""
        parts += [f"## Section {n}", "", f"{first} {SHARED}{extra}", ""]
    return "\n".join(parts)


class Counter:
    """Counts engine calls and block encodings by wrapping the real functions."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.spoken: list[str] = []
        self.encoded = 0
        original = FakeEngine.synthesize
        encode = Mp3.encode

        def synthesize(engine: FakeEngine, text: str):  # type: ignore[no-untyped-def]
            self.spoken.append(text)
            return original(engine, text)

        def encode_block(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.encoded += 1
            return encode(*args, **kwargs)

        monkeypatch.setattr(FakeEngine, "synthesize", synthesize)
        monkeypatch.setattr(Mp3, "encode", staticmethod(encode_block))

    def reset(self) -> None:
        self.spoken.clear()
        self.encoded = 0


def forget_outputs(tmp_path: Path) -> None:
    """Delete the episode's record, so the next render cannot find it up to date and skip."""
    for record in (tmp_path / "out").glob("*.episode.json"):
        record.unlink()


def settings(tmp_path: Path, jobs: int = 2) -> RenderSettings:
    return RenderSettings(
        engine="fake",
        rate=240,
        output_dir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        jobs=jobs,
    )


def test_hit_miss_and_editing_one_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = Counter(monkeypatch)
    essay = write(tmp_path, "cached.md", book())
    first = render(essay, settings(tmp_path))
    # Each distinct text is spoken once: the voice's calibration passage (its first render with
    # this cache), title, opening, 8 headings, 8 first sentences, and SHARED, which all eight
    # sections share.
    assert len(counter.spoken) == len(CALIBRATION_LINES) + 1 + 1 + SECTIONS + SECTIONS + 1
    # Every distinct block once (SHARED and the chapter's pause are one block in sections 1-7).
    assert counter.encoded == first.work["blocks"] == 20
    original = first.files.mp3.read_bytes()

    counter.reset()  # unchanged: nothing is spoken, encoded or even written again
    written = first.files.mp3.stat().st_mtime_ns
    again = render(essay, settings(tmp_path))
    assert counter.spoken == [] and counter.encoded == 0 and again.work["unchanged"] == 1
    assert again.files.mp3.read_bytes() == original
    assert again.files.mp3.stat().st_mtime_ns == written
    forget_outputs(tmp_path)  # without its record, the render runs, all from the cache
    again = render(essay, settings(tmp_path))
    assert counter.spoken == [] and counter.encoded == 0 and "unchanged" not in again.work
    assert again.files.mp3.read_bytes() == original

    counter.reset()  # one section edited: one sentence spoken, two short blocks encoded
    essay.write_text(book(edit=5))
    edited = render(essay, settings(tmp_path))
    assert counter.spoken == ["This sentence was edited."]
    # The new sentence, and SHARED before it, which is now followed by a sentence's pause
    # instead of the chapter's: a block holds its utterance and the pause after it.
    assert counter.encoded == 2
    judges.check_episode(
        edited.files.mp3, ["A Cached Essay"] + [f"Section {n}" for n in range(1, 9)]
    )

    counter.reset()  # and the result is what a render from an empty cache gives
    cold = render(
        essay, RenderSettings(engine="fake", rate=240, output_dir=tmp_path / "cold", jobs=1)
    )
    assert cold.files.mp3.read_bytes() == edited.files.mp3.read_bytes()


def test_an_unchanged_re_render_is_known_before_parsing_and_any_input_change_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record lists every file the render read or looked for; a change to any of them, a
    new settings file where none was, or another flag makes the next render run."""
    counter = Counter(monkeypatch)
    folder = tmp_path / "essays"
    folder.mkdir()
    essay = write(folder, "cached.md", "---\nlexicon: words.toml\n---\n" + book())
    lexicon = write(folder, "words.toml", '[words]\nunhurried = "un hurried"\n')
    first = render(essay, settings(tmp_path))
    # The files it read are named in the folder's private part, never in the published record.
    published = (tmp_path / "out" / "a-cached-essay.episode.json").read_text()
    assert "reads" not in json.loads(published) and str(essay) not in published
    record = json.loads((tmp_path / "out" / ".audioessay" / "a-cached-essay.local.json").read_text())
    assert {str(essay), str(lexicon), str(folder / "audioessay.toml")} <= set(record["reads"])
    assert record["reads"][str(folder / "audioessay.toml")] is None  # looked for, absent

    def again(**changes: object) -> bool:
        """Whether a render with ``changes`` to the settings was found up to date."""
        counter.reset()
        episode = render(essay, replace(settings(tmp_path), **changes))
        return bool(episode.work.get("unchanged"))

    assert again() and again(jobs=1)  # jobs never change a byte
    lexicon.write_text('[words]\nunhurried = "unhurried"\n', encoding="utf-8")
    assert not again() and counter.spoken and again()
    (folder / "audioessay.toml").write_text("skip_citations = true\n", encoding="utf-8")
    assert not again() and again()
    assert not again(bitrate=96) and again(bitrate=96)
    essay.write_text(essay.read_text() + "\nOne more sentence at the end.\n", encoding="utf-8")
    assert not again(bitrate=96) and counter.spoken == ["One more sentence at the end."]
    assert first.files.mp3.exists()


def test_an_essay_given_by_a_relative_path_keeps_its_slug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record names its source by its real path, so a second render with other settings
    from the same folder replaces the episode rather than adding a suffixed second one."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "cached.md", book())
    first = render(Path("cached.md"), replace(settings(tmp_path), output_dir=Path("out")))
    second = render(Path("cached.md"), replace(settings(tmp_path), output_dir=Path("out"), bitrate=96))
    assert first.slug == second.slug == "a-cached-essay"
    assert sorted(p.name for p in (tmp_path / "out").glob("*.mp3")) == ["a-cached-essay.mp3"]


def test_the_cli_answers_an_unchanged_render_without_the_pipeline(tmp_path: Path) -> None:
    """Counted work: the modules an unchanged re-render imports (no parser, no DSP stage)."""
    essay = write(tmp_path, "cached.md", book())
    args = ["render", str(essay), "-o", str(tmp_path / "out"), "--engine", "fake", "--rate",
            "240", "--cache-dir", str(tmp_path / "cache"), "--json"]  # fmt: skip
    probe = (
        "import sys, json; from audioessay.cli import main; sys.argv = ['audioessay', *ARGS]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('audioessay'))),"
        " file=sys.stderr)"
    ).replace("ARGS", repr(args))
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           check=True) for _ in range(2)]  # fmt: skip
    cold, warm = (set(json.loads(r.stderr.strip().splitlines()[-1])) for r in runs)
    assert json.loads(runs[1].stdout)["episodes"][0]["work"]["unchanged"] == 1
    assert {"audioessay.pipeline", "audioessay.parse", "audioessay.mastering"} <= cold
    assert not warm & {"audioessay.pipeline", "audioessay.parse", "audioessay.speech",
                       "audioessay.mastering", "audioessay.narrate"}  # fmt: skip


def test_corrupt_and_truncated_entries_are_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter(monkeypatch)
    cache_root = tmp_path / "cache"
    # The voice's calibration first (its own render), so the pieces damaged below are the
    # essay's: the calibration is cached apart from them.
    render(write(tmp_path, "warm.md", "# Warm\n\nA first essay.\n"), settings(tmp_path))
    calibration = set((cache_root / "pieces").rglob("*.pcm"))
    warm_streams = set((cache_root / "streams").rglob("*.bin"))
    essay = write(tmp_path, "cached.md", book())
    original = render(essay, settings(tmp_path)).files.mp3.read_bytes()
    pieces = sorted(set((cache_root / "pieces").rglob("*.pcm")) - calibration)
    streams = sorted(set((cache_root / "streams").rglob("*.bin")) - warm_streams)
    pieces[0].write_bytes(pieces[0].read_bytes()[:-100])  # truncated
    damaged = bytearray(pieces[1].read_bytes())
    damaged[-1] ^= 0xFF  # one flipped bit in the audio
    pieces[1].write_bytes(bytes(damaged))
    pieces[2].write_bytes(b"")  # emptied
    streams[0].write_bytes(streams[0].read_bytes()[:50])
    forget_outputs(tmp_path)
    counter.reset()
    rebuilt = render(essay, settings(tmp_path))
    assert counter.encoded == 1  # the damaged block's stream, and only it, encoded again
    # With every stream and loudness entry gone, each piece is read, and the damaged ones
    # (found at narration by their size, or when read by their checksum) are spoken again.
    for kind in ("streams", "facts", "loudness"):
        for entry in (cache_root / kind).rglob("*.bin"):
            entry.unlink()
    for piece, data in zip(pieces[3:6], [b"", b"x", b"AEPC"], strict=True):
        piece.write_bytes(data if data else piece.read_bytes()[:-2])
    flipped = bytearray(pieces[6].read_bytes())
    flipped[-3] ^= 0x01
    pieces[6].write_bytes(bytes(flipped))
    forget_outputs(tmp_path)
    counter.reset()
    rebuilt = render(essay, settings(tmp_path))
    # Pieces 3-6 just damaged, and piece 1, whose flipped bit the first re-render never read
    # (its chapter stream was cached); pieces 0 and 2 were already rebuilt then.
    assert len(counter.spoken) == 5
    assert rebuilt.files.mp3.read_bytes() == original
    cache = Cache(cache_root)
    assert all(cache.load_piece(p.stem) is not None for p in pieces[:7])


def test_no_cache_leaves_the_cache_alone(tmp_path: Path) -> None:
    essay = write(tmp_path, "cached.md", book())
    no_cache = RenderSettings(engine="fake", rate=240, output_dir=tmp_path / "out", cache_dir=None)
    render(essay, no_cache)
    assert not (tmp_path / "cache").exists()


def test_cache_commands_and_environment(tmp_path: Path) -> None:
    cache_dir = tmp_path / "env-cache"
    env = {**os.environ, "AUDIOESSAY_CACHE_DIR": str(cache_dir)}
    essay = write(tmp_path, "cached.md", book())

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=env)

    assert (
        cli("render", str(essay), "-o", str(tmp_path / "o"), "--engine", "fake", "-q").returncode
        == 0
    )
    info = json.loads(cli("cache", "info", "--json").stdout)
    assert info["path"] == str(cache_dir) and info["entries"] > 20 and info["bytes"] > 0
    cleared = cli("cache", "clear")
    assert cleared.returncode == 0 and "Removed" in cleared.stdout
    assert json.loads(cli("cache", "info", "--json").stdout)["entries"] == 0
    other = tmp_path / "flag-cache"
    assert (
        cli(
            "render",
            str(essay),
            "-o",
            str(tmp_path / "o2"),  # a new folder: in "o" the episode is up to date
            "--engine",
            "fake",
            "-q",
            "--cache-dir",
            str(other),
        ).returncode
        == 0
    )
    assert any(other.rglob("*.pcm"))
    assert json.loads(cli("cache", "info", "--json").stdout)["entries"] == 0


def test_batch_over_a_directory_with_one_bad_file(tmp_path: Path) -> None:
    folder = tmp_path / "essays"
    (folder / "nested").mkdir(parents=True)
    write(folder, "b-second.md", "# Second\n\nThe second essay.\n")
    write(folder / "nested", "c-third.txt", "The third essay is plain text.\n")
    (folder / "a-broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))  # binary
    (folder / "notes.json").write_text("{}")  # not an essay: ignored
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "audioessay",
            "render",
            str(folder),
            "-o",
            str(tmp_path / "out"),
            "--engine",
            "fake",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert [e["title"] for e in summary["episodes"]] == ["Second", "C Third"]
    assert [Path(e["source"]).name for e in summary["errors"]] == ["a-broken.txt"]
    assert "a-broken.txt" in result.stderr and "binary" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("*.mp3")) == ["c-third.mp3", "second.mp3"]
