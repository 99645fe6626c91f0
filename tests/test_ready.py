"""Ready to publish (issue 23): what a newcomer meets first, what a static host publishes, and
hostile input that used to hang, exhaust memory or print a traceback. Every case goes through
the real CLI, the real server over a socket, or the real file system."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from audioessay.cache import Cache
from audioessay.config import RenderSettings
from audioessay.engines import Speech
from audioessay.errors import EngineError, OutputError
from audioessay.narrate import Voicing, narrate
from audioessay.pipeline import prepare

from . import judges
from .conftest import EXAMPLE, REPO, peak_rss, run_cli, write

ESSAY = "---\ntitle: {title}\n---\n\nThe first sentence is here. The second one follows it.\n"


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``Error:`` line of a refused command (exit 1, no traceback)."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def fake_render(essay: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    return run_cli("render", str(essay), "-o", str(out), "--engine", "fake", "-q",
                   "--cache-dir", str(out.parent / "cache"), *extra, env=env)  # fmt: skip


# -- things that hung or filled the memory ---------------------------------------------------


@pytest.mark.parametrize("kind", ["essay", "lexicon", "audioessay.toml"])
def test_a_fifo_or_device_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    """A FIFO would wait forever for a writer and /dev/zero would fill the memory: each is
    one line, without blocking (the command's timeout would fail the test)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    essay = write(tmp_path, "e.md", ESSAY.format(title="E"))
    if kind == "essay":
        for target in (fifo, Path("/dev/zero")):
            line = one_error_line(fake_render(target, tmp_path / "out"))
            assert "not a regular file" in line
        return
    if kind == "lexicon":
        os.mkfifo(tmp_path / "words.toml")
        essay.write_text("---\nlexicon: words.toml\n---\n\nWords.\n")
    else:
        (tmp_path / "audioessay.toml").symlink_to(fifo)
    line = one_error_line(fake_render(essay, tmp_path / "out"))
    assert "not a regular file" in line


def test_a_backtracking_headings_pattern_is_stopped(tmp_path: Path) -> None:
    """``(a|aa)+$`` takes exponential time on a long run of a's ending in another letter;
    given on the command line or by a folder's settings, it is refused within its budget."""
    essay = write(tmp_path, "e.txt", "a" * 60 + "b\n\nSome text follows here.\n")
    line = one_error_line(run_cli("chapters", str(essay), "--headings", "(a|aa)+$"))
    assert "takes too long" in line
    (tmp_path / "audioessay.toml").write_text('headings = "(a|aa)+$"\n')
    line = one_error_line(run_cli("script", str(essay)))
    assert "takes too long" in line


def test_too_many_headings_are_refused_before_the_script_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"# Part {n}\n\nText {n}.\n" for n in range(66_000)]
    essay = write(tmp_path, "many.md", "\n".join(lines))
    import audioessay.pipeline as pipeline

    def never(*args: object) -> None:
        raise AssertionError("the script was built")

    monkeypatch.setattr(pipeline, "write_script", never)
    with pytest.raises(OutputError, match="66,000 chapters is more than MP3 audio can list"):
        prepare(essay, RenderSettings(engine="fake"))
    few = write(tmp_path, "few.md", "\n".join(lines[:1001]))
    with pytest.raises(OutputError, match="1,001 chapters is more than Opus audio can list"):
        prepare(few, RenderSettings(engine="fake", formats=("opus",)))


def test_deeply_nested_toml_is_one_line_everywhere(tmp_path: Path) -> None:
    deep = "x = " + "[" * 5000 + "]" * 5000 + "\n"
    essay = write(tmp_path, "e.md", ESSAY.format(title="E"))
    (tmp_path / "audioessay.toml").write_text(deep)
    assert "nests its tables or lists too deeply" in one_error_line(
        fake_render(essay, tmp_path / "out")
    )
    (tmp_path / "audioessay.toml").unlink()
    (tmp_path / "words.toml").write_text(deep)
    assert "too deeply" in one_error_line(
        fake_render(essay, tmp_path / "out", "--lexicon", str(tmp_path / "words.toml"))
    )
    out = tmp_path / "out"
    assert fake_render(essay, out, "--base-url", "https://example.org/").returncode == 0
    (out / "podcast.toml").write_text(deep)
    assert "too deeply" in one_error_line(run_cli("feed", str(out)))


