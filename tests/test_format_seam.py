"""Fast tests of the audio-format seam: aligned layouts, timings read off the encoders, the
settings that choose formats, and a fake-voice render of every format (real encoders)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from audioessay.assemble import Aligner, ChapterLayout, lay_out_passage
from audioessay.config import Pauses, RenderSettings, load_settings
from audioessay.errors import SettingsError
from audioessay.formats import FORMATS, audio_format
from audioessay.narrate import Piece, Utterance
from audioessay.pipeline import render

from . import judges
from .conftest import write
from .test_cache import book


def passage(seed: int, sentences: int = 120) -> tuple[tuple[Utterance, ...], ...]:
    """Paragraphs of utterances with random lengths, some of two pieces (clauses)."""
    rng = random.Random(seed)

    def utterance(n: int) -> Utterance:
        count = 2 if rng.random() < 0.2 else 1
        return Utterance(tuple(Piece(f"s{n}.{i}", f"k{n}.{i}", rng.randint(9_000, 200_000))
                               for i in range(count)))  # fmt: skip

    paragraphs, n = [], 0
    while n < sentences:
        size = rng.randint(1, 7)
        paragraphs.append(tuple(utterance(n + i) for i in range(size)))
        n += size
    return tuple(paragraphs)


def audio_starts(layouts: list[ChapterLayout], lead: int, joint: int) -> list[int]:
    """Where each block's audio starts in the decoded file (a block of n samples decodes to
    n + joint, its audio after ``lead`` for the first block)."""
    starts, position = [], 0
    for layout in layouts:
        for block in layout.blocks:
            starts.append(position + lead)
            position += block.length + joint
    return starts


@pytest.mark.parametrize("name", ["opus", "m4a"])
def test_an_aligned_format_never_drifts_from_the_mp3(name: str) -> None:
    mp3, other = audio_format("mp3").timing, audio_format(name).timing
    pauses = Pauses()
    chapters = [lay_out_passage(passage(seed), pauses, mp3) for seed in range(4)]
    aligner = Aligner(mp3, other)
    aligned = [aligner.align(chapter) for chapter in chapters]
    reference = audio_starts(chapters, mp3.lead, mp3.joint)
    ours = audio_starts(aligned, other.lead, other.joint)
    # The first block cannot start earlier than the file does; after it, every block's audio
    # starts within half of this format's frame of the MP3's, across all 480 blocks.
    errors = [abs(a - b) for a, b in zip(ours[1:], reference[1:], strict=True)]
    assert max(errors) <= other.frame // 2
    for chapter, own in zip(chapters, aligned, strict=True):
        for block, mine in zip(chapter.blocks, own.blocks, strict=True):
            assert mine.length % other.frame == 0
            assert mine.cues == block.cues
            assert mine.length - mine.pause == block.length - block.pause  # the same audio
            assert mine.pause >= 0
    # Rounding each block on its own, as the MP3's own layout does, drifts by a random walk.
    unaligned = [lay_out_passage(passage(seed), pauses, other) for seed in range(4)]
    drift = [abs(a - b) for a, b in zip(audio_starts(unaligned, other.lead, other.joint),
                                         reference, strict=True)]  # fmt: skip
    assert max(drift) > 4 * other.frame


def test_timings_are_read_off_the_encoders() -> None:
    """The Opus pre-skip and the AAC priming are what FFmpeg's encoders report (312 and 1024
    samples at their own rates), in the timeline's 44.1 kHz samples."""
    opus, aac = audio_format("opus").timing, audio_format("m4a").timing
    assert (opus.frame, opus.joint) == (882, 882)  # 20 ms
    assert opus.delay == opus.trim == round(312 * 44100 / 48000)
    assert (aac.frame, aac.delay, aac.joint, aac.trim) == (1024, 1024, 1024, 1024)
    assert audio_format("mp3").timing.trim == 0
    assert set(FORMATS) == {"mp3", "opus", "m4a", "m4b"}


def test_format_settings_from_flags_and_front_matter(tmp_path: Path) -> None:
    settings, explicit = load_settings({"formats": "MP3, opus,m4b", "rate": None})
    assert settings.formats == ("mp3", "opus", "m4b") and "formats" in explicit
    assert "rate" not in explicit
    default, explicit = load_settings({"formats": None})
    assert default.formats == ("mp3",) and "formats" not in explicit
    with pytest.raises(SettingsError, match="--opus-bitrate"):
        RenderSettings(opus_bitrate=4).validate()
    with pytest.raises(SettingsError, match="--format takes"):
        RenderSettings(formats=("mp3", "flac")).validate()
    with pytest.raises(ValueError):
        load_settings({"no_such_flag": 1})