# -- a long render must not die on real text --------------------------------------------------


class _Voice:
    """A test voice: the fake engine's tones, with chosen pieces cut short or failing."""

    name = "test"
    max_chars = 200

    def __init__(self, short: str = "", failing: str = "", whole: bool = False) -> None:
        from audioessay.engines.fake import FakeEngine

        self.tones = FakeEngine()
        self.short, self.failing, self.whole = short, failing, whole
        self.spoken: list[str] = []

    def synthesize(self, text: str) -> Speech:
        self.spoken.append(text)
        if self.failing and self.failing in text:
            raise EngineError("the test voice cannot say this")
        speech = self.tones.synthesize(text)
        if self.short and self.short in text:  # a little over half of it, on every attempt
            cut = speech.samples[: len(speech.samples) * 11 // 20]
            return Speech(cut, speech.sample_rate, None, self.whole)
        return speech

    def close(self) -> None:
        pass


def _script(tmp_path: Path, text: str) -> Any:
    essay = write(tmp_path, "book.md", text)
    return prepare(essay, RenderSettings(engine="fake"))[2]


BOOK = "# A Book\n\n" + "\n\n".join(
    f"## Part {n}\n\nThe part numbered {n} opens with a plain sentence. It closes with another."
    for n in range(1, 9)
)


def test_a_piece_checked_whole_by_its_engine_is_never_called_short(tmp_path: Path) -> None:
    script = _script(tmp_path, BOOK.replace("Part 3\n\n", "Part 3\n\nSay 4 8 4 8 4 8 now. "))
    voice = _Voice(short="four eight four", whole=True)
    parts = list(narrate(script, Voicing("t", None, 175, 200), lambda: voice, Cache(tmp_path / "c")))
    assert len(parts) == 8
    assert sum("four eight four" in text for text in voice.spoken) == 1  # never retried


def test_a_doubtful_piece_is_kept_with_a_warning_and_the_render_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    script = _script(tmp_path, BOOK.replace("Part 3\n\n", "Part 3\n\nSay 4 8 4 8 4 8 now. "))
    voice = _Voice(short="four eight four")
    from audioessay.work import Work

    work = Work()
    parts = list(narrate(script, Voicing("t", None, 175, 200), lambda: voice,
                         Cache(tmp_path / "c"), work=work))  # fmt: skip
    assert len(parts) == 8
    assert work.summary()["doubtful"] == 1
    assert sum("four eight four" in text for text in voice.spoken) == 5  # every attempt made
    assert "shorter than expected" in caplog.text and "four eight four" in caplog.text


def test_a_piece_that_cannot_be_spoken_lets_every_other_piece_be_cached(tmp_path: Path) -> None:
    """The failing sentence is early; every later one is still spoken and cached, so the next
    render (the sentence corrected) speaks only one piece."""
    text = BOOK.replace("Part 2\n\n", "Part 2\n\nThis unsayable sentence fails. ")
    script = _script(tmp_path, text)
    cache = Cache(tmp_path / "c")
    voicing = Voicing("t", None, 175, 200)
    voice = _Voice(failing="unsayable")
    with pytest.raises(EngineError, match="every other sentence was spoken and cached"):
        list(narrate(script, voicing, lambda: voice, cache, jobs=2))
    fixed = _script(tmp_path, text.replace("This unsayable sentence fails. ", "Now it is fine. "))
    again = _Voice()
    assert len(list(narrate(fixed, voicing, lambda: again, cache))) == 8
    assert again.spoken == ["Now it is fine."]


def test_notation_between_bar_lines_is_announced_not_read(tmp_path: Path) -> None:
    essay = write(tmp_path, "tune.txt", "THE TUNE\n\nIt goes like this.\n\n"
                  "[4 8 4 | 4 8 8 8 | 8 4 8 8 | 4 4 8]\n\nG D | Em C | G D | C\n\nAnd so on.\n")  # fmt: skip
    result = run_cli("script", str(essay), "--json")
    assert result.returncode == 0, result.stderr
    spoken = " ".join(
        line["spoken"] for c in json.loads(result.stdout)["chapters"] for line in c["lines"]
    )
    assert "A passage of notation is left out." in spoken
    assert "four eight" not in spoken and "E m" not in spoken


@pytest.mark.real
def test_digit_heavy_text_renders_with_the_default_voice(tmp_path: Path) -> None:
    """Runs of digits, figures and initials, which eSpeak NG reads fast, with pyttsx3."""
    essay = write(tmp_path, "figures.md", "# Figures\n\n"
                  "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20.\n\n"
                  "Call 555-0142 or 555-0199 between 9:30 and 11:45.\n\n"
                  "0.001 0.002 0.003 3.14159 2.71828 1.41421.\n\n"
                  "USA UK EU UN WHO ILO FAO IAEA NATO UNESCO.\n")  # fmt: skip
    result = run_cli("render", str(essay), "-o", str(tmp_path / "out"), "--engine", "pyttsx3",
                     "--cache-dir", str(tmp_path / "cache"), "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    assert json.loads(result.stdout)["episodes"][0]["work"].get("doubtful", 0) == 0


# -- memory -------------------------------------------------------------------------------------


def test_one_very_long_sentence_in_opus_keeps_memory_flat(tmp_path: Path) -> None:
    """A 12,000-word sentence is one block of 27 minutes: Opus was fed to PyAV as one array
    (2.7 GB at 20,000 words); now piece by piece through a streaming resampler, it costs
    about what the two-minute example does."""
    sentence = write(tmp_path, "long.md", "# One Sentence\n\n"
                     + " ".join(f"word{n % 97}" for n in range(12_000)) + ".\n")  # fmt: skip
    peaks = {}
    for name, essay in (("example", EXAMPLE), ("sentence", sentence)):
        peaks[name] = peak_rss([
            sys.executable, "-m", "audioessay", "render", str(essay), "-o", str(tmp_path / name),
            "--engine", "fake", "--rate", "450", "-q", "--format", "opus",
            "--cache-dir", str(tmp_path / f"cache-{name}"),
        ])  # fmt: skip
    print(f"peak RSS (MB), Opus: {peaks}")
    assert peaks["sentence"] < peaks["example"] + 150


def test_the_streaming_resampler_is_resample_poly_sample_for_sample() -> None:
    import numpy as np
    from scipy.signal import resample_poly

    from audioessay.formats._av import PolyphaseStream
    from audioessay.work import Work

    chance = np.random.default_rng(7)
    for _ in range(4):
        whole = (chance.standard_normal(882 * int(chance.integers(3, 300))) * 0.3).astype(np.float32)
        cuts = np.sort(chance.integers(0, len(whole), size=int(chance.integers(1, 40))))
        chunks = np.split(whole, cuts)
        streamed = np.concatenate(list(PolyphaseStream(160, 147).resample(chunks, Work())))
        assert np.array_equal(streamed, resample_poly(whole, 160, 147).astype(np.float32))


def test_titles_and_bylines_beyond_a_sane_length_are_refused(tmp_path: Path) -> None:
    for front, what in (("title: " + "Long " * 300, "title"), ("author: " + "A" * 1200, "author")):
        essay = write(tmp_path, "e.md", f"---\n{front}\n---\n\nWords here.\n")
        line = one_error_line(fake_render(essay, tmp_path / "out"))
        assert f"the {what} is" in line and "at most 1000" in line
    essay = write(tmp_path, "h.md", "# Short\n\nIntro.\n\n## " + "Heading " * 200 + "\n\nWords.\n")
    assert "the chapter title is" in one_error_line(fake_render(essay, tmp_path / "out"))


# -- tracebacks that are now one line ----------------------------------------------------------


@pytest.mark.real
def test_long_non_ascii_chapter_titles_in_m4a(tmp_path: Path) -> None:
    """Titles beyond Nero's 255 bytes are cut at a character; mutagen and FFmpeg read the
    file back with every chapter."""
    title = "Ωραίο " * 60  # 360 characters, 720 bytes of UTF-8
    essay = write(tmp_path, "long.md", f"# Long\n\nOpening words here.\n\n## {title}\n\nText here.\n")
    out = tmp_path / "out"
    result = fake_render(essay, out, "--format", "m4a")
    assert result.returncode == 0, result.stderr
    m4a = out / "long.m4a"
    from mutagen.mp4 import MP4

    assert MP4(m4a).info.length > 0
    chapters = [c["tags"]["title"] for c in judges.ffprobe(m4a)["chapters"]]
    assert len(chapters) == 2 and chapters[1].startswith("Ωραίο Ωραίο")
    assert len(chapters[1].encode("utf-8")) <= 255


def test_front_matter_with_a_lone_surrogate_and_terminal_colours(tmp_path: Path) -> None:
    essay = write(tmp_path, "c.md", '---\ntitle: "\\e[31mRed\\ud800 Title\\e[0m"\n'
                  'author: "\\e]0;x\\aAnn"\n---\n\nWords here.\n')  # fmt: skip
    out = tmp_path / "out"
    result = fake_render(essay, out, "--json")
    assert result.returncode == 0, result.stderr
    assert "Warning: front matter `title`: removed" in result.stderr
    episode = json.loads(result.stdout)["episodes"][0]
    assert episode["title"] == "Red Title" and episode["slug"] == "red-title"
    tags = run_cli("inspect", str(out / "red-title.mp3"), "--json")
    assert json.loads(tags.stdout)["title"] == "Red Title"
    assert json.loads(tags.stdout)["author"] == "Ann"


def test_cover_art_claiming_a_huge_size_is_refused_before_narration(tmp_path: Path) -> None:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0"))
    (tmp_path / "art.png").write_bytes(png + chunk(b"IEND", b""))
    essay = write(tmp_path, "e.md", "---\ntitle: E\nimage: art.png\n---\n\nWords here.\n")
    for extra in ((), ("--format", "opus,m4b")):
        line = one_error_line(fake_render(essay, tmp_path / "out", *extra))
        assert "claims more pixels than any cover has" in line
    assert not (tmp_path / "cache").exists() or Cache(tmp_path / "cache").info().entries == 0


def test_a_full_or_read_only_disk_mid_write_gives_its_own_message(tmp_path: Path) -> None:
    """A tmpfs too small for the episode, then one made read-only just as the files move into
    place: the render names the real cause, not a failure of its own clean-up, and leaves no
    temporary behind where it could remove it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")  # CI runs as root
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(small)], check=True)
    try:
        line = one_error_line(run_cli("render", str(EXAMPLE), "-o", str(small), "--engine",
                                      "fake", "-q", "--cache-dir", str(tmp_path / "cache")))  # fmt: skip
        assert "No space left on device" in line
        assert [p.name for p in small.iterdir() if p.suffix == ".part"] == []
        subprocess.run(["mount", "-o", "remount,size=50m", str(small)], check=True)
        # Read-only from the moment the files start to move (a remount cannot be done while
        # the render holds its lock file open, so the system calls answer as it would).
        freeze = (
            "import errno, os, sys\n"
            "import audioessay.files as files\n"
            "commit = files.Staging.commit\n"
            "def read_only(*args, **kwargs):\n"
            "    raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(args[0]))\n"
            "def frozen(self):\n"
            "    os.replace = os.rename = os.unlink = os.rmdir = read_only\n"
            "    commit(self)\n"
            "files.Staging.commit = frozen\n"
            "sys.argv = ['audioessay', *sys.argv[1:]]\n"
            "from audioessay.__main__ import main\n"
            "main()\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", freeze, "render", str(EXAMPLE), "-o", str(small), "--engine",
             "fake", "-q", "--cache-dir", str(tmp_path / "cache")],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        line = one_error_line(result)
        assert "Read-only file system" in line, line
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_renders_of_one_essay_in_other_formats_at_once_publish_cleanly(tmp_path: Path) -> None:
    """Three rounds of two renders of one essay at once, with different formats and a feed
    build each: both succeed, and the folder's feed and records agree at the end."""
    essay = write(tmp_path, "e.md", ESSAY.format(title="Both At Once"))
    out = tmp_path / "out"
    base = ("render", str(essay), "-o", str(out), "--engine", "fake", "-q",
            "--base-url", "https://example.org/pod/")  # fmt: skip
    for _ in range(3):
        processes = [
            subprocess.Popen([sys.executable, "-m", "audioessay", *base, "--format", kinds],
                             stderr=subprocess.PIPE, text=True)
            for kinds in ("opus", "m4a")
        ]  # fmt: skip
        for process in processes:
            _, stderr = process.communicate(timeout=300)
            assert process.returncode == 0, stderr
            assert "Traceback" not in stderr
    built = run_cli("feed", str(out), "--json")
    assert built.returncode == 0 and json.loads(built.stdout)["episodes"] == 1, built.stderr
    assert "does not match" not in built.stderr and "cannot be read" not in built.stderr


# -- a published folder safe to sync -----------------------------------------------------------


def test_no_published_file_names_a_local_path(tmp_path: Path) -> None:
    """Every file a sync would publish (all but the dot-named private part) is free of the
    machine's paths: the essay's folder, the cache, the configuration, the home folder."""
    folder = tmp_path / "my-private-drafts"
    folder.mkdir()
    (folder / "words.toml").write_text('[words]\nfirst = "furst"\n')
    (folder / "audioessay.toml").write_text('lexicon = "words.toml"\n')
    essay = write(folder, "e.md", ESSAY.format(title="Quiet Paths"))
    out = tmp_path / "site"
    cache = tmp_path / "the-cache"
    result = run_cli("render", str(essay), "-o", str(out), "--engine", "fake", "-q",
                     "--cache-dir", str(cache), "--format", "opus,m4b,daisy,epub",
                     "--base-url", "https://example.org/pod/")  # fmt: skip
    assert result.returncode == 0, result.stderr
    folders = [folder, cache, tmp_path, Path(os.environ["AUDIOESSAY_CONFIG_DIR"]), Path.home(),
               REPO]  # fmt: skip
    secrets = [f"{path}{os.sep}" for path in folders] + ["my-private-drafts"]
    published = [p for p in out.rglob("*") if p.is_file()
                 and not any(part.startswith(".") for part in p.relative_to(out).parts)]  # fmt: skip
    assert len(published) > 10
    for path in published:
        data = path.read_bytes()
        if path.suffix in (".epub", ".zip"):
            import zipfile

            with zipfile.ZipFile(path) as archive:
                data = b"".join(archive.read(name) for name in archive.namelist())
        for secret in secrets:
            assert secret.encode() not in data, f"{path.name} names {secret}"
    # The private part keeps what the next render needs to know before parsing.
    assert str(essay) in (out / ".audioessay" / "quiet-paths.local.json").read_text()


def test_a_folders_settings_cannot_reach_outside_it(tmp_path: Path) -> None:
    """A lexicon or art named by the essays' folder must be inside it (links followed);
    the user's own --lexicon and --cover may be anywhere."""
    private = tmp_path / "private"
    private.mkdir()
    (private / "secret.toml").write_text('[words]\nfirst = "a spoken secret"\n')
    from PIL import Image

    Image.new("RGB", (1400, 1400), "white").save(private / "secret.png")
    folder = tmp_path / "essays"
    folder.mkdir()
    essay = write(folder, "e.md", ESSAY.format(title="Reach"))
    (folder / "audioessay.toml").write_text('lexicon = "../private/secret.toml"\n')
    assert "outside the essays' folder" in one_error_line(fake_render(essay, tmp_path / "o"))
    (folder / "audioessay.toml").unlink()
    (folder / "inside.toml").symlink_to(private / "secret.toml")
    essay.write_text("---\ntitle: Reach\nlexicon: inside.toml\n---\n\nThe first one.\n")
    assert "outside the essays' folder" in one_error_line(fake_render(essay, tmp_path / "o"))
    for image in ("../private/secret.png", str(private / "secret.png")):
        essay.write_text(f"---\ntitle: Reach\nimage: {image}\n---\n\nThe first one.\n")
        assert "outside the essays' folder" in one_error_line(fake_render(essay, tmp_path / "o"))
    essay.write_text("---\ntitle: Reach\n---\n\nThe first one.\n")
    result = run_cli("script", str(essay), "--lexicon", str(private / "secret.toml"))
    assert result.returncode == 0 and "a spoken secret" in result.stdout, result.stderr
    ok = fake_render(essay, tmp_path / "o", "--cover", str(private / "secret.png"))
    assert ok.returncode == 0, ok.stderr


def test_serve_with_a_podcast_toml_nested_too_deeply(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert fake_render(EXAMPLE, out).returncode == 0
    (out / "podcast.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    url, process = _serve(out)
    try:
        assert _get(url, "/feed.xml")[0] == 503  # not a 500 on every path
        assert _get(url, "/the-listening-room.mp3")[0] == 404
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "nests its tables or lists too deeply" in stderr and "Traceback" not in stderr


def test_chapters_past_each_formats_own_limits(tmp_path: Path) -> None:
    """Past Nero's 255 the M4A lists every chapter in its QuickTime track (FFmpeg reads all
    300, mutagen opens the file); Opus, which players read to the 999th, is refused before
    narration when there are more."""
    def book(parts: int) -> str:
        body = "\n".join(f"## Part {n}\n\nWords of part {n}.\n" for n in range(1, parts))
        return f"# Many\n\nOpening words.\n\n{body}"

    essay = write(tmp_path, "many.md", book(300))
    out = tmp_path / "out"
    result = fake_render(essay, out, "--format", "m4a", "--rate", "450")
    assert result.returncode == 0, result.stderr
    for suffix in (".mp3", ".m4a"):
        assert len(judges.ffprobe(out / f"many{suffix}")["chapters"]) == 300
    from mutagen.mp4 import MP4

    assert MP4(out / "many.m4a").info.length > 0
    essay.write_text(book(1001))
    line = one_error_line(fake_render(essay, out, "--format", "opus"))
    assert "1,001 chapters is more than Opus audio can list (999)" in line


def test_a_kill_after_the_audio_moves_leaves_a_feed_that_agrees_with_the_files(
    tmp_path: Path,
) -> None:
    """The render is ended (os._exit, as kill -9) right after its files move into place and
    before its record is written: the static feed.xml lists the episode with the length of
    the audio on disk, or not at all; never the old length with the new file."""
    essay = write(tmp_path, "e.md", ESSAY.format(title="Killed Late"))
    out = tmp_path / "out"
    assert fake_render(essay, out, "--base-url", "https://example.org/pod/").returncode == 0
    essay.write_text(essay.read_text() + "\nA third sentence makes the audio longer.\n")
    killer = (
        "import os, sys\n"
        "import audioessay.pipeline as pipeline\n"
        "pipeline.write_record = lambda *a, **k: os._exit(9)\n"
        "sys.argv = ['audioessay', *sys.argv[1:]]\n"
        "from audioessay.__main__ import main\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", killer, "render", str(essay), "-o", str(out), "--engine", "fake",
         "-q", "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 9, result.stderr
    import feedparser

    feed = feedparser.parse((out / "feed.xml").read_bytes())
    size = (out / "killed-late.mp3").stat().st_size
    for entry in feed.entries:
        for enclosure in entry.enclosures:
            assert int(enclosure.length) == size, "feed.xml lists the old length"


def _serve(folder: Path, *extra: str) -> tuple[str, subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "audioessay", "serve", str(folder), "--port", "0", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    url = re.search(r"http://[^ ]+/", line)
    assert url is not None, line
    return url.group(), process


def _get(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = re.match(r"http://([^:/]+):(\d+)/", url)
    assert parts is not None
    connection = http.client.HTTPConnection(parts[1], int(parts[2]), timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_serve_after_render_alone_shows_a_cover_and_refuses_links(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert fake_render(EXAMPLE, out, "--format", "daisy").returncode == 0
    (out / "the-listening-room.daisy" / "record.html").symlink_to(
        out / "the-listening-room.episode.json"
    )
    url, process = _serve(out)
    try:
        status, _, page = _get(url, "/")
        assert status == 200
        image = re.search(rb'<img class="cover" src="([^"]+)"', page)
        assert image is not None
        status, headers, body = _get(url, "/" + image[1].decode())
        assert status == 200 and headers["content-type"] == "image/png"
        assert body.startswith(b"\x89PNG")
        assert _get(url, "/the-listening-room.daisy/record.html")[0] == 404
        assert _get(url, "/the-listening-room.daisy/ncc.html")[0] == 200
        # A forwarded scheme from a local program does not steer the feed.
        _, _, feed = _get(url, "/feed.xml", {"X-Forwarded-Proto": "https"})
        assert b'url="http://' in feed and b'url="https://' not in feed
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_serve_during_re_renders_sends_whole_files_and_keeps_the_episode(tmp_path: Path) -> None:
    """Requests for the MP3 and the feed while the essay is rendered again and again: every
    body matches its Content-Length and is one of the renders' MP3s, and the episode never
    leaves the feed."""
    essay = write(tmp_path, "e.md", ESSAY.format(title="Under Load"))
    out = tmp_path / "out"
    assert fake_render(essay, out).returncode == 0
    url, process = _serve(out)
    stop = threading.Event()
    problems: list[str] = []
    seen = {"mp3": 0, "feed": 0}

    def hammer() -> None:
        while not stop.is_set():
            status, headers, body = _get(url, "/under-load.mp3")
            seen["mp3"] += 1
            if status != 200 or int(headers["content-length"]) != len(body):
                problems.append(f"mp3: {status}, {headers.get('content-length')} vs {len(body)}")
            status, _, feed = _get(url, "/feed.xml")
            seen["feed"] += 1
            if status != 200 or b"under-load.mp3" not in feed:
                problems.append(f"feed: {status}, episode missing")

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for n in range(6):
            essay.write_text(ESSAY.format(title="Under Load") + f"\nRound {n} adds words.\n")
            assert fake_render(essay, out).returncode == 0
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        process.terminate()
        process.communicate(timeout=30)
    print(f"requests: {seen}")
    assert seen["mp3"] > 20
    assert problems == []


def test_opus_is_byte_reproducible(tmp_path: Path) -> None:
    files = []
    for name in ("one", "two"):
        out = tmp_path / name
        assert fake_render(EXAMPLE, out, "--format", "opus,m4a").returncode == 0
        files.append({p: (out / f"the-listening-room.{p}").read_bytes() for p in ("opus", "m4a")})
    assert files[0] == files[1]


def test_dead_writers_temporaries_are_swept_by_unchanged_renders_and_feed_builds(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    assert fake_render(EXAMPLE, out, "--base-url", "https://example.org/").returncode == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    from audioessay.files import writer

    host = writer().partition("@")[2]
    left = out / f".the-listening-room.mp3.{dead}@{host}.0badc0de.part"
    for command in (lambda: fake_render(EXAMPLE, out), lambda: run_cli("feed", str(out))):
        left.write_bytes(b"partial")
        result = command()
        assert result.returncode == 0, result.stderr
        assert not left.exists()


# -- first contact ----------------------------------------------------------------------------


def test_version_help_and_bad_values() -> None:
    from audioessay import __version__

    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"audioessay {__version__}"
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f'version = "{__version__}"' in pyproject
    short = run_cli("render", "-h")
    assert short.returncode == 0 and "--cluster" in short.stdout
    flat = " ".join(short.stdout.split())
    assert "<bool>" not in flat and "Needs the cluster extra." in flat
    assert "--no-cache Neither read" in flat  # a flag is shown bare
    line = one_error_line(run_cli("render", "x.md", "--rate", "abc"))
    assert "--rate" in line and "audioessay render --help" in line
    assert "No such option: --bogus" in one_error_line(run_cli("render", "--bogus", "x.md"))


def test_feed_quiet_prints_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert fake_render(EXAMPLE, out).returncode == 0
    result = run_cli("feed", str(out), "--base-url", "https://example.org/", "-q")
    assert result.returncode == 0 and result.stdout == ""


def test_documents_of_other_kinds_are_refused_with_advice(tmp_path: Path) -> None:
    import zipfile

    docx = tmp_path / "draft.docx"
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    pdf = write(tmp_path, "paper.pdf", "%PDF-1.7\n")
    for path in (docx, pdf):
        line = one_error_line(fake_render(path, tmp_path / "out"))
        assert "Markdown (.md) or plain text (.txt)" in line, line


def test_messages_name_the_right_place(tmp_path: Path) -> None:
    folder = tmp_path / "essays"
    folder.mkdir()
    write(folder, "good.md", ESSAY.format(title="Good"))
    write(folder, "empty.md", "")
    result = fake_render(folder, tmp_path / "out")
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and errors[0].count("empty.md") == 1, result.stderr
    (folder / "audioessay.toml").write_text("rate = \"fast\"\n")
    (folder / "empty.md").unlink()
    line = one_error_line(fake_render(folder, tmp_path / "out"))
    assert "audioessay.toml" in line and "front matter" not in line
    (folder / "audioessay.toml").unlink()
    write(folder, "nul.md", "# Nul\n\nA stray\x00 byte.\n")
    result = fake_render(folder / "nul.md", tmp_path / "out")
    assert result.returncode == 0
    assert re.search(r"^Warning: .*removed 1 control character", result.stderr, re.M), result.stderr


def test_no_pydub_warning_without_an_ffmpeg_binary(tmp_path: Path) -> None:
    """A render on a machine with no ffmpeg on the PATH (the default voice needs none)."""
    bare = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    result = run_cli("render", str(EXAMPLE), "-o", str(tmp_path / "out"), "--engine", "pyttsx3",
                     "-q", "--cache-dir", str(tmp_path / "cache"), env=bare)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


# -- as a library ------------------------------------------------------------------------------


def test_the_library_api_takes_strings_and_is_typed(tmp_path: Path) -> None:
    import audioessay

    episode = audioessay.render(
        str(EXAMPLE), audioessay.RenderSettings(engine="fake", output_dir=tmp_path / "o")
    )
    assert episode.files.mp3.is_file()
    publication = audioessay.publish(str(tmp_path / "o"), {"base_url": "https://example.org/"})
    assert publication.episodes == 1
    assert audioessay.read_tags(episode.files.mp3).title == episode.metadata.title
    assert callable(audioessay.serve)
    # A program using the package is type-checked against it as installed: the built wheel
    # carries py.typed, so mypy reads its real types (a float is not an int), not Any.
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                    str(REPO)], check=True, timeout=600)  # fmt: skip
    import venv
    import zipfile

    (wheel,) = wheels.glob("audioessay-*.whl")
    venv.create(tmp_path / "venv", with_pip=False)
    python = tmp_path / "venv" / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    with zipfile.ZipFile(wheel) as archive:
        assert "audioessay/py.typed" in archive.namelist()
        archive.extractall(site)
    program = tmp_path / "program" / "user.py"
    program.parent.mkdir()
    program.write_text("from audioessay import render\n"
                       "episode = render('essay.md')\nseconds: int = episode.duration\n")  # fmt: skip
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--python-executable", str(python),
         str(program)],
        capture_output=True, text=True, cwd=program.parent, timeout=600,
        env={**os.environ, "MYPYPATH": "", "PYTHONPATH": ""},
    )  # fmt: skip
    assert 'Incompatible types in assignment (expression has type "float"' in checked.stdout, (
        checked.stdout
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_served_folder_answers_while_the_library_serves_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert fake_render(EXAMPLE, out).returncode == 0
    port = _free_port()
    code = f"import audioessay; audioessay.serve({str(out)!r}, port={port})"
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status = _get(f"http://127.0.0.1:{port}/", "/the-listening-room.mp3")[0]
                break
            except OSError:
                time.sleep(0.1)
        assert status == 200
    finally:
        process.terminate()
        process.communicate(timeout=30)