def test_front_matter_formats_unless_the_command_line_says(tmp_path: Path) -> None:
    essay = write(
        tmp_path, "e.md",
        "---\ntitle: Formats\nformats: [mp3, opus]\n---\n\nOne sentence here. Another one.\n",
    )  # fmt: skip
    base = RenderSettings(engine="fake", output_dir=tmp_path / "out", cache_dir=tmp_path / "c")
    episode = render(essay, base)
    assert [a.format for a in episode.files.audio] == ["mp3", "opus"]
    assert judges.ffmpeg_decode_errors(episode.files.audio[1].path) == ""
    told = render(essay, base, explicit=frozenset({"formats"}))
    assert [a.format for a in told.files.audio] == ["mp3"]
    # The Opus of the earlier render is not left beside an MP3 it no longer matches.
    assert not episode.files.audio[1].path.exists()
    assert told.files.mp3.exists()


def test_every_format_with_the_fake_voice(tmp_path: Path) -> None:
    """The fake voice's tones through every real encoder: chapters, decoding and the record."""
    essay = write(tmp_path, "tones.md", book())
    settings = RenderSettings(
        engine="fake", rate=240, output_dir=tmp_path / "out", cache_dir=tmp_path / "c",
        formats=("mp3", "opus", "m4a", "m4b", "epub"),
    )  # fmt: skip
    episode = render(essay, settings)
    assert [a.format for a in episode.files.audio] == ["mp3", "opus", "m4a", "m4b"]
    # Each block encoded once per distinct encoding: MP3, Opus, and one AAC for M4A and M4B
    # (``blocks`` counts the MP3's distinct blocks; two the MP3 shares may differ aligned).
    blocks = episode.work["blocks"]
    assert 3 * blocks <= episode.work["encoded"] <= 3 * blocks + 3
    titles = ["A Cached Essay", *(f"Section {n}" for n in range(1, 9))]
    reference = [float(c["start_time"]) for c in judges.ffprobe(episode.files.mp3)["chapters"]]
    for audio in episode.files.alternates:
        assert audio.path.suffix == "." + audio.format
        assert judges.ffmpeg_decode_errors(audio.path) == ""
        chapters = judges.ffprobe(audio.path)["chapters"]
        assert [c["tags"]["title"] for c in chapters] == titles
        starts = [float(c["start_time"]) for c in chapters]
        assert all(abs(a - b) <= 0.05 for a, b in zip(starts, reference, strict=True))
    again = render(essay, settings)
    assert again.work.get("unchanged") == 1
    assert again.files == episode.files  # the record names every file, typed


def test_bad_formats_are_one_line_errors(tmp_path: Path) -> None:
    from .conftest import run_cli

    cases = [
        ("---\ntitle: X\nformats: 5\n---\n\nHello there.\n", "`formats` must be a list"),
        ("---\ntitle: X\nformats: [mp3, flac]\n---\n\nHello there.\n", "--format takes mp3, opus"),
        ("---\ntitle: X\nsync: letter\n---\n\nHello there.\n", "`sync` must be sentence or word"),
    ]
    for number, (text, fragment) in enumerate(cases):
        essay = write(tmp_path, f"bad{number}.md", text)
        result = run_cli("render", str(essay), "-o", str(tmp_path / "out"), "--engine", "fake")
        assert result.returncode == 1 and fragment in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    result = run_cli("render", str(essay), "-o", str(tmp_path / "out"), "--engine", "fake",
                     "--opus-bitrate", "500")  # fmt: skip
    assert result.returncode == 1 and "--opus-bitrate must be between 6 and 256" in result.stderr
    result = run_cli("render", str(essay), "-o", str(tmp_path / "out"), "--engine", "fake",
                     "--sync", "phoneme")  # fmt: skip
    assert result.returncode == 1 and "--sync takes sentence or word, not 'phoneme'" in result.stderr


def test_front_matter_sync_word_times_the_epub_by_word(tmp_path: Path) -> None:
    """With the fake voice's exact word marks: one ``par`` per word, in a ``seq`` per sentence."""
    import zipfile

    essay = write(tmp_path, "w.md", "---\ntitle: W\nsync: word\nformats: [mp3, epub]\n---\n\n"
                  "One two three. Four five.\n")  # fmt: skip
    settings = RenderSettings(engine="fake", output_dir=tmp_path / "out", cache_dir=tmp_path / "c")
    episode = render(essay, settings)
    assert episode.files.epub is not None
    with zipfile.ZipFile(episode.files.epub) as book:
        smil = book.read("EPUB/c0001.smil").decode()
    assert smil.count("<seq id=\"qs") == 2 and smil.count("<par id=\"ps") == 5
    assert smil.count("<par id=\"ph") == 1  # the title, read whole


def test_a_folders_settings_choose_formats(tmp_path: Path) -> None:
    (tmp_path / "audioessay.toml").write_text("formats = ['mp3', 'opus']\n", encoding="utf-8")
    essay = write(tmp_path, "e.txt", "Title\n\nHello there. Again.\n")
    settings = RenderSettings(engine="fake", output_dir=tmp_path / "out", cache_dir=tmp_path / "c")
    episode = render(essay, settings)
    assert [a.format for a in episode.files.audio] == ["mp3", "opus"]
